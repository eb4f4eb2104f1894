//! Page data kept in memory between changes (`kept.rs`): read again without a change, a page is
//! answered from memory; after any write it shows, the next read is the database's, whether
//! this process wrote or another replica did.

use chrono::Duration;
use domain::changes::diff;
use domain::connection::{CheckId, Outcome as CheckOutcome, Status};
use domain::timeline::ObjectKind;
use store::testkit::TestDb;
use store::{ConnectOptions, Outcome, ScopeOutcome, ScopeRead, Store, UserQuery, setting};

use crate::browse::{load, refresh, t, unassigned};

store::backend_tests!(
    a_page_read_again_without_a_change_is_answered_from_memory,
    every_write_a_page_shows_is_seen_by_the_next_read,
    another_replicas_write_is_seen_by_the_next_read,
    one_pages_reads_ask_for_the_data_version_once,
);

/// The overview's count of users as the database holds it, behind the store's back.
async fn hand_edit_users(db: &TestDb, users: i64) {
    db.execute(&format!(
        "UPDATE figures SET value = {users} WHERE name = 'users'"
    ))
    .await
    .unwrap();
}

/// A hand edit of the database (which no write of Tessera's counts) is not seen while the page
/// is kept: proof that a page read again is not read from the database. The next counted write
/// brings it.
async fn a_page_read_again_without_a_change_is_answered_from_memory(db: &TestDb) {
    load(db).await;
    assert_eq!(db.store.figures().await.unwrap().users, 4);
    hand_edit_users(db, 40).await;
    assert_eq!(
        db.store.figures().await.unwrap().users,
        4,
        "read again with no change: kept"
    );
    // A fresh process keeps nothing yet: it reads the database.
    let fresh = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    assert_eq!(fresh.figures().await.unwrap().users, 40);
    fresh.close().await;
    // Any counted write (here a failed refresh's record) makes every kept page stale.
    let mut failed = refresh("r9", t(9), &crate::browse::snapshot(true));
    failed.outcome = Outcome::Failed;
    failed.detail = Some("throttled".into());
    db.store.record_refresh(&failed).await.unwrap();
    assert_eq!(db.store.figures().await.unwrap().users, 40);
}

/// Each write the console's pages show, made after the page was read (and kept): the page read
/// again shows it.
async fn every_write_a_page_shows_is_seen_by_the_next_read(db: &TestDb) {
    let s2 = load(db).await;
    let s = &db.store;
    let users = UserQuery {
        limit: 10,
        ..UserQuery::default()
    };

    // A verification's outcomes, and a setting entered then cleared: the Connection page.
    assert!(s.checklist().await.unwrap().checks.is_empty());
    let outcome = CheckOutcome {
        check: CheckId::Scim,
        status: Status::Warn,
        summary: "the token is 300 days old".into(),
        evidence: vec!["created 2026-01-01".into()],
        fix: None,
    };
    s.save_checks(std::slice::from_ref(&outcome), t(3))
        .await
        .unwrap();
    let checks = s.checklist().await.unwrap().checks;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].outcome, outcome);
    s.set_connection_setting(setting::SP_METADATA, "<sp/>", "Ana", t(3))
        .await
        .unwrap();
    assert!(
        s.checklist()
            .await
            .unwrap()
            .settings
            .contains_key(setting::SP_METADATA)
    );
    s.clear_connection_setting(setting::SP_METADATA)
        .await
        .unwrap();
    assert!(s.checklist().await.unwrap().settings.is_empty());

    // A refresh that failed: History and the overview's last refresh.
    assert_eq!(s.refresh_history(10).await.unwrap().len(), 2);
    let mut failed = refresh("r3", t(3), &s2);
    failed.outcome = Outcome::Failed;
    failed.detail = Some("Identity Center answered 503".into());
    s.record_refresh(&failed).await.unwrap();
    assert_eq!(s.refresh_history(10).await.unwrap()[0].refresh.id, "r3");
    assert_eq!(
        s.figures().await.unwrap().last_refresh.map(|r| r.id),
        Some("r3".into())
    );

    // A scope read that failed: the overview says so.
    let read = ScopeRead {
        id: "read-3".into(),
        refresh_id: Some("r3".into()),
        idp: "Entra ID".into(),
        started_at: t(3),
        finished_at: t(3) + Duration::seconds(5),
        outcome: ScopeOutcome::Failed,
        detail: Some("Graph answered 429 five times".into()),
        users: 0,
        groups: 0,
        memberships: 0,
        drift: None,
    };
    s.record_scope_read(&read).await.unwrap();
    assert_eq!(
        s.figures().await.unwrap().last_scope_read.map(|r| r.id),
        Some("read-3".into())
    );

    // A held refresh, then discarded: the overview's held count, History's rows.
    let s4 = unassigned(&s2);
    let mut held = refresh("r4", t(4), &s4);
    held.outcome = Outcome::Held;
    s.hold_refresh(&held, &diff(&s2, &s4)).await.unwrap();
    assert_eq!(s.figures().await.unwrap().held, 1);
    s.discard_held("r4").await.unwrap();
    assert_eq!(s.figures().await.unwrap().held, 0);
    assert_eq!(
        s.refresh_history(10).await.unwrap()[0].refresh.outcome,
        Outcome::Discarded
    );

    // An applied refresh: the lists, a user's and a group's page, Seats.
    let before = s.seats_page(0, 10).await.unwrap().holders.total;
    let ann = s.user_detail("u-ann").await.unwrap().unwrap();
    assert!(ann.user.seat);
    let listed = s.users(&users).await.unwrap();
    s.apply_refresh(&refresh("r5", t(5), &s4), &diff(&s2, &s4))
        .await
        .unwrap();
    assert!(s.seats_page(0, 10).await.unwrap().holders.total < before);
    assert!(!s.user_detail("u-ann").await.unwrap().unwrap().user.seat);
    let relisted = s.users(&users).await.unwrap();
    assert_ne!(
        listed.rows.iter().map(|u| u.seat).collect::<Vec<_>>(),
        relisted.rows.iter().map(|u| u.seat).collect::<Vec<_>>()
    );
    let q = s.group_detail("g-q", 0, 10).await.unwrap().unwrap();
    assert!(q.members.iter().all(|(u, _)| !u.seat));

    // cat leaves q-developers: her page's history.
    let timeline = s
        .object_timeline(ObjectKind::User, "u-cat", 10)
        .await
        .unwrap();
    let s6 = unassigned(&crate::browse::snapshot(false));
    s.apply_refresh(&refresh("r6", t(6), &s6), &diff(&s4, &s6))
        .await
        .unwrap();
    let (history, names) = s
        .object_timeline(ObjectKind::User, "u-cat", 10)
        .await
        .unwrap();
    assert_eq!(history.len(), timeline.0.len() + 1, "the refresh's entry");
    assert_eq!(names.get("g-q").map(String::as_str), Some("q-developers"));

    // A start of the server: the status card's record.
    s.record_start("9.9.8", t(7)).await.unwrap();
    assert_eq!(s.health().await.unwrap().deployment.starts, 1);
    s.record_start("9.9.9", t(8)).await.unwrap();
    let health = s.health().await.unwrap();
    assert_eq!(health.deployment.starts, 2);
    assert_eq!(health.deployment.last_version, "9.9.9");
}

/// Two replicas on one database: what one writes, the other's next read shows, though it kept
/// the page from before the write.
async fn another_replicas_write_is_seen_by_the_next_read(db: &TestDb) {
    let s2 = load(db).await;
    let other = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    let holders = |s: &Store| {
        let s = s.clone();
        async move { s.figures().await.unwrap().seat_holders }
    };
    assert_eq!((holders(&db.store).await, holders(&other).await), (4, 4));

    let s3 = unassigned(&s2);
    other
        .apply_refresh(&refresh("r3", t(3), &s3), &diff(&s2, &s3))
        .await
        .unwrap();
    assert_eq!(holders(&db.store).await, 1, "written by the other replica");

    db.store
        .apply_refresh(&refresh("r4", t(4), &s2), &diff(&s3, &s2))
        .await
        .unwrap();
    assert_eq!(holders(&other).await, 4, "written by this one");
    other.close().await;
}

/// A page's render asks for the data version once (`Store::for_one_page`): its later parts
/// answer from what was kept at that version; the next page asks again.
async fn one_pages_reads_ask_for_the_data_version_once(db: &TestDb) {
    let s2 = load(db).await;
    let page = db.store.for_one_page();
    assert_eq!(page.figures().await.unwrap().seat_holders, 4);
    let s3 = unassigned(&s2);
    db.store
        .apply_refresh(&refresh("r3", t(3), &s3), &diff(&s2, &s3))
        .await
        .unwrap();
    assert_eq!(
        page.figures().await.unwrap().seat_holders,
        4,
        "the same page: the version it asked for"
    );
    assert_eq!(
        db.store
            .for_one_page()
            .figures()
            .await
            .unwrap()
            .seat_holders,
        1
    );
}
