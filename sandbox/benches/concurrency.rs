//! 200 concurrent clients against the sandbox's Identity Store on the `large` organisation,
//! through the official SDK: `cargo bench -p sandbox --bench concurrency`.
//! Quotas are raised for the run (the point is the server, not the token bucket); every request
//! must succeed. Prints throughput and latency percentiles for BENCHMARKS.md.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_identitystore::config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use sandbox::aws::limits::Limits;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};

const CLIENTS: usize = 200;
const REQUESTS_PER_CLIENT: usize = 50;

#[tokio::main]
async fn main() {
    let org = match Organisation::generate(&SeedSpec::large()) {
        Ok(org) => org,
        Err(e) => {
            eprintln!("seed: {e}");
            std::process::exit(1);
        }
    };
    let store = org.identity_center.identity_store_id().to_string();
    let user_ids: Vec<String> = org
        .identity_center
        .users()
        .step_by(97)
        .map(|u| u.user_id.clone())
        .collect();
    let many = NonZeroU32::new(1_000_000).unwrap_or(NonZeroU32::MIN);
    let config = SandboxConfig {
        limits: Limits {
            identitystore_per_operation: many,
            ssoadmin_total: many,
            ..Limits::default()
        },
        ..SandboxConfig::default()
    };
    let creds = config.credentials.clone();
    let sandbox = match RunningSandbox::start(org.identity_center, org.instance, config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("start: {e}");
            std::process::exit(1);
        }
    };
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let client = aws_sdk_identitystore::Client::from_conf(
        aws_sdk_identitystore::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::from_keys(
                creds.access_key_id,
                creds.secret_access_key,
                None,
            ))
            .endpoint_url(sandbox.aws_endpoint())
            .http_client(http)
            .build(),
    );

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CLIENTS);
    for c in 0..CLIENTS {
        let client = client.clone();
        let store = store.clone();
        let ids = user_ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(REQUESTS_PER_CLIENT);
            let mut errors = 0usize;
            for r in 0..REQUESTS_PER_CLIENT {
                let t = Instant::now();
                // Alternate a point read and a page of 100 users, as a snapshot does.
                let ok = if r % 2 == 0 {
                    let id = &ids[(c * REQUESTS_PER_CLIENT + r) % ids.len()];
                    client
                        .describe_user()
                        .identity_store_id(&store)
                        .user_id(id)
                        .send()
                        .await
                        .is_ok()
                } else {
                    client
                        .list_users()
                        .identity_store_id(&store)
                        .max_results(100)
                        .send()
                        .await
                        .is_ok()
                };
                latencies.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all: Vec<Duration> = Vec::with_capacity(CLIENTS * REQUESTS_PER_CLIENT);
    let mut errors = 0;
    for task in tasks {
        if let Ok((latencies, e)) = task.await {
            all.extend(latencies);
            errors += e;
        } else {
            errors += REQUESTS_PER_CLIENT;
        }
    }
    let took = started.elapsed();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "identitystore, large org, {CLIENTS} concurrent clients x {REQUESTS_PER_CLIENT} requests: {} requests in {:.2} s = {:.0} req/s; errors {errors}; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        took.as_secs_f64(),
        all.len() as f64 / took.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
    sandbox.stop().await;
    if errors > 0 {
        std::process::exit(1);
    }
}
