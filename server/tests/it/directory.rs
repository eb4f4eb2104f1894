//! Sign-in reading Entra's directory through Graph (the sandbox tenant, the production
//! `EntraReader`): a groups overage is resolved instead of refused, and a team lead's teams are
//! the groups they own.

use domain::access::RoleMapping;
use store::testkit::TestDb;

use crate::harness::{Harness, ORIGIN};

store::backend_tests!(
    a_groups_overage_is_resolved_through_graph_or_refused_without_it,
    a_team_leads_teams_are_the_groups_they_own,
    a_team_leads_teams_can_be_configured,
);

/// Display names of the tenant's groups where `persona` is a member (or, `owned`, an owner).
fn groups_of(h: &Harness, persona: &str, owned: bool) -> Vec<String> {
    let entra = h.sandbox.entra().unwrap();
    let tenant = entra.state.tenant().unwrap();
    let person = tenant
        .personas
        .iter()
        .find(|p| p.key == persona)
        .unwrap()
        .user;
    let mut names: Vec<String> = tenant
        .groups
        .iter()
        .filter(|g| {
            if owned {
                g.owners.contains(&person)
            } else {
                g.members.contains(&person)
            }
        })
        .map(|g| g.display_name.clone())
        .collect();
    names.sort();
    names
}

async fn a_groups_overage_is_resolved_through_graph_or_refused_without_it(db: &TestDb) {
    // Team leads by group (name): the many-groups persona's token carries the overage
    // indicator instead of its groups.
    let probe = Harness::start(db).await;
    let groups = groups_of(&probe, "many-groups", false);
    assert!(!groups.is_empty(), "the persona belongs to groups");
    drop(probe);
    let by_group = |auth: &mut server::config::AuthSection| {
        auth.roles = RoleMapping {
            team_lead_groups: vec![groups[0].clone()],
            ..auth.roles.clone()
        };
    };

    let with = Harness::start_with(db, by_group, true).await;
    let cookie = with.sign_in("many-groups").await;
    let me = with.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["roles"], serde_json::json!(["Team lead"]), "{me}");

    // Without the directory the groups stay unknown: refused, saying why (never "no groups").
    let without = Harness::start_with(db, by_group, false).await;
    let refused = without.try_sign_in("many-groups").await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
    assert!(refused.body.contains("groups"), "{}", refused.body);
}

async fn a_team_leads_teams_are_the_groups_they_own(db: &TestDb) {
    let h = Harness::start_with(db, |_| {}, true).await;
    let owned = groups_of(&h, "team-lead", true);
    assert!(!owned.is_empty(), "the seeded lead owns teams");
    let cookie = h.sign_in("team-lead").await;
    let me = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    let mut teams: Vec<String> = serde_json::from_value(me["teams"].clone()).unwrap();
    teams.sort();
    assert_eq!(teams, owned);
    // Not a lead: no teams, even one who owns groups would not get them without the role.
    let cookie = h.sign_in("developer").await;
    let me = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["teams"], serde_json::json!([]));
}

async fn a_team_leads_teams_can_be_configured(db: &TestDb) {
    // PingOne has no group owners: the teams come from `auth.teams`, by user name or email.
    let probe = Harness::start(db).await;
    let upn = {
        let entra = probe.sandbox.entra().unwrap();
        let tenant = entra.state.tenant().unwrap();
        let lead = tenant
            .personas
            .iter()
            .find(|p| p.key == "team-lead")
            .unwrap()
            .user;
        tenant.user(lead).unwrap().user_principal_name.clone()
    };
    drop(probe);
    let h = Harness::start_with(
        db,
        |auth| {
            auth.teams
                .insert(upn.to_uppercase(), vec!["Payments".into(), "Mobile".into()]);
        },
        false,
    )
    .await;
    let cookie = h.sign_in("team-lead").await;
    let me = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["teams"], serde_json::json!(["Payments", "Mobile"]));
}
