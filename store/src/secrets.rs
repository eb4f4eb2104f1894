//! Secrets at rest (the sign-in client secret, the IdP API secret, and the SCIM token to come):
//! sealed with AES-256-GCM (`ring`) under a key given in the environment
//! (`TESSERA_SECRET_KEY`, 32 random bytes in base64), so a copied configuration file, database
//! or backup does not give them away. A sealed value reads `sealed:v1:<base64 of nonce ‖
//! ciphertext ‖ tag>`; its *purpose* (the configuration key it belongs to, such as
//! `auth.client_secret`) is bound in as associated data, so a sealed value moved to another
//! setting does not open. Neither the key nor an opened secret is ever printed by `Debug`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The environment variable that holds the key.
pub const KEY_VARIABLE: &str = "TESSERA_SECRET_KEY";

const PREFIX: &str = "sealed:v1:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error(
        "{KEY_VARIABLE} must be 32 random bytes in base64 (make one with `tessera secret-key`)"
    )]
    BadKey,
    #[error("is sealed, but {KEY_VARIABLE} is not set: give the key it was sealed with")]
    NoKey,
    #[error("is not a sealed value (expected sealed:v1:…): seal it again with `tessera seal`")]
    Malformed,
    #[error(
        "does not open with {KEY_VARIABLE}: it was sealed with another key, for another setting, or altered; seal it again with `tessera seal`"
    )]
    WrongKey,
    #[error("the system's random number generator failed")]
    Random,
}

/// The key secrets are sealed with.
pub struct SecretKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Whether a setting's value is sealed (and must be opened before use).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

impl SecretKey {
    /// The key from its base64 form.
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretError::BadKey)?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SecretError::BadKey)?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// A new random key, in base64 (what `tessera secret-key` prints).
    pub fn generate() -> Result<String, SecretError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        Ok(STANDARD.encode(bytes))
    }

    /// Seals `secret` for `purpose` (the setting it belongs to). A fresh random nonce each
    /// time, so sealing the same secret twice gives two different values.
    pub fn seal(&self, secret: &str, purpose: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SecretError::Random)?;
        let mut sealed = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| SecretError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens a value sealed for `purpose`.
    pub fn open(&self, sealed: &str, purpose: &str) -> Result<String, SecretError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SecretError::Malformed)?;
        let mut bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| SecretError::Malformed)?;
        if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SecretError::Malformed);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[..NONCE_LEN]);
        let opened = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut bytes[NONCE_LEN..],
            )
            .map_err(|_| SecretError::WrongKey)?;
        String::from_utf8(opened.to_vec()).map_err(|_| SecretError::WrongKey)
    }
}

/// Opens `value` for `purpose` when it is sealed (with `key`, which must then be given); a plain
/// value is returned as it is.
pub fn open_if_sealed(
    value: &str,
    purpose: &str,
    key: Option<&SecretKey>,
) -> Result<String, SecretError> {
    if !is_sealed(value) {
        return Ok(value.to_string());
    }
    key.ok_or(SecretError::NoKey)?.open(value, purpose)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_base64(&SecretKey::generate().unwrap()).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_setting() {
        let k = key();
        let sealed = k.seal("client-s3cret", "auth.client_secret").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("client-s3cret"));
        assert_ne!(
            sealed,
            k.seal("client-s3cret", "auth.client_secret").unwrap()
        );
        assert_eq!(
            k.open(&sealed, "auth.client_secret").unwrap(),
            "client-s3cret"
        );
        // Moved to another setting, opened with another key, or altered: refused.
        assert_eq!(
            k.open(&sealed, "idp.client_secret"),
            Err(SecretError::WrongKey)
        );
        assert_eq!(
            key().open(&sealed, "auth.client_secret"),
            Err(SecretError::WrongKey)
        );
        let mut bytes = STANDARD.decode(&sealed[PREFIX.len()..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = format!("{PREFIX}{}", STANDARD.encode(bytes));
        assert_eq!(
            k.open(&altered, "auth.client_secret"),
            Err(SecretError::WrongKey)
        );
        assert_eq!(
            k.open("sealed:v1:@@", "auth.client_secret"),
            Err(SecretError::Malformed)
        );
        assert_eq!(
            k.open("sealed:v1:AAAA", "auth.client_secret"),
            Err(SecretError::Malformed)
        );
    }

    #[test]
    fn plain_values_pass_and_sealed_ones_need_the_key() {
        assert_eq!(open_if_sealed("plain", "x", None).unwrap(), "plain");
        let sealed = key().seal("s", "x").unwrap();
        assert_eq!(open_if_sealed(&sealed, "x", None), Err(SecretError::NoKey));
        assert_eq!(
            SecretKey::from_base64("c2hvcnQ=").unwrap_err(),
            SecretError::BadKey
        );
        assert_eq!(format!("{:?}", key()), "SecretKey(…)");
    }
}
