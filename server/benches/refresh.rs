//! Memory and time of a full refresh — Identity Center and the IdP's provisioning scope read
//! together, drift computed and kept — measured in the server's process only:
//! `cargo bench -p server --bench refresh -- [demo|large] [postgres] [pingone]` (or
//! `cargo xtask bench refresh ...`). SQLite and Entra ID unless `postgres` (a fresh database on
//! the server `TESSERA_TEST_DATABASE_URL` names, by default the local one) or `pingone` is given.
//!
//! The sandbox runs in a child process (this same binary, re-run with
//! `TESSERA_BENCH_SANDBOX_CHILD` set), so the peak resident memory reported (VmHWM) is the
//! refresh's: reader, diff, fuse and the store's writes. VmHWM counts SQLite's pages mapped from
//! the database file too (`mmap_size`), so the heap's own peak (RssAnon, sampled) is printed
//! beside it. Quotas are scaled ×20 as in the snapshot benchmark.

use std::io::{BufRead, BufReader};
use std::num::NonZeroU32;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::Utc;
use connectors::entra::{EntraReader, EntraSettings};
use connectors::identity_center::{Reader, Settings};
use connectors::pingone::{PingOneReader, PingOneSettings};
use connectors::scope::IdpReader;
use domain::fuse::FuseLimit;
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{IdpKind, RunningSandbox, SandboxConfig};
use server::refresh::Refresher;
use store::testkit::TestDb;

const CHILD: &str = "TESSERA_BENCH_SANDBOX_CHILD";
const QUOTA: u32 = 400;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

/// A figure of this process's `/proc/self/status` (`VmHWM:`, `RssAnon:`), in MB.
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Peak resident memory: the heap and SQLite's pages mapped from the database file alike.
fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// The highest anonymous resident memory (the heap, without the mapped database file) seen
/// while `work` runs, sampled every 20 ms: the kernel keeps no peak of it.
async fn peak_anon_mb<T>(work: impl std::future::Future<Output = T>) -> (T, f64) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = status_mb("RssAnon:");
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(20));
                peak = peak.max(status_mb("RssAnon:"));
            }
            peak
        })
    };
    let out = work.await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap_or(f64::NAN);
    (out, peak)
}

/// The child: serve the seeded organisation, print the endpoint, stop when stdin closes.
fn sandbox_child(size: &str, idp: IdpKind, runtime: &tokio::runtime::Runtime) {
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
                pingone_per_second: NonZeroU32::new(QUOTA * 10).unwrap_or(NonZeroU32::MIN),
                idp,
                ..SandboxConfig::default()
            },
        )
        .await
        .unwrap_or_else(|e| fail("sandbox", e));
        // The IdP's tenant (or environment), its app's client id and secret, its two bases.
        match idp {
            IdpKind::Entra => {
                let entra = sandbox
                    .entra()
                    .unwrap_or_else(|| fail("sandbox", "no Entra"));
                println!(
                    "IDP {} {} {} {} {}",
                    entra.state.tenant_id(),
                    entra.app.client_id,
                    entra.app.client_secret,
                    sandbox.login_base(),
                    sandbox.graph_base()
                );
            }
            IdpKind::PingOne => {
                let pingone = sandbox
                    .pingone()
                    .unwrap_or_else(|| fail("sandbox", "no PingOne"));
                println!(
                    "IDP {} {} {} {} {}",
                    pingone.state.environment_id(),
                    pingone.worker.client_id,
                    pingone.worker.client_secret,
                    sandbox.pingone_auth_base(),
                    sandbox.pingone_api_base()
                );
            }
        }
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
    // `cargo bench` passes `--bench`; the other arguments are words.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let has = |word: &str| args.iter().any(|a| a == word);
    let idp = if has("pingone") {
        IdpKind::PingOne
    } else {
        IdpKind::Entra
    };
    if let Ok(size) = std::env::var(CHILD) {
        sandbox_child(&size, idp, &runtime);
        return;
    }
    let size = args
        .iter()
        .find(|a| !["postgres", "pingone", "entra", "sqlite"].contains(&a.as_str()))
        .cloned()
        .unwrap_or_else(|| "large".into());
    let exe = std::env::current_exe().unwrap_or_else(|e| fail("current_exe", e));
    let mut child = Command::new(exe)
        .args(&args)
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
    let line: Vec<String> = lines
        .find_map(|l| l.strip_prefix("IDP ").map(str::to_string))
        .unwrap_or_else(|| fail("child", "no IdP"))
        .split(' ')
        .map(str::to_string)
        .collect();
    let [tenant, client_id, client_secret, auth_url, api_url] = line.as_slice() else {
        fail("child", "a malformed IdP line")
    };
    let endpoint = lines
        .find_map(|l| l.strip_prefix("ENDPOINT ").map(str::to_string))
        .unwrap_or_else(|| fail("child", "no endpoint"));
    let idp_reader = match idp {
        IdpKind::Entra => IdpReader::Entra(
            EntraReader::new(EntraSettings {
                login_url: auth_url.clone(),
                graph_url: api_url.clone(),
                ..EntraSettings::new(tenant, client_id, client_secret)
            })
            .unwrap_or_else(|e| fail("Entra reader", e)),
        ),
        IdpKind::PingOne => IdpReader::PingOne(
            PingOneReader::new(PingOneSettings {
                auth_url: auth_url.clone(),
                api_url: api_url.clone(),
                ..PingOneSettings::new(tenant, client_id, client_secret)
            })
            .unwrap_or_else(|e| fail("PingOne reader", e)),
        ),
    };
    runtime.block_on(async {
        let db = if has("postgres") {
            TestDb::postgres()
                .await
                .unwrap_or_else(|e| fail("store", e))
                .unwrap_or_else(|| fail("store", "no PostgreSQL server answers"))
        } else {
            TestDb::sqlite().await.unwrap_or_else(|e| fail("store", e))
        };
        let store = db.store.clone();
        println!(
            "database: {}, IdP: {}",
            if has("postgres") { "PostgreSQL" } else { "SQLite" },
            idp_reader.idp()
        );
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
            .with_idp(idp_reader);
        let baseline = peak_rss_mb();
        for label in ["first (whole directory written)", "second (unchanged)"] {
            let started = Instant::now();
            let (r, anon) = peak_anon_mb(refresher.refresh_once(Utc::now)).await;
            let r = r.unwrap_or_else(|e| fail("refresh", e));
            let scope = store
                .scope_reads(1)
                .await
                .unwrap_or_else(|e| fail("scope reads", e));
            let scope = scope.first().unwrap_or_else(|| fail("scope", "not read"));
            println!(
                "refresh {size} {label}: {:?} in {:.1} s, {} users, {} memberships, {} calls, {} throttled; IdP scope {:?} ({} users, {} groups, {} drift findings); peak RSS {:.0} MB (baseline {:.0} MB), peak heap (RssAnon) {:.0} MB",
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
                baseline,
                anon
            );
        }
        store.close().await;
        drop(db);
    });
    drop(child.stdin.take());
    let _ = child.wait();
}
