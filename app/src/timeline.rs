//! A user's or group's history of changes, as their pages show it: one entry per refresh that
//! changed the object, newest first, each a list of sentences ("Email changed from … to …",
//! "Added to group Developers").

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ui::{Card, LINK, Stamp, When};

/// How many of an object's latest history entries its page shows.
pub const SHOWN: u32 = 20;

/// One sentence of an entry; `group` links the group it names (id, name) after `text`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub text: String,
    pub group: Option<(String, String)>,
}

/// One refresh's changes to the object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub when: Stamp,
    pub lines: Vec<Line>,
}

#[cfg(feature = "ssr")]
fn field_label(field: &str) -> &str {
    match field {
        "userName" => "User name",
        "displayName" => "Display name",
        "givenName" => "Given name",
        "familyName" => "Family name",
        "email" => "Email",
        "status" => "Status",
        "externalId" => "External id",
        other => other,
    }
}

#[cfg(feature = "ssr")]
fn quoted(v: &str) -> String {
    if v.is_empty() {
        "(empty)".to_string()
    } else {
        format!("“{v}”")
    }
}

/// The latest history of one user or group, in sentences, with the names of the groups it
/// names (a group Identity Center no longer has is named by its id, unlinked).
#[cfg(feature = "ssr")]
pub async fn read(
    store: &store::Store,
    kind: domain::timeline::ObjectKind,
    id: &str,
) -> Result<Vec<Entry>, store::StoreError> {
    use domain::timeline::{Event, ObjectKind};
    let (history, names) = store.object_timeline(kind, id, SHOWN).await?;
    let now = chrono::Utc::now();
    let (added, removed) = match kind {
        ObjectKind::User => ("Joined Identity Center", "Left Identity Center"),
        ObjectKind::Group => ("Created in Identity Center", "Deleted from Identity Center"),
    };
    let plain = |text: String| Line { text, group: None };
    let membership = |verb: &str, group_id: &str| match names.get(group_id) {
        Some(name) => Line {
            text: format!("{verb} group "),
            group: Some((group_id.to_string(), name.clone())),
        },
        None => plain(format!(
            "{verb} group {group_id} (no longer in Identity Center)"
        )),
    };
    Ok(history
        .into_iter()
        .map(|c| Entry {
            when: Stamp::of(c.taken_at, now),
            lines: c
                .events
                .iter()
                .map(|e| match e {
                    Event::Added => plain(added.to_string()),
                    Event::Removed => plain(removed.to_string()),
                    Event::Changed {
                        field,
                        before,
                        after,
                    } => plain(format!(
                        "{} changed from {} to {}",
                        field_label(field),
                        quoted(before),
                        quoted(after)
                    )),
                    Event::JoinedGroup { group_id } => membership("Added to", group_id),
                    Event::LeftGroup { group_id } => membership("Removed from", group_id),
                    Event::MembersAdded { count } => plain(match count {
                        1 => "1 member added".to_string(),
                        n => format!("{n} members added"),
                    }),
                    Event::MembersRemoved { count } => plain(match count {
                        1 => "1 member removed".to_string(),
                        n => format!("{n} members removed"),
                    }),
                    Event::Assigned => plain("Assigned to Q Developer".to_string()),
                    Event::Unassigned => plain("Assignment to Q Developer removed".to_string()),
                })
                .collect(),
        })
        .collect())
}

/// The history card of a user's or group's page.
#[component]
pub fn HistoryCard(entries: Vec<Entry>, first_seen: Stamp) -> impl IntoView {
    let subtitle = format!(
        "What each refresh changed, newest first (the latest {SHOWN}). The first snapshot is the starting point, not a change."
    );
    view! {
        <Card title="History" subtitle=subtitle>
            {if entries.is_empty() {
                view! {
                    <p class="text-sm" data-testid="history">
                        "No changes since it was first seen, " <When stamp=first_seen/> "."
                    </p>
                }.into_any()
            } else {
                view! {
                    <ol class="space-y-3 text-sm" data-testid="history">
                        {entries.into_iter().map(|e| view! {
                            <li>
                                <p class="muted"><When stamp=e.when/></p>
                                <ul class="list-disc pl-5">
                                    {e.lines.into_iter().map(|l| view! {
                                        <li>
                                            {l.text}
                                            {l.group.map(|(id, name)| view! {
                                                <a class=LINK href=format!("/groups/{id}")>{name}</a>
                                            })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </Card>
    }
}
