//! The server as a user reaches it: the real router over a real (throwaway) database, driven
//! through HTTP requests, on SQLite and PostgreSQL.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use store::testkit::TestDb;

use crate::harness::{Harness, ORIGIN};

async fn app_for(db: &TestDb) -> Harness {
    Harness::start(db).await
}

async fn send(h: Harness, request: Request<Body>) -> (StatusCode, String) {
    let a = h.send(request).await;
    (a.status, a.body)
}

/// The text inside the first element carrying `data-testid="<id>"`.
fn testid_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!(r#"data-testid="{id}""#))?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = open_end + html[open_end..].find('<')?;
    Some(html[open_end..close].to_string())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

store::backend_tests!(
    health_answers_without_touching_the_database,
    ready_reports_the_database_and_schema,
    ready_fails_when_the_database_is_gone,
    the_overview_is_rendered_with_live_figures,
    the_status_server_function_reads_the_store,
    an_unknown_page_is_a_404,
    the_colour_choice_is_kept_and_every_page_is_rendered_in_it,
);

async fn health_answers_without_touching_the_database(db: &TestDb) {
    let app = app_for(db).await;
    db.store.close().await;
    let (status, body) = send(app, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"status":"ok"}"#);
}

async fn ready_reports_the_database_and_schema(db: &TestDb) {
    let (status, body) = send(app_for(db).await, get("/readyz")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ready");
    assert_eq!(json["database"], db.store.backend().as_str());
    assert_eq!(json["migrations_pending"], 0);
}

async fn ready_fails_when_the_database_is_gone(db: &TestDb) {
    let app = app_for(db).await;
    db.store.close().await;
    let (status, body) = send(app, get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "database unavailable");
    assert!(json["error"].as_str().unwrap().contains("database error"));
}

async fn the_overview_is_rendered_with_live_figures(db: &TestDb) {
    let h = app_for(db).await;
    let cookie = h.sign_in("security-admin").await;
    let page = h.get("/", Some(&cookie)).await;
    let (status, html) = (page.status, page.body);
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<title>Overview · Tessera</title>"), "{html}");
    assert!(html.contains("/pkg/tessera.css"), "stylesheet linked");
    assert!(html.contains("/pkg/tessera.js"), "hydration script linked");
    assert!(html.contains("This deployment"));
    assert_eq!(
        testid_text(&html, "database").as_deref(),
        Some(db.store.backend().as_str())
    );
    assert_eq!(testid_text(&html, "starts").as_deref(), Some("1"));
    let latest = db.store.known_migrations().last().copied().unwrap();
    assert_eq!(
        testid_text(&html, "schema"),
        Some(format!("version {latest}")),
        "the latest migration"
    );
}

async fn the_status_server_function_reads_the_store(db: &TestDb) {
    db.store.record_start("test", Utc::now()).await.unwrap();
    let deployment_id = db.store.deployment().await.unwrap().deployment_id;
    let h = app_for(db).await;
    let cookie = h.sign_in("auditor").await;
    let answer = h
        .call("/api/system_status", Some(&cookie), Some(ORIGIN))
        .await;
    let (status, body) = (answer.status, answer.body);
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["database"], db.store.backend().as_str());
    assert_eq!(json["deployment_id"], deployment_id);
    assert_eq!(json["starts"], 2, "one start above plus app_for's");
    assert_eq!(json["migrations_pending"], 0);
}

async fn an_unknown_page_is_a_404(db: &TestDb) {
    let (status, html) = send(app_for(db).await, get("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
}

async fn the_colour_choice_is_kept_and_every_page_is_rendered_in_it(db: &TestDb) {
    let h = app_for(db).await;
    let choose = |body: &'static str, origin: Option<&'static str>| {
        let mut r = Request::post(app::theme::PATH)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.body(Body::from(body)).unwrap()
    };
    let chosen = h
        .send(choose(
            "theme=dark&back=%2Fusers%3Fseat%3Dyes",
            Some(ORIGIN),
        ))
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    assert_eq!(
        chosen.location.as_deref(),
        Some("/users?seat=yes"),
        "back where it was"
    );
    let cookie = chosen
        .set_cookies
        .iter()
        .find(|c| c.starts_with("tessera_theme="))
        .unwrap();
    assert!(cookie.starts_with("tessera_theme=dark;"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Max-Age=31536000", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    // Every page is rendered in that choice from its first byte, with the switch showing it;
    // without the cookie, in the system's colours.
    fn tag<'a>(html: &'a str, start: &str) -> &'a str {
        let at = html
            .find(start)
            .unwrap_or_else(|| panic!("no {start} in the page"));
        &html[at..at + html[at..].find('>').unwrap()]
    }
    let signed_in = h.sign_in("auditor").await;
    let dark = h
        .get("/users", Some(&format!("{signed_in}; tessera_theme=dark")))
        .await;
    assert_eq!(dark.status, StatusCode::OK);
    assert!(
        tag(&dark.body, "<html").contains(r#"class="dark""#),
        "{}",
        tag(&dark.body, "<html")
    );
    assert!(tag(&dark.body, r#"value="dark""#).contains(r#"aria-pressed="true""#));
    assert!(tag(&dark.body, r#"value="system""#).contains(r#"aria-pressed="false""#));
    assert!(tag(&dark.body, r#"name="back""#).contains(r#"value="/users""#));
    let system = h.get("/users", Some(&signed_in)).await;
    assert!(!tag(&system.body, "<html").contains("dark"));
    assert!(tag(&system.body, r#"value="system""#).contains(r#"aria-pressed="true""#));

    // Refused: an unknown choice (400), a return address off the site (sent home instead), a
    // form from another site (the guard's 403).
    let bad = h.send(choose("theme=purple&back=%2F", Some(ORIGIN))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("system, light or dark"));
    assert!(bad.set_cookies.is_empty());
    let away = h
        .send(choose(
            "theme=light&back=%2F%2Fevil.example%2F",
            Some(ORIGIN),
        ))
        .await;
    assert_eq!(away.location.as_deref(), Some("/"));
    let forged = h
        .send(choose("theme=light&back=%2F", Some("https://evil.example")))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.set_cookies.is_empty());
}
