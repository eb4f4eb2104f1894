//! Sign-in for people: the Microsoft identity platform's OpenID Connect provider for the tenant,
//! at Entra's own paths (issuer `{base}/login/{tenant}/v2.0`):
//!
//! - discovery: `/login/{tenant}/v2.0/.well-known/openid-configuration`
//! - authorize: `/login/{tenant}/oauth2/v2.0/authorize` — a small login page listing the seeded
//!   personas instead of a password prompt (there is no single sign-on session: every
//!   authorization request shows the page)
//! - token: `/login/{tenant}/oauth2/v2.0/token` with `grant_type=authorization_code` (PKCE S256
//!   required; the same endpoint serves client credentials)
//! - JWKS: `/login/{tenant}/discovery/v2.0/keys`
//! - userinfo: `/graph/oidc/userinfo` (Entra serves it from Graph's host)
//! - end session: `/login/{tenant}/oauth2/v2.0/logout`
//!
//! ID tokens are signed RS256 with a key generated once per process, using the openidconnect
//! crate's provider-side types, and carry Entra's claims: `oid`, `tid`, `preferred_username`,
//! `name`, `email`, `groups` (object ids) or, for the many-groups persona, the overage
//! indicator `_claim_names`/`_claim_sources`, and `roles` (Tessera's app roles).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, AuthorizationCode, EndUserEmail, EndUserFamilyName,
    EndUserGivenName, EndUserName, EndUserUsername, IdToken, IdTokenClaims, IssuerUrl,
    JsonWebKeyId, Nonce, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, StandardClaims,
    SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::SharedEntra;
use super::tenant::{Persona, Tenant};
use super::token::{TokenEndpointError, client_auth};

/// Entra's extra ID token claims (what Tessera reads besides the standard ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntraClaims {
    pub oid: String,
    pub tid: String,
    pub ver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(
        rename = "_claim_names",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub claim_names: Option<Value>,
    #[serde(
        rename = "_claim_sources",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub claim_sources: Option<Value>,
}

impl AdditionalClaims for EntraClaims {}

pub type EntraIdToken = IdToken<
    EntraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Authorization codes live ten minutes; tokens an hour.
const CODE_LIFETIME_MINUTES: i64 = 10;
const TOKEN_LIFETIME_SECS: i64 = 3600;

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
struct AccessGrant {
    persona: usize,
    client_id: String,
    expires: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct IssuedCode {
    request: AuthRequest,
    persona: usize,
    expires: DateTime<Utc>,
}

/// The provider's key and its pending requests, codes and access tokens.
pub struct Oidc {
    signing_key: CoreRsaPrivateSigningKey,
    jwks: Value,
    requests: Mutex<HashMap<String, AuthRequest>>,
    codes: Mutex<HashMap<String, Option<IssuedCode>>>,
    /// Access token digest → what it was issued for.
    access: Mutex<HashMap<[u8; 32], AccessGrant>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").finish_non_exhaustive()
    }
}

fn random_token() -> String {
    let raw: Vec<u8> = (0..3)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

impl Oidc {
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
}

fn issuer(state: &super::EntraState, tenant: &str) -> String {
    format!("{}/login/{tenant}/v2.0", state.base_url)
}

/// Whether the path's tenant is this tenant (id or domain).
fn our_tenant(state: &super::EntraState, tenant: &str) -> Option<String> {
    let t = state.tenant.read().ok()?;
    (tenant == t.tenant_id || tenant.eq_ignore_ascii_case(&t.domain)).then(|| t.tenant_id.clone())
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
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
        header::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    );
    response
}

/// Seeded names and user names are plain; keep only characters that cannot form markup.
fn plain(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || " .@-_".contains(*c))
        .collect()
}

/// `GET /login/{tenant}/v2.0/.well-known/openid-configuration`
pub async fn discovery(State(state): State<SharedEntra>, Path(tenant): Path<String>) -> Response {
    let Some(tid) = our_tenant(&state, &tenant) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_tenant", "error_description": format!("AADSTS90002: Tenant '{tenant}' not found.")})),
        )
            .into_response();
    };
    let base = &state.base_url;
    let login = format!("{base}/login/{tid}");
    axum::Json(json!({
        "issuer": issuer(&state, &tid),
        "authorization_endpoint": format!("{login}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{login}/oauth2/v2.0/token"),
        "jwks_uri": format!("{login}/discovery/v2.0/keys"),
        "userinfo_endpoint": format!("{base}/graph/oidc/userinfo"),
        "end_session_endpoint": format!("{login}/oauth2/v2.0/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "preferred_username", "email", "given_name", "family_name", "oid", "tid", "ver", "groups", "roles", "_claim_names", "_claim_sources"],
        "tenant_region_scope": "EU",
        "request_uri_parameter_supported": false,
    }))
    .into_response()
}

/// `GET /login/{tenant}/discovery/v2.0/keys`
pub async fn jwks(State(state): State<SharedEntra>) -> Response {
    axum::Json(state.oidc.jwks.clone()).into_response()
}

/// The error page an authorization request gets when it cannot be sent back to the client.
fn refuse(code: u32, message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Sign in failed",
        &format!(
            "<h1>Sorry, but we’re having trouble signing you in.</h1><p>AADSTS{code}: {}</p>",
            plain(message)
        ),
    )
}

/// An error sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
fn redirect_error(
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair("error", error)
                .append_pair("error_description", description);
            if let Some(s) = state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Redirect::to(url.as_str()).into_response()
        }
        Err(_) => refuse(50011, "The redirect URI is not a URL."),
    }
}

/// `GET /login/{tenant}/oauth2/v2.0/authorize`: checks the request and shows the login page.
pub async fn authorize(
    State(state): State<SharedEntra>,
    Path(tenant): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if our_tenant(&state, &tenant).is_none() {
        return refuse(90002, &format!("Tenant {tenant} not found."));
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(client_id) = param("client_id") else {
        return refuse(900144, "The request must contain the parameter client_id.");
    };
    let Some(redirect_uri) = param("redirect_uri") else {
        return refuse(
            900144,
            "The request must contain the parameter redirect_uri.",
        );
    };
    match state.tokens.redirect_allowed(&client_id, &redirect_uri) {
        None => {
            return refuse(
                700016,
                &format!("Application with identifier {client_id} was not found in the directory."),
            );
        }
        Some(false) => {
            return refuse(
                50011,
                "The redirect URI specified in the request does not match the redirect URIs configured for the application.",
            );
        }
        Some(true) => {}
    }
    let client_state = param("state");
    if param("response_type").as_deref() != Some("code") {
        return redirect_error(
            &redirect_uri,
            client_state.as_deref(),
            "unsupported_response_type",
            "AADSTS700054: this provider serves response_type=code only.",
        );
    }
    let scope = param("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return redirect_error(
            &redirect_uri,
            client_state.as_deref(),
            "invalid_scope",
            "AADSTS650053: the scope must include openid.",
        );
    }
    let challenge = param("code_challenge");
    let method = param("code_challenge_method");
    let Some(code_challenge) = challenge.filter(|_| method.as_deref() == Some("S256")) else {
        return redirect_error(
            &redirect_uri,
            client_state.as_deref(),
            "invalid_request",
            "AADSTS9002325: Proof Key for Code Exchange is required: send code_challenge with code_challenge_method=S256.",
        );
    };
    let now = state.clock.now();
    let request_id = random_token();
    if let Ok(mut requests) = state.oidc.requests.lock() {
        requests.retain(|_, r| now - r.created < Duration::minutes(CODE_LIFETIME_MINUTES));
        requests.insert(
            request_id.clone(),
            AuthRequest {
                client_id,
                redirect_uri,
                scope,
                state: client_state,
                nonce: param("nonce"),
                code_challenge,
                created: now,
            },
        );
    }
    let (domain, choices) = match state.tenant.read() {
        Ok(t) => (t.domain.clone(), persona_buttons(&t)),
        Err(_) => return refuse(50000, "The tenant is not readable."),
    };
    page(
        StatusCode::OK,
        "Sign in to your account",
        &format!(
            "<h1>Sign in</h1><p>{} — emulated Microsoft Entra ID. Choose who you are:</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"request\" value=\"{request_id}\">\
             {choices}<button name=\"cancel\" value=\"1\">Cancel</button></form>",
            plain(&domain)
        ),
    )
}

fn persona_buttons(t: &Tenant) -> String {
    t.personas
        .iter()
        .filter_map(|p| {
            let u = t.user(p.user)?;
            Some(format!(
                "<button name=\"persona\" value=\"{}\" data-persona=\"{}\"><strong>{}</strong><br>{} <small>{}</small></button>",
                p.key,
                p.key,
                p.label,
                plain(&u.display_name),
                plain(&u.user_principal_name)
            ))
        })
        .collect()
}

struct LoginForm {
    request: String,
    persona: Option<String>,
    cancel: Option<String>,
}

/// `POST /login/{tenant}/oauth2/v2.0/authorize`: the person chose (or cancelled); back to the
/// client with a code.
pub async fn login(State(state): State<SharedEntra>, body: axum::body::Bytes) -> Response {
    let mut form = LoginForm {
        request: String::new(),
        persona: None,
        cancel: None,
    };
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "request" => form.request = v.into_owned(),
            "persona" => form.persona = Some(v.into_owned()),
            "cancel" => form.cancel = Some(v.into_owned()),
            _ => {}
        }
    }
    let request = state
        .oidc
        .requests
        .lock()
        .ok()
        .and_then(|mut r| r.remove(&form.request));
    let Some(request) = request else {
        return refuse(
            50058,
            "This sign-in request has expired or was already used. Start again from the application.",
        );
    };
    if form.cancel.is_some() {
        return redirect_error(
            &request.redirect_uri,
            request.state.as_deref(),
            "access_denied",
            "AADSTS65004: The user declined to sign in.",
        );
    }
    let persona = state.tenant.read().ok().and_then(|t| {
        t.personas
            .iter()
            .position(|p| Some(p.key) == form.persona.as_deref())
    });
    let Some(persona) = persona else {
        return refuse(50034, "The chosen account does not exist in this tenant.");
    };
    let code = random_token();
    let expires = state.clock.now() + Duration::minutes(CODE_LIFETIME_MINUTES);
    let (redirect_uri, client_state) = (request.redirect_uri.clone(), request.state.clone());
    if let Ok(mut codes) = state.oidc.codes.lock() {
        codes.insert(
            code.clone(),
            Some(IssuedCode {
                request,
                persona,
                expires,
            }),
        );
    }
    match url::Url::parse(&redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().append_pair("code", &code);
            if let Some(s) = client_state {
                url.query_pairs_mut().append_pair("state", &s);
            }
            Redirect::to(url.as_str()).into_response()
        }
        Err(_) => refuse(50011, "The redirect URI is not a URL."),
    }
}

fn grant_error(code: u32, description: &str) -> TokenEndpointError {
    TokenEndpointError::new(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        code,
        description.to_string(),
    )
}

/// `grant_type=authorization_code` at the token endpoint: checks client, code, redirect URI
/// and PKCE verifier, then issues the ID token and an access token for userinfo.
pub fn exchange(
    state: &super::EntraState,
    tenant_id: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, TokenEndpointError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (client_id, secret) = client_auth(headers, form)?;
    state.tokens.authenticate(&client_id, &secret)?;
    let now = state.clock.now();
    let code = field("code").unwrap_or_default().to_string();
    // A code is redeemed once: its entry stays, emptied, so a replay is told apart.
    let issued = {
        let mut codes = state
            .oidc
            .codes
            .lock()
            .map_err(|_| grant_error(50000, "server error"))?;
        match codes.get_mut(&code) {
            None => {
                return Err(grant_error(
                    9002313,
                    "Invalid request. Request is malformed or invalid: the code is unknown.",
                ));
            }
            Some(slot) => slot.take().ok_or_else(|| {
                grant_error(
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                )
            })?,
        }
    };
    if issued.expires <= now {
        return Err(grant_error(
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        ));
    }
    if issued.request.client_id != client_id {
        return Err(grant_error(
            70000,
            "The provided value for the 'code' parameter is not valid: it was issued to another client.",
        ));
    }
    if field("redirect_uri") != Some(issued.request.redirect_uri.as_str()) {
        return Err(grant_error(
            500112,
            "The reply address does not match the reply address provided when requesting the authorization code.",
        ));
    }
    let verifier = field("code_verifier").unwrap_or_default();
    let expected =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_string()));
    if verifier.is_empty() || expected.as_str() != issued.request.code_challenge {
        return Err(grant_error(
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    let tenant = state
        .tenant
        .read()
        .map_err(|_| grant_error(50000, "server error"))?;
    let persona = tenant
        .personas
        .get(issued.persona)
        .ok_or_else(|| grant_error(50034, "The account no longer exists."))?;
    let user = tenant
        .user(persona.user)
        .ok_or_else(|| grant_error(50034, "The account no longer exists."))?;
    let access_token = random_token();
    let id_token = id_token(
        state,
        &tenant,
        persona,
        tenant_id,
        &client_id,
        issued.request.nonce.as_deref(),
        &access_token,
        now,
    )
    .map_err(|e| grant_error(50000, &e))?;
    if let Ok(mut access) = state.oidc.access.lock() {
        access.retain(|_, grant| grant.expires > now);
        access.insert(
            Sha256::digest(access_token.as_bytes()).into(),
            AccessGrant {
                persona: issued.persona,
                client_id: client_id.clone(),
                expires: now + Duration::seconds(TOKEN_LIFETIME_SECS),
            },
        );
    }
    tracing::debug!(user = %user.user_principal_name, "sandbox sign-in");
    Ok(json!({
        "token_type": "Bearer",
        "scope": issued.request.scope,
        "expires_in": TOKEN_LIFETIME_SECS,
        "ext_expires_in": TOKEN_LIFETIME_SECS,
        "access_token": access_token,
        "id_token": id_token,
    }))
}

/// Entra's `sub` is pairwise: the same person has a different subject for each app.
fn pairwise_subject(oid: &str, client_id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(format!("{oid}:{client_id}").as_bytes()))
}

#[allow(clippy::too_many_arguments)]
fn id_token(
    state: &super::EntraState,
    tenant: &Tenant,
    persona: &Persona,
    tenant_id: &str,
    client_id: &str,
    nonce: Option<&str>,
    access_token: &str,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let user = tenant
        .user(persona.user)
        .ok_or_else(|| "no such user".to_string())?;
    let groups: Vec<String> = tenant
        .groups
        .iter()
        .filter(|g| g.members.contains(&persona.user))
        .map(|g| g.id.clone())
        .collect();
    let (groups, claim_names, claim_sources) = if persona.groups_overage {
        (
            None,
            Some(json!({"groups": "src1"})),
            Some(json!({"src1": {"endpoint": format!(
                "{}/graph/v1.0/users/{}/getMemberObjects",
                state.base_url, user.id
            )}})),
        )
    } else {
        (Some(groups), None, None)
    };
    let mut standard = StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(
        pairwise_subject(&user.id, client_id),
    ))
    .set_name(Some(EndUserName::new(user.display_name.clone()).into()))
    .set_preferred_username(Some(EndUserUsername::new(user.user_principal_name.clone())));
    if let Some(mail) = &user.mail {
        standard = standard.set_email(Some(EndUserEmail::new(mail.clone())));
    }
    if let Some(given) = &user.given_name {
        standard = standard.set_given_name(Some(EndUserGivenName::new(given.clone()).into()));
    }
    if let Some(family) = &user.surname {
        standard = standard.set_family_name(Some(EndUserFamilyName::new(family.clone()).into()));
    }
    let issuer = IssuerUrl::new(issuer(state, tenant_id)).map_err(|e| e.to_string())?;
    let claims = IdTokenClaims::new(
        issuer,
        vec![Audience::new(client_id.to_string())],
        now + Duration::seconds(TOKEN_LIFETIME_SECS),
        now,
        standard,
        EntraClaims {
            oid: user.id.clone(),
            tid: tenant_id.to_string(),
            ver: "2.0".into(),
            groups,
            roles: persona.roles.clone(),
            claim_names,
            claim_sources,
        },
    )
    .set_nonce(nonce.map(|n| Nonce::new(n.to_string())))
    .set_auth_time(Some(now));
    let token = EntraIdToken::new(
        claims,
        &state.oidc.signing_key,
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

/// `GET /graph/oidc/userinfo` with the access token from the code exchange.
pub async fn userinfo(State(state): State<SharedEntra>, headers: HeaderMap) -> Response {
    let now = state.clock.now();
    let persona = crate::bearer::bearer(&headers).and_then(|token| {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let access = state.oidc.access.lock().ok()?;
        access
            .get(&digest)
            .filter(|grant| grant.expires > now)
            .map(|grant| (grant.persona, grant.client_id.clone()))
    });
    let Some((persona, client_id)) = persona else {
        return super::GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is missing, unknown or expired.".into(),
        )
        .into_response();
    };
    let Ok(tenant) = state.tenant.read() else {
        return super::GraphError::internal("the tenant's lock is poisoned").into_response();
    };
    let Some(user) = tenant
        .personas
        .get(persona)
        .and_then(|p| tenant.user(p.user))
    else {
        return super::GraphError::internal("the account no longer exists").into_response();
    };
    axum::Json(json!({
        "sub": pairwise_subject(&user.id, &client_id),
        "name": user.display_name,
        "given_name": user.given_name,
        "family_name": user.surname,
        "email": user.mail,
        "picture": format!("{}/graph/v1.0/me/photo/$value", state.base_url),
    }))
    .into_response()
}

/// `GET /login/{tenant}/oauth2/v2.0/logout`: with `post_logout_redirect_uri` registered for the
/// client named by `id_token_hint` (its `aud`, read without checking the signature, as a hint
/// is), back there with `state`; otherwise a "signed out" page.
pub async fn logout(
    State(state): State<SharedEntra>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let audience = param("id_token_hint")
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
        .or_else(|| param("client_id").map(str::to_string));
    if let (Some(uri), Some(client)) = (param("post_logout_redirect_uri"), audience)
        && state.tokens.redirect_allowed(&client, uri) == Some(true)
        && let Ok(mut url) = url::Url::parse(uri)
    {
        if let Some(s) = param("state") {
            url.query_pairs_mut().append_pair("state", s);
        }
        return Redirect::to(url.as_str()).into_response();
    }
    page(
        StatusCode::OK,
        "Signed out",
        "<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>",
    )
}
