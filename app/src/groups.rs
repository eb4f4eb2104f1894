//! Groups: Identity Center's groups searched as you type, filtered (origin, assigned to Q
//! Developer, drift) and paged, with the address carrying every choice; a group's page shows
//! its members, its IdP counterpart and whether it gives seats.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::markup::Markup;
use crate::ui::{
    Card, Empty, ErrorNote, INPUT, LINK, Loading, Pager, Stamp, TABLE, TH, Tone, When,
    query_string, thousands,
};
use crate::users::Choice;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupParams {
    pub q: String,
    pub origin: String,
    /// yes | no: assigned to the seat product
    pub assigned: String,
    pub drift: String,
    pub dir: String,
    pub page: u64,
}

impl GroupParams {
    fn from_query(q: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| q.get(k).unwrap_or_default();
        Self {
            q: get("q"),
            origin: get("origin"),
            assigned: get("assigned"),
            drift: get("drift"),
            dir: get("dir"),
            page: crate::ui::page_param(q),
        }
    }

    pub fn href(&self, page: u64) -> String {
        format!(
            "/groups{}",
            query_string(&[
                ("q", self.q.clone()),
                ("origin", self.origin.clone()),
                ("assigned", self.assigned.clone()),
                ("drift", self.drift.clone()),
                ("dir", self.dir.clone()),
                (
                    "page",
                    if page > 1 {
                        page.to_string()
                    } else {
                        String::new()
                    }
                ),
            ])
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupListRow {
    pub id: String,
    pub display_name: String,
    pub provisioned: bool,
    pub members: u64,
    pub assigned_since: Option<Stamp>,
    pub drift: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupList {
    pub rows: Vec<GroupListRow>,
    pub total: u64,
}

#[cfg(feature = "ssr")]
fn group_row(g: &store::GroupRow, now: chrono::DateTime<chrono::Utc>) -> GroupListRow {
    GroupListRow {
        id: g.id.clone(),
        display_name: g.display_name.clone(),
        provisioned: g.external_id.is_some(),
        members: g.members,
        assigned_since: g.assigned_since.map(|t| Stamp::of(t, now)),
        drift: g.drift,
    }
}

/// A page of Identity Center's groups. Security admins and auditors.
#[server(prefix = "/api", endpoint = "list_groups", client = crate::csrf::CsrfClient)]
pub async fn list_groups(params: GroupParams) -> Result<GroupList, ServerFnError> {
    crate::access::check("list_groups")?;
    use crate::state::{app_state, store_failed};
    use crate::users::{descending, origin_of, yes_no};
    let state = app_state()?;
    if params.q.chars().count() > 200 {
        return Err(crate::state::refuse(
            crate::state::Refused::Input,
            "The search is longer than 200 characters: shorten it.",
        ));
    }
    let query = store::GroupQuery {
        text: Some(params.q.clone()),
        origin: origin_of(&params.origin)?,
        assigned: yes_no("assigned", &params.assigned)?,
        has_drift: yes_no("drift", &params.drift)?,
        descending: descending(&params.dir)?,
        offset: params.page.saturating_sub(1) * u64::from(crate::ui::PAGE_SIZE),
        limit: crate::ui::PAGE_SIZE,
    };
    let page = state
        .store
        .groups(&query)
        .await
        .map_err(|e| store_failed("Listing groups", e))?;
    let now = chrono::Utc::now();
    Ok(GroupList {
        rows: page.rows.iter().map(|g| group_row(g, now)).collect(),
        total: page.total,
    })
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| GroupParams::from_query(&query.read()));
    let groups = Resource::new(move || params.get(), list_groups);
    let navigate = use_navigate();
    let go = std::sync::Arc::new(move |change: &dyn Fn(&mut GroupParams)| {
        let mut p = params.get_untracked();
        change(&mut p);
        navigate(
            &p.href(1),
            leptos_router::NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    });
    let pick = move |field: fn(&mut GroupParams) -> &mut String| {
        let go = go.clone();
        move |v: String| go(&|p: &mut GroupParams| *field(p) = v.clone())
    };
    let p = params.get_untracked();
    view! {
        <leptos_meta::Title text="Groups"/>
        <h1 class="text-2xl font-semibold tracking-tight">"Groups"</h1>
        <p class="mt-1 mb-4 text-sm text-slate-600 dark:text-slate-400">"Identity Center's groups as of the last refresh. Search by the start of a group's name."</p>
        <form class="mb-4 flex flex-wrap items-end gap-3" method="get" action="/groups" role="search" on:submit=|ev| ev.prevent_default()>
            <label class="flex grow flex-col text-xs text-slate-500 dark:text-slate-400">
                "Search"
                <input type="search" name="q" class=INPUT data-testid="search" data-shortcut="search" aria-keyshortcuts="/" autocomplete="off" placeholder="q-developers…"
                    value=p.q.clone() on:input={ let f = pick(|p| &mut p.q); move |ev| f(event_target_value(&ev)) }/>
            </label>
            <Choice label="Origin" testid="filter-origin" value=p.origin.clone() on_pick=pick(|p| &mut p.origin)
                options=&[("", "Any"), ("provisioned", "SCIM (external id)"), ("hand-made", "Made by hand")]/>
            <Choice label="Q Developer" testid="filter-assigned" value=p.assigned.clone() on_pick=pick(|p| &mut p.assigned)
                options=&[("", "Any"), ("yes", "Assigned"), ("no", "Not assigned")]/>
            <Choice label="Drift" testid="filter-drift" value=p.drift.clone() on_pick=pick(|p| &mut p.drift)
                options=&[("", "Any"), ("yes", "Has drift"), ("no", "No drift")]/>
            <Choice label="Order" testid="dir" value=p.dir.clone() on_pick=pick(|p| &mut p.dir)
                options=&[("", "A → Z"), ("desc", "Z → A")]/>
        </form>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let p = params.get();
                match groups.await {
                    Ok(list) if list.rows.is_empty() => view! { <Empty message="No group matches: clear the search or a filter."/> }.into_any(),
                    Ok(list) => view! {
                        <div class="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
                        <table class=TABLE data-testid="groups">
                            <thead><tr><th class=TH>"Name"</th><th class=TH>"Origin"</th><th class=TH>"Members"</th><th class=TH>"Q Developer"</th><th class=TH>"Drift"</th></tr></thead>
                            <tbody inner_html=group_rows(&list.rows)></tbody>
                        </table>
                        </div>
                        <Pager total=list.total page=p.page href=move |n| p.href(n)/>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One member as a group's page lists them: what the table shows and nothing else (the page's
/// data travels to the browser for hydration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub enabled: bool,
    pub since: Stamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub group: GroupListRow,
    pub external_id: Option<String>,
    /// The IdP's group with this external id: (name, members in scope).
    pub idp: Option<(String, u64)>,
    /// A page of members by user name (`group.members` counts them all).
    pub members: Vec<MemberRow>,
    /// Which page of members (from 1).
    pub page: u64,
    pub drift: Vec<crate::drift::DriftView>,
    pub first_seen: Stamp,
    /// What the latest refreshes changed about this group, newest first.
    pub history: Vec<crate::timeline::Entry>,
}

/// One group's page, with the `page`th page of its members. Security admins and auditors.
#[server(prefix = "/api", endpoint = "group_page", client = crate::csrf::CsrfClient)]
pub async fn group_page(id: String, page: u64) -> Result<Option<GroupView>, ServerFnError> {
    crate::access::check("group_page")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    let page = page.max(1);
    let Some(d) = state
        .store
        .group_detail(
            &id,
            (page - 1) * u64::from(crate::ui::PAGE_SIZE),
            crate::ui::PAGE_SIZE,
        )
        .await
        .map_err(|e| store_failed("Reading the group", e))?
    else {
        return Ok(None);
    };
    let history = crate::timeline::read(&state.store, domain::timeline::ObjectKind::Group, &id)
        .await
        .map_err(|e| store_failed("Reading the group's history", e))?;
    let now = chrono::Utc::now();
    Ok(Some(GroupView {
        first_seen: Stamp::of(d.group.first_seen, now),
        history,
        external_id: d.group.external_id.clone(),
        idp: d.idp.clone(),
        members: d
            .members
            .iter()
            .map(|(u, since)| MemberRow {
                id: u.id.clone(),
                user_name: u.user_name.clone(),
                display_name: u.display_name.clone(),
                enabled: u.enabled,
                since: Stamp::of(*since, now),
            })
            .collect(),
        page,
        drift: d
            .drift
            .iter()
            .map(|f| crate::drift::DriftView::of(f, None, Some(&d.group.display_name)))
            .collect(),
        group: group_row(&d.group, now),
    }))
}

/// One of a group's team leads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadRow {
    /// The IdP's display name, or the user name or email the configuration gives.
    pub name: String,
    pub user_name: String,
    /// The Identity Center user they are, when there is one.
    pub user_id: Option<String>,
    /// Where they are named a lead: "owner in Entra ID" or "auth.teams".
    pub source: String,
}

/// A group's team leads, or why there are none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadsView {
    pub rows: Vec<LeadRow>,
    /// Why the list is empty, in words that say what to do.
    pub note: Option<String>,
}

/// A group's team leads: its owners in the IdP, read now (so they are as fresh as the IdP),
/// and the leads `auth.teams` names for it. Security admins and auditors.
#[server(prefix = "/api", endpoint = "group_leads", client = crate::csrf::CsrfClient)]
pub async fn group_leads(id: String) -> Result<LeadsView, ServerFnError> {
    crate::access::check("group_leads")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    let none = |note: &str| LeadsView {
        rows: Vec::new(),
        note: Some(note.to_string()),
    };
    let Some((name, idp_id)) = state
        .store
        .group_name_and_external_id(&id)
        .await
        .map_err(|e| store_failed("Reading the group", e))?
    else {
        return Ok(none(
            "Identity Center has no group with this id (as of the last refresh).",
        ));
    };
    let Some(leads) = &state.leads else {
        return Ok(none(
            "No IdP is configured, so no group has owners: name team leads in auth.teams.",
        ));
    };
    let found = leads
        .leads_of(idp_id.as_deref(), &name)
        .await
        .map_err(ServerFnError::new)?;
    let owner_ids: Vec<String> = found.owners.iter().map(|o| o.id.clone()).collect();
    let users = state
        .store
        .users_named(&owner_ids, &found.configured)
        .await
        .map_err(|e| store_failed("Finding the leads in Identity Center", e))?;
    let mut rows: Vec<LeadRow> = found
        .owners
        .into_iter()
        .map(|o| LeadRow {
            user_id: users
                .iter()
                .find(|u| u.external_id.as_deref() == Some(o.id.as_str()))
                .map(|u| u.id.clone()),
            name: o.display_name,
            user_name: o.user_name,
            source: "owner in Entra ID".into(),
        })
        .collect();
    for lead in found.configured {
        let user = users.iter().find(|u| {
            u.user_name.eq_ignore_ascii_case(&lead)
                || u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&lead))
        });
        rows.push(LeadRow {
            user_id: user.map(|u| u.id.clone()),
            name: user
                .map(|u| u.display_name.clone())
                .unwrap_or_else(|| lead.clone()),
            user_name: lead,
            source: "auth.teams".into(),
        });
    }
    let note = rows.is_empty().then(|| {
        match (found.idp_has_owners, idp_id.is_some()) {
            (_, false) => "Made by hand in Identity Center, so the IdP names no owner for it: name its lead in auth.teams (the lead's user name or email → this group's name).",
            (true, true) => "The group has no owners in Entra ID and auth.teams names no lead for it: add its team lead as an owner of the group in Entra ID.",
            (false, true) => "PingOne's groups have no owners: name the group's lead in auth.teams (the lead's user name or email → this group's name).",
        }
        .to_string()
    });
    Ok(LeadsView { rows, note })
}

/// The group's team leads, read once the page is hydrated in the browser: an IdP call, kept
/// out of the page's own render (the server renders the card empty and the browser fills it,
/// so there is nothing to hydrate in it).
#[component]
fn LeadsCard(id: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Card title="Team leads">
            <div data-testid="group-leads">
                {move || hydrated.get().then(|| view! { <Leads id=id.clone()/> })}
            </div>
        </Card>
    }
}

#[component]
fn Leads(id: String) -> impl IntoView {
    let leads = LocalResource::new(move || group_leads(id.clone()));
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match leads.await {
                    Ok(v) if v.rows.is_empty() => view! { <p class="text-sm" data-testid="leads-note">{v.note.unwrap_or_default()}</p> }.into_any(),
                    Ok(v) => view! {
                        <ul class="space-y-1 text-sm">
                            {v.rows.into_iter().map(|l| view! {
                                <li data-testid="lead">
                                    {match l.user_id {
                                        Some(id) => view! { <a class=LINK href=format!("/users/{id}")>{l.name}</a> }.into_any(),
                                        None => view! { <span>{l.name}</span> }.into_any(),
                                    }}
                                    <span class="muted">{format!(" · {} · {}", l.user_name, l.source)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let group = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                crate::ui::page_param(&query.read()),
            )
        },
        |(id, page)| group_page(id, page),
    );
    view! {
        <leptos_meta::Title text="Group"/>
        <p class="mb-2 text-sm"><a class=LINK href="/groups">"← Groups"</a></p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match group.await {
                    Ok(Some(g)) => view! { <GroupDetailView g/> }.into_any(),
                    Ok(None) => {
                        crate::not_found_status();
                        view! { <Empty message="Identity Center has no group with this id (as of the last refresh). Search for it on Groups."/> }.into_any()
                    }
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GroupDetailView(g: GroupView) -> impl IntoView {
    let total = g.group.members;
    let id = g.group.id.clone();
    view! {
        <h1 class="text-2xl font-semibold tracking-tight" data-testid="group-name">{g.group.display_name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
            {format!("{} members", thousands(total))}
            {g.external_id.clone().map(|e| format!(" · external id {e}"))}
            {g.group.assigned_since.clone().map(|s| view! { " · assigned to Q Developer " <When stamp=s/> })}
        </p>
        <div class="mt-6 grid gap-6 lg:grid-cols-2">
            <Card title="In the IdP">
                <p class="text-sm" data-testid="group-idp">{match (&g.idp, &g.external_id) {
                    (Some((name, n)), _) => format!("{name}, {} members in the app's scope", thousands(*n)),
                    (None, Some(_)) => "Not in the IdP's scope as last read.".to_string(),
                    (None, None) => "Made by hand in Identity Center: the IdP does not manage it.".to_string(),
                }}</p>
            </Card>
            <Card title="Drift">
                {if g.drift.is_empty() {
                    view! { <p class="text-sm">"None."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-3 text-sm" data-testid="group-drift">
                            {g.drift.into_iter().map(|d| view! {
                                <li>
                                    <p class="font-medium">{d.summary}</p>
                                    <p class="muted">{d.cause}</p>
                                    {d.user.map(|(id, name)| view! { <a class=LINK href=format!("/users/{id}")>{name}</a> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
            <LeadsCard id=g.group.id.clone()/>
            <crate::timeline::HistoryCard entries=g.history first_seen=g.first_seen/>
        </div>
        <div class="mt-6">
            <Card title="Members" subtitle="By user name.".to_string()>
                {if g.members.is_empty() && g.page == 1 {
                    view! { <Empty message="No members."/> }.into_any()
                } else {
                    view! {
                        <table class=TABLE data-testid="members">
                            <thead><tr><th class=TH>"User"</th><th class=TH>"Display name"</th><th class=TH>"Status"</th><th class=TH>"Member since"</th></tr></thead>
                            <tbody inner_html=member_rows(&g.members)></tbody>
                        </table>
                        <Pager total page=g.page href=move |n| format!("/groups/{id}?page={n}")/>
                    }.into_any()
                }}
            </Card>
        </div>
    }
}

/// The group list's rows (see [`crate::markup`]).
fn group_rows(rows: &[GroupListRow]) -> String {
    let mut m = Markup::new();
    for g in rows {
        m.el("tr", &[("data-testid", "group-row")], |m| {
            m.td(|m| {
                m.link(&format!("/groups/{}", g.id), &g.display_name);
            });
            m.td(|m| {
                m.origin(g.provisioned);
            });
            m.td_text(&thousands(g.members));
            m.td(|m| {
                if let Some(since) = &g.assigned_since {
                    m.badge("assigned", Tone::Good).text(" ").when(since);
                }
            });
            m.td(|m| {
                if g.drift > 0 {
                    m.badge(&g.drift.to_string(), Tone::Warn);
                }
            });
        });
    }
    m.finish()
}

/// A group's members, a page of them (see [`crate::markup`]).
fn member_rows(rows: &[MemberRow]) -> String {
    let mut m = Markup::new();
    for u in rows {
        m.el("tr", &[], |m| {
            m.td(|m| {
                m.link(&format!("/users/{}", u.id), &u.user_name);
            });
            m.td_text(&u.display_name);
            m.td(|m| {
                m.status(u.enabled, "disabled");
            });
            m.td(|m| {
                m.when(&u.since);
            });
        });
    }
    m.finish()
}
