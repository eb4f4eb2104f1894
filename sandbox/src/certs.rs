//! The sandbox's one RSA key and the X.509 certificates made with it: the IdPs' SAML signing
//! certificates are real, self-signed certificates (generated with `rcgen`), so their validity
//! dates, thumbprints and PEM/DER encodings are what a real IdP's would be.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The process's RSA key: PKCS#1 PEM (what the openidconnect crate's signer reads), PKCS#8 PEM
/// (what rcgen reads) and a key id. Generating a 2048-bit key takes a moment, and every sandbox a
/// test starts would otherwise pay it.
pub struct ProcessKey {
    pub pkcs1_pem: String,
    pub pkcs8_pem: String,
    pub kid: String,
}

pub fn process_key() -> Result<&'static ProcessKey, String> {
    static KEY: OnceLock<Result<ProcessKey, String>> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::EncodePrivateKey;
        let key =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(|e| e.to_string())?;
        let pkcs1_pem = key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string();
        let pkcs8_pem = key
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string();
        let kid = hex::encode(&Sha256::digest(pkcs1_pem.as_bytes())[..8]);
        Ok(ProcessKey {
            pkcs1_pem,
            pkcs8_pem,
            kid,
        })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A self-signed RSA-SHA256 certificate for signing SAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    pub subject: String,
    pub der: Vec<u8>,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// SHA-1 of the DER, upper-case hex: Entra's `customKeyIdentifier` and
    /// `preferredTokenSigningKeyThumbprint`.
    pub thumbprint: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl SigningCertificate {
    /// A certificate for `CN=<common_name>` valid from `not_before` to `not_after` (seconds
    /// precision), serial number from `serial_seed`.
    pub fn generate(
        common_name: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
        serial_seed: &[u8],
    ) -> Result<Self, String> {
        let key = process_key()?;
        let key_pair =
            rcgen::KeyPair::from_pem_and_sign_algo(&key.pkcs8_pem, &rcgen::PKCS_RSA_SHA256)
                .map_err(|e| format!("the signing key cannot be used: {e}"))?;
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::CommonName, common_name);
        params.distinguished_name = name;
        params.not_before = offset(not_before)?;
        params.not_after = offset(not_after)?;
        // A positive 16-byte serial (top bit clear).
        let mut serial: [u8; 16] = Sha256::digest(serial_seed)[..16]
            .try_into()
            .map_err(|_| "serial".to_string())?;
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let cert = params
            .self_signed(&key_pair)
            .map_err(|e| format!("the certificate cannot be made: {e}"))?;
        let der = cert.der().to_vec();
        Ok(Self {
            subject: format!("CN={common_name}"),
            thumbprint: hex::encode_upper(Sha1::digest(&der)),
            serial: hex::encode(serial),
            der,
            not_before: trunc(not_before),
            not_after: trunc(not_after),
        })
    }

    /// Base64 of the DER (an `X509Certificate` element's text; Graph's `key`).
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }
}

fn trunc(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn offset(t: DateTime<Utc>) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(|e| e.to_string())
}
