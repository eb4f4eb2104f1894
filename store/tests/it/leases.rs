//! Job leases: one replica at a time runs the refresh.

use chrono::{DateTime, Duration, TimeZone, Utc};
use store::testkit::TestDb;

fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap()
}

store::backend_tests!(leases_let_one_holder_at_a_time_and_expire);

async fn leases_let_one_holder_at_a_time_and_expire(db: &TestDb) {
    let s = &db.store;
    let ttl = Duration::minutes(30);
    assert!(
        s.try_lease("refresh", "replica-a", t(1), ttl)
            .await
            .unwrap()
    );
    assert!(
        !s.try_lease("refresh", "replica-b", t(1), ttl)
            .await
            .unwrap()
    );
    assert!(
        s.try_lease("refresh", "replica-a", t(1), ttl)
            .await
            .unwrap(),
        "the holder may renew"
    );
    // replica-a dies; after the lease runs out, replica-b takes it.
    let later = t(1) + Duration::minutes(31);
    assert!(
        s.try_lease("refresh", "replica-b", later, ttl)
            .await
            .unwrap()
    );
    // A late release by the old holder does not free replica-b's lease.
    s.release_lease("refresh", "replica-a").await.unwrap();
    assert!(
        !s.try_lease("refresh", "replica-a", later, ttl)
            .await
            .unwrap()
    );
    s.release_lease("refresh", "replica-b").await.unwrap();
    assert!(
        s.try_lease("refresh", "replica-a", later, ttl)
            .await
            .unwrap()
    );
    // Other leases are independent.
    assert!(
        s.try_lease("another-job", "replica-b", later, ttl)
            .await
            .unwrap()
    );
}
