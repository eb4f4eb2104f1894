//! The connection checklist end to end: an admin enters Identity Center's metadata and the
//! SCIM connection through the server functions, the checker verifies against the sandbox's
//! Entra ID and Identity Center with the production clients, and the page shows the planted
//! problems (the certificate expiring in 20 days, the eleven-month-old token). Bad input is
//! refused with what to do and changes nothing; only admins change anything; the token is never
//! shown or stored in the clear — on SQLite and PostgreSQL.

use axum::http::StatusCode;
use serde_json::Value;
use store::testkit::TestDb;

use crate::console::refresh_now;
use crate::harness::Harness;

store::backend_tests!(
    the_checklist_shows_the_planted_problems_and_refuses_bad_input,
    one_replica_verifies_on_schedule_each_period,
);

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn check<'a>(page: &'a Value, id: &str) -> &'a Value {
    page["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {page}"))
}

async fn the_checklist_shows_the_planted_problems_and_refuses_bad_input(db: &TestDb) {
    let h = Harness::start_refreshing(db).await;
    let admin = h.sign_in("security-admin").await;
    let auditor = h.sign_in("auditor").await;
    let page = |who: String| {
        let h = &h;
        async move { json(&h.call_with("/api/connection_page", &who, "").await.body) }
    };
    let before = page(auditor.clone()).await;
    assert_eq!(before["checks"], Value::Array(vec![]), "not verified yet");
    assert_eq!(before["sp_metadata"], Value::Null);

    // Bad metadata: refused with the reason, nothing stored.
    for (bad, reason) in [
        ("<html><body>Sign in</body></html>", "not SAML metadata"),
        (
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><x>&x;</x>",
            "DTD",
        ),
        ("<md:EntityDescriptor", "not well-formed"),
    ] {
        let answer = h
            .call_with(
                "/api/upload_metadata",
                &admin,
                &form(&[("side", "sp"), ("xml", bad)]),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "refused input is the caller's to fix"
        );
        assert!(
            answer.body.contains(reason) && answer.body.contains("Nothing changed"),
            "{}",
            answer.body
        );
    }
    assert_eq!(page(auditor.clone()).await["sp_metadata"], Value::Null);

    // Auditors read; they change nothing.
    let sp_xml = reqwest::get(format!(
        "http://{}/_sandbox/identity-center/saml-metadata",
        h.sandbox.addr()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let upload = form(&[("side", "sp"), ("xml", &sp_xml)]);
    let refused = h.call_with("/api/upload_metadata", &auditor, &upload).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.call_with("/api/verify_connection", &auditor, "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    refresh_now(&h, &admin).await;
    let stored = h.call_with("/api/upload_metadata", &admin, &upload).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);

    // The SCIM connection: bad input first.
    let token = h.sandbox.provisioning_token().unwrap().clone();
    let created = token.info.created_at.format("%Y-%m-%d").to_string();
    let endpoint = h.sandbox.scim_endpoint();
    for (args, reason) in [
        (
            form(&[
                ("endpoint", "ftp://x"),
                ("token", "t"),
                ("created_on", &created),
            ]),
            "is not a SCIM endpoint",
        ),
        (
            form(&[
                ("endpoint", &endpoint),
                ("token", "a b"),
                ("created_on", &created),
            ]),
            "exactly as Identity Center showed it",
        ),
        (
            form(&[
                ("endpoint", &endpoint),
                ("token", "t"),
                ("created_on", "2999-01-01"),
            ]),
            "in the future",
        ),
    ] {
        let answer = h.call_with("/api/set_scim", &admin, &args).await;
        assert!(
            answer.body.contains(reason) && answer.body.contains("Nothing changed"),
            "{}",
            answer.body
        );
    }
    assert_eq!(page(admin.clone()).await["scim"], Value::Null);
    let saved = h
        .call_with(
            "/api/set_scim",
            &admin,
            &form(&[
                ("endpoint", &endpoint),
                ("token", &token.token),
                ("created_on", &created),
            ]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let p = page(auditor.clone()).await;
    assert!(
        !p.to_string().contains(&token.token),
        "the token is never shown"
    );
    let raw = db
        .store
        .connection_setting(store::setting::SCIM)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert!(
        !raw.contains(&token.token) && raw.contains("sealed:v1:"),
        "sealed at rest"
    );
    assert_eq!(check(&p, "idp_app")["status"], "pass", "{p}");
    let saml = check(&p, "saml");
    assert_eq!(saml["status"], "warn", "{saml}");
    assert!(
        saml["evidence"].to_string().contains("days left"),
        "the countdown: {saml}"
    );
    let scim = check(&p, "scim");
    assert_eq!(scim["status"], "warn", "{scim}");
    assert!(scim["summary"].as_str().unwrap().contains("rotate it"));
    assert!(scim["fix"].as_str().unwrap().contains("Generate token"));
    assert_eq!(check(&p, "seat_assignment")["status"], "pass");
    assert_ne!(check(&p, "arrivals")["status"], "unknown", "scope read");
    assert_eq!(check(&p, "console_sessions")["status"], "unknown");
    let overall = p["overall"].as_str().unwrap();
    assert!(
        ["warn", "fail"].contains(&overall),
        "the worst of the checks: {overall}"
    );
    // The overview's strip: every check's status and line as the page has them, without the
    // evidence, the fix or what admins entered.
    let strip = json(
        &h.call_with("/api/connection_strip", &auditor, "")
            .await
            .body,
    );
    let strip = strip.as_array().unwrap();
    assert_eq!(strip.len(), p["checks"].as_array().unwrap().len());
    for s in strip {
        let c = check(&p, s["id"].as_str().unwrap());
        assert_eq!((&s["status"], &s["summary"]), (&c["status"], &c["summary"]));
        assert!(s.get("evidence").is_none() && s.get("fix").is_none(), "{s}");
    }

    // An attestation is marked attested, not verified.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let attested = h
        .call_with(
            "/api/attest",
            &admin,
            &form(&[
                ("check", "console_sessions"),
                ("on", &today),
                ("note", "seen"),
            ]),
        )
        .await;
    assert_eq!(attested.status, StatusCode::OK, "{}", attested.body);
    let p = page(auditor.clone()).await;
    let sessions = check(&p, "console_sessions");
    assert_eq!(sessions["status"], "attested");
    assert!(
        sessions["summary"]
            .as_str()
            .unwrap()
            .contains("not verified")
    );
    let wrong = h
        .call_with(
            "/api/attest",
            &admin,
            &form(&[("check", "saml"), ("on", &today), ("note", "")]),
        )
        .await;
    assert!(
        wrong.body.contains("not a check to attest"),
        "{}",
        wrong.body
    );

    // A token Identity Center refuses fails the check.
    let refused = h
        .call_with(
            "/api/set_scim",
            &admin,
            &form(&[
                ("endpoint", &endpoint),
                ("token", "revoked-token"),
                ("created_on", &created),
            ]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    let scim = check(&page(auditor).await, "scim").clone();
    assert_eq!(scim["status"], "fail", "{scim}");
    assert!(scim["summary"].as_str().unwrap().contains("refused"));
}

/// Replicas sharing a database verify the checklist on schedule once per period between them
/// (not once each: every verification sends a SCIM canary and reads the IdP); when the one
/// that verified stops, another takes over after the period.
async fn one_replica_verifies_on_schedule_each_period(db: &TestDb) {
    use chrono::{Duration, TimeZone, Utc};
    use server::connection::ConnectionChecker;
    let replica = || ConnectionChecker::new(db.store.clone(), None, None, 1.0).unwrap();
    let (a, b) = (replica(), replica());
    let every = Duration::minutes(15);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();

    let first = a.verify_on_schedule(t0, every).await.unwrap();
    assert!(
        first.is_some_and(|o| !o.is_empty()),
        "the first replica verifies"
    );
    let verified_at = db.store.checks().await.unwrap()[0].verified_at;
    assert_eq!(verified_at, t0);
    assert_eq!(
        b.verify_on_schedule(t0 + Duration::minutes(1), every)
            .await
            .unwrap(),
        None,
        "the second skips the period"
    );
    assert_eq!(db.store.checks().await.unwrap()[0].verified_at, t0);
    // The first's next period: its own lease has run out, it verifies again.
    assert!(
        a.verify_on_schedule(t0 + every, every)
            .await
            .unwrap()
            .is_some()
    );
    // The first stops; after its lease the second takes over.
    let later = t0 + every + every + Duration::seconds(1);
    assert!(b.verify_on_schedule(later, every).await.unwrap().is_some());
    assert_eq!(db.store.checks().await.unwrap()[0].verified_at, later);
    // An admin's "Verify now" is never skipped.
    assert!(!a.verify(later).await.unwrap().is_empty());
}
