//! Users: Identity Center's users searched as you type (user name, display name, email),
//! filtered (origin, status, seat, drift), sorted and paged, every choice in the address so a
//! view can be shared; a user's page puts the IdP's attributes beside Identity Center's, with
//! groups, seat paths and drift.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::markup::Markup;
use crate::timeline::HistoryCard;
use crate::ui::{
    Badge, Card, Empty, ErrorNote, INPUT, LINK, Loading, Pager, Stamp, TABLE, TD, TH, Tone, When,
    query_string,
};

/// The user list's choices, as they stand in the address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserParams {
    pub q: String,
    /// provisioned | hand-made
    pub origin: String,
    /// enabled | disabled
    pub status: String,
    /// yes | no
    pub seat: String,
    /// yes | no
    pub drift: String,
    /// user_name | display_name | email | first_seen
    pub sort: String,
    /// asc | desc
    pub dir: String,
    pub page: u64,
}

impl UserParams {
    fn from_query(q: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| q.get(k).unwrap_or_default();
        Self {
            q: get("q"),
            origin: get("origin"),
            status: get("status"),
            seat: get("seat"),
            drift: get("drift"),
            sort: get("sort"),
            dir: get("dir"),
            page: crate::ui::page_param(q),
        }
    }

    /// This view's address, at `page`.
    pub fn href(&self, page: u64) -> String {
        format!(
            "/users{}",
            query_string(&[
                ("q", self.q.clone()),
                ("origin", self.origin.clone()),
                ("status", self.status.clone()),
                ("seat", self.seat.clone()),
                ("drift", self.drift.clone()),
                ("sort", self.sort.clone()),
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

/// One row of the user list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserListRow {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub enabled: bool,
    pub provisioned: bool,
    pub seat: bool,
    pub drift: u64,
    pub first_seen: Stamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub rows: Vec<UserListRow>,
    pub total: u64,
}

#[cfg(feature = "ssr")]
pub(crate) fn yes_no(name: &str, v: &str) -> Result<Option<bool>, ServerFnError> {
    match v {
        "" => Ok(None),
        "yes" => Ok(Some(true)),
        "no" => Ok(Some(false)),
        other => Err(crate::state::refuse(
            crate::state::Refused::Input,
            format!("{name} must be yes or no, not {other:?}: remove it from the address"),
        )),
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn origin_of(v: &str) -> Result<Option<store::OriginFilter>, ServerFnError> {
    match v {
        "" => Ok(None),
        "provisioned" => Ok(Some(store::OriginFilter::Provisioned)),
        "hand-made" => Ok(Some(store::OriginFilter::HandMade)),
        other => Err(crate::state::refuse(
            crate::state::Refused::Input,
            format!(
                "origin must be provisioned or hand-made, not {other:?}: remove it from the address"
            ),
        )),
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn descending(v: &str) -> Result<bool, ServerFnError> {
    match v {
        "" | "asc" => Ok(false),
        "desc" => Ok(true),
        other => Err(crate::state::refuse(
            crate::state::Refused::Input,
            format!("dir must be asc or desc, not {other:?}: remove it from the address"),
        )),
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn row_of(u: &store::UserRow, now: chrono::DateTime<chrono::Utc>) -> UserListRow {
    UserListRow {
        id: u.id.clone(),
        user_name: u.user_name.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        enabled: u.enabled,
        provisioned: u.external_id.is_some(),
        seat: u.seat,
        drift: u.drift,
        first_seen: Stamp::of(u.first_seen, now),
    }
}

/// A page of Identity Center's users. Security admins and auditors.
#[server(prefix = "/api", endpoint = "list_users", client = crate::csrf::CsrfClient)]
pub async fn list_users(params: UserParams) -> Result<UserList, ServerFnError> {
    crate::access::check("list_users")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    if params.q.chars().count() > 200 {
        return Err(crate::state::refuse(
            crate::state::Refused::Input,
            "The search is longer than 200 characters: shorten it.",
        ));
    }
    let sort = match params.sort.as_str() {
        "" | "user_name" => store::UserSort::UserName,
        "display_name" => store::UserSort::DisplayName,
        "email" => store::UserSort::Email,
        "first_seen" => store::UserSort::FirstSeen,
        other => {
            return Err(crate::state::refuse(
                crate::state::Refused::Input,
                format!("sort must be user_name, display_name, email or first_seen, not {other:?}"),
            ));
        }
    };
    let enabled = match params.status.as_str() {
        "" => None,
        "enabled" => Some(true),
        "disabled" => Some(false),
        other => {
            return Err(crate::state::refuse(
                crate::state::Refused::Input,
                format!("status must be enabled or disabled, not {other:?}"),
            ));
        }
    };
    let query = store::UserQuery {
        text: Some(params.q.clone()),
        origin: origin_of(&params.origin)?,
        enabled,
        has_seat: yes_no("seat", &params.seat)?,
        has_drift: yes_no("drift", &params.drift)?,
        sort,
        descending: descending(&params.dir)?,
        offset: params.page.saturating_sub(1) * u64::from(crate::ui::PAGE_SIZE),
        limit: crate::ui::PAGE_SIZE,
    };
    let page = state
        .store
        .users(&query)
        .await
        .map_err(|e| store_failed("Listing users", e))?;
    let now = chrono::Utc::now();
    Ok(UserList {
        rows: page.rows.iter().map(|u| row_of(u, now)).collect(),
        total: page.total,
    })
}

/// A select that writes its choice into the address.
#[component]
pub(crate) fn Choice(
    label: &'static str,
    value: String,
    options: &'static [(&'static str, &'static str)],
    on_pick: impl Fn(String) + 'static,
    #[prop(into)] testid: String,
) -> impl IntoView {
    view! {
        <label class="flex flex-col text-xs text-slate-500 dark:text-slate-400">
            {label}
            <select class=INPUT data-testid=testid on:change=move |ev| on_pick(event_target_value(&ev))>
                {options.iter().map(|(v, text)| view! {
                    <option value=*v selected=value == *v>{*text}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| UserParams::from_query(&query.read()));
    let users = Resource::new(move || params.get(), list_users);
    let navigate = use_navigate();
    let go = move |change: &dyn Fn(&mut UserParams)| {
        let mut p = params.get_untracked();
        change(&mut p);
        p.page = 1;
        navigate(
            &p.href(1),
            leptos_router::NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let go = std::sync::Arc::new(go);
    let pick = move |field: fn(&mut UserParams) -> &mut String| {
        let go = go.clone();
        move |v: String| go(&|p: &mut UserParams| *field(p) = v.clone())
    };
    let p = params.get_untracked();
    view! {
        <leptos_meta::Title text="Users"/>
        <h1 class="text-2xl font-semibold tracking-tight">"Users"</h1>
        <p class="mt-1 mb-4 text-sm text-slate-600 dark:text-slate-400">"Identity Center's users as of the last refresh. Search by the start of a user name, display name or email."</p>
        <form class="mb-4 flex flex-wrap items-end gap-3" method="get" action="/users" role="search" on:submit=|ev| ev.prevent_default()>
            <label class="flex grow flex-col text-xs text-slate-500 dark:text-slate-400">
                "Search"
                <input type="search" name="q" class=INPUT data-testid="search" data-shortcut="search" aria-keyshortcuts="/" placeholder="ann, ann@example.com, Ann Lee…" autocomplete="off"
                    value=p.q.clone() on:input={ let f = pick(|p| &mut p.q); move |ev| f(event_target_value(&ev)) }/>
            </label>
            <Choice label="Origin" testid="filter-origin" value=p.origin.clone() on_pick=pick(|p| &mut p.origin)
                options=&[("", "Any"), ("provisioned", "SCIM (external id)"), ("hand-made", "Made by hand")]/>
            <Choice label="Status" testid="filter-status" value=p.status.clone() on_pick=pick(|p| &mut p.status)
                options=&[("", "Any"), ("enabled", "Enabled"), ("disabled", "Disabled")]/>
            <Choice label="Seat" testid="filter-seat" value=p.seat.clone() on_pick=pick(|p| &mut p.seat)
                options=&[("", "Any"), ("yes", "Has a seat"), ("no", "No seat")]/>
            <Choice label="Drift" testid="filter-drift" value=p.drift.clone() on_pick=pick(|p| &mut p.drift)
                options=&[("", "Any"), ("yes", "Has drift"), ("no", "No drift")]/>
            <Choice label="Sort by" testid="sort" value=p.sort.clone() on_pick=pick(|p| &mut p.sort)
                options=&[("", "User name"), ("display_name", "Display name"), ("email", "Email"), ("first_seen", "First seen")]/>
            <Choice label="Order" testid="dir" value=p.dir.clone() on_pick=pick(|p| &mut p.dir)
                options=&[("", "A → Z / oldest"), ("desc", "Z → A / newest")]/>
        </form>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let p = params.get();
                match users.await {
                    Ok(list) if list.rows.is_empty() => view! { <Empty message="No user matches: clear the search or a filter."/> }.into_any(),
                    Ok(list) => view! {
                        <div class="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
                        <table class=TABLE data-testid="users">
                            <thead><tr>
                                <th class=TH>"User name"</th><th class=TH>"Display name"</th><th class=TH>"Email"</th>
                                <th class=TH>"Origin"</th><th class=TH>"Status"</th><th class=TH>"Seat"</th><th class=TH>"Drift"</th><th class=TH>"First seen"</th>
                            </tr></thead>
                            <tbody inner_html=user_rows(&list.rows)></tbody>
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

/// The user list's rows (see [`crate::markup`]).
fn user_rows(rows: &[UserListRow]) -> String {
    let mut m = Markup::new();
    for u in rows {
        m.el("tr", &[("data-testid", "user-row")], |m| {
            m.td(|m| {
                m.link(&format!("/users/{}", u.id), &u.user_name);
            });
            m.td_text(&u.display_name);
            m.td_text(u.email.as_deref().unwrap_or_default());
            m.td(|m| {
                m.origin(u.provisioned);
            });
            m.td(|m| {
                m.status(u.enabled, "disabled");
            });
            m.td(|m| {
                if u.seat {
                    m.badge("seat", Tone::Good);
                }
            });
            m.td(|m| {
                if u.drift > 0 {
                    m.badge(&u.drift.to_string(), Tone::Warn);
                }
            });
            m.td(|m| {
                m.when(&u.first_seen);
            });
        });
    }
    m.finish()
}

/// One attribute, Identity Center beside the IdP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub identity_center: String,
    /// None when the IdP's scope does not hold the user or does not map the attribute.
    pub idp: Option<String>,
    pub differs: bool,
}

/// A user's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub provisioned: bool,
    pub external_id: Option<String>,
    pub first_seen: Stamp,
    /// Whether the last complete scope read holds this user.
    pub in_scope: bool,
    pub attributes: Vec<Attribute>,
    /// (group id, name, member since, whether it is assigned to the seat product)
    pub groups: Vec<(String, String, Stamp, bool)>,
    /// (through which group, or "assigned directly", since when)
    pub seat: Vec<(Option<(String, String)>, Stamp)>,
    pub drift: Vec<crate::drift::DriftView>,
    /// What the latest refreshes changed about this user, newest first.
    pub history: Vec<crate::timeline::Entry>,
}

/// One user's page. Security admins and auditors.
#[server(prefix = "/api", endpoint = "user_page", client = crate::csrf::CsrfClient)]
pub async fn user_page(id: String) -> Result<Option<UserView>, ServerFnError> {
    crate::access::check("user_page")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    let Some(d) = state
        .store
        .user_detail(&id)
        .await
        .map_err(|e| store_failed("Reading the user", e))?
    else {
        return Ok(None);
    };
    let history = crate::timeline::read(&state.store, domain::timeline::ObjectKind::User, &id)
        .await
        .map_err(|e| store_failed("Reading the user's history", e))?;
    let now = chrono::Utc::now();
    let idp = d.idp.as_ref();
    let attr = |name: &str, ic: String, idp: Option<String>| Attribute {
        differs: idp.as_ref().is_some_and(|v| *v != ic),
        name: name.to_string(),
        identity_center: ic,
        idp,
    };
    let status = |enabled: bool| if enabled { "enabled" } else { "disabled" }.to_string();
    let attributes = vec![
        attr(
            "User name",
            d.user.user_name.clone(),
            idp.map(|i| i.user_name.clone()),
        ),
        attr(
            "Display name",
            d.user.display_name.clone(),
            idp.and_then(|i| i.display_name.clone()),
        ),
        attr(
            "Email",
            d.user.email.clone().unwrap_or_default(),
            idp.map(|i| i.email.clone().unwrap_or_default()),
        ),
        attr(
            "Status",
            status(d.user.enabled),
            idp.map(|i| status(i.enabled)),
        ),
        attr("Given name", d.given_name.clone(), None),
        attr("Family name", d.family_name.clone(), None),
    ];
    Ok(Some(UserView {
        id: d.user.id.clone(),
        user_name: d.user.user_name.clone(),
        display_name: d.user.display_name.clone(),
        provisioned: d.user.external_id.is_some(),
        external_id: d.user.external_id.clone(),
        first_seen: Stamp::of(d.user.first_seen, now),
        in_scope: idp.is_some(),
        attributes,
        groups: d
            .groups
            .iter()
            .map(|g| {
                (
                    g.group_id.clone(),
                    g.display_name.clone(),
                    Stamp::of(g.since, now),
                    g.assigned_since.is_some(),
                )
            })
            .collect(),
        seat: d
            .seat_paths
            .iter()
            .map(|p| (p.via.clone(), Stamp::of(p.since, now)))
            .collect(),
        drift: d
            .drift
            .iter()
            .map(|f| crate::drift::DriftView::of(f, None, None))
            .collect(),
        history,
    }))
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let user = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        user_page,
    );
    view! {
        <leptos_meta::Title text="User"/>
        <p class="mb-2 text-sm"><a class=LINK href="/users">"← Users"</a></p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) => view! { <UserDetailView u/> }.into_any(),
                    Ok(None) => {
                        crate::not_found_status();
                        view! { <Empty message="Identity Center has no user with this id (as of the last refresh): it may have been deleted. Search for them on Users."/> }.into_any()
                    }
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserDetailView(u: UserView) -> impl IntoView {
    let scope_note = if u.in_scope {
        "The IdP column is the IdP's scope as last read completely."
    } else if u.provisioned {
        "This user is not in the IdP's scope as last read: the IdP column is empty."
    } else {
        "Made by hand in Identity Center (no external id): the IdP does not manage this user."
    };
    view! {
        <h1 class="text-2xl font-semibold tracking-tight" data-testid="user-name">{u.display_name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
            {u.user_name.clone()} " · first seen " <When stamp=u.first_seen.clone()/>
            {u.external_id.clone().map(|e| format!(" · external id {e}"))}
        </p>
        <div class="mt-6 grid gap-6 lg:grid-cols-2">
            <Card title="Attributes" subtitle=scope_note>
                <table class=TABLE data-testid="attributes">
                    <thead><tr><th class=TH>""</th><th class=TH>"Identity Center"</th><th class=TH>"IdP"</th></tr></thead>
                    <tbody>
                        {u.attributes.into_iter().map(|a| {
                            let cls = if a.differs { "bg-amber-50 dark:bg-amber-950" } else { "" };
                            view! {
                                <tr class=cls data-differs=a.differs.to_string()>
                                    <th class=TD scope="row">{a.name}</th>
                                    <td class=TD>{a.identity_center}</td>
                                    <td class=TD>{a.idp.unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </Card>
            <Card title="Seat" subtitle="A seat comes from a direct assignment to Q Developer or from membership of an assigned group.">
                {if u.seat.is_empty() {
                    view! { <p class="text-sm" data-testid="seat">"No seat."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-1 text-sm" data-testid="seat">
                            {u.seat.into_iter().map(|(via, since)| view! {
                                <li>
                                    {match via {
                                        Some((id, name)) => view! { "through " <a class=LINK href=format!("/groups/{id}")>{name}</a> }.into_any(),
                                        None => view! { "assigned directly" }.into_any(),
                                    }}
                                    ", since " <When stamp=since/>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
            <Card title="Groups">
                {if u.groups.is_empty() {
                    view! { <p class="text-sm">"In no group."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-1 text-sm" data-testid="groups">
                            {u.groups.into_iter().map(|(id, name, since, assigned)| view! {
                                <li>
                                    <a class=LINK href=format!("/groups/{id}")>{name}</a>
                                    {assigned.then(|| view! { " " <Badge text="Q Developer" tone=Tone::Good/> })}
                                    " · member since " <When stamp=since/>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
            <Card title="Drift">
                {if u.drift.is_empty() {
                    view! { <p class="text-sm" data-testid="user-drift">"None: Identity Center matches the IdP for this user."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-3 text-sm" data-testid="user-drift">
                            {u.drift.into_iter().map(|d| view! {
                                <li><p class="font-medium">{d.summary}</p><p class="muted">{d.cause}</p></li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
            <HistoryCard entries=u.history first_seen=u.first_seen/>
        </div>
    }
}
