//! A snapshot of Identity Center: users and groups sorted by id, memberships as pairs of
//! positions (8 bytes each, so a million of them take 8 MB), and the Q Developer application's
//! assignments.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Enabled,
    Disabled,
}

/// Where an Identity Center object came from. Identity Center does not say; the external id that
/// SCIM provisioning writes does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Carries an external id: written by the IdP's SCIM provisioning.
    Provisioned,
    /// No external id: created by hand in the console (or through the Identity Store API).
    HandMade,
}

fn origin_of(external_id: Option<&str>) -> Origin {
    match external_id {
        Some(id) if !id.is_empty() => Origin::Provisioned,
        _ => Origin::HandMade,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub status: UserStatus,
    /// The IdP's id for this user, when SCIM provisioned it.
    pub external_id: Option<String>,
}

impl User {
    pub fn origin(&self) -> Origin {
        origin_of(self.external_id.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
}

impl Group {
    pub fn origin(&self) -> Origin {
        origin_of(self.external_id.as_deref())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PrincipalKind {
    User,
    Group,
}

/// One assignment of the seat product's application (QDefaultProfile): a principal id and kind,
/// nothing else (that is all ListApplicationAssignments gives).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Assignment {
    pub kind: PrincipalKind,
    pub principal_id: String,
}

/// How many users, groups and memberships a snapshot holds (what the mass-deletion fuse weighs
/// removals against).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sizes {
    pub users: usize,
    pub groups: usize,
    pub memberships: usize,
}

/// Why a snapshot could not be assembled from what was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("user id {0} appears twice")]
    DuplicateUser(String),
    #[error("group id {0} appears twice")]
    DuplicateGroup(String),
    #[error("a membership of group {group} names user {user}, which is not among the users read")]
    UnknownMember { group: String, user: String },
    #[error("a membership names group {0}, which is not among the groups read")]
    UnknownGroup(String),
    #[error("{0} must come sorted by id, each id once")]
    NotSorted(&'static str),
}

/// What a focused read saw (the seat product's assignments and the members of its assigned
/// groups), to lay over a full snapshot with [`Snapshot::refocused`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Focus {
    /// Users met (as members or assigned) that the snapshot did not hold.
    pub new_users: Vec<User>,
    /// Assigned groups the snapshot did not hold.
    pub new_groups: Vec<Group>,
    /// (group id, member user ids) for each group read.
    pub members: Vec<(String, Vec<String>)>,
    pub assignments: Vec<Assignment>,
}

/// What Identity Center held at one moment. Build it with [`Snapshot::build`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    users: Vec<User>,
    groups: Vec<Group>,
    /// (group position, user position), sorted and unique.
    memberships: Vec<(u32, u32)>,
    assignments: Vec<Assignment>,
}

impl Snapshot {
    /// Sorts and checks what was read: ids unique, every membership between a group and a user
    /// that were read. Duplicate memberships and assignments collapse to one.
    pub fn build<'a>(
        mut users: Vec<User>,
        mut groups: Vec<Group>,
        memberships: impl IntoIterator<Item = (&'a str, &'a str)>,
        mut assignments: Vec<Assignment>,
    ) -> Result<Self, SnapshotError> {
        users.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = users.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(SnapshotError::DuplicateUser(w[0].id.clone()));
        }
        groups.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = groups.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(SnapshotError::DuplicateGroup(w[0].id.clone()));
        }
        // Hash look-ups rather than binary searches: a million memberships name their ends.
        let user_at: FxHashMap<&str, u32> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.as_str(), i as u32))
            .collect();
        let group_at: FxHashMap<&str, u32> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.as_str(), i as u32))
            .collect();
        let mut pairs = Vec::new();
        for (group, user) in memberships {
            let g = *group_at
                .get(group)
                .ok_or_else(|| SnapshotError::UnknownGroup(group.to_string()))?;
            let u = *user_at
                .get(user)
                .ok_or_else(|| SnapshotError::UnknownMember {
                    group: group.to_string(),
                    user: user.to_string(),
                })?;
            pairs.push((g, u));
        }
        pairs.sort_unstable();
        pairs.dedup();
        assignments.sort_unstable();
        assignments.dedup();
        Ok(Self {
            users,
            groups,
            memberships: pairs,
            assignments,
        })
    }

    /// A snapshot from users and groups already sorted by id and memberships as positions into
    /// them: for readers that resolve ids while streaming (a million memberships need not exist
    /// as strings at once). Checks order, uniqueness and ranges.
    pub fn from_positions(
        users: Vec<User>,
        groups: Vec<Group>,
        mut memberships: Vec<(u32, u32)>,
        mut assignments: Vec<Assignment>,
    ) -> Result<Self, SnapshotError> {
        if users.windows(2).any(|w| w[0].id >= w[1].id) {
            return Err(SnapshotError::NotSorted("users"));
        }
        if groups.windows(2).any(|w| w[0].id >= w[1].id) {
            return Err(SnapshotError::NotSorted("groups"));
        }
        if let Some(&(g, u)) = memberships
            .iter()
            .find(|&&(g, u)| g as usize >= groups.len() || u as usize >= users.len())
        {
            return Err(SnapshotError::UnknownMember {
                group: g.to_string(),
                user: u.to_string(),
            });
        }
        memberships.sort_unstable();
        memberships.dedup();
        assignments.sort_unstable();
        assignments.dedup();
        Ok(Self {
            users,
            groups,
            memberships,
            assignments,
        })
    }

    /// Users sorted by id.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Groups sorted by id.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    pub fn membership_count(&self) -> usize {
        self.memberships.len()
    }

    pub fn sizes(&self) -> Sizes {
        Sizes {
            users: self.users.len(),
            groups: self.groups.len(),
            memberships: self.memberships.len(),
        }
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        position(&self.users, id, |u| &u.id).map(|i| &self.users[i as usize])
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        position(&self.groups, id, |g| &g.id).map(|i| &self.groups[i as usize])
    }

    /// Every membership as (group, user), sorted by group id then user id.
    pub fn memberships(&self) -> impl Iterator<Item = (&Group, &User)> {
        self.memberships
            .iter()
            .map(|&(g, u)| (&self.groups[g as usize], &self.users[u as usize]))
    }

    /// Memberships as positions into [`Snapshot::groups`] and [`Snapshot::users`].
    pub fn membership_positions(&self) -> &[(u32, u32)] {
        &self.memberships
    }

    /// Position of a user in [`Snapshot::users`].
    pub fn user_position(&self, id: &str) -> Option<u32> {
        position(&self.users, id, |u| &u.id)
    }

    /// Position of a group in [`Snapshot::groups`].
    pub fn group_position(&self, id: &str) -> Option<u32> {
        position(&self.groups, id, |g| &g.id)
    }

    /// Positions of the members of the group at position `group`, sorted.
    pub fn member_positions(&self, group: u32) -> impl Iterator<Item = u32> + '_ {
        let start = self.memberships.partition_point(|&(g, _)| g < group);
        self.memberships[start..]
            .iter()
            .take_while(move |&&(g, _)| g == group)
            .map(|&(_, u)| u)
    }

    /// This snapshot with what a focused read saw: the given groups' members replaced, the
    /// assignments replaced, and users and groups it met that were not known yet added. Everything
    /// else (other groups' members, attributes of known users) stays as it was. A member that is
    /// neither known nor among the new users is an error, as in [`Snapshot::build`].
    pub fn refocused(&self, focus: Focus) -> Result<Snapshot, SnapshotError> {
        let Focus {
            new_users,
            new_groups,
            members,
            assignments,
        } = focus;
        let mut users = self.users.clone();
        users.extend(new_users.into_iter().filter(|u| self.user(&u.id).is_none()));
        let mut groups = self.groups.clone();
        groups.extend(
            new_groups
                .into_iter()
                .filter(|g| self.group(&g.id).is_none()),
        );
        let replaced: FxHashMap<&str, ()> = members.iter().map(|(g, _)| (g.as_str(), ())).collect();
        let kept = self
            .memberships()
            .filter(|(g, _)| !replaced.contains_key(g.id.as_str()))
            .map(|(g, u)| (g.id.as_str(), u.id.as_str()));
        let seen = members
            .iter()
            .flat_map(|(g, us)| us.iter().map(move |u| (g.as_str(), u.as_str())));
        let memberships: Vec<(&str, &str)> = kept.chain(seen).collect();
        Snapshot::build(users, groups, memberships, assignments)
    }

    /// The members of a group, sorted by user id; empty for an unknown group.
    pub fn members_of(&self, group_id: &str) -> Vec<&User> {
        self.group_position(group_id)
            .map(|g| {
                self.member_positions(g)
                    .map(|u| &self.users[u as usize])
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn position<T>(items: &[T], id: &str, key: impl Fn(&T) -> &String) -> Option<u32> {
    items
        .binary_search_by(|item| key(item).as_str().cmp(id))
        .ok()
        .map(|i| i as u32)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub fn user(id: &str, name: &str) -> User {
        User {
            id: id.into(),
            user_name: name.into(),
            display_name: name.into(),
            given_name: "G".into(),
            family_name: "F".into(),
            email: Some(format!("{name}@example.com")),
            status: UserStatus::Enabled,
            external_id: Some(format!("idp-{id}")),
        }
    }

    pub fn group(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            display_name: name.into(),
            external_id: Some(format!("idp-{id}")),
        }
    }

    #[test]
    fn build_sorts_and_checks_references() {
        let s = Snapshot::build(
            vec![user("u2", "b"), user("u1", "a")],
            vec![group("g1", "one")],
            [("g1", "u2"), ("g1", "u1"), ("g1", "u2")],
            vec![],
        )
        .unwrap();
        assert_eq!(s.users()[0].id, "u1");
        assert_eq!(s.membership_count(), 2, "duplicates collapse");
        let members: Vec<_> = s.members_of("g1").iter().map(|u| u.id.as_str()).collect();
        assert_eq!(members, ["u1", "u2"]);
        assert!(s.members_of("nope").is_empty());

        let err = Snapshot::build(
            vec![user("u1", "a")],
            vec![group("g1", "x")],
            [("g1", "u9")],
            vec![],
        )
        .unwrap_err();
        assert_eq!(
            err,
            SnapshotError::UnknownMember {
                group: "g1".into(),
                user: "u9".into()
            }
        );
        let err = Snapshot::build(vec![user("u1", "a"), user("u1", "b")], vec![], [], vec![])
            .unwrap_err();
        assert_eq!(err, SnapshotError::DuplicateUser("u1".into()));
    }

    #[test]
    fn from_positions_equals_build_and_checks_its_input() {
        let built = Snapshot::build(
            vec![user("u1", "a"), user("u2", "b")],
            vec![group("g1", "one")],
            [("g1", "u2"), ("g1", "u1")],
            vec![],
        )
        .unwrap();
        let direct = Snapshot::from_positions(
            vec![user("u1", "a"), user("u2", "b")],
            vec![group("g1", "one")],
            vec![(0, 1), (0, 0), (0, 1)],
            vec![],
        )
        .unwrap();
        assert_eq!(direct, built);
        assert!(
            Snapshot::from_positions(
                vec![user("u2", "b"), user("u1", "a")],
                vec![],
                vec![],
                vec![]
            )
            .is_err(),
            "users must come sorted"
        );
        assert!(
            Snapshot::from_positions(
                vec![user("u1", "a")],
                vec![group("g1", "x")],
                vec![(0, 5)],
                vec![]
            )
            .is_err(),
            "positions must be in range"
        );
    }

    #[test]
    fn a_focused_read_replaces_only_the_groups_it_read() {
        let assigned = Assignment {
            kind: PrincipalKind::Group,
            principal_id: "gq".into(),
        };
        let before = Snapshot::build(
            vec![user("u1", "a"), user("u2", "b")],
            vec![group("gq", "q"), group("gx", "other")],
            [("gq", "u1"), ("gx", "u1"), ("gx", "u2")],
            vec![assigned.clone()],
        )
        .unwrap();
        let direct = Assignment {
            kind: PrincipalKind::User,
            principal_id: "u3".into(),
        };
        let after = before
            .refocused(Focus {
                new_users: vec![user("u3", "c"), user("u1", "renamed")],
                new_groups: vec![],
                members: vec![("gq".into(), vec!["u2".into(), "u3".into()])],
                assignments: vec![assigned, direct.clone()],
            })
            .unwrap();
        let ids =
            |g: &str| -> Vec<String> { after.members_of(g).iter().map(|u| u.id.clone()).collect() };
        assert_eq!(ids("gq"), ["u2", "u3"], "the group read is replaced");
        assert_eq!(ids("gx"), ["u1", "u2"], "other groups stay");
        assert_eq!(after.users().len(), 3);
        assert_eq!(
            after.user("u1").unwrap().user_name,
            "a",
            "a known user keeps the attributes of the full read"
        );
        assert!(after.assignments().contains(&direct));

        let err = before
            .refocused(Focus {
                members: vec![("gq".into(), vec!["u9".into()])],
                ..Focus::default()
            })
            .unwrap_err();
        assert!(matches!(err, SnapshotError::UnknownMember { .. }));
    }

    #[test]
    fn origin_is_told_by_the_external_id() {
        let mut u = user("u1", "a");
        assert_eq!(u.origin(), Origin::Provisioned);
        u.external_id = None;
        assert_eq!(u.origin(), Origin::HandMade);
        u.external_id = Some(String::new());
        assert_eq!(u.origin(), Origin::HandMade);
    }
}
