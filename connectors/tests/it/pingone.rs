//! Reading PingOne's propagation scope through the Platform API with the production reader,
//! against the sandbox's emulated environment: the scope must be what the environment's rule
//! sends (its population's users with the mapped attributes, its groups with their members),
//! under throttling; bad credentials, a worker without the role and a missing rule must say
//! what to do.

use connectors::pingone::{PingOneError, PingOneReader, PingOneSettings};
use connectors::scope::IdpScopeSource;
use sandbox::expect::pingone_scope_of;
use sandbox::faults::{FaultKind, FaultPlan};
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{IdpKind, RunningSandbox, SandboxConfig};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

async fn start() -> RunningSandbox {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    RunningSandbox::start_organisation(
        org,
        SandboxConfig {
            idp: IdpKind::PingOne,
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap()
}

fn settings(s: &RunningSandbox, client_id: &str, secret: &str) -> PingOneSettings {
    PingOneSettings {
        auth_url: s.pingone_auth_base(),
        api_url: s.pingone_api_base(),
        ..PingOneSettings::new(
            &s.pingone().unwrap().state.environment_id(),
            client_id,
            secret,
        )
    }
}

fn reader(s: &RunningSandbox) -> PingOneReader {
    let worker = &s.pingone().unwrap().worker;
    PingOneReader::new(settings(s, &worker.client_id, &worker.client_secret)).unwrap()
}

fn expected(s: &RunningSandbox) -> domain::scope::IdpScope {
    pingone_scope_of(&s.pingone().unwrap().state.environment().unwrap()).sorted()
}

#[tokio::test]
async fn the_scope_is_what_the_propagation_rule_sends() {
    let s = start().await;
    let scope = reader(&s)
        .read_scope(&CancellationToken::new())
        .await
        .unwrap();
    let expected = expected(&s);
    assert!(expected.users.len() > 250 && expected.groups.len() > 20);
    assert_eq!(scope.clone().sorted(), expected);
    // The demo's rule lacks the seeds' Username → displayName mapping: no display name is sent,
    // so none is compared; user names and emails come through their mappings.
    assert!(scope.users.iter().all(|u| u.display_name.is_none()));
    assert!(
        scope
            .users
            .iter()
            .all(|u| !u.user_name.is_empty() && u.email.is_some())
    );
}

#[tokio::test]
async fn a_rule_naming_a_few_of_many_groups_reads_each_of_them() {
    // More groups than one page of the group list holds: listing them all would cost three
    // calls, more than reading the rule's two groups one by one.
    let org = Organisation::generate(&SeedSpec {
        people: 2_200,
        groups: 2_100,
        memberships: 6_600,
        ..SeedSpec::demo()
    })
    .unwrap();
    let s = RunningSandbox::start_organisation(
        org,
        SandboxConfig {
            idp: IdpKind::PingOne,
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap();
    for few in [vec![3, 2_050], vec![7]] {
        {
            let mut env = s.pingone().unwrap().state.environment_mut().unwrap();
            assert!(env.group(2_050).is_some());
            env.propagation.rule.groups = few.clone();
        }
        let scope = reader(&s)
            .read_scope(&CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(scope.groups.len(), few.len());
        assert!(scope.groups.iter().all(|g| !g.display_name.is_empty()));
        assert_eq!(scope.sorted(), expected(&s), "{few:?}");
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_to_the_same_scope() {
    let s = start().await;
    for error in [FaultKind::Throttle, FaultKind::InternalError] {
        s.faults()
            .set(
                sandbox::pingone::FAULT_KEY,
                FaultPlan {
                    error_rate: 0.3,
                    error,
                    ..FaultPlan::default()
                },
            )
            .unwrap();
        let scope = reader(&s)
            .read_scope(&CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(scope.sorted(), expected(&s), "{error:?}");
    }
}

#[tokio::test]
async fn bad_credentials_a_missing_role_and_a_missing_rule_say_what_to_do() {
    let s = start().await;
    let worker = &s.pingone().unwrap().worker;
    let err = PingOneReader::new(settings(&s, &worker.client_id, "not-the-secret"))
        .unwrap()
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PingOneError::Credentials(_)), "{message}");
    assert!(message.contains("invalid_client"), "{message}");
    assert!(!message.contains("not-the-secret"), "{message}");

    // A worker that may read the directory but not the propagation setup.
    let created: Value = reqwest::Client::new()
        .post(format!("http://{}/_sandbox/pingone/workers", s.addr()))
        .json(&json!({"roles": ["Identity Data Read Only"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let err = PingOneReader::new(settings(
        &s,
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    ))
    .unwrap()
    .read_scope(&CancellationToken::new())
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PingOneError::Permission { .. }), "{message}");
    assert!(
        message.contains("Environment Admin") && message.contains("propagation rules"),
        "{message}"
    );

    // A rule id that is not there.
    let mut named = settings(&s, &worker.client_id, &worker.client_secret);
    named.rule_id = Some("no-such-rule".into());
    let err = PingOneReader::new(named)
        .unwrap()
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, PingOneError::NoRule), "{err}");
    assert!(err.to_string().contains("pingone.rule_id"), "{err}");
}

#[tokio::test]
async fn an_outage_names_the_call_and_cancel_stops_a_read() {
    let s = start().await;
    s.faults()
        .set(
            sandbox::pingone::FAULT_KEY,
            FaultPlan {
                outage: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let worker = &s.pingone().unwrap().worker;
    let mut few = settings(&s, &worker.client_id, &worker.client_secret);
    few.attempts = 2;
    let err = PingOneReader::new(few)
        .unwrap()
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, PingOneError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("after 2 attempts"), "{err}");

    s.faults().clear();
    s.faults()
        .set(
            sandbox::pingone::FAULT_KEY,
            FaultPlan {
                latency_ms: 2_000,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let cancel = CancellationToken::new();
    let reader = reader(&s);
    let cancelling = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        cancelling.cancel();
    });
    let err = reader.read_scope(&cancel).await.unwrap_err();
    assert!(matches!(err, PingOneError::Cancelled), "{err}");
}
