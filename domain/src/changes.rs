//! What changed between two snapshots. History is kept as a first snapshot followed by changes,
//! so a snapshot at any time T is the first one with every change up to T applied.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::snapshot::{Assignment, Group, Sizes, Snapshot, SnapshotError, User};

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

/// The changes that turn `before` into `after`.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Changes {
    let mut d = Diff::new(after);
    before.users().iter().for_each(|u| d.user(u));
    before.groups().iter().for_each(|g| d.group(g));
    for (g, u) in before.memberships() {
        d.membership(&g.id, &u.id);
    }
    before.assignments().iter().for_each(|a| d.assignment(a));
    d.finish().0
}

/// The changes from an earlier snapshot that is not in memory to `after`. The earlier one's
/// users, groups, memberships and assignments are handed in one at a time and in any order (a
/// store streams them); [`Diff::finish`] gives the same changes as [`diff`], sorted by id, and
/// the earlier snapshot's sizes for the fuse. It holds `after`'s id look-ups and one flag per
/// object of `after`, never the earlier snapshot: the stored snapshot of 100,000 users need not
/// be loaded beside the one just read.
pub struct Diff<'a> {
    after: &'a Snapshot,
    user_at: FxHashMap<&'a str, u32>,
    group_at: FxHashMap<&'a str, u32>,
    users_seen: Vec<bool>,
    groups_seen: Vec<bool>,
    memberships_seen: Vec<bool>,
    assignments_seen: Vec<bool>,
    before: Sizes,
    changes: Changes,
}

impl<'a> Diff<'a> {
    pub fn new(after: &'a Snapshot) -> Self {
        Self {
            user_at: after
                .users()
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.as_str(), i as u32))
                .collect(),
            group_at: after
                .groups()
                .iter()
                .enumerate()
                .map(|(i, g)| (g.id.as_str(), i as u32))
                .collect(),
            users_seen: vec![false; after.users().len()],
            groups_seen: vec![false; after.groups().len()],
            memberships_seen: vec![false; after.membership_count()],
            assignments_seen: vec![false; after.assignments().len()],
            before: Sizes::default(),
            changes: Changes::default(),
            after,
        }
    }

    /// A user of the earlier snapshot (each once).
    pub fn user(&mut self, before: &User) {
        self.before.users += 1;
        let at = self.user_at.get(before.id.as_str()).copied();
        let c = &mut self.changes;
        compare(
            before,
            at.map(|at| (at, self.after.users())),
            &mut self.users_seen,
            &mut c.users_changed,
            &mut c.users_removed,
        );
    }

    /// A group of the earlier snapshot (each once).
    pub fn group(&mut self, before: &Group) {
        self.before.groups += 1;
        let at = self.group_at.get(before.id.as_str()).copied();
        let c = &mut self.changes;
        compare(
            before,
            at.map(|at| (at, self.after.groups())),
            &mut self.groups_seen,
            &mut c.groups_changed,
            &mut c.groups_removed,
        );
    }

    /// A membership of the earlier snapshot, by ids (each once).
    pub fn membership(&mut self, group_id: &str, user_id: &str) {
        self.before.memberships += 1;
        let at = match (self.group_at.get(group_id), self.user_at.get(user_id)) {
            (Some(&g), Some(&u)) => self
                .after
                .membership_positions()
                .binary_search(&(g, u))
                .ok(),
            _ => None,
        };
        match at {
            Some(at) => self.memberships_seen[at] = true,
            None => self
                .changes
                .memberships_removed
                .push((group_id.to_string(), user_id.to_string())),
        }
    }

    /// An assignment of the earlier snapshot (each once).
    pub fn assignment(&mut self, before: &Assignment) {
        match self.after.assignments().binary_search(before) {
            Ok(at) => self.assignments_seen[at] = true,
            Err(_) => self.changes.assignments_removed.push(before.clone()),
        }
    }

    /// The changes, sorted by id as [`diff`] gives them, and the earlier snapshot's sizes.
    pub fn finish(self) -> (Changes, Sizes) {
        fn unseen<'s, T>(all: &'s [T], seen: &'s [bool]) -> impl Iterator<Item = &'s T> {
            all.iter().zip(seen).filter(|(_, s)| !**s).map(|(t, _)| t)
        }
        let Self {
            after,
            users_seen,
            groups_seen,
            memberships_seen,
            assignments_seen,
            before,
            mut changes,
            ..
        } = self;
        changes.users_added = unseen(after.users(), &users_seen).cloned().collect();
        changes.groups_added = unseen(after.groups(), &groups_seen).cloned().collect();
        changes.memberships_added = unseen(after.membership_positions(), &memberships_seen)
            .map(|&(g, u)| {
                (
                    after.groups()[g as usize].id.clone(),
                    after.users()[u as usize].id.clone(),
                )
            })
            .collect();
        changes.assignments_added = unseen(after.assignments(), &assignments_seen)
            .cloned()
            .collect();
        changes
            .users_removed
            .sort_unstable_by(|a, b| a.id.cmp(&b.id));
        changes
            .users_changed
            .sort_unstable_by(|a, b| a.after.id.cmp(&b.after.id));
        changes
            .groups_removed
            .sort_unstable_by(|a, b| a.id.cmp(&b.id));
        changes
            .groups_changed
            .sort_unstable_by(|a, b| a.after.id.cmp(&b.after.id));
        changes.memberships_removed.sort_unstable();
        changes.assignments_removed.sort_unstable();
        (changes, before)
    }
}

/// One object of the earlier snapshot against its namesake at `at` in the later one (None: it
/// is gone): marks the namesake seen and records a change or a removal.
fn compare<T: Clone + PartialEq>(
    before: &T,
    at: Option<(u32, &[T])>,
    seen: &mut [bool],
    changed: &mut Vec<Changed<T>>,
    removed: &mut Vec<T>,
) {
    match at {
        Some((at, all)) => {
            seen[at as usize] = true;
            let after = &all[at as usize];
            if after != before {
                changed.push(Changed {
                    before: before.clone(),
                    after: after.clone(),
                });
            }
        }
        None => removed.push(before.clone()),
    }
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

    #[test]
    fn a_streamed_earlier_snapshot_in_any_order_gives_the_same_changes_and_its_sizes() {
        let before = snapshot(
            &["ann", "bob", "cat", "eve"],
            &["dev", "ops", "old"],
            &[
                ("dev", "ann"),
                ("dev", "bob"),
                ("ops", "cat"),
                ("old", "eve"),
            ],
            &["dev", "old"],
        );
        let mut renamed = user("bob", "bob");
        renamed.display_name = "Bob Builder".into();
        let after = Snapshot::build(
            vec![
                renamed,
                user("cat", "cat"),
                user("dan", "dan"),
                user("eve", "eve"),
            ],
            vec![group("dev", "dev"), group("ops", "operations")],
            [
                ("dev", "bob"),
                ("dev", "cat"),
                ("ops", "cat"),
                ("ops", "dan"),
            ],
            vec![Assignment {
                kind: PrincipalKind::Group,
                principal_id: "dev".into(),
            }],
        )
        .unwrap();
        // A store hands rows in whatever order it keeps them: here backwards.
        let mut d = Diff::new(&after);
        before.users().iter().rev().for_each(|u| d.user(u));
        before.groups().iter().rev().for_each(|g| d.group(g));
        let memberships: Vec<_> = before.memberships().collect();
        for (g, u) in memberships.into_iter().rev() {
            d.membership(&g.id, &u.id);
        }
        before
            .assignments()
            .iter()
            .rev()
            .for_each(|a| d.assignment(a));
        let (streamed, sizes) = d.finish();
        let c = diff(&before, &after);
        assert_eq!(streamed, c);
        assert_eq!(sizes, before.sizes());
        assert_eq!((sizes.users, sizes.groups, sizes.memberships), (4, 3, 4));
        // What it found, in id order.
        assert_eq!(c.users_removed[0].id, "ann");
        assert_eq!(c.users_added[0].id, "dan");
        assert_eq!((c.users_removed.len(), c.users_added.len()), (1, 1));
        assert_eq!(c.users_changed.len(), 1);
        assert_eq!(c.groups_removed[0].id, "old");
        assert_eq!(c.groups_changed[0].after.display_name, "operations");
        assert_eq!(
            c.memberships_removed,
            [
                ("dev".to_string(), "ann".to_string()),
                ("old".into(), "eve".into())
            ]
        );
        assert_eq!(
            c.memberships_added,
            [
                ("dev".to_string(), "cat".to_string()),
                ("ops".into(), "dan".into())
            ]
        );
        assert_eq!(c.assignments_removed[0].principal_id, "old");
        assert!(c.assignments_added.is_empty());
        assert_eq!(apply(&before, &c).unwrap(), after);
    }
}
