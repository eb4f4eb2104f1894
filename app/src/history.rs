//! History: every refresh (kind, duration, calls, throttles, outcome and what it changed) and
//! the refreshes the mass-deletion fuse holds, which a security admin confirms or discards.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ui::{Badge, Card, Empty, ErrorNote, Loading, Stamp, TABLE, TD, TH, Tone, When};

/// One refresh as the pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefreshRow {
    pub id: String,
    /// "full" or "focused".
    pub kind: String,
    /// applied, unchanged, held, confirmed, discarded, failed, cancelled.
    pub outcome: String,
    pub started: Stamp,
    pub finished: Stamp,
    pub seconds: f64,
    pub calls: u64,
    pub throttles: u64,
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    /// What failed, or why the fuse held it.
    pub detail: Option<String>,
    /// What it changed, when it changed anything.
    pub changes: Option<String>,
}

#[cfg(feature = "ssr")]
impl RefreshRow {
    pub fn of(r: &store::Refresh, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            id: r.id.clone(),
            kind: r.kind.as_str().to_string(),
            outcome: r.outcome.as_str().to_string(),
            started: Stamp::of(r.started_at, now),
            finished: Stamp::of(r.finished_at, now),
            seconds: (r.finished_at - r.started_at).num_milliseconds() as f64 / 1000.0,
            calls: r.calls,
            throttles: r.throttles,
            users: r.users,
            groups: r.groups,
            memberships: r.memberships,
            detail: r.detail.clone(),
            changes: None,
        }
    }
}

#[cfg(feature = "ssr")]
fn describe(c: &store::ChangeCounts) -> String {
    if c.initial {
        return "first snapshot".to_string();
    }
    let mut parts = Vec::new();
    for (n, what) in [
        (c.users_added, "joiners"),
        (c.users_removed, "leavers"),
        (c.users_changed, "users changed"),
        (c.memberships_added, "memberships added"),
        (c.memberships_removed, "memberships removed"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if parts.is_empty() {
        "assignments changed".to_string()
    } else {
        parts.join(", ")
    }
}

/// The latest 100 refreshes, newest first.
#[server(prefix = "/api", endpoint = "refresh_history", client = crate::csrf::CsrfClient)]
pub async fn refresh_history() -> Result<Vec<RefreshRow>, ServerFnError> {
    crate::access::check("refresh_history")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    let now = chrono::Utc::now();
    let rows = state
        .store
        .refresh_history(100)
        .await
        .map_err(|e| store_failed("Reading the refresh history", e))?;
    Ok(rows
        .iter()
        .map(|r| RefreshRow {
            changes: r.changes.as_ref().map(describe),
            ..RefreshRow::of(&r.refresh, now)
        })
        .collect())
}

/// Applies (`confirm`) or drops a refresh the fuse held. Security admins only.
#[server(prefix = "/api", endpoint = "decide_held", client = crate::csrf::CsrfClient)]
pub async fn decide_held(id: String, confirm: bool) -> Result<String, ServerFnError> {
    crate::access::check("decide_held")?;
    use crate::state::app_state;
    let state = app_state()?;
    let who = match crate::access::caller() {
        domain::access::Caller::Person { subject, .. } => subject,
        domain::access::Caller::Anonymous => {
            return Err(crate::state::refuse(
                crate::state::Refused::SignIn,
                "sign in first",
            ));
        }
    };
    let done = if confirm {
        state.store.confirm_held(&id, chrono::Utc::now()).await
    } else {
        state.store.discard_held(&id).await
    };
    match done {
        Ok(()) => {
            tracing::warn!(refresh = %id, confirm, by = %who, "held refresh decided");
            Ok(if confirm {
                "Applied: the held changes are now the current snapshot.".to_string()
            } else {
                "Discarded: the current snapshot stays.".to_string()
            })
        }
        Err(e @ (store::StoreError::NotHeld(_) | store::StoreError::HeldIsStale(_))) => Err(
            crate::state::refuse(crate::state::Refused::Conflict, e.to_string()),
        ),
        Err(e) => Err(crate::state::store_failed("Deciding the held refresh", e)),
    }
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let decide = ServerAction::<DecideHeld>::new();
    let rows = Resource::new(move || decide.version().get(), |_| refresh_history());
    let me = expect_context::<Resource<Result<crate::me::Me, ServerFnError>>>();
    view! {
        <leptos_meta::Title text="History"/>
        <h1 class="text-2xl font-semibold tracking-tight">"History"</h1>
        <p class="mt-1 mb-6 text-sm text-slate-600 dark:text-slate-400">"Each refresh of Identity Center, what it cost in calls and what it changed. Refreshes the mass-deletion fuse held wait here for a security admin."</p>
        {move || decide.value().get().map(|r| match r {
            Ok(m) => view! { <p class="mb-4 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200" role="status" data-testid="decided">{m}</p> }.into_any(),
            Err(e) => view! { <div class="mb-4"><ErrorNote message=crate::ui::error_text(&e)/></div> }.into_any(),
        })}
        <Card title="Refreshes" subtitle="Newest first, the latest 100.">
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    let admin = me.await.map(|m| m.admin).unwrap_or(false);
                    match rows.await {
                        Ok(rows) if rows.is_empty() => view! { <Empty message="No refresh yet: the first runs when Tessera starts reading Identity Center."/> }.into_any(),
                        Ok(rows) => view! {
                            <div class="overflow-x-auto">
                            <table class=TABLE data-testid="refreshes">
                                <thead><tr>
                                    <th class=TH>"Started"</th><th class=TH>"Kind"</th><th class=TH>"Outcome"</th>
                                    <th class=TH>"Took"</th><th class=TH>"Calls"</th><th class=TH>"Throttled"</th><th class=TH>"Changes"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| {
                                        let tone = match r.outcome.as_str() {
                                            "applied" | "confirmed" | "unchanged" => Tone::Good,
                                            "held" => Tone::Warn,
                                            "failed" | "cancelled" => Tone::Bad,
                                            _ => Tone::Plain,
                                        };
                                        let held = r.outcome == "held";
                                        let outcome = r.outcome.clone();
                                        let (confirm_id, discard_id) = (r.id.clone(), r.id.clone());
                                        view! {
                                            <tr data-outcome=outcome>
                                                <td class=TD><When stamp=r.started/></td>
                                                <td class=TD>{r.kind}</td>
                                                <td class=TD>
                                                    <Badge text=r.outcome tone/>
                                                    {r.detail.map(|d| view! { <p class="mt-1 max-w-md text-xs text-slate-500 dark:text-slate-400">{d}</p> })}
                                                    {(held && admin).then(|| view! {
                                                        <div class="mt-2 flex gap-2">
                                                            <button type="button" data-testid="confirm-held" class="rounded-md bg-indigo-600 px-2 py-1 text-xs text-white hover:bg-indigo-500"
                                                                on:click=move |_| { decide.dispatch(DecideHeld { id: confirm_id.clone(), confirm: true }); }>"Apply"</button>
                                                            <button type="button" data-testid="discard-held" class="rounded-md border border-slate-300 px-2 py-1 text-xs dark:border-slate-700"
                                                                on:click=move |_| { decide.dispatch(DecideHeld { id: discard_id.clone(), confirm: false }); }>"Discard"</button>
                                                        </div>
                                                    })}
                                                </td>
                                                <td class=TD>{format!("{:.1} s", r.seconds)}</td>
                                                <td class=TD>{r.calls}</td>
                                                <td class=TD>{r.throttles}</td>
                                                <td class=TD>{r.changes.unwrap_or_else(|| "—".into())}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                    }
                })}
            </Transition>
        </Card>
    }
}
