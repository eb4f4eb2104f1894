//! Emulated Microsoft Entra ID: the identity platform's token endpoint for apps, Microsoft Graph
//! v1.0 over a tenant made from a seeded organisation's IdP side, and the provisioning service
//! that carries the "AWS IAM Identity Center" app's scope into the sandbox's Identity Center
//! through its SCIM endpoint on a schedule.
//!
//! Paths on the sandbox's port mirror the real hosts: `/login/{tenant}/oauth2/v2.0/token` is
//! `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`, and `/graph/v1.0/...` is
//! `https://graph.microsoft.com/v1.0/...`; a client changes only its two base URLs.

pub mod graph;
pub mod oidc;
pub mod provisioning;
pub mod tenant;
pub mod token;

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use chrono::Utc;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::json;

use crate::control::{NewToken, json_body};
use crate::faults::{FaultKind, Faults, SandboxClock, Verdict};
use provisioning::Provisioning;
use tenant::Tenant;
use token::Tokens;

/// The fault-plan key of Microsoft Graph (and the token endpoint).
pub const FAULT_KEY: &str = "graph";

/// What the Entra endpoints serve from.
#[derive(Debug)]
pub struct EntraState {
    pub tenant: RwLock<Tenant>,
    pub tokens: Tokens,
    /// OpenID Connect sign-in for the tenant's people.
    pub oidc: crate::oidc::Provider,
    /// `http://<sandbox address>`: issuer and endpoint URLs are built on it.
    pub base_url: String,
    pub provisioning: Provisioning,
    pub faults: Arc<Faults>,
    pub clock: Arc<SandboxClock>,
    /// Graph requests per second for the tenant (429 with Retry-After beyond).
    limiter: DefaultDirectRateLimiter,
    limiter_clock: DefaultClock,
}

pub type SharedEntra = Arc<EntraState>;

impl EntraState {
    /// Fails only when the OIDC signing key cannot be made.
    pub fn new(
        tenant: Tenant,
        provisioning: Provisioning,
        faults: Arc<Faults>,
        clock: Arc<SandboxClock>,
        graph_per_second: NonZeroU32,
        base_url: String,
    ) -> Result<Self, String> {
        Ok(Self {
            tenant: RwLock::new(tenant),
            tokens: Tokens::default(),
            oidc: crate::oidc::Provider::new()?,
            base_url,
            provisioning,
            faults,
            clock,
            limiter: RateLimiter::direct(Quota::per_second(graph_per_second)),
            limiter_clock: DefaultClock::default(),
        })
    }

    pub fn tenant(&self) -> Result<RwLockReadGuard<'_, Tenant>, GraphError> {
        self.tenant
            .read()
            .map_err(|_| GraphError::internal("the tenant's lock is poisoned"))
    }

    pub fn tenant_mut(&self) -> Result<RwLockWriteGuard<'_, Tenant>, GraphError> {
        self.tenant
            .write()
            .map_err(|_| GraphError::internal("the tenant's lock is poisoned"))
    }

    pub fn tenant_id(&self) -> String {
        self.tenant
            .read()
            .map(|t| t.tenant_id.clone())
            .unwrap_or_default()
    }

    /// Runs a provisioning cycle now (sandbox clock).
    pub async fn run_provisioning(&self) -> provisioning::Execution {
        self.provisioning.run(&self.tenant, self.clock.now()).await
    }
}

/// A Graph error: `{"error": {"code", "message", "innerError": {...}}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Self {
            status,
            code,
            message,
            retry_after: None,
        }
    }

    pub fn bad_request(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    pub fn internal(message: &str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message.to_string(),
        )
    }

    pub fn throttled(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests. Please retry after the time in the Retry-After header."
                    .to_string(),
            )
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": request_id,
                    "client-request-id": request_id,
                }
            }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("request-id", v.clone());
            headers.insert("client-request-id", v);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert("retry-after", HeaderValue::from(seconds));
        }
        response
    }
}

/// The Entra routes, with their state.
pub fn router(state: SharedEntra) -> Router {
    Router::new()
        .route("/login/{tenant}/oauth2/v2.0/token", post(token_handler))
        .route(
            "/login/{tenant}/v2.0/.well-known/openid-configuration",
            get(oidc::discovery),
        )
        .route(
            "/login/{tenant}/oauth2/v2.0/authorize",
            get(oidc::authorize).post(oidc::login),
        )
        .route("/login/{tenant}/discovery/v2.0/keys", get(oidc::jwks))
        .route(
            "/login/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
            get(federation_metadata),
        )
        .route("/login/{tenant}/oauth2/v2.0/logout", get(oidc::logout))
        .route("/graph/oidc/userinfo", get(oidc::userinfo))
        .route("/graph/v1.0/{*path}", any(graph_handler))
        .route("/_sandbox/entra/provisioning/run", post(run_provisioning))
        .route(
            "/_sandbox/entra/provisioning/token",
            put(set_provisioning_token),
        )
        .route("/_sandbox/entra/apps", post(register_app))
        .with_state(state)
}

/// `GET /{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid=<appId>`: the
/// enterprise app's SAML metadata, with its signing certificate, starting with a UTF-8 BOM as
/// Entra's may, signed with the app's signing certificate.
async fn federation_metadata(
    State(state): State<SharedEntra>,
    Path(tenant): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Ok(t) = state.tenant.read() else {
        return GraphError::internal("the tenant's lock is poisoned").into_response();
    };
    if tenant != t.tenant_id && !tenant.eq_ignore_ascii_case(&t.domain) {
        return (StatusCode::NOT_FOUND, "AADSTS90002: Tenant not found.").into_response();
    }
    let sp = &t.service_principal;
    let app = query.iter().find(|(k, _)| k == "appid").map(|(_, v)| v);
    if app != Some(&sp.app_id) {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "AADSTS700016: Give appid={} (the AWS IAM Identity Center application's id).",
                sp.app_id
            ),
        )
            .into_response();
    }
    let login = format!("{}/login/{}", state.base_url, t.tenant_id);
    let signed = crate::saml::signed_idp_metadata(
        &crate::saml::IdpMetadata {
            id: &format!("_{}", sp.signing_key.key_id),
            entity_id: &format!("https://sts.windows.net/{}/", t.tenant_id),
            certificate: &sp.signing_key.certificate.base64(),
            name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            sso_url: &format!("{login}/saml2"),
            slo_url: &format!("{login}/saml2"),
        },
        &sp.signing_key.certificate.der,
    );
    let xml = match signed {
        Ok(xml) => xml,
        Err(message) => return GraphError::internal(&message).into_response(),
    };
    (
        StatusCode::OK,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/xml; charset=utf-8",
        )],
        format!("\u{feff}{xml}"),
    )
        .into_response()
}

// ---- control API (loopback test controls, like the rest of `/_sandbox/`) ----------------------

/// `POST /_sandbox/entra/provisioning/run`: one provisioning cycle now; answers the job.
async fn run_provisioning(State(state): State<SharedEntra>) -> Response {
    state.run_provisioning().await;
    axum::Json(state.provisioning.job_json()).into_response()
}

/// `PUT /_sandbox/entra/provisioning/token {"token"}`: the admin pastes a new Secret Token.
async fn set_provisioning_token(State(state): State<SharedEntra>, body: Bytes) -> Response {
    match json_body::<NewToken>(&body, "{\"token\": \"<SCIM token>\"}") {
        Ok(t) => {
            state.provisioning.set_token(t.token, state.clock.now());
            StatusCode::NO_CONTENT.into_response()
        }
        Err(bad) => bad.into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApp {
    #[serde(default)]
    permissions: Vec<String>,
    /// Sign-in redirect URIs (also allowed after sign-out).
    #[serde(default)]
    redirect_uris: Vec<String>,
}

/// `POST /_sandbox/entra/apps {"permissions": [...]}`: registers an app with those application
/// permissions (admin-consented) and answers its client id and secret.
async fn register_app(State(state): State<SharedEntra>, body: Bytes) -> Response {
    match json_body::<NewApp>(&body, "{\"permissions\": [\"User.Read.All\", ...]}") {
        Ok(app) => {
            let permissions: Vec<&str> = app.permissions.iter().map(String::as_str).collect();
            (
                StatusCode::CREATED,
                axum::Json(state.tokens.register(&permissions, &app.redirect_uris)),
            )
                .into_response()
        }
        Err(bad) => bad.into_response(),
    }
}

/// Latency and injected failures from the `graph` fault plan.
async fn faults(state: &EntraState) -> Option<Response> {
    let (latency, verdict) = state.faults.decide(FAULT_KEY);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match verdict {
        Verdict::Serve => None,
        Verdict::Unavailable => Some(
            GraphError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "Service unavailable (sandbox outage).".into(),
            )
            .into_response(),
        ),
        Verdict::Fail(FaultKind::Throttle) => Some(GraphError::throttled(1).into_response()),
        Verdict::Fail(FaultKind::InternalError) => {
            Some(GraphError::internal("Internal server error (sandbox fault).").into_response())
        }
        Verdict::Fail(FaultKind::DropConnection) => Some(crate::aws::dropped_connection()),
    }
}

async fn token_handler(
    State(state): State<SharedEntra>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = faults(&state).await {
        return fault;
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let tenant_id = state.tenant.read().ok().and_then(|t| {
        (tenant == t.tenant_id || tenant.eq_ignore_ascii_case(&t.domain))
            .then(|| t.tenant_id.clone())
    });
    let authorization_code = form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "authorization_code");
    if let (Some(tenant_id), true) = (&tenant_id, authorization_code) {
        return match oidc::exchange(&state, tenant_id, &headers, &form) {
            Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
            Err(e) => e.into_response(),
        };
    }
    let tenant_ok = tenant_id.is_some();
    match token::token_endpoint(
        &state.tokens,
        tenant_ok,
        &tenant,
        &headers,
        &form,
        state.clock.now(),
    ) {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn graph_handler(
    State(state): State<SharedEntra>,
    Path(path): Path<String>,
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
        Err(refusal) => {
            return GraphError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                refusal.message().to_string(),
            )
            .into_response();
        }
    };
    if let Err(not_until) = state.limiter.check() {
        let wait: StdDuration = not_until.wait_time_from(state.limiter_clock.now());
        return GraphError::throttled(wait.as_secs().max(1)).into_response();
    }
    let Ok(Query(query)) = query else {
        return GraphError::bad_request("The query string is not valid.".into()).into_response();
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}/graph/v1.0");
    let request = graph::Request {
        base: &base,
        granted: &granted,
        method: &method,
        path: &path,
        query: &query,
        body: &body,
    };
    match graph::route(&state, &request) {
        Ok((status, Some(body))) => (status, axum::Json(body)).into_response(),
        Ok((status, None)) => status.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Runs provisioning cycles when they fall due on the sandbox clock (checked five times a
/// second, so tests advance the clock instead of sleeping).
pub fn spawn_schedule(state: SharedEntra) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(StdDuration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if state.provisioning.due(state.clock.now()) {
                let execution = state.run_provisioning().await;
                tracing::debug!(
                    state = ?execution.state,
                    exported = execution.exported,
                    escrowed = execution.escrowed,
                    "entra provisioning cycle"
                );
            }
        }
    })
}
