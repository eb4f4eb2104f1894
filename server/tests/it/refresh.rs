//! The refresh job end to end: the connector reads the sandbox over HTTP, the domain compares,
//! the store keeps the result — on SQLite and PostgreSQL.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::Utc;
use connectors::identity_center::{Reader, Settings};
use domain::fuse::FuseLimit;
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::expect::{assignments_of, snapshot_of};
use sandbox::faults::FaultPlan;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use server::refresh::{RefreshError, Refresher};
use store::Outcome;
use store::testkit::TestDb;

store::backend_tests!(
    refreshes_apply_changes_and_the_fuse_holds_a_mass_deletion,
    a_failed_read_is_recorded_and_changes_nothing,
    one_refresh_at_a_time,
    one_replica_refreshes_at_a_time,
);

async fn setup(
    db: &TestDb,
    per_second: u32,
) -> (RunningSandbox, Organisation, Arc<Refresher<Reader>>) {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let quota = NonZeroU32::new(per_second).unwrap();
    let sandbox = RunningSandbox::start(
        org.identity_center.clone(),
        org.instance.clone(),
        SandboxConfig {
            limits: Limits {
                identitystore_per_operation: quota,
                ssoadmin_total: quota,
                ..Limits::default()
            },
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap();
    let creds = StaticCredentials::default();
    let reader = Reader::connect(Settings {
        endpoint_url: Some(sandbox.aws_endpoint()),
        static_keys: Some((creds.access_key_id, creds.secret_access_key)),
        identitystore_per_second: per_second,
        ssoadmin_per_second: per_second,
        ..Settings::new("eu-west-1")
    })
    .await;
    let refresher = Arc::new(Refresher::new(
        db.store.clone(),
        reader,
        FuseLimit::default(),
    ));
    (sandbox, org, refresher)
}

async fn refreshes_apply_changes_and_the_fuse_holds_a_mass_deletion(db: &TestDb) {
    let (sandbox, org, refresher) = setup(db, 10_000).await;
    let first = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(first.outcome, Outcome::Applied);
    let seeded = snapshot_of(&org.identity_center, assignments_of(&org.instance)).unwrap();
    assert_eq!(db.store.current_snapshot().await.unwrap(), seeded);

    let again = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);

    // A leaver: applied.
    let leaver = org.identity_center.users().nth(10).unwrap().user_id.clone();
    sandbox
        .state()
        .directory
        .write()
        .unwrap()
        .remove_user(&leaver)
        .unwrap();
    let one_gone = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(one_gone.outcome, Outcome::Applied);
    assert!(
        db.store
            .current_snapshot()
            .await
            .unwrap()
            .user(&leaver)
            .is_none()
    );

    // Half the users vanish (a scoping mistake in the IdP): held, the last good snapshot stays.
    let before = db.store.current_snapshot().await.unwrap();
    let half: Vec<String> = sandbox
        .state()
        .directory
        .read()
        .unwrap()
        .users()
        .step_by(2)
        .map(|u| u.user_id.clone())
        .collect();
    for id in &half {
        sandbox
            .state()
            .directory
            .write()
            .unwrap()
            .remove_user(id)
            .unwrap();
    }
    let held = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(held.outcome, Outcome::Held);
    let detail = held.detail.clone().unwrap();
    assert!(detail.contains("would be removed"), "{detail}");
    assert_eq!(db.store.current_snapshot().await.unwrap(), before);

    // An admin confirms: the held changes become current.
    db.store.confirm_held(&held.id, Utc::now()).await.unwrap();
    let after = db.store.current_snapshot().await.unwrap();
    assert_eq!(after.users().len(), before.users().len() - half.len());
}

async fn a_failed_read_is_recorded_and_changes_nothing(db: &TestDb) {
    let (sandbox, _org, refresher) = setup(db, 10_000).await;
    refresher.refresh_once(Utc::now).await.unwrap();
    let before = db.store.current_snapshot().await.unwrap();
    sandbox
        .faults()
        .set(
            "identitystore",
            FaultPlan {
                outage: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let failed = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(failed.outcome, Outcome::Failed);
    let detail = failed.detail.unwrap();
    assert!(detail.contains("failed"), "{detail}");
    assert_eq!(db.store.current_snapshot().await.unwrap(), before);
    assert_eq!(
        db.store.refreshes(1).await.unwrap()[0].outcome,
        Outcome::Failed
    );
}

async fn one_refresh_at_a_time(db: &TestDb) {
    // Slow quotas keep the first refresh running while the second is asked for.
    let (_sandbox, _org, refresher) = setup(db, 5).await;
    let first = {
        let r = refresher.clone();
        tokio::spawn(async move { r.refresh_once(Utc::now).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(matches!(
        refresher.refresh_once(Utc::now).await,
        Err(RefreshError::AlreadyRunning)
    ));
    assert!(refresher.cancel(), "the running refresh can be cancelled");
    let outcome = first.await.unwrap().unwrap();
    assert_eq!(outcome.outcome, Outcome::Cancelled);
    assert_eq!(
        db.store.current_taken_at().await.unwrap(),
        None,
        "nothing applied"
    );
}

async fn one_replica_refreshes_at_a_time(db: &TestDb) {
    // Another replica (another process on the same database) holds the refresh lease.
    let (_sandbox, _org, refresher) = setup(db, 10_000).await;
    let lease = |holder: &'static str| {
        let store = db.store.clone();
        async move {
            store
                .try_lease(
                    "identity_center.refresh",
                    holder,
                    Utc::now(),
                    chrono::Duration::minutes(30),
                )
                .await
                .unwrap()
        }
    };
    assert!(lease("other-replica").await);
    assert!(matches!(
        refresher.refresh_once(Utc::now).await,
        Err(RefreshError::RunningElsewhere)
    ));
    db.store
        .release_lease("identity_center.refresh", "other-replica")
        .await
        .unwrap();
    let done = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(done.outcome, Outcome::Applied);
    assert!(
        lease("other-replica").await,
        "this replica gave the lease back when it finished"
    );
}
