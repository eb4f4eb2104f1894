//! Check 3: the SCIM canary and the token's age.

use super::*;

/// What a canary request to the SCIM endpoint got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Canary {
    /// An HTTP answer (status) after `millis`.
    Answered { status: u16, millis: u64 },
    /// No answer (connection refused, timeout…), with the reason.
    NoAnswer(String),
}

/// The SCIM connection as stored, and what the canary got with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimFacts {
    pub endpoint: String,
    /// When the token was created in the Identity Center console.
    pub token_created: DateTime<Utc>,
    /// None when the stored token could not be opened (the reason).
    pub canary: Result<Canary, String>,
}

/// Check 3: the SCIM endpoint answers a canary request with the stored token, and the token's
/// age against its one-year life.
pub fn scim_check(facts: Option<&ScimFacts>, now: DateTime<Utc>) -> Outcome {
    let check = CheckId::Scim;
    let Some(f) = facts else {
        return Outcome::new(
            check,
            Status::Unknown,
            "No SCIM endpoint and token entered yet",
        )
        .with_fix();
    };
    let expires = f.token_created + Duration::days(SCIM_TOKEN_LIFE_DAYS);
    let age = (now - f.token_created).num_days();
    let token_line = format!(
        "token created {} ({age} days ago), valid until {}: {}",
        date(f.token_created),
        date(expires),
        countdown(expires, now)
    );
    let (status, summary) = match &f.canary {
        Err(e) => (
            Status::Fail,
            format!("The stored token cannot be used: {e}"),
        ),
        Ok(Canary::NoAnswer(e)) => (
            Status::Fail,
            format!("The SCIM endpoint did not answer: {e}"),
        ),
        Ok(Canary::Answered { status: 401, .. }) => (
            Status::Fail,
            "The SCIM endpoint refused the token (expired or deleted): rotate it".to_string(),
        ),
        Ok(Canary::Answered { status, .. }) if !(200..300).contains(status) => (
            Status::Fail,
            format!("The SCIM endpoint answered HTTP {status}"),
        ),
        Ok(Canary::Answered { .. }) => {
            let s = expiry(expires, now);
            let summary = match s {
                Status::Pass => "The SCIM endpoint answers with the stored token".to_string(),
                _ => format!(
                    "The SCIM endpoint answers, but the token expires on {} ({}): rotate it",
                    date(expires),
                    countdown(expires, now)
                ),
            };
            (s, summary)
        }
    };
    let mut o = Outcome::new(check, status, summary).evidence(format!("endpoint {}", f.endpoint));
    if let Ok(Canary::Answered { status, millis }) = &f.canary {
        o = o.evidence(format!(
            "canary GET Users?count=1: HTTP {status} in {millis} ms"
        ));
    }
    o.evidence(token_line).with_fix()
}
