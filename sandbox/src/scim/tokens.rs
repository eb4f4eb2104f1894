//! SCIM bearer tokens as Identity Center keeps them: at most two at a time (expired ones still
//! count until deleted), each valid for one year from its creation, shown once when created.
//! Only a SHA-256 digest of each token is kept; a presented token is compared in constant time.

use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Identity Center keeps at most this many SCIM tokens.
pub const MAX_TOKENS: usize = 2;

/// What may be shown about a token after its creation (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A token just created: the secret is here and nowhere else.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

/// Why a token could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Two tokens exist; delete one first (the rotation the console enforces).
    TooMany,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::TooMany => write!(
                f,
                "Identity Center keeps at most {MAX_TOKENS} SCIM access tokens; delete one before creating another"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// Why a presented token was refused (both answer 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing, malformed, unknown or deleted.
    Unknown,
    /// Known but past its one-year life.
    Expired,
}

#[derive(Debug)]
struct Stored {
    info: TokenInfo,
    digest: [u8; 32],
}

#[derive(Debug, Default)]
pub struct ScimTokens {
    tokens: Mutex<Vec<Stored>>,
}

impl ScimTokens {
    /// Creates a token as if made in the console at `created_at` (tests and seeds backdate it).
    pub fn issue(&self, created_at: DateTime<Utc>) -> Result<IssuedToken, TokenError> {
        let mut tokens = self.tokens.lock().map_err(|_| TokenError::TooMany)?;
        if tokens.len() >= MAX_TOKENS {
            return Err(TokenError::TooMany);
        }
        let mut secret = Vec::with_capacity(48);
        for _ in 0..3 {
            secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        let token = STANDARD_NO_PAD.encode(&secret);
        let info = TokenInfo {
            id: uuid::Uuid::new_v4().to_string(),
            created_at,
            expires_at: created_at
                .checked_add_months(Months::new(12))
                .unwrap_or(created_at),
        };
        tokens.push(Stored {
            info: info.clone(),
            digest: Sha256::digest(token.as_bytes()).into(),
        });
        Ok(IssuedToken { info, token })
    }

    /// Deletes a token; false when there is no such token.
    pub fn revoke(&self, id: &str) -> bool {
        let Ok(mut tokens) = self.tokens.lock() else {
            return false;
        };
        let before = tokens.len();
        tokens.retain(|t| t.info.id != id);
        tokens.len() != before
    }

    pub fn list(&self) -> Vec<TokenInfo> {
        self.tokens
            .lock()
            .map(|t| t.iter().map(|s| s.info.clone()).collect())
            .unwrap_or_default()
    }

    /// Checks a presented bearer token at `now`.
    pub fn check(&self, presented: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let tokens = self.tokens.lock().map_err(|_| Refusal::Unknown)?;
        let found = tokens
            .iter()
            .find(|t| bool::from(t.digest.ct_eq(&digest)))
            .ok_or(Refusal::Unknown)?;
        if now >= found.info.expires_at {
            return Err(Refusal::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn two_tokens_at_most_each_for_one_year() {
        let tokens = ScimTokens::default();
        let t0 = DateTime::parse_from_rfc3339("2026-01-31T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let first = tokens.issue(t0).unwrap();
        assert_eq!(
            first.info.expires_at.to_rfc3339(),
            "2027-01-31T10:00:00+00:00"
        );
        let second = tokens.issue(t0).unwrap();
        assert_ne!(first.token, second.token);
        assert_eq!(tokens.issue(t0).unwrap_err(), TokenError::TooMany);

        let day_before = first.info.expires_at - chrono::Duration::days(1);
        assert_eq!(tokens.check(&first.token, day_before), Ok(()));
        assert_eq!(
            tokens.check(&first.token, first.info.expires_at),
            Err(Refusal::Expired)
        );
        assert_eq!(tokens.check("nope", t0), Err(Refusal::Unknown));

        assert!(tokens.revoke(&first.info.id));
        assert_eq!(tokens.check(&first.token, t0), Err(Refusal::Unknown));
        assert_eq!(tokens.list().len(), 1);
        tokens.issue(t0).unwrap();
    }
}
