//! Identity Center snapshots and their history: refreshes applied atomically, the snapshot at
//! any time since the first, held refreshes confirmed or discarded, failures that change nothing.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::changes::{Changes, diff};
use domain::snapshot::{Assignment, Group, PrincipalKind, Snapshot, User, UserStatus};
use domain::timeline::{Event, ObjectKind};
use sandbox::expect::{assignments_of, snapshot_of};
use sandbox::seed::{Organisation, SeedSpec};
use store::testkit::TestDb;
use store::{Outcome, Refresh, RefreshKind, StoreError};

store::backend_tests!(
    refreshes_build_history_and_the_past_can_be_read_back,
    a_failed_apply_changes_nothing,
    held_refreshes_wait_for_an_admin,
    a_hold_that_no_longer_fits_cannot_be_confirmed,
    the_demo_organisation_round_trips,
    each_user_and_group_keeps_its_own_history,
);

fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap()
}

fn user(id: &str, status: UserStatus) -> User {
    User {
        id: id.into(),
        user_name: format!("{id}@example.com"),
        display_name: id.to_uppercase(),
        given_name: "Given".into(),
        family_name: "Family".into(),
        email: Some(format!("{id}@Example.com")),
        status,
        external_id: Some(format!("idp-{id}")),
    }
}

fn snapshot(users: &[&str], memberships: &[(&str, &str)], disabled: &[&str]) -> Snapshot {
    Snapshot::build(
        users
            .iter()
            .map(|u| {
                let status = if disabled.contains(u) {
                    UserStatus::Disabled
                } else {
                    UserStatus::Enabled
                };
                user(u, status)
            })
            .collect(),
        vec![
            Group {
                id: "g-q".into(),
                display_name: "q-developers".into(),
                external_id: Some("idp-g-q".into()),
            },
            Group {
                id: "g-hand".into(),
                display_name: "made by hand".into(),
                external_id: None,
            },
        ],
        memberships.iter().copied(),
        vec![Assignment {
            kind: PrincipalKind::Group,
            principal_id: "g-q".into(),
        }],
    )
    .unwrap()
}

fn refresh(id: &str, at: DateTime<Utc>, outcome: Outcome, s: &Snapshot) -> Refresh {
    Refresh {
        id: id.into(),
        kind: RefreshKind::Full,
        started_at: at - Duration::seconds(30),
        finished_at: at,
        outcome,
        detail: None,
        calls: 40,
        throttles: 1,
        users: s.users().len() as u64,
        groups: s.groups().len() as u64,
        memberships: s.membership_count() as u64,
    }
}

/// Ann and Bob, Ann in the Q group; then Cat joins, Ann is disabled and leaves the group for
/// Bob and Cat; then Ann leaves and Bob leaves the group.
fn three_snapshots() -> [Snapshot; 3] {
    [
        snapshot(&["ann", "bob"], &[("g-q", "ann")], &[]),
        snapshot(
            &["ann", "bob", "cat"],
            &[("g-q", "bob"), ("g-q", "cat")],
            &["ann"],
        ),
        snapshot(&["bob", "cat"], &[("g-q", "cat")], &[]),
    ]
}

async fn refreshes_build_history_and_the_past_can_be_read_back(db: &TestDb) {
    let s = &db.store;
    assert_eq!(s.current_snapshot().await.unwrap(), Snapshot::default());
    assert_eq!(s.current_taken_at().await.unwrap(), None);

    let [s1, s2, s3] = three_snapshots();
    s.apply_initial(&refresh("r1", t(1), Outcome::Applied, &s1), &s1)
        .await
        .unwrap();
    s.apply_refresh(&refresh("r2", t(2), Outcome::Applied, &s2), &diff(&s1, &s2))
        .await
        .unwrap();
    s.apply_refresh(&refresh("r3", t(3), Outcome::Applied, &s3), &diff(&s2, &s3))
        .await
        .unwrap();

    assert_eq!(s.current_snapshot().await.unwrap(), s3);
    assert_eq!(s.current_taken_at().await.unwrap(), Some(t(3)));
    assert_eq!(
        s.snapshot_at(t(1) - Duration::hours(1)).await.unwrap(),
        None
    );
    assert_eq!(s.snapshot_at(t(1)).await.unwrap(), Some(s1.clone()));
    assert_eq!(
        s.snapshot_at(t(2) - Duration::minutes(1)).await.unwrap(),
        Some(s1)
    );
    assert_eq!(s.snapshot_at(t(2)).await.unwrap(), Some(s2));
    assert_eq!(s.snapshot_at(t(9)).await.unwrap(), Some(s3));

    let listed = s.refreshes(10).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r3", "r2", "r1"], "newest first");
    assert_eq!(listed[0].outcome, Outcome::Applied);
    assert_eq!(listed[0].calls, 40);
}

async fn a_failed_apply_changes_nothing(db: &TestDb) {
    let s = &db.store;
    let s1 = snapshot(&["ann", "bob"], &[("g-q", "ann")], &[]);
    s.apply_initial(&refresh("r1", t(1), Outcome::Applied, &s1), &s1)
        .await
        .unwrap();
    // Changes that do not fit the stored snapshot (adding a user who is there already) fail
    // part-way through; the transaction leaves everything as it was.
    let bad = Changes {
        memberships_removed: vec![("g-q".into(), "ann".into())],
        users_added: vec![user("ann", UserStatus::Enabled)],
        ..Changes::default()
    };
    let err = s
        .apply_refresh(&refresh("r2", t(2), Outcome::Applied, &s1), &bad)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "{err:?}");
    assert_eq!(s.current_snapshot().await.unwrap(), s1);
    assert_eq!(
        s.refreshes(10).await.unwrap().len(),
        1,
        "no refresh row either"
    );
    assert_eq!(s.current_taken_at().await.unwrap(), Some(t(1)));

    // A second "first" refresh over the stored snapshot is refused and changes nothing.
    let s2 = snapshot(&["cat"], &[], &[]);
    let err = s
        .apply_initial(&refresh("r2b", t(2), Outcome::Applied, &s2), &s2)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(s.current_snapshot().await.unwrap(), s1);

    // A read that failed is recorded with what failed, and changes nothing.
    let mut failed = refresh("r3", t(3), Outcome::Failed, &Snapshot::default());
    failed.detail = Some("ListGroupMemberships failed: service error".into());
    s.record_refresh(&failed).await.unwrap();
    let latest = &s.refreshes(1).await.unwrap()[0];
    assert_eq!(latest.outcome, Outcome::Failed);
    assert_eq!(
        latest.detail.as_deref(),
        Some("ListGroupMemberships failed: service error")
    );
    assert_eq!(s.current_snapshot().await.unwrap(), s1);
}

async fn held_refreshes_wait_for_an_admin(db: &TestDb) {
    let s = &db.store;
    let s1 = snapshot(
        &["ann", "bob", "cat"],
        &[("g-q", "ann"), ("g-q", "bob")],
        &[],
    );
    let s2 = snapshot(&["cat"], &[], &[]);
    s.apply_initial(&refresh("r1", t(1), Outcome::Applied, &s1), &s1)
        .await
        .unwrap();
    let mut held = refresh("r2", t(2), Outcome::Held, &s2);
    held.detail = Some("users: 2 of 3 would be removed (limit 10 %)".into());
    s.hold_refresh(&held, &diff(&s1, &s2)).await.unwrap();
    assert_eq!(
        s.current_snapshot().await.unwrap(),
        s1,
        "the last good snapshot stays"
    );
    assert_eq!(s.refreshes(1).await.unwrap()[0].outcome, Outcome::Held);

    s.confirm_held("r2", t(2) + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(s.current_snapshot().await.unwrap(), s2);
    assert_eq!(s.refreshes(1).await.unwrap()[0].outcome, Outcome::Confirmed);
    assert_eq!(
        s.snapshot_at(t(2)).await.unwrap(),
        Some(s1),
        "confirmed later than taken"
    );
    assert!(matches!(
        s.confirm_held("r2", t(3)).await,
        Err(StoreError::NotHeld(_))
    ));
    assert!(matches!(
        s.discard_held("r2").await,
        Err(StoreError::NotHeld(_))
    ));
}

async fn a_hold_that_no_longer_fits_cannot_be_confirmed(db: &TestDb) {
    let s = &db.store;
    let s1 = snapshot(&["ann", "bob"], &[("g-q", "ann")], &[]);
    let s2 = snapshot(&[], &[], &[]);
    let s3 = snapshot(&["ann", "bob", "dan"], &[("g-q", "ann")], &[]);
    s.apply_initial(&refresh("r1", t(1), Outcome::Applied, &s1), &s1)
        .await
        .unwrap();
    s.hold_refresh(&refresh("r2", t(2), Outcome::Held, &s2), &diff(&s1, &s2))
        .await
        .unwrap();
    s.apply_refresh(&refresh("r3", t(3), Outcome::Applied, &s3), &diff(&s1, &s3))
        .await
        .unwrap();
    let err = s.confirm_held("r2", t(4)).await.unwrap_err();
    assert!(matches!(err, StoreError::HeldIsStale(_)), "{err:?}");
    assert!(err.to_string().contains("discard it and refresh again"));
    assert_eq!(s.current_snapshot().await.unwrap(), s3);
    s.discard_held("r2").await.unwrap();
    let outcomes: Vec<Outcome> = s
        .refreshes(5)
        .await
        .unwrap()
        .iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Discarded, Outcome::Applied]
    );
}

async fn the_demo_organisation_round_trips(db: &TestDb) {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let seeded = snapshot_of(&org.identity_center, assignments_of(&org.instance)).unwrap();
    db.store
        .apply_initial(&refresh("r1", t(1), Outcome::Applied, &seeded), &seeded)
        .await
        .unwrap();
    assert_eq!(db.store.current_snapshot().await.unwrap(), seeded);

    // The next read, streamed against the stored rows, finds what the in-memory diff finds:
    // five leavers, a renamed user, a group gone, the first group's members gone.
    let mut users: Vec<User> = seeded.users()[5..].to_vec();
    users[0].display_name = "Renamed by hand".into();
    let groups: Vec<Group> = seeded.groups()[1..].to_vec();
    let later = Snapshot::build(
        users,
        groups,
        seeded
            .memberships()
            .filter(|(g, u)| {
                g.id != seeded.groups()[0].id && seeded.user_position(&u.id).unwrap() >= 5
            })
            .map(|(g, u)| (g.id.as_str(), u.id.as_str())),
        seeded.assignments().to_vec(),
    )
    .unwrap();
    let expected = diff(&seeded, &later);
    assert_eq!(expected.users_removed.len(), 5);
    assert_eq!(expected.users_changed.len(), 1);
    assert_eq!(expected.groups_removed.len(), 1);
    assert!(!expected.memberships_removed.is_empty());
    let (streamed, sizes) = db.store.diff_with_current(&later).await.unwrap();
    assert_eq!(streamed, expected);
    assert_eq!(sizes, seeded.sizes());
    assert!(
        db.store
            .diff_with_current(&seeded)
            .await
            .unwrap()
            .0
            .is_empty()
    );
}

async fn each_user_and_group_keeps_its_own_history(db: &TestDb) {
    let s = &db.store;
    let [s1, s2, s3] = three_snapshots();
    s.apply_initial(&refresh("r1", t(1), Outcome::Applied, &s1), &s1)
        .await
        .unwrap();
    s.apply_refresh(&refresh("r2", t(2), Outcome::Applied, &s2), &diff(&s1, &s2))
        .await
        .unwrap();
    // The third arrives through the fuse: held, then confirmed by an admin.
    s.hold_refresh(&refresh("r3", t(3), Outcome::Held, &s3), &diff(&s2, &s3))
        .await
        .unwrap();
    s.confirm_held("r3", t(4)).await.unwrap();

    let history = |kind, id: &'static str| async move {
        s.object_history(kind, id, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.taken_at, c.events))
            .collect::<Vec<_>>()
    };
    let joined = Event::JoinedGroup {
        group_id: "g-q".into(),
    };
    let left = Event::LeftGroup {
        group_id: "g-q".into(),
    };
    assert_eq!(
        history(ObjectKind::User, "ann").await,
        [
            (t(4), vec![Event::Removed]),
            (
                t(2),
                vec![
                    Event::Changed {
                        field: "status".into(),
                        before: "enabled".into(),
                        after: "disabled".into(),
                    },
                    left.clone(),
                ]
            ),
        ],
        "newest first; the first snapshot is not a change"
    );
    assert_eq!(
        history(ObjectKind::User, "bob").await,
        [(t(4), vec![left.clone()]), (t(2), vec![joined.clone()])]
    );
    assert_eq!(
        history(ObjectKind::User, "cat").await,
        [(t(2), vec![Event::Added, joined])]
    );
    assert_eq!(
        history(ObjectKind::Group, "g-q").await,
        [
            (t(4), vec![Event::MembersRemoved { count: 1 }]),
            (
                t(2),
                vec![
                    Event::MembersAdded { count: 2 },
                    Event::MembersRemoved { count: 1 }
                ]
            ),
        ]
    );
    assert!(history(ObjectKind::Group, "g-hand").await.is_empty());
    assert!(
        history(ObjectKind::Group, "ann").await.is_empty(),
        "a user's id is not a group's"
    );
    assert_eq!(
        s.object_history(ObjectKind::User, "ann", 1)
            .await
            .unwrap()
            .len(),
        1
    );

    let names = s
        .group_names(&["g-q".to_string(), "gone".to_string()])
        .await
        .unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(names["g-q"], "q-developers");

    // History written before the split existed (migration 0009) is split at the next migrate,
    // once: a second migrate finds nothing to do.
    let before = history(ObjectKind::User, "ann").await;
    assert_eq!(
        db.execute("DELETE FROM ic_object_changes").await.unwrap(),
        7
    );
    assert!(history(ObjectKind::User, "ann").await.is_empty());
    s.migrate().await.unwrap();
    assert_eq!(history(ObjectKind::User, "ann").await, before);
    assert_eq!(history(ObjectKind::Group, "g-q").await.len(), 2);
    s.migrate().await.unwrap();
    assert_eq!(
        history(ObjectKind::User, "bob").await.len(),
        2,
        "not split twice"
    );
}
