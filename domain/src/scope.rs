//! The IdP's provisioning scope: the users and groups assigned to the AWS IAM Identity Center
//! application, expanded, as an IdP reader puts it together page by page. [`crate::drift`]
//! compares it with Identity Center.

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

/// A user in the IdP's provisioning scope, with the attributes mapped to Identity Center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeUser {
    pub idp_id: String,
    pub user_name: String,
    /// `None` when the IdP maps no display name (PingOne without the seeds' Username →
    /// displayName mapping): then it is not compared.
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub enabled: bool,
}

/// A group in scope, with its members that are in scope: positions into [`IdpScope::users`]
/// (4 bytes each, so the million memberships of a large tenant take 4 MB rather than a million
/// id strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeGroup {
    pub idp_id: String,
    pub display_name: String,
    pub members: Vec<u32>,
}

/// The IdP's provisioning scope: its users, each once, and its groups, whose members are
/// positions into `users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpScope {
    pub users: Vec<ScopeUser>,
    pub groups: Vec<ScopeGroup>,
}

impl IdpScope {
    /// A scope from groups whose members are named by IdP id (what a reader that meets members
    /// before it has every user gets): `(id, display name, member ids)`. Members that are not
    /// among `users` are left out, as provisioning leaves them out.
    pub fn from_member_ids(
        users: Vec<ScopeUser>,
        groups: impl IntoIterator<Item = (String, String, Vec<String>)>,
    ) -> Self {
        let mut scope = ScopeBuilder::default();
        for u in users {
            scope.user(u);
        }
        let groups: Vec<_> = groups
            .into_iter()
            .map(|(id, name, members)| {
                let members = members.iter().map(|m| scope.member(m)).collect();
                (id, name, members)
            })
            .collect();
        scope.finish(groups)
    }

    /// The members of `group` (a group of this scope).
    pub fn members<'a>(&'a self, group: &'a ScopeGroup) -> impl Iterator<Item = &'a ScopeUser> {
        group
            .members
            .iter()
            .filter_map(|&m| self.users.get(m as usize))
    }

    /// How many memberships the scope holds.
    pub fn memberships(&self) -> usize {
        self.groups.iter().map(|g| g.members.len()).sum()
    }

    /// The same scope with users and groups sorted by IdP id and each group's members sorted,
    /// so scopes read in any order compare equal.
    pub fn sorted(mut self) -> Self {
        let mut users: Vec<(usize, ScopeUser)> = self.users.into_iter().enumerate().collect();
        users.sort_by(|a, b| a.1.idp_id.cmp(&b.1.idp_id));
        let mut new_at = vec![0u32; users.len()];
        for (new, (old, _)) in users.iter().enumerate() {
            new_at[*old] = new as u32;
        }
        self.users = users.into_iter().map(|(_, u)| u).collect();
        self.groups.sort_by(|a, b| a.idp_id.cmp(&b.idp_id));
        for g in &mut self.groups {
            for m in &mut g.members {
                if let Some(&n) = new_at.get(*m as usize) {
                    *m = n;
                }
            }
            g.members.sort_unstable();
        }
        self
    }
}

/// A scope put together as an IdP's pages arrive, in any order: the scope's users as they are
/// read, and group members by IdP id, before or after their user is read. Each id is held once
/// (a member is 4 bytes, not an id string), so a reader keeps a million memberships in a few
/// megabytes. A user read twice (in two populations) is one user; members that never turn out
/// to be users of the scope are left out by [`ScopeBuilder::finish`], as provisioning leaves
/// them out.
#[derive(Debug, Default)]
pub struct ScopeBuilder {
    /// IdP id → slot in `users`.
    at: HashMap<String, u32>,
    /// `None` for an id met only as a member so far.
    users: Vec<Option<ScopeUser>>,
}

impl ScopeBuilder {
    fn slot(&mut self, id: &str) -> u32 {
        if let Some(&at) = self.at.get(id) {
            return at;
        }
        let at = self.users.len() as u32;
        self.at.insert(id.to_string(), at);
        self.users.push(None);
        at
    }

    /// A user of the scope; the first read of a user wins.
    pub fn user(&mut self, user: ScopeUser) {
        let at = self.slot(&user.idp_id) as usize;
        if let Some(slot @ None) = self.users.get_mut(at) {
            *slot = Some(user);
        }
    }

    /// The slot of a member named by IdP id, to list among a group's members.
    pub fn member(&mut self, idp_id: &str) -> u32 {
        self.slot(idp_id)
    }

    /// The scope, with the groups `(id, display name, member slots)`: users sorted by IdP id
    /// (so the scope does not depend on the order pages arrived in, and is stored in its key's
    /// order), members that are not users of the scope left out.
    pub fn finish(self, groups: impl IntoIterator<Item = (String, String, Vec<u32>)>) -> IdpScope {
        drop(self.at);
        let mut read: Vec<(usize, ScopeUser)> = self
            .users
            .into_iter()
            .enumerate()
            .filter_map(|(slot, u)| Some((slot, u?)))
            .collect();
        read.sort_unstable_by(|a, b| a.1.idp_id.cmp(&b.1.idp_id));
        let slots = read.iter().map(|(slot, _)| slot + 1).max().unwrap_or(0);
        let mut new_at: Vec<Option<u32>> = vec![None; slots];
        for (at, (slot, _)) in read.iter().enumerate() {
            new_at[*slot] = Some(at as u32);
        }
        let users: Vec<ScopeUser> = read.into_iter().map(|(_, u)| u).collect();
        let groups = groups
            .into_iter()
            .map(|(idp_id, display_name, members)| ScopeGroup {
                idp_id,
                display_name,
                members: members
                    .iter()
                    .filter_map(|&m| new_at.get(m as usize).copied().flatten())
                    .collect(),
            })
            .collect();
        IdpScope { users, groups }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::drift::drift;
    use crate::snapshot::Snapshot;

    pub(crate) fn scope_user(id: &str, name: &str) -> ScopeUser {
        ScopeUser {
            idp_id: format!("idp-{id}"),
            user_name: name.into(),
            display_name: Some(name.into()),
            email: Some(format!("{name}@example.com")),
            enabled: true,
        }
    }

    #[test]
    fn a_scope_built_from_member_ids_keeps_only_its_users_and_sorts_as_a_set() {
        let users = vec![scope_user("u2", "bob"), scope_user("u1", "ann")];
        let scope = IdpScope::from_member_ids(
            users,
            [
                (
                    "idp-g2".to_string(),
                    "ops".to_string(),
                    vec!["idp-u1".to_string(), "idp-x9".to_string()],
                ),
                (
                    "idp-g1".to_string(),
                    "devs".to_string(),
                    vec!["idp-u1".to_string(), "idp-u2".to_string()],
                ),
            ],
        );
        // Users by id whatever order they came in; a member outside the users (not
        // provisioned) is left out.
        assert_eq!(scope.users[0].idp_id, "idp-u1");
        assert_eq!(scope.groups[0].members, [0]);
        assert_eq!(scope.memberships(), 3);
        let names = |s: &IdpScope, g: usize| -> Vec<String> {
            s.members(&s.groups[g])
                .map(|u| u.user_name.clone())
                .collect()
        };
        assert_eq!(names(&scope, 1), ["ann", "bob"]);
        // Sorted: users and groups by id, members still the same users.
        let sorted = scope.clone().sorted();
        assert_eq!(sorted.users[0].idp_id, "idp-u1");
        assert_eq!(sorted.groups[0].idp_id, "idp-g1");
        assert_eq!(sorted.groups[0].members, [0, 1]);
        assert_eq!(names(&sorted, 1), ["ann"]);
        // The same scope read in another order compares equal once sorted.
        let other = IdpScope::from_member_ids(
            vec![scope_user("u1", "ann"), scope_user("u2", "bob")],
            [
                (
                    "idp-g1".to_string(),
                    "devs".to_string(),
                    vec!["idp-u2".to_string(), "idp-u1".to_string()],
                ),
                (
                    "idp-g2".to_string(),
                    "ops".to_string(),
                    vec!["idp-u1".to_string()],
                ),
            ],
        );
        assert_ne!(other, scope);
        assert_eq!(other.sorted(), sorted);
        assert_eq!(drift(&Snapshot::default(), &sorted).len(), 4);
    }

    #[test]
    fn a_scope_built_as_pages_arrive_takes_members_before_their_users_and_users_once() {
        let mut b = ScopeBuilder::default();
        // A group's page arrives before any user: its members are ids met so far.
        let devs = vec![b.member("idp-u2"), b.member("idp-x9"), b.member("idp-u1")];
        b.user(scope_user("u1", "ann"));
        // The same user in a second population: the first read stands.
        let mut again = scope_user("u1", "ann");
        again.user_name = "ann-from-elsewhere".into();
        b.user(again);
        b.user(scope_user("u2", "bob"));
        b.user(scope_user("u3", "cy"));
        let ops = vec![b.member("idp-u3")];
        let scope = b.finish([
            ("idp-g1".to_string(), "devs".to_string(), devs),
            ("idp-g2".to_string(), "ops".to_string(), ops),
        ]);
        // idp-x9 never turned out to be a user of the scope: gone, and not a user.
        assert_eq!(scope.users.len(), 3);
        assert_eq!(scope.memberships(), 3);
        let names: Vec<_> = scope
            .members(&scope.groups[0])
            .map(|u| u.user_name.as_str())
            .collect();
        assert_eq!(names, ["bob", "ann"]);
        assert_eq!(
            scope.members(&scope.groups[1]).next().unwrap().user_name,
            "cy"
        );
        let from_ids = IdpScope::from_member_ids(
            vec![
                scope_user("u3", "cy"),
                scope_user("u1", "ann"),
                scope_user("u2", "bob"),
            ],
            [
                (
                    "idp-g2".to_string(),
                    "ops".to_string(),
                    vec!["idp-u3".to_string()],
                ),
                (
                    "idp-g1".to_string(),
                    "devs".to_string(),
                    vec!["idp-u1".to_string(), "idp-u2".to_string()],
                ),
            ],
        );
        assert_eq!(from_ids.sorted(), scope.sorted());
    }
}
