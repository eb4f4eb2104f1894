//! Who may do what: Tessera's roles, how an IdP's claims map to them (configuration), what each
//! page and server function requires, and the decision for one caller.
//!
//! Roles come from the ID token's `roles` claim or from its `groups` (ids or names), as the
//! deployment's [`RoleMapping`] says. A groups claim the IdP could not fit into the token
//! (Entra's overage) is *unknown*, never "no groups": when a mapping depends on groups and they
//! are unknown, the sign-in is refused with a message saying so, rather than silently giving
//! fewer (or more) rights.

use serde::{Deserialize, Serialize};

/// Tessera's roles. Everyone who signs in without one is a member: they see their own seat and
/// requests only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SecurityAdmin,
    TeamLead,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::SecurityAdmin, Role::TeamLead, Role::Auditor];

    pub fn label(self) -> &'static str {
        match self {
            Role::SecurityAdmin => "Security admin",
            Role::TeamLead => "Team lead",
            Role::Auditor => "Auditor",
        }
    }
}

/// The groups an ID token says its subject is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupsClaim {
    /// Listed (ids or names, as the IdP sends them).
    Listed(Vec<String>),
    /// Too many to list (Entra's `_claim_names` overage): unknown.
    Unknown,
    /// The IdP sends no groups claim at all (nothing is configured to send it).
    NotSent,
}

/// Which claim values give each role (configuration). A value matches a `roles` claim entry
/// exactly, or a group id or name exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoleMapping {
    pub security_admin_roles: Vec<String>,
    pub security_admin_groups: Vec<String>,
    pub team_lead_roles: Vec<String>,
    pub team_lead_groups: Vec<String>,
    pub auditor_roles: Vec<String>,
    pub auditor_groups: Vec<String>,
}

/// Why a sign-in gets no decision on its roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error(
        "your identity provider did not list your groups (you are in too many for its token), and Tessera's roles depend on groups; ask an administrator to map roles from the `roles` claim (app roles) instead, or to enable group lookup"
    )]
    GroupsUnknown,
}

impl RoleMapping {
    fn for_role(&self, role: Role) -> (&[String], &[String]) {
        match role {
            Role::SecurityAdmin => (&self.security_admin_roles, &self.security_admin_groups),
            Role::TeamLead => (&self.team_lead_roles, &self.team_lead_groups),
            Role::Auditor => (&self.auditor_roles, &self.auditor_groups),
        }
    }

    /// Whether any role depends on groups.
    pub fn uses_groups(&self) -> bool {
        Role::ALL.iter().any(|&r| !self.for_role(r).1.is_empty())
    }

    /// The roles a caller holds. A role given by the `roles` claim needs no groups; a role
    /// that could only come from groups, with the groups unknown, refuses the sign-in.
    pub fn resolve(
        &self,
        roles: &[String],
        groups: &GroupsClaim,
    ) -> Result<Vec<Role>, AccessError> {
        let mut held = Vec::new();
        let mut undecided = false;
        for role in Role::ALL {
            let (by_role, by_group) = self.for_role(role);
            if roles.iter().any(|r| by_role.contains(r)) {
                held.push(role);
                continue;
            }
            match groups {
                GroupsClaim::Listed(g) => {
                    if g.iter().any(|x| by_group.contains(x)) {
                        held.push(role);
                    }
                }
                GroupsClaim::Unknown => undecided |= !by_group.is_empty(),
                GroupsClaim::NotSent => {}
            }
        }
        if undecided {
            return Err(AccessError::GroupsUnknown);
        }
        Ok(held)
    }
}

/// What a page or server function requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No sign-in (health probes, the sign-in pages themselves, static assets).
    Public,
    /// Any signed-in person (what they see is their own).
    SignedIn,
    /// Signed in with one of these roles.
    AnyOf(&'static [Role]),
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Caller {
    Anonymous,
    Person {
        subject: String,
        name: String,
        roles: Vec<Role>,
    },
}

/// The decision for one caller and one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not signed in: sign in first (HTTP 401, or a redirect to sign-in for pages).
    SignInFirst,
    /// Signed in without the role (HTTP 403).
    Forbidden,
}

impl Caller {
    pub fn decide(&self, access: Access) -> Decision {
        match (access, self) {
            (Access::Public, _) => Decision::Allow,
            (_, Caller::Anonymous) => Decision::SignInFirst,
            (Access::SignedIn, Caller::Person { .. }) => Decision::Allow,
            (Access::AnyOf(needed), Caller::Person { roles, .. }) => {
                if roles.iter().any(|r| needed.contains(r)) {
                    Decision::Allow
                } else {
                    Decision::Forbidden
                }
            }
        }
    }

    pub fn roles(&self) -> &[Role] {
        match self {
            Caller::Anonymous => &[],
            Caller::Person { roles, .. } => roles,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mapping() -> RoleMapping {
        RoleMapping {
            security_admin_roles: vec!["Tessera.SecurityAdmin".into()],
            auditor_roles: vec!["Tessera.Auditor".into()],
            team_lead_groups: vec!["Team Leads".into()],
            ..RoleMapping::default()
        }
    }

    #[test]
    fn roles_come_from_the_roles_claim_or_from_groups() {
        let m = mapping();
        let none = GroupsClaim::Listed(vec![]);
        assert_eq!(
            m.resolve(&["Tessera.SecurityAdmin".into()], &none),
            Ok(vec![Role::SecurityAdmin])
        );
        assert_eq!(
            m.resolve(&[], &GroupsClaim::Listed(vec!["Team Leads".into()])),
            Ok(vec![Role::TeamLead])
        );
        assert_eq!(m.resolve(&["Other".into()], &none), Ok(vec![]));
        // Matching is exact: no prefix, no case folding.
        assert_eq!(
            m.resolve(&["tessera.securityadmin".into()], &none),
            Ok(vec![])
        );
    }

    #[test]
    fn unknown_groups_are_never_taken_as_no_groups() {
        let m = mapping();
        // Team lead could only come from groups, which are unknown: refused, saying why.
        let e = m.resolve(&[], &GroupsClaim::Unknown).unwrap_err();
        assert_eq!(e, AccessError::GroupsUnknown);
        assert!(e.to_string().contains("too many"));
        // Without group-based rules the overage does not matter.
        let roles_only = RoleMapping {
            team_lead_groups: vec![],
            ..mapping()
        };
        assert_eq!(
            roles_only.resolve(&["Tessera.Auditor".into()], &GroupsClaim::Unknown),
            Ok(vec![Role::Auditor])
        );
        // An IdP that sends no groups claim gives no group-based roles.
        assert_eq!(m.resolve(&[], &GroupsClaim::NotSent), Ok(vec![]));
    }

    #[test]
    fn decisions_per_caller() {
        let anonymous = Caller::Anonymous;
        let member = Caller::Person {
            subject: "s".into(),
            name: "n".into(),
            roles: vec![],
        };
        let admin = Caller::Person {
            subject: "a".into(),
            name: "a".into(),
            roles: vec![Role::SecurityAdmin],
        };
        let admins = Access::AnyOf(&[Role::SecurityAdmin]);
        assert_eq!(anonymous.decide(Access::Public), Decision::Allow);
        assert_eq!(anonymous.decide(Access::SignedIn), Decision::SignInFirst);
        assert_eq!(anonymous.decide(admins), Decision::SignInFirst);
        assert_eq!(member.decide(Access::SignedIn), Decision::Allow);
        assert_eq!(member.decide(admins), Decision::Forbidden);
        assert_eq!(admin.decide(admins), Decision::Allow);
    }
}
