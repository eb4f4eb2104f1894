//! From the IdP's organisation to Identity Center: provisioned users, groups and memberships,
//! the planted problems, and the instance with its applications and Q Developer assignments.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{
    IdpGroup, Organisation, Person, Planted, SeedError, SeedSpec, epoch, random_bytes, random_hex,
};
use crate::directory::{Directory, ExternalId, Group, SCIM_ISSUER, User, UserStatus};
use crate::instance::{
    Application, Assignment, Instance, PrincipalType, Q_DEVELOPER_APPLICATION, Q_DEVELOPER_PROVIDER,
};

/// Carries the IdP organisation into Identity Center and plants the problems to find.
pub(super) fn provision(
    spec: SeedSpec,
    mut people: Vec<Person>,
    groups: Vec<IdpGroup>,
    rng: &mut ChaCha8Rng,
) -> Result<Organisation, SeedError> {
    // Identity store id: d- and ten hex digits.
    let store_id = format!("d-{}", random_hex(rng, 10));
    let mut ic = Directory::new(store_id);
    let start = epoch();
    let q_index = super::q_group_index(&groups).unwrap_or(groups.len().saturating_sub(1));
    let q_members: Vec<usize> = groups
        .get(q_index)
        .map(|g| g.members.clone())
        .unwrap_or_default();

    // Planted, IdP side: a few seat holders disabled in the IdP; a few people who left (deleted
    // from the IdP) but whose Identity Center user stayed.
    let scale = (spec.people / 1000).max(1);
    let disabled: Vec<usize> = q_members.iter().rev().take(2 * scale).copied().collect();
    for &p in &disabled {
        people[p].enabled = false;
    }
    let leavers: Vec<usize> = (spec.people - scale..spec.people)
        .filter(|p| !disabled.contains(p))
        .collect();
    // Planted: someone the IdP assigns but Identity Center never got. The IdP has no surname for
    // them, which Identity Center's SCIM endpoint requires, so every provisioning cycle fails to
    // create them (see `entra::provisioning`).
    let unprovisionable: Option<usize> = (spec.people / 2..spec.people).find(|p| {
        !disabled.contains(p)
            && !leavers.contains(p)
            && groups.iter().all(|g| !g.owners.contains(p))
    });

    let mut provisioned_user = vec![None; people.len()];
    for (p, person) in people.iter().enumerate() {
        let created = start + Duration::minutes(rng.random_range(0..60 * 24 * 300));
        let updated = created + Duration::minutes(rng.random_range(0..60 * 24 * 30));
        let user_id = ic.object_id(random_bytes(rng));
        if Some(p) == unprovisionable {
            continue;
        }
        ic.add_user(User {
            user_id: user_id.clone(),
            user_name: person.user_name.clone(),
            display_name: format!("{} {}", person.given_name, person.family_name),
            given_name: person.given_name.clone(),
            family_name: person.family_name.clone(),
            email: Some(person.email.clone()),
            title: Some(person.title.clone()),
            status: if person.enabled {
                UserStatus::Enabled
            } else {
                UserStatus::Disabled
            },
            external_ids: vec![ExternalId {
                issuer: SCIM_ISSUER.into(),
                id: person.idp_id.clone(),
            }],
            created_at: created,
            updated_at: updated,
            scim_attributes: None,
        })?;
        provisioned_user[p] = Some(user_id);
    }
    let mut provisioned_group = Vec::with_capacity(groups.len());
    for group in &groups {
        let created = start + Duration::minutes(rng.random_range(0..60 * 24 * 30));
        let group_id = ic.object_id(random_bytes(rng));
        ic.add_group(Group {
            group_id: group_id.clone(),
            display_name: group.display_name.clone(),
            description: None,
            external_ids: vec![ExternalId {
                issuer: SCIM_ISSUER.into(),
                id: group.idp_id.clone(),
            }],
            created_at: created,
            updated_at: created,
        })?;
        provisioned_group.push(group_id);
    }
    for (g, group) in groups.iter().enumerate() {
        for &p in &group.members {
            if let Some(user_id) = &provisioned_user[p] {
                let id = ic.object_id(random_bytes(rng));
                ic.add_membership(&id, &provisioned_group[g], user_id)?;
            }
        }
    }

    let mut planted = Planted {
        disabled_seat_holders: disabled
            .iter()
            .filter_map(|&p| provisioned_user[p].clone())
            .collect(),
        leavers_still_present: leavers
            .iter()
            .filter_map(|&p| provisioned_user[p].clone())
            .collect(),
        unprovisionable_people: unprovisionable
            .map(|p| people[p].idp_id.clone())
            .into_iter()
            .collect(),
        pingone_display_name_mapping_missing: spec.name == "demo",
        ..Planted::default()
    };
    // The leavers are gone from the IdP (their Identity Center users stayed): mark them deleted
    // and take them out of every IdP group.
    for &p in &leavers {
        people[p].deleted = true;
    }
    let people_left: HashSet<usize> = leavers.iter().copied().collect();
    let groups: Vec<IdpGroup> = groups
        .into_iter()
        .map(|mut g| {
            g.members.retain(|m| !people_left.contains(m));
            g.owners.retain(|m| !people_left.contains(m));
            g
        })
        .collect();

    let hand_made = plant_hand_made_users(&mut ic, &people, &provisioned_user, &spec, start, rng)?;
    planted.hand_made_users = hand_made.users;
    planted.case_twin_emails = hand_made.case_twins;
    let instance = build_instance(
        &spec,
        ic.identity_store_id(),
        &provisioned_group[q_index],
        planted.hand_made_users.get(1),
        start,
        rng,
    );

    Ok(Organisation {
        spec,
        people,
        groups,
        identity_center: ic,
        instance,
        planted,
        provisioned_user,
        provisioned_group,
    })
}

/// Users made by hand in Identity Center, and which of them are case twins of whom.
#[derive(Default)]
struct HandMade {
    users: Vec<String>,
    case_twins: Vec<(String, String)>,
}

/// Plants users created by hand in the console (no external id): a break-glass admin and
/// near-duplicates of real people whose emails differ only in letter case.
fn plant_hand_made_users(
    ic: &mut Directory,
    people: &[Person],
    provisioned_user: &[Option<String>],
    spec: &SeedSpec,
    start: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Result<HandMade, SeedError> {
    // Planted, Identity Center side: users made by hand in the console (no external id), one of
    // them a break-glass admin, the others near-duplicates of real people whose emails differ
    // only in case.
    let scale = (spec.people / 1000).max(1);
    let hand_made = 2 + scale;
    let mut made = HandMade::default();
    let created = start + Duration::days(3);
    let admin_id = ic.object_id(random_bytes(rng));
    ic.add_user(User {
        user_id: admin_id.clone(),
        user_name: "breakglass-admin".into(),
        display_name: "Break-glass Admin".into(),
        given_name: "Break-glass".into(),
        family_name: "Admin".into(),
        email: Some(format!("cloud-admins@{}", spec.domain)),
        title: None,
        status: UserStatus::Enabled,
        external_ids: Vec::new(),
        created_at: created,
        updated_at: created,
        scim_attributes: None,
    })?;
    made.users.push(admin_id);
    for k in 1..hand_made {
        let p = (k * 7919) % spec.people;
        let Some(twin_of) = provisioned_user[p].clone() else {
            continue;
        };
        let person = &people[p];
        let user_id = ic.object_id(random_bytes(rng));
        let (local, domain) = person
            .email
            .split_once('@')
            .unwrap_or((person.email.as_str(), ""));
        let cased_local = format!(
            "{}.{}",
            person.given_name,
            local.split_once('.').map(|(_, rest)| rest).unwrap_or(local)
        );
        let twin_email = format!("{cased_local}@{domain}");
        ic.add_user(User {
            user_id: user_id.clone(),
            user_name: format!("{}-console", local),
            display_name: format!("{} {}", person.given_name, person.family_name),
            given_name: person.given_name.clone(),
            family_name: person.family_name.clone(),
            email: Some(twin_email),
            title: None,
            status: UserStatus::Enabled,
            external_ids: Vec::new(),
            created_at: created + Duration::hours(k as i64),
            updated_at: created + Duration::hours(k as i64),
            scim_attributes: None,
        })?;
        made.users.push(user_id.clone());
        made.case_twins.push((twin_of, user_id));
    }
    Ok(made)
}

/// The Identity Center instance: Q Developer's application and two others (so filtering by
/// provider matters), with the Q assignments: the subscribed group, and one user assigned
/// directly (it holds a seat without being in the group).
fn build_instance(
    spec: &SeedSpec,
    identity_store_id: &str,
    q_group_id: &str,
    direct_user: Option<&String>,
    start: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Instance {
    // The instance: Q Developer's application and two others (so filtering by provider
    // matters), with the Q assignments: the subscribed group, and one hand-made user assigned
    // directly (it holds a seat without being in the group).
    let instance_id = format!("ssoins-{}", random_hex(rng, 16));
    let account = format!(
        "{:012}",
        rng.random_range(100_000_000_000u64..999_999_999_999)
    );
    let app_arn = |rng: &mut ChaCha8Rng| {
        format!(
            "arn:aws:sso::{account}:application/{instance_id}/apl-{}",
            random_hex(rng, 16)
        )
    };
    let q_arn = app_arn(rng);
    let applications = vec![
        Application {
            application_arn: q_arn.clone(),
            name: Q_DEVELOPER_APPLICATION.into(),
            provider_arn: Q_DEVELOPER_PROVIDER.into(),
            description: Some("Amazon Q Developer Pro subscriptions".into()),
            enabled: true,
            created_at: start + Duration::days(40),
        },
        Application {
            application_arn: app_arn(rng),
            name: "Expense reporting".into(),
            provider_arn: "arn:aws:sso::aws:applicationProvider/custom-saml".into(),
            description: None,
            enabled: true,
            created_at: start + Duration::days(10),
        },
        Application {
            application_arn: app_arn(rng),
            name: "QuickSight".into(),
            provider_arn: "arn:aws:sso::aws:applicationProvider/quicksight".into(),
            description: None,
            enabled: true,
            created_at: start + Duration::days(20),
        },
    ];
    let mut assignments = vec![Assignment {
        application_arn: q_arn.clone(),
        principal_type: PrincipalType::Group,
        principal_id: q_group_id.to_string(),
    }];
    if let Some(direct) = direct_user {
        assignments.push(Assignment {
            application_arn: q_arn,
            principal_type: PrincipalType::User,
            principal_id: direct.clone(),
        });
    }
    Instance {
        instance_arn: format!("arn:aws:sso:::instance/{instance_id}"),
        identity_store_id: identity_store_id.to_string(),
        owner_account_id: account.clone(),
        name: format!("{} identity center", spec.name),
        created_at: start,
        applications,
        assignments,
    }
}
