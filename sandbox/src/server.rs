//! Runs the sandbox's endpoints on loopback: one HTTP listener serving the AWS JSON 1.1 protocol
//! at `/` (the SDKs' `endpoint_url`), Identity Center's SCIM endpoint at `/<tenant>/scim/v2/`
//! and, for a whole seeded organisation, its IdP — Entra ID (`/login/...`, `/graph/v1.0/...`)
//! or PingOne (`/pingone/auth/...`, `/pingone/api/v1/...`) — with its provisioning into Identity
//! Center. Started by tests and by `tessera demo`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::aws::limits::{Limits, Throttle};
use crate::aws::sigv4::StaticCredentials;
use crate::aws::{AwsState, Service, SharedAwsState};
use crate::directory::Directory;
use crate::entra::provisioning::{JobIdentity, Plan, Provisioning, Target};
use crate::entra::tenant::Tenant;
use crate::entra::token::{ALL_PERMISSIONS, AppCredentials};
use crate::entra::{EntraState, SharedEntra};
use crate::faults::{FaultPlan, Faults, SandboxClock};
use crate::instance::Instance;
use crate::pingone::environment::Environment;
use crate::pingone::{PingOneState, SharedPingOne};
use crate::scim::ScimState;
use crate::scim::tokens::TokenError;
use crate::seed::Organisation;

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Port 0 picks any free port (see [`RunningSandbox::addr`]).
    pub listen: SocketAddr,
    pub credentials: StaticCredentials,
    pub limits: Limits,
    /// The SCIM tenant id (the path segment before `/scim/v2/`); derived from the store id
    /// when not set.
    pub scim_tenant: Option<String>,
    /// Entra ID's provisioning interval (the real service: about 40 minutes).
    pub provisioning_every: StdDuration,
    /// Microsoft Graph requests per second for the tenant; 429 with Retry-After beyond.
    pub graph_per_second: NonZeroU32,
    /// Where the emulated IdP may send people back after sign-in (and sign-out): the redirect
    /// URIs of the app registration [`RunningEntra::app`] describes.
    pub sign_in_redirect_uris: Vec<String>,
    /// Where the S3 endpoint serving Q Developer's activity reports listens (its own port, as
    /// S3 is its own host); only for a whole organisation.
    pub s3_listen: SocketAddr,
    /// Which IdP a whole organisation is served by (Identity Center has one identity source).
    pub idp: IdpKind,
    /// PingOne Platform API requests per second for the environment; 429 beyond.
    pub pingone_per_second: NonZeroU32,
}

/// The emulated IdP in front of Identity Center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdpKind {
    #[default]
    Entra,
    PingOne,
}

impl IdpKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "entra" => Some(Self::Entra),
            "pingone" => Some(Self::PingOne),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entra => "entra",
            Self::PingOne => "pingone",
        }
    }
}

/// Age of the SCIM token the Entra provisioning job holds at start: eleven months of its
/// one-year life (a planted problem: it expires in about a month).
pub const PROVISIONING_TOKEN_AGE_DAYS: i64 = 335;

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: StaticCredentials::default(),
            limits: Limits::default(),
            scim_tenant: None,
            provisioning_every: StdDuration::from_secs(40 * 60),
            graph_per_second: NonZeroU32::MIN.saturating_add(149),
            s3_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            idp: IdpKind::Entra,
            pingone_per_second: NonZeroU32::MIN.saturating_add(99),
            sign_in_redirect_uris: vec![
                "http://127.0.0.1:3000/auth/callback".to_string(),
                "http://127.0.0.1:3000/".to_string(),
            ],
        }
    }
}

/// A sandbox listening on a port until [`RunningSandbox::stop`] (or drop).
pub struct RunningSandbox {
    addr: SocketAddr,
    state: SharedAwsState,
    entra: Option<RunningEntra>,
    pingone: Option<RunningPingOne>,
    s3: Option<RunningS3>,
    /// The SCIM token the IdP's provisioning holds (issued eleven months back).
    provisioning_token: Option<crate::scim::tokens::IssuedToken>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// The S3 endpoint of a sandbox started from a whole organisation.
pub struct RunningS3 {
    pub addr: SocketAddr,
    pub state: crate::s3::SharedS3,
    shutdown: Option<oneshot::Sender<()>>,
}

/// The emulated Entra tenant of a sandbox started from a whole organisation.
pub struct RunningEntra {
    pub state: SharedEntra,
    /// An app registration with every permission Tessera asks for (its secret is shown here
    /// only; it opens only the local emulator).
    pub app: AppCredentials,
    schedule: JoinHandle<()>,
}

/// The emulated PingOne environment of a sandbox started from a whole organisation with
/// [`IdpKind::PingOne`].
pub struct RunningPingOne {
    pub state: SharedPingOne,
    /// A worker app with the roles Tessera needs (its secret opens only the local emulator).
    pub worker: AppCredentials,
    /// Tessera's OIDC application for people's sign-in (redirect URIs from
    /// [`SandboxConfig::sign_in_redirect_uris`]).
    pub sign_in: AppCredentials,
    schedule: JoinHandle<()>,
}

impl RunningSandbox {
    /// Serves `directory` and `instance` (Identity Center only) as `config` says.
    pub async fn start(
        directory: Directory,
        instance: Instance,
        config: SandboxConfig,
    ) -> std::io::Result<Self> {
        Self::serve(directory, instance, None, config).await
    }

    /// Serves the whole organisation: Identity Center, and Entra ID over its IdP side, whose
    /// provisioning job carries changes into Identity Center through SCIM every
    /// `config.provisioning_every` of sandbox time.
    pub async fn start_organisation(
        mut org: Organisation,
        config: SandboxConfig,
    ) -> std::io::Result<Self> {
        let store_id = org.identity_center.identity_store_id().to_string();
        let directory = std::mem::replace(&mut org.identity_center, Directory::new(store_id));
        let instance = org.instance.clone();
        Self::serve(directory, instance, Some(org), config).await
    }

    async fn serve(
        directory: Directory,
        instance: Instance,
        org: Option<Organisation>,
        config: SandboxConfig,
    ) -> std::io::Result<Self> {
        let tenant = config
            .scim_tenant
            .clone()
            .unwrap_or_else(|| format!("{}-sandbox", directory.id_prefix()));
        let state: SharedAwsState = Arc::new(AwsState {
            scim: ScimState::new(tenant),
            directory: RwLock::new(directory),
            instance: RwLock::new(instance),
            credentials: config.credentials.clone(),
            throttle: Throttle::new(config.limits),
            faults: Arc::new(Faults::default()),
            clock: Arc::new(SandboxClock::default()),
        });
        let addr = config.listen;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let mut provisioning_token = None;
        let (entra, pingone, s3) = match org {
            Some(org) => {
                let s3 = Some(start_s3(&org, &state, &config).await?);
                match config.idp {
                    IdpKind::Entra => (
                        Some(start_entra(
                            &org,
                            &state,
                            addr,
                            &config,
                            &mut provisioning_token,
                        )?),
                        None,
                        s3,
                    ),
                    IdpKind::PingOne => (
                        None,
                        Some(start_pingone(
                            &org,
                            &state,
                            addr,
                            &config,
                            &mut provisioning_token,
                        )?),
                        s3,
                    ),
                }
            }
            None => (None, None, None),
        };
        let mut app = Router::new()
            .route("/", post(crate::aws::handle))
            .route("/_sandbox/faults", get(get_faults).delete(clear_faults))
            .route("/_sandbox/faults/{service}", put(put_fault))
            .route("/_sandbox/clock", get(get_clock))
            .route("/_sandbox/clock/advance", post(advance_clock))
            .route(
                "/_sandbox/scim/tokens",
                get(list_scim_tokens).post(issue_scim_token),
            )
            .route("/_sandbox/scim/tokens/{id}", delete(revoke_scim_token))
            .route(
                "/_sandbox/identity-center/saml-metadata",
                get(service_provider_metadata),
            )
            // Browsers ask every origin for an icon; the IdP pages have none.
            .route(
                "/favicon.ico",
                get(|| async { axum::http::StatusCode::NO_CONTENT }),
            )
            .route("/{tenant}/scim/v2/{*path}", any(crate::scim::handle))
            .with_state(state.clone());
        if let Some((entra, _)) = &entra {
            app = app.merge(crate::entra::router(entra.clone()));
        }
        if let Some((pingone, _, _)) = &pingone {
            app = app.merge(crate::pingone::router(pingone.clone()));
        }
        let (tx, task) = serve_until_told(listener, app, "sandbox");
        tracing::info!(%addr, "sandbox listening");
        let entra = entra.map(|(state, app)| RunningEntra {
            schedule: crate::entra::spawn_schedule(state.clone()),
            state,
            app,
        });
        let pingone = pingone.map(|(state, worker, sign_in)| RunningPingOne {
            schedule: crate::pingone::spawn_schedule(state.clone()),
            state,
            worker,
            sign_in,
        });
        Ok(Self {
            addr,
            state,
            entra,
            pingone,
            s3,
            provisioning_token,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The endpoint URL to give AWS SDK clients.
    pub fn aws_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SCIM endpoint URL, as the Identity Center console shows it (ends with `/scim/v2/`).
    pub fn scim_endpoint(&self) -> String {
        format!("http://{}/{}/scim/v2/", self.addr, self.state.scim.tenant)
    }

    /// The SCIM endpoint's tokens: create (as if made in the console, possibly backdated),
    /// list, delete. Also under `/_sandbox/scim/tokens`.
    /// The SCIM token the IdP's provisioning holds (created eleven months before start), and
    /// when it was created: what an admin enters in Tessera's checklist.
    pub fn provisioning_token(&self) -> Option<&crate::scim::tokens::IssuedToken> {
        self.provisioning_token.as_ref()
    }

    pub fn scim_tokens(&self) -> &crate::scim::tokens::ScimTokens {
        &self.state.scim.tokens
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Entra tenant, when started with [`RunningSandbox::start_organisation`].
    pub fn entra(&self) -> Option<&RunningEntra> {
        self.entra.as_ref()
    }

    /// The PingOne environment, when started with [`RunningSandbox::start_organisation`] and
    /// [`IdpKind::PingOne`].
    pub fn pingone(&self) -> Option<&RunningPingOne> {
        self.pingone.as_ref()
    }

    /// Base URL standing for `https://auth.pingone.com` (append `/{envId}/as/token`).
    pub fn pingone_auth_base(&self) -> String {
        format!("http://{}/pingone/auth", self.addr)
    }

    /// Base URL standing for `https://api.pingone.com/v1` (append `/environments/{envId}/...`).
    pub fn pingone_api_base(&self) -> String {
        format!("http://{}/pingone/api/v1", self.addr)
    }

    /// The S3 endpoint URL serving the activity reports (path-style), when started with
    /// [`RunningSandbox::start_organisation`].
    pub fn s3_endpoint(&self) -> Option<String> {
        self.s3.as_ref().map(|s| format!("http://{}", s.addr))
    }

    /// The activity reports and their bucket.
    pub fn activity(&self) -> Option<&crate::activity::ActivityReports> {
        self.s3.as_ref().map(|s| &s.state.reports)
    }

    /// Base URL standing for `https://login.microsoftonline.com`.
    pub fn login_base(&self) -> String {
        format!("http://{}/login", self.addr)
    }

    /// Base URL standing for `https://graph.microsoft.com` (append `/v1.0/...`).
    pub fn graph_base(&self) -> String {
        format!("http://{}/graph", self.addr)
    }

    /// The served state, for tests that look behind the API.
    pub fn state(&self) -> &SharedAwsState {
        &self.state
    }

    /// The fault plans in force (also under `/_sandbox/faults`).
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// The sandbox's clock (also under `/_sandbox/clock`).
    pub fn clock(&self) -> &SandboxClock {
        &self.state.clock
    }

    /// Stops accepting requests and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(entra) = &self.entra {
            entra.schedule.abort();
        }
        if let Some(pingone) = &self.pingone {
            pingone.schedule.abort();
        }
        if let Some(tx) = self.s3.as_mut().and_then(|s| s.shutdown.take()) {
            let _ = tx.send(());
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(entra) = &self.entra {
            entra.schedule.abort();
        }
        if let Some(pingone) = &self.pingone {
            pingone.schedule.abort();
        }
        if let Some(tx) = self.s3.as_mut().and_then(|s| s.shutdown.take()) {
            let _ = tx.send(());
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Entra over `org`'s IdP side: the tenant, an app registration for Tessera, and the
/// provisioning job holding an eleven-month-old SCIM token for this sandbox's endpoint.
fn start_entra(
    org: &Organisation,
    state: &SharedAwsState,
    addr: SocketAddr,
    config: &SandboxConfig,
    issued: &mut Option<crate::scim::tokens::IssuedToken>,
) -> std::io::Result<(SharedEntra, AppCredentials)> {
    let now = state.clock.now();
    let tenant = Tenant::from_organisation(org, now).map_err(std::io::Error::other)?;
    let token = state
        .scim
        .tokens
        .issue(now - chrono::Duration::days(PROVISIONING_TOKEN_AGE_DAYS))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    *issued = Some(token.clone());
    let interval = chrono::Duration::from_std(config.provisioning_every)
        .unwrap_or(chrono::Duration::minutes(40));
    let provisioning = Provisioning::from_organisation(
        org,
        &tenant,
        Target {
            scim_endpoint: format!("http://{addr}/{}/scim/v2/", state.scim.tenant),
            token: token.token,
        },
        interval,
        now,
    );
    let entra = Arc::new(
        EntraState::new(
            tenant,
            provisioning,
            state.faults.clone(),
            state.clock.clone(),
            config.graph_per_second,
            format!("http://{addr}"),
        )
        .map_err(std::io::Error::other)?,
    );
    let app = entra
        .tokens
        .register(ALL_PERMISSIONS, &config.sign_in_redirect_uris);
    Ok((entra, app))
}

/// PingOne over `org`'s IdP side: the environment, a worker app for Tessera, and propagation
/// whose SCIM connection holds an eleven-month-old token for this sandbox's endpoint.
fn start_pingone(
    org: &Organisation,
    state: &SharedAwsState,
    addr: SocketAddr,
    config: &SandboxConfig,
    issued: &mut Option<crate::scim::tokens::IssuedToken>,
) -> std::io::Result<(SharedPingOne, AppCredentials, AppCredentials)> {
    let now = state.clock.now();
    let scim_endpoint = format!("http://{addr}/{}/scim/v2/", state.scim.tenant);
    let environment = Environment::from_organisation(
        org,
        now,
        !org.planted.pingone_display_name_mapping_missing,
        scim_endpoint.clone(),
    )
    .map_err(std::io::Error::other)?;
    let token = state
        .scim
        .tokens
        .issue(now - chrono::Duration::days(PROVISIONING_TOKEN_AGE_DAYS))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    *issued = Some(token.clone());
    let identity = JobIdentity {
        quarantines: false,
        job_id: environment.propagation.rule.id.clone(),
        tenant_id: environment.id.clone(),
        application: (environment.app.id.clone(), environment.app.name.clone()),
    };
    let plan = environment.plan();
    carry_mapped_display_names(org, &plan, state)?;
    let propagation = Provisioning::from_plan(
        org,
        &plan,
        identity,
        Target {
            scim_endpoint,
            token: token.token,
        },
        chrono::Duration::seconds(crate::pingone::PROPAGATION_EVERY_SECS),
        now,
    );
    let pingone = Arc::new(
        PingOneState::new(
            environment,
            propagation,
            state.faults.clone(),
            state.clock.clone(),
            config.pingone_per_second,
            format!("http://{addr}"),
        )
        .map_err(std::io::Error::other)?,
    );
    let worker = pingone.tokens.register(crate::pingone::WORKER_ROLES, &[]);
    let sign_in = pingone.tokens.register(&[], &config.sign_in_redirect_uris);
    Ok((pingone, worker, sign_in))
}

/// The seeded Identity Center is what the IdP's provisioning put there. Entra ID sends each
/// person's display name; PingOne's rule sends what its mappings say (the seeds map Username →
/// displayName), so the provisioned users carry the rule's display name, not the person's.
/// Without this every user would drift on display name on the first read, and the escrowed
/// plan would never mend it. A rule without the mapping leaves the users as seeded.
fn carry_mapped_display_names(
    org: &Organisation,
    plan: &Plan,
    state: &SharedAwsState,
) -> std::io::Result<()> {
    let mapped: HashMap<&str, &str> = plan
        .users
        .iter()
        .filter_map(|(idp_id, a)| Some((idp_id.as_str(), a.display_name.as_deref()?)))
        .collect();
    let mut directory = state
        .directory
        .write()
        .map_err(|_| std::io::Error::other("the directory lock is poisoned"))?;
    for (person, ic_id) in org.people.iter().zip(&org.provisioned_user) {
        let (Some(ic_id), Some(&name)) = (ic_id, mapped.get(person.idp_id.as_str())) else {
            continue;
        };
        let Some(user) = directory.user(ic_id).filter(|u| u.display_name != name) else {
            continue;
        };
        let mut user = user.clone();
        user.display_name = name.to_string();
        directory
            .replace_user(ic_id, user)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    Ok(())
}

/// Serves `app` on `listener` until the sender is used (or dropped).
fn serve_until_told(
    listener: tokio::net::TcpListener,
    app: Router,
    what: &'static str,
) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "{what} stopped with an error");
        }
    });
    (tx, task)
}

/// The activity reports of `org`, up to yesterday on the sandbox clock, on their own port.
async fn start_s3(
    org: &Organisation,
    state: &SharedAwsState,
    config: &SandboxConfig,
) -> std::io::Result<RunningS3> {
    let reports =
        crate::activity::ActivityReports::from_organisation(org, state.clock.now().date_naive());
    let s3 = Arc::new(crate::s3::S3State {
        reports,
        credentials: config.credentials.clone(),
        faults: state.faults.clone(),
        clock: state.clock.clone(),
    });
    let listener = tokio::net::TcpListener::bind(config.s3_listen).await?;
    let addr = listener.local_addr()?;
    let (tx, _task) = serve_until_told(listener, crate::s3::router(s3.clone()), "sandbox S3");
    Ok(RunningS3 {
        addr,
        state: s3,
        shutdown: Some(tx),
    })
}

// ---- control API: loopback-only test controls, no authentication ------------------------------

async fn get_faults(State(state): State<SharedAwsState>) -> Response {
    axum::Json(state.faults.plans()).into_response()
}

async fn clear_faults(State(state): State<SharedAwsState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn put_fault(
    State(state): State<SharedAwsState>,
    Path(service): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let mut known: Vec<&str> = Service::ALL.iter().map(|s| s.fault_key()).collect();
    known.push(crate::entra::FAULT_KEY);
    known.push(crate::s3::FAULT_KEY);
    if !known.contains(&service.as_str()) {
        return control_error(format!("unknown service {service:?}; one of {known:?}"));
    }
    let plan: FaultPlan = match serde_json::from_slice(&body) {
        Ok(plan) => plan,
        Err(e) => {
            return control_error(format!(
                "not a fault plan ({e}); send {{\"latency_ms\", \"error_rate\", \"error\": \"throttle|internal_error|drop_connection\", \"outage\"}}"
            ));
        }
    };
    match state.faults.set(&service, plan) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => control_error(e.to_string()),
    }
}

fn control_error(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

fn clock_json(clock: &SandboxClock) -> Response {
    axum::Json(json!({
        "now": clock.now().to_rfc3339(),
        "offset_secs": clock.offset_secs(),
    }))
    .into_response()
}

async fn get_clock(State(state): State<SharedAwsState>) -> Response {
    clock_json(&state.clock)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(State(state): State<SharedAwsState>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Advance>(&body) {
        Ok(advance) => {
            state.clock.advance(advance.seconds);
            clock_json(&state.clock)
        }
        Err(e) => control_error(format!("send {{\"seconds\": <integer>}} ({e})")),
    }
}

/// `GET /_sandbox/identity-center/saml-metadata`: Identity Center's service-provider metadata
/// file (what its console's "Download metadata file" gives).
async fn service_provider_metadata(State(state): State<SharedAwsState>) -> Response {
    match state.instance.read() {
        Ok(instance) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/samlmetadata+xml",
            )],
            crate::saml::service_provider_metadata(&instance.saml_service_provider()),
        )
            .into_response(),
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn list_scim_tokens(State(state): State<SharedAwsState>) -> Response {
    axum::Json(state.scim.tokens.list()).into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IssueToken {
    /// When the token was (notionally) created; now on the sandbox clock when absent.
    created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `POST /_sandbox/scim/tokens` `{"created_at"?: RFC 3339}` → the token, shown this once.
async fn issue_scim_token(
    State(state): State<SharedAwsState>,
    body: axum::body::Bytes,
) -> Response {
    let request = if body.is_empty() {
        IssueToken::default()
    } else {
        match serde_json::from_slice::<IssueToken>(&body) {
            Ok(r) => r,
            Err(e) => {
                return control_error(format!(
                    "send {{}} or {{\"created_at\": \"<RFC 3339 time>\"}} ({e})"
                ));
            }
        }
    };
    let created_at = request.created_at.unwrap_or_else(|| state.clock.now());
    match state.scim.tokens.issue(created_at) {
        Ok(issued) => (StatusCode::CREATED, axum::Json(issued)).into_response(),
        Err(e @ TokenError::TooMany) => (
            StatusCode::CONFLICT,
            axum::Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

async fn revoke_scim_token(
    State(state): State<SharedAwsState>,
    Path(id): Path<String>,
) -> Response {
    if state.scim.tokens.revoke(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": format!("no SCIM token with id {id}") })),
        )
            .into_response()
    }
}
