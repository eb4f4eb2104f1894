//! Reading Identity Center through the official SDK clients, against the sandbox serving the
//! seeded `demo` organisation: the snapshot must equal the seed exactly, at the quotas, under
//! injected failures, and a read can be cancelled.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use connectors::identity_center::{IdentityCenterSource, ReadError, Reader, Settings};
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::expect::{assignments_of, snapshot_of};
use sandbox::faults::{FaultKind, FaultPlan};
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use tokio_util::sync::CancellationToken;

struct Fixture {
    sandbox: RunningSandbox,
    org: Organisation,
}

async fn start(limits: Limits) -> Fixture {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let sandbox = RunningSandbox::start(
        org.identity_center.clone(),
        org.instance.clone(),
        SandboxConfig {
            limits,
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap();
    Fixture { sandbox, org }
}

fn settings(f: &Fixture, per_second: u32) -> Settings {
    let creds = StaticCredentials::default();
    Settings {
        endpoint_url: Some(f.sandbox.aws_endpoint()),
        static_keys: Some((creds.access_key_id, creds.secret_access_key)),
        identitystore_per_second: per_second,
        ssoadmin_per_second: per_second,
        ..Settings::new("eu-west-1")
    }
}

fn fast() -> Limits {
    let many = NonZeroU32::new(10_000).unwrap();
    Limits {
        identitystore_per_operation: many,
        ssoadmin_total: many,
        ..Limits::default()
    }
}

#[tokio::test]
async fn a_read_returns_exactly_the_seeded_directory() {
    let f = start(fast()).await;
    let reader = Reader::connect(settings(&f, 1_000)).await;
    let read = reader.read(&CancellationToken::new()).await.unwrap();
    let expected = snapshot_of(&f.org.identity_center, assignments_of(&f.org.instance)).unwrap();
    assert_eq!(read.snapshot, expected);
    assert_eq!(
        read.instance.identity_store_id,
        f.org.identity_center.identity_store_id()
    );
    let app = read.application.unwrap();
    assert_eq!(app.name, "QDefaultProfile");
    assert!(!read.snapshot.assignments().is_empty());
    let progress = reader.progress();
    assert_eq!(progress.phase, "done");
    assert_eq!(progress.users, f.org.identity_center.user_count() as u64);
    assert_eq!(
        progress.groups_done,
        f.org.identity_center.group_count() as u64
    );
    assert_eq!(
        progress.memberships,
        f.org.identity_center.membership_count() as u64
    );
    assert_eq!(progress.throttles, 0);
}

#[tokio::test]
async fn the_read_keeps_to_the_quota_and_takes_no_longer_than_it_needs() {
    // 10 requests/s per operation on both sides. The service's bucket lets 10 calls through at
    // once, then 10 a second: the membership reads (one call per group, 30 groups) bound the
    // read at 2 s. Never throttled means the reader kept to the quota.
    let ten = NonZeroU32::new(10).unwrap();
    let f = start(Limits {
        identitystore_per_operation: ten,
        ssoadmin_total: ten,
        ..Limits::default()
    })
    .await;
    let reader = Reader::connect(settings(&f, 10)).await;
    let started = Instant::now();
    let read = reader.read(&CancellationToken::new()).await.unwrap();
    let took = started.elapsed();
    let groups = f.org.identity_center.group_count() as f64;
    let lower_bound = Duration::from_secs_f64((groups - 10.0) / 10.0);
    assert_eq!(read.snapshot.groups().len(), groups as usize);
    assert_eq!(
        reader.progress().throttles,
        0,
        "paced at the quota, never throttled"
    );
    assert!(
        took >= lower_bound,
        "faster than the quota allows: {took:?}"
    );
    assert!(
        took < lower_bound * 2,
        "{took:?} is far above the quota's lower bound {lower_bound:?}"
    );
}

#[tokio::test]
async fn a_client_faster_than_the_service_is_throttled_slows_down_and_still_reads_everything() {
    let six = NonZeroU32::new(6).unwrap();
    let f = start(Limits {
        identitystore_per_operation: six,
        ssoadmin_total: NonZeroU32::new(50).unwrap(),
        ..Limits::default()
    })
    .await;
    let reader = Reader::connect(settings(&f, 30)).await;
    let read = reader.read(&CancellationToken::new()).await.unwrap();
    let expected = snapshot_of(&f.org.identity_center, assignments_of(&f.org.instance)).unwrap();
    assert_eq!(read.snapshot, expected);
    assert!(
        reader.progress().throttles > 0,
        "the service's quota was met"
    );
}

#[tokio::test]
async fn injected_failures_are_retried_and_the_snapshot_still_matches() {
    let f = start(fast()).await;
    for (service, error) in [
        ("identitystore", FaultKind::InternalError),
        ("sso-admin", FaultKind::Throttle),
    ] {
        f.sandbox
            .faults()
            .set(
                service,
                FaultPlan {
                    error_rate: 0.1,
                    error,
                    ..FaultPlan::default()
                },
            )
            .unwrap();
    }
    let reader = Reader::connect(settings(&f, 1_000)).await;
    let read = reader.read(&CancellationToken::new()).await.unwrap();
    let expected = snapshot_of(&f.org.identity_center, assignments_of(&f.org.instance)).unwrap();
    assert_eq!(read.snapshot, expected);
    assert!(
        reader.progress().failed_attempts > 0,
        "faults were met and retried"
    );
}

#[tokio::test]
async fn dropped_connections_are_retried_too() {
    let f = start(fast()).await;
    f.sandbox
        .faults()
        .set(
            "identitystore",
            FaultPlan {
                error_rate: 0.1,
                error: FaultKind::DropConnection,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let reader = Reader::connect(settings(&f, 1_000)).await;
    let read = reader.read(&CancellationToken::new()).await.unwrap();
    assert_eq!(
        read.snapshot.membership_count(),
        f.org.identity_center.membership_count()
    );
}

#[tokio::test]
async fn an_outage_fails_the_read_naming_the_call() {
    let f = start(fast()).await;
    f.sandbox
        .faults()
        .set(
            "sso-admin",
            FaultPlan {
                outage: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let reader = Reader::connect(settings(&f, 1_000)).await;
    let err = reader.read(&CancellationToken::new()).await.unwrap_err();
    match &err {
        ReadError::Call { operation, message } => {
            assert_eq!(*operation, "ListInstances");
            assert!(
                message.contains("503") || message.contains("ServiceUnavailable"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reader.progress().phase, "failed");
}

#[tokio::test]
async fn a_read_can_be_cancelled() {
    let one = NonZeroU32::new(1).unwrap();
    let f = start(Limits {
        identitystore_per_operation: one,
        ..fast()
    })
    .await;
    let reader = Reader::connect(settings(&f, 1)).await;
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stopper.cancel();
    });
    let started = Instant::now();
    let err = reader.read(&cancel).await.unwrap_err();
    assert!(matches!(err, ReadError::Cancelled), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(reader.progress().phase, "cancelled");
}

#[tokio::test]
async fn wrong_keys_are_an_error_that_says_so() {
    let f = start(fast()).await;
    let mut s = settings(&f, 1_000);
    s.static_keys = Some(("AKIAWRONGWRONGWRONG0".into(), "nope".into()));
    let reader = Reader::connect(s).await;
    let err = reader.read(&CancellationToken::new()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("ListInstances failed"), "{text}");
    assert!(
        text.contains("UnrecognizedClient") || text.contains("security token"),
        "{text}"
    );
}
