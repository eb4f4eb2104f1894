//! Developer commands for Tessera. Run from anywhere in the repository:
//!
//! - `cargo xtask demo [--release]` — install what is missing, build the site, start the demo.
//! - `cargo xtask test` — formatting, clippy, every Rust test (SQLite and PostgreSQL), the site
//!   build and the Playwright suite in Debian's Chromium, with a timing summary.
//! - `cargo xtask bench <snapshot|scope|refresh|pages|rules|seed|concurrency|wasm> [args]` — one
//!   benchmark, release build (figures go to BENCHMARKS.md).
//! - `cargo xtask setup` — only install the tools (wasm target, cargo-leptos, wasm-bindgen-cli,
//!   npm packages, Chromium, the Python peers moto and scim2-tester in a virtualenv).
//!
//! Only the package registries are needed: cargo-leptos and wasm-bindgen-cli are built from their
//! published sources with the lockfiles kept in `xtask/tools/` (their own lockfiles do not
//! resolve on this toolchain and registry; see that directory's README).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

mod bundle;
mod tools;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = match workspace_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("xtask: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match args.first().map(String::as_str) {
        Some("demo") => demo(&root, &args[1..]),
        Some("test") => test(&root, &args[1..]),
        Some("setup") => tools::ensure_all(&root, tools::Need::Everything),
        Some("bench") => bench(&root, &args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}; see `cargo xtask help`")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <command>\n\n\
         \x20 demo [--release]  install missing tools, build the site, start the demo and print its URL\n\
         \x20 test              fmt, clippy, all Rust tests (SQLite + PostgreSQL), site build, Playwright\n\
         \x20 bench <name> [..] run a benchmark: snapshot [demo|10k|large], scope [demo|10k|large] [pingone], refresh [demo|large] [postgres] [pingone], pages [large|demo] [address filter..], rules, seed, concurrency, wasm\n\
         \x20 setup             install the tools only (wasm target, cargo-leptos, wasm-bindgen-cli, npm, Chromium, moto, scim2-tester)\n"
    );
}

/// `cargo xtask bench <name> [args]`: each benchmark lives in the crate its data comes from.
fn bench(root: &Path, args: &[String]) -> Result {
    let Some(name) = args.first() else {
        return Err(
            "name a benchmark: snapshot, scope, refresh, pages, rules, seed, concurrency or wasm"
                .into(),
        );
    };
    if name == "wasm" {
        return bundle::report(root);
    }
    let package = match name.as_str() {
        "snapshot" | "scope" => "connectors",
        "refresh" | "pages" => "server",
        "rules" | "seed" | "concurrency" => "sandbox",
        other => {
            return Err(format!(
                "unknown benchmark {other:?}; one of snapshot, scope, refresh, pages, rules, seed, concurrency, wasm"
            ));
        }
    };
    run(cargo()
        .current_dir(root)
        .args(["bench", "-p", package, "--bench", name, "--"])
        .args(&args[1..]))
}

/// The directory holding the workspace's Cargo.toml (xtask lives one level below it).
fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "cannot find the workspace root".to_string())
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` when set, else `<root>/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        }
        _ => root.join("target"),
    }
}

/// Runs a command to completion, echoing it first; fails with its exit status.
pub(crate) fn run(cmd: &mut Command) -> Result {
    println!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// Like [`run`], but also returns the command's standard output (still shown as it comes).
fn run_capturing(cmd: &mut Command) -> (Result, String) {
    use std::io::{BufRead, BufReader};
    println!("$ {}", describe(cmd));
    let mut child = match cmd.stdout(std::process::Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => {
            return (
                Err(format!("cannot start `{}`: {e}", describe(cmd))),
                String::new(),
            );
        }
    };
    let mut captured = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            println!("{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let outcome = match child.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`{}` failed ({status})", describe(cmd))),
        Err(e) => Err(format!("`{}` did not finish: {e}", describe(cmd))),
    };
    (outcome, captured)
}

/// Passed and failed counts from cargo test's `test result:` lines and Playwright's summary.
#[derive(Default, Clone, Copy)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn add_output(&mut self, output: &str) {
        for line in output.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("test result: ") {
                // test result: ok. 24 passed; 3 failed; 0 ignored; ...
                self.passed += count_before(rest, " passed");
                self.failed += count_before(rest, " failed");
            } else if line.ends_with(" passed") || line.contains(" passed (") {
                // Playwright: "3 passed (2.5s)"
                self.passed += count_before(line, " passed");
            } else if line.ends_with(" failed") && !line.contains(';') {
                // Playwright: "1 failed"
                self.failed += count_before(line, " failed");
            }
        }
    }
}

/// The number just before `word` in `text` (0 when there is none).
fn count_before(text: &str, word: &str) -> u64 {
    text.find(word)
        .and_then(|at| text[..at].split(|c: char| !c.is_ascii_digit()).next_back())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

pub(crate) fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `cargo` as invoked by the user (the same toolchain that runs xtask).
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A command with the workspace's node_modules/.bin first on PATH, where cargo-leptos looks for
/// tailwindcss and wasm-opt (it would try to download them otherwise, which fails offline).
fn with_node_bin(root: &Path, mut cmd: Command) -> Command {
    let node_bin = root.join("node_modules").join(".bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![node_bin];
    paths.extend(std::env::split_paths(&path));
    if let Ok(joined) = std::env::join_paths(paths) {
        cmd.env("PATH", joined);
    }
    cmd.current_dir(root);
    cmd
}

/// Which site `cargo leptos build` makes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    Debug,
    Release,
    /// The release wasm, CSS and JS only (`bench wasm`).
    ReleaseFrontendOnly,
}

pub(crate) fn build_site(root: &Path, site: Site) -> Result {
    let mut cmd = with_node_bin(root, cargo());
    // `--split`: each page's lazy route becomes its own wasm chunk (see `app::App`), so the tests
    // hydrate what the demo and a deployment serve.
    cmd.args(["leptos", "build", "--split"]);
    if site != Site::Debug {
        cmd.arg("--release");
    }
    if site == Site::ReleaseFrontendOnly {
        cmd.arg("--frontend-only");
    }
    run(&mut cmd)
}

fn server_binary(root: &Path, release: bool) -> PathBuf {
    target_dir(root)
        .join(if release { "release" } else { "debug" })
        .join("tessera")
}

fn demo(root: &Path, args: &[String]) -> Result {
    let release = args.iter().any(|a| a == "--release");
    if let Some(bad) = args.iter().find(|a| *a != "--release") {
        return Err(format!(
            "unknown option {bad:?} for demo; only --release is known"
        ));
    }
    tools::ensure_all(root, tools::Need::Build)?;
    build_site(root, if release { Site::Release } else { Site::Debug })?;
    let bin = server_binary(root, release);
    let mut cmd = Command::new(&bin);
    cmd.arg("demo").current_dir(root);
    if std::env::var_os("TESSERA_SERVER__SITE_ROOT").is_none() {
        cmd.env(
            "TESSERA_SERVER__SITE_ROOT",
            root.join("target").join("site"),
        );
    }
    // The demo runs until Ctrl-C, which reaches the server too (same process group).
    run(&mut cmd)
}

/// One named phase of `cargo xtask test` and how long it took.
struct Phase {
    name: &'static str,
    took: Duration,
    ok: bool,
}

fn test(root: &Path, args: &[String]) -> Result {
    if let Some(bad) = args.first() {
        return Err(format!("unknown option {bad:?} for test"));
    }
    let started = Instant::now();
    let mut phases: Vec<Phase> = Vec::new();
    let mut tally = Tally::default();
    let outcome = run_test_phases(root, &mut phases, &mut tally);
    println!("\nTiming (cargo xtask test)");
    for phase in &phases {
        println!(
            "  {:<28} {:>8.1} s  {}",
            phase.name,
            phase.took.as_secs_f64(),
            if phase.ok { "ok" } else { "FAILED" }
        );
    }
    println!(
        "  {:<28} {:>8.1} s",
        "total",
        started.elapsed().as_secs_f64()
    );
    println!();
    // The plain closing line CI reads: Rust tests (both databases) plus Playwright tests.
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    outcome
}

fn run_test_phases(root: &Path, phases: &mut Vec<Phase>, tally: &mut Tally) -> Result {
    let mut phase = |name: &'static str, f: &mut dyn FnMut() -> Result| -> Result {
        println!("\n==> {name}");
        let started = Instant::now();
        let outcome = f();
        phases.push(Phase {
            name,
            took: started.elapsed(),
            ok: outcome.is_ok(),
        });
        outcome
    };

    phase("tools", &mut || {
        tools::ensure_all(root, tools::Need::Everything)
    })?;
    phase("rustfmt", &mut || {
        run(cargo().current_dir(root).args(["fmt", "--all", "--check"]))
    })?;
    phase("clippy (server side)", &mut || {
        run(cargo()
            .current_dir(root)
            .args(["clippy", "--all-targets", "--", "-D", "warnings"]))
    })?;
    phase("clippy (wasm frontend)", &mut || {
        run(cargo().current_dir(root).args([
            "clippy",
            "-p",
            "frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    phase("rust tests", &mut || {
        let mut cmd = cargo();
        // Default target selection: lib, bins, tests and doc tests; benches (`test = false`) are
        // compiled by clippy --all-targets but only run by `cargo bench`.
        cmd.current_dir(root).arg("test");
        configure_postgres(&mut cmd)?;
        // The sandbox's contract suite also runs against moto, and its SCIM endpoint is checked by
        // scim2-tester (from the same virtualenv); here both must run.
        cmd.env("TESSERA_MOTO_SERVER", tools::moto_server())
            .env("TESSERA_REQUIRE_MOTO", "1");
        let (outcome, output) = run_capturing(&mut cmd);
        tally.add_output(&output);
        outcome
    })?;
    phase("site build", &mut || build_site(root, Site::Debug))?;
    phase("end-to-end (Playwright)", &mut || {
        let tmp = root.join("end2end").join(".tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)
                .map_err(|e| format!("cannot clear {}: {e}", tmp.display()))?;
        }
        let mut cmd = with_node_bin(root, Command::new("npx"));
        cmd.args(["playwright", "test", "-c", "end2end/playwright.config.ts"])
            .env("TESSERA_BIN", server_binary(root, false))
            .env("TESSERA_SITE_ROOT", root.join("target").join("site"))
            .env("CHROMIUM_PATH", tools::chromium_path());
        let (outcome, output) = run_capturing(&mut cmd);
        tally.add_output(&output);
        outcome
    })?;
    Ok(())
}

/// Points the store's PostgreSQL tests at a server: `TESSERA_TEST_DATABASE_URL` when set, else
/// the local server on 127.0.0.1:5432 when it answers. On CI a missing server is an error.
fn configure_postgres(cmd: &mut Command) -> Result {
    if std::env::var_os("TESSERA_TEST_DATABASE_URL").is_some() {
        println!("PostgreSQL tests: using TESSERA_TEST_DATABASE_URL");
        return Ok(());
    }
    let local = SocketAddr::from(([127, 0, 0, 1], 5432));
    if TcpStream::connect_timeout(&local, Duration::from_secs(2)).is_ok() {
        let url = "postgres://postgres@127.0.0.1:5432/postgres";
        println!("PostgreSQL tests: using the local server ({url})");
        cmd.env("TESSERA_TEST_DATABASE_URL", url);
        return Ok(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        return Err(
            "CI must test PostgreSQL too, but nothing answers on 127.0.0.1:5432 and TESSERA_TEST_DATABASE_URL is not set"
                .to_string(),
        );
    }
    println!(
        "PostgreSQL tests: no server found (set TESSERA_TEST_DATABASE_URL); they will be skipped"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Tally, count_before};

    #[test]
    fn counts_come_from_cargo_and_playwright_summaries() {
        let mut tally = Tally::default();
        tally.add_output(
            "test a ... ok\n\
             test result: ok. 24 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\
             test result: FAILED. 10 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out\n\
             \x20 1 failed\n\
             \x20 3 passed (2.5s)\n",
        );
        assert_eq!((tally.passed, tally.failed), (37, 3));
        assert_eq!(count_before("no numbers passed", " passed"), 0);
    }
}
