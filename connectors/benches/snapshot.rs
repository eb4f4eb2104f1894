//! How close a full Identity Center read comes to what the API quotas allow:
//! `cargo bench -p connectors --bench snapshot` (or `cargo xtask bench snapshot`).
//!
//! For each organisation size the sandbox serves the seeded directory with its quotas on, scaled
//! up by the same factor for every API (so the runs stay short; the ratio is what counts). The
//! lower bound is, for each API, the calls a read needs divided by that API's quota, taking the
//! largest; efficiency = lower bound / wall time. A naive client — sequential paging, no
//! concurrency, no pacing, the SDK's standard retries, what a boto3 script does — reads the same
//! directory in the same run for comparison. Every read is checked against the seed.

use std::num::NonZeroU32;
use std::time::Instant;

use aws_credential_types::Credentials;
use aws_sdk_identitystore::config::Region;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use connectors::identity_center::{IdentityCenterSource, Reader, Settings};
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::expect::{assignments_of, snapshot_of};
use sandbox::faults::FaultPlan;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use tokio_util::sync::CancellationToken;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

/// Calls per API a complete read needs: (ListUsers, ListGroups, ListGroupMemberships, SSO Admin).
fn calls_needed(org: &Organisation) -> (usize, usize, usize, usize) {
    let d = &org.identity_center;
    let pages = |n: usize| n.div_ceil(100).max(1);
    let memberships: usize = d
        .groups()
        .map(|g| pages(d.memberships_of_group(&g.group_id).len()))
        .sum();
    let assignments = org.instance.assignments.len();
    (
        pages(d.user_count()),
        pages(d.group_count()),
        memberships,
        2 + pages(assignments),
    )
}

/// A boto3-style read: one call after another, pages followed in order, SDK retries only.
async fn naive_read(endpoint: &str, store: &str) -> (usize, usize, usize) {
    let creds = StaticCredentials::default();
    let config = aws_sdk_identitystore::Config::builder()
        .behavior_version(aws_sdk_identitystore::config::BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::from_keys(
            creds.access_key_id,
            creds.secret_access_key,
            None,
        ))
        .endpoint_url(endpoint)
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https(),
        )
        .build();
    let c = aws_sdk_identitystore::Client::from_conf(config);
    let mut users = 0;
    let mut pages = c
        .list_users()
        .identity_store_id(store)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        users += page
            .unwrap_or_else(|e| fail("naive ListUsers", e))
            .users()
            .len();
    }
    let mut groups = Vec::new();
    let mut pages = c
        .list_groups()
        .identity_store_id(store)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| fail("naive ListGroups", e));
        groups.extend(page.groups().iter().map(|g| g.group_id().to_string()));
    }
    let mut memberships = 0;
    for g in &groups {
        let mut pages = c
            .list_group_memberships()
            .identity_store_id(store)
            .group_id(g)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            memberships += page
                .unwrap_or_else(|e| fail("naive ListGroupMemberships", e))
                .group_memberships()
                .len();
        }
    }
    (users, groups.len(), memberships)
}

async fn run(spec: SeedSpec, scale: u32, naive: bool, faults: bool) {
    let org = Organisation::generate(&spec).unwrap_or_else(|e| fail("seed", e));
    let quota = 20 * scale;
    let per = NonZeroU32::new(quota).unwrap_or(NonZeroU32::MIN);
    let sandbox = RunningSandbox::start(
        org.identity_center.clone(),
        org.instance.clone(),
        SandboxConfig {
            limits: Limits {
                identitystore_per_operation: per,
                ssoadmin_total: per,
                ..Limits::default()
            },
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap_or_else(|e| fail("sandbox", e));
    if faults {
        // One request in ten fails: a throttle, a 500 or a dropped connection, a third each.
        for service in ["identitystore", "sso-admin"] {
            sandbox
                .faults()
                .set(
                    service,
                    FaultPlan {
                        error_rate: 0.10,
                        mixed: true,
                        ..FaultPlan::default()
                    },
                )
                .unwrap_or_else(|e| fail("faults", e));
        }
    }
    let (users, groups, memberships, sso) = calls_needed(&org);
    let bound = [users, groups, memberships, sso]
        .into_iter()
        .map(|calls| calls as f64 / f64::from(quota))
        .fold(0.0, f64::max);
    // The same bound counting the service's bucket, which lets one second's worth of calls
    // through at once.
    let bound_with_burst = [users, groups, memberships, sso]
        .into_iter()
        .map(|calls| calls.saturating_sub(quota as usize) as f64 / f64::from(quota))
        .fold(0.0, f64::max);
    let creds = StaticCredentials::default();
    let settings = Settings {
        endpoint_url: Some(sandbox.aws_endpoint()),
        static_keys: Some((creds.access_key_id, creds.secret_access_key)),
        identitystore_per_second: quota,
        ssoadmin_per_second: quota,
        ..Settings::new("eu-west-1")
    };
    let reader = Reader::connect(settings).await;
    let started = Instant::now();
    let read = reader
        .read(&CancellationToken::new())
        .await
        .unwrap_or_else(|e| fail("read", e));
    let took = started.elapsed().as_secs_f64();
    let expected = snapshot_of(&org.identity_center, assignments_of(&org.instance))
        .unwrap_or_else(|e| fail("expected", e));
    let identical = read.snapshot == expected;
    let progress = reader.progress();
    println!(
        "snapshot {:<6} {} users, {} groups, {} memberships; quotas {quota}/s (x{scale}){}",
        spec.name,
        org.identity_center.user_count(),
        org.identity_center.group_count(),
        org.identity_center.membership_count(),
        if faults {
            "; 10 % of requests fail (429, 500, dropped)"
        } else {
            ""
        }
    );
    println!(
        "  calls needed: ListUsers {users}, ListGroups {groups}, ListGroupMemberships {memberships}, sso-admin {sso}; lower bound {bound:.2} s ({bound_with_burst:.2} s with the bucket's one-second burst)"
    );
    println!(
        "  tessera reader: {took:.2} s, efficiency {:.3} ({:.3} against the burst-aware bound), {} attempts, {} throttled, {} failed, identical to seed: {identical}",
        bound / took,
        bound_with_burst / took,
        progress.calls,
        progress.throttles,
        progress.failed_attempts
    );
    if naive {
        let started = Instant::now();
        let (u, g, m) = naive_read(
            &sandbox.aws_endpoint(),
            org.identity_center.identity_store_id(),
        )
        .await;
        let naive_took = started.elapsed().as_secs_f64();
        println!(
            "  naive sequential client: {naive_took:.2} s ({u} users, {g} groups, {m} memberships) = {:.1}x the reader's time",
            naive_took / took
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
            run(SeedSpec::demo(), 1, true, false).await;
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
            run(spec, 10, true, false).await;
        }
        if which.is_empty() || which == "large" {
            run(SeedSpec::large(), 20, false, false).await;
        }
        // `large-faults` (and `demo-faults`): the same read with 10 % of requests failing.
        if which == "demo-faults" {
            run(SeedSpec::demo(), 1, false, true).await;
        }
        if which == "large-faults" {
            run(SeedSpec::large(), 20, false, true).await;
        }
    });
}
