//! Drift: what the IdP's scope says should be in Identity Center against what is there,
//! grouped by kind, each finding linking to the objects it names, with its likely cause.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::markup::Markup;
use crate::ui::{Card, Empty, ErrorNote, LINK, Loading, query_string, thousands};

/// One finding as the pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftView {
    pub kind: String,
    pub summary: String,
    /// Empty in a [`DriftRun`], which says it once for all its findings.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cause: String,
    /// The Identity Center user and group it names: (id, name).
    pub user: Option<(String, String)>,
    pub group: Option<(String, String)>,
}

#[cfg(feature = "ssr")]
impl DriftView {
    pub fn of(d: &store::StoredDrift, user_name: Option<&str>, group_name: Option<&str>) -> Self {
        use domain::drift::{Attribute, Drift};
        let named = |id: &str, name: Option<&str>| (id.to_string(), name.unwrap_or(id).to_string());
        let attribute = |a: &Attribute| match a {
            Attribute::UserName => "user name",
            Attribute::DisplayName => "display name",
            Attribute::Email => "email",
            Attribute::Status => "status",
        };
        let (summary, user, group) = match &d.finding {
            Drift::MissingUser {
                user_name,
                blocked_by,
                ..
            } => (
                match blocked_by {
                    Some(_) => format!(
                        "{user_name} is in scope but missing: a hand-made user holds the name"
                    ),
                    None => format!("{user_name} is in scope but missing in Identity Center"),
                },
                blocked_by.as_deref().map(|id| named(id, None)),
                None,
            ),
            Drift::MissingGroup {
                display_name,
                blocked_by,
                ..
            } => (
                format!("Group {display_name} is in scope but missing in Identity Center"),
                None,
                blocked_by.as_deref().map(|id| named(id, None)),
            ),
            Drift::OrphanUser {
                user_id, user_name, ..
            } => (
                format!("{user_name} is in Identity Center but not in the IdP's scope"),
                Some(named(user_id, Some(user_name))),
                None,
            ),
            Drift::OrphanGroup {
                group_id,
                display_name,
                ..
            } => (
                format!("Group {display_name} is in Identity Center but not in the IdP's scope"),
                None,
                Some(named(group_id, Some(display_name))),
            ),
            Drift::UserMismatch {
                user_id,
                attribute: a,
                idp,
                identity_center,
                case_only,
                ..
            } => (
                format!(
                    "{}: the IdP says {idp:?}, Identity Center {identity_center:?}{}",
                    attribute(a),
                    if *case_only {
                        " (letter case only)"
                    } else {
                        ""
                    }
                ),
                Some(named(user_id, user_name)),
                None,
            ),
            Drift::GroupMismatch {
                group_id,
                idp,
                identity_center,
                ..
            } => (
                format!("Group name: the IdP says {idp:?}, Identity Center {identity_center:?}"),
                None,
                Some(named(group_id, group_name)),
            ),
            Drift::MissingMembership { group_id, user_id } => (
                format!(
                    "{} is in {} in the IdP, not in Identity Center",
                    user_name.unwrap_or(user_id),
                    group_name.unwrap_or(group_id)
                ),
                Some(named(user_id, user_name)),
                Some(named(group_id, group_name)),
            ),
            Drift::ExtraMembership { group_id, user_id } => (
                format!(
                    "{} is in {} in Identity Center only",
                    user_name.unwrap_or(user_id),
                    group_name.unwrap_or(group_id)
                ),
                Some(named(user_id, user_name)),
                Some(named(group_id, group_name)),
            ),
            Drift::EmailCaseTwins { email, user_ids } => (
                format!(
                    "{} users share the email {email} but for letter case",
                    user_ids.len()
                ),
                user_ids.first().map(|id| named(id, user_name)),
                None,
            ),
        };
        Self {
            kind: d.finding.kind().to_string(),
            summary,
            cause: d.finding.likely_cause().to_string(),
            user,
            group,
        }
    }
}

/// Findings next to each other on the Drift page that share one likely cause: the cause is
/// said once above them instead of under each (a page of 100 findings of one kind repeated
/// the same sentence 100 times).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftRun {
    pub cause: String,
    pub findings: Vec<DriftView>,
}

/// `findings` in their order, each run of the same cause gathered into one [`DriftRun`].
pub fn runs(findings: impl IntoIterator<Item = DriftView>) -> Vec<DriftRun> {
    let mut out: Vec<DriftRun> = Vec::new();
    for mut f in findings {
        let cause = std::mem::take(&mut f.cause);
        match out.last_mut() {
            Some(run) if run.cause == cause => run.findings.push(f),
            _ => out.push(DriftRun {
                cause,
                findings: vec![f],
            }),
        }
    }
    out
}

/// The Drift page's data: the count per kind and a page of findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftFindings {
    /// (kind, heading, count), every kind in the page's order.
    pub counts: Vec<(String, String, u64)>,
    /// The page's findings in order, in runs that share a likely cause.
    pub runs: Vec<DriftRun>,
    /// Where the next page starts, when there is one.
    pub next_after: Option<i64>,
    /// When the scope these findings come from was read.
    pub read: Option<crate::ui::Stamp>,
}

/// Findings on a page.
#[cfg(feature = "ssr")]
const DRIFT_PAGE: u32 = 100;

/// The current drift, of one kind or all. Security admins and auditors.
#[server(prefix = "/api", endpoint = "drift_page", client = crate::csrf::CsrfClient)]
pub async fn drift_page(kind: String, after: Option<i64>) -> Result<DriftFindings, ServerFnError> {
    crate::access::check("drift_page")?;
    use crate::state::{app_state, store_failed};
    let state = app_state()?;
    let kind = (!kind.is_empty()).then_some(kind);
    if let Some(k) = &kind
        && !domain::drift::KINDS.iter().any(|(tag, _)| tag == k)
    {
        return Err(crate::state::refuse(
            crate::state::Refused::Input,
            format!("There is no drift kind {k:?}: pick one from the list."),
        ));
    }
    let store::DriftPage {
        counts,
        mut rows,
        read_at,
    } = state
        .store
        .drift_page(kind.as_deref(), DRIFT_PAGE + 1, after)
        .await
        .map_err(|e| store_failed("Reading drift", e))?;
    let next_after = (rows.len() > DRIFT_PAGE as usize).then(|| {
        rows.truncate(DRIFT_PAGE as usize);
        rows.last().map(|r| r.drift.seq).unwrap_or_default()
    });
    let now = chrono::Utc::now();
    let read = read_at.map(|at| crate::ui::Stamp::of(at, now));
    Ok(DriftFindings {
        counts: domain::drift::KINDS
            .iter()
            .map(|(tag, heading)| {
                let n = counts
                    .iter()
                    .find(|(k, _)| k == tag)
                    .map(|(_, n)| *n)
                    .unwrap_or(0);
                (tag.to_string(), heading.to_string(), n)
            })
            .collect(),
        runs: runs(
            rows.iter()
                .map(|r| DriftView::of(&r.drift, r.user_name.as_deref(), r.group_name.as_deref())),
        ),
        next_after,
        read,
    })
}

#[component]
pub fn DriftPageView() -> impl IntoView {
    let query = use_query_map();
    let choice = Memo::new(move |_| {
        let q = query.read();
        (
            q.get("kind").unwrap_or_default(),
            q.get("after").and_then(|a| a.parse::<i64>().ok()),
        )
    });
    let page = Resource::new(
        move || choice.get(),
        |(kind, after)| drift_page(kind, after),
    );
    view! {
        <leptos_meta::Title text="Drift"/>
        <h1 class="text-2xl font-semibold tracking-tight">"Drift"</h1>
        <p class="mt-1 mb-6 text-sm text-slate-600 dark:text-slate-400">"What the IdP's provisioning scope says should be in Identity Center, against what is there. Objects are matched by external id only."</p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let (kind, _) = choice.get();
                match page.await {
                    Ok(p) => {
                        let total: u64 = p.counts.iter().map(|(_, _, n)| n).sum();
                        let heading = p.counts.iter().find(|(k, _, _)| *k == kind).map(|(_, h, _)| h.clone());
                        view! {
                            <div class="grid gap-6 md:grid-cols-[16rem_1fr]">
                                <nav aria-label="Kinds of drift" data-testid="drift-kinds">
                                    <ul class="space-y-1 text-sm">
                                        <li><a class=kind_class(kind.is_empty()) href="/drift">{format!("All ({})", thousands(total))}</a></li>
                                        {p.counts.into_iter().map(|(k, h, n)| {
                                            let selected = k == kind;
                                            view! { <li><a class=kind_class(selected) data-kind=k.clone() href=format!("/drift{}", query_string(&[("kind", k)]))>{format!("{h} ({})", thousands(n))}</a></li> }
                                        }).collect_view()}
                                    </ul>
                                    <p class="mt-3 text-xs text-slate-500 dark:text-slate-400">
                                        {match p.read.clone() {
                                            Some(r) => view! { "From the scope read " <crate::ui::When stamp=r/> }.into_any(),
                                            None => view! { "No complete read of the IdP's scope yet." }.into_any(),
                                        }}
                                    </p>
                                </nav>
                                <Card title=heading.unwrap_or_else(|| "All findings".into())>
                                    {if p.runs.is_empty() {
                                        view! { <Empty message="No drift of this kind: Identity Center matches the IdP here."/> }.into_any()
                                    } else {
                                        view! {
                                            <div class="space-y-4" data-testid="drift-rows" inner_html=run_markup(&p.runs)></div>
                                            {p.next_after.map(|after| view! {
                                                <a class=format!("{LINK} mt-3 inline-block text-sm") rel="next"
                                                    href=format!("/drift{}", query_string(&[("kind", kind.clone()), ("after", after.to_string())]))>"More findings →"</a>
                                            })}
                                        }.into_any()
                                    }}
                                </Card>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNote message=crate::ui::error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The findings, each run under its likely cause (see [`crate::markup`]).
fn run_markup(runs: &[DriftRun]) -> String {
    let mut m = Markup::new();
    for run in runs {
        m.el("section", &[], |m| {
            m.el(
                "p",
                &[("class", "muted text-sm"), ("data-testid", "drift-cause")],
                |m| {
                    m.text("Likely cause: ").text(&run.cause);
                },
            );
            m.el(
                "ul",
                &[(
                    "class",
                    "mt-1 divide-y divide-slate-100 dark:divide-slate-800",
                )],
                |m| {
                    for d in &run.findings {
                        m.el(
                            "li",
                            &[("class", "py-2 text-sm"), ("data-kind", &d.kind)],
                            |m| {
                                m.el("p", &[("class", "font-medium")], |m| {
                                    m.text(&d.summary);
                                });
                                m.el("p", &[("class", "mt-1 flex gap-3")], |m| {
                                    if let Some((id, name)) = &d.user {
                                        m.link(&format!("/users/{id}"), &format!("User {name}"));
                                    }
                                    if let Some((id, name)) = &d.group {
                                        m.link(&format!("/groups/{id}"), &format!("Group {name}"));
                                    }
                                });
                            },
                        );
                    }
                },
            );
        });
    }
    m.finish()
}

fn kind_class(selected: bool) -> &'static str {
    if selected {
        "block rounded-md bg-indigo-50 px-2 py-1 font-medium text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300"
    } else {
        "block rounded-md px-2 py-1 hover:bg-slate-100 dark:hover:bg-slate-800"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(summary: &str, cause: &str) -> DriftView {
        DriftView {
            kind: "orphan_user".into(),
            summary: summary.into(),
            cause: cause.into(),
            user: None,
            group: None,
        }
    }

    #[test]
    fn a_cause_is_said_once_per_run_and_order_is_kept() {
        let page = runs([
            finding("a", "hand-made"),
            finding("b", "hand-made"),
            finding("c", "leaver"),
            finding("d", "hand-made"),
        ]);
        let seen: Vec<(&str, Vec<&str>)> = page
            .iter()
            .map(|r| {
                (
                    r.cause.as_str(),
                    r.findings.iter().map(|f| f.summary.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("hand-made", vec!["a", "b"]),
                ("leaver", vec!["c"]),
                ("hand-made", vec!["d"]),
            ]
        );
        assert!(
            page.iter()
                .flat_map(|r| &r.findings)
                .all(|f| f.cause.is_empty())
        );
        assert!(runs(Vec::new()).is_empty());
    }
}
