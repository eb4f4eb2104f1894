//! Typed configuration: defaults, then `tessera.toml`, then `TESSERA_<SECTION>__<KEY>` environment
//! variables. Unknown keys and bad values stop the start with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Prefix of environment overrides: `TESSERA_DATABASE__URL` sets `database.url`.
pub const ENV_PREFIX: &str = "TESSERA_";

/// Read from the working directory when present and no file is named.
pub const DEFAULT_FILE: &str = "tessera.toml";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub identity_center: IdentityCenterSection,
    pub sandbox: SandboxSection,
    pub auth: AuthSection,
    pub idp: IdpSection,
    pub seats: SeatsSection,
    pub connection: ConnectionSection,
    /// `TESSERA_SECRET_KEY`, opened: what secrets entered in the console (the SCIM token) are
    /// sealed with. Never serialised; its `Debug` shows nothing.
    #[serde(skip)]
    pub secret_key: Option<std::sync::Arc<store::secrets::SecretKey>>,
}

/// The connection checklist: how often it is verified, and how many users in the IdP's scope
/// may be missing in Identity Center before "users arrive" fails.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionSection {
    pub verify_every_secs: u64,
    pub arrivals_max_missing_percent: f64,
}

impl Default for ConnectionSection {
    fn default() -> Self {
        Self {
            verify_every_secs: 900,
            arrivals_max_missing_percent: 5.0,
        }
    }
}

/// What a seat costs, for the cost figures (Q Developer Pro's list price has been 19 USD per
/// user per month; set what your agreement says).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeatsSection {
    pub price_per_month: f64,
    /// ISO 4217 code shown beside the amounts.
    pub currency: String,
}

impl Default for SeatsSection {
    fn default() -> Self {
        Self {
            price_per_month: 19.0,
            currency: "USD".to_string(),
        }
    }
}

/// The IdP whose provisioning scope is compared with Identity Center (drift), read beside each
/// full refresh. `tessera demo` fills it in for the sandbox. Its `Debug` hides the secret.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdpSection {
    /// `entra`, `pingone`, or empty for none (no drift then).
    pub kind: String,
    /// Entra ID: the directory (tenant) id.
    pub tenant: String,
    /// PingOne: the environment id.
    pub environment_id: String,
    /// The app that reads the directory (Entra: an app registration with User.Read.All,
    /// GroupMember.Read.All, Application.Read.All; PingOne: a worker app with Environment Admin
    /// or Identity Data Read Only + propagation read).
    pub client_id: String,
    /// Give it in the environment (`TESSERA_IDP__CLIENT_SECRET`), not in a file.
    pub client_secret: String,
    /// Entra ID: the enterprise app's display name (default "AWS IAM Identity Center").
    pub app_display_name: String,
    /// PingOne: the propagation rule to read, when several send users to SCIM stores.
    pub rule_id: String,
    /// Other base URLs than the public ones (national clouds, PingOne's other regions, the
    /// sandbox): Entra `login_url`, `graph_url`; PingOne `auth_url`, `api_url`.
    pub login_url: String,
    pub graph_url: String,
    pub auth_url: String,
    pub api_url: String,
}

impl std::fmt::Debug for IdpSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpSection")
            .field("kind", &self.kind)
            .field("tenant", &self.tenant)
            .field("environment_id", &self.environment_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &shown_secret(&self.client_secret))
            .field("rule_id", &self.rule_id)
            .finish_non_exhaustive()
    }
}

/// Sign-in with the organisation's IdP over OpenID Connect, and how its claims give Tessera's
/// roles. `tessera demo` fills the IdP part in for the sandbox. Its `Debug` hides the secret.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// The IdP's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// Give it in the environment (`TESSERA_AUTH__CLIENT_SECRET`), not in a file; empty for a
    /// public client (PKCE alone).
    pub client_secret: String,
    /// Scopes asked besides `openid`.
    pub scopes: Vec<String>,
    /// A session ends after this many minutes without a request.
    pub idle_timeout_mins: u64,
    /// … and this many hours after sign-in, whatever happens.
    pub absolute_timeout_hours: u64,
    /// Which `roles` claim values or groups (ids or names) give each role.
    pub roles: domain::access::RoleMapping,
    /// Sign-in attempts (starts and IdP answers) allowed per client address and minute; more
    /// are answered 429 until the minute has passed. 0 turns the limit off.
    pub sign_in_per_minute: u32,
    /// Behind a reverse proxy: the header holding the client's address (`X-Forwarded-For`; its
    /// last entry, the one the proxy added, is used). Empty: the connection's peer address.
    pub client_ip_header: String,
    /// Team leads' teams by configuration, for IdPs without group owners (PingOne) or beside
    /// them: a lead's user name or email → the group names (or ids) that are their teams.
    pub teams: std::collections::BTreeMap<String, Vec<String>>,
}

impl std::fmt::Debug for AuthSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSection")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &shown_secret(&self.client_secret))
            .field("scopes", &self.scopes)
            .field("idle_timeout_mins", &self.idle_timeout_mins)
            .field("absolute_timeout_hours", &self.absolute_timeout_hours)
            .field("roles", &self.roles)
            .field("sign_in_per_minute", &self.sign_in_per_minute)
            .field("client_ip_header", &self.client_ip_header)
            .field("teams", &self.teams)
            .finish()
    }
}

impl Default for AuthSection {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: vec!["profile".into(), "email".into()],
            idle_timeout_mins: 60,
            absolute_timeout_hours: 12,
            sign_in_per_minute: 30,
            client_ip_header: String::new(),
            teams: std::collections::BTreeMap::new(),
            roles: domain::access::RoleMapping::default(),
        }
    }
}

/// What `Debug` and `check-config` show of a secret: whether it is set, never its value.
pub fn shown_secret(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        "(set; not shown)"
    }
}

/// How Tessera reads IAM Identity Center. Credentials come from the standard AWS chain
/// (environment, profile, web identity, container, instance metadata), never from this file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityCenterSection {
    /// Read Identity Center on a schedule (`tessera demo` turns this on against the sandbox).
    pub enabled: bool,
    /// The region of the Identity Center instance.
    pub region: String,
    /// Another endpoint than AWS's (a VPC endpoint, or the sandbox); empty for AWS's.
    pub endpoint_url: String,
    /// Seconds between full refreshes.
    pub refresh_every_secs: u64,
    /// Seconds between focused refreshes (the seat product's assignments and its groups'
    /// members only), so seat changes show within this time; 0 for none.
    pub focused_every_secs: u64,
    /// Largest share (0–1) of users, groups or memberships one refresh may remove before it is
    /// held for an admin to confirm.
    pub fuse_max_removed_share: f64,
    /// Requests per second per Identity Store operation (AWS's quota: 20).
    pub identitystore_per_second: u32,
    /// Requests per second for all of SSO Admin (AWS's quota: 20).
    pub ssoadmin_per_second: u32,
}

impl Default for IdentityCenterSection {
    fn default() -> Self {
        Self {
            enabled: false,
            region: "us-east-1".to_string(),
            endpoint_url: String::new(),
            refresh_every_secs: 3600,
            focused_every_secs: 60,
            fuse_max_removed_share: 0.10,
            identitystore_per_second: 20,
            ssoadmin_per_second: 20,
        }
    }
}

/// The emulated Identity Center `tessera demo` starts (see the sandbox crate).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSection {
    /// Seeded organisation: `demo` (about 300 people) or `large` (100,000 people).
    pub org: String,
    /// Where its AWS endpoint (identitystore, sso-admin) listens.
    pub aws_listen: SocketAddr,
    /// Seconds between the emulated Entra ID's provisioning cycles (the real service: about
    /// 40 minutes; the demo is quicker so changes are seen while you watch).
    pub provisioning_every_secs: u64,
    /// Where the emulated S3 serving Q Developer's activity reports listens.
    pub s3_listen: SocketAddr,
    /// The emulated IdP in front of Identity Center: `entra` (Entra ID) or `pingone`.
    pub idp: String,
}

impl Default for SandboxSection {
    fn default() -> Self {
        Self {
            org: "demo".to_string(),
            aws_listen: SocketAddr::from(([127, 0, 0, 1], 4510)),
            provisioning_every_secs: 30,
            s3_listen: SocketAddr::from(([127, 0, 0, 1], 4511)),
            idp: "entra".to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Directory holding the built site (`pkg/tessera.js`, `.wasm`, `.css`, public assets).
    pub site_root: PathBuf,
    /// The address people reach Tessera at (`https://tessera.example.com`); empty for
    /// `http://<listen>`. Sign-in's redirect URI, the origin state-changing requests must come
    /// from, and whether cookies are `Secure` (https) follow from it.
    pub public_url: String,
}

impl ServerConfig {
    /// `public_url` without a trailing slash, or `http://<listen>`.
    pub fn public_origin(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: PathBuf::from("target/site"),
            public_url: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (created when missing) or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/tessera.db".to_string(),
            max_connections: 8,
            acquire_timeout_secs: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: `info`, `debug`, `tessera=debug,sqlx=warn`, …
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_string(),
            format: LogFormat::Pretty,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file {0} does not exist (given with --config or TESSERA_CONFIG)")]
    MissingFile(PathBuf),
    #[error("configuration error: {0}")]
    Invalid(String),
    #[error("configuration error: {key} = {value:?}: {reason}")]
    BadValue {
        key: &'static str,
        value: String,
        reason: String,
    },
}

impl Config {
    /// Loads the configuration. `file` is the path given on the command line (must exist) or
    /// `None` for `./tessera.toml` (used when present). `env` lists the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_FILE));
            }
            None => {}
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        let key = env
            .iter()
            .find(|(k, _)| k == store::secrets::KEY_VARIABLE)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty());
        figment = figment.merge(EnvOverrides::from_vars(env));
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe_figment_error(e)))?;
        config.open_secrets(key.as_deref())?;
        config.validate()?;
        Ok(config)
    }

    /// The settings that hold secrets, by key: given sealed (`tessera seal <key>`), they are
    /// opened here with `TESSERA_SECRET_KEY`.
    pub const SECRETS: &[&str] = &["auth.client_secret", "idp.client_secret"];

    fn secret_mut(&mut self, key: &str) -> Option<&mut String> {
        match key {
            "auth.client_secret" => Some(&mut self.auth.client_secret),
            "idp.client_secret" => Some(&mut self.idp.client_secret),
            _ => None,
        }
    }

    /// Opens every sealed secret with `key` (base64), naming the setting that fails; the
    /// secret itself is never part of an error.
    fn open_secrets(&mut self, key: Option<&str>) -> Result<(), ConfigError> {
        use store::secrets::{SecretKey, is_sealed, open_if_sealed};
        let key = match key {
            Some(k) => Some(
                SecretKey::from_base64(k).map_err(|e| ConfigError::BadValue {
                    key: store::secrets::KEY_VARIABLE,
                    value: "(hidden)".into(),
                    reason: e.to_string(),
                })?,
            ),
            None => None,
        };
        let key = key.map(std::sync::Arc::new);
        self.secret_key = key.clone();
        for name in Self::SECRETS {
            let Some(value) = self.secret_mut(name) else {
                continue;
            };
            if !is_sealed(value) {
                continue;
            }
            *value =
                open_if_sealed(value, name, key.as_deref()).map_err(|e| ConfigError::BadValue {
                    key: name,
                    value: "(sealed)".into(),
                    reason: e.to_string(),
                })?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:"))
        {
            return Err(ConfigError::BadValue {
                key: "database.url",
                value: store::redact_url(url),
                reason: "must start with sqlite: or postgres:".into(),
            });
        }
        if !(1..=1024).contains(&self.database.max_connections) {
            return Err(ConfigError::BadValue {
                key: "database.max_connections",
                value: self.database.max_connections.to_string(),
                reason: "must be between 1 and 1024".into(),
            });
        }
        if !(1..=300).contains(&self.database.acquire_timeout_secs) {
            return Err(ConfigError::BadValue {
                key: "database.acquire_timeout_secs",
                value: self.database.acquire_timeout_secs.to_string(),
                reason: "must be between 1 and 300 seconds".into(),
            });
        }
        if !(self.seats.price_per_month.is_finite()
            && (0.0..=100_000.0).contains(&self.seats.price_per_month))
        {
            return Err(ConfigError::BadValue {
                key: "seats.price_per_month",
                value: self.seats.price_per_month.to_string(),
                reason: "must be an amount between 0 and 100000".into(),
            });
        }
        let connection = &self.connection;
        if !(10..=86_400).contains(&connection.verify_every_secs) {
            return Err(ConfigError::BadValue {
                key: "connection.verify_every_secs",
                value: connection.verify_every_secs.to_string(),
                reason: "must be between 10 and 86400 seconds".into(),
            });
        }
        if !(connection.arrivals_max_missing_percent.is_finite()
            && (0.0..=100.0).contains(&connection.arrivals_max_missing_percent))
        {
            return Err(ConfigError::BadValue {
                key: "connection.arrivals_max_missing_percent",
                value: connection.arrivals_max_missing_percent.to_string(),
                reason: "must be a percentage between 0 and 100".into(),
            });
        }
        let currency = &self.seats.currency;
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ConfigError::BadValue {
                key: "seats.currency",
                value: currency.clone(),
                reason: "must be a three-letter currency code such as USD or EUR".into(),
            });
        }
        let ic = &self.identity_center;
        if !(0.0..=1.0).contains(&ic.fuse_max_removed_share) {
            return Err(ConfigError::BadValue {
                key: "identity_center.fuse_max_removed_share",
                value: ic.fuse_max_removed_share.to_string(),
                reason: "must be a share between 0.0 and 1.0 (0.1 = 10 %)".into(),
            });
        }
        if !(60..=7 * 24 * 3600).contains(&ic.refresh_every_secs) {
            return Err(ConfigError::BadValue {
                key: "identity_center.refresh_every_secs",
                value: ic.refresh_every_secs.to_string(),
                reason: "must be between 60 seconds and a week".into(),
            });
        }
        if ic.focused_every_secs != 0 && !(10..=24 * 3600).contains(&ic.focused_every_secs) {
            return Err(ConfigError::BadValue {
                key: "identity_center.focused_every_secs",
                value: ic.focused_every_secs.to_string(),
                reason: "must be 0 (none) or between 10 seconds and a day".into(),
            });
        }
        self.validate_idp()?;
        for (key, value) in [
            (
                "identity_center.identitystore_per_second",
                ic.identitystore_per_second,
            ),
            (
                "identity_center.ssoadmin_per_second",
                ic.ssoadmin_per_second,
            ),
        ] {
            if !(1..=10_000).contains(&value) {
                return Err(ConfigError::BadValue {
                    key,
                    value: value.to_string(),
                    reason: "must be between 1 and 10,000 requests per second".into(),
                });
            }
        }
        let public = self.server.public_origin();
        if url::Url::parse(&public)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .is_none()
        {
            return Err(ConfigError::BadValue {
                key: "server.public_url",
                value: self.server.public_url.clone(),
                reason: "must be an http(s) URL such as https://tessera.example.com".into(),
            });
        }
        let auth = &self.auth;
        if !(1..=24 * 60).contains(&auth.idle_timeout_mins) {
            return Err(ConfigError::BadValue {
                key: "auth.idle_timeout_mins",
                value: auth.idle_timeout_mins.to_string(),
                reason: "must be between 1 minute and a day".into(),
            });
        }
        if !(1..=7 * 24).contains(&auth.absolute_timeout_hours) {
            return Err(ConfigError::BadValue {
                key: "auth.absolute_timeout_hours",
                value: auth.absolute_timeout_hours.to_string(),
                reason: "must be between 1 hour and a week".into(),
            });
        }
        if !auth.client_ip_header.is_empty()
            && axum::http::HeaderName::from_bytes(auth.client_ip_header.as_bytes()).is_err()
        {
            return Err(ConfigError::BadValue {
                key: "auth.client_ip_header",
                value: auth.client_ip_header.clone(),
                reason: "must be an HTTP header name such as X-Forwarded-For, or empty".into(),
            });
        }
        if sandbox::seed::SeedSpec::named(&self.sandbox.org).is_none() {
            return Err(ConfigError::BadValue {
                key: "sandbox.org",
                value: self.sandbox.org.clone(),
                reason: "must be demo or large".into(),
            });
        }
        if !(1..=86_400).contains(&self.sandbox.provisioning_every_secs) {
            return Err(ConfigError::BadValue {
                key: "sandbox.provisioning_every_secs",
                value: self.sandbox.provisioning_every_secs.to_string(),
                reason: "must be between 1 second and 86,400 (a day)".into(),
            });
        }
        if sandbox::server::IdpKind::parse(&self.sandbox.idp).is_none() {
            return Err(ConfigError::BadValue {
                key: "sandbox.idp",
                value: self.sandbox.idp.clone(),
                reason: "must be entra or pingone".into(),
            });
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::BadValue {
                key: "log.level",
                value: self.log.level.clone(),
                reason: format!("not a log filter ({e}); use e.g. info, debug or tessera=debug"),
            });
        }
        Ok(())
    }

    fn validate_idp(&self) -> Result<(), ConfigError> {
        let idp = &self.idp;
        let needed: &[(&'static str, &str)] = match idp.kind.as_str() {
            "" => return Ok(()),
            "entra" => &[
                ("idp.tenant", &idp.tenant),
                ("idp.client_id", &idp.client_id),
                ("idp.client_secret", &idp.client_secret),
            ],
            "pingone" => &[
                ("idp.environment_id", &idp.environment_id),
                ("idp.client_id", &idp.client_id),
                ("idp.client_secret", &idp.client_secret),
            ],
            other => {
                return Err(ConfigError::BadValue {
                    key: "idp.kind",
                    value: other.to_string(),
                    reason: "must be entra, pingone, or empty for none".into(),
                });
            }
        };
        for (key, value) in needed {
            if value.trim().is_empty() {
                return Err(ConfigError::BadValue {
                    key,
                    value: String::new(),
                    reason: format!(
                        "is needed to read the {} scope (the secret goes in TESSERA_IDP__CLIENT_SECRET)",
                        idp.kind
                    ),
                });
            }
        }
        for (key, value) in [
            ("idp.login_url", &idp.login_url),
            ("idp.graph_url", &idp.graph_url),
            ("idp.auth_url", &idp.auth_url),
            ("idp.api_url", &idp.api_url),
        ] {
            if !value.is_empty()
                && url::Url::parse(value)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .is_none()
            {
                return Err(ConfigError::BadValue {
                    key,
                    value: value.clone(),
                    reason: "must be an http(s) URL".into(),
                });
            }
        }
        Ok(())
    }

    pub fn store_options(&self) -> store::ConnectOptions {
        store::ConnectOptions {
            max_connections: self.database.max_connections,
            acquire_timeout: Duration::from_secs(self.database.acquire_timeout_secs),
        }
    }
}

/// The `TESSERA_<SECTION>__<KEY>` variables as a figment provider: `TESSERA_DATABASE__URL=x`
/// becomes `database.url = "x"`. Only sectioned variables count: others with the prefix
/// (`TESSERA_CONFIG`, test settings) are not configuration and must not trip unknown-key checks.
/// Values parse as TOML-like scalars where they can (numbers, booleans), else stay strings.
struct EnvOverrides(figment::value::Dict);

impl EnvOverrides {
    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        use figment::value::{Dict, Value};
        let mut root = Dict::new();
        for (key, raw) in vars {
            let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if !rest.contains("__") {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            let value: Value = raw.parse().unwrap_or_else(|_| Value::from(raw.clone()));
            insert_path(&mut root, &path, value);
        }
        Self(root)
    }
}

impl figment::Provider for EnvOverrides {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named("TESSERA_<SECTION>__<KEY> environment variables")
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        Ok(figment::Profile::Default.collect(self.0.clone()))
    }
}

fn insert_path(dict: &mut figment::value::Dict, path: &[String], value: figment::value::Value) {
    use figment::value::{Dict, Value};
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [head, rest @ ..] => {
            let entry = dict
                .entry(head.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

/// Figment's errors carry the key path and where the value came from; keep every one of them.
fn describe_figment_error(err: figment::Error) -> String {
    err.into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                format!("key `{}`: ", e.path.join("."))
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    Some(src) => format!(" (from {} {src})", m.name),
                    None => format!(" (from {})", m.name),
                })
                .unwrap_or_default();
            format!("{key}{}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
