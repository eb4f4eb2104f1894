//! From configuration to a running server: logging, database, migrations, listener.

use std::path::Path;

use app::state::AppState;
use chrono::Utc;
use leptos::config::{Env, LeptosOptions};
use store::Store;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(
        "the built site is missing: {0} does not exist. Build it with `cargo xtask demo` (or `cargo leptos build`), or point server.site_root at a built site"
    )]
    SiteMissing(String),
    #[error(
        "cannot listen on {addr}: {source}. Is another process using the port? Set server.listen (TESSERA_SERVER__LISTEN) to a free address"
    )]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the sandbox: {0}")]
    Sandbox(String),
    #[error("cannot set up the IdP reader: {0}")]
    Idp(String),
    #[error(transparent)]
    SignIn(#[from] crate::auth::AuthSetupError),
    #[error("the server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),
}

/// Sets up `tracing` once per process as configured.
pub fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Opens the configured database and applies pending migrations.
pub async fn open_store(config: &Config) -> Result<Store, StartupError> {
    let store = Store::connect(&config.database.url, &config.store_options()).await?;
    let report = store.migrate().await?;
    tracing::info!(
        database = store.backend().as_str(),
        applied_now = report.applied_now,
        schema_version = report.schema_version,
        "database ready"
    );
    Ok(store)
}

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("tessera")
        .site_root(config.server.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.server.listen)
        .env(Env::PROD)
        .build()
}

/// Fails early, with the fix, when the wasm/JS/CSS bundle is not where the server will look.
pub fn check_site(site_root: &Path) -> Result<(), StartupError> {
    let js = site_root.join("pkg").join("tessera.js");
    if js.exists() {
        Ok(())
    } else {
        Err(StartupError::SiteMissing(js.display().to_string()))
    }
}

/// Runs the server until Ctrl-C or SIGTERM. `on_ready` is called with the bound address once
/// the listener accepts connections (the demo prints its banner there).
/// How to reach Identity Center from the configuration (standard credential chain), or None when
/// reading it is not enabled.
pub fn identity_center_settings(config: &Config) -> Option<connectors::identity_center::Settings> {
    let ic = &config.identity_center;
    ic.enabled.then(|| connectors::identity_center::Settings {
        endpoint_url: (!ic.endpoint_url.is_empty()).then(|| ic.endpoint_url.clone()),
        identitystore_per_second: ic.identitystore_per_second,
        ssoadmin_per_second: ic.ssoadmin_per_second,
        ..connectors::identity_center::Settings::new(ic.region.clone())
    })
}

/// The reader of the IdP's provisioning scope the configuration names, if any.
pub fn idp_reader(
    idp: &crate::config::IdpSection,
) -> Result<Option<connectors::scope::IdpReader>, StartupError> {
    use connectors::scope::IdpReader;
    let or = |value: &str, default: String| {
        if value.is_empty() {
            default
        } else {
            value.to_string()
        }
    };
    let reader = match idp.kind.as_str() {
        "entra" => {
            let d = connectors::entra::EntraSettings::new(
                &idp.tenant,
                &idp.client_id,
                &idp.client_secret,
            );
            let settings = connectors::entra::EntraSettings {
                login_url: or(&idp.login_url, d.login_url.clone()),
                graph_url: or(&idp.graph_url, d.graph_url.clone()),
                app_display_name: or(&idp.app_display_name, d.app_display_name.clone()),
                ..d
            };
            IdpReader::Entra(
                connectors::entra::EntraReader::new(settings)
                    .map_err(|e| StartupError::Idp(e.to_string()))?,
            )
        }
        "pingone" => {
            let d = connectors::pingone::PingOneSettings::new(
                &idp.environment_id,
                &idp.client_id,
                &idp.client_secret,
            );
            let settings = connectors::pingone::PingOneSettings {
                auth_url: or(&idp.auth_url, d.auth_url.clone()),
                api_url: or(&idp.api_url, d.api_url.clone()),
                rule_id: (!idp.rule_id.is_empty()).then(|| idp.rule_id.clone()),
                ..d
            };
            IdpReader::PingOne(
                connectors::pingone::PingOneReader::new(settings)
                    .map_err(|e| StartupError::Idp(e.to_string()))?,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(reader))
}

/// The refresher over Identity Center (and the IdP's scope, when `[idp]` is set).
async fn build_refresher(
    config: &Config,
    store: &Store,
    settings: connectors::identity_center::Settings,
) -> Result<
    std::sync::Arc<crate::refresh::Refresher<connectors::identity_center::Reader>>,
    StartupError,
> {
    let reader = connectors::identity_center::Reader::connect(settings).await;
    let mut refresher = crate::refresh::Refresher::new(
        store.clone(),
        reader,
        domain::fuse::FuseLimit(config.identity_center.fuse_max_removed_share),
    );
    if let Some(idp) = idp_reader(&config.idp)? {
        tracing::info!(
            idp = idp.idp(),
            "the IdP's scope is read beside each full refresh"
        );
        refresher = refresher.with_idp(idp);
    }
    Ok(std::sync::Arc::new(refresher))
}

/// Starts the scheduled refreshes: a full one at once and every `refresh_every_secs`, focused
/// ones every `focused_every_secs` between them.
fn start_refresh_job(
    config: &Config,
    refresher: std::sync::Arc<crate::refresh::Refresher<connectors::identity_center::Reader>>,
) -> tokio::task::JoinHandle<()> {
    let ic = &config.identity_center;
    tracing::info!(
        every_secs = ic.refresh_every_secs,
        focused_every_secs = ic.focused_every_secs,
        "Identity Center refresh scheduled"
    );
    crate::refresh::spawn_schedule(
        refresher,
        std::time::Duration::from_secs(ic.refresh_every_secs),
        (ic.focused_every_secs > 0).then(|| std::time::Duration::from_secs(ic.focused_every_secs)),
    )
}

/// How often expired sign-in sessions are deleted from the database.
const EXPIRED_SESSIONS_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes the expired sign-in sessions from the database every `every` (first after one
/// period). A failure is logged and the next period tries again.
fn spawn_expired_sessions_deletion(
    sessions: store::Sessions,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    use tower_sessions::session_store::ExpiredDeletion;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(e) = sessions.delete_expired().await {
                tracing::warn!(error = %e, "expired sign-in sessions could not be deleted; trying again in an hour");
            }
        }
    })
}

/// What the demo enters in the connection checklist at start, as an admin would: Identity
/// Center's service-provider metadata and the SCIM connection the IdP provisions with.
#[derive(Clone)]
pub struct ConnectionSeed {
    pub sp_metadata: String,
    pub scim_endpoint: String,
    pub scim_token: String,
    pub scim_token_created: chrono::DateTime<Utc>,
}

/// Stores `seed` as the demo's admin entered it (the token sealed).
async fn seed_connection(
    store: &Store,
    key: Option<&store::secrets::SecretKey>,
    seed: &ConnectionSeed,
) -> Result<(), StartupError> {
    let now = Utc::now();
    store
        .set_connection_setting(store::setting::SP_METADATA, &seed.sp_metadata, "demo", now)
        .await?;
    if let Some(key) = key {
        let sealed = key
            .seal(&seed.scim_token, store::SCIM_TOKEN_PURPOSE)
            .map_err(|e| StartupError::Sandbox(e.to_string()))?;
        let scim = store::ScimSetting {
            endpoint: seed.scim_endpoint.clone(),
            token: sealed,
            token_created: seed.scim_token_created,
        };
        let value = scim.encode()?;
        store
            .set_connection_setting(store::setting::SCIM, &value, "demo", now)
            .await?;
    }
    Ok(())
}

pub async fn serve(
    config: &Config,
    mode: &'static str,
    identity_center: Option<connectors::identity_center::Settings>,
    seed: Option<ConnectionSeed>,
    on_ready: impl FnOnce(std::net::SocketAddr, &Store),
) -> Result<(), StartupError> {
    check_site(&config.server.site_root)?;
    let store = open_store(config).await?;
    if let Some(seed) = &seed {
        seed_connection(&store, config.secret_key.as_deref(), seed).await?;
    }
    let started_at = Utc::now();
    let deployment = store.record_start(VERSION, started_at).await?;
    tracing::info!(
        deployment_id = %deployment.deployment_id,
        starts = deployment.starts,
        "deployment recorded"
    );
    let mut sign_in =
        crate::auth::SignIn::discover(&config.auth, &config.server.public_origin(), store.clone())
            .await?;
    // With Entra as the IdP, sign-in reads its directory with the same app (groups overage,
    // a team lead's owned groups).
    if let Some(connectors::scope::IdpReader::Entra(directory)) = idp_reader(&config.idp)? {
        sign_in = sign_in.with_directory(directory);
    }
    let sign_in = std::sync::Arc::new(sign_in);
    let refresher = match identity_center {
        Some(settings) => Some(build_refresher(config, &store, settings).await?),
        None => None,
    };
    let checker = std::sync::Arc::new(
        crate::connection::ConnectionChecker::new(
            store.clone(),
            idp_reader(&config.idp)?,
            config.secret_key.clone(),
            config.connection.arrivals_max_missing_percent,
        )
        .map_err(StartupError::Idp)?,
    );
    let state = AppState {
        leptos_options: leptos_options(config),
        store: store.clone(),
        started_at,
        version: VERSION,
        mode,
        form_action: sign_in.idp_origin(),
        refresh: refresher.clone().map(|r| {
            std::sync::Arc::new(crate::refresh::RefreshHandle::new(r))
                as std::sync::Arc<dyn app::state::RefreshControl>
        }),
        seat_price: seat_price(config),
        connection: Some(checker.clone() as std::sync::Arc<dyn app::state::ConnectionControl>),
        secrets: config.secret_key.clone(),
        leads: Some(std::sync::Arc::new(crate::leads::GroupLeads::new(
            match idp_reader(&config.idp)? {
                Some(connectors::scope::IdpReader::Entra(directory)) => Some(directory),
                _ => None,
            },
            &config.auth.teams,
        )) as std::sync::Arc<dyn app::state::TeamLeads>),
    };
    let sessions = store.sessions().await?;
    let security = crate::http::Security {
        sign_in,
        sessions: sessions.clone(),
    };
    let app = crate::http::router(state, security);
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|source| StartupError::Bind {
            addr: config.server.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!(%addr, mode, "listening");
    on_ready(addr, &store);
    let refresh_job = refresher.map(|r| start_refresh_job(config, r));
    let sessions_job = spawn_expired_sessions_deletion(sessions, EXPIRED_SESSIONS_EVERY);
    let connection_job = crate::connection::spawn_schedule(
        checker,
        std::time::Duration::from_secs(config.connection.verify_every_secs),
    );
    let served = axum::serve(
        crate::http::listener(listener),
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(StartupError::Serve);
    if let Some(job) = refresh_job {
        job.abort();
    }
    connection_job.abort();
    sessions_job.abort();
    served?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The configured price of a seat.
pub fn seat_price(config: &Config) -> app::state::SeatPrice {
    app::state::SeatPrice {
        per_month: config.seats.price_per_month,
        currency: config.seats.currency.clone(),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// The sandbox a demo runs on, and what the banner says about it.
pub struct DemoSandbox {
    pub running: sandbox::server::RunningSandbox,
    pub org: String,
    pub identity_store_id: String,
    pub users: usize,
    pub groups: usize,
    pub memberships: usize,
    /// The sandbox's fixed test key pair (not a secret: it opens only the local emulator).
    pub access_key_id: String,
    pub secret_access_key: String,
    /// A SCIM bearer token for the emulated endpoint, created at start (it opens only the local
    /// emulator; printed in the banner, never logged).
    pub scim_token: String,
    /// The emulated IdP and the app Tessera reads it with.
    pub idp: DemoIdp,
    /// How Tessera signs people in through it.
    pub sign_in: DemoSignIn,
    pub provisioning_every_secs: u64,
    /// What the demo's admin has entered in the checklist.
    pub connection: ConnectionSeed,
}

/// The demo's IdP: its tenant or environment id and an app's client id and secret (they open
/// only the local emulator; printed in the banner, never logged).
pub enum DemoIdp {
    Entra {
        tenant: String,
        client_id: String,
        client_secret: String,
    },
    PingOne {
        environment: String,
        client_id: String,
        client_secret: String,
    },
}

/// The sandbox IdP's OpenID Connect application Tessera signs people in with (its secret opens
/// only the local emulator).
pub struct DemoSignIn {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

/// The demo's sign-in: the sandbox IdP's application, and the roles its personas carry
/// (`Tessera.SecurityAdmin`, `Tessera.TeamLead`, `Tessera.Auditor` in the `roles` claim), unless
/// the configuration maps roles itself.
pub fn demo_auth(config: &Config, sign_in: &DemoSignIn) -> crate::config::AuthSection {
    let mut auth = config.auth.clone();
    auth.issuer = sign_in.issuer.clone();
    auth.client_id = sign_in.client_id.clone();
    auth.client_secret = sign_in.client_secret.clone();
    if auth.roles == domain::access::RoleMapping::default() {
        auth.roles = domain::access::RoleMapping {
            security_admin_roles: vec![sandbox::seed::ROLE_SECURITY_ADMIN.into()],
            team_lead_roles: vec![sandbox::seed::ROLE_TEAM_LEAD.into()],
            auditor_roles: vec![sandbox::seed::ROLE_AUDITOR.into()],
            ..domain::access::RoleMapping::default()
        };
    }
    auth
}

/// The `[idp]` section that reads the sandbox's IdP (its app's client id and secret).
pub fn demo_idp(sandbox: &DemoSandbox) -> crate::config::IdpSection {
    let running = &sandbox.running;
    match &sandbox.idp {
        DemoIdp::Entra {
            tenant,
            client_id,
            client_secret,
        } => crate::config::IdpSection {
            kind: "entra".into(),
            tenant: tenant.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            login_url: running.login_base(),
            graph_url: running.graph_base(),
            ..crate::config::IdpSection::default()
        },
        DemoIdp::PingOne {
            environment,
            client_id,
            client_secret,
        } => crate::config::IdpSection {
            kind: "pingone".into(),
            environment_id: environment.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            auth_url: running.pingone_auth_base(),
            api_url: running.pingone_api_base(),
            ..crate::config::IdpSection::default()
        },
    }
}

/// Seeds the configured organisation and serves it on `sandbox.aws_listen`.
pub async fn start_sandbox(config: &Config) -> Result<DemoSandbox, StartupError> {
    let spec = sandbox::seed::SeedSpec::named(&config.sandbox.org).ok_or_else(|| {
        StartupError::Sandbox(format!("unknown organisation {}", config.sandbox.org))
    })?;
    let org = sandbox::seed::Organisation::generate(&spec)
        .map_err(|e| StartupError::Sandbox(e.to_string()))?;
    let credentials = sandbox::aws::sigv4::StaticCredentials::default();
    let sandbox_config = sandbox::server::SandboxConfig {
        listen: config.sandbox.aws_listen,
        credentials: credentials.clone(),
        provisioning_every: std::time::Duration::from_secs(config.sandbox.provisioning_every_secs),
        s3_listen: config.sandbox.s3_listen,
        idp: sandbox::server::IdpKind::parse(&config.sandbox.idp).unwrap_or_default(),
        sign_in_redirect_uris: vec![
            format!("{}/auth/callback", config.server.public_origin()),
            format!("{}/auth/signed-out", config.server.public_origin()),
        ],
        ..sandbox::server::SandboxConfig::default()
    };
    let directory = &org.identity_center;
    let (users, groups, memberships) = (
        directory.user_count(),
        directory.group_count(),
        directory.membership_count(),
    );
    let identity_store_id = directory.identity_store_id().to_string();
    let running = sandbox::server::RunningSandbox::start_organisation(org, sandbox_config)
        .await
        .map_err(|e| {
            StartupError::Sandbox(format!(
                "cannot listen on {} or {} ({e}); set sandbox.aws_listen and sandbox.s3_listen (TESSERA_SANDBOX__AWS_LISTEN, TESSERA_SANDBOX__S3_LISTEN) to free addresses",
                config.sandbox.aws_listen, config.sandbox.s3_listen
            ))
        })?;
    let scim_token = running
        .scim_tokens()
        .issue(running.clock().now())
        .map_err(|e| StartupError::Sandbox(e.to_string()))?
        .token;
    let (idp, sign_in) = match (running.entra(), running.pingone()) {
        (Some(e), _) => (
            DemoIdp::Entra {
                tenant: e.state.tenant_id(),
                client_id: e.app.client_id.clone(),
                client_secret: e.app.client_secret.clone(),
            },
            DemoSignIn {
                issuer: format!("{}/{}/v2.0", running.login_base(), e.state.tenant_id()),
                client_id: e.app.client_id.clone(),
                client_secret: e.app.client_secret.clone(),
            },
        ),
        (None, Some(p)) => (
            DemoIdp::PingOne {
                environment: p.state.environment_id(),
                client_id: p.worker.client_id.clone(),
                client_secret: p.worker.client_secret.clone(),
            },
            DemoSignIn {
                issuer: format!(
                    "{}/{}/as",
                    running.pingone_auth_base(),
                    p.state.environment_id()
                ),
                client_id: p.sign_in.client_id.clone(),
                client_secret: p.sign_in.client_secret.clone(),
            },
        ),
        (None, None) => {
            return Err(StartupError::Sandbox(
                "the sandbox started without an IdP".into(),
            ));
        }
    };
    let sp_metadata = running
        .state()
        .instance
        .read()
        .map(|i| sandbox::saml::service_provider_metadata(&i.saml_service_provider()))
        .map_err(|_| StartupError::Sandbox("the instance's lock is poisoned".into()))?;
    let provisioning = running
        .provisioning_token()
        .ok_or_else(|| StartupError::Sandbox("the sandbox's IdP holds no SCIM token".into()))?;
    let connection = ConnectionSeed {
        sp_metadata,
        scim_endpoint: running.scim_endpoint(),
        scim_token: provisioning.token.clone(),
        scim_token_created: provisioning.info.created_at,
    };
    tracing::info!(endpoint = %running.aws_endpoint(), scim = %running.scim_endpoint(), org = %spec.name, users, "sandbox ready");
    Ok(DemoSandbox {
        running,
        org: spec.name,
        identity_store_id,
        users,
        groups,
        memberships,
        access_key_id: credentials.access_key_id,
        secret_access_key: credentials.secret_access_key,
        scim_token,
        idp,
        sign_in,
        provisioning_every_secs: config.sandbox.provisioning_every_secs,
        connection,
    })
}
