//! The Identity Store's data as AWS models it (identitystore 2020-06-15): users with at most one
//! email, a status and external ids; groups; memberships whose member is always a user (no nested
//! groups). Ids follow the service's shape: the store id is `d-<10 hex>`, user, group and
//! membership ids are `<10 hex>-<uuid>` with the same 10 hex digits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Issuer recorded on the external ids of SCIM-provisioned users and groups.
///
/// Unverified: AWS's references describe `ExternalId{Issuer, Id}` but not the issuer value that
/// SCIM provisioning writes. Tessera tells origin by the *presence* of an external id, so nothing
/// depends on this value; confirm it against a real store when one is available.
pub const SCIM_ISSUER: &str = "scim";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExternalId {
    pub issuer: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub user_name: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    /// The one work email (Identity Center keeps at most one).
    pub email: Option<String>,
    pub title: Option<String>,
    pub status: UserStatus,
    /// Empty for users created by hand in the console; SCIM-provisioned users carry the IdP's id.
    pub external_ids: Vec<ExternalId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Attributes Identity Center keeps but Tessera does not read (nickName, locale, addresses,
    /// phone numbers, the enterprise extension, …), as the SCIM client sent them. Boxed so the
    /// 100,000 users of the large organisation, which have none, pay one pointer each.
    pub scim_attributes: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub group_id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub external_ids: Vec<ExternalId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A membership as the API shows it, borrowed from the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership<'a> {
    pub membership_id: String,
    pub group_id: &'a str,
    /// Always a user: the Identity Store has no nested groups.
    pub user_id: &'a str,
}

/// How a membership is stored: 24 bytes, so a million of them fit comfortably.
#[derive(Debug, Clone, Copy)]
struct StoredMembership {
    id: uuid::Uuid,
    group: u32,
    user: u32,
}

/// Why a change to the directory was refused, named as the Identity Store names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryError {
    /// `ResourceNotFoundException`
    NotFound { kind: &'static str, id: String },
    /// `ConflictException` (a unique attribute is taken, or the membership exists)
    Conflict { reason: String },
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectoryError::NotFound { kind, id } => write!(f, "{kind} {id} not found"),
            DirectoryError::Conflict { reason } => f.write_str(reason),
        }
    }
}

impl std::error::Error for DirectoryError {}

fn not_found(kind: &'static str, id: &str) -> DirectoryError {
    DirectoryError::NotFound {
        kind,
        id: id.to_string(),
    }
}

/// One identity store. Listing order is creation order, which makes paging stable.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    identity_store_id: String,
    /// Slots in creation order; a removed object leaves `None`, so positions (and the paging
    /// tokens built on them) stay valid while the directory changes.
    users: Vec<Option<User>>,
    groups: Vec<Option<Group>>,
    memberships: Vec<Option<StoredMembership>>,
    live_users: usize,
    live_groups: usize,
    live_memberships: usize,
    user_index: HashMap<String, usize>,
    user_by_name: HashMap<String, usize>,
    user_by_external: HashMap<ExternalId, usize>,
    group_index: HashMap<String, usize>,
    group_by_name: HashMap<String, usize>,
    group_by_external: HashMap<ExternalId, usize>,
    membership_index: HashMap<uuid::Uuid, u32>,
    /// (group position, user position) → membership position
    membership_by_pair: HashMap<(u32, u32), u32>,
    /// group position → membership positions, in creation order
    members_of: Vec<Vec<u32>>,
    /// user position → membership positions, in creation order
    groups_of: Vec<Vec<u32>>,
}

impl Directory {
    /// An empty store; `identity_store_id` is `d-` and ten hex digits.
    pub fn new(identity_store_id: impl Into<String>) -> Self {
        Self {
            identity_store_id: identity_store_id.into(),
            ..Self::default()
        }
    }

    pub fn identity_store_id(&self) -> &str {
        &self.identity_store_id
    }

    /// The ten hex digits every object id of this store starts with.
    pub fn id_prefix(&self) -> &str {
        self.identity_store_id
            .strip_prefix("d-")
            .unwrap_or(&self.identity_store_id)
    }

    /// Every user, in creation order.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.iter().flatten()
    }

    /// Every group, in creation order.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().flatten()
    }

    /// Users by slot (`None` where one was removed), for paging that survives changes.
    pub fn user_slots(&self) -> &[Option<User>] {
        &self.users
    }

    /// Groups by slot (`None` where one was removed).
    pub fn group_slots(&self) -> &[Option<Group>] {
        &self.groups
    }

    /// The slot of a live user (its position in [`Directory::user_slots`]).
    pub fn user_slot(&self, user_id: &str) -> Option<usize> {
        self.user_index
            .get(user_id)
            .copied()
            .filter(|&i| self.users[i].is_some())
    }

    /// The slot of a live group (its position in [`Directory::group_slots`]).
    pub fn group_slot(&self, group_id: &str) -> Option<usize> {
        self.group_index
            .get(group_id)
            .copied()
            .filter(|&i| self.groups[i].is_some())
    }

    pub fn user_count(&self) -> usize {
        self.live_users
    }

    pub fn group_count(&self) -> usize {
        self.live_groups
    }

    pub fn membership_count(&self) -> usize {
        self.live_memberships
    }

    /// Every membership, in creation order.
    pub fn memberships(&self) -> impl Iterator<Item = Membership<'_>> {
        self.memberships.iter().flatten().map(|m| self.view(m))
    }

    pub fn user(&self, user_id: &str) -> Option<&User> {
        self.user_index
            .get(user_id)
            .and_then(|&i| self.users[i].as_ref())
    }

    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.group_index
            .get(group_id)
            .and_then(|&i| self.groups[i].as_ref())
    }

    /// Membership ids are `<10 hex>-<uuid>`; anything else is simply not found.
    pub fn membership(&self, membership_id: &str) -> Option<Membership<'_>> {
        let uuid = self.parse_object_id(membership_id)?;
        let &at = self.membership_index.get(&uuid)?;
        self.memberships[at as usize].as_ref().map(|m| self.view(m))
    }

    /// `GetUserId` by user name; the Identity Store compares user names case-insensitively.
    pub fn user_by_name(&self, user_name: &str) -> Option<&User> {
        self.user_by_name
            .get(&user_name.to_lowercase())
            .and_then(|&i| self.users[i].as_ref())
    }

    pub fn user_by_external_id(&self, external: &ExternalId) -> Option<&User> {
        self.user_by_external
            .get(external)
            .and_then(|&i| self.users[i].as_ref())
    }

    /// `GetGroupId` by display name (exact).
    pub fn group_by_name(&self, display_name: &str) -> Option<&Group> {
        self.group_by_name
            .get(display_name)
            .and_then(|&i| self.groups[i].as_ref())
    }

    pub fn group_by_external_id(&self, external: &ExternalId) -> Option<&Group> {
        self.group_by_external
            .get(external)
            .and_then(|&i| self.groups[i].as_ref())
    }

    /// Memberships of a group, in creation order.
    pub fn memberships_of_group(&self, group_id: &str) -> Vec<Membership<'_>> {
        self.group_index
            .get(group_id)
            .and_then(|&g| self.members_of.get(g))
            .map(|list| {
                list.iter()
                    .filter_map(|&m| self.memberships[m as usize].as_ref())
                    .map(|m| self.view(m))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Memberships of a user, in creation order.
    pub fn memberships_of_user(&self, user_id: &str) -> Vec<Membership<'_>> {
        self.user_index
            .get(user_id)
            .and_then(|&u| self.groups_of.get(u))
            .map(|list| {
                list.iter()
                    .filter_map(|&m| self.memberships[m as usize].as_ref())
                    .map(|m| self.view(m))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_member(&self, group_id: &str, user_id: &str) -> bool {
        match (self.group_index.get(group_id), self.user_index.get(user_id)) {
            (Some(&g), Some(&u)) => self.membership_by_pair.contains_key(&(g as u32, u as u32)),
            _ => false,
        }
    }

    /// A new object id of this store's shape, from 16 random bytes.
    pub fn object_id(&self, random: [u8; 16]) -> String {
        let uuid = uuid::Builder::from_random_bytes(random).into_uuid();
        format!("{}-{}", self.id_prefix(), uuid.hyphenated())
    }

    fn parse_object_id(&self, id: &str) -> Option<uuid::Uuid> {
        let rest = id.strip_prefix(self.id_prefix())?.strip_prefix('-')?;
        uuid::Uuid::try_parse(rest).ok()
    }

    /// A stored membership as the API shows it. Both ends are live: removing a user or a group
    /// removes its memberships first.
    fn view(&self, m: &StoredMembership) -> Membership<'_> {
        Membership {
            membership_id: format!("{}-{}", self.id_prefix(), m.id.hyphenated()),
            group_id: self.groups[m.group as usize]
                .as_ref()
                .map_or("", |g| g.group_id.as_str()),
            user_id: self.users[m.user as usize]
                .as_ref()
                .map_or("", |u| u.user_id.as_str()),
        }
    }

    pub fn add_user(&mut self, user: User) -> Result<(), DirectoryError> {
        if self.user_index.contains_key(&user.user_id) {
            return Err(DirectoryError::Conflict {
                reason: format!("user id {} is taken", user.user_id),
            });
        }
        self.check_user_unique(&user, None)?;
        let at = self.users.len();
        self.user_index.insert(user.user_id.clone(), at);
        self.index_user(&user, at);
        self.users.push(Some(user));
        self.groups_of.push(Vec::new());
        self.live_users += 1;
        Ok(())
    }

    /// User names (compared without case) and external ids belong to one user at most;
    /// `except` is the slot of the user being replaced.
    fn check_user_unique(&self, user: &User, except: Option<usize>) -> Result<(), DirectoryError> {
        let other = |slot: Option<&usize>| slot.is_some_and(|&s| Some(s) != except);
        if other(self.user_by_name.get(&user.user_name.to_lowercase())) {
            return Err(DirectoryError::Conflict {
                reason: format!("a user with user name {} already exists", user.user_name),
            });
        }
        if let Some(taken) = user
            .external_ids
            .iter()
            .find(|e| other(self.user_by_external.get(*e)))
        {
            return Err(DirectoryError::Conflict {
                reason: format!("external id {} is already used by another user", taken.id),
            });
        }
        Ok(())
    }

    fn index_user(&mut self, user: &User, at: usize) {
        self.user_by_name.insert(user.user_name.to_lowercase(), at);
        for external in &user.external_ids {
            self.user_by_external.insert(external.clone(), at);
        }
    }

    fn unindex_user(&mut self, user: &User) {
        self.user_by_name.remove(&user.user_name.to_lowercase());
        for external in &user.external_ids {
            self.user_by_external.remove(external);
        }
    }

    /// Replaces a user's attributes (`UpdateUser`, SCIM PUT/PATCH). The id and creation time
    /// stay; user name and external ids must stay unique.
    pub fn replace_user(&mut self, user_id: &str, mut user: User) -> Result<(), DirectoryError> {
        let Some(&at) = self.user_index.get(user_id) else {
            return Err(not_found("USER", user_id));
        };
        let Some(old) = self.users[at].take() else {
            return Err(not_found("USER", user_id));
        };
        if let Err(e) = self.check_user_unique(&user, Some(at)) {
            self.users[at] = Some(old);
            return Err(e);
        }
        self.unindex_user(&old);
        user.user_id = old.user_id;
        user.created_at = old.created_at;
        self.index_user(&user, at);
        self.users[at] = Some(user);
        Ok(())
    }

    /// `DeleteUser`: the user and every membership of the user.
    pub fn remove_user(&mut self, user_id: &str) -> Result<User, DirectoryError> {
        let Some(at) = self.user_index.get(user_id).copied() else {
            return Err(not_found("USER", user_id));
        };
        let Some(user) = self.users[at].take() else {
            return Err(not_found("USER", user_id));
        };
        for m in std::mem::take(&mut self.groups_of[at]) {
            self.drop_membership(m);
        }
        self.user_index.remove(user_id);
        self.unindex_user(&user);
        self.live_users -= 1;
        Ok(user)
    }

    pub fn add_group(&mut self, group: Group) -> Result<(), DirectoryError> {
        if self.group_index.contains_key(&group.group_id) {
            return Err(DirectoryError::Conflict {
                reason: format!("group id {} is taken", group.group_id),
            });
        }
        self.check_group_unique(&group, None)?;
        let at = self.groups.len();
        self.group_index.insert(group.group_id.clone(), at);
        self.index_group(&group, at);
        self.groups.push(Some(group));
        self.members_of.push(Vec::new());
        self.live_groups += 1;
        Ok(())
    }

    fn check_group_unique(
        &self,
        group: &Group,
        except: Option<usize>,
    ) -> Result<(), DirectoryError> {
        let other = |slot: Option<&usize>| slot.is_some_and(|&s| Some(s) != except);
        if other(self.group_by_name.get(&group.display_name)) {
            return Err(DirectoryError::Conflict {
                reason: format!(
                    "a group with display name {} already exists",
                    group.display_name
                ),
            });
        }
        if let Some(taken) = group
            .external_ids
            .iter()
            .find(|e| other(self.group_by_external.get(*e)))
        {
            return Err(DirectoryError::Conflict {
                reason: format!("external id {} is already used by another group", taken.id),
            });
        }
        Ok(())
    }

    fn index_group(&mut self, group: &Group, at: usize) {
        self.group_by_name.insert(group.display_name.clone(), at);
        for external in &group.external_ids {
            self.group_by_external.insert(external.clone(), at);
        }
    }

    fn unindex_group(&mut self, group: &Group) {
        self.group_by_name.remove(&group.display_name);
        for external in &group.external_ids {
            self.group_by_external.remove(external);
        }
    }

    /// Replaces a group's attributes; the id and creation time stay.
    pub fn replace_group(
        &mut self,
        group_id: &str,
        mut group: Group,
    ) -> Result<(), DirectoryError> {
        let Some(&at) = self.group_index.get(group_id) else {
            return Err(not_found("GROUP", group_id));
        };
        let Some(old) = self.groups[at].take() else {
            return Err(not_found("GROUP", group_id));
        };
        if let Err(e) = self.check_group_unique(&group, Some(at)) {
            self.groups[at] = Some(old);
            return Err(e);
        }
        self.unindex_group(&old);
        group.group_id = old.group_id;
        group.created_at = old.created_at;
        self.index_group(&group, at);
        self.groups[at] = Some(group);
        Ok(())
    }

    /// `DeleteGroup`: the group and every membership in it.
    pub fn remove_group(&mut self, group_id: &str) -> Result<Group, DirectoryError> {
        let Some(at) = self.group_index.get(group_id).copied() else {
            return Err(not_found("GROUP", group_id));
        };
        let Some(group) = self.groups[at].take() else {
            return Err(not_found("GROUP", group_id));
        };
        for m in std::mem::take(&mut self.members_of[at]) {
            self.drop_membership(m);
        }
        self.group_index.remove(group_id);
        self.unindex_group(&group);
        self.live_groups -= 1;
        Ok(group)
    }

    /// `DeleteGroupMembership` by membership id.
    pub fn remove_membership(&mut self, membership_id: &str) -> Result<(), DirectoryError> {
        let at = self
            .parse_object_id(membership_id)
            .and_then(|uuid| self.membership_index.get(&uuid).copied())
            .ok_or_else(|| not_found("GROUP_MEMBERSHIP", membership_id))?;
        self.drop_membership(at);
        Ok(())
    }

    /// Removes `user_id` from `group_id` (SCIM PATCH remove); false when it was not a member.
    pub fn remove_member(&mut self, group_id: &str, user_id: &str) -> bool {
        let (Some(&g), Some(&u)) = (self.group_index.get(group_id), self.user_index.get(user_id))
        else {
            return false;
        };
        match self.membership_by_pair.get(&(g as u32, u as u32)).copied() {
            Some(at) => {
                self.drop_membership(at);
                true
            }
            None => false,
        }
    }

    /// Empties membership slot `at` and takes it out of every index.
    fn drop_membership(&mut self, at: u32) {
        let Some(m) = self.memberships[at as usize].take() else {
            return;
        };
        self.membership_index.remove(&m.id);
        self.membership_by_pair.remove(&(m.group, m.user));
        self.members_of[m.group as usize].retain(|&x| x != at);
        self.groups_of[m.user as usize].retain(|&x| x != at);
        self.live_memberships -= 1;
    }

    /// `CreateGroupMembership`: the group and the user must exist and the pair must be new.
    /// `membership_id` is an id made by [`Directory::object_id`].
    pub fn add_membership(
        &mut self,
        membership_id: &str,
        group_id: &str,
        user_id: &str,
    ) -> Result<Membership<'_>, DirectoryError> {
        let Some(&g) = self.group_index.get(group_id) else {
            return Err(not_found("GROUP", group_id));
        };
        let Some(&u) = self.user_index.get(user_id) else {
            return Err(not_found("USER", user_id));
        };
        let Some(id) = self.parse_object_id(membership_id) else {
            return Err(DirectoryError::Conflict {
                reason: format!("{membership_id} is not a membership id of this store"),
            });
        };
        let (g, u) = (g as u32, u as u32);
        if self.membership_by_pair.contains_key(&(g, u)) {
            return Err(DirectoryError::Conflict {
                reason: format!("user {user_id} is already a member of group {group_id}"),
            });
        }
        if self.membership_index.contains_key(&id) {
            return Err(DirectoryError::Conflict {
                reason: format!("membership id {membership_id} is taken"),
            });
        }
        let at = self.memberships.len() as u32;
        let stored = StoredMembership {
            id,
            group: g,
            user: u,
        };
        self.memberships.push(Some(stored));
        self.live_memberships += 1;
        self.membership_index.insert(id, at);
        self.membership_by_pair.insert((g, u), at);
        self.members_of[g as usize].push(at);
        self.groups_of[u as usize].push(at);
        Ok(self.view(&stored))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn user(id: &str, name: &str, external: Option<&str>) -> User {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        User {
            user_id: id.into(),
            user_name: name.into(),
            display_name: name.into(),
            given_name: "G".into(),
            family_name: "F".into(),
            email: Some(name.into()),
            title: None,
            status: UserStatus::Enabled,
            external_ids: external
                .map(|e| {
                    vec![ExternalId {
                        issuer: SCIM_ISSUER.into(),
                        id: e.into(),
                    }]
                })
                .unwrap_or_default(),
            created_at: t,
            updated_at: t,
            scim_attributes: None,
        }
    }

    fn group(id: &str, name: &str) -> Group {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        Group {
            group_id: id.into(),
            display_name: name.into(),
            description: None,
            external_ids: vec![],
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn user_names_are_unique_regardless_of_case() {
        let mut d = Directory::new("d-0123456789");
        d.add_user(user("u1", "Ann@Example.com", None)).unwrap();
        let err = d.add_user(user("u2", "ann@example.com", None)).unwrap_err();
        assert!(matches!(err, DirectoryError::Conflict { .. }));
        assert_eq!(d.user_by_name("ANN@EXAMPLE.COM").unwrap().user_id, "u1");
    }

    #[test]
    fn external_ids_find_their_user_and_cannot_be_shared() {
        let mut d = Directory::new("d-0123456789");
        d.add_user(user("u1", "a@x", Some("idp-1"))).unwrap();
        let key = ExternalId {
            issuer: SCIM_ISSUER.into(),
            id: "idp-1".into(),
        };
        assert_eq!(d.user_by_external_id(&key).unwrap().user_id, "u1");
        assert!(d.add_user(user("u2", "b@x", Some("idp-1"))).is_err());
    }

    #[test]
    fn memberships_need_both_ends_and_are_indexed_both_ways() {
        let mut d = Directory::new("d-0123456789");
        d.add_user(user("u1", "a@x", None)).unwrap();
        d.add_user(user("u2", "b@x", None)).unwrap();
        d.add_group(group("g1", "team")).unwrap();
        let m1 = d.object_id([1; 16]);
        let m2 = d.object_id([2; 16]);
        let m3 = d.object_id([3; 16]);
        assert!(m1.starts_with("0123456789-"), "{m1}");
        d.add_membership(&m1, "g1", "u2").unwrap();
        d.add_membership(&m2, "g1", "u1").unwrap();
        assert!(matches!(
            d.add_membership(&m3, "g1", "nobody"),
            Err(DirectoryError::NotFound { kind: "USER", .. })
        ));
        assert!(matches!(
            d.add_membership(&m3, "nogroup", "u1"),
            Err(DirectoryError::NotFound { kind: "GROUP", .. })
        ));
        assert!(matches!(
            d.add_membership(&m3, "g1", "u1"),
            Err(DirectoryError::Conflict { .. })
        ));
        let members: Vec<_> = d
            .memberships_of_group("g1")
            .iter()
            .map(|m| m.user_id)
            .collect();
        assert_eq!(members, ["u2", "u1"], "creation order");
        assert_eq!(d.memberships_of_user("u2")[0].membership_id, m1);
        assert_eq!(d.membership(&m2).unwrap().user_id, "u1");
        assert!(d.membership("not-an-id").is_none());
        assert_eq!(d.membership_count(), 2);
        assert!(d.is_member("g1", "u1"));
        assert!(!d.is_member("g1", "u3"));
    }

    #[test]
    fn removing_a_user_or_group_takes_its_memberships_and_keeps_other_slots() {
        let mut d = Directory::new("d-0123456789");
        for (id, name) in [("u1", "a@x"), ("u2", "b@x"), ("u3", "c@x")] {
            d.add_user(user(id, name, Some(id))).unwrap();
        }
        d.add_group(group("g1", "one")).unwrap();
        d.add_group(group("g2", "two")).unwrap();
        for (i, (g, u)) in [("g1", "u1"), ("g1", "u2"), ("g2", "u2"), ("g2", "u3")]
            .into_iter()
            .enumerate()
        {
            let id = d.object_id([i as u8 + 1; 16]);
            d.add_membership(&id, g, u).unwrap();
        }
        let removed = d.remove_user("u2").unwrap();
        assert_eq!(removed.user_name, "b@x");
        assert_eq!(d.user_count(), 2);
        assert_eq!(d.membership_count(), 2);
        assert!(!d.is_member("g1", "u2"));
        assert!(d.user("u2").is_none());
        assert!(d.user_by_name("b@x").is_none(), "the name is free again");
        assert_eq!(
            d.user_slots().len(),
            3,
            "slots stay so paging tokens stay valid"
        );
        let ids: Vec<_> = d.users().map(|u| u.user_id.as_str()).collect();
        assert_eq!(ids, ["u1", "u3"]);
        assert!(matches!(
            d.remove_user("u2"),
            Err(DirectoryError::NotFound { kind: "USER", .. })
        ));

        d.remove_group("g2").unwrap();
        assert_eq!(d.group_count(), 1);
        assert_eq!(d.membership_count(), 1);
        assert!(d.memberships_of_user("u3").is_empty());
        assert_eq!(d.memberships().count(), 1);

        // The freed user name can be taken by a new user.
        d.add_user(user("u4", "B@X", None)).unwrap();
        assert!(d.remove_member("g1", "u1"));
        assert!(!d.remove_member("g1", "u1"), "already gone");
        assert_eq!(d.membership_count(), 0);
    }

    #[test]
    fn replacing_a_user_keeps_id_and_creation_and_reindexes_names() {
        let mut d = Directory::new("d-0123456789");
        d.add_user(user("u1", "a@x", Some("e1"))).unwrap();
        d.add_user(user("u2", "b@x", None)).unwrap();
        let mut changed = user("ignored", "renamed@x", Some("e9"));
        changed.created_at = Utc::now();
        d.replace_user("u1", changed).unwrap();
        let u = d.user("u1").unwrap();
        assert_eq!(u.user_name, "renamed@x");
        assert_eq!(u.created_at, DateTime::<Utc>::UNIX_EPOCH);
        assert!(d.user_by_name("a@x").is_none());
        assert_eq!(d.user_by_name("RENAMED@X").unwrap().user_id, "u1");
        let old_key = ExternalId {
            issuer: SCIM_ISSUER.into(),
            id: "e1".into(),
        };
        assert!(d.user_by_external_id(&old_key).is_none());
        // Taking another user's name is refused and changes nothing.
        let err = d.replace_user("u1", user("u1", "B@x", None)).unwrap_err();
        assert!(matches!(err, DirectoryError::Conflict { .. }));
        assert_eq!(d.user("u1").unwrap().user_name, "renamed@x");
        // Renaming a group to its own name is fine; to another's is not.
        d.add_group(group("g1", "one")).unwrap();
        d.add_group(group("g2", "two")).unwrap();
        d.replace_group("g1", group("x", "one")).unwrap();
        assert!(d.replace_group("g1", group("x", "two")).is_err());
        assert_eq!(d.group("g1").unwrap().display_name, "one");
    }
}
