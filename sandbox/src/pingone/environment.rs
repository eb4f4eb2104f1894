//! The PingOne environment's directory as the Platform API shows it: users in one population,
//! groups with their direct members, the "AWS Single Sign-On" SAML application with its signing
//! key, and the propagation (provisioning) configuration that carries users and groups into
//! Identity Center: a plan, the SCIM store holding Identity Center's endpoint and token, a rule
//! and its attribute mappings.
//!
//! Built from a seeded [`Organisation`]'s IdP side; changed by Platform API writes (group
//! memberships).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::certs::SigningCertificate;
use crate::entra::provisioning::{Plan, UserAttributes};
use crate::idp_index::{IdpIndex, MembershipError};
use crate::seed::{IdpGroupKind, Organisation};

/// The catalog application's name (the seeds' Step 1).
pub const APP_NAME: &str = "AWS Single Sign-On";

/// The user filter the seeds set on the SCIM connection (Step 5.10).
pub const SEEDS_USER_FILTER: &str = "userName Eq \"%s\"";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P1User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub given: String,
    /// None for the planted person Identity Center cannot take.
    pub family: Option<String>,
    pub title: String,
    pub enabled: bool,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P1Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created: DateTime<Utc>,
    /// Direct members, as indexes into [`Environment::users`], in the order they were added.
    pub members: Vec<u32>,
}

/// The SAML application for AWS IAM Identity Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlApp {
    pub id: String,
    pub name: String,
    /// Identity Center's ACS URL and issuer (pasted from its console in the seeds' Step 2).
    pub acs_url: String,
    pub sp_entity_id: String,
    /// The IdP's entity id (`https://auth.pingone.<tld>/<envId>`).
    pub idp_entity_id: String,
    /// Groups given access to the app (Step 1.5: the Q Developer group).
    pub access_groups: Vec<u32>,
}

/// The environment's signing key for the SAML app (`GET /keys/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub id: String,
    pub name: String,
    pub certificate: SigningCertificate,
}

/// One attribute mapping of the propagation rule (source: PingOne attribute, target: SCIM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub id: String,
    pub source: String,
    pub target: String,
}

/// The SCIM outbound connection (a propagation store) to Identity Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimStore {
    pub id: String,
    pub name: String,
    pub scim_url: String,
    pub user_filter: String,
    pub created: DateTime<Utc>,
}

/// The propagation rule: PingOne directory → the SCIM store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// Users of these populations are in scope.
    pub populations: Vec<String>,
    /// Groups provisioned (with their members), as indexes into [`Environment::groups`].
    pub groups: Vec<u32>,
    pub mappings: Vec<Mapping>,
    pub created: DateTime<Utc>,
}

/// Plan, store and rule: the environment's provisioning to Identity Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propagation {
    pub plan_id: String,
    pub store: ScimStore,
    pub rule: Rule,
}

/// Someone the environment's sign-in page offers: a seed persona (none with a groups overage:
/// PingOne has no such limit) as an environment user, with the values of the custom attribute
/// Tessera's OIDC app maps into the `roles` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P1Persona {
    pub key: &'static str,
    pub label: &'static str,
    /// Position in [`Environment::users`].
    pub user: u32,
    pub roles: Vec<String>,
}

/// Why a Platform API write was refused.
pub type EnvironmentError = MembershipError;

/// The environment: users, groups, the SAML app and its key, the propagation setup.
#[derive(Debug, Clone)]
pub struct Environment {
    pub id: String,
    pub name: String,
    pub population_id: String,
    pub users: Vec<P1User>,
    pub groups: Vec<P1Group>,
    pub app: SamlApp,
    pub signing_key: SigningKey,
    pub propagation: Propagation,
    /// The organization the environment belongs to (the `org` claim).
    pub organization_id: String,
    /// Who the sign-in page offers.
    pub personas: Vec<P1Persona>,
    index: IdpIndex,
}

fn uuid_from(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

impl Environment {
    /// The IdP side of `org` as a PingOne environment whose propagation rule covers the one
    /// population and every group (so the seeded Identity Center is exactly its output). The
    /// SAML signing key expires 20 days after `now` (a planted problem); `display_name_mapping`
    /// says whether the rule has the seeds' Username → displayName mapping (without it Identity
    /// Center refuses every new user). The store points at `scim_url` (the provisioning job
    /// holds the token).
    pub fn from_organisation(
        org: &Organisation,
        now: DateTime<Utc>,
        display_name_mapping: bool,
        scim_url: String,
    ) -> Result<Self, String> {
        // Its own random stream, so adding PingOne changes nothing in the seeded organisation.
        let mut rng = ChaCha8Rng::seed_from_u64(org.spec.seed ^ 0x0091_0e01);
        let id = uuid_from(&mut rng);
        let population_id = uuid_from(&mut rng);
        let created = org.instance.created_at;
        let roster = org.idp_roster();
        let users: Vec<P1User> = roster
            .people
            .iter()
            .map(|&p| {
                let person = &org.people[p];
                P1User {
                    id: person.idp_id.clone(),
                    username: person.user_name.clone(),
                    email: person.email.clone(),
                    given: person.given_name.clone(),
                    family: (!org.lacks_surname(person)).then(|| person.family_name.clone()),
                    title: person.title.clone(),
                    enabled: person.enabled,
                    created: created - Duration::days(30),
                }
            })
            .collect();
        let groups: Vec<P1Group> = org
            .groups
            .iter()
            .map(|g| P1Group {
                id: g.idp_id.clone(),
                name: g.display_name.clone(),
                description: g.kind.description(&g.display_name),
                created: created - Duration::days(20),
                members: roster.users(&g.members),
            })
            .collect();
        let saml_sp = org.instance.saml_service_provider();
        let app = SamlApp {
            id: uuid_from(&mut rng),
            name: APP_NAME.to_string(),
            // Drawn and dropped so the ids after it stay what they were.
            acs_url: {
                let _ = uuid_from(&mut rng);
                saml_sp.acs_url
            },
            sp_entity_id: saml_sp.entity_id,
            idp_entity_id: format!("https://auth.pingone.com/{id}"),
            access_groups: org
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.kind == IdpGroupKind::QDeveloper)
                .map(|(i, _)| i as u32)
                .collect(),
        };
        let key_id = uuid_from(&mut rng);
        let signing_key = SigningKey {
            name: "PingOne SSO Certificate for Administrators environment".to_string(),
            certificate: SigningCertificate::generate(
                "PingOne SSO Certificate for Administrators environment",
                now - Duration::days(365 - 20),
                now + Duration::days(20),
                key_id.as_bytes(),
            )?,
            id: key_id,
        };
        let mut mapping = |source: &str, target: &str| Mapping {
            id: uuid_from(&mut rng),
            source: source.to_string(),
            target: target.to_string(),
        };
        let mut mappings = vec![
            mapping("name.family", "name.familyName"),
            mapping("name.given", "name.givenName"),
            mapping("username", "userName"),
            mapping("email", "emails[type eq \"work\"].value"),
        ];
        if display_name_mapping {
            mappings.push(mapping("username", "displayName"));
        }
        let propagation = Propagation {
            plan_id: uuid_from(&mut rng),
            store: ScimStore {
                id: uuid_from(&mut rng),
                name: "IAM Identity Store".to_string(),
                scim_url,
                user_filter: SEEDS_USER_FILTER.to_string(),
                created: created + Duration::days(1),
            },
            rule: Rule {
                id: uuid_from(&mut rng),
                name: "IAM Identity Center".to_string(),
                active: true,
                populations: vec![population_id.clone()],
                groups: (0..groups.len() as u32).collect(),
                mappings,
                created: created + Duration::days(1),
            },
        };
        let index = IdpIndex::new(
            users.iter().map(|u| u.id.as_str()),
            groups.iter().map(|g| (g.id.as_str(), g.members.as_slice())),
        );
        let organization_id = uuid_from(&mut rng);
        let personas = org
            .personas()
            .into_iter()
            .filter(|p| !p.groups_overage)
            .filter_map(|p| {
                Some(P1Persona {
                    key: p.key,
                    label: p.label,
                    user: roster.user_of.get(p.person).copied().flatten()?,
                    roles: p.roles(),
                })
            })
            .collect();
        Ok(Self {
            organization_id,
            personas,
            name: format!("{} (sandbox)", org.spec.domain),
            id,
            population_id,
            users,
            groups,
            app,
            signing_key,
            propagation,
            index,
        })
    }

    pub fn user_position(&self, id: &str) -> Option<u32> {
        self.index.user(id)
    }

    pub fn group_position(&self, id: &str) -> Option<u32> {
        self.index.group(id)
    }

    pub fn user(&self, position: u32) -> Option<&P1User> {
        self.users.get(position as usize)
    }

    pub fn group(&self, position: u32) -> Option<&P1Group> {
        self.groups.get(position as usize)
    }

    pub fn is_member(&self, group: u32, user: u32) -> bool {
        self.index.is_member(group, user)
    }

    /// Groups `user` is a direct member of, in group order.
    pub fn groups_of(&self, user: u32) -> Vec<u32> {
        (0..self.groups.len() as u32)
            .filter(|&g| self.index.is_member(g, user))
            .collect()
    }

    /// `POST /users/{user}/memberOfGroups {"id": group}`.
    pub fn add_member(&mut self, user_id: &str, group_id: &str) -> Result<(), EnvironmentError> {
        let u = self.index.user_or_error(user_id)?;
        let g = self.index.group_or_error(group_id)?;
        let members = self.groups.get_mut(g as usize).map(|x| &mut x.members);
        self.index.add(g, u, members)
    }

    /// `DELETE /users/{user}/memberOfGroups/{group}`.
    pub fn remove_member(&mut self, user_id: &str, group_id: &str) -> Result<(), EnvironmentError> {
        let u = self.index.user_or_error(user_id)?;
        let g = self.index.group_or_error(group_id)?;
        let members = self.groups.get_mut(g as usize).map(|x| &mut x.members);
        self.index.remove(g, u, members)
    }

    /// The value of a PingOne attribute a mapping reads (`username`, `email`, `name.given`,
    /// `name.family`, `title`).
    fn attribute(u: &P1User, source: &str) -> Option<String> {
        match source {
            "username" => Some(u.username.clone()),
            "email" => Some(u.email.clone()),
            "name.given" => Some(u.given.clone()),
            "name.family" => u.family.clone(),
            "title" => Some(u.title.clone()),
            _ => None,
        }
    }

    /// The SCIM attributes the rule's mappings produce for `u` (`active` follows `enabled`, as
    /// the store's DISABLE_USERS does).
    pub fn mapped(&self, u: &P1User) -> UserAttributes {
        let mut a = UserAttributes {
            user_name: String::new(),
            display_name: None,
            given_name: None,
            family_name: None,
            email: None,
            title: None,
            active: u.enabled,
        };
        for m in &self.propagation.rule.mappings {
            let value = Self::attribute(u, &m.source);
            match m.target.as_str() {
                "userName" => a.user_name = value.unwrap_or_default(),
                "displayName" => a.display_name = value,
                "name.givenName" => a.given_name = value,
                "name.familyName" => a.family_name = value,
                "emails[type eq \"work\"].value" => a.email = value,
                "title" => a.title = value,
                _ => {}
            }
        }
        a
    }

    /// What the rule puts in Identity Center: users of its populations (every user here: the
    /// environment has one population), the rule's groups with their in-scope members, matched
    /// with the store's user filter.
    pub fn plan(&self) -> Plan {
        let rule = &self.propagation.rule;
        let in_population = rule.populations.contains(&self.population_id);
        let users: Vec<(String, UserAttributes)> = if in_population {
            self.users
                .iter()
                .map(|u| (u.id.clone(), self.mapped(u)))
                .collect()
        } else {
            Vec::new()
        };
        let scoped: HashSet<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
        let groups = rule
            .groups
            .iter()
            .filter_map(|&g| self.group(g))
            .map(|g| {
                (
                    g.id.clone(),
                    g.name.clone(),
                    g.members
                        .iter()
                        .filter_map(|&u| self.user(u))
                        .filter(|u| scoped.contains(u.id.as_str()))
                        .map(|u| u.id.clone())
                        .collect(),
                )
            })
            .collect();
        Plan {
            users,
            existing: self.users.iter().map(|u| u.id.clone()).collect(),
            groups,
            user_filter: self.propagation.store.user_filter.clone(),
        }
    }
}
