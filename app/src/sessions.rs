//! Ending sessions: a security admin can sign everyone out at once (after an incident, or when
//! the role mapping changed); each person can sign themselves out everywhere from the header.

use leptos::prelude::*;

/// Ends every session of every person (the admin's own included): anyone signed in until now
/// must sign in again. Security admins only (declared in `access::SERVER_FNS`).
#[server(prefix = "/api", endpoint = "end_all_sessions", client = crate::csrf::CsrfClient)]
pub async fn end_all_sessions() -> Result<String, ServerFnError> {
    crate::access::check("end_all_sessions")?;
    let state = crate::state::app_state()?;
    let who = match crate::access::caller() {
        domain::access::Caller::Person { subject, .. } => subject,
        domain::access::Caller::Anonymous => {
            return Err(crate::state::refuse(
                crate::state::Refused::SignIn,
                "sign in first",
            ));
        }
    };
    let at = chrono::Utc::now();
    state.store.revoke_sessions(None, at).await.map_err(|e| {
        tracing::warn!(error = %e, "ending every session failed");
        ServerFnError::new(format!(
            "Sessions were not ended: the database did not answer ({e}). Try again."
        ))
    })?;
    tracing::warn!(by = %who, "every session ended by a security admin");
    Ok(format!(
        "Every session signed in until {} has ended; everyone, you included, signs in again.",
        at.format("%Y-%m-%d %H:%M:%S UTC")
    ))
}

/// The security admin's "Sessions" card.
#[component]
pub fn SessionsCard() -> impl IntoView {
    let end = ServerAction::<EndAllSessions>::new();
    let result = end.value();
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="sessions-title">
            <h2 id="sessions-title" class="text-base font-semibold">"Sessions"</h2>
            <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                "End every session at once — after an incident, or when roles changed. Everyone, you included, signs in again."
            </p>
            <button
                type="button"
                data-testid="end-all-sessions"
                class="mt-4 rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-700 disabled:opacity-50"
                disabled=move || end.pending().get()
                on:click=move |_| {
                    end.dispatch(EndAllSessions {});
                }
            >
                "End every session"
            </button>
            <p data-testid="end-all-sessions-result" class="mt-3 text-sm" role="status">
                {move || match result.get() {
                    Some(Ok(message)) => message,
                    Some(Err(e)) => e.to_string(),
                    None => String::new(),
                }}
            </p>
        </section>
    }
}
