//! The HTTP surface: health probes, sign-in, server functions, server-rendered pages and static
//! assets, behind the access guard, the session layer and the security headers
//! ([`crate::auth`]).

use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;

use leptos::prelude::provide_context;
use leptos_axum::{
    AxumRouteListing, LeptosRoutes, generate_route_list, handle_server_fns_with_context,
};
use serde_json::json;
use tower_http::trace::TraceLayer;

/// Sign-in and its sessions, for [`router`].
#[derive(Clone)]
pub struct Security {
    pub sign_in: Arc<crate::auth::SignIn>,
    pub sessions: store::Sessions,
}

/// The app's routes, generated once per process. Generating them renders the app with resource
/// loading suppressed through a process-wide flag (leptos_server's `SuppressResourceLoad`): a
/// page rendered by another router in the same process at that moment waits forever for its
/// resources (leptos#4773). Once per process, before any router serves, nothing overlaps it.
pub fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The console's listener: every accepted connection sends at once (`TCP_NODELAY`). A page
/// streams in several writes (the shell, then each part as its data arrives); with Nagle's
/// algorithm a write waits for the peer to acknowledge the one before, and a client that delays
/// its acknowledgements (40 ms on Linux) stalled every streamed page by that much (BENCHMARKS.md,
/// nineteenth session).
pub fn listener(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    listener.tap_io(send_at_once as fn(&mut tokio::net::TcpStream))
}

fn send_at_once(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
    }
}

/// Builds the whole application router around `state`.
pub fn router(state: AppState, security: Security) -> Router {
    use tower_sessions::cookie::SameSite;
    use tower_sessions::{Expiry, SessionManagerLayer};
    let routes = routes();
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    let idle = time::Duration::seconds(security.sign_in.idle_timeout().num_seconds());
    let sessions = SessionManagerLayer::new(security.sessions)
        .with_name("tessera_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(security.sign_in.secure_cookies())
        .with_expiry(Expiry::OnInactivity(idle));
    let sign_in = security.sign_in;
    let secure = sign_in.secure_cookies();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                // A page's render only reads: its kept reads share one data version.
                let mut state = context_state.clone();
                state.store = state.store.for_one_page();
                provide_context(state);
                leptos::nonce::provide_nonce();
                remember_page_owner();
            },
            move || shell(shell_options.clone()),
        )
        .layer(axum::middleware::from_fn(render_with_page_owner));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            app::theme::PATH,
            post(move |body: axum::body::Bytes| set_theme(secure, body)),
        )
        .route(
            "/api/{*fn_name}",
            post(server_fn_handler).get(server_fn_handler),
        )
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        .merge(crate::auth::routes(sign_in.clone()))
        .layer(axum::middleware::from_fn_with_state(
            sign_in.clone(),
            crate::auth::guard,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            sign_in,
            crate::auth::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
}

tokio::task_local! {
    /// The reactive owner a page's rendering was given (its root), kept for that request's task.
    static PAGE_OWNER: std::cell::RefCell<Option<leptos::reactive::owner::Owner>>;
}

/// Called as a page's rendering starts, under its root owner: keeps that owner for
/// [`render_with_page_owner`].
fn remember_page_owner() {
    let _ = PAGE_OWNER.try_with(|owner| {
        *owner.borrow_mut() = leptos::reactive::owner::Owner::current();
    });
}

/// Polls a page's rendering with the page's own reactive owner as the current one.
///
/// A page rendered whole (`SsrMode::Async`) waits for its data inside leptos' rendering; once
/// that is done, leptos_axum reads from the thread's current owner which chunks of the split
/// wasm the page used, to name them in its head (`leptos_integration_utils`, `from_app`), and
/// the nonce. That current owner is a thread-local: when the rendering had to wait, the task
/// may resume on another worker thread, or after another request set its own there, so the
/// page lost its preloads (seen as a flaky end-to-end test), or named another request's. Setting
/// the page's root on every poll makes the thread-local the page's own, whatever ran before.
async fn render_with_page_owner(req: Request, next: axum::middleware::Next) -> Response {
    PAGE_OWNER
        .scope(std::cell::RefCell::new(None), async move {
            let mut render = std::pin::pin!(next.run(req));
            std::future::poll_fn(|cx| {
                let owner = PAGE_OWNER.with(|owner| owner.borrow().clone());
                match owner {
                    Some(owner) => owner.with(|| std::future::Future::poll(render.as_mut(), cx)),
                    None => std::future::Future::poll(render.as_mut(), cx),
                }
            })
            .await
        })
        .await
}

/// `POST /preferences/theme` (a form: `theme` system, light or dark, and `back`, the page it
/// came from): keeps the choice in a cookie for a year and returns to `back` (a path of this
/// site only). The guard has checked the form came from Tessera's own pages.
async fn set_theme(secure: bool, body: axum::body::Bytes) -> Response {
    use app::theme::{COOKIE, Theme};
    let fields: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(theme) = fields.get("theme").and_then(|t| Theme::parse(t)) else {
        return (
            StatusCode::BAD_REQUEST,
            "theme must be system, light or dark: use the switch in the page's header",
        )
            .into_response();
    };
    let back = crate::auth::local_path(fields.get("back"));
    let cookie = tower_sessions::cookie::Cookie::build((COOKIE, theme.as_str()))
        .path("/")
        .max_age(time::Duration::days(365))
        .http_only(true)
        .same_site(tower_sessions::cookie::SameSite::Lax)
        .secure(secure)
        .build();
    let mut response = axum::response::Redirect::to(&back).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie.to_string()) {
        response
            .headers_mut()
            .insert(axum::http::header::SET_COOKIE, value);
    }
    response
}

/// The process is up and serving HTTP.
async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" })))
}

/// The process can serve requests: its database answers and its schema is current.
async fn readyz(State(state): State<AppState>) -> Response {
    let ping = state.store.ping().await;
    let schema = state.store.schema_status().await;
    match (ping, schema) {
        (Ok(took), Ok(schema)) => {
            let pending = schema.pending;
            let status = if pending == 0 {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (
                status,
                axum::Json(json!({
                    "status": if pending == 0 { "ready" } else { "migrations pending" },
                    "database": state.store.backend().as_str(),
                    "round_trip_ms": took.as_secs_f64() * 1000.0,
                    "migrations_pending": pending,
                })),
            )
                .into_response()
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({
                    "status": "database unavailable",
                    "database": state.store.backend().as_str(),
                    "error": e.to_string(),
                })),
            )
                .into_response()
        }
    }
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> Response {
    let caller = request
        .extensions()
        .get::<domain::access::Caller>()
        .cloned()
        .unwrap_or(domain::access::Caller::Anonymous);
    handle_server_fns_with_context(
        move || {
            provide_context(state.clone());
            provide_context(caller.clone());
        },
        request,
    )
    .await
    .into_response()
}
