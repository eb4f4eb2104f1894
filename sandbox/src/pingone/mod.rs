//! Emulated PingIdentity PingOne: the worker-app token endpoint, the Platform API over an
//! environment made from a seeded organisation's IdP side (users, groups, group memberships,
//! the SAML application and its signing key, the propagation plan, store, rule and mappings,
//! per-user synced rules), the SAML metadata of the "AWS Single Sign-On" app, and propagation:
//! the rule's users and groups carried into the sandbox's Identity Center through its SCIM
//! endpoint within seconds of a change.
//!
//! Paths on the sandbox's port mirror the real hosts: `/pingone/auth/{envId}/...` is
//! `https://auth.pingone.com/{envId}/...` and `/pingone/api/v1/...` is
//! `https://api.pingone.com/v1/...`; a client changes only its two base URLs.

pub mod api;
pub mod environment;
pub mod metadata;
pub mod oidc;

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::{Value, json};

use crate::control::{NewToken, json_body};
use crate::entra::provisioning::{Execution, Provisioning};
use crate::entra::token::{Tokens, client_auth};
use crate::faults::{FaultKind, Faults, SandboxClock, Verdict};
use environment::Environment;

/// The fault-plan key of the Platform API (and the token endpoint).
pub const FAULT_KEY: &str = "pingone";

/// Lifetime of a worker token, in seconds (PingOne's default).
pub const TOKEN_LIFETIME_SECS: i64 = 3600;

/// How often propagation looks for changes (sandbox clock): PingOne propagates within seconds.
pub const PROPAGATION_EVERY_SECS: i64 = 5;

/// Worker-app roles the sandbox knows, as permission names.
pub const ROLE_IDENTITY_DATA_READ_ONLY: &str = "Identity Data Read Only";
pub const ROLE_IDENTITY_DATA_ADMIN: &str = "Identity Data Admin";
pub const ROLE_ENVIRONMENT_ADMIN: &str = "Environment Admin";
/// What Tessera's worker app is given: read the directory and the propagation setup, write
/// group memberships.
pub const WORKER_ROLES: &[&str] = &[ROLE_IDENTITY_DATA_ADMIN, ROLE_ENVIRONMENT_ADMIN];

/// What the PingOne endpoints serve from.
#[derive(Debug)]
pub struct PingOneState {
    pub environment: RwLock<Environment>,
    /// Worker applications and their tokens.
    pub tokens: Tokens,
    /// The propagation rule's provisioning into Identity Center.
    pub propagation: Provisioning,
    /// People's sign-in (OpenID Connect).
    pub oidc: crate::oidc::Provider,
    /// `http://<sandbox address>`.
    pub base_url: String,
    pub faults: Arc<Faults>,
    pub clock: Arc<SandboxClock>,
    limiter: DefaultDirectRateLimiter,
    limiter_clock: DefaultClock,
}

pub type SharedPingOne = Arc<PingOneState>;

impl PingOneState {
    pub fn new(
        environment: Environment,
        propagation: Provisioning,
        faults: Arc<Faults>,
        clock: Arc<SandboxClock>,
        per_second: NonZeroU32,
        base_url: String,
    ) -> Result<Self, String> {
        Ok(Self {
            environment: RwLock::new(environment),
            tokens: Tokens::default(),
            propagation,
            oidc: crate::oidc::Provider::new()?,
            base_url,
            faults,
            clock,
            limiter: RateLimiter::direct(Quota::per_second(per_second)),
            limiter_clock: DefaultClock::default(),
        })
    }

    pub fn environment(&self) -> Result<RwLockReadGuard<'_, Environment>, ApiError> {
        self.environment
            .read()
            .map_err(|_| ApiError::internal("the environment's lock is poisoned"))
    }

    pub fn environment_mut(&self) -> Result<RwLockWriteGuard<'_, Environment>, ApiError> {
        self.environment
            .write()
            .map_err(|_| ApiError::internal("the environment's lock is poisoned"))
    }

    pub fn environment_id(&self) -> String {
        self.environment
            .read()
            .map(|e| e.id.clone())
            .unwrap_or_default()
    }

    /// Runs propagation now (sandbox clock). An inactive rule provisions nothing.
    pub async fn run_propagation(&self) -> Option<Execution> {
        let plan = {
            let env = self.environment.read().ok()?;
            if !env.propagation.rule.active {
                return None;
            }
            env.plan()
        };
        Some(
            self.propagation
                .run_plan(Some(plan), self.clock.now())
                .await,
        )
    }
}

/// A Platform API error: `{"id", "code", "message", "details": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Value>,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_detail(mut self, code: &str, target: &str, message: impl Into<String>) -> Self {
        self.details
            .push(json!({"code": code, "target": target, "message": message.into()}));
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    pub fn invalid_data(target: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "The request could not be completed. One or more validation errors were in the request.",
        )
        .with_detail("INVALID_VALUE", target, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Unable to find {what}."),
        )
    }

    pub fn internal(message: &str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_SERVER_ERROR",
            message.to_string(),
        )
    }

    pub fn throttled(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "REQUEST_LIMITED",
                "The request was rate limited. Retry after the time in the Retry-After header.",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "code": self.code,
            "message": self.message,
        });
        if !self.details.is_empty()
            && let Some(o) = body.as_object_mut()
        {
            o.insert("details".into(), Value::Array(self.details));
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
        }
        response
    }
}

/// The PingOne routes, with their state.
pub fn router(state: SharedPingOne) -> Router {
    Router::new()
        .route("/pingone/auth/{env}/as/token", post(token_handler))
        .route(
            "/pingone/auth/{env}/as/.well-known/openid-configuration",
            get(oidc::discovery),
        )
        .route(
            "/pingone/auth/{env}/as/authorize",
            get(oidc::authorize).post(oidc::login),
        )
        .route("/pingone/auth/{env}/as/jwks", get(oidc::jwks))
        .route("/pingone/auth/{env}/as/userinfo", get(oidc::userinfo))
        .route("/pingone/auth/{env}/as/signoff", get(oidc::signoff))
        .route(
            "/pingone/auth/{env}/saml20/metadata/{app}",
            get(metadata::handler),
        )
        .route(
            "/pingone/api/v1/environments/{env}/{*path}",
            any(api_handler),
        )
        .route("/_sandbox/pingone/propagation/run", post(run_propagation))
        .route("/_sandbox/pingone/propagation/token", put(set_token))
        .route("/_sandbox/pingone/workers", post(register_worker))
        .with_state(state)
}

/// Latency and injected failures from the `pingone` fault plan.
async fn faults(state: &PingOneState) -> Option<Response> {
    let (latency, verdict) = state.faults.decide(FAULT_KEY);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match verdict {
        Verdict::Serve => None,
        Verdict::Unavailable => Some(
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Service unavailable (sandbox outage).",
            )
            .into_response(),
        ),
        Verdict::Fail(FaultKind::Throttle) => Some(ApiError::throttled(1).into_response()),
        Verdict::Fail(FaultKind::InternalError) => {
            Some(ApiError::internal("Internal server error (sandbox fault).").into_response())
        }
        Verdict::Fail(FaultKind::DropConnection) => Some(crate::aws::dropped_connection()),
    }
}

/// An OAuth error from the token endpoint (`{"error", "error_description"}`).
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /{envId}/as/token`: client credentials for worker apps (client_secret_basic or
/// client_secret_post).
async fn token_handler(
    State(state): State<SharedPingOne>,
    Path(env): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = faults(&state).await {
        return fault;
    }
    if env != state.environment_id() {
        return ApiError::not_found("environment").into_response();
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let grant = form
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.as_str());
    match grant {
        Some("client_credentials") => {}
        Some("authorization_code") => return oidc::exchange(&state, &headers, &form),
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Request denied: Unsupported grant_type (client_credentials for worker applications, authorization_code for sign-in)",
            );
        }
    }
    let Ok((client_id, client_secret)) = client_auth(&headers, &form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Request denied: Unsupported authentication method",
        );
    };
    match state.tokens.issue(
        &client_id,
        &client_secret,
        state.clock.now(),
        TOKEN_LIFETIME_SECS,
    ) {
        Ok(token) => axum::Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECS,
        }))
        .into_response(),
        Err(_) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Request denied: Invalid client credentials (the client id or secret is wrong)",
        ),
    }
}

async fn api_handler(
    State(state): State<SharedPingOne>,
    Path((env, path)): Path<(String, String)>,
    method: Method,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = faults(&state).await {
        return fault;
    }
    let granted = match state.tokens.check(&headers, state.clock.now()) {
        Ok(g) => g,
        Err(_) => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "ACCESS_FAILED",
                "The request could not be completed. The access token is missing, unknown or expired.",
            )
            .into_response();
        }
    };
    if env != state.environment_id() {
        return ApiError::not_found("environment").into_response();
    }
    if let Err(not_until) = state.limiter.check() {
        let wait: StdDuration = not_until.wait_time_from(state.limiter_clock.now());
        return ApiError::throttled(wait.as_secs().max(1)).into_response();
    }
    let Ok(Query(query)) = query else {
        return ApiError::invalid_request("The query string is not valid.").into_response();
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}/pingone/api/v1/environments/{env}");
    let request = api::Request {
        base: &base,
        roles: &granted.permissions,
        method: &method,
        path: &path,
        query: &query,
        body: &body,
    };
    match api::route(&state, &request).await {
        Ok((status, Some(body))) => (status, axum::Json(body)).into_response(),
        Ok((status, None)) => status.into_response(),
        Err(e) => e.into_response(),
    }
}

// ---- control API (loopback test controls, like the rest of `/_sandbox/`) ----------------------

/// `POST /_sandbox/pingone/propagation/run`: propagate now; answers what the run did.
async fn run_propagation(State(state): State<SharedPingOne>) -> Response {
    match state.run_propagation().await {
        Some(e) => axum::Json(json!({
            "state": format!("{:?}", e.state),
            "exports": e.exports,
            "exported": e.exported,
            "failed": e.escrowed,
            "error": e.error.map(|e| e.message),
        }))
        .into_response(),
        None => (
            StatusCode::CONFLICT,
            axum::Json(json!({"error": "the propagation rule is not active"})),
        )
            .into_response(),
    }
}

/// `PUT /_sandbox/pingone/propagation/token {"token"}`: the admin pastes a new OAuth Access
/// Token into the SCIM connection.
async fn set_token(State(state): State<SharedPingOne>, body: Bytes) -> Response {
    match json_body::<NewToken>(&body, "{\"token\": \"<SCIM token>\"}") {
        Ok(t) => {
            state.propagation.set_token(t.token, state.clock.now());
            StatusCode::NO_CONTENT.into_response()
        }
        Err(bad) => bad.into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWorker {
    #[serde(default)]
    roles: Vec<String>,
}

/// `POST /_sandbox/pingone/workers {"roles": [...]}`: a worker app with those roles; answers
/// its client id and secret.
async fn register_worker(State(state): State<SharedPingOne>, body: Bytes) -> Response {
    match json_body::<NewWorker>(&body, "{\"roles\": [\"Identity Data Admin\", ...]}") {
        Ok(w) => {
            let roles: Vec<&str> = w.roles.iter().map(String::as_str).collect();
            (
                StatusCode::CREATED,
                axum::Json(state.tokens.register(&roles, &[])),
            )
                .into_response()
        }
        Err(bad) => bad.into_response(),
    }
}

/// Propagates when due on the sandbox clock (checked five times a second, so tests advance the
/// clock instead of sleeping).
pub fn spawn_schedule(state: SharedPingOne) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(StdDuration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if state.propagation.due(state.clock.now())
                && let Some(execution) = state.run_propagation().await
            {
                tracing::debug!(
                    state = ?execution.state,
                    exported = execution.exported,
                    failed = execution.escrowed,
                    "pingone propagation"
                );
            }
        }
    })
}
