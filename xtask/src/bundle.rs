//! `cargo xtask bench wasm`: what the browser loads, in gzip bytes, from a release site built as
//! it ships (`cargo leptos build --release --split`): the shell's module, and for each lazy
//! route the module plus the chunks cargo-leptos's split manifest lists for it — a page's first
//! load. The budget is 400 KB gzip.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;

const BUDGET: u64 = 400 * 1000;

pub(crate) fn report(root: &Path) -> Result {
    crate::tools::ensure_all(root, crate::tools::Need::Build)?;
    crate::build_site(root, crate::Site::ReleaseFrontendOnly)?;
    let pkg = root.join("target").join("site").join("pkg");
    let manifest_path = pkg.join("__wasm_split_manifest.json");
    let manifest: BTreeMap<String, Vec<String>> = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path)
            .map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?,
    )
    .map_err(|e| format!("{} is not a split manifest: {e}", manifest_path.display()))?;
    // Each wasm file gzipped once, by name without `.wasm`.
    let mut gzipped: BTreeMap<String, u64> = BTreeMap::new();
    for entry in std::fs::read_dir(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if let (Some("wasm"), Some(stem)) = (
            path.extension().and_then(|x| x.to_str()),
            path.file_stem().and_then(|s| s.to_str()),
        ) {
            gzipped.insert(stem.to_string(), gzip_size(&path)?);
        }
    }
    let size = |module: &str| {
        gzipped.get(module).copied().ok_or_else(|| {
            format!(
                "the split manifest names {module}.wasm, which is not in {}",
                pkg.display()
            )
        })
    };
    let main = size("tessera")?;
    println!("\nWasm, gzip -9 (release, --split), budget {BUDGET} B per first load");
    println!("| what loads | gzip | within budget |");
    println!("|---|---|---|");
    println!("| shell module `tessera.wasm` | {main} B | {} |", yes(main));
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    for (key, modules) in &manifest {
        let name = route_name(key);
        // A `#[lazy]` function that is not a route loads with some page: which one, only its
        // caller knows, so its first load cannot be counted here.
        if !name.ends_with(" route") {
            return Err(format!(
                "{name:?} is a lazy function, not a route: count it with the page that loads it"
            ));
        }
        let unique: BTreeSet<&String> = modules.iter().collect();
        let mut total = main;
        for module in unique {
            total += size(module)?;
        }
        sizes.insert(name, total);
    }
    for (route, total) in &sizes {
        println!("| + {route} | {total} B | {} |", yes(*total));
    }
    println!(
        "| all {} wasm files together | {} B | — |",
        gzipped.len(),
        gzipped.values().sum::<u64>()
    );
    println!(
        "| JS `tessera.js` / CSS `tessera.css` | {} B / {} B | — |",
        gzip_size(&pkg.join("tessera.js"))?,
        gzip_size(&pkg.join("tessera.css"))?
    );
    match sizes.iter().find(|(_, total)| **total > BUDGET) {
        Some((route, total)) => Err(format!(
            "the first load of {route} is {total} B gzip, over the {BUDGET} B budget"
        )),
        None => Ok(()),
    }
}

fn yes(size: u64) -> &'static str {
    if size <= BUDGET { "yes" } else { "**no**" }
}

/// `__users_route_view_9097538380753843408` → `users route`.
fn route_name(key: &str) -> String {
    let key = key.trim_start_matches('_');
    let key = match key.rsplit_once('_') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_digit()) => name,
        _ => key,
    };
    key.trim_end_matches("_view").replace('_', " ")
}

/// The file's size compressed by Debian's `gzip -9`.
fn gzip_size(path: &Path) -> Result<u64> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut child = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start gzip: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("gzip has no input")?;
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("gzip did not finish: {e}"))?;
    match writer.join() {
        Ok(Ok(())) if out.status.success() => Ok(out.stdout.len() as u64),
        _ => Err(format!("gzip failed on {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::route_name;

    #[test]
    fn a_manifest_key_reads_as_its_route() {
        assert_eq!(
            route_name("__users_route_view_9097538380753843408"),
            "users route"
        );
        assert_eq!(route_name("__overview_route_view_1"), "overview route");
        assert_eq!(route_name("settings"), "settings");
    }
}
