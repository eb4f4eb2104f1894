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
//! The provider itself is [`crate::oidc`]; this module gives it Entra's paths, AADSTS wording
//! and claims: `oid`, `tid`, `preferred_username`,
//! `name`, `email`, `groups` (object ids) or, for the many-groups persona, the overage
//! indicator `_claim_names`/`_claim_sources`, and `roles` (Tessera's app roles).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, Audience, EndUserEmail, EndUserFamilyName, EndUserGivenName, EndUserName,
    EndUserUsername, IdToken, IdTokenClaims, IssuerUrl, Nonce, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::SharedEntra;
use super::tenant::{Persona, Tenant};
use super::token::{TokenEndpointError, client_auth};
use crate::oidc::{Choice, Refusal, TOKEN_LIFETIME_SECS};

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

/// Entra's AADSTS code and sentence for a refusal.
fn aadsts(refusal: Refusal) -> (u32, &'static str) {
    match refusal {
        Refusal::MissingClientId => (900144, "The request must contain the parameter client_id."),
        Refusal::MissingRedirectUri => (
            900144,
            "The request must contain the parameter redirect_uri.",
        ),
        Refusal::UnknownClient => (
            700016,
            "Application with the identifier in client_id was not found in the directory.",
        ),
        Refusal::RedirectMismatch => (
            50011,
            "The redirect URI specified in the request does not match the redirect URIs configured for the application.",
        ),
        Refusal::BadRedirectUri => (50011, "The redirect URI is not a URL."),
        Refusal::ResponseType => (700054, "this provider serves response_type=code only."),
        Refusal::Scope => (650053, "the scope must include openid."),
        Refusal::Pkce => (
            9002325,
            "Proof Key for Code Exchange is required: send code_challenge with code_challenge_method=S256.",
        ),
        Refusal::RequestGone => (
            50058,
            "This sign-in request has expired or was already used. Start again from the application.",
        ),
        Refusal::UnknownPersona => (50034, "The chosen account does not exist in this tenant."),
        Refusal::Declined => (65004, "The user declined to sign in."),
        Refusal::UnknownCode => (
            9002313,
            "Invalid request. Request is malformed or invalid: the code is unknown.",
        ),
        Refusal::CodeRedeemed => (
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        ),
        Refusal::CodeExpired => (
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        ),
        Refusal::OtherClient => (
            70000,
            "The provided value for the 'code' parameter is not valid: it was issued to another client.",
        ),
        Refusal::ReplyAddressMismatch => (
            500112,
            "The reply address does not match the reply address provided when requesting the authorization code.",
        ),
        Refusal::VerifierMismatch => (
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ),
        Refusal::AccountGone => (50034, "The account no longer exists."),
        Refusal::ServerError => (50000, "There was an error signing you in."),
    }
}

fn wording(refusal: Refusal) -> String {
    let (code, sentence) = aadsts(refusal);
    format!("AADSTS{code}: {sentence}")
}

fn issuer(state: &super::EntraState, tenant: &str) -> String {
    format!("{}/login/{tenant}/v2.0", state.base_url)
}

/// Whether the path's tenant is this tenant (id or domain).
fn our_tenant(state: &super::EntraState, tenant: &str) -> Option<String> {
    let t = state.tenant.read().ok()?;
    (tenant == t.tenant_id || tenant.eq_ignore_ascii_case(&t.domain)).then(|| t.tenant_id.clone())
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
    axum::Json(state.oidc.jwks().clone()).into_response()
}

/// `GET /login/{tenant}/oauth2/v2.0/authorize`: checks the request and shows the login page.
pub async fn authorize(
    State(state): State<SharedEntra>,
    Path(tenant): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if our_tenant(&state, &tenant).is_none() {
        return crate::oidc::error_page(&format!("AADSTS90002: Tenant {tenant} not found."));
    }
    let request = match state
        .oidc
        .authorize(&query, state.clock.now(), |client, uri| {
            state.tokens.redirect_allowed(client, uri)
        }) {
        Ok(id) => id,
        Err(refused) => return refused.respond(wording),
    };
    let Ok(t) = state.tenant.read() else {
        return crate::oidc::error_page(&wording(Refusal::ServerError));
    };
    let choices: Vec<Choice<'_>> = t
        .personas
        .iter()
        .filter_map(|p| {
            let u = t.user(p.user)?;
            Some(Choice {
                key: p.key,
                label: p.label,
                name: u.display_name.clone(),
                username: &u.user_principal_name,
            })
        })
        .collect();
    crate::oidc::login_page(
        &format!("{} — emulated Microsoft Entra ID.", t.domain),
        &request,
        &choices,
    )
}

/// `POST /login/{tenant}/oauth2/v2.0/authorize`: the person chose (or cancelled); back to the
/// client with a code.
pub async fn login(State(state): State<SharedEntra>, body: axum::body::Bytes) -> Response {
    let known = |key: &str| {
        state
            .tenant
            .read()
            .is_ok_and(|t| t.personas.iter().any(|p| p.key == key))
    };
    match state.oidc.choose(&body, state.clock.now(), known) {
        Ok(back) => back,
        Err(refused) => refused.respond(wording),
    }
}

fn grant_error(refusal: Refusal) -> TokenEndpointError {
    let (code, sentence) = aadsts(refusal);
    let status = if refusal == Refusal::ServerError {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    TokenEndpointError::new(status, refusal.error(), code, sentence.to_string())
}

/// `grant_type=authorization_code` at the token endpoint: checks client, code, redirect URI
/// and PKCE verifier, then issues the ID token and an access token for userinfo.
pub fn exchange(
    state: &super::EntraState,
    tenant_id: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, TokenEndpointError> {
    let (client_id, secret) = client_auth(headers, form)?;
    state.tokens.authenticate(&client_id, &secret)?;
    let now = state.clock.now();
    let redeemed = state
        .oidc
        .redeem(form, &client_id, now)
        .map_err(grant_error)?;
    let tenant = state
        .tenant
        .read()
        .map_err(|_| grant_error(Refusal::ServerError))?;
    let persona = tenant
        .personas
        .iter()
        .find(|p| p.key == redeemed.persona)
        .ok_or(grant_error(Refusal::AccountGone))?;
    let user = tenant
        .user(persona.user)
        .ok_or(grant_error(Refusal::AccountGone))?;
    let access_token = state.oidc.grant_access(persona.key, &client_id, now);
    let claims = id_token_claims(
        state,
        &tenant,
        persona,
        tenant_id,
        &client_id,
        redeemed.nonce.as_deref(),
        now,
    )
    .map_err(|_| grant_error(Refusal::ServerError))?;
    let id_token = state
        .oidc
        .sign(claims, &access_token)
        .map_err(|_| grant_error(Refusal::ServerError))?;
    tracing::debug!(user = %user.user_principal_name, "sandbox sign-in");
    Ok(json!({
        "token_type": "Bearer",
        "scope": redeemed.scope,
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

fn id_token_claims(
    state: &super::EntraState,
    tenant: &Tenant,
    persona: &Persona,
    tenant_id: &str,
    client_id: &str,
    nonce: Option<&str>,
    now: DateTime<Utc>,
) -> Result<IdTokenClaims<EntraClaims, CoreGenderClaim>, String> {
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
    Ok(claims)
}

/// `GET /graph/oidc/userinfo` with the access token from the code exchange.
pub async fn userinfo(State(state): State<SharedEntra>, headers: HeaderMap) -> Response {
    let holder = crate::bearer::bearer(&headers)
        .and_then(|token| state.oidc.holder(token, state.clock.now()));
    let Some((persona, client_id)) = holder else {
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
        .iter()
        .find(|p| p.key == persona)
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

/// `GET /login/{tenant}/oauth2/v2.0/logout`: back to a registered `post_logout_redirect_uri`
/// with `state`, otherwise a "signed out" page.
pub async fn logout(
    State(state): State<SharedEntra>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    crate::oidc::end_session(
        &query,
        |client, uri| state.tokens.redirect_allowed(client, uri),
        "<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>",
    )
}
