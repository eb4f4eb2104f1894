//! The deployment's own health: which database it runs on, its schema, how often it started and
//! how quickly the database answers right now. Re-read from the server on "Refresh".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the status card shows. Times are formatted on the server in UTC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub version: String,
    pub mode: String,
    pub database: String,
    pub schema_version: i64,
    pub migrations_pending: usize,
    pub deployment_id: String,
    pub first_started_at: String,
    pub starts: i64,
    pub process_started_at: String,
    pub database_round_trip_ms: f64,
    pub checked_at: String,
}

/// Reads the deployment's status from the store. Readable by anyone who can load the page: it
/// holds no personal data and no secret (the deployment id is a random UUID).
#[server(prefix = "/api", endpoint = "system_status", client = crate::csrf::CsrfClient)]
pub async fn read_system_status() -> Result<SystemStatus, ServerFnError> {
    crate::access::check("system_status")?;

    let state = crate::state::app_state()?;
    let fail = |what: &str, err: store::StoreError| {
        tracing::warn!(error = %err, "status: {what} failed");
        ServerFnError::new(format!("{what} failed: {err}"))
    };
    let store::Health {
        round_trip,
        deployment,
        schema,
    } = state
        .store
        .health()
        .await
        .map_err(|e| fail("reading the database's health", e))?;
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string();
    Ok(SystemStatus {
        version: state.version.to_string(),
        mode: state.mode.to_string(),
        database: state.store.backend().as_str().to_string(),
        schema_version: schema.version,
        migrations_pending: schema.pending,
        deployment_id: deployment.deployment_id,
        first_started_at: fmt(deployment.created_at),
        starts: deployment.starts,
        process_started_at: fmt(state.started_at),
        database_round_trip_ms: round_trip.as_secs_f64() * 1000.0,
        checked_at: fmt(chrono::Utc::now()),
    })
}

/// The status card's data, created with the page (outside any Suspense, so the server and the
/// browser create resources in the same order).
#[derive(Clone, Copy)]
pub struct StatusData {
    refreshes: RwSignal<u32>,
    status: Resource<Result<SystemStatus, ServerFnError>>,
}

impl StatusData {
    pub fn new() -> Self {
        let refreshes = RwSignal::new(0u32);
        Self {
            refreshes,
            status: Resource::new(move || refreshes.get(), |_| read_system_status()),
        }
    }
}

impl Default for StatusData {
    fn default() -> Self {
        Self::new()
    }
}

/// The "This deployment" card with its Refresh button.
#[component]
pub fn StatusCard(data: StatusData) -> impl IntoView {
    let StatusData { refreshes, status } = data;

    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="status-title">
            <div class="flex items-start justify-between gap-4">
                <div>
                    <h2 id="status-title" class="text-base font-semibold">"This deployment"</h2>
                    <p class="text-sm text-slate-500 dark:text-slate-400">"Database and process, read live from the server."</p>
                </div>
                <button
                    type="button"
                    data-testid="refresh"
                    class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
                    on:click=move |_| refreshes.update(|n| *n += 1)
                >
                    "Refresh"
                </button>
            </div>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Reading status…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! { <StatusFigures status=s/> }.into_any(),
                        Err(e) => view! {
                            <p class="mt-4 rounded-md bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200" role="alert" data-testid="status-error">
                                "Could not read the status: " {e.to_string()} ". Check that the database is reachable (see /readyz) and press Refresh."
                            </p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StatusFigures(status: SystemStatus) -> impl IntoView {
    let schema = if status.migrations_pending == 0 {
        format!("version {}", status.schema_version)
    } else {
        format!(
            "version {} ({} migrations pending)",
            status.schema_version, status.migrations_pending
        )
    };
    let rows: Vec<(&'static str, &'static str, String)> = vec![
        ("Database", "database", status.database),
        ("Schema", "schema", schema),
        (
            "Database round trip",
            "round-trip",
            format!("{:.2} ms", status.database_round_trip_ms),
        ),
        ("Starts", "starts", status.starts.to_string()),
        ("First started", "first-started", status.first_started_at),
        (
            "This process since",
            "process-started",
            status.process_started_at,
        ),
        (
            "Version",
            "version",
            format!("{} ({} mode)", status.version, status.mode),
        ),
        ("Deployment id", "deployment-id", status.deployment_id),
        ("Checked at", "checked-at", status.checked_at),
    ];
    view! {
        <dl class="mt-4 grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[max-content_1fr]">
            {rows
                .into_iter()
                .map(|(label, id, value)| {
                    view! {
                        <dt class="muted">{label}</dt>
                        <dd class="font-mono text-slate-900 dark:text-slate-100 break-all" data-testid=id>{value}</dd>
                    }
                })
                .collect_view()}
        </dl>
    }
}
