//! The overview: the key figures security admins open every morning (Identity Center, the
//! IdP's scope, drift, seats and their cost, how fresh it all is) and "Refresh now" with a live
//! progress bar.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::connection::tone;
use crate::history::RefreshRow;
use crate::ui::{Badge, ErrorNote, LINK, Loading, Stamp, When, thousands};

/// The overview's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    /// The IdP's scope as last read completely; None before one (or with no IdP configured).
    pub scope_users: Option<u64>,
    pub scope_groups: Option<u64>,
    pub idp: Option<String>,
    pub drift: u64,
    pub seat_holders: u64,
    pub subscribed_groups: u64,
    pub subscribed_users: u64,
    pub monthly_cost: String,
    pub seat_price: String,
    /// When the current snapshot was taken.
    pub taken_at: Option<Stamp>,
    pub last_success: Option<RefreshRow>,
    /// The latest refresh, when it did not succeed (what failed).
    pub last_failure: Option<RefreshRow>,
    /// The latest scope read, when it failed.
    pub scope_failure: Option<String>,
    pub held: u64,
}

/// The running refresh (or the last one's counters).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Whether this deployment reads Identity Center at all.
    pub available: bool,
    pub running: bool,
    pub phase: String,
    pub calls: u64,
    pub pages: u64,
    pub throttles: u64,
    pub users: u64,
    pub groups_listed: u64,
    pub groups_done: u64,
    pub memberships: u64,
    /// Groups whose members are read, of those listed.
    pub percent: Option<u8>,
    pub seconds_left: Option<u64>,
}

/// The overview's figures, for security admins and auditors.
#[server(prefix = "/api", endpoint = "overview", client = crate::csrf::CsrfClient)]
pub async fn overview() -> Result<Figures, ServerFnError> {
    crate::access::check("overview")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    let f = state
        .store
        .figures()
        .await
        .map_err(|e| store_failed("Reading the figures", e))?;
    let now = chrono::Utc::now();
    let last_failure = f
        .last_refresh
        .filter(|r| {
            !matches!(
                r.outcome,
                store::Outcome::Applied | store::Outcome::Unchanged | store::Outcome::Confirmed
            )
        })
        .map(|r| RefreshRow::of(&r, now));
    let scope_failure = f
        .last_scope_read
        .as_ref()
        .filter(|r| r.outcome != store::ScopeOutcome::Read)
        .map(|r| {
            format!(
                "The last read of {}'s scope ({}) did not complete: {}",
                r.idp,
                Stamp::of(r.finished_at, now).relative,
                r.detail.as_deref().unwrap_or("no reason recorded")
            )
        });
    Ok(Figures {
        users: f.users,
        groups: f.groups,
        memberships: f.memberships,
        scope_users: f.scope_users,
        scope_groups: f.scope_groups,
        idp: f.last_scope_read.map(|r| r.idp),
        drift: f.drift,
        seat_holders: f.seat_holders,
        subscribed_groups: f.subscribed_groups,
        subscribed_users: f.subscribed_users,
        monthly_cost: state.seat_price.cost_of(f.seat_holders),
        seat_price: state.seat_price.cost_of(1),
        taken_at: f.taken_at.map(|t| Stamp::of(t, now)),
        last_success: f.last_success.map(|r| RefreshRow::of(&r, now)),
        last_failure,
        scope_failure,
        held: f.held,
    })
}

/// Starts a refresh now (full, or `focused` on seats). Security admins only.
#[server(prefix = "/api", endpoint = "refresh_now", client = crate::csrf::CsrfClient)]
pub async fn refresh_now(focused: bool) -> Result<(), ServerFnError> {
    crate::access::check("refresh_now")?;
    let state = crate::state::app_state()?;
    let Some(control) = state.refresh else {
        return Err(crate::state::refuse(
            crate::state::Refused::Conflict,
            "This deployment does not read Identity Center: set identity_center.enabled (see the README) and restart.",
        ));
    };
    control
        .start(focused)
        .map_err(|why| crate::state::refuse(crate::state::Refused::Conflict, why))
}

/// The running refresh's progress.
#[server(prefix = "/api", endpoint = "refresh_progress", client = crate::csrf::CsrfClient)]
pub async fn refresh_progress() -> Result<Progress, ServerFnError> {
    crate::access::check("refresh_progress")?;
    let state = crate::state::app_state()?;
    Ok(state
        .refresh
        .map(|control| control.progress())
        .unwrap_or_default())
}

/// The overview's data, created when the page is (outside any Suspense, so the server and the
/// browser create the resources in the same order and hydration pairs them up).
#[derive(Clone, Copy)]
pub struct OverviewData {
    /// Bumped when a refresh ends, to read the figures again.
    generation: RwSignal<u32>,
    figures: Resource<Result<Figures, ServerFnError>>,
    /// Bumped to read the progress again.
    tick: RwSignal<u32>,
    progress: Resource<Result<Progress, ServerFnError>>,
}

impl OverviewData {
    pub fn new() -> Self {
        let generation = RwSignal::new(0u32);
        let tick = RwSignal::new(0u32);
        Self {
            generation,
            figures: Resource::new(move || generation.get(), |_| overview()),
            tick,
            progress: Resource::new(move || tick.get(), |_| refresh_progress()),
        }
    }
}

impl Default for OverviewData {
    fn default() -> Self {
        Self::new()
    }
}

/// The overview page's figures and refresh controls (operators; admins may refresh).
#[component]
pub fn OverviewFigures(data: OverviewData, admin: bool) -> impl IntoView {
    let OverviewData {
        generation,
        figures,
        tick,
        progress,
    } = data;
    view! {
        <RefreshBar admin tick progress on_done=move || generation.update(|g| *g += 1)/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match figures.await {
                    Ok(f) => view! { <FigureGrid f/> }.into_any(),
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn FigureGrid(f: Figures) -> impl IntoView {
    let scope = match (f.scope_users, f.scope_groups) {
        (Some(u), Some(g)) => format!("{} users · {} groups", thousands(u), thousands(g)),
        _ => "not read yet".to_string(),
    };
    let idp = f.idp.clone().unwrap_or_else(|| "IdP".to_string());
    let tile = "rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900";
    let label = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";
    let value = "mt-1 text-2xl font-semibold tabular-nums";
    view! {
        {f.last_failure.clone().map(|r| view! {
            <div class="mb-4"><ErrorNote message=format!(
                "The last refresh ({}) {}: {}. The figures below are from the last good snapshot.",
                r.started.relative, r.outcome, r.detail.unwrap_or_else(|| "no reason recorded".into())
            )/></div>
        })}
        {f.scope_failure.clone().map(|m| view! { <div class="mb-4"><ErrorNote message=m/></div> })}
        {(f.held > 0).then(|| view! {
            <p class="mb-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200" role="status" data-testid="held-warning">
                {format!("{} refresh(es) held by the mass-deletion fuse wait for a security admin. ", f.held)}
                <a class=crate::ui::LINK href="/history">"Review them in History"</a>
            </p>
        })}
        <div class="grid grid-cols-2 gap-4 lg:grid-cols-4" data-testid="figures">
            <div class=tile>
                <p class=label>"Identity Center"</p>
                <p class=value data-testid="figure-users">{thousands(f.users)}</p>
                <p class="text-sm text-slate-500 dark:text-slate-400">{format!("users · {} groups · {} memberships", thousands(f.groups), thousands(f.memberships))}</p>
            </div>
            <div class=tile>
                <p class=label>{format!("{idp} scope")}</p>
                <p class="mt-1 text-lg font-semibold" data-testid="figure-scope">{scope}</p>
                <p class="text-sm text-slate-500 dark:text-slate-400">"assigned to the Identity Center app"</p>
            </div>
            <a class=format!("{tile} block hover:border-indigo-400") href="/drift">
                <p class=label>"Drift"</p>
                <p class=value data-testid="figure-drift">{thousands(f.drift)}</p>
                <p class="text-sm text-slate-500 dark:text-slate-400">"findings between the IdP and Identity Center"</p>
            </a>
            <a class=format!("{tile} block hover:border-indigo-400") href="/seats">
                <p class=label>"Seat holders"</p>
                <p class=value data-testid="figure-seats">{thousands(f.seat_holders)}</p>
                <p class="text-sm text-slate-500 dark:text-slate-400">{format!("through {} group(s) and {} direct assignment(s)", f.subscribed_groups, f.subscribed_users)}</p>
            </a>
            <div class=tile>
                <p class=label>"Monthly cost"</p>
                <p class="mt-1 text-lg font-semibold tabular-nums" data-testid="figure-cost">{f.monthly_cost}</p>
                <p class="text-sm text-slate-500 dark:text-slate-400">{format!("at {} per seat a month", f.seat_price)}</p>
            </div>
            <div class=tile>
                <p class=label>"Idle seats"</p>
                <p class="mt-1 text-lg font-semibold">"—"</p>
                <p class="text-sm text-slate-500 dark:text-slate-400">"needs Q Developer's activity reports, not read yet"</p>
            </div>
            <div class=format!("{tile} col-span-2")>
                <p class=label>"Last successful refresh"</p>
                {match f.last_success {
                    Some(r) => view! {
                        <p class="mt-1 text-sm" data-testid="figure-fresh"><When stamp=r.finished.clone()/></p>
                        <p class="text-sm text-slate-500 dark:text-slate-400">{format!("{} refresh, {} in {:.1} s, {} calls, {} throttled", r.kind, r.outcome, r.seconds, r.calls, r.throttles)}</p>
                    }.into_any(),
                    None => view! { <p class="mt-1 text-sm" data-testid="figure-fresh">"Never: the figures fill in after the first refresh."</p> }.into_any(),
                }}
            </div>
        </div>
    }
}

/// "Refresh now" (admins) and the running refresh's progress bar, polled every second.
#[component]
fn RefreshBar(
    admin: bool,
    tick: RwSignal<u32>,
    progress: Resource<Result<Progress, ServerFnError>>,
    on_done: impl Fn() + Send + Sync + Clone + 'static,
) -> impl IntoView {
    let start = ServerAction::<RefreshNow>::new();
    let was_running = RwSignal::new(false);
    // In the browser: while a refresh runs (or was just asked for), read the progress again
    // each second; when it ends, read the figures again.
    Effect::new(move |_| {
        let pending = start.pending().get();
        let running = progress
            .get()
            .and_then(Result::ok)
            .map(|p| p.running)
            .unwrap_or(false);
        if running || pending {
            was_running.set(true);
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_millis(1000),
            );
        } else if was_running.get_untracked() {
            was_running.set(false);
            on_done();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = start.value().get() {
            tick.update(|t| *t += 1);
        }
    });
    view! {
        <div class="mb-4 rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid="refresh-bar">
            <h2 class="text-base font-semibold">"Directory refresh"</h2>
            {move || start.value().get().and_then(Result::err).map(|e| view! { <div class="mt-2"><ErrorNote message=crate::ui::error_text(&e)/></div> })}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let button = move |busy: bool| admin.then(|| view! {
                        <button type="button" data-testid="refresh-now"
                            class="mt-2 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50"
                            disabled=move || busy || start.pending().get()
                            on:click=move |_| { start.dispatch(RefreshNow { focused: false }); }>
                            "Refresh now"
                        </button>
                    });
                    match progress.await {
                        Ok(p) if !p.available => view! {
                            <p class="mt-2 text-sm text-slate-500 dark:text-slate-400">"This deployment does not read Identity Center (identity_center.enabled is off)."</p>
                        }.into_any(),
                        Ok(p) if p.running => {
                            let percent = p.percent.unwrap_or(0);
                            view! {
                                {button(true)}
                                <div class="mt-3" data-testid="refresh-progress" role="status">
                                    // A native progress bar: an inline width would need 'unsafe-inline' styles.
                                    <progress class="h-2 w-full accent-indigo-600" max="100" value=percent.to_string()>{format!("{percent} %")}</progress>
                                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                                        {format!(
                                            "{} · {} calls, {} pages, {} throttled · {} users, groups {}/{}{}",
                                            p.phase, thousands(p.calls), thousands(p.pages), p.throttles, thousands(p.users),
                                            thousands(p.groups_done), thousands(p.groups_listed),
                                            p.seconds_left.map(|s| format!(" · about {s} s left")).unwrap_or_default()
                                        )}
                                    </p>
                                </div>
                            }.into_any()
                        }
                        Ok(_) => view! {
                            <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="refresh-idle">"No refresh running."</p>
                            {button(false)}
                        }.into_any(),
                        Err(e) => view! { <div class="mt-2"><ErrorNote message=crate::ui::error_text(&e)/></div> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// One check as the overview's strip shows it: its status and one line, without the evidence,
/// the fix or what admins entered (the Connection page's data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StripCheck {
    pub id: String,
    pub title: String,
    /// pass, attested, unknown, warn, fail.
    pub status: String,
    pub summary: String,
}

/// The checklist's statuses, for the overview's strip.
#[server(prefix = "/api", endpoint = "connection_strip", client = crate::csrf::CsrfClient)]
pub async fn connection_strip() -> Result<Vec<StripCheck>, ServerFnError> {
    crate::access::check("connection_strip")?;
    use crate::state::{app_state, store_failed};
    let checklist = app_state()?
        .store
        .checklist()
        .await
        .map_err(|e| store_failed("Reading the connection checklist", e))?;
    Ok(checklist
        .checks
        .into_iter()
        .map(|v| StripCheck {
            id: v.outcome.check.as_str().to_string(),
            title: v.outcome.check.title().to_string(),
            status: v.outcome.status.as_str().to_string(),
            summary: v.outcome.summary,
        })
        .collect())
}

/// The overview's strip's data, created with the page (outside Suspense, so hydration pairs it).
#[derive(Clone, Copy)]
pub struct StripData(Resource<Result<Vec<StripCheck>, ServerFnError>>);

impl StripData {
    pub fn new() -> Self {
        Self(Resource::new(|| (), |_| connection_strip()))
    }
}

impl Default for StripData {
    fn default() -> Self {
        Self::new()
    }
}

/// The checklist as a strip of statuses, for the overview.
#[component]
pub fn ConnectionStrip(data: StripData) -> impl IntoView {
    let checks = data.0;
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match checks.await {
                    Ok(checks) if checks.is_empty() => view! {
                        <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="connection-strip">
                            "The connection checklist has not been verified yet. "
                            <a class=LINK href="/connection">"Open Connection"</a>
                        </p>
                    }.into_any(),
                    Ok(checks) => view! {
                        <a href="/connection" class="flex flex-wrap items-center gap-2 rounded-xl border border-slate-200 bg-white p-3 shadow-sm hover:border-indigo-400 dark:border-slate-800 dark:bg-slate-900" data-testid="connection-strip" aria-label="Connection checklist">
                            <span class="mr-1 text-sm font-semibold">"Connection"</span>
                            {checks.into_iter().map(|c| {
                                let (t, word) = tone(&c.status);
                                view! {
                                    <span class="inline-flex items-center gap-1 text-xs" data-testid=format!("strip-{}", c.id) data-status=c.status title=c.summary>
                                        <Badge text=word tone=t/>
                                        <span class="text-slate-600 dark:text-slate-300">{c.title}</span>
                                    </span>
                                }
                            }).collect_view()}
                        </a>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}
