//! Sign-in sessions and sign-outs everywhere, as two replicas on one database see them.

use chrono::{Duration, TimeZone, Utc};
use store::testkit::TestDb;
use store::{ConnectOptions, Store};
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{ExpiredDeletion, SessionStore};

store::backend_tests!(
    a_sign_out_everywhere_reaches_this_replica_at_once_and_the_others_soon,
    a_session_changed_or_ended_on_one_replica_reaches_the_others_soon,
    expired_sessions_are_not_answered_and_are_deleted,
);

/// A session as sign-in leaves it: who, and until when it lasts.
fn session(who: &str, lasts: time::Duration) -> Record {
    Record {
        id: Id::default(),
        data: [(
            "tessera.user".to_string(),
            serde_json::json!({ "subject": who }),
        )]
        .into_iter()
        .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + lasts,
    }
}

fn subject(record: Option<Record>) -> Option<String> {
    record.map(|r| {
        r.data["tessera.user"]["subject"]
            .as_str()
            .unwrap()
            .to_string()
    })
}

async fn a_session_changed_or_ended_on_one_replica_reaches_the_others_soon(db: &TestDb) {
    let there_store = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    let (here, there) = (
        db.store.sessions().await.unwrap(),
        there_store.sessions().await.unwrap(),
    );
    let mut record = session("ana", time::Duration::hours(1));
    here.create(&mut record).await.unwrap();
    let id = record.id;
    assert_eq!(
        subject(here.load(&id).await.unwrap()).as_deref(),
        Some("ana")
    );
    assert_eq!(
        subject(there.load(&id).await.unwrap()).as_deref(),
        Some("ana"),
        "any replica serves any session"
    );

    // A change is read back at once where it was made, and soon everywhere.
    record.data.insert(
        "tessera.user".into(),
        serde_json::json!({ "subject": "ben" }),
    );
    here.save(&record).await.unwrap();
    assert_eq!(
        subject(here.load(&id).await.unwrap()).as_deref(),
        Some("ben")
    );
    tokio::time::sleep(store::SESSIONS_FRESH).await;
    assert_eq!(
        subject(there.load(&id).await.unwrap()).as_deref(),
        Some("ben")
    );

    // A sign-out (the session deleted) counts at once where it was made, and within
    // SESSIONS_FRESH on the others.
    assert!(there.load(&id).await.unwrap().is_some());
    here.delete(&id).await.unwrap();
    assert_eq!(here.load(&id).await.unwrap(), None);
    tokio::time::sleep(store::SESSIONS_FRESH).await;
    assert_eq!(there.load(&id).await.unwrap(), None);
    there_store.close().await;
}

async fn expired_sessions_are_not_answered_and_are_deleted(db: &TestDb) {
    let sessions = db.store.sessions().await.unwrap();
    let mut brief = session("ana", time::Duration::milliseconds(700));
    let mut lasting = session("ben", time::Duration::hours(1));
    sessions.create(&mut brief).await.unwrap();
    sessions.create(&mut lasting).await.unwrap();
    assert!(sessions.load(&brief.id).await.unwrap().is_some());

    // Past its expiry, though read a moment ago, the session is gone for every caller. (A
    // second past it: SQLite's clean-up compares whole seconds.)
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    assert_eq!(sessions.load(&brief.id).await.unwrap(), None);
    assert!(sessions.load(&lasting.id).await.unwrap().is_some());

    // The clean-up removes it from the database and keeps the live one.
    let table = if db.url.starts_with("sqlite") {
        "tower_sessions"
    } else {
        "tower_sessions.session"
    };
    let rows = format!("UPDATE {table} SET data = data");
    assert_eq!(db.execute(&rows).await.unwrap(), 2);
    sessions.delete_expired().await.unwrap();
    assert_eq!(db.execute(&rows).await.unwrap(), 1);
    assert_eq!(
        subject(sessions.load(&lasting.id).await.unwrap()).as_deref(),
        Some("ben")
    );
}

async fn a_sign_out_everywhere_reaches_this_replica_at_once_and_the_others_soon(db: &TestDb) {
    let here = &db.store;
    let there = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    assert_eq!(here.sessions_revoked_before("ana").await.unwrap(), None);
    assert_eq!(there.sessions_revoked_before("ana").await.unwrap(), None);

    here.revoke_sessions(Some("ana"), at).await.unwrap();
    assert_eq!(
        here.sessions_revoked_before("ana").await.unwrap(),
        Some(at),
        "the replica that recorded it sees it at once"
    );
    assert_eq!(here.sessions_revoked_before("ben").await.unwrap(), None);
    // The other replica answers from what it read a moment ago, then reads again.
    tokio::time::sleep(store::REVOCATIONS_FRESH).await;
    assert_eq!(
        there.sessions_revoked_before("ana").await.unwrap(),
        Some(at)
    );

    // Everyone's sign-out counts for each person, and the later of the two wins.
    let later = at + Duration::hours(1);
    there.revoke_sessions(None, later).await.unwrap();
    assert_eq!(
        there.sessions_revoked_before("ben").await.unwrap(),
        Some(later)
    );
    assert_eq!(
        there.sessions_revoked_before("ana").await.unwrap(),
        Some(later)
    );
    there.close().await;
}
