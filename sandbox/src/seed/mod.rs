//! Seeded organisations: the same seed and size always give the same organisation, to the byte.
//!
//! An [`Organisation`] holds both sides of the chain:
//! - the **IdP** (what Entra ID or PingOne knows): people with departments, titles and managers;
//!   groups (departments, teams with their owners — the team leads — and the Q Developer group);
//! - **Identity Center** (what SCIM carried over): a [`Directory`] with provisioned users and
//!   groups carrying the IdP's ids as external ids, plus what people did by hand;
//! - the **Identity Center instance** ([`Instance`]): its applications (QDefaultProfile and two
//!   others) and the Q Developer assignments (the subscribed group and one directly assigned
//!   user);
//! - the **planted problems** ([`Planted`]) Tessera must find, by id, so tests can check it does.

use std::collections::{HashMap, HashSet};

mod names;
mod personas;
mod provision;

pub use personas::{PersonaRole, ROLE_AUDITOR, ROLE_SECURITY_ADMIN, ROLE_TEAM_LEAD, SeedPersona};

use names::{
    DEPARTMENTS, DEVELOPER_DEPARTMENTS, DEVELOPER_TITLES, FAMILY, GIVEN, OTHER_TITLES, TEAM_WORDS,
};

use chrono::{DateTime, TimeZone, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::directory::{Directory, DirectoryError};
use crate::instance::Instance;

/// What to generate. [`SeedSpec::demo`] and [`SeedSpec::large`] are the two named sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSpec {
    pub name: String,
    pub seed: u64,
    /// People in the IdP (Identity Center ends up with about as many users).
    pub people: usize,
    /// Groups in the IdP: departments, teams and the Q Developer group.
    pub groups: usize,
    /// Memberships to reach in the IdP (department + team + Q group + cross-team groups).
    pub memberships: usize,
    /// Mail domain of the organisation.
    pub domain: String,
}

impl SeedSpec {
    /// About 300 people and 30 groups: the demo.
    pub fn demo() -> Self {
        Self {
            name: "demo".into(),
            seed: 7,
            people: 300,
            groups: 30,
            memberships: 900,
            domain: "northwind.example".into(),
        }
    }

    /// 100,000 people, 10,000 groups, 1,000,000 memberships: the scale the pages and the snapshot
    /// engine are measured at.
    pub fn large() -> Self {
        Self {
            name: "large".into(),
            seed: 11,
            people: 100_000,
            groups: 10_000,
            memberships: 1_000_000,
            domain: "contoso.example".into(),
        }
    }

    /// A named size: `demo` or `large`.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "demo" => Some(Self::demo()),
            "large" => Some(Self::large()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    /// The sizes cannot make an organisation (say which and why).
    BadSpec(String),
    /// The generator broke a directory rule: a bug in the generator.
    Directory(DirectoryError),
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedError::BadSpec(why) => write!(f, "cannot seed this organisation: {why}"),
            SeedError::Directory(e) => write!(f, "seeding broke a directory rule: {e}"),
        }
    }
}

impl std::error::Error for SeedError {}

impl From<DirectoryError> for SeedError {
    fn from(e: DirectoryError) -> Self {
        SeedError::Directory(e)
    }
}

/// A person as the IdP knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The IdP's object id (Entra `id` / PingOne user id); SCIM's externalId.
    pub idp_id: String,
    pub given_name: String,
    pub family_name: String,
    /// user@domain, the sign-in name (Entra's UPN).
    pub user_name: String,
    pub email: String,
    pub department: String,
    pub title: String,
    /// Index into [`Organisation::people`].
    pub manager: Option<usize>,
    /// Account enabled in the IdP.
    pub enabled: bool,
    /// Deleted from the IdP (a leaver). Kept in the list so indexes stay valid; a deleted person
    /// is in no IdP group.
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdpGroupKind {
    Department,
    Team,
    /// The group subscribed to Q Developer (assigned to QDefaultProfile).
    QDeveloper,
}

impl IdpGroupKind {
    /// The group's description in the IdP.
    pub fn description(self, name: &str) -> String {
        match self {
            IdpGroupKind::Department => format!("Everyone in {name}"),
            IdpGroupKind::Team => format!("Members of {name}"),
            IdpGroupKind::QDeveloper => {
                "Amazon Q Developer Pro seats (subscribed in Identity Center)".to_string()
            }
        }
    }
}

/// The IdP's directory as it stands: leavers are gone, so its users are a subset of the people.
#[derive(Debug, Clone)]
pub struct IdpRoster {
    /// Positions in [`Organisation::people`] of the IdP's users, in order.
    pub people: Vec<usize>,
    /// For each person, their position among the IdP's users (None for leavers).
    pub user_of: Vec<Option<u32>>,
}

impl IdpRoster {
    /// Person indexes (a group's members or owners) as IdP user positions.
    pub fn users(&self, people: &[usize]) -> Vec<u32> {
        people
            .iter()
            .filter_map(|&p| self.user_of.get(p).copied().flatten())
            .collect()
    }
}

/// A group as the IdP knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpGroup {
    pub idp_id: String,
    pub display_name: String,
    pub kind: IdpGroupKind,
    /// People who own the group (team leads for teams), as indexes into `people`.
    pub owners: Vec<usize>,
    /// Members, as indexes into `people`, in the order they were added.
    pub members: Vec<usize>,
}

/// Problems planted in the organisation, by Identity Center id, for tests to look for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planted {
    /// Users created by hand in Identity Center: no external id, no IdP counterpart.
    pub hand_made_users: Vec<String>,
    /// Users disabled in the IdP (so DISABLED in Identity Center) who still hold a seat through
    /// the subscribed group.
    pub disabled_seat_holders: Vec<String>,
    /// Pairs of users whose emails differ only in letter case.
    pub case_twin_emails: Vec<(String, String)>,
    /// Users still in Identity Center whose person has left the IdP (deprovisioning missed them).
    pub leavers_still_present: Vec<String>,
    /// People (by IdP id) assigned to the Identity Center app in the IdP but missing from
    /// Identity Center: the IdP has no surname for them and Identity Center requires one, so
    /// every provisioning cycle fails to create them.
    pub unprovisionable_people: Vec<String>,
    /// PingOne's propagation rule lacks the seeds' Username → displayName mapping (planted in
    /// the demo), so Identity Center refuses every user PingOne tries to create.
    pub pingone_display_name_mapping_missing: bool,
}

/// A whole seeded organisation: the IdP side, the Identity Center side, the Q assignments and
/// the planted problems.
#[derive(Debug, Clone)]
pub struct Organisation {
    pub spec: SeedSpec,
    pub people: Vec<Person>,
    pub groups: Vec<IdpGroup>,
    pub identity_center: Directory,
    pub instance: Instance,
    pub planted: Planted,
    /// Identity Center user id of each person (None for people not provisioned).
    pub provisioned_user: Vec<Option<String>>,
    /// Identity Center group id of each IdP group.
    pub provisioned_group: Vec<String>,
}

/// Seeds of the organisation's history: every timestamp falls after this.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn random_uuid(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(random_bytes(rng))
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn random_bytes(rng: &mut ChaCha8Rng) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// `digits` lower-case hex digits.
fn random_hex(rng: &mut ChaCha8Rng, digits: usize) -> String {
    let mut bytes = vec![0u8; digits.div_ceil(2)];
    rng.fill_bytes(&mut bytes);
    let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(digits);
    hex
}

fn pick<'a>(rng: &mut ChaCha8Rng, from: &[&'a str]) -> &'a str {
    from.choose(rng).copied().unwrap_or("")
}

/// Index of the group subscribed to Q Developer.
fn q_group_index(groups: &[IdpGroup]) -> Option<usize> {
    groups
        .iter()
        .position(|g| g.kind == IdpGroupKind::QDeveloper)
}

impl Organisation {
    /// Who the IdP has now (everyone but the leavers).
    pub fn idp_roster(&self) -> IdpRoster {
        let mut roster = IdpRoster {
            people: Vec::new(),
            user_of: vec![None; self.people.len()],
        };
        for (p, person) in self.people.iter().enumerate() {
            if !person.deleted {
                roster.user_of[p] = Some(roster.people.len() as u32);
                roster.people.push(p);
            }
        }
        roster
    }

    /// Whether the IdP has no surname for this person (the planted person Identity Center
    /// cannot take).
    pub fn lacks_surname(&self, person: &Person) -> bool {
        self.planted.unprovisionable_people.contains(&person.idp_id)
    }

    /// Index into [`Organisation::groups`] of the group subscribed to Q Developer.
    pub fn q_group(&self) -> Option<usize> {
        q_group_index(&self.groups)
    }

    /// Builds the organisation described by `spec`. Deterministic: same spec, same result.
    pub fn generate(spec: &SeedSpec) -> Result<Self, SeedError> {
        let departments = DEPARTMENTS.len().min(spec.groups.saturating_sub(2));
        if spec.people < 20 {
            return Err(SeedError::BadSpec(format!(
                "people = {} (at least 20: the planted problems need room)",
                spec.people
            )));
        }
        if departments < 2 || spec.groups < departments + 2 {
            return Err(SeedError::BadSpec(format!(
                "groups = {} (at least 4: two departments, a team and the Q Developer group)",
                spec.groups
            )));
        }
        let teams = spec.groups - departments - 1;
        if teams > spec.people {
            return Err(SeedError::BadSpec(format!(
                "groups = {} leaves {teams} teams for {} people; every team needs a member",
                spec.groups, spec.people
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let people = generate_people(spec, departments, &mut rng);
        let groups = generate_groups(spec, &people, departments, teams, &mut rng);
        provision::provision(spec.clone(), people, groups, &mut rng)
    }
}

fn generate_people(spec: &SeedSpec, departments: usize, rng: &mut ChaCha8Rng) -> Vec<Person> {
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut people = Vec::with_capacity(spec.people);
    for i in 0..spec.people {
        let given = pick(rng, GIVEN);
        let family = pick(rng, FAMILY);
        let base = format!("{}.{}", given.to_lowercase(), family.to_lowercase());
        let n = taken.entry(base.clone()).or_insert(0);
        *n += 1;
        let local = if *n == 1 { base } else { format!("{base}{n}") };
        let department = DEPARTMENTS[i % departments].to_string();
        let developer = DEVELOPER_DEPARTMENTS.contains(&department.as_str());
        let title = if developer {
            pick(rng, DEVELOPER_TITLES)
        } else {
            pick(rng, OTHER_TITLES)
        };
        let user_name = format!("{local}@{}", spec.domain);
        people.push(Person {
            idp_id: random_uuid(rng),
            given_name: given.to_string(),
            family_name: family.to_string(),
            email: user_name.clone(),
            user_name,
            department,
            title: title.to_string(),
            manager: None,
            enabled: true,
            deleted: false,
        });
    }
    // The first person of each department heads it and manages everyone else in it (team leads
    // then take over their teams' members below).
    for (i, person) in people.iter_mut().enumerate().skip(departments) {
        person.manager = Some(i % departments);
    }
    for head in people.iter_mut().take(departments) {
        head.title = format!("Head of {}", head.department);
    }
    people
}

fn generate_groups(
    spec: &SeedSpec,
    people: &[Person],
    departments: usize,
    teams: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<IdpGroup> {
    let mut groups: Vec<IdpGroup> = Vec::with_capacity(spec.groups);
    let mut pairs: HashSet<(usize, usize)> = HashSet::new();
    let mut count = 0usize;
    // Departments: everyone in their own.
    for (d, department) in DEPARTMENTS.iter().enumerate().take(departments) {
        let members: Vec<usize> = (d..people.len()).step_by(departments).collect();
        count += members.len();
        for &m in &members {
            pairs.insert((groups.len(), m));
        }
        groups.push(IdpGroup {
            idp_id: random_uuid(rng),
            display_name: format!("dept-{}", department.to_lowercase()),
            kind: IdpGroupKind::Department,
            owners: vec![d],
            members,
        });
    }
    // Teams: each person (but department heads) in exactly one team of their department; the
    // team's first member leads it and owns the group.
    let team_base = groups.len();
    let mut team_names: HashSet<String> = HashSet::new();
    for t in 0..teams {
        let department = DEPARTMENTS[t % departments].to_lowercase();
        let word = pick(rng, TEAM_WORDS);
        let mut name = format!("team-{department}-{word}");
        let mut n = 1;
        while !team_names.insert(name.clone()) {
            n += 1;
            name = format!("team-{department}-{word}-{n}");
        }
        groups.push(IdpGroup {
            idp_id: random_uuid(rng),
            display_name: name,
            kind: IdpGroupKind::Team,
            owners: Vec::new(),
            members: Vec::new(),
        });
    }
    let teams_of_department: Vec<Vec<usize>> = (0..departments)
        .map(|d| {
            (0..teams)
                .filter(|t| t % departments == d)
                .map(|t| team_base + t)
                .collect()
        })
        .collect();
    for p in departments..people.len() {
        let d = p % departments;
        let choices = &teams_of_department[d];
        // Fill empty teams first so every team has a lead, then spread at random.
        let g = choices
            .iter()
            .copied()
            .find(|&g| groups[g].members.is_empty())
            .or_else(|| choices.choose(rng).copied());
        let Some(g) = g else { continue };
        if groups[g].members.is_empty() {
            groups[g].owners.push(p);
        }
        groups[g].members.push(p);
        pairs.insert((g, p));
        count += 1;
    }
    // The Q Developer group: most developers and the team leads of developer teams.
    let q = groups.len();
    let mut q_members = Vec::new();
    for (p, person) in people.iter().enumerate() {
        let developer = DEVELOPER_DEPARTMENTS.contains(&person.department.as_str());
        if developer && rng.random_bool(0.6) {
            q_members.push(p);
            pairs.insert((q, p));
        }
    }
    count += q_members.len();
    groups.push(IdpGroup {
        idp_id: random_uuid(rng),
        display_name: "AWS-Q-Developer-Pro".into(),
        kind: IdpGroupKind::QDeveloper,
        owners: vec![0],
        members: q_members,
    });
    // Cross-team work: extra team memberships until the target count.
    let team_range = team_base..team_base + teams;
    let mut attempts = 0usize;
    while count < spec.memberships && attempts < spec.memberships * 4 && !team_range.is_empty() {
        attempts += 1;
        let g = rng.random_range(team_range.clone());
        let p = rng.random_range(0..people.len());
        if pairs.insert((g, p)) {
            groups[g].members.push(p);
            count += 1;
        }
    }
    groups
}
