//! The HTTP surface: health probes, server functions, server-rendered pages and static assets.

use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use serde_json::json;
use tower_http::trace::TraceLayer;

/// Builds the whole application router around `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/api/{*fn_name}",
            post(server_fn_handler).get(server_fn_handler),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
    handle_server_fns_with_context(move || provide_context(state.clone()), request)
        .await
        .into_response()
}
