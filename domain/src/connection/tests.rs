#![allow(clippy::unwrap_used)]
use super::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const NOW: &str = "2026-11-22T12:00:00Z";

fn cert(days: i64) -> Certificate {
    Certificate {
        subject: "CN=Microsoft Azure Federated SSO Certificate".into(),
        thumbprint: "AB12".into(),
        not_before: t(NOW) - Duration::days(300),
        not_after: t(NOW) + Duration::days(days),
    }
}

fn sp() -> SpMetadata {
    SpMetadata {
        entity_id: "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1".into(),
        acs_urls: vec!["https://us-east-1.signin.aws.amazon.com/platform/saml/acs/x".into()],
        name_id_formats: vec!["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into()],
    }
}

fn idp(days: i64) -> IdpMetadata {
    IdpMetadata {
        entity_id: "https://sts.windows.net/t/".into(),
        sso_urls: vec!["https://login/saml2".into()],
        name_id_formats: vec!["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into()],
        certificates: vec![cert(days)],
    }
}

fn app() -> IdpApp {
    IdpApp {
        idp: "Entra ID".into(),
        name: "AWS IAM Identity Center".into(),
        id: "sp1".into(),
        enabled: true,
        identifiers: vec![sp().entity_id],
        reply_urls: sp().acs_urls,
        name_id_format: None,
        signing_thumbprint: Some("ab12".into()),
        signing_not_after: None,
        metadata_url: None,
    }
}

#[test]
fn certificates_warn_at_sixty_days_and_fail_at_fourteen() {
    let now = t(NOW);
    assert_eq!(expiry(now + Duration::days(61), now), Status::Pass);
    assert_eq!(expiry(now + Duration::days(59), now), Status::Warn);
    assert_eq!(expiry(now + Duration::days(20), now), Status::Warn);
    assert_eq!(expiry(now + Duration::days(13), now), Status::Fail);
    assert_eq!(expiry(now - Duration::days(1), now), Status::Fail);
}

fn saml(sp: Option<&SpMetadata>, idp: &IdpMetadata, app: &IdpApp) -> Outcome {
    saml_check(&SamlFacts {
        sp,
        idp: Some(Ok(idp)),
        given_to_identity_center: None,
        app: Some(app),
        now: t(NOW),
    })
}

#[test]
fn agreeing_metadata_with_a_valid_certificate_passes() {
    let o = saml(Some(&sp()), &idp(200), &app());
    assert_eq!(o.status, Status::Pass, "{o:?}");
    assert!(o.fix.is_none());
    assert!(
        o.evidence.iter().any(|e| e.contains("200 days left")),
        "{o:?}"
    );
}

#[test]
fn an_expiring_certificate_warns_with_its_countdown_and_the_rotation() {
    let o = saml(Some(&sp()), &idp(20), &app());
    assert_eq!(o.status, Status::Warn);
    assert!(o.summary.contains("expires on 2026-12-12"), "{}", o.summary);
    assert!(o.fix.as_deref().unwrap_or("").contains("new one"));
}

#[test]
fn a_wrong_acs_url_entity_id_or_nameid_format_fails_naming_both_sides() {
    let mut a = app();
    a.reply_urls = vec!["https://elsewhere/acs".into()];
    a.identifiers = vec![];
    let mut i = idp(200);
    i.name_id_formats = vec!["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()];
    let o = saml(Some(&sp()), &i, &a);
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("https://elsewhere/acs"), "{}", o.summary);
    assert!(o.summary.contains("identifier (none)"), "{}", o.summary);
    assert!(o.summary.contains("persistent"), "{}", o.summary);
}

#[test]
fn identity_center_holding_another_certificate_fails() {
    let mut given = idp(200);
    given.certificates[0].thumbprint = "OLD".into();
    let o = saml_check(&SamlFacts {
        sp: Some(&sp()),
        idp: Some(Ok(&idp(200))),
        given_to_identity_center: Some(&given),
        app: Some(&app()),
        now: t(NOW),
    });
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("another certificate"));
}

#[test]
fn missing_sp_metadata_is_unknown_not_pass() {
    let o = saml(None, &idp(200), &app());
    assert_eq!(o.status, Status::Unknown);
    assert!(o.fix.unwrap().contains("Download metadata file"));
}

#[test]
fn an_old_scim_token_warns_and_a_refused_one_fails_with_the_rotation_steps() {
    let now = t(NOW);
    let facts = |created: DateTime<Utc>, status: u16| ScimFacts {
        endpoint: "https://scim.us-east-1.amazonaws.com/x/scim/v2/".into(),
        token_created: created,
        canary: Ok(Canary::Answered { status, millis: 12 }),
    };
    let fresh = scim_check(Some(&facts(now - Duration::days(30), 200)), now);
    assert_eq!(fresh.status, Status::Pass);
    let old = scim_check(Some(&facts(now - Duration::days(335), 200)), now);
    assert_eq!(old.status, Status::Warn);
    assert!(old.summary.contains("30 days left"), "{}", old.summary);
    assert!(old.fix.unwrap().contains("Generate token"));
    let refused = scim_check(Some(&facts(now - Duration::days(30), 401)), now);
    assert_eq!(refused.status, Status::Fail);
    assert!(refused.summary.contains("refused"));
    let none = scim_check(None, now);
    assert_eq!(none.status, Status::Unknown);
}

#[test]
fn provisioning_quarantine_and_pingone_setup_gaps_fail() {
    let now = t(NOW);
    let entra = Provisioning::Entra {
        job_id: "AWSSCIM.x".into(),
        code: "Quarantine".into(),
        last_successful: Some(now),
        last_run: Some(now),
        last_error: None,
        quarantine_reason: Some("EncounteredQuarantineException".into()),
        successive_failures: 3,
    };
    let o = provisioning_check(Ok(&entra), now);
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("EncounteredQuarantineException"));
    let ping = Provisioning::PingOne {
        rule: "IdC".into(),
        active: true,
        user_filter: Some(PINGONE_USER_FILTER.into()),
        display_name_source: None,
        sync_state: Some("SYNCING".into()),
        last_sync: None,
        details: None,
    };
    let o = provisioning_check(Ok(&ping), now);
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("displayName"));
    let active = Provisioning::Entra {
        job_id: "j".into(),
        code: "Active".into(),
        last_successful: Some(now - Duration::minutes(40)),
        last_run: None,
        last_error: None,
        quarantine_reason: None,
        successive_failures: 0,
    };
    assert_eq!(provisioning_check(Ok(&active), now).status, Status::Pass);
}

#[test]
fn arrivals_fail_above_the_threshold_and_seat_assignment_needs_a_group() {
    let now = t(NOW);
    let a = |missing| Arrivals {
        scope_users: 1000,
        scope_read_at: Some(now),
        missing_users: missing,
        missing_groups: 0,
        max_missing_basis_points: 500,
    };
    assert_eq!(arrivals_check(&a(50), now).status, Status::Pass);
    assert_eq!(arrivals_check(&a(51), now).status, Status::Fail);
    assert_eq!(seat_assignment_check(Some((0, 4))).status, Status::Fail);
    assert_eq!(seat_assignment_check(Some((1, 0))).status, Status::Pass);
    assert_eq!(seat_assignment_check(None).status, Status::Unknown);
}

#[test]
fn attestations_are_marked_attested_and_expire_after_a_year() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let a = Attestation {
        by: "Sam Admin".into(),
        on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        note: String::new(),
    };
    let o = attested_check(CheckId::ConsoleSessions, Some(&a), today);
    assert_eq!(o.status, Status::Attested);
    assert!(o.summary.contains("not verified"));
    let old = Attestation {
        on: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
        ..a
    };
    assert_eq!(
        attested_check(CheckId::ConsoleSessions, Some(&old), today).status,
        Status::Warn
    );
    assert_eq!(
        attested_check(CheckId::IdentitySource, None, today).status,
        Status::Unknown
    );
    let outcomes = vec![
        attested_check(CheckId::ConsoleSessions, None, today),
        seat_assignment_check(Some((0, 0))),
    ];
    assert_eq!(overall(&outcomes), Status::Fail);
}
