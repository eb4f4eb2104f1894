//! One user's or group's history: what each applied snapshot change did to that object. History
//! is stored as whole [`Changes`] per refresh; a user page cannot replay them all, so each
//! refresh's changes are also split by object when they are written ([`by_object`]) and the page
//! reads only its own object's entries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::changes::Changes;
use crate::snapshot::{Group, PrincipalKind, User, UserStatus};

/// What one refresh did to one user or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The object appeared in Identity Center (a joiner, or a new group).
    Added,
    /// The object left Identity Center.
    Removed,
    /// One attribute changed.
    Changed {
        field: String,
        before: String,
        after: String,
    },
    /// The user joined the group (user's side).
    JoinedGroup { group_id: String },
    /// The user left the group (user's side).
    LeftGroup { group_id: String },
    /// Members joined the group (group's side: a count, the users' own entries say who).
    MembersAdded { count: u64 },
    /// Members left the group (group's side).
    MembersRemoved { count: u64 },
    /// The object was assigned to the seat product's application.
    Assigned,
    /// The object's assignment to the seat product's application was removed.
    Unassigned,
}

/// Whether an object is a user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    User,
    Group,
}

/// The attribute values of a user, by their SCIM names, as history shows them.
fn user_fields(u: &User) -> [(&'static str, String); 7] {
    let status = match u.status {
        UserStatus::Enabled => "enabled",
        UserStatus::Disabled => "disabled",
    };
    [
        ("userName", u.user_name.clone()),
        ("displayName", u.display_name.clone()),
        ("givenName", u.given_name.clone()),
        ("familyName", u.family_name.clone()),
        ("email", u.email.clone().unwrap_or_default()),
        ("status", status.to_string()),
        ("externalId", u.external_id.clone().unwrap_or_default()),
    ]
}

fn group_fields(g: &Group) -> [(&'static str, String); 2] {
    [
        ("displayName", g.display_name.clone()),
        ("externalId", g.external_id.clone().unwrap_or_default()),
    ]
}

/// The fields that differ between two versions, as `Changed` events, in field order.
fn field_events<const N: usize>(
    before: [(&'static str, String); N],
    after: [(&'static str, String); N],
) -> Vec<Event> {
    before
        .into_iter()
        .zip(after)
        .filter(|((_, b), (_, a))| b != a)
        .map(|((field, before), (_, after))| Event::Changed {
            field: field.to_string(),
            before,
            after,
        })
        .collect()
}

/// One refresh's changes split by object: each user or group the changes touch, with what
/// happened to it, ordered by (kind, id). A membership change is an event of its user (which
/// group) and a count on its group (a group of 10,000 new members gets one entry, not 10,000).
pub fn by_object(changes: &Changes) -> Vec<((ObjectKind, String), Vec<Event>)> {
    let mut out: BTreeMap<(ObjectKind, String), Vec<Event>> = BTreeMap::new();
    let mut push = |kind, id: &str, event| {
        out.entry((kind, id.to_string())).or_default().push(event);
    };
    for u in &changes.users_added {
        push(ObjectKind::User, &u.id, Event::Added);
    }
    for u in &changes.users_removed {
        push(ObjectKind::User, &u.id, Event::Removed);
    }
    for c in &changes.users_changed {
        for e in field_events(user_fields(&c.before), user_fields(&c.after)) {
            push(ObjectKind::User, &c.after.id, e);
        }
    }
    for g in &changes.groups_added {
        push(ObjectKind::Group, &g.id, Event::Added);
    }
    for g in &changes.groups_removed {
        push(ObjectKind::Group, &g.id, Event::Removed);
    }
    for c in &changes.groups_changed {
        for e in field_events(group_fields(&c.before), group_fields(&c.after)) {
            push(ObjectKind::Group, &c.after.id, e);
        }
    }
    let mut member_counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (group, user) in &changes.memberships_added {
        push(
            ObjectKind::User,
            user,
            Event::JoinedGroup {
                group_id: group.clone(),
            },
        );
        member_counts.entry(group).or_default().0 += 1;
    }
    for (group, user) in &changes.memberships_removed {
        push(
            ObjectKind::User,
            user,
            Event::LeftGroup {
                group_id: group.clone(),
            },
        );
        member_counts.entry(group).or_default().1 += 1;
    }
    for (group, (added, removed)) in member_counts {
        if added > 0 {
            push(
                ObjectKind::Group,
                group,
                Event::MembersAdded { count: added },
            );
        }
        if removed > 0 {
            push(
                ObjectKind::Group,
                group,
                Event::MembersRemoved { count: removed },
            );
        }
    }
    let kind_of = |k: PrincipalKind| match k {
        PrincipalKind::User => ObjectKind::User,
        PrincipalKind::Group => ObjectKind::Group,
    };
    for a in &changes.assignments_added {
        push(kind_of(a.kind), &a.principal_id, Event::Assigned);
    }
    for a in &changes.assignments_removed {
        push(kind_of(a.kind), &a.principal_id, Event::Unassigned);
    }
    out.into_iter().collect()
}

/// The group ids an object's events name (to look their names up).
pub fn groups_named(events: &[Event]) -> impl Iterator<Item = &str> {
    events.iter().filter_map(|e| match e {
        Event::JoinedGroup { group_id } | Event::LeftGroup { group_id } => Some(group_id.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::Changed;
    use crate::snapshot::Assignment;

    fn user(id: &str, name: &str) -> User {
        User {
            id: id.into(),
            user_name: name.into(),
            display_name: name.to_uppercase(),
            given_name: "G".into(),
            family_name: "F".into(),
            email: Some(format!("{name}@example.com")),
            status: UserStatus::Enabled,
            external_id: Some(format!("ext-{id}")),
        }
    }

    fn events_of<'a>(
        split: &'a [((ObjectKind, String), Vec<Event>)],
        kind: ObjectKind,
        id: &str,
    ) -> &'a [Event] {
        split
            .iter()
            .find(|((k, i), _)| *k == kind && i == id)
            .map(|(_, e)| e.as_slice())
            .unwrap_or(&[])
    }

    #[test]
    fn each_object_gets_what_happened_to_it() {
        let mut after = user("u1", "ana");
        after.email = Some("Ana@example.com".into());
        after.status = UserStatus::Disabled;
        let changes = Changes {
            users_added: vec![user("u2", "bo")],
            users_removed: vec![user("u3", "cy")],
            users_changed: vec![Changed {
                before: user("u1", "ana"),
                after,
            }],
            groups_added: vec![Group {
                id: "g2".into(),
                display_name: "New".into(),
                external_id: None,
            }],
            groups_changed: vec![Changed {
                before: Group {
                    id: "g1".into(),
                    display_name: "Devs".into(),
                    external_id: None,
                },
                after: Group {
                    id: "g1".into(),
                    display_name: "Developers".into(),
                    external_id: None,
                },
            }],
            memberships_added: vec![("g1".into(), "u1".into()), ("g1".into(), "u2".into())],
            memberships_removed: vec![("g9".into(), "u1".into())],
            assignments_added: vec![Assignment {
                kind: PrincipalKind::Group,
                principal_id: "g1".into(),
            }],
            assignments_removed: vec![Assignment {
                kind: PrincipalKind::User,
                principal_id: "u1".into(),
            }],
            ..Changes::default()
        };
        let split = by_object(&changes);

        assert_eq!(
            events_of(&split, ObjectKind::User, "u1"),
            [
                Event::Changed {
                    field: "email".into(),
                    before: "ana@example.com".into(),
                    after: "Ana@example.com".into()
                },
                Event::Changed {
                    field: "status".into(),
                    before: "enabled".into(),
                    after: "disabled".into()
                },
                Event::JoinedGroup {
                    group_id: "g1".into()
                },
                Event::LeftGroup {
                    group_id: "g9".into()
                },
                Event::Unassigned,
            ]
        );
        assert_eq!(
            events_of(&split, ObjectKind::User, "u2"),
            [
                Event::Added,
                Event::JoinedGroup {
                    group_id: "g1".into()
                }
            ]
        );
        assert_eq!(events_of(&split, ObjectKind::User, "u3"), [Event::Removed]);
        assert_eq!(
            events_of(&split, ObjectKind::Group, "g1"),
            [
                Event::Changed {
                    field: "displayName".into(),
                    before: "Devs".into(),
                    after: "Developers".into()
                },
                Event::MembersAdded { count: 2 },
                Event::Assigned,
            ]
        );
        assert_eq!(
            events_of(&split, ObjectKind::Group, "g9"),
            [Event::MembersRemoved { count: 1 }]
        );
        assert_eq!(events_of(&split, ObjectKind::Group, "g2"), [Event::Added]);
        // Nothing else: six objects touched.
        assert_eq!(split.len(), 6);
        assert_eq!(
            groups_named(events_of(&split, ObjectKind::User, "u1")).collect::<Vec<_>>(),
            ["g1", "g9"]
        );
    }

    #[test]
    fn no_changes_touch_no_object() {
        assert!(by_object(&Changes::default()).is_empty());
    }

    #[test]
    fn events_round_trip_through_json() {
        let events = vec![
            Event::Added,
            Event::Changed {
                field: "email".into(),
                before: "a".into(),
                after: "b".into(),
            },
            Event::MembersAdded { count: 3 },
        ];
        let json = serde_json::to_string(&events).unwrap_or_default();
        assert!(json.contains(r#""event":"members_added""#), "{json}");
        let back: Vec<Event> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, events);
    }
}
