//! The Microsoft identity platform's token endpoint for apps (client credentials) and the
//! access tokens it issues: `POST /login/{tenant}/oauth2/v2.0/token` with `grant_type =
//! client_credentials`, the client's id and secret (form fields or HTTP Basic) and `scope =
//! https://graph.microsoft.com/.default`. Tokens are opaque to Graph's clients; the sandbox keeps
//! only their SHA-256 digests, with the app's granted permissions and an expiry on the sandbox
//! clock (3599 s, as Entra gives).

use std::collections::HashMap;
use std::sync::RwLock;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The scope an app asks for to call Graph with its granted application permissions.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Lifetime of an app token, in seconds.
pub const TOKEN_LIFETIME_SECS: i64 = 3599;

/// Every application permission the sandbox knows (what Tessera asks an admin to consent to).
pub const ALL_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Application.Read.All",
    "Synchronization.Read.All",
    "AuditLog.Read.All",
];

/// An app registration allowed to get tokens: client id, secret and granted permissions.
#[derive(Debug, Clone, Serialize)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone)]
struct Registered {
    secret_digest: [u8; 32],
    permissions: Vec<String>,
    /// Where sign-in (authorization code) answers may go; also the allowed post-logout
    /// redirects.
    redirect_uris: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Granted {
    pub client_id: String,
    pub permissions: Vec<String>,
    pub expires: DateTime<Utc>,
}

/// App registrations and the tokens issued to them.
#[derive(Debug, Default)]
pub struct Tokens {
    apps: RwLock<HashMap<String, Registered>>,
    issued: RwLock<HashMap<[u8; 32], Granted>>,
}

/// `blocks` × 16 random bytes (from the OS, through uuid v4's generator), base64url.
fn random_secret(blocks: usize) -> String {
    let raw: Vec<u8> = (0..blocks)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Why a Graph request's token was refused (Graph answers 401 InvalidAuthenticationToken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    Missing,
    Unknown,
    Expired,
}

impl TokenRefusal {
    pub fn message(&self) -> &'static str {
        match self {
            TokenRefusal::Missing => "Access token is empty.",
            TokenRefusal::Unknown => {
                "Invalid JWT token. The token is malformed or not signed by a trusted issuer."
            }
            TokenRefusal::Expired => "Lifetime validation failed, the token is expired.",
        }
    }
}

impl Tokens {
    /// Registers an app with `permissions` (application permissions, admin-consented) and
    /// returns its credentials; the secret is shown only here.
    pub fn register(&self, permissions: &[&str], redirect_uris: &[String]) -> AppCredentials {
        let client_id = uuid::Uuid::new_v4().hyphenated().to_string();
        let client_secret = random_secret(2);
        let registered = Registered {
            secret_digest: Sha256::digest(client_secret.as_bytes()).into(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            redirect_uris: redirect_uris.to_vec(),
        };
        if let Ok(mut apps) = self.apps.write() {
            apps.insert(client_id.clone(), registered);
        }
        AppCredentials {
            client_id,
            client_secret,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// Whether `client_id` is registered with `redirect_uri` (None: no such client).
    pub fn redirect_allowed(&self, client_id: &str, redirect_uri: &str) -> Option<bool> {
        let apps = self.apps.read().ok()?;
        let app = apps.get(client_id)?;
        Some(app.redirect_uris.iter().any(|u| u == redirect_uri))
    }

    /// Checks a client's id and secret; answers its granted permissions.
    pub fn authenticate(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Vec<String>, TokenEndpointError> {
        let apps = self.apps.read().map_err(|_| TokenEndpointError::server())?;
        let Some(app) = apps.get(client_id) else {
            return Err(TokenEndpointError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
                ),
            ));
        };
        let digest: [u8; 32] = Sha256::digest(client_secret.as_bytes()).into();
        if !bool::from(digest.ct_eq(&app.secret_digest)) {
            return Err(TokenEndpointError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.".into(),
            ));
        }
        Ok(app.permissions.clone())
    }

    /// Checks a client's id and secret and issues an app token good for `lifetime_secs`.
    pub fn issue(
        &self,
        client_id: &str,
        client_secret: &str,
        now: DateTime<Utc>,
        lifetime_secs: i64,
    ) -> Result<String, TokenEndpointError> {
        let permissions = self.authenticate(client_id, client_secret)?;
        let token = random_secret(3);
        let granted = Granted {
            client_id: client_id.to_string(),
            permissions,
            expires: now + Duration::seconds(lifetime_secs),
        };
        if let Ok(mut issued) = self.issued.write() {
            issued.retain(|_, g| g.expires > now);
            issued.insert(Sha256::digest(token.as_bytes()).into(), granted);
        }
        Ok(token)
    }

    /// The grant behind a `Authorization: Bearer` header.
    pub fn check(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Granted, TokenRefusal> {
        let token = crate::bearer::bearer(headers).ok_or(TokenRefusal::Missing)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let issued = self.issued.read().map_err(|_| TokenRefusal::Unknown)?;
        let granted = issued.get(&digest).ok_or(TokenRefusal::Unknown)?;
        if granted.expires <= now {
            return Err(TokenRefusal::Expired);
        }
        Ok(granted.clone())
    }
}

/// An error from the token endpoint, in the identity platform's shape.
#[derive(Debug, Clone)]
pub struct TokenEndpointError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl TokenEndpointError {
    pub fn new(status: StatusCode, error: &'static str, code: u32, description: String) -> Self {
        Self {
            status,
            error,
            code,
            description,
        }
    }

    fn server() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            50000,
            "There was an error issuing a token.".into(),
        )
    }
}

impl IntoResponse for TokenEndpointError {
    fn into_response(self) -> Response {
        let trace = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace} Correlation ID: {trace} Timestamp: {}",
                self.code,
                self.description,
                Utc::now().format("%Y-%m-%d %H:%M:%SZ")
            ),
            "error_codes": [self.code],
            "timestamp": Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string(),
            "trace_id": trace,
            "correlation_id": trace,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// `POST /{tenant}/oauth2/v2.0/token` (form-encoded).
pub fn token_endpoint(
    tokens: &Tokens,
    tenant_ok: bool,
    tenant: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<serde_json::Value, TokenEndpointError> {
    if !tenant_ok {
        return Err(TokenEndpointError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ));
    }
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(TokenEndpointError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!(
                    "The app requested an unsupported grant type '{other}'; this endpoint serves client_credentials."
                ),
            ));
        }
        None => {
            return Err(TokenEndpointError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.".into(),
            ));
        }
    }
    if field("scope") != Some(GRAPH_DEFAULT_SCOPE) {
        return Err(TokenEndpointError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI); use {GRAPH_DEFAULT_SCOPE}.",
                field("scope").unwrap_or("(none)")
            ),
        ));
    }
    let (client_id, client_secret) = client_auth(headers, form)?;
    let token = tokens.issue(&client_id, &client_secret, now, TOKEN_LIFETIME_SECS)?;
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "ext_expires_in": TOKEN_LIFETIME_SECS,
        "access_token": token,
    }))
}

/// The client's id and secret: client_secret_basic (RFC 6749 §2.3.1, both parts
/// form-urlencoded) or client_secret_post.
pub fn client_auth(
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<(String, String), TokenEndpointError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            Some((form_urlencoded_decode(id), form_urlencoded_decode(secret)))
        });
    match (basic, field("client_id"), field("client_secret")) {
        (Some(pair), _, _) => Ok(pair),
        (None, Some(id), Some(secret)) => Ok((id.to_string(), secret.to_string())),
        (None, Some(_), None) => Err(TokenEndpointError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        )),
        (None, None, _) => Err(TokenEndpointError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.".into(),
        )),
    }
}

/// `application/x-www-form-urlencoded` decoding of one component (`+` is a space).
fn form_urlencoded_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}
