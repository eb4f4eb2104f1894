//! Request quotas: over quota the sandbox answers ThrottlingException with RetryAfterSeconds,
//! per operation, and the official SDK's retries carry a burst through.

use std::num::NonZeroU32;

use aws_sdk_identitystore::config::retry::RetryConfig;
use aws_sdk_identitystore::error::ProvideErrorMetadata;
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::server::SandboxConfig;

use crate::common::{Fixture, identitystore_retrying, start_with};

async fn two_per_second() -> Fixture {
    let two = NonZeroU32::new(2).unwrap();
    start_with(SandboxConfig {
        limits: Limits {
            identitystore_per_operation: two,
            ssoadmin_total: two,
            ..Limits::default()
        },
        ..SandboxConfig::default()
    })
    .await
}

fn client(f: &Fixture, retry: RetryConfig) -> aws_sdk_identitystore::Client {
    let creds = StaticCredentials::default();
    identitystore_retrying(
        &f.sandbox.aws_endpoint(),
        &creds.access_key_id,
        &creds.secret_access_key,
        retry,
    )
}

#[tokio::test]
async fn a_burst_over_quota_is_throttled_per_operation() {
    let f = two_per_second().await;
    let c = client(&f, RetryConfig::disabled());
    let user = &f.org.identity_center.users().next().unwrap().user_id;
    let mut throttled = 0;
    for _ in 0..8 {
        match c
            .describe_user()
            .identity_store_id(&f.store)
            .user_id(user)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let e = e.into_service_error();
                assert_eq!(e.code(), Some("ThrottlingException"), "{e:?}");
                assert!(e.is_throttling_exception());
                throttled += 1;
            }
        }
    }
    // Two pass at once; the rest of an 8-call burst on loopback cannot wait out the refill.
    assert!(throttled >= 4, "throttled {throttled} of 8");

    // DescribeUser's bucket being empty does not touch ListGroups'.
    c.list_groups()
        .identity_store_id(&f.store)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sdk_retries_through_throttling() {
    let f = two_per_second().await;
    let c = client(&f, RetryConfig::standard().with_max_attempts(10));
    let user = &f.org.identity_center.users().next().unwrap().user_id;
    for _ in 0..5 {
        c.describe_user()
            .identity_store_id(&f.store)
            .user_id(user)
            .send()
            .await
            .unwrap();
    }
}
