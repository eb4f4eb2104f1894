//! Installs what building and testing Tessera needs, skipping whatever is already there:
//! the wasm32 target, cargo-leptos and wasm-bindgen-cli (from source, with our lockfiles),
//! the npm packages (Tailwind, wasm-opt, Playwright), Debian's Chromium and the Python peers the
//! sandbox is checked against (moto, scim2-tester) in one virtualenv.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, cargo, describe, run};

pub const CARGO_LEPTOS_VERSION: &str = "0.3.11";
/// Must equal the `wasm-bindgen` crate version pinned in the workspace Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// The Python peers, pinned: moto (the independent AWS emulator the contract tests also run
/// against) and scim2-tester (an RFC 7643/7644 checker run against the SCIM endpoint).
pub const PYTHON_PEERS: &[&str] = &[
    "moto[server]==5.2.5",
    "scim2-tester==0.5.2",
    "scim2-client[httpx2]==0.13.2",
    "scim2-models==0.12.3",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// What `cargo leptos build` needs.
    Build,
    /// That, plus the browser for the end-to-end suite.
    Everything,
}

pub fn ensure_all(root: &Path, need: Need) -> Result {
    ensure_wasm_target()?;
    ensure_from_source(
        root,
        "cargo-leptos",
        CARGO_LEPTOS_VERSION,
        &["cargo-leptos", "--version"],
    )?;
    ensure_from_source(
        root,
        "wasm-bindgen-cli",
        WASM_BINDGEN_VERSION,
        &["wasm-bindgen", "--version"],
    )?;
    ensure_npm_packages(root)?;
    if need == Need::Everything {
        ensure_debian_packages()?;
        ensure_python_peers()?;
    }
    Ok(())
}

/// Where the peers' virtualenv lives: outside the clone, so CI reuses it between runs. Its name
/// changes with the pinned versions, so a new pin installs afresh.
fn peers_venv() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let pins: String = PYTHON_PEERS
        .iter()
        .map(|p| p.rsplit("==").next().unwrap_or(p))
        .collect::<Vec<_>>()
        .join("-");
    cache.join("tessera").join(format!("peers-{pins}"))
}

/// The `moto_server` binary the contract tests start; its sibling `python` runs boto3 and
/// scim2-tester.
pub fn moto_server() -> PathBuf {
    peers_venv().join("bin").join("moto_server")
}

/// Marks a complete install (a failed pip run leaves no marker, so the next run retries).
fn peers_marker() -> PathBuf {
    peers_venv().join("tessera-peers-installed")
}

/// Installs the Python peers into their own virtualenv unless they are there already.
fn ensure_python_peers() -> Result {
    if peers_marker().exists() && moto_server().exists() {
        return Ok(());
    }
    let venv = peers_venv();
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PYTHON_PEERS))?;
    if !moto_server().exists() {
        return Err(format!(
            "the Python peers installed but {} is missing",
            moto_server().display()
        ));
    }
    std::fs::write(peers_marker(), PYTHON_PEERS.join("\n"))
        .map_err(|e| format!("cannot write {}: {e}", peers_marker().display()))
}

/// Output of a command, or None when it cannot run or fails.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ensure_wasm_target() -> Result {
    let installed = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// Installs `krate` at `version` into ~/.cargo/bin unless `probe` already reports that version.
///
/// The published lockfiles of these tools do not resolve here (they name crate versions newer
/// than this toolchain or this registry allows), so the crate's source archive is unpacked and
/// built with the adjusted lockfile kept in `xtask/tools/<krate>-<version>.Cargo.lock`.
fn ensure_from_source(root: &Path, krate: &str, version: &str, probe: &[&str]) -> Result {
    if let Some(out) = output_of(probe[0], &probe[1..]) {
        if out.split_whitespace().any(|word| word == version) {
            return Ok(());
        }
        println!("{krate}: found {}, need {version}", out.trim());
    }
    let lockfile = root
        .join("xtask")
        .join("tools")
        .join(format!("{krate}-{version}.Cargo.lock"));
    if !lockfile.exists() {
        return Err(format!("missing {}", lockfile.display()));
    }
    let archive = fetch_crate_archive(krate, version)?;
    let build_dir = std::env::temp_dir().join(format!("tessera-tools-{krate}-{version}"));
    if build_dir.exists() {
        std::fs::remove_dir_all(&build_dir)
            .map_err(|e| format!("cannot clear {}: {e}", build_dir.display()))?;
    }
    std::fs::create_dir_all(&build_dir)
        .map_err(|e| format!("cannot create {}: {e}", build_dir.display()))?;
    run(Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&build_dir))?;
    let source = build_dir.join(format!("{krate}-{version}"));
    std::fs::copy(&lockfile, source.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy {}: {e}", lockfile.display()))?;
    println!(
        "{krate} {version}: building from source (cargo-leptos takes about 15 minutes on 2 cores, once)"
    );
    run(cargo()
        .args(["install", "--locked", "--force", "--path"])
        .arg(&source))?;
    let _ = std::fs::remove_dir_all(&build_dir);
    match output_of(probe[0], &probe[1..]) {
        Some(out) if out.split_whitespace().any(|w| w == version) => Ok(()),
        other => Err(format!(
            "{krate} was installed but `{}` reports {:?}; is ~/.cargo/bin on PATH?",
            probe.join(" "),
            other.map(|s| s.trim().to_string())
        )),
    }
}

/// Finds `<krate>-<version>.crate` in cargo's download cache, asking cargo to download it first
/// when absent: `cargo install --locked` fetches the archive before it refuses the lockfile.
fn fetch_crate_archive(krate: &str, version: &str) -> Result<PathBuf> {
    let name = format!("{krate}-{version}.crate");
    let find = || -> Option<PathBuf> {
        let cache = cargo_home().join("registry").join("cache");
        std::fs::read_dir(cache)
            .ok()?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path().join(&name))
            .find(|p| p.exists())
    };
    if let Some(found) = find() {
        return Ok(found);
    }
    let mut cmd = cargo();
    cmd.args(["install", "--locked", &format!("{krate}@{version}")]);
    println!(
        "$ {}   (only to download the source archive; its failure is expected)",
        describe(&cmd)
    );
    let _ = cmd.output();
    find().ok_or_else(|| {
        format!("cargo did not download {name}; check that the crates registry is reachable")
    })
}

fn ensure_npm_packages(root: &Path) -> Result {
    let installed_lock = root.join("node_modules").join(".package-lock.json");
    let lock = root.join("package-lock.json");
    let fresh = match (installed_lock.metadata(), lock.metadata()) {
        (Ok(installed), Ok(wanted)) => match (installed.modified(), wanted.modified()) {
            (Ok(a), Ok(b)) => a >= b,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    // `npm install --no-save` rather than `npm ci`: where npm is set to omit registry URLs from
    // lockfiles (as on these machines), the lock has no entries for Tailwind's optional
    // per-platform packages and `npm ci` refuses it as out of sync. This installs the locked
    // versions all the same and leaves package-lock.json untouched.
    run(Command::new("npm")
        .args(["install", "--no-save", "--no-audit", "--no-fund"])
        .current_dir(root))
}

pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Debian packages the tests use as independent peers: Chromium (Playwright) and xmlsec1
/// (checks the sandbox's signed SAML metadata).
fn ensure_debian_packages() -> Result {
    let missing: Vec<&str> = [
        ("chromium", chromium_path()),
        ("xmlsec1", PathBuf::from("/usr/bin/xmlsec1")),
    ]
    .into_iter()
    .filter(|(_, path)| !path.exists())
    .map(|(package, _)| package)
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = output_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        return Err(format!(
            "Debian packages missing: install them (sudo apt-get install {}); Chromium may also be given with CHROMIUM_PATH",
            missing.join(" ")
        ));
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
