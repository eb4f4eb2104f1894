//! The IdP's side of the connection checklist read with the production clients against the
//! sandbox: the IdP's application and provisioning through Graph and the Platform API, both
//! sides' SAML metadata fetched and parsed, the SCIM canary with real and wrong tokens — and
//! the checklist's rules over what was read.

use chrono::Utc;
use connectors::entra::{EntraReader, EntraSettings};
use connectors::pingone::{PingOneReader, PingOneSettings};
use connectors::saml_metadata::{fetch, parse_idp, parse_sp};
use connectors::scim_canary::canary;
use connectors::scope::IdpReader;
use domain::connection::{self as rules, Canary, Provisioning, Status};
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{IdpKind, RunningSandbox, SandboxConfig};

async fn start(idp: IdpKind) -> RunningSandbox {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    RunningSandbox::start_organisation(
        org,
        SandboxConfig {
            idp,
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap()
}

fn entra(s: &RunningSandbox) -> IdpReader {
    let e = s.entra().unwrap();
    IdpReader::Entra(
        EntraReader::new(EntraSettings {
            login_url: s.login_base(),
            graph_url: s.graph_base(),
            ..EntraSettings::new(&e.state.tenant_id(), &e.app.client_id, &e.app.client_secret)
        })
        .unwrap(),
    )
}

fn pingone(s: &RunningSandbox) -> IdpReader {
    let p = s.pingone().unwrap();
    IdpReader::PingOne(
        PingOneReader::new(PingOneSettings {
            auth_url: s.pingone_auth_base(),
            api_url: s.pingone_api_base(),
            ..PingOneSettings::new(
                &p.state.environment_id(),
                &p.worker.client_id,
                &p.worker.client_secret,
            )
        })
        .unwrap(),
    )
}

/// Identity Center's service-provider metadata, as its console's download gives it.
async fn sp_metadata(s: &RunningSandbox, http: &reqwest::Client) -> domain::connection::SpMetadata {
    let url = format!("http://{}/_sandbox/identity-center/saml-metadata", s.addr());
    parse_sp(&fetch(http, &url).await.unwrap()).unwrap()
}

#[tokio::test]
async fn entra_app_metadata_and_job_agree_with_identity_center_and_show_the_expiring_certificate() {
    let s = start(IdpKind::Entra).await;
    let http = reqwest::Client::new();
    let conn = entra(&s).connection().await.unwrap();
    let app = conn.app.expect("the tenant has the Identity Center app");
    let sp = sp_metadata(&s, &http).await;
    assert!(app.identifiers.contains(&sp.entity_id), "{app:?}");
    assert!(app.reply_urls.iter().any(|r| sp.acs_urls.contains(r)));
    // The published federation metadata (with its BOM) parses; its certificate is the one the
    // app signs with, and it ends in 20 days (the planted problem).
    let url = app.metadata_url.clone().unwrap();
    let idp = parse_idp(&fetch(&http, &url).await.unwrap()).unwrap();
    let cert = &idp.certificates[0];
    assert!(
        cert.thumbprint
            .eq_ignore_ascii_case(app.signing_thumbprint.as_deref().unwrap())
    );
    assert_eq!(Some(cert.not_after), app.signing_not_after);
    let days = rules::days_left(cert.not_after, Utc::now());
    assert!((19..=20).contains(&days), "{days}");
    let saml = rules::saml_check(&rules::SamlFacts {
        sp: Some(&sp),
        idp: Some(Ok(&idp)),
        given_to_identity_center: Some(&idp),
        app: Some(&app),
        now: Utc::now(),
    });
    assert_eq!(saml.status, Status::Warn, "{saml:?}");
    assert!(
        saml.summary
            .starts_with("The IdP's signing certificate expires on"),
        "{}",
        saml.summary
    );
    // Entra's provisioning job as Graph shows it.
    match conn.provisioning.unwrap() {
        Provisioning::Entra { code, .. } => assert_eq!(code, "Active"),
        other => panic!("{other:?}"),
    }
    // A wrong metadata URL is a fetch error naming it, not a parse of an error page.
    let wrong = url.replace("appid=", "appid=x");
    let e = fetch(&http, &wrong).await.unwrap_err().to_string();
    assert!(
        e.contains("HTTP 400") && e.contains("could not be fetched"),
        "{e}"
    );
}

#[tokio::test]
async fn pingone_app_and_propagation_show_the_missing_display_name_mapping() {
    let s = start(IdpKind::PingOne).await;
    let http = reqwest::Client::new();
    let conn = pingone(&s).connection().await.unwrap();
    let app = conn
        .app
        .expect("the environment has the Identity Center app");
    let sp = sp_metadata(&s, &http).await;
    assert_eq!(app.identifiers, vec![sp.entity_id.clone()]);
    assert!(app.reply_urls.iter().any(|r| sp.acs_urls.contains(r)));
    let idp = parse_idp(
        &fetch(&http, app.metadata_url.as_deref().unwrap())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(Some(idp.certificates[0].not_after), app.signing_not_after);
    let provisioning = conn.provisioning.unwrap();
    match &provisioning {
        Provisioning::PingOne {
            active,
            user_filter,
            display_name_source,
            ..
        } => {
            assert!(active);
            assert_eq!(user_filter.as_deref(), Some(rules::PINGONE_USER_FILTER));
            assert_eq!(*display_name_source, None, "the demo's planted gap");
        }
        other => panic!("{other:?}"),
    }
    let o = rules::provisioning_check(Ok(&provisioning), Utc::now());
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("displayName"), "{}", o.summary);
}

#[tokio::test]
async fn the_canary_tells_a_working_token_from_a_refused_one_and_a_silent_endpoint() {
    let s = start(IdpKind::Entra).await;
    let http = reqwest::Client::new();
    let token = s.provisioning_token().unwrap().clone();
    let endpoint = s.scim_endpoint();
    assert!(matches!(
        canary(&http, &endpoint, &token.token).await,
        Canary::Answered { status: 200, .. }
    ));
    assert!(matches!(
        canary(&http, &endpoint, "not-the-token").await,
        Canary::Answered { status: 401, .. }
    ));
    // The token the IdP holds is eleven months old: the check warns with the rotation steps.
    let facts = rules::ScimFacts {
        endpoint: endpoint.clone(),
        token_created: token.info.created_at,
        canary: Ok(canary(&http, &endpoint, &token.token).await),
    };
    let o = rules::scim_check(Some(&facts), Utc::now());
    assert_eq!(o.status, Status::Warn, "{o:?}");
    assert!(o.fix.unwrap().contains("Generate token"));
    let addr = s.addr();
    s.stop().await;
    assert!(matches!(
        canary(&http, &format!("http://{addr}/t/scim/v2/"), &token.token).await,
        Canary::NoAnswer(_)
    ));
}
