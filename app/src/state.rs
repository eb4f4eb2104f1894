//! What the server hands to every page render and server function (server side only).

use chrono::{DateTime, Utc};
use leptos::prelude::LeptosOptions;
use store::Store;

/// Shared, cheaply cloned state: provided to server functions as Leptos context and to axum
/// handlers as router state.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    /// When this process started serving.
    pub started_at: DateTime<Utc>,
    /// The running build's version.
    pub version: &'static str,
    /// `demo` or `serve`, shown on the status card.
    pub mode: &'static str,
    /// Where forms may send the browser besides Tessera itself (the IdP's origin, for
    /// sign-out), for the pages' Content-Security-Policy.
    pub form_action: String,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
