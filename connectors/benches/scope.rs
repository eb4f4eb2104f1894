//! How close a read of the IdP's provisioning scope comes to what its API quota allows:
//! `cargo bench -p connectors --bench scope -- [demo|10k|large] [pingone]` (or
//! `cargo xtask bench scope ...`); Entra ID unless `pingone` is given.
//!
//! The sandbox's tenant answers Graph (or the PingOne Platform API) at its quota (429 with
//! Retry-After beyond), each answer 100 ms late (the real services' latency is of that order; on
//! loopback concurrency would not matter). The lower bound is the calls the read needs divided
//! by that quota; efficiency = lower bound / wall time. Entra: the service principal, its
//! assignment pages, each assigned group's member pages at `$top=999`. PingOne: the rules,
//! stores and mappings, the population's user pages at `limit=200`, the environment's group pages
//! at `limit=1000` (fewer calls than a read per group when the rule names most groups), and
//! each of the rule's groups' member pages at `limit=200`. The same reader with one group at a
//! time (a sequential script) runs for comparison. Every read is checked against the seed's
//! scope.

use std::num::NonZeroU32;
use std::time::Instant;

use connectors::entra::{EntraReader, EntraSettings};
use connectors::pingone::{PingOneReader, PingOneSettings};
use connectors::scope::{IdpReader, IdpScopeSource};
use domain::scope::IdpScope;
use sandbox::expect::{pingone_scope_of, scope_of};
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{IdpKind, RunningSandbox, SandboxConfig};
use tokio_util::sync::CancellationToken;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

async fn read(sandbox: &RunningSandbox, concurrency: usize) -> (IdpScope, f64) {
    let reader = if let Some(pingone) = sandbox.pingone() {
        IdpReader::PingOne(
            PingOneReader::new(PingOneSettings {
                auth_url: sandbox.pingone_auth_base(),
                api_url: sandbox.pingone_api_base(),
                concurrency,
                attempts: 20,
                ..PingOneSettings::new(
                    &pingone.state.environment_id(),
                    &pingone.worker.client_id,
                    &pingone.worker.client_secret,
                )
            })
            .unwrap_or_else(|e| fail("reader", e)),
        )
    } else {
        let entra = sandbox
            .entra()
            .unwrap_or_else(|| fail("sandbox", "no Entra"));
        IdpReader::Entra(
            EntraReader::new(EntraSettings {
                login_url: sandbox.login_base(),
                graph_url: sandbox.graph_base(),
                concurrency,
                attempts: 20,
                ..EntraSettings::new(
                    &entra.state.tenant_id(),
                    &entra.app.client_id,
                    &entra.app.client_secret,
                )
            })
            .unwrap_or_else(|e| fail("reader", e)),
        )
    };
    let started = Instant::now();
    let scope = reader
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_or_else(|e| fail("read", e));
    (scope, started.elapsed().as_secs_f64())
}

async fn run(spec: SeedSpec, quota: u32, sequential: bool, idp: IdpKind) {
    let org = Organisation::generate(&spec).unwrap_or_else(|e| fail("seed", e));
    let entra_scope = (idp == IdpKind::Entra).then(|| scope_of(&org).sorted());
    let rate = NonZeroU32::new(quota).unwrap_or(NonZeroU32::MIN);
    let sandbox = RunningSandbox::start_organisation(
        org,
        SandboxConfig {
            graph_per_second: rate,
            pingone_per_second: rate,
            idp,
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap_or_else(|e| fail("sandbox", e));
    let (expected, calls) = match entra_scope {
        Some(expected) => {
            let calls = 1
                + expected.groups.len().div_ceil(999)
                + expected
                    .groups
                    .iter()
                    .map(|g| g.members.len().div_ceil(999).max(1))
                    .sum::<usize>();
            (expected, calls)
        }
        None => {
            let pingone = sandbox
                .pingone()
                .unwrap_or_else(|| fail("sandbox", "no PingOne"));
            let expected = pingone_scope_of(
                &pingone
                    .state
                    .environment()
                    .unwrap_or_else(|e| fail("environment", format!("{e:?}"))),
            )
            .sorted();
            // The rule's groups come from the group list (1,000 a page) when that is fewer
            // calls than one read each (every group of the environment is the rule's here).
            let groups = expected.groups.len();
            let names = if groups < 2 {
                groups
            } else {
                groups.div_ceil(1000).min(groups)
            };
            let calls = 3
                + expected.users.len().div_ceil(200).max(1)
                + names
                + expected
                    .groups
                    .iter()
                    .map(|g| g.members.len().div_ceil(200).max(1))
                    .sum::<usize>();
            (expected, calls)
        }
    };
    let bound = calls as f64 / f64::from(quota);
    sandbox
        .faults()
        .set(
            match idp {
                IdpKind::Entra => "graph",
                IdpKind::PingOne => sandbox::pingone::FAULT_KEY,
            },
            sandbox::faults::FaultPlan {
                latency_ms: 100,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| fail("faults", e));
    println!(
        "scope {:<6} {}: {} users, {} groups, {} memberships in scope; quota {quota}/s; {calls} calls needed, lower bound {bound:.2} s",
        spec.name,
        idp.as_str(),
        expected.users.len(),
        expected.groups.len(),
        expected.memberships()
    );
    let mut took = f64::MAX;
    for concurrency in [32, 16, 8] {
        let (scope, t) = read(&sandbox, concurrency).await;
        println!(
            "  reader, {concurrency} groups at once: {t:.2} s, efficiency {:.3}, identical to seed: {}",
            bound / t,
            scope.sorted() == expected
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
            scope.sorted() == expected
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
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let which = args
        .iter()
        .find(|a| !["entra", "pingone"].contains(&a.as_str()))
        .cloned()
        .unwrap_or_default();
    let idp = if args.iter().any(|a| a == "pingone") {
        IdpKind::PingOne
    } else {
        IdpKind::Entra
    };
    // PingOne's quota: the sandbox's default (100 requests/s per environment).
    let (quota_10k, quota_large) = match idp {
        IdpKind::Entra => (150, 150),
        IdpKind::PingOne => (100, 100),
    };
    runtime.block_on(async {
        if which.is_empty() || which == "demo" {
            run(SeedSpec::demo(), 20, true, idp).await;
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
            run(spec, quota_10k, true, idp).await;
        }
        if which.is_empty() || which == "large" {
            run(SeedSpec::large(), quota_large, false, idp).await;
        }
    });
}
