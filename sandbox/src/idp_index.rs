//! What both emulated IdPs keep beside their user and group lists: ids → positions, and the
//! (group, user) membership pairs for checks without scanning a group's members.

use std::collections::{HashMap, HashSet};

/// Why a membership write was refused (Graph `$ref`, PingOne `memberOfGroups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipError {
    NoSuchGroup(String),
    NoSuchUser(String),
    AlreadyMember,
    NotMember,
}

#[derive(Debug, Clone, Default)]
pub struct IdpIndex {
    users: HashMap<String, u32>,
    groups: HashMap<String, u32>,
    pairs: HashSet<(u32, u32)>,
}

impl IdpIndex {
    /// From the users' ids and each group's id and member positions, in list order.
    pub fn new<'a>(
        user_ids: impl Iterator<Item = &'a str>,
        groups: impl Iterator<Item = (&'a str, &'a [u32])>,
    ) -> Self {
        let mut index = Self {
            users: user_ids
                .enumerate()
                .map(|(i, id)| (id.to_string(), i as u32))
                .collect(),
            ..Self::default()
        };
        for (g, (id, members)) in groups.enumerate() {
            index.groups.insert(id.to_string(), g as u32);
            index.pairs.extend(members.iter().map(|&u| (g as u32, u)));
        }
        index
    }

    pub fn user(&self, id: &str) -> Option<u32> {
        self.users.get(id).copied()
    }

    pub fn group(&self, id: &str) -> Option<u32> {
        self.groups.get(id).copied()
    }

    pub fn user_or_error(&self, id: &str) -> Result<u32, MembershipError> {
        self.user(id)
            .ok_or_else(|| MembershipError::NoSuchUser(id.to_string()))
    }

    pub fn group_or_error(&self, id: &str) -> Result<u32, MembershipError> {
        self.group(id)
            .ok_or_else(|| MembershipError::NoSuchGroup(id.to_string()))
    }

    pub fn is_member(&self, group: u32, user: u32) -> bool {
        self.pairs.contains(&(group, user))
    }

    /// Records `user` in `group`; `members` is the group's member list, kept in add order.
    pub fn add(
        &mut self,
        group: u32,
        user: u32,
        members: Option<&mut Vec<u32>>,
    ) -> Result<(), MembershipError> {
        if !self.pairs.insert((group, user)) {
            return Err(MembershipError::AlreadyMember);
        }
        if let Some(m) = members {
            m.push(user);
        }
        Ok(())
    }

    /// Takes `user` out of `group` and its member list.
    pub fn remove(
        &mut self,
        group: u32,
        user: u32,
        members: Option<&mut Vec<u32>>,
    ) -> Result<(), MembershipError> {
        if !self.pairs.remove(&(group, user)) {
            return Err(MembershipError::NotMember);
        }
        if let Some(m) = members {
            m.retain(|&x| x != user);
        }
        Ok(())
    }
}
