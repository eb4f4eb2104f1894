//! Seats: the principals subscribed to Q Developer (its application's assignments), every
//! holder with the path(s) that give the seat and since when, and the monthly cost.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::markup::Markup;
use crate::ui::{
    Card, Empty, ErrorNote, Loading, Pager, Stamp, TABLE, TH, Tone, query_string, thousands,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscribedRow {
    pub group: bool,
    pub id: String,
    /// None: Identity Center no longer has the principal (a dangling assignment).
    pub name: Option<String>,
    pub since: Stamp,
    pub members: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub enabled: bool,
    /// (group (id, name) or None for direct, since)
    pub paths: Vec<(Option<(String, String)>, Stamp)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatsView {
    pub subscribed: Vec<SubscribedRow>,
    pub holders: Vec<Holder>,
    pub total: u64,
    pub monthly_cost: String,
    pub seat_price: String,
}

/// The seat product's subscriptions and a page of holders. Security admins and auditors.
#[server(prefix = "/api", endpoint = "seats_page", client = crate::csrf::CsrfClient)]
pub async fn seats_page(page: u64) -> Result<SeatsView, ServerFnError> {
    crate::access::check("seats_page")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    let now = chrono::Utc::now();
    let store::SeatsPage {
        subscribed,
        holders: list,
        paths,
    } = state
        .store
        .seats_page(
            page.max(1).saturating_sub(1) * u64::from(crate::ui::PAGE_SIZE),
            crate::ui::PAGE_SIZE,
        )
        .await
        .map_err(|e| store_failed("Reading the seats", e))?;
    Ok(SeatsView {
        subscribed: subscribed
            .into_iter()
            .map(|s| SubscribedRow {
                group: s.kind == "GROUP",
                id: s.id,
                name: s.name,
                since: Stamp::of(s.since, now),
                members: s.members,
            })
            .collect(),
        holders: list
            .rows
            .into_iter()
            .map(|u| Holder {
                paths: paths
                    .iter()
                    .filter(|p| p.user_id == u.id)
                    .map(|p| (p.via.clone(), Stamp::of(p.since, now)))
                    .collect(),
                id: u.id,
                user_name: u.user_name,
                display_name: u.display_name,
                enabled: u.enabled,
            })
            .collect(),
        total: list.total,
        monthly_cost: state.seat_price.cost_of(list.total),
        seat_price: state.seat_price.cost_of(1),
    })
}

#[component]
pub fn SeatsPageView() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| crate::ui::page_param(&query.read()));
    let seats = Resource::new(move || page.get(), seats_page);
    view! {
        <leptos_meta::Title text="Seats"/>
        <h1 class="text-2xl font-semibold tracking-tight">"Seats"</h1>
        <p class="mt-1 mb-6 text-sm text-slate-600 dark:text-slate-400">
            "Q Developer seats come from its application's assignments in Identity Center: users assigned directly and members of assigned groups, each counted once."
        </p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let n = page.get();
                match seats.await {
                    Ok(s) => view! {
                        <div class="grid gap-6">
                            <Card title="Cost" subtitle="Billed per user per month, once per organisation.">
                                <p class="text-2xl font-semibold tabular-nums" data-testid="seat-cost">{s.monthly_cost.clone()}</p>
                                <p class="text-sm text-slate-500 dark:text-slate-400">{format!("{} holders at {} a month", thousands(s.total), s.seat_price)}</p>
                            </Card>
                            <Card title="Subscribed" subtitle="Principals assigned to the Q Developer application. A cancelled subscription may leave its assignment behind: a group listed here is not proof the subscription is active — check the Q Developer console.">
                                {if s.subscribed.is_empty() {
                                    view! { <Empty message="Nothing is assigned to Q Developer: subscribe a group in the Q Developer console, then refresh."/> }.into_any()
                                } else {
                                    view! {
                                        <table class=TABLE data-testid="subscribed">
                                            <thead><tr><th class=TH>"Principal"</th><th class=TH>"Kind"</th><th class=TH>"Members"</th><th class=TH>"Assigned"</th></tr></thead>
                                            <tbody inner_html=subscribed_rows(&s.subscribed)></tbody>
                                        </table>
                                    }.into_any()
                                }}
                            </Card>
                            <Card title="Holders">
                                {if s.holders.is_empty() {
                                    view! { <Empty message="Nobody holds a seat."/> }.into_any()
                                } else {
                                    view! {
                                        <table class=TABLE data-testid="holders">
                                            <thead><tr><th class=TH>"User"</th><th class=TH>"Through"</th><th class=TH>"Status"</th></tr></thead>
                                            <tbody inner_html=holder_rows(&s.holders)></tbody>
                                        </table>
                                        <Pager total=s.total page=n href=|p| format!("/seats{}", query_string(&[("page", if p > 1 { p.to_string() } else { String::new() })]))/>
                                    }.into_any()
                                }}
                            </Card>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The principals assigned to the seat product (see [`crate::markup`]).
fn subscribed_rows(rows: &[SubscribedRow]) -> String {
    let mut m = Markup::new();
    for p in rows {
        m.el("tr", &[], |m| {
            m.td(|m| match &p.name {
                Some(name) => {
                    let kind = if p.group { "groups" } else { "users" };
                    m.link(&format!("/{kind}/{}", p.id), name);
                }
                None => {
                    m.el("span", &[], |m| {
                        m.text(&p.id);
                    })
                    .text(" ")
                    .badge("no longer in Identity Center", Tone::Bad);
                }
            });
            m.td_text(if p.group { "group" } else { "user" });
            m.td(|m| {
                if p.group {
                    m.text(&thousands(p.members));
                }
            });
            m.td(|m| {
                m.when(&p.since);
            });
        });
    }
    m.finish()
}

/// A page of seat holders, each with the paths that give the seat (see [`crate::markup`]).
fn holder_rows(rows: &[Holder]) -> String {
    let mut m = Markup::new();
    for h in rows {
        m.el("tr", &[("data-testid", "holder")], |m| {
            m.td(|m| {
                m.link(&format!("/users/{}", h.id), &h.user_name)
                    .void("br")
                    .muted(&h.display_name);
            });
            m.td(|m| {
                m.el("ul", &[], |m| {
                    for (via, since) in &h.paths {
                        m.el("li", &[], |m| {
                            match via {
                                Some((id, name)) => m.link(&format!("/groups/{id}"), name),
                                None => m.text("assigned directly"),
                            };
                            m.text(", since ").when(since);
                        });
                    }
                });
            });
            m.td(|m| {
                m.status(h.enabled, "disabled: reclaim");
            });
        });
    }
    m.finish()
}
