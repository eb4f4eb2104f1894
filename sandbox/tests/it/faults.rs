//! Faults on purpose: outages, error rates, dropped connections, slow answers — set from Rust
//! and over the control API — as the official SDK meets them; and the clock tests advance.

use std::time::Duration;

use aws_sdk_identitystore::config::retry::RetryConfig;
use aws_sdk_identitystore::error::{ProvideErrorMetadata, SdkError};
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::faults::{FaultKind, FaultPlan};

use crate::common::{Fixture, identitystore_retrying, ssoadmin, start};

fn no_retry(f: &Fixture) -> aws_sdk_identitystore::Client {
    let creds = StaticCredentials::default();
    identitystore_retrying(
        &f.sandbox.aws_endpoint(),
        &creds.access_key_id,
        &creds.secret_access_key,
        RetryConfig::disabled(),
    )
}

async fn list_users(
    f: &Fixture,
    c: &aws_sdk_identitystore::Client,
) -> Result<
    aws_sdk_identitystore::operation::list_users::ListUsersOutput,
    SdkError<aws_sdk_identitystore::operation::list_users::ListUsersError>,
> {
    c.list_users().identity_store_id(&f.store).send().await
}

#[tokio::test]
async fn an_outage_answers_503_for_that_service_only() {
    let f = start().await;
    f.sandbox
        .faults()
        .set(
            "identitystore",
            FaultPlan {
                outage: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let err = list_users(&f, &no_retry(&f)).await.unwrap_err();
    assert_eq!(
        err.raw_response().map(|r| r.status().as_u16()),
        Some(503),
        "{err:?}"
    );
    // sso-admin is still up.
    ssoadmin(&f).list_instances().send().await.unwrap();
    // Healthy again after clearing.
    f.sandbox.faults().clear();
    list_users(&f, &no_retry(&f)).await.unwrap();
}

#[tokio::test]
async fn error_rates_fail_requests_with_the_chosen_kind() {
    let f = start().await;
    for (kind, code) in [
        (FaultKind::InternalError, "InternalServerException"),
        (FaultKind::Throttle, "ThrottlingException"),
    ] {
        f.sandbox
            .faults()
            .set(
                "identitystore",
                FaultPlan {
                    error_rate: 1.0,
                    error: kind,
                    ..FaultPlan::default()
                },
            )
            .unwrap();
        let err = list_users(&f, &no_retry(&f))
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(err.code(), Some(code), "{kind:?}: {err:?}");
    }
    assert!(
        f.sandbox
            .faults()
            .set(
                "identitystore",
                FaultPlan {
                    error_rate: 1.5,
                    ..FaultPlan::default()
                }
            )
            .is_err(),
        "a rate above 1 is refused"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_not_an_answer() {
    let f = start().await;
    f.sandbox
        .faults()
        .set(
            "identitystore",
            FaultPlan {
                error_rate: 1.0,
                error: FaultKind::DropConnection,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let err = list_users(&f, &no_retry(&f)).await.unwrap_err();
    assert!(
        matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_meets_the_client_timeout() {
    let f = start().await;
    f.sandbox
        .faults()
        .set(
            "identitystore",
            FaultPlan {
                latency_ms: 3_000,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let creds = StaticCredentials::default();
    let c = identitystore_retrying(
        &f.sandbox.aws_endpoint(),
        &creds.access_key_id,
        &creds.secret_access_key,
        RetryConfig::disabled(),
    );
    let err = c
        .list_users()
        .identity_store_id(&f.store)
        .customize()
        .config_override(
            aws_sdk_identitystore::config::Config::builder().timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_millis(300))
                    .build(),
            ),
        )
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
}

#[tokio::test]
async fn the_control_api_sets_faults_and_moves_the_clock() {
    let f = start().await;
    let http = reqwest::Client::new();
    let base = f.sandbox.aws_endpoint();
    let put = http
        .put(format!("{base}/_sandbox/faults/identitystore"))
        .body(r#"{"outage": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let plans: serde_json::Value = http
        .get(format!("{base}/_sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plans["identitystore"]["outage"], true);
    assert!(list_users(&f, &no_retry(&f)).await.is_err());

    let bad = http
        .put(format!("{base}/_sandbox/faults/nosuchservice"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = http
        .put(format!("{base}/_sandbox/faults/identitystore"))
        .body(r#"{"outage": "sometimes"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let cleared = http
        .delete(format!("{base}/_sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    list_users(&f, &no_retry(&f)).await.unwrap();

    let before = f.sandbox.clock().now();
    let moved: serde_json::Value = http
        .post(format!("{base}/_sandbox/clock/advance"))
        .body(r#"{"seconds": 31536000}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["offset_secs"], 31_536_000);
    let after = f.sandbox.clock().now();
    assert!(after - before >= chrono::Duration::days(365));
}

#[tokio::test]
async fn a_mixed_plan_fails_requests_with_every_kind() {
    let f = start().await;
    f.sandbox
        .faults()
        .set(
            "identitystore",
            FaultPlan {
                error_rate: 1.0,
                mixed: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let client = no_retry(&f);
    let (mut throttled, mut internal, mut dropped) = (0, 0, 0);
    for _ in 0..60 {
        match list_users(&f, &client).await.unwrap_err() {
            e @ SdkError::ServiceError(_) => match e.code() {
                Some("ThrottlingException") => throttled += 1,
                Some("InternalServerException") => internal += 1,
                other => panic!("unexpected {other:?}"),
            },
            _ => dropped += 1,
        }
    }
    assert!(
        throttled > 0 && internal > 0 && dropped > 0,
        "{throttled} throttled, {internal} internal errors, {dropped} dropped"
    );
}
