//! The seeded people the emulated IdPs' login pages offer: one per Tessera role, plus a
//! developer holding a seat and a developer whose token overflows its groups (Entra only).

use std::collections::HashSet;

use super::{IdpGroupKind, Organisation};

/// What a persona is in Tessera, carried by the IdP in the `roles` claim (Entra: app roles of
/// Tessera's app registration; PingOne: a custom user attribute mapped into the ID token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonaRole {
    SecurityAdmin,
    TeamLead,
    Auditor,
}

impl PersonaRole {
    /// The role's value in the `roles` claim.
    pub fn claim(self) -> &'static str {
        match self {
            Self::SecurityAdmin => ROLE_SECURITY_ADMIN,
            Self::TeamLead => ROLE_TEAM_LEAD,
            Self::Auditor => ROLE_AUDITOR,
        }
    }
}

/// Tessera's roles as the IdPs' `roles` claim carries them.
pub const ROLE_SECURITY_ADMIN: &str = "Tessera.SecurityAdmin";
pub const ROLE_TEAM_LEAD: &str = "Tessera.TeamLead";
pub const ROLE_AUDITOR: &str = "Tessera.Auditor";

/// Someone to sign in as on an emulated IdP's login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPersona {
    /// Stable key: `security-admin`, `team-lead`, `auditor`, `developer`, `many-groups`.
    pub key: &'static str,
    /// What the login page says they are.
    pub label: &'static str,
    /// Position in [`Organisation::people`].
    pub person: usize,
    pub role: Option<PersonaRole>,
    /// The ID token carries `_claim_names`/`_claim_sources` instead of `groups`, as Entra does
    /// for members of more than 200 groups (PingOne has no such limit and leaves them out).
    pub groups_overage: bool,
}

impl SeedPersona {
    /// The `roles` claim's values.
    pub fn roles(&self) -> Vec<String> {
        self.role
            .map(|r| vec![r.claim().to_string()])
            .unwrap_or_default()
    }
}

impl Organisation {
    /// The personas: a security admin (an owner in Security, else the first usable person), a
    /// team lead (the owner of the first team), an auditor (someone in Finance who owns no
    /// group, else anyone who owns none), a developer holding a seat, and a developer whose
    /// token overflows its groups. Only people the IdP has, enabled and provisionable.
    pub fn personas(&self) -> Vec<SeedPersona> {
        let usable = |p: usize| {
            let person = &self.people[p];
            !person.deleted && person.enabled && !self.lacks_surname(person)
        };
        let owners: HashSet<usize> = self
            .groups
            .iter()
            .flat_map(|g| g.owners.iter().copied())
            .collect();
        let mut taken: HashSet<usize> = HashSet::new();
        let mut pick = |candidates: Vec<usize>| -> Option<usize> {
            let p = candidates
                .into_iter()
                .find(|&p| usable(p) && !taken.contains(&p))?;
            taken.insert(p);
            Some(p)
        };
        let people = 0..self.people.len();
        let admin = pick(
            people
                .clone()
                .filter(|&p| self.people[p].department == "Security" && owners.contains(&p))
                .chain(people.clone())
                .collect(),
        );
        let lead = pick(
            self.groups
                .iter()
                .filter(|g| g.kind == IdpGroupKind::Team)
                .filter_map(|g| g.owners.first().copied())
                .collect(),
        );
        let auditor = pick(
            people
                .clone()
                .filter(|&p| self.people[p].department == "Finance" && !owners.contains(&p))
                .chain(people.clone().filter(|p| !owners.contains(p)))
                .collect(),
        );
        let developers: Vec<usize> = self
            .q_group()
            .map(|q| self.groups[q].members.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !owners.contains(p))
            .collect();
        let developer = pick(developers.clone());
        let many_groups = pick(developers);
        [
            (
                "security-admin",
                "Security admin",
                admin,
                Some(PersonaRole::SecurityAdmin),
                false,
            ),
            (
                "team-lead",
                "Team lead",
                lead,
                Some(PersonaRole::TeamLead),
                false,
            ),
            (
                "auditor",
                "Auditor",
                auditor,
                Some(PersonaRole::Auditor),
                false,
            ),
            ("developer", "Developer", developer, None, false),
            (
                "many-groups",
                "Developer in more than 200 groups (groups overage)",
                many_groups,
                None,
                true,
            ),
        ]
        .into_iter()
        .filter_map(|(key, label, person, role, groups_overage)| {
            Some(SeedPersona {
                key,
                label,
                person: person?,
                role,
                groups_overage,
            })
        })
        .collect()
    }
}
