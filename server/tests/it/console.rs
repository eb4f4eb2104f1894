//! The console's pages and their server functions over a real refresh: "Refresh now" reads the
//! sandbox's Identity Center and Entra ID through the production clients, then the overview,
//! users, drift and seats answer from what was stored — on SQLite and PostgreSQL.

use axum::http::StatusCode;
use sandbox::expect::{assignments_of, scope_of, snapshot_of};
use sandbox::seed::{Organisation, SeedSpec};
use serde_json::Value;
use store::testkit::TestDb;

use crate::harness::Harness;

store::backend_tests!(
    refresh_now_fills_the_console_and_its_figures_match_the_organisation,
    bad_filters_are_refused_with_what_to_do,
    a_user_and_a_group_page_show_what_each_refresh_changed,
    a_groups_team_leads_are_its_owners_in_entra_and_the_configured_leads,
);

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Asks for a refresh as an admin and waits until the progress says it ended.
pub(crate) async fn refresh_now(h: &Harness, admin: &str) {
    let idle = h.call_with("/api/refresh_progress", admin, "").await;
    assert_eq!(json(&idle.body)["available"], true);
    let asked = h
        .call_with("/api/refresh_now", admin, "focused=false")
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let again = h
        .call_with("/api/refresh_now", admin, "focused=false")
        .await;
    assert!(
        again.body.contains("already running"),
        "one at a time: {}",
        again.body
    );
    for _ in 0..600 {
        let p = json(&h.call_with("/api/refresh_progress", admin, "").await.body);
        if p["running"] == false {
            assert!(p["calls"].as_u64().unwrap() > 0, "{p}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the refresh did not end within 30 s");
}

async fn refresh_now_fills_the_console_and_its_figures_match_the_organisation(db: &TestDb) {
    let h = Harness::start_refreshing(db).await;
    let admin = h.sign_in("security-admin").await;
    let auditor = h.sign_in("auditor").await;
    let before = json(&h.call_with("/api/overview", &auditor, "").await.body);
    assert_eq!(before["users"], 0);
    assert_eq!(before["last_success"], Value::Null);

    refresh_now(&h, &admin).await;

    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let seeded = snapshot_of(&org.identity_center, assignments_of(&org.instance)).unwrap();
    let seats = domain::seats::effective_seats(&seeded);
    let scope = scope_of(&org);
    let figures = json(&h.call_with("/api/overview", &auditor, "").await.body);
    assert_eq!(figures["users"], seeded.users().len() as u64, "{figures}");
    assert_eq!(figures["groups"], seeded.groups().len() as u64);
    assert_eq!(figures["seat_holders"], seats.holders.len() as u64);
    assert_eq!(figures["scope_users"], scope.users.len() as u64);
    let drift = domain::drift::drift(&seeded, &scope);
    assert!(!drift.is_empty(), "the demo plants drift");
    assert_eq!(figures["drift"], drift.len() as u64);
    assert_eq!(figures["last_success"]["outcome"], "applied");
    assert_eq!(
        figures["monthly_cost"],
        format!(
            "USD {}.00",
            app::ui::thousands(19 * seats.holders.len() as u64)
        )
    );

    // Search: every row starts with the prefix, and the total is the organisation's count.
    let first = &seeded.users()[0];
    let prefix: String = first.user_name.to_lowercase().chars().take(3).collect();
    let expected = seeded
        .users()
        .iter()
        .filter(|u| {
            [
                Some(u.user_name.to_lowercase()),
                Some(u.display_name.to_lowercase()),
                u.email.as_ref().map(|e| e.to_lowercase()),
            ]
            .iter()
            .flatten()
            .any(|v| v.starts_with(&prefix))
        })
        .count();
    let page = json(
        &h.call_with("/api/list_users", &auditor, &format!("params[q]={prefix}"))
            .await
            .body,
    );
    assert_eq!(page["total"], expected as u64, "search {prefix:?}: {page}");
    assert!(page["rows"].as_array().unwrap().len() <= 50);

    // Has a seat: exactly the effective holders.
    let with_seat = json(
        &h.call_with("/api/list_users", &auditor, "params[seat]=yes")
            .await
            .body,
    );
    assert_eq!(with_seat["total"], seats.holders.len() as u64);

    // The server-rendered list carries the rows (shareable address, no script needed).
    let html = h
        .get(&format!("/users?q={prefix}"), Some(&auditor))
        .await
        .body;
    assert!(
        html.contains(&first.user_name),
        "the list renders on the server"
    );

    // A user with drift: the finding is on the Drift page and on the user's page.
    let findings = json(&h.call_with("/api/drift_page", &auditor, "kind=").await.body);
    let with_user = findings["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["findings"].as_array().unwrap())
        .find(|r| r["user"].is_array())
        .expect("a finding about an Identity Center user");
    // Each finding's likely cause, said once for the findings beside it that share it.
    let runs = findings["runs"].as_array().unwrap();
    assert!(
        runs.iter()
            .all(|r| !r["cause"].as_str().unwrap().is_empty())
    );
    assert!(runs.windows(2).all(|w| w[0]["cause"] != w[1]["cause"]));
    let drift_html = h.get("/drift", Some(&auditor)).await.body;
    let cause: String = runs[0]["cause"]
        .as_str()
        .unwrap()
        .chars()
        .take(20)
        .collect();
    assert_eq!(
        drift_html.matches("data-testid=\"drift-cause\"").count(),
        runs.len(),
        "one cause per run"
    );
    assert!(drift_html.contains(&cause), "the cause is on the page");
    let user_id = with_user["user"][0].as_str().unwrap();
    let user = json(
        &h.call_with("/api/user_page", &auditor, &format!("id={user_id}"))
            .await
            .body,
    );
    let summaries: Vec<&str> = user["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["summary"].as_str().unwrap())
        .collect();
    assert!(
        summaries.contains(&with_user["summary"].as_str().unwrap()),
        "{summaries:?}"
    );
    let page = h.get(&format!("/users/{user_id}"), Some(&auditor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-testid=\"user-drift\""));

    // Seats: every holder listed with at least one path.
    let seats_page = json(
        &h.call_with("/api/seats_page", &auditor, "page=1")
            .await
            .body,
    );
    assert_eq!(seats_page["total"], seats.holders.len() as u64);
    assert!(
        seats_page["holders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| !h["paths"].as_array().unwrap().is_empty())
    );
    assert!(!seats_page["subscribed"].as_array().unwrap().is_empty());

    // History: the refresh and what it brought.
    let history = json(&h.call_with("/api/refresh_history", &auditor, "").await.body);
    assert_eq!(history[0]["outcome"], "applied");
    assert_eq!(history[0]["changes"], "first snapshot");

    // An object that does not exist: its page says so, with 404.
    let missing = h.get("/groups/no-such-group", Some(&auditor)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn bad_filters_are_refused_with_what_to_do(db: &TestDb) {
    let h = Harness::start(db).await;
    let auditor = h.sign_in("auditor").await;
    for (path, args, says) in [
        (
            "/api/list_users",
            "params[origin]=martian",
            "origin must be provisioned or hand-made",
        ),
        ("/api/list_users", "params[sort]=salary", "sort must be"),
        (
            "/api/list_users",
            "params[seat]=maybe",
            "seat must be yes or no",
        ),
        (
            "/api/list_groups",
            "params[dir]=sideways",
            "dir must be asc or desc",
        ),
        ("/api/drift_page", "kind=gremlins", "There is no drift kind"),
    ] {
        let a = h.call_with(path, &auditor, args).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path} {args}");
        assert!(a.body.contains(says), "{path} {args}: {}", a.body);
    }
    let long = format!("params[q]={}", "a".repeat(201));
    let a = h.call_with("/api/list_users", &auditor, &long).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("longer than 200"), "{}", a.body);
}

async fn a_user_and_a_group_page_show_what_each_refresh_changed(db: &TestDb) {
    let h = Harness::start_refreshing(db).await;
    let admin = h.sign_in("security-admin").await;
    let auditor = h.sign_in("auditor").await;
    refresh_now(&h, &admin).await;

    // Someone renames a user and adds them to a group they were not in, as SCIM would.
    let (user_id, old_name, group_id, group_name) = {
        let mut d = h.sandbox.state().directory.write().unwrap();
        let user = d.users().next().unwrap().clone();
        let group = d
            .groups()
            .find(|g| !d.is_member(&g.group_id, &user.user_id))
            .unwrap()
            .clone();
        let renamed = sandbox::directory::User {
            display_name: "Renamed Person".into(),
            ..user.clone()
        };
        d.replace_user(&user.user_id, renamed).unwrap();
        let membership = d.object_id([9; 16]);
        d.add_membership(&membership, &group.group_id, &user.user_id)
            .unwrap();
        (
            user.user_id,
            user.display_name,
            group.group_id,
            group.display_name,
        )
    };
    let untouched = json(
        &h.call_with("/api/user_page", &auditor, &format!("id={user_id}"))
            .await
            .body,
    );
    assert_eq!(
        untouched["history"],
        serde_json::json!([]),
        "the first snapshot is not a change"
    );
    refresh_now(&h, &admin).await;

    let user = json(
        &h.call_with("/api/user_page", &auditor, &format!("id={user_id}"))
            .await
            .body,
    );
    let history = user["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{user}");
    let lines = history[0]["lines"].as_array().unwrap();
    assert_eq!(
        lines[0]["text"],
        format!("Display name changed from “{old_name}” to “Renamed Person”")
    );
    assert_eq!(lines[1]["text"], "Added to group ");
    assert_eq!(lines[1]["group"], serde_json::json!([group_id, group_name]));
    assert_eq!(history[0]["when"]["relative"], "just now");

    let group = json(
        &h.call_with(
            "/api/group_page",
            &auditor,
            &format!("id={group_id}&page=1"),
        )
        .await
        .body,
    );
    assert_eq!(
        group["history"][0]["lines"][0]["text"], "1 member added",
        "{group}"
    );

    // The page itself, rendered on the server.
    let page = h.get(&format!("/users/{user_id}"), Some(&auditor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Renamed Person"));
    assert!(page.body.contains("data-testid=\"history\""));
    assert!(page.body.contains(&format!("href=\"/groups/{group_id}\"")));
}

async fn a_groups_team_leads_are_its_owners_in_entra_and_the_configured_leads(db: &TestDb) {
    // A team with owners in Entra ID, and a group made by hand in Identity Center.
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let team = org
        .groups
        .iter()
        .find(|g| !g.owners.is_empty())
        .expect("the demo's teams have owners")
        .display_name
        .clone();
    let h = Harness::start_refreshing_with(db, |auth| {
        auth.teams.insert(
            "Lead.Elsewhere@Example.com".into(),
            vec![team.to_uppercase()],
        );
    })
    .await;
    let admin = h.sign_in("security-admin").await;
    let auditor = h.sign_in("auditor").await;
    let hand_made = {
        let mut d = h.sandbox.state().directory.write().unwrap();
        let id = d.object_id([7; 16]);
        let now = chrono::Utc::now();
        d.add_group(sandbox::directory::Group {
            group_id: id.clone(),
            display_name: "Made by hand".into(),
            description: None,
            external_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        })
        .unwrap();
        id
    };
    refresh_now(&h, &admin).await;

    let (group_id, owners) = {
        let d = h.sandbox.state().directory.read().unwrap();
        let group = d.groups().find(|g| g.display_name == team).unwrap();
        let tenant = h.sandbox.entra().unwrap().state.tenant().unwrap();
        let entra = tenant
            .group(tenant.group_position(&group.external_ids[0].id).unwrap())
            .unwrap();
        // Each owner, and the Identity Center user provisioned from them.
        let mut owners: Vec<(String, Option<String>)> = entra
            .owners
            .iter()
            .map(|&o| {
                let o = tenant.user(o).unwrap();
                let ic = d
                    .users()
                    .find(|u| u.external_ids.iter().any(|e| e.id == o.id))
                    .map(|u| u.user_id.clone());
                (o.user_principal_name.clone(), ic)
            })
            .collect();
        owners.sort();
        (group.group_id.clone(), owners)
    };
    assert!(owners.iter().any(|(_, ic)| ic.is_some()));

    let leads = json(
        &h.call_with("/api/group_leads", &auditor, &format!("id={group_id}"))
            .await
            .body,
    );
    let rows = leads["rows"].as_array().unwrap();
    let mut from_entra: Vec<(String, Option<String>)> = rows
        .iter()
        .filter(|r| r["source"] == "owner in Entra ID")
        .map(|r| {
            (
                r["user_name"].as_str().unwrap().to_string(),
                r["user_id"].as_str().map(str::to_string),
            )
        })
        .collect();
    from_entra.sort();
    assert_eq!(from_entra, owners, "{leads}");
    // The configured lead, named by the group's name in another case; nobody in Identity
    // Center carries that name, so no link.
    let configured: Vec<&Value> = rows
        .iter()
        .filter(|r| r["source"] == "auth.teams")
        .collect();
    assert_eq!(configured.len(), 1, "{leads}");
    assert_eq!(configured[0]["user_name"], "Lead.Elsewhere@Example.com");
    assert_eq!(configured[0]["user_id"], Value::Null);
    assert_eq!(leads["note"], Value::Null);

    // A group made by hand: no IdP owner can exist, and the note says where to name its lead.
    let none = json(
        &h.call_with("/api/group_leads", &auditor, &format!("id={hand_made}"))
            .await
            .body,
    );
    assert_eq!(none["rows"], serde_json::json!([]));
    assert!(
        none["note"].as_str().unwrap().contains("auth.teams"),
        "{none}"
    );

    // Graph down: the card says so instead of showing no leads.
    h.sandbox
        .faults()
        .set(
            sandbox::entra::FAULT_KEY,
            sandbox::faults::FaultPlan {
                outage: true,
                ..sandbox::faults::FaultPlan::default()
            },
        )
        .unwrap();
    let down = h
        .call_with("/api/group_leads", &auditor, &format!("id={group_id}"))
        .await;
    assert_eq!(down.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        down.body.contains("could not be read from Entra ID"),
        "{}",
        down.body
    );
}
