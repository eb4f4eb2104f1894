//! The connection checklist's data: settings replaced whole with who and when, attestations
//! kept with the latest counting, each check's last outcome replacing the previous one.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::connection::{Attestation, CheckId, Outcome, Status};
use store::testkit::TestDb;
use store::{ScimSetting, setting};

fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap()
}

store::backend_tests!(
    settings_are_replaced_whole_and_say_who_entered_them,
    the_latest_attestation_of_each_check_counts,
    each_check_keeps_its_last_outcome
);

async fn settings_are_replaced_whole_and_say_who_entered_them(db: &TestDb) {
    let s = &db.store;
    assert_eq!(
        s.connection_setting(setting::SP_METADATA).await.unwrap(),
        None
    );
    s.set_connection_setting(setting::SP_METADATA, "<first/>", "Ana", t(1))
        .await
        .unwrap();
    s.set_connection_setting(setting::SP_METADATA, "<second/>", "Ben", t(2))
        .await
        .unwrap();
    let got = s
        .connection_setting(setting::SP_METADATA)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.value.as_str(), got.updated_by.as_str()),
        ("<second/>", "Ben")
    );
    assert_eq!(got.updated_at, t(2));
    let scim = ScimSetting {
        endpoint: "https://scim.us-east-1.amazonaws.com/t/scim/v2/".into(),
        token: "sealed:v1:abc".into(),
        token_created: t(3),
    };
    s.set_connection_setting(setting::SCIM, &scim.encode().unwrap(), "Ana", t(3))
        .await
        .unwrap();
    let back = ScimSetting::decode(
        &s.connection_setting(setting::SCIM)
            .await
            .unwrap()
            .unwrap()
            .value,
    )
    .unwrap();
    assert_eq!(back.token_created, t(3));
    assert_eq!(back.token, "sealed:v1:abc");
    // The page reads them all at once: the same values, by name.
    let all = s.connection_settings().await.unwrap();
    let mut names: Vec<&str> = all.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, [setting::SCIM, setting::SP_METADATA]);
    assert_eq!(
        all.get(setting::SP_METADATA),
        Some(&got),
        "the same setting as read alone"
    );
    assert!(
        s.clear_connection_setting(setting::SP_METADATA)
            .await
            .unwrap()
    );
    assert!(
        !s.connection_settings()
            .await
            .unwrap()
            .contains_key(setting::SP_METADATA)
    );
    assert!(
        !s.clear_connection_setting(setting::SP_METADATA)
            .await
            .unwrap()
    );
}

async fn the_latest_attestation_of_each_check_counts(db: &TestDb) {
    let s = &db.store;
    let a = |by: &str, day: u32| Attestation {
        by: by.into(),
        on: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
        note: format!("looked on day {day}"),
    };
    s.attest(CheckId::ConsoleSessions, &a("Ana", 1), t(1))
        .await
        .unwrap();
    s.attest(CheckId::ConsoleSessions, &a("Ben", 5), t(5))
        .await
        .unwrap();
    s.attest(CheckId::IdentitySource, &a("Ana", 2), t(2))
        .await
        .unwrap();
    let got = s.attestations().await.unwrap();
    assert_eq!(
        got,
        vec![
            (CheckId::ConsoleSessions, a("Ben", 5)),
            (CheckId::IdentitySource, a("Ana", 2)),
        ]
    );
}

async fn each_check_keeps_its_last_outcome(db: &TestDb) {
    let s = &db.store;
    let o = |check, status, summary: &str| Outcome {
        check,
        status,
        summary: summary.into(),
        evidence: vec!["seen".into()],
        fix: None,
    };
    s.save_checks(
        &[
            o(CheckId::Scim, Status::Warn, "old token"),
            o(CheckId::IdpApp, Status::Pass, "present"),
        ],
        t(1),
    )
    .await
    .unwrap();
    s.save_checks(&[o(CheckId::Scim, Status::Pass, "rotated")], t(2))
        .await
        .unwrap();
    let got = s.checks().await.unwrap();
    // In checklist order, each with its own verification time.
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].outcome, o(CheckId::IdpApp, Status::Pass, "present"));
    assert_eq!(got[0].verified_at, t(1));
    assert_eq!(got[1].outcome, o(CheckId::Scim, Status::Pass, "rotated"));
    assert_eq!(got[1].verified_at, t(2));
    // The Connection page reads the checks and the settings together.
    s.set_connection_setting(setting::SP_METADATA, "<sp/>", "Ana", t(3))
        .await
        .unwrap();
    let page = s.checklist().await.unwrap();
    assert_eq!(page.checks, got);
    assert_eq!(page.settings, s.connection_settings().await.unwrap());
    assert_eq!(page.settings[setting::SP_METADATA].value, "<sp/>");
}
