//! What changed between two snapshots. History is kept as a first snapshot followed by changes,
//! so a snapshot at any time T is the first one with every change up to T applied.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::snapshot::{Assignment, Group, Snapshot, SnapshotError, User};

/// A user or group whose attributes changed: both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed<T> {
    pub before: T,
    pub after: T,
}

/// A membership by ids (group, user).
pub type MembershipIds = (String, String);

/// Everything that differs between two snapshots, sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Joiners.
    pub users_added: Vec<User>,
    /// Leavers, as they were last seen.
    pub users_removed: Vec<User>,
    pub users_changed: Vec<Changed<User>>,
    pub groups_added: Vec<Group>,
    pub groups_removed: Vec<Group>,
    pub groups_changed: Vec<Changed<Group>>,
    pub memberships_added: Vec<MembershipIds>,
    pub memberships_removed: Vec<MembershipIds>,
    pub assignments_added: Vec<Assignment>,
    pub assignments_removed: Vec<Assignment>,
}

/// The names of the attributes that differ between two versions of a user.
pub fn changed_user_fields(before: &User, after: &User) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            fields.push(name);
        }
    };
    check("userName", before.user_name != after.user_name);
    check("displayName", before.display_name != after.display_name);
    check("givenName", before.given_name != after.given_name);
    check("familyName", before.family_name != after.family_name);
    check("email", before.email != after.email);
    check("status", before.status != after.status);
    check("externalId", before.external_id != after.external_id);
    fields
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.users_added.is_empty()
            && self.users_removed.is_empty()
            && self.users_changed.is_empty()
            && self.groups_added.is_empty()
            && self.groups_removed.is_empty()
            && self.groups_changed.is_empty()
            && self.memberships_added.is_empty()
            && self.memberships_removed.is_empty()
            && self.assignments_added.is_empty()
            && self.assignments_removed.is_empty()
    }

    /// The changes that undo these: applying `c.inverted()` to the later snapshot gives the
    /// earlier one (how history is walked backwards from the current snapshot).
    pub fn inverted(&self) -> Changes {
        fn flip<T: Clone>(v: &[Changed<T>]) -> Vec<Changed<T>> {
            v.iter()
                .map(|c| Changed {
                    before: c.after.clone(),
                    after: c.before.clone(),
                })
                .collect()
        }
        Changes {
            users_added: self.users_removed.clone(),
            users_removed: self.users_added.clone(),
            users_changed: flip(&self.users_changed),
            groups_added: self.groups_removed.clone(),
            groups_removed: self.groups_added.clone(),
            groups_changed: flip(&self.groups_changed),
            memberships_added: self.memberships_removed.clone(),
            memberships_removed: self.memberships_added.clone(),
            assignments_added: self.assignments_removed.clone(),
            assignments_removed: self.assignments_added.clone(),
        }
    }

    /// Users who stayed but changed groups (joined some and/or left some): movers.
    pub fn movers(&self) -> Vec<&str> {
        let leaving: std::collections::HashSet<&str> =
            self.users_removed.iter().map(|u| u.id.as_str()).collect();
        let joining: std::collections::HashSet<&str> =
            self.users_added.iter().map(|u| u.id.as_str()).collect();
        let mut movers: Vec<&str> = self
            .memberships_added
            .iter()
            .chain(&self.memberships_removed)
            .map(|(_, u)| u.as_str())
            .filter(|u| !leaving.contains(u) && !joining.contains(u))
            .collect();
        movers.sort_unstable();
        movers.dedup();
        movers
    }
}

/// Walks two sorted lists side by side: `only_before`, `only_after`, and `both` for equal keys.
fn merge<'a, T, K: Ord>(
    before: &'a [T],
    after: &'a [T],
    key: impl Fn(&'a T) -> K,
    mut only_before: impl FnMut(&'a T),
    mut only_after: impl FnMut(&'a T),
    mut both: impl FnMut(&'a T, &'a T),
) {
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        let order = match (before.get(i), after.get(j)) {
            (Some(b), Some(a)) => key(b).cmp(&key(a)),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                only_before(&before[i]);
                i += 1;
            }
            Ordering::Greater => {
                only_after(&after[j]);
                j += 1;
            }
            Ordering::Equal => {
                both(&before[i], &after[j]);
                i += 1;
                j += 1;
            }
        }
    }
}

/// The changes that turn `before` into `after`.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Changes {
    let mut c = Changes::default();
    merge(
        before.users(),
        after.users(),
        |u| u.id.as_str(),
        |u| c.users_removed.push(u.clone()),
        |u| c.users_added.push(u.clone()),
        |b, a| {
            if b != a {
                c.users_changed.push(Changed {
                    before: b.clone(),
                    after: a.clone(),
                });
            }
        },
    );
    merge(
        before.groups(),
        after.groups(),
        |g| g.id.as_str(),
        |g| c.groups_removed.push(g.clone()),
        |g| c.groups_added.push(g.clone()),
        |b, a| {
            if b != a {
                c.groups_changed.push(Changed {
                    before: b.clone(),
                    after: a.clone(),
                });
            }
        },
    );
    // Positions are in id order in each snapshot, so (group id, user id) order is position order.
    fn ids<'s>(s: &'s Snapshot, &(g, u): &(u32, u32)) -> (&'s str, &'s str) {
        (
            s.groups()[g as usize].id.as_str(),
            s.users()[u as usize].id.as_str(),
        )
    }
    let pair = |(g, u): (&str, &str)| (g.to_string(), u.to_string());
    let (mut i, mut j) = (0, 0);
    let (bm, am) = (before.membership_positions(), after.membership_positions());
    while i < bm.len() || j < am.len() {
        let order = match (bm.get(i), am.get(j)) {
            (Some(b), Some(a)) => ids(before, b).cmp(&ids(after, a)),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                c.memberships_removed.push(pair(ids(before, &bm[i])));
                i += 1;
            }
            Ordering::Greater => {
                c.memberships_added.push(pair(ids(after, &am[j])));
                j += 1;
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    merge(
        before.assignments(),
        after.assignments(),
        |a| a.clone(),
        |a| c.assignments_removed.push(a.clone()),
        |a| c.assignments_added.push(a.clone()),
        |_, _| {},
    );
    c
}

/// `base` with `changes` applied: the next snapshot in a history.
pub fn apply(base: &Snapshot, changes: &Changes) -> Result<Snapshot, SnapshotError> {
    use std::collections::{HashMap, HashSet};
    let removed_users: HashSet<&str> = changes
        .users_removed
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    let changed_users: HashMap<&str, &User> = changes
        .users_changed
        .iter()
        .map(|c| (c.after.id.as_str(), &c.after))
        .collect();
    let users: Vec<User> = base
        .users()
        .iter()
        .filter(|u| !removed_users.contains(u.id.as_str()))
        .map(|u| (*changed_users.get(u.id.as_str()).unwrap_or(&u)).clone())
        .chain(changes.users_added.iter().cloned())
        .collect();
    let removed_groups: HashSet<&str> = changes
        .groups_removed
        .iter()
        .map(|g| g.id.as_str())
        .collect();
    let changed_groups: HashMap<&str, &Group> = changes
        .groups_changed
        .iter()
        .map(|c| (c.after.id.as_str(), &c.after))
        .collect();
    let groups: Vec<Group> = base
        .groups()
        .iter()
        .filter(|g| !removed_groups.contains(g.id.as_str()))
        .map(|g| (*changed_groups.get(g.id.as_str()).unwrap_or(&g)).clone())
        .chain(changes.groups_added.iter().cloned())
        .collect();
    let removed_memberships: HashSet<(&str, &str)> = changes
        .memberships_removed
        .iter()
        .map(|(g, u)| (g.as_str(), u.as_str()))
        .collect();
    let memberships: Vec<(&str, &str)> = base
        .memberships()
        .map(|(g, u)| (g.id.as_str(), u.id.as_str()))
        .filter(|pair| !removed_memberships.contains(pair))
        .chain(
            changes
                .memberships_added
                .iter()
                .map(|(g, u)| (g.as_str(), u.as_str())),
        )
        .collect();
    let removed_assignments: HashSet<&Assignment> = changes.assignments_removed.iter().collect();
    let assignments: Vec<Assignment> = base
        .assignments()
        .iter()
        .filter(|a| !removed_assignments.contains(a))
        .chain(&changes.assignments_added)
        .cloned()
        .collect();
    // Owned copies of the membership ids: `users` and `groups` move into the new snapshot.
    let memberships: Vec<(String, String)> = memberships
        .into_iter()
        .map(|(g, u)| (g.to_string(), u.to_string()))
        .collect();
    Snapshot::build(
        users,
        groups,
        memberships.iter().map(|(g, u)| (g.as_str(), u.as_str())),
        assignments,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::snapshot::tests::{group, user};
    use crate::snapshot::{PrincipalKind, UserStatus};

    fn snapshot(
        users: &[&str],
        groups: &[&str],
        memberships: &[(&str, &str)],
        assigned: &[&str],
    ) -> Snapshot {
        Snapshot::build(
            users.iter().map(|u| user(u, u)).collect(),
            groups.iter().map(|g| group(g, g)).collect(),
            memberships.iter().copied(),
            assigned
                .iter()
                .map(|g| Assignment {
                    kind: PrincipalKind::Group,
                    principal_id: (*g).to_string(),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn diff_names_joiners_leavers_movers_and_attribute_changes() {
        let before = snapshot(
            &["ann", "bob", "cat"],
            &["dev", "ops"],
            &[("dev", "ann"), ("dev", "bob"), ("ops", "cat")],
            &["dev"],
        );
        let mut after_users: Vec<User> = ["bob", "cat", "dan"].iter().map(|u| user(u, u)).collect();
        after_users[1].status = UserStatus::Disabled;
        let after = Snapshot::build(
            after_users,
            vec![group("dev", "dev"), group("ops", "ops")],
            [("dev", "bob"), ("dev", "cat"), ("ops", "dan")],
            vec![Assignment {
                kind: PrincipalKind::Group,
                principal_id: "ops".into(),
            }],
        )
        .unwrap();
        let c = diff(&before, &after);
        let ids = |v: &[User]| v.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&c.users_added), ["dan"]);
        assert_eq!(ids(&c.users_removed), ["ann"]);
        assert_eq!(c.users_changed.len(), 1);
        assert_eq!(
            changed_user_fields(&c.users_changed[0].before, &c.users_changed[0].after),
            ["status"]
        );
        assert_eq!(
            c.memberships_removed,
            [
                ("dev".to_string(), "ann".to_string()),
                ("ops".into(), "cat".into())
            ]
        );
        assert_eq!(
            c.memberships_added,
            [
                ("dev".to_string(), "cat".to_string()),
                ("ops".into(), "dan".into())
            ]
        );
        assert_eq!(c.movers(), ["cat"], "ann left, dan joined, cat moved");
        assert_eq!(c.assignments_added[0].principal_id, "ops");
        assert_eq!(c.assignments_removed[0].principal_id, "dev");
        assert!(diff(&after, &after).is_empty());
    }

    #[test]
    fn applying_the_diff_rebuilds_the_later_snapshot() {
        let a = snapshot(&["u1", "u2"], &["g1"], &[("g1", "u1")], &[]);
        let b = snapshot(
            &["u2", "u3"],
            &["g1", "g2"],
            &[("g1", "u2"), ("g2", "u3")],
            &["g2"],
        );
        let c = snapshot(&["u3"], &["g2"], &[("g2", "u3")], &["g2"]);
        let ab = diff(&a, &b);
        let bc = diff(&b, &c);
        assert_eq!(apply(&a, &ab).unwrap(), b);
        assert_eq!(apply(&apply(&a, &ab).unwrap(), &bc).unwrap(), c);
        // From nothing: the first snapshot is the changes from an empty one.
        let first = diff(&Snapshot::default(), &a);
        assert_eq!(apply(&Snapshot::default(), &first).unwrap(), a);
        // Backwards: undoing the later changes gives the earlier snapshots.
        assert_eq!(apply(&c, &bc.inverted()).unwrap(), b);
        assert_eq!(apply(&b, &ab.inverted()).unwrap(), a);
    }
}
