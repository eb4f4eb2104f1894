//! Reading Entra ID's provisioning scope through Microsoft Graph with the production reader,
//! against the sandbox's emulated tenant: the scope must be what the seed assigns, under
//! throttling, and bad credentials or missing permissions must say what to do.

use connectors::entra::{EntraError, EntraReader, EntraSettings};
use connectors::scope::IdpScopeSource;
use sandbox::expect::scope_of;
use sandbox::faults::{FaultKind, FaultPlan};
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use tokio_util::sync::CancellationToken;

struct Fixture {
    sandbox: RunningSandbox,
    org: Organisation,
}

async fn start() -> Fixture {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let sandbox = RunningSandbox::start_organisation(org.clone(), SandboxConfig::default())
        .await
        .unwrap();
    Fixture { sandbox, org }
}

fn settings(f: &Fixture, client_id: &str, secret: &str) -> EntraSettings {
    EntraSettings {
        login_url: f.sandbox.login_base(),
        graph_url: f.sandbox.graph_base(),
        ..EntraSettings::new(
            &f.sandbox.entra().unwrap().state.tenant_id(),
            client_id,
            secret,
        )
    }
}

fn reader(f: &Fixture) -> EntraReader {
    let app = &f.sandbox.entra().unwrap().app;
    EntraReader::new(settings(f, &app.client_id, &app.client_secret)).unwrap()
}

#[tokio::test]
async fn the_scope_is_what_the_tenant_assigns() {
    let f = start().await;
    let scope = reader(&f)
        .read_scope(&CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(scope.clone().sorted(), scope_of(&f.org).sorted());
    // The planted person Identity Center refuses is in scope (so drift reports them missing).
    let missing = &f.org.planted.unprovisionable_people[0];
    assert!(scope.users.iter().any(|u| &u.idp_id == missing));
}

#[tokio::test]
async fn a_groups_owners_are_its_team_leads() {
    let f = start().await;
    let (group_id, leads) = {
        let tenant = f.sandbox.entra().unwrap().state.tenant().unwrap();
        let team = tenant
            .groups
            .iter()
            .find(|g| !g.owners.is_empty())
            .expect("the demo's teams have owners");
        let mut leads: Vec<(String, String)> = team
            .owners
            .iter()
            .map(|&u| {
                let u = tenant.user(u).unwrap();
                (u.id.clone(), u.user_principal_name.clone())
            })
            .collect();
        leads.sort();
        (team.id.clone(), leads)
    };
    let mut owners: Vec<(String, String)> = reader(&f)
        .owners_of(&group_id)
        .await
        .unwrap()
        .into_iter()
        .map(|o| {
            assert!(!o.display_name.is_empty());
            (o.id, o.user_name)
        })
        .collect();
    owners.sort();
    assert_eq!(owners, leads);
    // A group that is not there says which.
    let err = reader(&f).owners_of("no-such-group").await.unwrap_err();
    assert!(err.to_string().contains("no-such-group"), "{err}");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_to_the_same_scope() {
    let f = start().await;
    for error in [FaultKind::Throttle, FaultKind::InternalError] {
        f.sandbox
            .faults()
            .set(
                "graph",
                FaultPlan {
                    error_rate: 0.3,
                    error,
                    ..FaultPlan::default()
                },
            )
            .unwrap();
        let scope = reader(&f)
            .read_scope(&CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(scope.sorted(), scope_of(&f.org).sorted(), "{error:?}");
    }
}

#[tokio::test]
async fn bad_credentials_and_missing_permissions_say_what_to_do() {
    let f = start().await;
    let app = &f.sandbox.entra().unwrap().app;
    let wrong = EntraReader::new(settings(&f, &app.client_id, "not-the-secret")).unwrap();
    let err = wrong
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, EntraError::Credentials(_)), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("invalid_client") && message.contains("client secret"),
        "{message}"
    );
    assert!(
        !message.contains("not-the-secret"),
        "the secret is never repeated"
    );

    // An app that may read the app's assignments but not group members.
    let limited = f
        .sandbox
        .entra()
        .unwrap()
        .state
        .tokens
        .register(&["Application.Read.All"], &[]);
    let reader =
        EntraReader::new(settings(&f, &limited.client_id, &limited.client_secret)).unwrap();
    let err = reader
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, EntraError::Permission { .. }), "{message}");
    assert!(message.contains("GroupMember.Read.All"), "{message}");

    // A tenant without the app.
    let mut settings = settings(&f, &app.client_id, &app.client_secret);
    settings.app_display_name = "AWS IAM Identity Centre (typo)".into();
    let err = EntraReader::new(settings)
        .unwrap()
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, EntraError::NoApp(_)), "{err}");
}

#[tokio::test]
async fn an_outage_ends_with_the_call_named_and_cancel_stops_a_read() {
    let f = start().await;
    f.sandbox
        .faults()
        .set(
            "graph",
            FaultPlan {
                outage: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let mut settings = settings(
        &f,
        &f.sandbox.entra().unwrap().app.client_id,
        &f.sandbox.entra().unwrap().app.client_secret,
    );
    settings.attempts = 2;
    let down = EntraReader::new(settings).unwrap();
    let err = down
        .read_scope(&CancellationToken::new())
        .await
        .unwrap_err();
    // The token endpoint is down too: an outage, not bad credentials.
    assert!(matches!(err, EntraError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("after 2 attempts"), "{err}");

    f.sandbox.faults().clear();
    f.sandbox
        .faults()
        .set(
            "graph",
            FaultPlan {
                latency_ms: 2_000,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let cancel = CancellationToken::new();
    let reader = reader(&f);
    let cancelling = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        cancelling.cancel();
    });
    let started = std::time::Instant::now();
    let err = reader.read_scope(&cancel).await.unwrap_err();
    assert!(matches!(err, EntraError::Cancelled), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
