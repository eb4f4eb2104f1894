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

/// One identity store. Listing order is creation order, which makes paging stable.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    identity_store_id: String,
    users: Vec<User>,
    groups: Vec<Group>,
    memberships: Vec<StoredMembership>,
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

    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn membership_count(&self) -> usize {
        self.memberships.len()
    }

    /// Every membership, in creation order.
    pub fn memberships(&self) -> impl Iterator<Item = Membership<'_>> {
        self.memberships.iter().map(|m| self.view(m))
    }

    pub fn user(&self, user_id: &str) -> Option<&User> {
        self.user_index.get(user_id).map(|&i| &self.users[i])
    }

    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.group_index.get(group_id).map(|&i| &self.groups[i])
    }

    /// Membership ids are `<10 hex>-<uuid>`; anything else is simply not found.
    pub fn membership(&self, membership_id: &str) -> Option<Membership<'_>> {
        let uuid = self.parse_object_id(membership_id)?;
        let &at = self.membership_index.get(&uuid)?;
        Some(self.view(&self.memberships[at as usize]))
    }

    /// `GetUserId` by user name; the Identity Store compares user names case-insensitively.
    pub fn user_by_name(&self, user_name: &str) -> Option<&User> {
        self.user_by_name
            .get(&user_name.to_lowercase())
            .map(|&i| &self.users[i])
    }

    pub fn user_by_external_id(&self, external: &ExternalId) -> Option<&User> {
        self.user_by_external.get(external).map(|&i| &self.users[i])
    }

    /// `GetGroupId` by display name (exact).
    pub fn group_by_name(&self, display_name: &str) -> Option<&Group> {
        self.group_by_name
            .get(display_name)
            .map(|&i| &self.groups[i])
    }

    pub fn group_by_external_id(&self, external: &ExternalId) -> Option<&Group> {
        self.group_by_external
            .get(external)
            .map(|&i| &self.groups[i])
    }

    /// Memberships of a group, in creation order.
    pub fn memberships_of_group(&self, group_id: &str) -> Vec<Membership<'_>> {
        self.group_index
            .get(group_id)
            .and_then(|&g| self.members_of.get(g))
            .map(|list| {
                list.iter()
                    .map(|&m| self.view(&self.memberships[m as usize]))
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
                    .map(|&m| self.view(&self.memberships[m as usize]))
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

    fn view(&self, m: &StoredMembership) -> Membership<'_> {
        Membership {
            membership_id: format!("{}-{}", self.id_prefix(), m.id.hyphenated()),
            group_id: &self.groups[m.group as usize].group_id,
            user_id: &self.users[m.user as usize].user_id,
        }
    }

    pub fn add_user(&mut self, user: User) -> Result<(), DirectoryError> {
        let name_key = user.user_name.to_lowercase();
        if self.user_by_name.contains_key(&name_key) {
            return Err(DirectoryError::Conflict {
                reason: format!("a user with user name {} already exists", user.user_name),
            });
        }
        if self.user_index.contains_key(&user.user_id) {
            return Err(DirectoryError::Conflict {
                reason: format!("user id {} is taken", user.user_id),
            });
        }
        if let Some(taken) = user
            .external_ids
            .iter()
            .find(|e| self.user_by_external.contains_key(*e))
        {
            return Err(DirectoryError::Conflict {
                reason: format!("external id {} is already used by another user", taken.id),
            });
        }
        let at = self.users.len();
        self.user_index.insert(user.user_id.clone(), at);
        self.user_by_name.insert(name_key, at);
        for external in &user.external_ids {
            self.user_by_external.insert(external.clone(), at);
        }
        self.users.push(user);
        self.groups_of.push(Vec::new());
        Ok(())
    }

    pub fn add_group(&mut self, group: Group) -> Result<(), DirectoryError> {
        if self.group_by_name.contains_key(&group.display_name) {
            return Err(DirectoryError::Conflict {
                reason: format!(
                    "a group with display name {} already exists",
                    group.display_name
                ),
            });
        }
        if self.group_index.contains_key(&group.group_id) {
            return Err(DirectoryError::Conflict {
                reason: format!("group id {} is taken", group.group_id),
            });
        }
        let at = self.groups.len();
        self.group_index.insert(group.group_id.clone(), at);
        self.group_by_name.insert(group.display_name.clone(), at);
        for external in &group.external_ids {
            self.group_by_external.insert(external.clone(), at);
        }
        self.groups.push(group);
        self.members_of.push(Vec::new());
        Ok(())
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
            return Err(DirectoryError::NotFound {
                kind: "GROUP",
                id: group_id.to_string(),
            });
        };
        let Some(&u) = self.user_index.get(user_id) else {
            return Err(DirectoryError::NotFound {
                kind: "USER",
                id: user_id.to_string(),
            });
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
        self.memberships.push(StoredMembership {
            id,
            group: g,
            user: u,
        });
        self.membership_index.insert(id, at);
        self.membership_by_pair.insert((g, u), at);
        self.members_of[g as usize].push(at);
        self.groups_of[u as usize].push(at);
        Ok(self.view(&self.memberships[at as usize]))
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
}
