//! Sign-outs everywhere, as two replicas on one database see them.

use chrono::{Duration, TimeZone, Utc};
use store::testkit::TestDb;
use store::{ConnectOptions, Store};

store::backend_tests!(a_sign_out_everywhere_reaches_this_replica_at_once_and_the_others_soon);

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
