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
