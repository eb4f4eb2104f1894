//! What Tessera should read from a seeded organisation, in the domain's terms: the Identity
//! Center snapshot and the IdP's provisioning scope. Tests compare what the connectors read over
//! HTTP with these; benchmarks feed them to the rules.

use domain::scope::{IdpScope, ScopeGroup, ScopeUser};
use domain::snapshot::{
    Assignment, Group, PrincipalKind, Snapshot, SnapshotError, User, UserStatus,
};

use crate::directory::{self, Directory};
use crate::instance::{Instance, PrincipalType};
use crate::seed::Organisation;

/// The Identity Center directory as a snapshot, with the given assignments.
pub fn snapshot_of(d: &Directory, assignments: Vec<Assignment>) -> Result<Snapshot, SnapshotError> {
    let users = d
        .users()
        .map(|u| User {
            id: u.user_id.clone(),
            user_name: u.user_name.clone(),
            display_name: u.display_name.clone(),
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            email: u.email.clone(),
            status: match u.status {
                directory::UserStatus::Enabled => UserStatus::Enabled,
                directory::UserStatus::Disabled => UserStatus::Disabled,
            },
            external_id: u.external_ids.first().map(|e| e.id.clone()),
        })
        .collect();
    let groups = d
        .groups()
        .map(|g| Group {
            id: g.group_id.clone(),
            display_name: g.display_name.clone(),
            external_id: g.external_ids.first().map(|e| e.id.clone()),
        })
        .collect();
    Snapshot::build(
        users,
        groups,
        d.memberships().map(|m| (m.group_id, m.user_id)),
        assignments,
    )
}

/// The assignments of the instance's applications (the seeded instance has only Q Developer's).
pub fn assignments_of(instance: &Instance) -> Vec<Assignment> {
    instance
        .assignments
        .iter()
        .map(|a| Assignment {
            kind: match a.principal_type {
                PrincipalType::User => PrincipalKind::User,
                PrincipalType::Group => PrincipalKind::Group,
            },
            principal_id: a.principal_id.clone(),
        })
        .collect()
}

/// The IdP's provisioning scope: every person still in the IdP and every group.
pub fn scope_of(org: &Organisation) -> IdpScope {
    // A person's position among the scope's users (deleted people are not in scope).
    let at: std::collections::HashMap<usize, u32> = org
        .people
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.deleted)
        .enumerate()
        .map(|(i, (person, _))| (person, i as u32))
        .collect();
    IdpScope {
        users: org
            .people
            .iter()
            .filter(|p| !p.deleted)
            .map(|p| ScopeUser {
                idp_id: p.idp_id.clone(),
                user_name: p.user_name.clone(),
                display_name: Some(format!("{} {}", p.given_name, p.family_name)),
                email: Some(p.email.clone()),
                enabled: p.enabled,
            })
            .collect(),
        groups: org
            .groups
            .iter()
            .map(|g| ScopeGroup {
                idp_id: g.idp_id.clone(),
                display_name: g.display_name.clone(),
                members: g
                    .members
                    .iter()
                    .filter_map(|&m| at.get(&m).copied())
                    .collect(),
            })
            .collect(),
    }
}

/// PingOne's provisioning scope: what the environment's propagation rule sends (its
/// populations' users with the mapped attributes, its groups with their in-scope members).
pub fn pingone_scope_of(env: &crate::pingone::environment::Environment) -> IdpScope {
    let plan = env.plan();
    IdpScope::from_member_ids(
        plan.users
            .into_iter()
            .map(|(idp_id, a)| ScopeUser {
                idp_id,
                user_name: a.user_name,
                display_name: a.display_name,
                email: a.email,
                enabled: a.active,
            })
            .collect(),
        plan.groups,
    )
}
