//! Memory and time of a full refresh into SQLite — Identity Center and the IdP's (Entra's)
//! provisioning scope read together, drift computed and kept — measured in the server's
//! process only:
//! `cargo bench -p server --bench refresh [demo|large]` (or `cargo xtask bench refresh`).
//!
//! The sandbox runs in a child process (this same binary, re-run with
//! `TESSERA_BENCH_SANDBOX_CHILD` set), so the peak resident memory reported (VmHWM) is the
//! refresh's: reader, diff, fuse and the store's writes. Quotas are scaled ×20 as in the
//! snapshot benchmark.

use std::io::{BufRead, BufReader};
use std::num::NonZeroU32;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::Utc;
use connectors::entra::{EntraReader, EntraSettings};
use connectors::identity_center::{Reader, Settings};
use connectors::scope::IdpReader;
use domain::fuse::FuseLimit;
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use server::refresh::Refresher;

const CHILD: &str = "TESSERA_BENCH_SANDBOX_CHILD";
const QUOTA: u32 = 400;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The child: serve the seeded organisation, print the endpoint, stop when stdin closes.
fn sandbox_child(size: &str, runtime: &tokio::runtime::Runtime) {
    let spec = SeedSpec::named(size).unwrap_or_else(|| fail("size", size));
    let org = Organisation::generate(&spec).unwrap_or_else(|e| fail("seed", e));
    let quota = NonZeroU32::new(QUOTA).unwrap_or(NonZeroU32::MIN);
    runtime.block_on(async {
        let sandbox = RunningSandbox::start_organisation(
            org,
            SandboxConfig {
                limits: Limits {
                    identitystore_per_operation: quota,
                    ssoadmin_total: quota,
                    ..Limits::default()
                },
                graph_per_second: NonZeroU32::new(QUOTA * 10).unwrap_or(NonZeroU32::MIN),
                ..SandboxConfig::default()
            },
        )
        .await
        .unwrap_or_else(|e| fail("sandbox", e));
        let entra = sandbox
            .entra()
            .unwrap_or_else(|| fail("sandbox", "no Entra"));
        println!(
            "ENTRA {} {} {} {} {}",
            entra.state.tenant_id(),
            entra.app.client_id,
            entra.app.client_secret,
            sandbox.login_base(),
            sandbox.graph_base()
        );
        println!("ENDPOINT {}", sandbox.aws_endpoint());
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin()
                .read_line(&mut line)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                line.clear();
            }
        })
        .await;
        sandbox.stop().await;
    });
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("runtime", e));
    if let Ok(size) = std::env::var(CHILD) {
        sandbox_child(&size, &runtime);
        return;
    }
    let size = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "large".into());
    let exe = std::env::current_exe().unwrap_or_else(|e| fail("current_exe", e));
    let mut child = Command::new(exe)
        .env(CHILD, &size)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail("child", e));
    let mut lines = child
        .stdout
        .take()
        .map(|out| BufReader::new(out).lines().map_while(Result::ok))
        .unwrap_or_else(|| fail("child", "no output"));
    let entra: Vec<String> = lines
        .find_map(|l| l.strip_prefix("ENTRA ").map(str::to_string))
        .unwrap_or_else(|| fail("child", "no Entra tenant"))
        .split(' ')
        .map(str::to_string)
        .collect();
    let [tenant, client_id, client_secret, login_url, graph_url] = entra.as_slice() else {
        fail("child", "a malformed Entra line")
    };
    let endpoint = lines
        .find_map(|l| l.strip_prefix("ENDPOINT ").map(str::to_string))
        .unwrap_or_else(|| fail("child", "no endpoint"));
    let idp = EntraReader::new(EntraSettings {
        login_url: login_url.clone(),
        graph_url: graph_url.clone(),
        ..EntraSettings::new(tenant, client_id, client_secret)
    })
    .unwrap_or_else(|e| fail("Entra reader", e));
    let dir = std::env::temp_dir().join(format!("tessera-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let url = format!("sqlite://{}/bench.db", dir.display());
    runtime.block_on(async {
        let store = store::Store::connect(&url, &store::ConnectOptions::default())
            .await
            .unwrap_or_else(|e| fail("store", e));
        store.migrate().await.unwrap_or_else(|e| fail("migrate", e));
        let creds = StaticCredentials::default();
        let reader = Reader::connect(Settings {
            endpoint_url: Some(endpoint),
            static_keys: Some((creds.access_key_id, creds.secret_access_key)),
            identitystore_per_second: QUOTA,
            ssoadmin_per_second: QUOTA,
            ..Settings::new("eu-west-1")
        })
        .await;
        // What `tessera serve` runs with `[idp]` set: Identity Center and the IdP's scope read
        // together, drift computed and kept.
        let refresher = Refresher::new(store.clone(), reader, FuseLimit::default())
            .with_idp(IdpReader::Entra(idp));
        let baseline = peak_rss_mb();
        for label in ["first (whole directory written)", "second (unchanged)"] {
            let started = Instant::now();
            let r = refresher
                .refresh_once(Utc::now)
                .await
                .unwrap_or_else(|e| fail("refresh", e));
            let scope = store
                .scope_reads(1)
                .await
                .unwrap_or_else(|e| fail("scope reads", e));
            let scope = scope.first().unwrap_or_else(|| fail("scope", "not read"));
            println!(
                "refresh {size} {label}: {:?} in {:.1} s, {} users, {} memberships, {} calls, {} throttled; IdP scope {:?} ({} users, {} groups, {} drift findings); peak RSS {:.0} MB (baseline {:.0} MB)",
                r.outcome,
                started.elapsed().as_secs_f64(),
                r.users,
                r.memberships,
                r.calls,
                r.throttles,
                scope.outcome,
                scope.users,
                scope.groups,
                scope.drift.unwrap_or(0),
                peak_rss_mb(),
                baseline
            );
        }
        store.close().await;
    });
    drop(child.stdin.take());
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
