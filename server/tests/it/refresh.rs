//! The refresh job end to end: the connector reads the sandbox over HTTP, the domain compares,
//! the store keeps the result — on SQLite and PostgreSQL.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::Utc;
use connectors::entra::{EntraReader, EntraSettings};
use connectors::identity_center::{Reader, Settings};
use connectors::pingone::{PingOneReader, PingOneSettings};
use connectors::scope::IdpReader;
use domain::drift::Drift;
use domain::fuse::FuseLimit;
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::expect::{assignments_of, snapshot_of};
use sandbox::expect::{pingone_scope_of, scope_of};
use sandbox::faults::FaultPlan;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::IdpKind;
use sandbox::server::{RunningSandbox, SandboxConfig};
use server::refresh::{RefreshError, Refresher};
use store::testkit::TestDb;
use store::{Outcome, RefreshKind, ScopeOutcome};

store::backend_tests!(
    refreshes_apply_changes_and_the_fuse_holds_a_mass_deletion,
    a_failed_read_is_recorded_and_changes_nothing,
    one_refresh_at_a_time,
    one_replica_refreshes_at_a_time,
    a_focused_refresh_sees_seat_changes_with_a_few_calls,
    drift_is_kept_from_the_idps_scope_entra,
    drift_is_kept_from_the_idps_scope_pingone,
    the_lease_is_renewed_while_a_long_refresh_runs,
);

/// The production Identity Center reader, pointed at the sandbox with its keys.
async fn ic_reader(sandbox: &RunningSandbox, per_second: u32) -> Reader {
    let creds = StaticCredentials::default();
    Reader::connect(Settings {
        endpoint_url: Some(sandbox.aws_endpoint()),
        static_keys: Some((creds.access_key_id, creds.secret_access_key)),
        identitystore_per_second: per_second,
        ssoadmin_per_second: per_second,
        ..Settings::new("eu-west-1")
    })
    .await
}

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
    let reader = ic_reader(&sandbox, per_second).await;
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

async fn a_focused_refresh_sees_seat_changes_with_a_few_calls(db: &TestDb) {
    let (sandbox, org, refresher) = setup(db, 10_000).await;
    let full = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(full.kind, RefreshKind::Full);
    let q_group = org
        .instance
        .assignments
        .iter()
        .find(|a| a.principal_type == sandbox::instance::PrincipalType::Group)
        .unwrap()
        .principal_id
        .clone();
    // A new seat holder (someone outside the group joins it) and one who leaves it, as SCIM
    // would write them after an IdP change; and a change a focused read must not see.
    let (joiner, leaver) = {
        let d = sandbox.state().directory.read().unwrap();
        let joiner = d
            .users()
            .find(|u| !d.is_member(&q_group, &u.user_id))
            .unwrap()
            .user_id
            .clone();
        let leaver = d.memberships_of_group(&q_group)[0].user_id.to_string();
        (joiner, leaver)
    };
    {
        let mut d = sandbox.state().directory.write().unwrap();
        let id = d.object_id([7; 16]);
        d.add_membership(&id, &q_group, &joiner).unwrap();
        assert!(d.remove_member(&q_group, &leaver));
        let other = d
            .groups()
            .find(|g| g.group_id != q_group)
            .unwrap()
            .group_id
            .clone();
        let id = d.object_id([8; 16]);
        let outsider = d
            .users()
            .find(|u| !d.is_member(&other, &u.user_id))
            .unwrap()
            .user_id
            .clone();
        d.add_membership(&id, &other, &outsider).unwrap();
    }
    let focused = refresher.refresh_focused(Utc::now).await.unwrap();
    assert_eq!(focused.kind, RefreshKind::Focused);
    assert_eq!(focused.outcome, Outcome::Applied);
    assert!(
        focused.calls * 5 < full.calls,
        "a focused read needs far fewer calls ({} against {})",
        focused.calls,
        full.calls
    );
    let current = db.store.current_snapshot().await.unwrap();
    let members: Vec<&str> = current
        .members_of(&q_group)
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    assert!(members.contains(&joiner.as_str()));
    assert!(!members.contains(&leaver.as_str()));
    // The other group's change waits for the next full refresh, which then brings it.
    let seeded = snapshot_of(&org.identity_center, assignments_of(&org.instance)).unwrap();
    assert_eq!(current.membership_count(), seeded.membership_count());
    let next = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(next.outcome, Outcome::Applied);
    assert_eq!(
        db.store
            .current_snapshot()
            .await
            .unwrap()
            .membership_count(),
        seeded.membership_count() + 1
    );
    let kinds: Vec<RefreshKind> = db
        .store
        .refreshes(3)
        .await
        .unwrap()
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds,
        [RefreshKind::Full, RefreshKind::Focused, RefreshKind::Full]
    );
}

/// The whole organisation with an IdP, and a refresher reading both sides.
async fn setup_with_idp(
    db: &TestDb,
    idp: IdpKind,
) -> (RunningSandbox, Organisation, Refresher<Reader>) {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let sandbox = RunningSandbox::start_organisation(
        org.clone(),
        SandboxConfig {
            idp,
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap();
    let reader = ic_reader(&sandbox, 1_000).await;
    let idp_reader = match (sandbox.entra(), sandbox.pingone()) {
        (Some(e), _) => IdpReader::Entra(
            EntraReader::new(EntraSettings {
                login_url: sandbox.login_base(),
                graph_url: sandbox.graph_base(),
                // Two attempts: the outage below fails fast.
                attempts: 2,
                ..EntraSettings::new(&e.state.tenant_id(), &e.app.client_id, &e.app.client_secret)
            })
            .unwrap(),
        ),
        (None, Some(p)) => IdpReader::PingOne(
            PingOneReader::new(PingOneSettings {
                auth_url: sandbox.pingone_auth_base(),
                api_url: sandbox.pingone_api_base(),
                attempts: 2,
                ..PingOneSettings::new(
                    &p.state.environment_id(),
                    &p.worker.client_id,
                    &p.worker.client_secret,
                )
            })
            .unwrap(),
        ),
        (None, None) => panic!("no IdP"),
    };
    let refresher =
        Refresher::new(db.store.clone(), reader, FuseLimit::default()).with_idp(idp_reader);
    (sandbox, org, refresher)
}

/// Every stored drift finding, in order.
async fn all_drift(db: &TestDb) -> Vec<Drift> {
    db.store
        .drift(None, 100_000, None)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.finding)
        .collect()
}

/// A full refresh reads the IdP's scope beside Identity Center and keeps the drift between
/// them: exactly what the domain finds between the seeded directory and the seeded scope, the
/// planted problems among it. An IdP outage is recorded and keeps the last scope and drift.
async fn drift_is_kept(db: &TestDb, idp: IdpKind) {
    let (sandbox, org, refresher) = setup_with_idp(db, idp).await;
    let expected_scope = match idp {
        IdpKind::Entra => scope_of(&org),
        IdpKind::PingOne => {
            pingone_scope_of(&sandbox.pingone().unwrap().state.environment().unwrap())
        }
    };
    // The sandbox's IdP provisions on its own clock; what Identity Center holds when read is
    // what the refresh compares, so the expectation is computed from the same directory.
    let refresh = refresher.refresh_once(Utc::now).await.unwrap();
    assert_eq!(refresh.outcome, Outcome::Applied);
    let current = db.store.current_snapshot().await.unwrap();
    let expected = domain::drift::drift(&current, &expected_scope);
    let stored = all_drift(db).await;
    assert_eq!(stored, expected);
    let reads = db.store.scope_reads(5).await.unwrap();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].outcome, ScopeOutcome::Read);
    assert_eq!(reads[0].refresh_id.as_deref(), Some(refresh.id.as_str()));
    assert_eq!(reads[0].drift, Some(expected.len() as u64));
    assert_eq!(reads[0].users, expected_scope.users.len() as u64);

    // The planted problems are among the findings, and findable by the object they name.
    let counts = db.store.drift_counts().await.unwrap();
    let count = |kind: &str| {
        counts
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    };
    assert!(count("orphan_user") >= org.planted.leavers_still_present.len() as u64);
    let leaver = &org.planted.leavers_still_present[0];
    assert!(
        db.store
            .drift_of_user(leaver)
            .await
            .unwrap()
            .iter()
            .any(|d| matches!(&d.finding, Drift::OrphanUser { user_id, .. } if user_id == leaver))
    );
    if idp == IdpKind::Entra {
        let refused = &org.planted.unprovisionable_people[0];
        assert!(
            stored
                .iter()
                .any(|d| matches!(d, Drift::MissingUser { idp_id, .. } if idp_id == refused))
        );
        let some = &expected_scope.users[0];
        assert_eq!(
            db.store.scope_user(&some.idp_id).await.unwrap().as_ref(),
            Some(some)
        );
    }
    let mismatches = db
        .store
        .drift(Some("user_mismatch"), 100_000, None)
        .await
        .unwrap();
    assert!(
        mismatches
            .iter()
            .all(|d| matches!(d.finding, Drift::UserMismatch { .. }))
    );

    // The IdP goes down: Identity Center still refreshes, the scope read is recorded as
    // failed with what failed, and the last scope and drift stay.
    let key = match idp {
        IdpKind::Entra => "graph",
        IdpKind::PingOne => sandbox::pingone::FAULT_KEY,
    };
    sandbox
        .faults()
        .set(
            key,
            FaultPlan {
                outage: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let refresh = refresher.refresh_once(Utc::now).await.unwrap();
    assert_ne!(refresh.outcome, Outcome::Failed);
    let reads = db.store.scope_reads(5).await.unwrap();
    assert_eq!(reads[0].outcome, ScopeOutcome::Failed);
    let detail = reads[0].detail.clone().unwrap();
    assert!(detail.contains("did not answer"), "{detail}");
    let kept = all_drift(db).await;
    assert_eq!(kept, stored);
}

async fn drift_is_kept_from_the_idps_scope_entra(db: &TestDb) {
    drift_is_kept(db, IdpKind::Entra).await;
}

async fn drift_is_kept_from_the_idps_scope_pingone(db: &TestDb) {
    drift_is_kept(db, IdpKind::PingOne).await;
}

async fn the_lease_is_renewed_while_a_long_refresh_runs(db: &TestDb) {
    // A slow read (five calls a second) outlives a two-second lease; renewal keeps it, so a
    // second replica cannot take over in the middle.
    let (_sandbox, _org, refresher) = setup(db, 5).await;
    let refresher = Arc::new(
        Arc::into_inner(refresher)
            .unwrap()
            .with_lease_ttl(chrono::Duration::seconds(2)),
    );
    let running = {
        let r = refresher.clone();
        tokio::spawn(async move { r.refresh_once(Utc::now).await })
    };
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let taken = db
        .store
        .try_lease(
            "identity_center.refresh",
            "other-replica",
            Utc::now(),
            chrono::Duration::minutes(30),
        )
        .await
        .unwrap();
    assert!(!taken, "the lease was renewed past its two seconds");
    assert!(refresher.cancel());
    let outcome = running.await.unwrap().unwrap();
    assert_eq!(outcome.outcome, Outcome::Cancelled);
}
