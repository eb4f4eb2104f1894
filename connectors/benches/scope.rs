//! How close a read of Entra ID's provisioning scope comes to what Graph's quota allows:
//! `cargo bench -p connectors --bench scope [demo|10k|large]` (or `cargo xtask bench scope`).
//!
//! The sandbox's tenant answers Graph at `graph_per_second` (429 with Retry-After beyond), each
//! answer 100 ms late (Graph's own latency is of that order; on loopback concurrency would not
//! matter). The
//! lower bound is the calls the read needs (the service principal, its assignment pages, each
//! assigned group's member pages at `$top=999`) divided by that quota; efficiency = lower bound /
//! wall time. The same reader with one group at a time (a sequential script) runs for
//! comparison. Every read is checked against the seed's scope.

use std::num::NonZeroU32;
use std::time::Instant;

use connectors::entra::{EntraReader, EntraSettings};
use connectors::scope::IdpScopeSource;
use domain::drift::IdpScope;
use sandbox::expect::{scope_of, sorted_scope};
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use tokio_util::sync::CancellationToken;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

async fn read(sandbox: &RunningSandbox, concurrency: usize) -> (IdpScope, f64) {
    let entra = sandbox
        .entra()
        .unwrap_or_else(|| fail("sandbox", "no Entra"));
    let settings = EntraSettings {
        login_url: sandbox.login_base(),
        graph_url: sandbox.graph_base(),
        concurrency,
        attempts: 20,
        ..EntraSettings::new(
            &entra.state.tenant_id(),
            &entra.app.client_id,
            &entra.app.client_secret,
        )
    };
    let reader = EntraReader::new(settings).unwrap_or_else(|e| fail("reader", e));
    let started = Instant::now();
    let scope = reader
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_or_else(|e| fail("read", e));
    (scope, started.elapsed().as_secs_f64())
}

async fn run(spec: SeedSpec, quota: u32, sequential: bool) {
    let org = Organisation::generate(&spec).unwrap_or_else(|e| fail("seed", e));
    let expected = sorted_scope(scope_of(&org));
    let members: usize = expected.groups.iter().map(|g| g.members.len()).sum();
    let calls: usize = 1
        + expected.groups.len().div_ceil(999)
        + expected
            .groups
            .iter()
            .map(|g| g.members.len().div_ceil(999).max(1))
            .sum::<usize>();
    let bound = calls as f64 / f64::from(quota);
    let sandbox = RunningSandbox::start_organisation(
        org,
        SandboxConfig {
            graph_per_second: NonZeroU32::new(quota).unwrap_or(NonZeroU32::MIN),
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap_or_else(|e| fail("sandbox", e));
    sandbox
        .faults()
        .set(
            "graph",
            sandbox::faults::FaultPlan {
                latency_ms: 100,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| fail("faults", e));
    println!(
        "scope {:<6} {} users, {} groups, {members} memberships in scope; Graph quota {quota}/s; {calls} calls needed, lower bound {bound:.2} s",
        spec.name,
        expected.users.len(),
        expected.groups.len()
    );
    let mut took = f64::MAX;
    for concurrency in [32, 16, 8] {
        let (scope, t) = read(&sandbox, concurrency).await;
        println!(
            "  reader, {concurrency} groups at once: {t:.2} s, efficiency {:.3}, identical to seed: {}",
            bound / t,
            sorted_scope(scope) == expected
        );
        if concurrency == 16 {
            took = t;
        }
    }
    if sequential {
        let (scope, seq) = read(&sandbox, 1).await;
        println!(
            "  one group at a time: {seq:.2} s = {:.1}x the default reader's (16 at once), identical: {}",
            seq / took,
            sorted_scope(scope) == expected
        );
    }
    sandbox.stop().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("runtime", e));
    // `cargo bench` passes `--bench`; the size is the first other argument.
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    runtime.block_on(async {
        if which.is_empty() || which == "demo" {
            run(SeedSpec::demo(), 20, true).await;
        }
        if which.is_empty() || which == "10k" {
            let spec = SeedSpec {
                name: "10k".into(),
                seed: 13,
                people: 10_000,
                groups: 1_000,
                memberships: 100_000,
                domain: "fabrikam.example".into(),
            };
            run(spec, 150, true).await;
        }
        if which.is_empty() || which == "large" {
            run(SeedSpec::large(), 150, false).await;
        }
    });
}
