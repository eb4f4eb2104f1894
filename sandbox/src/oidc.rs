//! The OpenID Connect provider both emulated IdPs sign people in with: authorization requests
//! (code flow, PKCE S256 required), a small login page listing the seeded personas instead of a
//! password prompt, one-time authorization codes, ID tokens signed RS256 with the process key
//! (the openidconnect crate's provider-side types), access tokens for userinfo, and the
//! end-session redirect. Each IdP ([`crate::entra::oidc`], [`crate::pingone::oidc`]) puts its own
//! paths, claims and wording around it.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthorizationCode, IdToken, IdTokenClaims, JsonWebKeyId,
    PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Authorization codes (and pending requests) live ten minutes; tokens an hour.
pub const CODE_LIFETIME_MINUTES: i64 = 10;
pub const TOKEN_LIFETIME_SECS: i64 = 3600;

/// Why the provider said no. Each IdP words it its own way (a [`Wording`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MissingClientId,
    MissingRedirectUri,
    UnknownClient,
    /// The redirect URI is not registered for the client.
    RedirectMismatch,
    /// The redirect URI is not a URL.
    BadRedirectUri,
    ResponseType,
    /// The scope lacks `openid`.
    Scope,
    /// No S256 code challenge.
    Pkce,
    /// The login form names a request that expired or was used.
    RequestGone,
    UnknownPersona,
    /// The person pressed Cancel.
    Declined,
    UnknownCode,
    CodeRedeemed,
    CodeExpired,
    /// The code was issued to another client.
    OtherClient,
    /// The token request's redirect URI differs from the authorization request's.
    ReplyAddressMismatch,
    VerifierMismatch,
    AccountGone,
    ServerError,
}

impl Refusal {
    /// The OAuth 2.0 `error` code (RFC 6749 §4.1.2.1, §5.2).
    pub fn error(self) -> &'static str {
        match self {
            Self::ResponseType => "unsupported_response_type",
            Self::Scope => "invalid_scope",
            Self::Declined => "access_denied",
            Self::UnknownCode
            | Self::CodeRedeemed
            | Self::CodeExpired
            | Self::OtherClient
            | Self::ReplyAddressMismatch
            | Self::VerifierMismatch
            | Self::AccountGone => "invalid_grant",
            Self::UnknownClient => "invalid_client",
            Self::ServerError => "server_error",
            _ => "invalid_request",
        }
    }
}

/// How an IdP words a refusal for people and clients.
pub type Wording = fn(Refusal) -> String;

/// A refused authorization request: shown as an error page when the client cannot be trusted
/// with it, otherwise sent back to its redirect URI.
#[derive(Debug, Clone)]
pub enum Refused {
    Page(Refusal),
    Back {
        redirect_uri: String,
        state: Option<String>,
        refusal: Refusal,
    },
}

impl Refused {
    pub fn respond(self, wording: Wording) -> Response {
        match self {
            Self::Page(refusal) => error_page(&wording(refusal)),
            Self::Back {
                redirect_uri,
                state,
                refusal,
            } => match url::Url::parse(&redirect_uri) {
                Ok(mut url) => {
                    url.query_pairs_mut()
                        .append_pair("error", refusal.error())
                        .append_pair("error_description", &wording(refusal));
                    if let Some(s) = state {
                        url.query_pairs_mut().append_pair("state", &s);
                    }
                    Redirect::to(url.as_str()).into_response()
                }
                Err(_) => error_page(&wording(Refusal::BadRedirectUri)),
            },
        }
    }
}

/// A pending authorization request.
#[derive(Debug, Clone)]
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct IssuedCode {
    request: AuthRequest,
    persona: String,
    expires: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct AccessGrant {
    persona: String,
    client_id: String,
    expires: DateTime<Utc>,
}

/// What a redeemed code was for.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub persona: String,
    pub nonce: Option<String>,
    pub scope: String,
}

/// Someone the login page offers.
#[derive(Debug, Clone)]
pub struct Choice<'a> {
    pub key: &'a str,
    pub label: &'a str,
    pub name: String,
    pub username: &'a str,
}

/// The provider's key and its pending requests, codes and access tokens.
pub struct Provider {
    signing_key: CoreRsaPrivateSigningKey,
    jwks: Value,
    requests: Mutex<HashMap<String, AuthRequest>>,
    /// A code's entry stays, emptied, once redeemed, so a replay is told apart.
    codes: Mutex<HashMap<String, Option<IssuedCode>>>,
    /// Access token digest → what it was issued for.
    access: Mutex<HashMap<[u8; 32], AccessGrant>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").finish_non_exhaustive()
    }
}

/// 48 random bytes, base64url.
pub fn random_token() -> String {
    let raw: Vec<u8> = (0..3)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Provider {
    pub fn new() -> Result<Self, String> {
        let key = crate::certs::process_key()?;
        let signing_key = CoreRsaPrivateSigningKey::from_pem(
            &key.pkcs1_pem,
            Some(JsonWebKeyId::new(key.kid.clone())),
        )?;
        let jwks = serde_json::to_value(CoreJsonWebKeySet::new(vec![
            signing_key.as_verification_key(),
        ]))
        .map_err(|e| e.to_string())?;
        Ok(Self {
            signing_key,
            jwks,
            requests: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            access: Mutex::new(HashMap::new()),
        })
    }

    /// The JSON Web Key Set with the signing key.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Checks an authorization request against the client registry (`registered(client,
    /// redirect_uri)`: None for an unknown client) and keeps it; the id goes into the login
    /// form.
    pub fn authorize(
        &self,
        query: &[(String, String)],
        now: DateTime<Utc>,
        registered: impl Fn(&str, &str) -> Option<bool>,
    ) -> Result<String, Refused> {
        let client_id = param(query, "client_id").ok_or(Refused::Page(Refusal::MissingClientId))?;
        let redirect_uri =
            param(query, "redirect_uri").ok_or(Refused::Page(Refusal::MissingRedirectUri))?;
        match registered(client_id, redirect_uri) {
            None => return Err(Refused::Page(Refusal::UnknownClient)),
            Some(false) => return Err(Refused::Page(Refusal::RedirectMismatch)),
            Some(true) => {}
        }
        let state = param(query, "state").map(str::to_string);
        let back = |refusal| Refused::Back {
            redirect_uri: redirect_uri.to_string(),
            state: state.clone(),
            refusal,
        };
        if param(query, "response_type") != Some("code") {
            return Err(back(Refusal::ResponseType));
        }
        let scope = param(query, "scope").unwrap_or_default();
        if !scope.split(' ').any(|s| s == "openid") {
            return Err(back(Refusal::Scope));
        }
        let code_challenge = param(query, "code_challenge")
            .filter(|_| param(query, "code_challenge_method") == Some("S256"))
            .ok_or_else(|| back(Refusal::Pkce))?;
        let id = random_token();
        let mut requests = self
            .requests
            .lock()
            .map_err(|_| Refused::Page(Refusal::ServerError))?;
        requests.retain(|_, r| now - r.created < Duration::minutes(CODE_LIFETIME_MINUTES));
        requests.insert(
            id.clone(),
            AuthRequest {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                scope: scope.to_string(),
                state: state.clone(),
                nonce: param(query, "nonce").map(str::to_string),
                code_challenge: code_challenge.to_string(),
                created: now,
            },
        );
        Ok(id)
    }

    /// The login form came back (`request`, then `persona` or `cancel`): a code for the chosen
    /// persona (`known` says which keys exist), sent to the client's redirect URI.
    pub fn choose(
        &self,
        form: &[u8],
        now: DateTime<Utc>,
        known: impl Fn(&str) -> bool,
    ) -> Result<Response, Refused> {
        let form: Vec<(String, String)> = form_urlencoded::parse(form).into_owned().collect();
        let request = param(&form, "request")
            .and_then(|id| self.requests.lock().ok()?.remove(id))
            .filter(|r| now - r.created < Duration::minutes(CODE_LIFETIME_MINUTES))
            .ok_or(Refused::Page(Refusal::RequestGone))?;
        if param(&form, "cancel").is_some() {
            return Err(Refused::Back {
                redirect_uri: request.redirect_uri,
                state: request.state,
                refusal: Refusal::Declined,
            });
        }
        let persona = param(&form, "persona")
            .filter(|p| known(p))
            .ok_or(Refused::Page(Refusal::UnknownPersona))?
            .to_string();
        let mut url = url::Url::parse(&request.redirect_uri)
            .map_err(|_| Refused::Page(Refusal::BadRedirectUri))?;
        let code = random_token();
        url.query_pairs_mut().append_pair("code", &code);
        if let Some(s) = &request.state {
            url.query_pairs_mut().append_pair("state", s);
        }
        self.codes
            .lock()
            .map_err(|_| Refused::Page(Refusal::ServerError))?
            .insert(
                code,
                Some(IssuedCode {
                    request,
                    persona,
                    expires: now + Duration::minutes(CODE_LIFETIME_MINUTES),
                }),
            );
        Ok(Redirect::to(url.as_str()).into_response())
    }

    /// `grant_type=authorization_code` for an authenticated client: the code is spent (once),
    /// then checked for expiry, client, redirect URI and PKCE verifier.
    pub fn redeem(
        &self,
        form: &[(String, String)],
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Redeemed, Refusal> {
        let code = param(form, "code").unwrap_or_default();
        let issued = {
            let mut codes = self.codes.lock().map_err(|_| Refusal::ServerError)?;
            codes
                .get_mut(code)
                .ok_or(Refusal::UnknownCode)?
                .take()
                .ok_or(Refusal::CodeRedeemed)?
        };
        if issued.expires <= now {
            return Err(Refusal::CodeExpired);
        }
        if issued.request.client_id != client_id {
            return Err(Refusal::OtherClient);
        }
        if param(form, "redirect_uri") != Some(issued.request.redirect_uri.as_str()) {
            return Err(Refusal::ReplyAddressMismatch);
        }
        let verifier = param(form, "code_verifier").unwrap_or_default();
        let expected = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            verifier.to_string(),
        ));
        if verifier.is_empty() || expected.as_str() != issued.request.code_challenge {
            return Err(Refusal::VerifierMismatch);
        }
        Ok(Redeemed {
            persona: issued.persona,
            nonce: issued.request.nonce,
            scope: issued.request.scope,
        })
    }

    /// Signs an ID token (RS256, with `at_hash` for `access_token`).
    pub fn sign<AC: AdditionalClaims>(
        &self,
        claims: IdTokenClaims<AC, CoreGenderClaim>,
        access_token: &str,
    ) -> Result<String, String> {
        let token = IdToken::<
            AC,
            CoreGenderClaim,
            CoreJweContentEncryptionAlgorithm,
            CoreJwsSigningAlgorithm,
        >::new(
            claims,
            &self.signing_key,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Some(&AccessToken::new(access_token.to_string())),
            None::<&AuthorizationCode>,
        )
        .map_err(|e| e.to_string())?;
        serde_json::to_value(&token)
            .map_err(|e| e.to_string())?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "the ID token did not serialise to a string".to_string())
    }

    /// Issues an access token for userinfo, valid [`TOKEN_LIFETIME_SECS`].
    pub fn grant_access(&self, persona: &str, client_id: &str, now: DateTime<Utc>) -> String {
        let token = random_token();
        if let Ok(mut access) = self.access.lock() {
            access.retain(|_, grant| grant.expires > now);
            access.insert(
                Sha256::digest(token.as_bytes()).into(),
                AccessGrant {
                    persona: persona.to_string(),
                    client_id: client_id.to_string(),
                    expires: now + Duration::seconds(TOKEN_LIFETIME_SECS),
                },
            );
        }
        token
    }

    /// Who an unexpired access token was issued for: (persona, client).
    pub fn holder(&self, token: &str, now: DateTime<Utc>) -> Option<(String, String)> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let access = self.access.lock().ok()?;
        access
            .get(&digest)
            .filter(|grant| grant.expires > now)
            .map(|grant| (grant.persona.clone(), grant.client_id.clone()))
    }
}

/// The client named by an end-session request: the `aud` of its `id_token_hint` (read without
/// checking the signature, as a hint is; IdPs accept expired hints), else `client_id`.
fn hinted_client(query: &[(String, String)]) -> Option<String> {
    param(query, "id_token_hint")
        .and_then(|t| t.split('.').nth(1))
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
        .and_then(|claims| match &claims["aud"] {
            Value::String(a) => Some(a.clone()),
            Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .or_else(|| param(query, "client_id").map(str::to_string))
}

/// End session: back to `post_logout_redirect_uri` with `state` when it is registered for the
/// hinted client, otherwise a "signed out" page saying `signed_out`.
pub fn end_session(
    query: &[(String, String)],
    registered: impl Fn(&str, &str) -> Option<bool>,
    signed_out: &str,
) -> Response {
    if let (Some(uri), Some(client)) = (
        param(query, "post_logout_redirect_uri"),
        hinted_client(query),
    ) && registered(&client, uri) == Some(true)
        && let Ok(mut url) = url::Url::parse(uri)
    {
        if let Some(s) = param(query, "state") {
            url.query_pairs_mut().append_pair("state", s);
        }
        return Redirect::to(url.as_str()).into_response();
    }
    page(StatusCode::OK, "Signed out", signed_out)
}

/// An HTML page with a CSP that allows no script.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}\
         button{{display:block;width:100%;text-align:left;padding:.7rem;margin:.4rem 0;font-size:1rem;cursor:pointer}}\
         small{{color:#555}}</style></head><body>{body}</body></html>"
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    response
}

/// The error page of a refused authorization request.
pub fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Sign in failed",
        &format!(
            "<h1>Sorry, we could not sign you in.</h1><p>{}</p>",
            plain(message)
        ),
    )
}

/// Seeded names and user names are plain; keep only characters that cannot form markup.
pub fn plain(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || " .@-_:,'()".contains(*c))
        .collect()
}

/// The login page: who `heading` says the IdP is, and one button per persona.
pub fn login_page(heading: &str, request_id: &str, choices: &[Choice<'_>]) -> Response {
    let buttons: String = choices
        .iter()
        .map(|c| {
            format!(
                "<button name=\"persona\" value=\"{key}\" data-persona=\"{key}\"><strong>{}</strong><br>{} <small>{}</small></button>",
                plain(c.label),
                plain(&c.name),
                plain(c.username),
                key = plain(c.key),
            )
        })
        .collect();
    page(
        StatusCode::OK,
        "Sign in to your account",
        &format!(
            "<h1>Sign in</h1><p>{} Choose who you are:</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"request\" value=\"{}\">\
             {buttons}<button name=\"cancel\" value=\"1\">Cancel</button></form>",
            plain(heading),
            plain(request_id)
        ),
    )
}
