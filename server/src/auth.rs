//! Sign-in with the organisation's IdP (OpenID Connect through [`connectors::oidc`]), sessions in
//! the database, the caller of each request, and the checks every request passes: the page or
//! server function's declared access ([`app::access`]), the origin of state-changing requests,
//! and the security headers.
//!
//! - `GET /auth/sign-in?next=/path`: starts a sign-in (state, nonce and PKCE kept in the
//!   session, never in the browser) and sends the browser to the IdP.
//! - `GET /auth/callback`: finishes it; the session id is rotated, so a cookie from before
//!   sign-in is worth nothing after it; roles are resolved from the claims by configuration.
//! - `POST /auth/sign-out` (CSRF token): ends the session and the IdP's (end-session endpoint).
//! - `POST /auth/sign-out-everywhere` (CSRF token): the same, and every other session of the
//!   person's is no longer accepted.
//! - `GET /auth/signed-out`: the page people land on afterwards.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Duration, Utc};
use connectors::oidc::{Groups, OidcProvider, OidcSettings, Pending, SignedIn};
use domain::access::{Caller, Decision, GroupsClaim, Role, RoleMapping};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const PENDING: &str = "tessera.pending";
const USER: &str = "tessera.user";
/// When the session was last seen in use (moved forward at most every quarter idle timeout).
const SEEN: &str = "tessera.seen";

/// How this deployment signs people in.
pub struct SignIn {
    provider: OidcProvider,
    mapping: RoleMapping,
    /// `scheme://host[:port]` people reach Tessera at.
    origin: String,
    absolute_timeout: Duration,
    /// A session not used for this long ends (its record and cookie expire).
    idle_timeout: Duration,
    /// Sign-in attempts per client address; `None` when turned off.
    limit: Option<governor::DefaultKeyedRateLimiter<IpAddr>>,
    /// Where the client's address comes from behind a proxy; the peer's otherwise.
    client_ip_header: Option<axum::http::HeaderName>,
    /// Where sign-outs everywhere are recorded (the deployment's database).
    store: store::Store,
    /// Entra's directory (Graph, with the `[idp]` app's credentials), when configured: resolves
    /// a groups overage and finds the groups a team lead owns (their teams).
    directory: Option<connectors::entra::EntraReader>,
    /// Teams by configuration: a lead's user name or email (lower case) → group names or ids.
    teams: HashMap<String, Vec<String>>,
}

/// What the session keeps about a signed-in person.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionUser {
    who: SignedIn,
    roles: Vec<Role>,
    signed_in_at: DateTime<Utc>,
    /// The synchronizer token forms that post must carry.
    csrf: String,
    /// A team lead's teams: the IdP groups they own.
    #[serde(default)]
    teams: Vec<connectors::entra::GroupRef>,
}

/// A pending sign-in and where to go afterwards.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingSignIn {
    pending: Pending,
    next: String,
}

/// Why sign-in could not be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error(
        "sign-in is not configured: set auth.issuer, auth.client_id and auth.client_secret (TESSERA_AUTH__ISSUER, TESSERA_AUTH__CLIENT_ID, TESSERA_AUTH__CLIENT_SECRET) to your IdP's OpenID Connect application"
    )]
    NotConfigured,
    #[error("{0}")]
    Discovery(#[from] connectors::oidc::SignInError),
}

impl SignIn {
    /// Discovers the IdP and prepares sign-in. `origin` is where people reach Tessera.
    pub async fn discover(
        auth: &crate::config::AuthSection,
        origin: &str,
        store: store::Store,
    ) -> Result<Self, AuthSetupError> {
        if auth.issuer.is_empty() || auth.client_id.is_empty() {
            return Err(AuthSetupError::NotConfigured);
        }
        let settings = OidcSettings {
            issuer: auth.issuer.clone(),
            client_id: auth.client_id.clone(),
            client_secret: (!auth.client_secret.is_empty()).then(|| auth.client_secret.clone()),
            redirect_url: format!("{origin}/auth/callback"),
            scopes: auth.scopes.clone(),
        };
        Ok(Self {
            provider: OidcProvider::discover(&settings).await?,
            mapping: auth.roles.clone(),
            origin: origin.to_string(),
            absolute_timeout: Duration::hours(auth.absolute_timeout_hours as i64),
            idle_timeout: Duration::minutes(auth.idle_timeout_mins as i64),
            limit: std::num::NonZeroU32::new(auth.sign_in_per_minute)
                .map(|n| governor::RateLimiter::keyed(governor::Quota::per_minute(n))),
            client_ip_header: axum::http::HeaderName::from_bytes(auth.client_ip_header.as_bytes())
                .ok(),
            store,
            directory: None,
            teams: auth
                .teams
                .iter()
                .map(|(lead, groups)| (lead.to_lowercase(), groups.clone()))
                .collect(),
        })
    }

    /// Reads Entra's directory at sign-in: a groups overage is resolved through Graph instead
    /// of refusing the sign-in, and a team lead's teams are the groups they own.
    pub fn with_directory(mut self, directory: connectors::entra::EntraReader) -> Self {
        self.directory = Some(directory);
        self
    }

    /// The IdP's origin (sign-out forms are redirected there; the CSP allows it).
    pub fn idp_origin(&self) -> String {
        url::Url::parse(self.provider.issuer())
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    pub fn secure_cookies(&self) -> bool {
        self.origin.starts_with("https://")
    }

    /// How long an unused session lasts (`auth.idle_timeout_mins`).
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }
}

/// The sign-in routes; starting a sign-in and the IdP's answer are rate-limited per client.
pub fn routes(sign_in: Arc<SignIn>) -> Router {
    Router::new()
        .route("/auth/sign-in", get(begin))
        .route("/auth/callback", get(callback))
        .route_layer(axum::middleware::from_fn_with_state(
            sign_in.clone(),
            limit_sign_in,
        ))
        .route("/auth/sign-out", post(sign_out))
        .route("/auth/sign-out-everywhere", post(sign_out_everywhere))
        .route("/auth/signed-out", get(signed_out))
        .with_state(sign_in)
}

/// The client's address: the last entry of the configured proxy header, else the connection's
/// peer (unspecified when neither is known, as in in-process tests).
fn client_ip(request: &Request, header: Option<&axum::http::HeaderName>) -> IpAddr {
    let forwarded = header
        .and_then(|h| request.headers().get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    forwarded
        .or_else(|| {
            request
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
}

/// Refuses sign-in attempts beyond `auth.sign_in_per_minute` from one client address, with the
/// time to wait.
async fn limit_sign_in(
    State(sign_in): State<Arc<SignIn>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limit) = &sign_in.limit else {
        return next.run(request).await;
    };
    let ip = client_ip(&request, sign_in.client_ip_header.as_ref());
    if limit.len() > 100_000 {
        limit.retain_recent();
    }
    match limit.check_key(&ip) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            use governor::clock::Clock;
            let wait = not_until
                .wait_time_from(governor::clock::DefaultClock::default().now())
                .as_secs()
                .max(1);
            tracing::warn!(%ip, "sign-in attempts over the limit; refused for {wait} s");
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-in attempts",
                &format!(
                    "Too many sign-in attempts came from your address. Wait {wait} seconds, then sign in again."
                ),
                ("/auth/sign-in", "Sign in"),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

impl SignIn {
    /// A person's groups when the ID token could not list them (Entra's overage): read from
    /// the directory, ids and names both (the role mapping may name either). Unknown without a
    /// directory or when it does not answer — never "no groups".
    async fn groups_of(&self, who: &SignedIn) -> GroupsClaim {
        let (Some(directory), Some(oid)) = (&self.directory, &who.object_id) else {
            return GroupsClaim::Unknown;
        };
        match directory.groups_of(oid).await {
            Ok(groups) => GroupsClaim::Listed(
                groups
                    .into_iter()
                    .flat_map(|g| [g.id, g.display_name])
                    .collect(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "sign-in: the person's groups could not be read from the directory");
                GroupsClaim::Unknown
            }
        }
    }

    /// A team lead's teams: the groups configured for them (`auth.teams`, by user name or
    /// email) and the groups they own in the directory, each once. A failed directory read is
    /// logged and adds none, so the lead sees too few people rather than too many.
    async fn teams_of(&self, who: &SignedIn) -> Vec<connectors::entra::GroupRef> {
        let mut teams: Vec<connectors::entra::GroupRef> = [&who.preferred_username, &who.email]
            .into_iter()
            .flatten()
            .filter_map(|name| self.teams.get(&name.to_lowercase()))
            .flatten()
            .map(|group| connectors::entra::GroupRef {
                id: group.clone(),
                display_name: group.clone(),
            })
            .collect();
        if let (Some(directory), Some(oid)) = (&self.directory, &who.object_id) {
            match directory.groups_owned_by(oid).await {
                Ok(owned) => teams.extend(owned),
                Err(e) => {
                    tracing::warn!(error = %e, "sign-in: the team lead's groups could not be read from the directory");
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        teams.retain(|t| seen.insert(t.id.clone()));
        teams
    }
}

/// The caller behind a session: anonymous without a sign-in, when the sign-in is older than
/// the absolute timeout, or when it was ended everywhere afterwards (the session is then
/// emptied). A database that cannot say whether it was ended counts as ended.
async fn session_user(session: &Session, sign_in: &SignIn) -> Option<SessionUser> {
    let user: SessionUser = session.get(USER).await.ok().flatten()?;
    let revoked = match sign_in
        .store
        .sessions_revoked_before(&user.who.subject)
        .await
    {
        Ok(before) => before.is_some_and(|t| user.signed_in_at <= t),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the sign-outs everywhere; treating the session as ended");
            true
        }
    };
    let now = Utc::now();
    if revoked || now - user.signed_in_at > sign_in.absolute_timeout {
        let _ = session.flush().await;
        return None;
    }
    // tower-sessions saves only a changed session, and only a saved one gets its record's and
    // cookie's expiry moved a whole idle timeout ahead: without this a session in use would
    // end one idle timeout after sign-in. One write per session per quarter idle timeout.
    let seen: Option<DateTime<Utc>> = session.get(SEEN).await.ok().flatten();
    if seen.is_none_or(|at| now - at >= sign_in.idle_timeout / 4) {
        let _ = session.insert(SEEN, now).await;
    }
    Some(user)
}

fn caller_of(user: &Option<SessionUser>) -> Caller {
    match user {
        None => Caller::Anonymous,
        Some(u) => Caller::Person {
            subject: u.who.subject.clone(),
            name: u
                .who
                .name
                .clone()
                .or_else(|| u.who.preferred_username.clone())
                .unwrap_or_else(|| u.who.subject.clone()),
            roles: u.roles.clone(),
        },
    }
}

/// A simple page for sign-in outcomes (text escaped; no script).
fn page(status: StatusCode, title: &str, message: &str, link: (&str, &str)) -> Response {
    let esc = |s: &str| html_escape::encode_text(s).into_owned();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} · Tessera</title><link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\"><link rel=\"stylesheet\" href=\"/pkg/tessera.css\"></head>\
         <body class=\"min-h-screen bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100\"><main class=\"mx-auto max-w-xl px-6 py-16\">\
         <h1 class=\"text-2xl font-semibold\">{}</h1><p class=\"mt-3\" data-testid=\"auth-message\">{}</p>\
         <p class=\"mt-6\"><a class=\"text-indigo-600 underline\" href=\"{}\">{}</a></p></main></body></html>",
        esc(title),
        esc(title),
        esc(message),
        html_escape::encode_double_quoted_attribute(link.0),
        esc(link.1)
    );
    (status, Html(html)).into_response()
}

/// Only a path on this site (never `//host` or a URL) is a place to return to.
pub(crate) fn local_path(next: Option<&String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .cloned()
        .unwrap_or_else(|| "/".to_string())
}

async fn begin(
    State(sign_in): State<Arc<SignIn>>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (url, pending) = sign_in.provider.begin();
    let record = PendingSignIn {
        pending,
        next: local_path(query.get("next")),
    };
    if let Err(e) = session.insert(PENDING, record).await {
        tracing::warn!(error = %e, "sign-in: the session could not be saved");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in unavailable",
            "Tessera could not save your sign-in (its database did not answer). Try again in a moment.",
            ("/auth/sign-in", "Try again"),
        );
    }
    Redirect::to(&url).into_response()
}

async fn callback(
    State(sign_in): State<Arc<SignIn>>,
    session: Session,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let again = ("/auth/sign-in", "Sign in again");
    let pending: Option<PendingSignIn> = session.remove(PENDING).await.ok().flatten();
    let Some(pending) = pending else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in not recognised",
            "This answer from your identity provider does not belong to a sign-in started in this browser (or it was already used). Start again.",
            again,
        );
    };
    let who = match sign_in
        .provider
        .callback(&pending.pending, &params, Utc::now())
        .await
    {
        Ok(who) => who,
        Err(e) => {
            tracing::info!(error = %e, "sign-in refused");
            return page(
                StatusCode::FORBIDDEN,
                "Sign-in failed",
                &e.to_string(),
                again,
            );
        }
    };
    let groups = match &who.groups {
        Groups::Listed(g) => GroupsClaim::Listed(g.clone()),
        Groups::Overage => sign_in.groups_of(&who).await,
        Groups::NotSent => GroupsClaim::NotSent,
    };
    let roles = match sign_in.mapping.resolve(&who.roles, &groups) {
        Ok(roles) => roles,
        Err(e) => {
            tracing::info!(subject = %who.subject, "sign-in refused: {e}");
            return page(
                StatusCode::FORBIDDEN,
                "Sign-in refused",
                &e.to_string(),
                again,
            );
        }
    };
    // A new session id: whatever cookie the browser held before is not a signed-in session.
    if let Err(e) = session.cycle_id().await {
        tracing::warn!(error = %e, "sign-in: the session id could not be rotated");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in unavailable",
            "Tessera could not start your session (its database did not answer). Try again in a moment.",
            again,
        );
    }
    let teams = if roles.contains(&Role::TeamLead) {
        sign_in.teams_of(&who).await
    } else {
        Vec::new()
    };
    let user = SessionUser {
        who,
        roles,
        signed_in_at: Utc::now(),
        csrf: connectors::oidc::random_token(),
        teams,
    };
    tracing::info!(subject = %user.who.subject, roles = ?user.roles, "signed in");
    if session.insert(USER, user).await.is_err() {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in unavailable",
            "Tessera could not save your session. Try again in a moment.",
            again,
        );
    }
    Redirect::to(&pending.next).into_response()
}

#[derive(Deserialize)]
struct SignOutForm {
    csrf: String,
}

async fn sign_out(
    State(sign_in): State<Arc<SignIn>>,
    session: Session,
    Form(form): Form<SignOutForm>,
) -> Response {
    end_session(&sign_in, &session, &form, false).await
}

/// Signs the person out of every browser and device (every session of theirs signed in until
/// now), then out of this one as [`sign_out`] does.
async fn sign_out_everywhere(
    State(sign_in): State<Arc<SignIn>>,
    session: Session,
    Form(form): Form<SignOutForm>,
) -> Response {
    end_session(&sign_in, &session, &form, true).await
}

async fn end_session(
    sign_in: &SignIn,
    session: &Session,
    form: &SignOutForm,
    everywhere: bool,
) -> Response {
    let Some(user) = session_user(session, sign_in).await else {
        return Redirect::to("/auth/signed-out").into_response();
    };
    if !bool::from(subtle_eq(user.csrf.as_bytes(), form.csrf.as_bytes())) {
        return page(
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "The sign-out form did not carry this session's token. Use the Sign out button in Tessera.",
            ("/", "Back to Tessera"),
        );
    }
    if everywhere {
        if let Err(e) = sign_in
            .store
            .revoke_sessions(Some(&user.who.subject), Utc::now())
            .await
        {
            tracing::warn!(error = %e, "sign-out everywhere could not be recorded");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-out everywhere failed",
                "Tessera could not record it (its database did not answer); your other sessions are still open. Try again in a moment.",
                ("/", "Back to Tessera"),
            );
        }
        tracing::info!(subject = %user.who.subject, "signed out everywhere");
    }
    let _ = session.flush().await;
    let after = format!("{}/auth/signed-out", sign_in.origin);
    match sign_in.provider.end_session_url(&user.who, &after) {
        Ok(Some(url)) => Redirect::to(&url).into_response(),
        _ => Redirect::to("/auth/signed-out").into_response(),
    }
}

/// Constant-time comparison of two tokens.
fn subtle_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    use subtle::ConstantTimeEq;
    if a.len() != b.len() {
        return subtle::Choice::from(0);
    }
    a.ct_eq(b)
}

async fn signed_out() -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        "You are signed out of Tessera.",
        ("/auth/sign-in", "Sign in again"),
    )
}

/// Every request: who is calling (provided to pages and server functions), whether the page or
/// server function allows them, and whether a state-changing request comes from this site.
pub async fn guard(
    State(sign_in): State<Arc<SignIn>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !same_origin(&request, &sign_in.origin)
    {
        return (
            StatusCode::FORBIDDEN,
            "Refused: this request did not come from Tessera's own pages (its Origin is missing or another site's).",
        )
            .into_response();
    }
    let Some(access) = app::access::requirement(&path) else {
        tracing::error!(%path, "a server function without declared access was called");
        return (
            StatusCode::FORBIDDEN,
            "Refused: this server function declares no access rule.",
        )
            .into_response();
    };
    if access == domain::access::Access::Public {
        // Probes, assets and the sign-in routes: no session read.
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the session layer is missing",
        )
            .into_response();
    };
    let user = session_user(&session, &sign_in).await;
    let caller = caller_of(&user);
    match caller.decide(access) {
        Decision::Allow => {}
        Decision::SignInFirst if path.starts_with("/api/") => {
            return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
        }
        Decision::SignInFirst => {
            let next: String =
                url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
            return Redirect::to(&format!("/auth/sign-in?next={next}")).into_response();
        }
        Decision::Forbidden => {
            return (
                StatusCode::FORBIDDEN,
                "Your role does not allow this. Ask a security admin if you need it.",
            )
                .into_response();
        }
    }
    // A signed-in server function call must carry the session's token (the page's
    // `<meta name="csrf-token">`, sent by `app::csrf::CsrfClient`), beside the Origin check.
    if let Some(u) = &user
        && path.starts_with("/api/")
        && !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
    {
        let sent = request
            .headers()
            .get(app::csrf::HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        if !bool::from(subtle_eq(u.csrf.as_bytes(), sent)) {
            return (
                StatusCode::FORBIDDEN,
                "Refused: this call did not carry your session's CSRF token. Reload the page and try again.",
            )
                .into_response();
        }
    }
    request.extensions_mut().insert(caller);
    if let Some(u) = user {
        request.extensions_mut().insert(app::access::Teams(
            u.teams.into_iter().map(|t| t.display_name).collect(),
        ));
        request
            .extensions_mut()
            .insert(app::access::CsrfToken(u.csrf));
    }
    let mut response = next.run(request).await;
    // Behind sign-in: personal data, never cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether a state-changing request's `Origin` (or, without one, `Referer`) is this site.
fn same_origin(request: &Request, origin: &str) -> bool {
    let headers = request.headers();
    if let Some(o) = headers.get(header::ORIGIN) {
        return o.to_str().is_ok_and(|o| o == origin);
    }
    headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .is_some_and(|r| r.origin().ascii_serialization() == origin)
}

/// Headers on every response: no sniffing, no framing, no referrer leaks; HSTS behind https.
pub async fn security_headers(
    State(sign_in): State<Arc<SignIn>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if sign_in.secure_cookies() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        // Pages rendered by Leptos set their own, with the script nonce.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            ),
        );
    }
    response
}
