//! Checks 1 and 2: the IdP application, and both sides' SAML metadata with the signing
//! certificate's countdown.

use super::*;

/// An X.509 certificate as metadata or an API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub subject: String,
    /// SHA-1 of the DER, upper-case hex (Entra's thumbprint).
    pub thumbprint: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Identity Center's service-provider metadata (the file its console offers for download).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpMetadata {
    pub entity_id: String,
    pub acs_urls: Vec<String>,
    pub name_id_formats: Vec<String>,
}

/// An IdP's SAML metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpMetadata {
    pub entity_id: String,
    pub sso_urls: Vec<String>,
    pub name_id_formats: Vec<String>,
    /// Signing certificates (`KeyDescriptor use="signing"` or without `use`).
    pub certificates: Vec<Certificate>,
}

/// The IdP's application for Identity Center, as the IdP's API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpApp {
    /// "Entra ID" or "PingOne".
    pub idp: String,
    pub name: String,
    pub id: String,
    pub enabled: bool,
    /// The SP entity ids the app accepts (Entra: identifier URIs; PingOne: `spEntityId`).
    pub identifiers: Vec<String>,
    /// Where it posts assertions (Entra: reply URLs; PingOne: `acsUrls`).
    pub reply_urls: Vec<String>,
    pub name_id_format: Option<String>,
    /// The certificate the app signs with (thumbprint and end), when the API shows it.
    pub signing_thumbprint: Option<String>,
    pub signing_not_after: Option<DateTime<Utc>>,
    /// Where its SAML metadata is published.
    pub metadata_url: Option<String>,
}

/// Check 1: the IdP application exists (and is enabled). `app` is the read: Err when the IdP
/// could not be asked, Ok(None) when it has no such application.
pub fn idp_app_check(app: Result<Option<&IdpApp>, &str>) -> Outcome {
    let check = CheckId::IdpApp;
    match app {
        Err(e) => Outcome::new(check, Status::Unknown, "The IdP could not be asked")
            .evidence(e.to_string())
            .with_fix(),
        Ok(None) => Outcome::new(
            check,
            Status::Fail,
            "The IdP has no application for AWS IAM Identity Center",
        )
        .with_fix(),
        Ok(Some(app)) if !app.enabled => Outcome::new(
            check,
            Status::Fail,
            format!("{}'s application {:?} is disabled", app.idp, app.name),
        )
        .evidence(format!("application id {}", app.id))
        .with_fix(),
        Ok(Some(app)) => Outcome::new(
            check,
            Status::Pass,
            format!("{} has the application {:?}", app.idp, app.name),
        )
        .evidence(format!("application id {}", app.id)),
    }
}

/// What the SAML check compares.
pub struct SamlFacts<'a> {
    /// Identity Center's service-provider metadata, as uploaded.
    pub sp: Option<&'a SpMetadata>,
    /// The IdP's metadata as published now (or as uploaded when it has no URL); Err says why
    /// it could not be read.
    pub idp: Option<Result<&'a IdpMetadata, &'a str>>,
    /// The IdP metadata Identity Center was given (uploaded here), when known.
    pub given_to_identity_center: Option<&'a IdpMetadata>,
    pub app: Option<&'a IdpApp>,
    pub now: DateTime<Utc>,
}

/// Check 2: the two sides' SAML settings agree and the IdP's signing certificate is valid,
/// with its countdown (warn at [`WARN_DAYS`], fail at [`FAIL_DAYS`]).
pub fn saml_check(f: &SamlFacts<'_>) -> Outcome {
    let check = CheckId::Saml;
    let mut status = Status::Pass;
    let mut problems: Vec<String> = Vec::new();
    let mut evidence: Vec<String> = Vec::new();
    let mut fail = |s: Status, problem: String, status: &mut Status| {
        *status = status.worst(s);
        problems.push(problem);
    };
    match f.sp {
        None => fail(
            Status::Unknown,
            "Identity Center's service-provider metadata has not been uploaded".into(),
            &mut status,
        ),
        Some(sp) => {
            evidence.push(format!(
                "Identity Center: entity id {}, ACS {}",
                sp.entity_id,
                sp.acs_urls.join(", ")
            ));
            if let Some(app) = f.app {
                if !app.identifiers.iter().any(|i| i == &sp.entity_id) {
                    fail(
                        Status::Fail,
                        format!(
                            "the IdP application's identifier ({}) is not Identity Center's entity id {}",
                            none_if_empty(&app.identifiers),
                            sp.entity_id
                        ),
                        &mut status,
                    );
                }
                if !app.reply_urls.iter().any(|r| sp.acs_urls.contains(r)) {
                    fail(
                        Status::Fail,
                        format!(
                            "the IdP application's reply URL ({}) is not Identity Center's ACS URL {}",
                            none_if_empty(&app.reply_urls),
                            none_if_empty(&sp.acs_urls)
                        ),
                        &mut status,
                    );
                }
            }
        }
    }
    let idp = match f.idp {
        None => {
            fail(
                Status::Unknown,
                "the IdP's metadata is not known: no metadata URL and none uploaded".into(),
                &mut status,
            );
            None
        }
        Some(Err(e)) => {
            fail(
                Status::Fail,
                format!("the IdP's metadata could not be read: {e}"),
                &mut status,
            );
            None
        }
        Some(Ok(m)) => Some(m),
    };
    if let Some(idp) = idp {
        evidence.push(format!("IdP: entity id {}", idp.entity_id));
        if let Some(sp) = f.sp {
            let formats: Vec<&String> = idp
                .name_id_formats
                .iter()
                .chain(f.app.and_then(|a| a.name_id_format.as_ref()))
                .collect();
            if !sp.name_id_formats.is_empty()
                && !formats.is_empty()
                && !formats.iter().any(|x| sp.name_id_formats.contains(x))
            {
                fail(
                    Status::Fail,
                    format!(
                        "NameID format: the IdP sends {}, Identity Center accepts {}",
                        formats
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        sp.name_id_formats.join(", ")
                    ),
                    &mut status,
                );
            }
        }
        // The certificate the app signs with, else the one ending last.
        let signing = f
            .app
            .and_then(|a| a.signing_thumbprint.as_ref())
            .and_then(|t| {
                idp.certificates
                    .iter()
                    .find(|c| c.thumbprint.eq_ignore_ascii_case(t))
            })
            .or_else(|| idp.certificates.iter().max_by_key(|c| c.not_after));
        match signing {
            None => fail(
                Status::Fail,
                "the IdP's metadata holds no signing certificate".into(),
                &mut status,
            ),
            Some(cert) => {
                evidence.push(format!(
                    "signing certificate {} (thumbprint {}), valid until {} UTC: {}",
                    cert.subject,
                    cert.thumbprint,
                    cert.not_after.format("%Y-%m-%d %H:%M"),
                    countdown(cert.not_after, f.now)
                ));
                let s = expiry(cert.not_after, f.now);
                if s != Status::Pass {
                    fail(
                        s,
                        format!(
                            "the IdP's signing certificate {} on {}",
                            if cert.not_after <= f.now {
                                "expired"
                            } else {
                                "expires"
                            },
                            date(cert.not_after)
                        ),
                        &mut status,
                    );
                }
                match f.given_to_identity_center {
                    Some(given) => {
                        if !given
                            .certificates
                            .iter()
                            .any(|c| c.thumbprint.eq_ignore_ascii_case(&cert.thumbprint))
                        {
                            fail(
                                Status::Fail,
                                "Identity Center was given IdP metadata with another certificate than the one the IdP signs with: sign-in fails; upload the IdP's current metadata in Identity Center".into(),
                                &mut status,
                            );
                        }
                        if given.entity_id != idp.entity_id {
                            fail(
                                Status::Fail,
                                format!(
                                    "Identity Center was given IdP entity id {}, the IdP's is {}",
                                    given.entity_id, idp.entity_id
                                ),
                                &mut status,
                            );
                        }
                    }
                    None => evidence.push(
                        "upload the IdP metadata file Identity Center holds to check it trusts this certificate".into(),
                    ),
                }
            }
        }
    }
    let summary = if problems.is_empty() {
        "Both sides agree on entity ids, ACS URL and NameID format; the signing certificate is valid".to_string()
    } else {
        capitalise(&problems.join("; "))
    };
    Outcome {
        check,
        status,
        summary,
        evidence,
        fix: None,
    }
    .with_fix()
}
