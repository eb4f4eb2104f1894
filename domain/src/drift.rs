//! Drift: what the IdP says should be in Identity Center (its provisioning scope: the users and
//! groups assigned to the AWS IAM Identity Center app, expanded) against what is there.
//!
//! Matching: an Identity Center object is the IdP object whose id is its external id (that is
//! what SCIM provisioning writes). Nothing is matched by name: a hand-made user that happens to
//! carry an IdP user's name is not that user — it is the likely reason the IdP user is missing
//! (SCIM cannot create a second user with the same user name).

use std::borrow::Cow;

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::snapshot::{Origin, Snapshot, User, UserStatus};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    UserName,
    DisplayName,
    Email,
    Status,
}

/// One difference, with what is needed to show it and link to the objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Drift {
    /// In scope, not in Identity Center. `blocked_by`: an Identity Center user without this
    /// external id that already holds the user name (SCIM cannot create it then).
    MissingUser {
        idp_id: String,
        user_name: String,
        blocked_by: Option<String>,
    },
    MissingGroup {
        idp_id: String,
        display_name: String,
        blocked_by: Option<String>,
    },
    /// In Identity Center, not in scope: a provisioned object left behind (a leaver, or removed
    /// from the app's assignment) or one created by hand.
    OrphanUser {
        user_id: String,
        user_name: String,
        origin: Origin,
    },
    OrphanGroup {
        group_id: String,
        display_name: String,
        origin: Origin,
    },
    /// A mapped attribute differs. `case_only`: equal but for letter case (email case drift).
    UserMismatch {
        user_id: String,
        idp_id: String,
        attribute: Attribute,
        idp: String,
        identity_center: String,
        case_only: bool,
    },
    GroupMismatch {
        group_id: String,
        idp_id: String,
        idp: String,
        identity_center: String,
    },
    /// The IdP group has the member; the Identity Center group does not.
    MissingMembership { group_id: String, user_id: String },
    /// The Identity Center group has a member the IdP group does not.
    ExtraMembership { group_id: String, user_id: String },
    /// Two or more Identity Center users whose emails differ only in letter case.
    EmailCaseTwins {
        email: String,
        user_ids: Vec<String>,
    },
}

/// The kinds of drift, in the order the Drift page lists them: (stored tag, heading).
pub const KINDS: &[(&str, &str)] = &[
    ("missing_user", "Users in scope, missing in Identity Center"),
    (
        "missing_group",
        "Groups in scope, missing in Identity Center",
    ),
    ("orphan_user", "Users in Identity Center, not in scope"),
    ("orphan_group", "Groups in Identity Center, not in scope"),
    ("user_mismatch", "User attributes that differ"),
    ("group_mismatch", "Group names that differ"),
    (
        "missing_membership",
        "Memberships missing in Identity Center",
    ),
    ("extra_membership", "Memberships only in Identity Center"),
    ("email_case_twins", "Emails that differ only in letter case"),
];

impl Drift {
    /// The finding's kind, as stored and as listed in [`KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Drift::MissingUser { .. } => "missing_user",
            Drift::MissingGroup { .. } => "missing_group",
            Drift::OrphanUser { .. } => "orphan_user",
            Drift::OrphanGroup { .. } => "orphan_group",
            Drift::UserMismatch { .. } => "user_mismatch",
            Drift::GroupMismatch { .. } => "group_mismatch",
            Drift::MissingMembership { .. } => "missing_membership",
            Drift::ExtraMembership { .. } => "extra_membership",
            Drift::EmailCaseTwins { .. } => "email_case_twins",
        }
    }

    /// The likely cause and what to do, in the words of the IdP → Identity Center setup.
    pub fn likely_cause(&self) -> &'static str {
        match self {
            Drift::MissingUser {
                blocked_by: Some(_),
                ..
            }
            | Drift::MissingGroup {
                blocked_by: Some(_),
                ..
            } => {
                "An Identity Center object created by hand already holds this name, so SCIM cannot create the IdP's: delete or rename the hand-made one, then restart provisioning."
            }
            Drift::MissingUser { .. } | Drift::MissingGroup { .. } => {
                "Not provisioned yet (the next provisioning cycle carries it, about every 40 minutes in Entra) or the IdP's provisioning failed for it: check the provisioning logs for this object."
            }
            Drift::OrphanUser {
                origin: Origin::HandMade,
                ..
            }
            | Drift::OrphanGroup {
                origin: Origin::HandMade,
                ..
            } => {
                "Created by hand in Identity Center (no external id): the IdP does not manage it. Delete it, or assign its IdP counterpart to the app so provisioning takes it over."
            }
            Drift::OrphanUser { .. } | Drift::OrphanGroup { .. } => {
                "Provisioned once, no longer in the app's scope (a leaver, or removed from the app's assignment): SCIM disables or deletes it on the next cycle; if it stays, remove it in Identity Center."
            }
            Drift::UserMismatch {
                case_only: true, ..
            } => {
                "The values differ only in letter case: Identity Center keeps the case it was first given. Align the IdP's value or update the user in Identity Center."
            }
            Drift::UserMismatch {
                attribute: Attribute::Status,
                ..
            } => {
                "The account was enabled or disabled in the IdP after its last provisioning: the next cycle carries it; if not, check the attribute mapping of the account status."
            }
            Drift::UserMismatch { .. } | Drift::GroupMismatch { .. } => {
                "Changed in the IdP after the last provisioning cycle, or the attribute mapping sends another value: wait one cycle, then check the app's attribute mappings."
            }
            Drift::MissingMembership { .. } => {
                "Added to the group in the IdP after the last provisioning cycle, or the user is not in the app's scope: wait one cycle, then check the user is assigned."
            }
            Drift::ExtraMembership { .. } => {
                "Removed in the IdP and not yet carried over, or added by hand in Identity Center: the next cycle removes a provisioned membership; remove a hand-made one yourself."
            }
            Drift::EmailCaseTwins { .. } => {
                "Two accounts for one mailbox: usually a hand-made user beside a provisioned one. Keep the provisioned one and delete the other."
            }
        }
    }
}

fn status_text(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Enabled => "enabled",
        UserStatus::Disabled => "disabled",
    }
}

fn compare(
    out: &mut Vec<Drift>,
    user: &User,
    scope: &ScopeUser,
    attribute: Attribute,
    idp: &str,
    ic: &str,
) {
    if idp != ic {
        out.push(Drift::UserMismatch {
            user_id: user.id.clone(),
            idp_id: scope.idp_id.clone(),
            attribute,
            idp: idp.to_string(),
            identity_center: ic.to_string(),
            case_only: idp.eq_ignore_ascii_case(ic) || idp.to_lowercase() == ic.to_lowercase(),
        });
    }
}

/// Every difference between the IdP's scope and the snapshot, in a stable order: missing,
/// orphans, mismatches, memberships, case twins.
pub fn drift(ic: &Snapshot, scope: &IdpScope) -> Vec<Drift> {
    let mut out = Vec::new();

    // Identity Center objects by external id; by lower-cased user name / display name.
    let ic_user_by_external: HashMap<&str, u32> = ic
        .users()
        .iter()
        .enumerate()
        .filter_map(|(i, u)| u.external_id.as_deref().map(|e| (e, i as u32)))
        .collect();
    // Only needed to explain a missing user, so built on first need.
    let mut ic_user_by_name: Option<HashMap<String, u32>> = None;
    let ic_group_by_external: HashMap<&str, u32> = ic
        .groups()
        .iter()
        .enumerate()
        .filter_map(|(i, g)| g.external_id.as_deref().map(|e| (e, i as u32)))
        .collect();
    let ic_group_by_name: HashMap<&str, u32> = ic
        .groups()
        .iter()
        .enumerate()
        .map(|(i, g)| (g.display_name.as_str(), i as u32))
        .collect();

    // Users.
    let mut matched_users = vec![false; ic.users().len()];
    // Scope user position → Identity Center user position, for membership comparison.
    let mut user_match: Vec<Option<u32>> = vec![None; scope.users.len()];
    let mut mismatches = Vec::new();
    for (at, s) in scope.users.iter().enumerate() {
        match ic_user_by_external.get(s.idp_id.as_str()) {
            Some(&u) => {
                matched_users[u as usize] = true;
                user_match[at] = Some(u);
                let user = &ic.users()[u as usize];
                compare(
                    &mut mismatches,
                    user,
                    s,
                    Attribute::UserName,
                    &s.user_name,
                    &user.user_name,
                );
                if let Some(display_name) = &s.display_name {
                    compare(
                        &mut mismatches,
                        user,
                        s,
                        Attribute::DisplayName,
                        display_name,
                        &user.display_name,
                    );
                }
                compare(
                    &mut mismatches,
                    user,
                    s,
                    Attribute::Email,
                    s.email.as_deref().unwrap_or_default(),
                    user.email.as_deref().unwrap_or_default(),
                );
                let idp_status = if s.enabled {
                    UserStatus::Enabled
                } else {
                    UserStatus::Disabled
                };
                compare(
                    &mut mismatches,
                    user,
                    s,
                    Attribute::Status,
                    status_text(idp_status),
                    status_text(user.status),
                );
            }
            None => {
                let by_name = ic_user_by_name.get_or_insert_with(|| {
                    ic.users()
                        .iter()
                        .enumerate()
                        .map(|(i, u)| (u.user_name.to_lowercase(), i as u32))
                        .collect()
                });
                out.push(Drift::MissingUser {
                    idp_id: s.idp_id.clone(),
                    user_name: s.user_name.clone(),
                    blocked_by: by_name
                        .get(&s.user_name.to_lowercase())
                        .map(|&u| ic.users()[u as usize].id.clone()),
                });
            }
        }
    }

    // Groups.
    let mut matched_groups = vec![false; ic.groups().len()];
    let mut group_pairs: Vec<(&crate::drift::ScopeGroup, u32)> = Vec::new();
    for g in &scope.groups {
        match ic_group_by_external.get(g.idp_id.as_str()) {
            Some(&at) => {
                matched_groups[at as usize] = true;
                group_pairs.push((g, at));
                let group = &ic.groups()[at as usize];
                if group.display_name != g.display_name {
                    mismatches.push(Drift::GroupMismatch {
                        group_id: group.id.clone(),
                        idp_id: g.idp_id.clone(),
                        idp: g.display_name.clone(),
                        identity_center: group.display_name.clone(),
                    });
                }
            }
            None => out.push(Drift::MissingGroup {
                idp_id: g.idp_id.clone(),
                display_name: g.display_name.clone(),
                blocked_by: ic_group_by_name
                    .get(g.display_name.as_str())
                    .map(|&at| ic.groups()[at as usize].id.clone()),
            }),
        }
    }

    // Orphans.
    for (u, user) in ic.users().iter().enumerate() {
        if !matched_users[u] {
            out.push(Drift::OrphanUser {
                user_id: user.id.clone(),
                user_name: user.user_name.clone(),
                origin: user.origin(),
            });
        }
    }
    for (at, group) in ic.groups().iter().enumerate() {
        if !matched_groups[at] {
            out.push(Drift::OrphanGroup {
                group_id: group.id.clone(),
                display_name: group.display_name.clone(),
                origin: group.origin(),
            });
        }
    }
    out.append(&mut mismatches);

    // Memberships of matched groups: expected (IdP members that exist in Identity Center)
    // against actual, both as sorted positions walked side by side.
    // In Identity Center's group order, so the findings do not depend on the order the IdP's
    // groups were read in.
    group_pairs.sort_unstable_by_key(|&(_, at)| at);
    let mut expected: Vec<u32> = Vec::new();
    for (g, at) in group_pairs {
        let group_id = &ic.groups()[at as usize].id;
        expected.clear();
        expected.extend(
            g.members
                .iter()
                .filter_map(|&m| user_match.get(m as usize).copied().flatten()),
        );
        expected.sort_unstable();
        expected.dedup();
        let mut actual = ic.member_positions(at).peekable();
        let mut wanted = expected.iter().copied().peekable();
        loop {
            let (kind, u) = match (wanted.peek().copied(), actual.peek().copied()) {
                (None, None) => break,
                (Some(w), Some(a)) if w == a => {
                    wanted.next();
                    actual.next();
                    continue;
                }
                (Some(w), Some(a)) if w < a => (true, wanted.next().unwrap_or(w)),
                (Some(w), None) => (true, wanted.next().unwrap_or(w)),
                (_, Some(a)) => (false, actual.next().unwrap_or(a)),
            };
            let user_id = ic.users()[u as usize].id.clone();
            out.push(if kind {
                Drift::MissingMembership {
                    group_id: group_id.clone(),
                    user_id,
                }
            } else {
                Drift::ExtraMembership {
                    group_id: group_id.clone(),
                    user_id,
                }
            });
        }
    }

    // Emails that differ only in case, across Identity Center users.
    let mut by_email: HashMap<Cow<'_, str>, Vec<&User>> =
        HashMap::with_capacity_and_hasher(ic.users().len(), Default::default());
    for user in ic.users() {
        if let Some(email) = &user.email {
            let key = if email.chars().any(char::is_uppercase) {
                Cow::Owned(email.to_lowercase())
            } else {
                Cow::Borrowed(email.as_str())
            };
            by_email.entry(key).or_default().push(user);
        }
    }
    let mut twins: Vec<Drift> = by_email
        .into_iter()
        .filter(|(_, users)| users.len() > 1 && users.iter().any(|u| u.email != users[0].email))
        .map(|(email, users)| Drift::EmailCaseTwins {
            email: email.into_owned(),
            user_ids: users.iter().map(|u| u.id.clone()).collect(),
        })
        .collect();
    twins.sort_by(|a, b| match (a, b) {
        (Drift::EmailCaseTwins { email: x, .. }, Drift::EmailCaseTwins { email: y, .. }) => {
            x.cmp(y)
        }
        _ => std::cmp::Ordering::Equal,
    });
    out.append(&mut twins);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::snapshot::tests::{group, user};

    fn scope_user(id: &str, name: &str) -> ScopeUser {
        ScopeUser {
            idp_id: format!("idp-{id}"),
            user_name: name.into(),
            display_name: Some(name.into()),
            email: Some(format!("{name}@example.com")),
            enabled: true,
        }
    }

    #[test]
    fn a_provisioned_directory_in_step_with_its_scope_has_no_drift() {
        let ic = Snapshot::build(
            vec![user("u1", "ann"), user("u2", "bob")],
            vec![group("g1", "devs")],
            [("g1", "u1"), ("g1", "u2")],
            vec![],
        )
        .unwrap();
        let scope = IdpScope {
            users: vec![scope_user("u1", "ann"), scope_user("u2", "bob")],
            groups: vec![ScopeGroup {
                idp_id: "idp-g1".into(),
                display_name: "devs".into(),
                members: vec![0, 1],
            }],
        };
        assert_eq!(drift(&ic, &scope), []);
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

    #[test]
    fn a_display_name_the_idp_does_not_map_is_not_compared() {
        let mut renamed = user("u1", "ann");
        renamed.display_name = "Ann Example".into();
        let ic = Snapshot::build(vec![renamed], vec![], [], vec![]).unwrap();
        let mut unmapped = scope_user("u1", "ann");
        unmapped.display_name = None;
        let scope = IdpScope {
            users: vec![unmapped.clone()],
            groups: vec![],
        };
        assert_eq!(drift(&ic, &scope), []);
        unmapped.display_name = Some("ann".into());
        let scope = IdpScope {
            users: vec![unmapped],
            groups: vec![],
        };
        assert!(matches!(
            drift(&ic, &scope).as_slice(),
            [Drift::UserMismatch {
                attribute: Attribute::DisplayName,
                ..
            }]
        ));
    }

    #[test]
    fn every_kind_of_drift_is_found_with_its_cause() {
        let mut hand_made = user("h1", "cat");
        hand_made.external_id = None;
        let mut leaver = user("u9", "zed");
        leaver.status = UserStatus::Enabled;
        let mut ann = user("u1", "ann");
        ann.email = Some("Ann@Example.com".into());
        let mut bob = user("u2", "bob");
        bob.status = UserStatus::Enabled;
        let mut twin = user("u3", "ann-console");
        twin.external_id = None;
        twin.email = Some("ann@example.com".into());
        let ic = Snapshot::build(
            vec![ann, bob, hand_made, leaver, twin],
            vec![group("g1", "devs"), group("g2", "old-team")],
            [("g1", "u1"), ("g1", "u9")],
            vec![],
        )
        .unwrap();
        let mut bob_scope = scope_user("u2", "bob");
        bob_scope.enabled = false;
        let scope = IdpScope {
            users: vec![
                scope_user("u1", "ann"),
                bob_scope,
                scope_user("c1", "CAT"),
                scope_user("d1", "dan"),
            ],
            groups: vec![ScopeGroup {
                idp_id: "idp-g1".into(),
                display_name: "developers".into(),
                members: vec![0, 1],
            }],
        };
        let found = drift(&ic, &scope);
        let expect = |d: Drift| assert!(found.contains(&d), "{d:?} not in {found:#?}");
        expect(Drift::MissingUser {
            idp_id: "idp-c1".into(),
            user_name: "CAT".into(),
            blocked_by: Some("h1".into()),
        });
        expect(Drift::MissingUser {
            idp_id: "idp-d1".into(),
            user_name: "dan".into(),
            blocked_by: None,
        });
        expect(Drift::OrphanUser {
            user_id: "u9".into(),
            user_name: "zed".into(),
            origin: Origin::Provisioned,
        });
        expect(Drift::OrphanUser {
            user_id: "h1".into(),
            user_name: "cat".into(),
            origin: Origin::HandMade,
        });
        expect(Drift::OrphanGroup {
            group_id: "g2".into(),
            display_name: "old-team".into(),
            origin: Origin::Provisioned,
        });
        expect(Drift::UserMismatch {
            user_id: "u1".into(),
            idp_id: "idp-u1".into(),
            attribute: Attribute::Email,
            idp: "ann@example.com".into(),
            identity_center: "Ann@Example.com".into(),
            case_only: true,
        });
        expect(Drift::UserMismatch {
            user_id: "u2".into(),
            idp_id: "idp-u2".into(),
            attribute: Attribute::Status,
            idp: "disabled".into(),
            identity_center: "enabled".into(),
            case_only: false,
        });
        expect(Drift::GroupMismatch {
            group_id: "g1".into(),
            idp_id: "idp-g1".into(),
            idp: "developers".into(),
            identity_center: "devs".into(),
        });
        expect(Drift::MissingMembership {
            group_id: "g1".into(),
            user_id: "u2".into(),
        });
        expect(Drift::ExtraMembership {
            group_id: "g1".into(),
            user_id: "u9".into(),
        });
        expect(Drift::EmailCaseTwins {
            email: "ann@example.com".into(),
            user_ids: vec!["u1".into(), "u3".into()],
        });
        assert_eq!(found.len(), 12, "{found:#?}");
    }

    #[test]
    fn each_kind_is_listed_under_its_stored_tag_with_a_cause() {
        let all = [
            Drift::MissingUser {
                idp_id: "i".into(),
                user_name: "a".into(),
                blocked_by: None,
            },
            Drift::MissingGroup {
                idp_id: "i".into(),
                display_name: "g".into(),
                blocked_by: Some("g1".into()),
            },
            Drift::OrphanUser {
                user_id: "u".into(),
                user_name: "a".into(),
                origin: Origin::HandMade,
            },
            Drift::OrphanGroup {
                group_id: "g".into(),
                display_name: "g".into(),
                origin: Origin::Provisioned,
            },
            Drift::UserMismatch {
                user_id: "u".into(),
                idp_id: "i".into(),
                attribute: Attribute::Email,
                idp: "A@x".into(),
                identity_center: "a@x".into(),
                case_only: true,
            },
            Drift::GroupMismatch {
                group_id: "g".into(),
                idp_id: "i".into(),
                idp: "a".into(),
                identity_center: "b".into(),
            },
            Drift::MissingMembership {
                group_id: "g".into(),
                user_id: "u".into(),
            },
            Drift::ExtraMembership {
                group_id: "g".into(),
                user_id: "u".into(),
            },
            Drift::EmailCaseTwins {
                email: "a@x".into(),
                user_ids: vec!["u".into(), "v".into()],
            },
        ];
        assert_eq!(all.len(), KINDS.len());
        for (d, (tag, _)) in all.iter().zip(KINDS) {
            assert_eq!(d.kind(), *tag);
            let json = serde_json::to_value(d).unwrap();
            assert_eq!(json["kind"], *tag, "the stored tag is the serde tag");
            assert!(!d.likely_cause().is_empty());
        }
        // A blocked missing user names the hand-made holder of its name, not a slow cycle.
        let blocked = Drift::MissingUser {
            idp_id: "i".into(),
            user_name: "a".into(),
            blocked_by: Some("u".into()),
        };
        assert!(blocked.likely_cause().contains("by hand"));
        assert!(all[0].likely_cause().contains("cycle"));
    }
}
