//! Checks AWS Signature Version 4 on incoming requests the way AWS does for JSON services: the
//! canonical request is rebuilt from what arrived (method, path, query, the signed headers, the
//! payload hash), and the signature recomputed with the secret of the access key named in the
//! credential scope. Key derivation and HMAC come from the `aws-sigv4` crate; digests from `sha2`.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, Method, Uri};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AwsError;

/// The one key pair the sandbox accepts (tests and the demo configure their clients with it).
#[derive(Debug, Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Default for StaticCredentials {
    fn default() -> Self {
        Self {
            access_key_id: "AKIASANDBOXTESSERA01".into(),
            secret_access_key: "sandbox/secret/for/tessera/tests/only0000".into(),
        }
    }
}

/// How far a request's X-Amz-Date may be from now, as on AWS.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed_headers = Some(val),
            "Signature" => signature = Some(val),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let access_key_id = scope.next()?;
    let date = scope.next()?;
    let region = scope.next()?;
    let service = scope.next()?;
    if scope.next()? != "aws4_request" || scope.next().is_some() {
        return None;
    }
    Some(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers?.split(';').collect(),
        signature: signature?,
    })
}

/// Parses `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let parsed = chrono::NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").ok()?;
    let secs = u64::try_from(parsed.and_utc().timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Header value as SigV4 canonicalises it: trimmed, inner runs of spaces folded to one.
fn canonical_header_value(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The query string with parameters sorted by name then value (already URI-encoded on the wire).
fn canonical_query(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return String::new();
    };
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Verifies the request's signature for `service`; `now` is the real time (never the sandbox's
/// simulated clock).
pub fn verify(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    service: &str,
    credentials: &StaticCredentials,
    now: SystemTime,
) -> Result<(), AwsError> {
    let Some(auth_header) = headers.get("authorization") else {
        return Err(AwsError::missing_authentication());
    };
    let auth = auth_header
        .to_str()
        .ok()
        .and_then(parse_authorization)
        .ok_or_else(|| {
            AwsError::incomplete_signature(
                "Authorization header requires Credential, SignedHeaders and Signature parameters in AWS4-HMAC-SHA256 form.",
            )
        })?;
    if auth.access_key_id != credentials.access_key_id {
        return Err(AwsError::unrecognized_client());
    }
    if auth.service != service {
        return Err(AwsError::invalid_signature(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AwsError::incomplete_signature("X-Amz-Date header is missing."))?;
    let signed_at = parse_amz_date(amz_date)
        .ok_or_else(|| AwsError::incomplete_signature("X-Amz-Date is not YYYYMMDDTHHMMSSZ."))?;
    if !amz_date.starts_with(auth.date) {
        return Err(AwsError::invalid_signature(
            "Date in Credential scope does not match YYYYMMDD from X-Amz-Date.",
        ));
    }
    let skew = now
        .duration_since(signed_at)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(AwsError::invalid_signature(format!(
            "Signature expired: {amz_date} is now earlier or later than the allowed 15 minutes."
        )));
    }
    if !auth.signed_headers.contains(&"host") {
        return Err(AwsError::invalid_signature(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }

    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| canonical_header_value(v.as_bytes()))
            .collect();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    let payload_hash = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| sha256_hex(body));
    let path = if uri.path().is_empty() {
        "/"
    } else {
        uri.path()
    };
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.as_str(),
        path,
        canonical_query(uri),
        canonical_headers,
        auth.signed_headers.join(";"),
        payload_hash
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        &credentials.secret_access_key,
        signed_at,
        auth.region,
        auth.service,
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(AwsError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ))
    }
}
