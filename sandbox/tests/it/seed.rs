//! The seeded organisations: deterministic, of the promised size and shape, with every planted
//! problem where the product will look for it.

use std::collections::HashSet;

use sandbox::directory::{Directory, UserStatus};
use sandbox::instance::{PrincipalType, Q_DEVELOPER_APPLICATION};
use sandbox::seed::{IdpGroupKind, Organisation, SeedError, SeedSpec};

fn demo() -> Organisation {
    Organisation::generate(&SeedSpec::demo()).unwrap()
}

fn fingerprint(d: &Directory) -> Vec<String> {
    d.users()
        .map(|u| format!("{}|{}|{:?}|{:?}", u.user_id, u.user_name, u.email, u.status))
        .chain(
            d.groups()
                .map(|g| format!("{}|{}", g.group_id, g.display_name)),
        )
        .chain(
            d.memberships()
                .map(|m| format!("{}|{}|{}", m.membership_id, m.group_id, m.user_id)),
        )
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_organisation() {
    let a = demo();
    let b = demo();
    assert_eq!(a.people, b.people);
    assert_eq!(a.groups, b.groups);
    assert_eq!(
        fingerprint(&a.identity_center),
        fingerprint(&b.identity_center)
    );
    assert_eq!(a.planted, b.planted);
    assert_eq!(a.instance, b.instance);
}

#[test]
fn another_seed_gives_another_organisation() {
    let a = demo();
    let b = Organisation::generate(&SeedSpec {
        seed: 8,
        ..SeedSpec::demo()
    })
    .unwrap();
    assert_ne!(
        a.identity_center.identity_store_id(),
        b.identity_center.identity_store_id()
    );
    assert_ne!(a.people[5].user_name, b.people[5].user_name);
}

#[test]
fn demo_has_the_promised_size() {
    let org = demo();
    assert_eq!(org.people.len(), 300);
    assert_eq!(org.groups.len(), 30);
    let idp_memberships: usize = org.groups.iter().map(|g| g.members.len()).sum();
    // 900 were made; the leavers' memberships left the IdP with them.
    let leavers = org.planted.leavers_still_present.len();
    assert!(
        (900 - 12 * leavers..=900).contains(&idp_memberships),
        "{idp_memberships}"
    );
    let ic = &org.identity_center;
    assert_eq!(ic.group_count(), 30);
    // One person the IdP assigns never reached Identity Center (planted), nor their memberships.
    assert_eq!(org.planted.unprovisionable_people.len(), 1);
    let missing = org
        .people
        .iter()
        .position(|p| p.idp_id == org.planted.unprovisionable_people[0])
        .unwrap();
    let missing_memberships = org
        .groups
        .iter()
        .filter(|g| g.members.contains(&missing))
        .count();
    assert!(missing_memberships >= 2, "department and team at least");
    assert_eq!(ic.user_count(), 299 + org.planted.hand_made_users.len());
    assert_eq!(ic.membership_count(), 900 - missing_memberships);
    assert!(ic.identity_store_id().starts_with("d-"));
    assert_eq!(ic.identity_store_id().len(), 12);
}

#[test]
fn ids_have_the_identity_store_shape() {
    let org = demo();
    let ic = &org.identity_center;
    let prefix = format!("{}-", ic.id_prefix());
    for user in ic.users() {
        assert!(user.user_id.starts_with(&prefix), "{}", user.user_id);
        assert_eq!(user.user_id.len(), 10 + 1 + 36);
    }
    let m = ic.memberships().next().unwrap();
    assert!(m.membership_id.starts_with(&prefix));
    assert_eq!(
        ic.membership(&m.membership_id).unwrap().user_id,
        m.user_id,
        "membership ids resolve"
    );
}

#[test]
fn every_team_has_a_lead_who_owns_it_and_is_a_member() {
    let org = demo();
    let teams: Vec<_> = org
        .groups
        .iter()
        .filter(|g| g.kind == IdpGroupKind::Team)
        .collect();
    assert!(!teams.is_empty());
    for team in teams {
        assert_eq!(team.owners.len(), 1, "{}", team.display_name);
        assert!(team.members.contains(&team.owners[0]));
    }
}

#[test]
fn provisioned_objects_carry_the_idp_ids_and_memberships_match_the_idp() {
    let org = demo();
    let ic = &org.identity_center;
    for (p, person) in org.people.iter().enumerate() {
        let Some(user_id) = org.provisioned_user[p].as_ref() else {
            // Only the planted person the IdP cannot provision is missing.
            assert_eq!(
                org.planted.unprovisionable_people,
                std::slice::from_ref(&person.idp_id)
            );
            continue;
        };
        let user = ic.user(user_id).unwrap();
        assert_eq!(user.external_ids.len(), 1);
        assert_eq!(user.external_ids[0].id, person.idp_id);
        assert_eq!(
            ic.user_by_external_id(&user.external_ids[0])
                .unwrap()
                .user_id,
            *user_id
        );
    }
    for (g, group) in org.groups.iter().enumerate() {
        let group_id = &org.provisioned_group[g];
        for &p in &group.members {
            let Some(user_id) = org.provisioned_user[p].as_ref() else {
                continue;
            };
            assert!(
                ic.is_member(group_id, user_id),
                "{} missing from {}",
                org.people[p].user_name,
                group.display_name
            );
        }
    }
}

#[test]
fn the_q_developer_group_is_assigned_and_holds_developers() {
    let org = demo();
    let q = org.q_group().unwrap();
    assert_eq!(org.groups[q].kind, IdpGroupKind::QDeveloper);
    let q_app = org.instance.q_developer().unwrap();
    assert_eq!(q_app.name, Q_DEVELOPER_APPLICATION);
    assert_eq!(org.instance.applications.len(), 3);
    let q_assignments = org.instance.assignments_of(&q_app.application_arn);
    let group_assignment = q_assignments
        .iter()
        .find(|a| a.principal_type == PrincipalType::Group)
        .unwrap();
    assert_eq!(group_assignment.principal_id, org.provisioned_group[q]);
    assert!(
        org.groups[q].members.len() >= 30,
        "a real population of seats"
    );
    let direct = q_assignments
        .iter()
        .find(|a| a.principal_type == PrincipalType::User)
        .unwrap();
    assert!(
        org.identity_center
            .user(&direct.principal_id)
            .unwrap()
            .external_ids
            .is_empty(),
        "the directly assigned user is a hand-made one"
    );
}

#[test]
fn hand_made_users_have_no_external_id() {
    let org = demo();
    assert!(org.planted.hand_made_users.len() >= 3);
    for id in &org.planted.hand_made_users {
        let user = org.identity_center.user(id).unwrap();
        assert!(user.external_ids.is_empty(), "{}", user.user_name);
    }
    let provisioned = org
        .identity_center
        .users()
        .filter(|u| !u.external_ids.is_empty())
        .count();
    assert_eq!(provisioned, 300 - org.planted.unprovisionable_people.len());
}

#[test]
fn disabled_seat_holders_are_disabled_and_still_in_the_q_group() {
    let org = demo();
    let q = org.q_group().unwrap();
    assert!(!org.planted.disabled_seat_holders.is_empty());
    for id in &org.planted.disabled_seat_holders {
        let user = org.identity_center.user(id).unwrap();
        assert_eq!(user.status, UserStatus::Disabled);
        assert!(org.identity_center.is_member(&org.provisioned_group[q], id));
    }
}

#[test]
fn case_twins_differ_only_in_letter_case() {
    let org = demo();
    assert!(!org.planted.case_twin_emails.is_empty());
    for (a, b) in &org.planted.case_twin_emails {
        let ea = org.identity_center.user(a).unwrap().email.clone().unwrap();
        let eb = org.identity_center.user(b).unwrap().email.clone().unwrap();
        assert_ne!(ea, eb);
        assert_eq!(ea.to_lowercase(), eb.to_lowercase());
    }
}

#[test]
fn leavers_are_gone_from_the_idp_but_not_from_identity_center() {
    let org = demo();
    assert!(!org.planted.leavers_still_present.is_empty());
    let leaver_ids: HashSet<&String> = org.planted.leavers_still_present.iter().collect();
    for (p, person) in org.people.iter().enumerate() {
        let Some(user_id) = &org.provisioned_user[p] else {
            continue;
        };
        if leaver_ids.contains(user_id) {
            assert!(person.deleted);
            assert!(org.identity_center.user(user_id).is_some());
            assert!(org.groups.iter().all(|g| !g.members.contains(&p)));
        } else {
            assert!(!person.deleted);
        }
    }
}

#[test]
fn a_mid_sized_organisation_reaches_its_exact_counts() {
    let spec = SeedSpec {
        name: "mid".into(),
        seed: 3,
        people: 5_000,
        groups: 500,
        memberships: 50_000,
        domain: "mid.example".into(),
    };
    let org = Organisation::generate(&spec).unwrap();
    assert_eq!(org.identity_center.group_count(), 500);
    // The IdP reaches the exact counts; Identity Center lacks the one planted person the IdP
    // cannot provision, and their memberships.
    let idp_memberships: usize = org.groups.iter().map(|g| g.members.len()).sum();
    let leavers_memberships = 50_000 - idp_memberships;
    let missing = org
        .people
        .iter()
        .position(|p| org.planted.unprovisionable_people.contains(&p.idp_id))
        .unwrap();
    let missing_memberships = org
        .groups
        .iter()
        .filter(|g| g.members.contains(&missing))
        .count();
    assert!(leavers_memberships < 100, "{leavers_memberships}");
    assert_eq!(
        org.identity_center.membership_count(),
        50_000 - missing_memberships
    );
    assert_eq!(
        org.identity_center.user_count(),
        4_999 + org.planted.hand_made_users.len()
    );
    let names: HashSet<_> = org.people.iter().map(|p| &p.user_name).collect();
    assert_eq!(names.len(), 5_000, "user names are unique");
}

#[test]
fn impossible_sizes_are_refused_with_the_reason() {
    let too_few = Organisation::generate(&SeedSpec {
        people: 5,
        ..SeedSpec::demo()
    })
    .unwrap_err();
    assert!(matches!(too_few, SeedError::BadSpec(_)));
    assert!(too_few.to_string().contains("people = 5"), "{too_few}");

    let too_many_teams = Organisation::generate(&SeedSpec {
        people: 50,
        groups: 400,
        ..SeedSpec::demo()
    })
    .unwrap_err();
    assert!(
        too_many_teams
            .to_string()
            .contains("every team needs a member"),
        "{too_many_teams}"
    );
    assert!(SeedSpec::named("huge").is_none());
    assert_eq!(SeedSpec::named("large"), Some(SeedSpec::large()));
}
