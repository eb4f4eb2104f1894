//! Sign-in for people: the environment's OpenID Connect provider ([`crate::oidc`]) at PingOne's
//! paths on the auth host (issuer `https://auth.pingone.<tld>/{envId}/as`):
//!
//! - discovery: `/{envId}/as/.well-known/openid-configuration`
//! - authorize: `/{envId}/as/authorize` — the login page lists the seeded personas
//! - token: `/{envId}/as/token` with `grant_type=authorization_code` (PKCE S256 required; the
//!   same endpoint serves worker apps' client credentials)
//! - JWKS: `/{envId}/as/jwks`; userinfo: `/{envId}/as/userinfo`; sign-off: `/{envId}/as/signoff`
//!
//! ID tokens carry PingOne's core claims (`sub` = the user id, `env`, `org`, `p1.region`, `sid`,
//! `acr` = the sign-on policy, `amr`, `auth_time`), the profile and email claims, and what
//! Tessera's OIDC application maps in as custom claims: `groups` (the user's
//! `memberOfGroupNames`) and `roles` (a multi-valued custom user attribute).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, Audience, AuthenticationContextClass, AuthenticationMethodReference,
    EndUserEmail, EndUserFamilyName, EndUserGivenName, EndUserName, EndUserUsername, IdToken,
    IdTokenClaims, IssuerUrl, Nonce, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::environment::{Environment, P1Persona};
use super::{PingOneState, SharedPingOne, oauth_error};
use crate::entra::token::client_auth;
use crate::oidc::{Choice, Refusal, TOKEN_LIFETIME_SECS};

/// The sign-on policy every sign-in completes (the `acr` claim).
pub const SIGN_ON_POLICY: &str = "Single_Factor";
/// The region the emulated environment lives in (`p1.region`).
pub const REGION: &str = "NA";

/// PingOne's extra ID token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingOneClaims {
    pub env: String,
    pub org: String,
    #[serde(rename = "p1.region")]
    pub region: String,
    pub sid: String,
    /// Custom claim: the user's group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Custom claim: Tessera's roles.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl AdditionalClaims for PingOneClaims {}

pub type PingOneIdToken = IdToken<
    PingOneClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// How PingOne words a refusal.
fn wording(refusal: Refusal) -> String {
    match refusal {
        Refusal::MissingClientId => "Request denied: client_id is required".into(),
        Refusal::MissingRedirectUri => "Request denied: redirect_uri is required".into(),
        Refusal::UnknownClient => "Request denied: the application (client_id) was not found in this environment".into(),
        Refusal::RedirectMismatch => "Redirect URI mismatch: the redirect_uri is not one of the application's redirect URIs".into(),
        Refusal::BadRedirectUri => "Request denied: the redirect_uri is not a valid URL".into(),
        Refusal::ResponseType => "Request denied: Unsupported response_type (only code is enabled for this application)".into(),
        Refusal::Scope => "Request denied: the scope must include openid".into(),
        Refusal::Pkce => "Request denied: PKCE is required for this application (code_challenge with code_challenge_method S256)".into(),
        Refusal::RequestGone => "The sign-on flow has expired or was already completed. Start again from the application.".into(),
        Refusal::UnknownPersona => "The chosen user does not exist in this environment.".into(),
        Refusal::Declined => "The user cancelled the sign-on".into(),
        Refusal::UnknownCode => "Request denied: the authorization code is invalid".into(),
        Refusal::CodeRedeemed => "Request denied: the authorization code was already used".into(),
        Refusal::CodeExpired => "Request denied: the authorization code has expired".into(),
        Refusal::OtherClient => "Request denied: the authorization code was issued to another application".into(),
        Refusal::ReplyAddressMismatch => "Request denied: redirect_uri does not match the authorization request".into(),
        Refusal::VerifierMismatch => "Request denied: code_verifier does not match the code_challenge".into(),
        Refusal::AccountGone => "Request denied: the user no longer exists".into(),
        Refusal::ServerError => "An unexpected error occurred".into(),
    }
}

fn issuer(state: &PingOneState, env: &str) -> String {
    format!("{}/pingone/auth/{env}/as", state.base_url)
}

fn unknown_environment(env: &str) -> Response {
    crate::oidc::error_page(&format!(
        "The environment {env} does not exist (check the environment id in the URL)."
    ))
}

/// `GET /{envId}/as/.well-known/openid-configuration`
pub async fn discovery(State(state): State<SharedPingOne>, Path(env): Path<String>) -> Response {
    if env != state.environment_id() {
        return super::ApiError::not_found("environment").into_response();
    }
    let base = issuer(&state, &env);
    axum::Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "end_session_endpoint": format!("{base}/signoff"),
        "introspection_endpoint": format!("{base}/introspect"),
        "revocation_endpoint": format!("{base}/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "address", "phone"],
        "claims_supported": ["sub", "iss", "auth_time", "acr", "amr", "sid", "env", "org", "p1.region", "name", "given_name", "family_name", "preferred_username", "email", "groups", "roles"],
        "request_parameter_supported": false,
        "claims_parameter_supported": false,
    }))
    .into_response()
}

/// `GET /{envId}/as/jwks`
pub async fn jwks(State(state): State<SharedPingOne>) -> Response {
    axum::Json(state.oidc.jwks().clone()).into_response()
}

/// `GET /{envId}/as/authorize`: checks the request and shows the login page.
pub async fn authorize(
    State(state): State<SharedPingOne>,
    Path(env): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if env != state.environment_id() {
        return unknown_environment(&env);
    }
    let request = match state
        .oidc
        .authorize(&query, state.clock.now(), |client, uri| {
            state.tokens.redirect_allowed(client, uri)
        }) {
        Ok(id) => id,
        Err(refused) => return refused.respond(wording),
    };
    let Ok(e) = state.environment.read() else {
        return crate::oidc::error_page(&wording(Refusal::ServerError));
    };
    let choices: Vec<Choice<'_>> = e
        .personas
        .iter()
        .filter_map(|p| {
            let u = e.user(p.user)?;
            Some(Choice {
                key: p.key,
                label: p.label,
                name: full_name(&u.given, u.family.as_deref()),
                username: &u.username,
            })
        })
        .collect();
    crate::oidc::login_page(
        &format!("{} — emulated PingOne.", e.name),
        &request,
        &choices,
    )
}

fn full_name(given: &str, family: Option<&str>) -> String {
    match family {
        Some(f) => format!("{given} {f}"),
        None => given.to_string(),
    }
}

/// `POST /{envId}/as/authorize`: the person chose (or cancelled).
pub async fn login(State(state): State<SharedPingOne>, body: axum::body::Bytes) -> Response {
    let known = |key: &str| {
        state
            .environment
            .read()
            .is_ok_and(|e| e.personas.iter().any(|p| p.key == key))
    };
    match state.oidc.choose(&body, state.clock.now(), known) {
        Ok(back) => back,
        Err(refused) => refused.respond(wording),
    }
}

fn grant_error(refusal: Refusal) -> Response {
    let status = match refusal {
        Refusal::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    oauth_error(status, refusal.error(), &wording(refusal))
}

/// `grant_type=authorization_code` at `/{envId}/as/token`.
pub fn exchange(state: &PingOneState, headers: &HeaderMap, form: &[(String, String)]) -> Response {
    let authenticated = client_auth(headers, form)
        .ok()
        .filter(|(id, secret)| state.tokens.authenticate(id, secret).is_ok());
    let Some((client_id, _)) = authenticated else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Request denied: Invalid client credentials (the client id or secret is wrong)",
        );
    };
    let now = state.clock.now();
    let redeemed = match state.oidc.redeem(form, &client_id, now) {
        Ok(r) => r,
        Err(refusal) => return grant_error(refusal),
    };
    let Ok(e) = state.environment.read() else {
        return grant_error(Refusal::ServerError);
    };
    let Some(persona) = e.personas.iter().find(|p| p.key == redeemed.persona) else {
        return grant_error(Refusal::AccountGone);
    };
    let access_token = state.oidc.grant_access(persona.key, &client_id, now);
    let signed = id_token_claims(
        state,
        &e,
        persona,
        &client_id,
        redeemed.nonce.as_deref(),
        now,
    )
    .and_then(|claims| state.oidc.sign(claims, &access_token));
    let Ok(id_token) = signed else {
        return grant_error(Refusal::ServerError);
    };
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "scope": redeemed.scope,
        "id_token": id_token,
    }))
    .into_response()
}

fn id_token_claims(
    state: &PingOneState,
    e: &Environment,
    persona: &P1Persona,
    client_id: &str,
    nonce: Option<&str>,
    now: DateTime<Utc>,
) -> Result<IdTokenClaims<PingOneClaims, CoreGenderClaim>, String> {
    let user = e
        .user(persona.user)
        .ok_or_else(|| "no such user".to_string())?;
    let groups = e
        .groups_of(persona.user)
        .into_iter()
        .filter_map(|g| e.group(g).map(|g| g.name.clone()))
        .collect();
    let mut standard =
        StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(user.id.clone()))
            .set_name(Some(
                EndUserName::new(full_name(&user.given, user.family.as_deref())).into(),
            ))
            .set_preferred_username(Some(EndUserUsername::new(user.username.clone())))
            .set_email(Some(EndUserEmail::new(user.email.clone())))
            .set_given_name(Some(EndUserGivenName::new(user.given.clone()).into()));
    if let Some(family) = &user.family {
        standard = standard.set_family_name(Some(EndUserFamilyName::new(family.clone()).into()));
    }
    let claims = IdTokenClaims::new(
        IssuerUrl::new(issuer(state, &e.id)).map_err(|e| e.to_string())?,
        vec![Audience::new(client_id.to_string())],
        now + Duration::seconds(TOKEN_LIFETIME_SECS),
        now,
        standard,
        PingOneClaims {
            env: e.id.clone(),
            org: e.organization_id.clone(),
            region: REGION.to_string(),
            sid: uuid::Uuid::new_v4().to_string(),
            groups,
            roles: persona.roles.clone(),
        },
    )
    .set_nonce(nonce.map(|n| Nonce::new(n.to_string())))
    .set_auth_time(Some(now))
    .set_auth_context_ref(Some(AuthenticationContextClass::new(
        SIGN_ON_POLICY.to_string(),
    )))
    .set_auth_method_refs(Some(vec![AuthenticationMethodReference::new(
        "pwd".to_string(),
    )]));
    Ok(claims)
}

/// `GET /{envId}/as/userinfo` with the access token from the code exchange.
pub async fn userinfo(State(state): State<SharedPingOne>, headers: HeaderMap) -> Response {
    let holder = crate::bearer::bearer(&headers)
        .and_then(|token| state.oidc.holder(token, state.clock.now()));
    let Some((persona, _client)) = holder else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is missing, invalid or expired",
        );
    };
    let Ok(e) = state.environment.read() else {
        return grant_error(Refusal::ServerError);
    };
    let Some(user) = e
        .personas
        .iter()
        .find(|p| p.key == persona)
        .and_then(|p| e.user(p.user))
    else {
        return grant_error(Refusal::AccountGone);
    };
    let body: Value = json!({
        "sub": user.id,
        "preferred_username": user.username,
        "name": full_name(&user.given, user.family.as_deref()),
        "given_name": user.given,
        "family_name": user.family,
        "email": user.email,
        "env": e.id,
        "org": e.organization_id,
        "p1.region": REGION,
    });
    axum::Json(body).into_response()
}

/// `GET /{envId}/as/signoff`: back to a registered `post_logout_redirect_uri` with `state`,
/// otherwise a "signed off" page.
pub async fn signoff(
    State(state): State<SharedPingOne>,
    Path(env): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if env != state.environment_id() {
        return unknown_environment(&env);
    }
    crate::oidc::end_session(
        &query,
        |client, uri| state.tokens.redirect_allowed(client, uri),
        "<h1>You are signed off</h1><p>Close the browser to end any other sessions.</p>",
    )
}
