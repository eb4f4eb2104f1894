//! Migrations, the deployment row and connections, asserted identically on SQLite and
//! PostgreSQL.

use chrono::{Duration, TimeZone, Utc};
use store::testkit::TestDb;
use store::{ConnectOptions, Store, StoreError};

store::backend_tests!(
    migrations_are_applied_once_and_complete,
    first_start_creates_the_deployment_and_later_starts_count_up,
    deployment_is_missing_before_the_first_start,
    ping_answers,
    health_reads_the_round_trip_the_deployment_and_the_schema_together,
    the_store_survives_a_reconnect,
);

async fn migrations_are_applied_once_and_complete(db: &TestDb) {
    let applied = db.store.applied_migrations().await.unwrap();
    assert_eq!(
        applied,
        db.store.known_migrations(),
        "every migration applied"
    );
    let again = db.store.migrate().await.unwrap();
    assert_eq!(again.applied_now, 0, "a second run applies nothing");
    assert_eq!(again.schema_version, *applied.last().unwrap());
    let schema = db.store.schema_status().await.unwrap();
    assert_eq!(schema.version, again.schema_version);
    assert_eq!(schema.pending, 0);
}

async fn first_start_creates_the_deployment_and_later_starts_count_up(db: &TestDb) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    let first = db.store.record_start("0.1.0", t0).await.unwrap();
    assert_eq!(first.starts, 1);
    assert_eq!(first.created_at, t0);
    assert_eq!(first.last_started_at, t0);
    assert_eq!(first.last_version, "0.1.0");

    let t1 = t0 + Duration::hours(3);
    let second = db.store.record_start("0.2.0", t1).await.unwrap();
    assert_eq!(
        second.deployment_id, first.deployment_id,
        "identity is kept"
    );
    assert_eq!(second.created_at, t0, "creation time is kept");
    assert_eq!(second.last_started_at, t1);
    assert_eq!(second.starts, 2);
    assert_eq!(second.last_version, "0.2.0");
}

async fn deployment_is_missing_before_the_first_start(db: &TestDb) {
    match db.store.deployment().await {
        Err(StoreError::NotInitialised) => {}
        other => panic!("expected NotInitialised, got {other:?}"),
    }
}

async fn ping_answers(db: &TestDb) {
    let took = db.store.ping().await.unwrap();
    assert!(took < std::time::Duration::from_secs(5));
}

async fn health_reads_the_round_trip_the_deployment_and_the_schema_together(db: &TestDb) {
    assert!(
        matches!(db.store.health().await, Err(StoreError::NotInitialised)),
        "no deployment before the first start"
    );
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    let started = db.store.record_start("0.3.0", t0).await.unwrap();
    let health = db.store.health().await.unwrap();
    assert!(health.round_trip < std::time::Duration::from_secs(5));
    assert_eq!(health.deployment, started);
    assert_eq!(health.schema, db.store.schema_status().await.unwrap());
    assert_eq!(health.schema.pending, 0);
}

async fn the_store_survives_a_reconnect(db: &TestDb) {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let before = db.store.record_start("0.1.0", t0).await.unwrap();
    let reopened = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    let report = reopened.migrate().await.unwrap();
    assert_eq!(report.applied_now, 0);
    assert_eq!(reopened.deployment().await.unwrap(), before);
    reopened.close().await;
}

#[tokio::test]
async fn a_url_with_an_unknown_scheme_is_refused_with_advice() {
    let err = Store::connect("mysql://root@localhost/tessera", &ConnectOptions::default())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("sqlite://"), "{msg}");
    assert!(msg.contains("postgres://"), "{msg}");
}

#[tokio::test]
async fn an_unreachable_postgres_names_the_target_without_its_password() {
    let opts = ConnectOptions {
        acquire_timeout: std::time::Duration::from_secs(2),
        ..ConnectOptions::default()
    };
    // Port 1 on loopback: nothing listens there.
    let err = Store::connect("postgres://tessera:hunter2@127.0.0.1:1/tessera", &opts)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
    assert!(!msg.contains("hunter2"), "password leaked: {msg}");
}

#[tokio::test]
async fn a_sqlite_file_and_its_directory_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/tessera.db");
    let store = Store::connect(
        &format!("sqlite://{}", path.display()),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    assert!(path.exists());
    store.close().await;
}
