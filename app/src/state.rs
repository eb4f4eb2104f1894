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
    /// Starts refreshes and reports their progress; None when Identity Center is not read.
    pub refresh: Option<std::sync::Arc<dyn RefreshControl>>,
    /// What one seat costs a month.
    pub seat_price: SeatPrice,
    /// Verifies the connection checklist; None when nothing can verify it (tests).
    pub connection: Option<std::sync::Arc<dyn ConnectionControl>>,
    /// The key secrets entered in the console are sealed with (`TESSERA_SECRET_KEY`); None
    /// when it is not set, and then such secrets are refused.
    pub secrets: Option<std::sync::Arc<store::secrets::SecretKey>>,
    /// Who leads a group (its owners in the IdP, the leads the configuration names); None
    /// when neither is known (tests without an IdP).
    pub leads: Option<std::sync::Arc<dyn TeamLeads>>,
}

/// A group's team leads as the IdP and the configuration name them (implemented by the
/// server over the IdP's directory and `auth.teams`).
pub trait TeamLeads: Send + Sync + std::fmt::Debug {
    /// The leads of the IdP group `idp_id` (None: a group made by hand in Identity Center) named
    /// `name`. Err: what could not be read and what to do.
    fn leads_of<'a>(
        &'a self,
        idp_id: Option<&'a str>,
        name: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Leads, String>>;
}

/// What [`TeamLeads::leads_of`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leads {
    /// The group's owners in the IdP.
    pub owners: Vec<connectors::entra::PersonRef>,
    /// The user names or emails `auth.teams` gives this group to.
    pub configured: Vec<String>,
    /// Whether the IdP has group owners at all (Entra ID does, PingOne does not), so an empty
    /// list can say which it means.
    pub idp_has_owners: bool,
}

/// The connection checklist's verification as the pages drive it (implemented by the
/// server's checker).
pub trait ConnectionControl: Send + Sync + std::fmt::Debug {
    /// Verifies every check now and stores the outcomes; the reason when it could not.
    fn verify(&self) -> futures::future::BoxFuture<'_, Result<(), String>>;
}

/// What one seat costs a month, in the configured currency.
#[derive(Clone, Debug, PartialEq)]
pub struct SeatPrice {
    pub per_month: f64,
    pub currency: String,
}

impl SeatPrice {
    /// `seats` seats a month, as "USD 1,234.00".
    pub fn cost_of(&self, seats: u64) -> String {
        let cents = (self.per_month * 100.0).round() as u64 * seats;
        format!(
            "{} {}.{:02}",
            self.currency,
            crate::ui::thousands(cents / 100),
            cents % 100
        )
    }
}

/// The refresh job as the pages drive it (implemented by the server's refresher).
pub trait RefreshControl: Send + Sync + std::fmt::Debug {
    /// Starts a full (or focused) refresh in the background; the reason when it cannot start.
    fn start(&self, focused: bool) -> Result<(), String>;
    /// Whether a refresh is running in this process, and what it has done.
    fn progress(&self) -> crate::overview::Progress;
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, or the error a server function answers when it is missing.
pub fn app_state() -> Result<AppState, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        leptos::prelude::ServerFnError::new("server state is missing from the request context")
    })
}

/// Why a server function refused a call, which decides the HTTP status it answers with (the
/// one place refusals become statuses; a failure of the server itself stays a 500).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The input does not read (400).
    Input,
    /// Nobody is signed in (401).
    SignIn,
    /// The caller's role does not allow it (403).
    Role,
    /// It cannot be done in the current state: a refresh already running, a hold that no
    /// longer fits, a part this deployment does not run (409).
    Conflict,
}

impl Refused {
    pub fn status(self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Refused::Input => StatusCode::BAD_REQUEST,
            Refused::SignIn => StatusCode::UNAUTHORIZED,
            Refused::Role => StatusCode::FORBIDDEN,
            Refused::Conflict => StatusCode::CONFLICT,
        }
    }
}

/// A refusal as a server function's answer: `message` (what went wrong and what to do) with
/// the refusal's status. Only a call to the server function itself gets the status: a page
/// whose render made the call (streamed, its status already sent) shows the message instead.
pub fn refuse(why: Refused, message: impl Into<String>) -> leptos::prelude::ServerFnError {
    use leptos::prelude::use_context;
    let server_fn_call = use_context::<axum::http::request::Parts>()
        .is_some_and(|p| p.uri.path().starts_with("/api/"));
    if server_fn_call && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(why.status());
    }
    leptos::prelude::ServerFnError::new(message.into())
}

/// A store failure as a server function's answer: logged, and worded for the person.
pub fn store_failed(what: &str, err: store::StoreError) -> leptos::prelude::ServerFnError {
    tracing::warn!(error = %err, "{what} failed");
    leptos::prelude::ServerFnError::new(format!(
        "{what} failed: {err}. Check the database is reachable (see /readyz) and try again."
    ))
}
