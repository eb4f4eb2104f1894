//! The Entra ID tenant's directory as Microsoft Graph shows it: users, groups with members and
//! owners, and the "AWS IAM Identity Center" enterprise application (a service principal) with
//! its app role assignments (the provisioning scope) and SAML signing certificate.
//!
//! Built from a seeded [`Organisation`]'s IdP side; changed by Graph writes (group members).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::certs::SigningCertificate;
use crate::idp_index::{IdpIndex, MembershipError};
use crate::seed::Organisation;

/// The gallery application's display name in Entra.
pub const APP_DISPLAY_NAME: &str = "AWS IAM Identity Center";

/// A user as Graph returns it (`microsoft.graph.user`, the properties the sandbox keeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphUser {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub mail_nickname: String,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub account_enabled: bool,
    pub created: DateTime<Utc>,
}

/// A security group (`microsoft.graph.group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub mail_nickname: String,
    pub created: DateTime<Utc>,
    /// Member users, as indexes into [`Tenant::users`], in the order they were added.
    pub members: Vec<u32>,
    pub owners: Vec<u32>,
}

/// `appRoleAssignedTo` of the service principal: who is in provisioning scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRoleAssignment {
    pub id: String,
    pub principal: Principal,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    User(u32),
    Group(u32),
}

/// The SAML signing certificate of the enterprise application (a `keyCredential`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub key_id: String,
    /// A real self-signed certificate; its SHA-1 thumbprint is what
    /// `preferredTokenSigningKeyThumbprint` holds.
    pub certificate: SigningCertificate,
}

/// The enterprise application for AWS IAM Identity Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    /// The app role a user or group is assigned with ("User").
    pub app_role_id: String,
    pub signing_key: SigningKey,
    pub assignments: Vec<AppRoleAssignment>,
    /// Identity Center's entity id and ACS URL, as its metadata file set them (the app's
    /// Identifier and Reply URL).
    pub saml_sp: crate::instance::ServiceProvider,
}

/// Someone to sign in as on the emulated IdP's login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    /// Stable key: `security-admin`, `team-lead`, `auditor`, `developer`, `many-groups`.
    pub key: &'static str,
    /// What the login page says they are.
    pub label: &'static str,
    /// Position in [`Tenant::users`].
    pub user: u32,
    /// App roles of Tessera's app registration in the `roles` claim.
    pub roles: Vec<String>,
    /// The ID token carries `_claim_names`/`_claim_sources` instead of `groups`, as Entra does
    /// for members of more than 200 groups.
    pub groups_overage: bool,
}

/// Tessera's app roles as an Entra app registration would define them.
pub use crate::seed::{ROLE_AUDITOR, ROLE_SECURITY_ADMIN, ROLE_TEAM_LEAD};

/// Why a Graph write was refused.
pub type TenantError = MembershipError;

/// The tenant: users, groups and the Identity Center enterprise app.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub tenant_id: String,
    pub domain: String,
    pub users: Vec<GraphUser>,
    pub groups: Vec<GraphGroup>,
    pub service_principal: ServicePrincipal,
    /// Who the login page offers (see [`Persona`]).
    pub personas: Vec<Persona>,
    index: IdpIndex,
    /// Membership changes in order, for `groups/delta`: (group, user, added). A delta token is
    /// a position in this log.
    membership_log: Vec<(u32, u32, bool)>,
}

/// A group's membership changes since a delta token: members added and members removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    pub added: Vec<u32>,
    pub removed: Vec<u32>,
}

fn uuid_from(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

impl Tenant {
    /// The IdP side of `org` as an Entra tenant. Every IdP group is assigned to the Identity
    /// Center app (so every person is in scope through their department). `now` dates the SAML
    /// signing certificate: it expires 20 days from then (a planted problem). Fails only when
    /// the certificate cannot be made.
    pub fn from_organisation(org: &Organisation, now: DateTime<Utc>) -> Result<Self, String> {
        // Its own random stream, so adding Entra changes nothing in the seeded organisation.
        let mut rng = ChaCha8Rng::seed_from_u64(org.spec.seed ^ 0x00e7_4a1d);
        let tenant_id = uuid_from(&mut rng);
        let created = org.instance.created_at;
        let roster = org.idp_roster();
        let users: Vec<GraphUser> = roster
            .people
            .iter()
            .map(|&p| {
                let person = &org.people[p];
                let nickname = person
                    .user_name
                    .split_once('@')
                    .map_or(person.user_name.as_str(), |(local, _)| local)
                    .to_string();
                GraphUser {
                    id: person.idp_id.clone(),
                    user_principal_name: person.user_name.clone(),
                    display_name: format!("{} {}", person.given_name, person.family_name),
                    given_name: Some(person.given_name.clone()),
                    surname: (!org.lacks_surname(person)).then(|| person.family_name.clone()),
                    mail: Some(person.email.clone()),
                    mail_nickname: nickname,
                    job_title: Some(person.title.clone()),
                    department: Some(person.department.clone()),
                    account_enabled: person.enabled,
                    created: created - Duration::days(30),
                }
            })
            .collect();
        let groups: Vec<GraphGroup> = org
            .groups
            .iter()
            .map(|g| GraphGroup {
                id: g.idp_id.clone(),
                display_name: g.display_name.clone(),
                description: Some(g.kind.description(&g.display_name)),
                mail_nickname: g.display_name.replace(' ', ""),
                created: created - Duration::days(20),
                members: roster.users(&g.members),
                owners: roster.users(&g.owners),
            })
            .collect();
        let sp_created = created + Duration::days(1);
        let assignments = (0..groups.len() as u32)
            .map(|g| AppRoleAssignment {
                id: uuid_from(&mut rng),
                principal: Principal::Group(g),
                created: sp_created,
            })
            .collect();
        let key_id = uuid_from(&mut rng);
        let certificate = SigningCertificate::generate(
            "Microsoft Azure Federated SSO Certificate",
            now - Duration::days(3 * 365 - 20),
            now + Duration::days(20),
            key_id.as_bytes(),
        )?;
        let service_principal = ServicePrincipal {
            id: uuid_from(&mut rng),
            app_id: uuid_from(&mut rng),
            display_name: APP_DISPLAY_NAME.to_string(),
            app_role_id: uuid_from(&mut rng),
            signing_key: SigningKey {
                key_id,
                certificate,
            },
            assignments,
            saml_sp: org.instance.saml_service_provider(),
        };
        let index = IdpIndex::new(
            users.iter().map(|u| u.id.as_str()),
            groups.iter().map(|g| (g.id.as_str(), g.members.as_slice())),
        );
        let personas = personas(org, &roster.user_of);
        Ok(Self {
            tenant_id,
            domain: org.spec.domain.clone(),
            users,
            groups,
            service_principal,
            personas,
            index,
            membership_log: Vec::new(),
        })
    }

    pub fn user_position(&self, id: &str) -> Option<u32> {
        self.index.user(id)
    }

    pub fn group_position(&self, id: &str) -> Option<u32> {
        self.index.group(id)
    }

    pub fn user(&self, position: u32) -> Option<&GraphUser> {
        self.users.get(position as usize)
    }

    pub fn group(&self, position: u32) -> Option<&GraphGroup> {
        self.groups.get(position as usize)
    }

    /// `POST /groups/{id}/members/$ref`.
    pub fn add_member(&mut self, group_id: &str, user_id: &str) -> Result<(), TenantError> {
        let g = self.index.group_or_error(group_id)?;
        let u = self.index.user_or_error(user_id)?;
        let members = self.groups.get_mut(g as usize).map(|x| &mut x.members);
        self.index.add(g, u, members)?;
        self.membership_log.push((g, u, true));
        Ok(())
    }

    /// `DELETE /groups/{id}/members/{userId}/$ref`.
    pub fn remove_member(&mut self, group_id: &str, user_id: &str) -> Result<(), TenantError> {
        let g = self.index.group_or_error(group_id)?;
        let u = self.index.user_or_error(user_id)?;
        let members = self.groups.get_mut(g as usize).map(|x| &mut x.members);
        self.index.remove(g, u, members)?;
        self.membership_log.push((g, u, false));
        Ok(())
    }

    /// The current delta token: changes after it are what the next delta call returns.
    pub fn delta_position(&self) -> usize {
        self.membership_log.len()
    }

    /// Membership changes after `position`, per group (in group order), each (group, user)
    /// pair netted: added then removed is no change.
    pub fn member_deltas_since(&self, position: usize) -> Vec<(u32, MemberDelta)> {
        let mut net: HashMap<(u32, u32), bool> = HashMap::new();
        let mut first: HashMap<(u32, u32), bool> = HashMap::new();
        for &(g, u, added) in self.membership_log.iter().skip(position) {
            first.entry((g, u)).or_insert(added);
            net.insert((g, u), added);
        }
        let mut by_group: std::collections::BTreeMap<u32, MemberDelta> = Default::default();
        for ((g, u), added) in net {
            // A pair whose first and last change differ in direction ends where it began.
            let began_added = first.get(&(g, u)).copied().unwrap_or(added);
            if began_added != added {
                continue;
            }
            let entry = by_group.entry(g).or_default();
            if added {
                entry.added.push(u);
            } else {
                entry.removed.push(u);
            }
        }
        by_group
            .into_iter()
            .map(|(g, mut d)| {
                d.added.sort_unstable();
                d.removed.sort_unstable();
                (g, d)
            })
            .collect()
    }

    /// Users and groups in provisioning scope: assigned users, assigned groups and their
    /// members (Entra does not expand nested groups for provisioning; the sandbox has none).
    pub fn scope(&self) -> Scope {
        let mut users: Vec<u32> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        let mut groups: Vec<u32> = Vec::new();
        for assignment in &self.service_principal.assignments {
            match assignment.principal {
                Principal::User(u) => {
                    if seen.insert(u) {
                        users.push(u);
                    }
                }
                Principal::Group(g) => {
                    groups.push(g);
                    for &u in self.group(g).map(|g| g.members.as_slice()).unwrap_or(&[]) {
                        if seen.insert(u) {
                            users.push(u);
                        }
                    }
                }
            }
        }
        Scope { users, groups }
    }
}

/// Positions of the users and groups in provisioning scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub users: Vec<u32>,
    pub groups: Vec<u32>,
}

/// The seed's personas as tenant users.
fn personas(org: &Organisation, person_to_user: &[Option<u32>]) -> Vec<Persona> {
    org.personas()
        .into_iter()
        .filter_map(|p| {
            Some(Persona {
                key: p.key,
                label: p.label,
                user: person_to_user.get(p.person).copied().flatten()?,
                roles: p.roles(),
                groups_overage: p.groups_overage,
            })
        })
        .collect()
}
