//! The console's reads: figures, users and groups searched, filtered, sorted and paged, one
//! user's and one group's whole picture, seat holders with their paths and since when.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::changes::diff;
use domain::drift::drift;
use domain::scope::{IdpScope, ScopeGroup, ScopeUser};
use domain::snapshot::{Assignment, Group, PrincipalKind, Snapshot, User, UserStatus};
use store::testkit::TestDb;
use store::{
    GroupQuery, OriginFilter, Outcome, Refresh, RefreshKind, ScopeOutcome, ScopeRead, UserQuery,
    UserSort,
};

store::backend_tests!(
    figures_count_what_the_overview_shows,
    users_are_searched_filtered_sorted_and_paged,
    a_users_page_has_groups_seat_paths_and_drift,
    groups_and_seats_are_listed_with_members,
    seats_and_counts_follow_every_write,
    people_named_by_the_idp_or_the_configuration_are_found,
    users_first_seen_together_are_ordered_by_id_from_an_index,
    a_page_reads_one_snapshot_while_a_refresh_commits,
);

pub(crate) fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, day, 9, 0, 0).unwrap()
}

fn user(id: &str, name: &str, status: UserStatus, provisioned: bool) -> User {
    User {
        id: id.into(),
        user_name: format!("{name}@example.com"),
        display_name: format!("{} Example", name.to_uppercase()),
        given_name: name.into(),
        family_name: "Example".into(),
        email: Some(format!("{name}@Example.com")),
        status,
        external_id: provisioned.then(|| format!("idp-{id}")),
    }
}

/// ann and bob provisioned (bob disabled), cat made by hand, dan provisioned and assigned
/// directly; q-developers (assigned) holds ann and bob (and cat from day 2).
pub(crate) fn snapshot(cat_in_q: bool) -> Snapshot {
    let mut memberships = vec![("g-q", "u-ann"), ("g-q", "u-bob"), ("g-hand", "u-cat")];
    if cat_in_q {
        memberships.push(("g-q", "u-cat"));
    }
    Snapshot::build(
        vec![
            user("u-ann", "ann", UserStatus::Enabled, true),
            user("u-bob", "bob", UserStatus::Disabled, true),
            user("u-cat", "cat", UserStatus::Enabled, false),
            user("u-dan", "dan", UserStatus::Enabled, true),
        ],
        vec![
            Group {
                id: "g-q".into(),
                display_name: "q-developers".into(),
                external_id: Some("idp-g-q".into()),
            },
            Group {
                id: "g-hand".into(),
                display_name: "Made by hand".into(),
                external_id: None,
            },
        ],
        memberships,
        vec![
            Assignment {
                kind: PrincipalKind::Group,
                principal_id: "g-q".into(),
            },
            Assignment {
                kind: PrincipalKind::User,
                principal_id: "u-dan".into(),
            },
        ],
    )
    .unwrap()
}

/// The IdP's scope: ann (display name changed since), bob, dan; q-developers with ann, bob
/// and a member Identity Center lacks (eve, not provisioned yet).
fn scope() -> IdpScope {
    let u = |id: &str, name: &str, display: &str| ScopeUser {
        idp_id: format!("idp-{id}"),
        user_name: format!("{name}@example.com"),
        display_name: Some(display.into()),
        email: Some(format!("{name}@Example.com")),
        enabled: name != "bob",
    };
    IdpScope {
        users: vec![
            u("u-ann", "ann", "Ann Renamed"),
            u("u-bob", "bob", "BOB Example"),
            u("u-dan", "dan", "DAN Example"),
            u("u-eve", "eve", "EVE Example"),
        ],
        groups: vec![ScopeGroup {
            idp_id: "idp-g-q".into(),
            display_name: "q-developers".into(),
            // ann, bob, eve (positions among the users above)
            members: vec![0, 1, 3],
        }],
    }
}

/// An applied full refresh that read `s`, finished at `at`.
pub(crate) fn refresh(id: &str, at: DateTime<Utc>, s: &Snapshot) -> Refresh {
    Refresh {
        id: id.into(),
        kind: RefreshKind::Full,
        started_at: at - Duration::seconds(30),
        finished_at: at,
        outcome: Outcome::Applied,
        detail: None,
        calls: 12,
        throttles: 0,
        users: s.users().len() as u64,
        groups: s.groups().len() as u64,
        memberships: s.membership_count() as u64,
    }
}

/// Day 1: the first snapshot; day 2: cat joins q-developers; the scope read beside day 2.
pub(crate) async fn load(db: &TestDb) -> Snapshot {
    let (s1, s2) = (snapshot(false), snapshot(true));
    db.store
        .apply_initial(&refresh("r1", t(1), &s1), &s1)
        .await
        .unwrap();
    db.store
        .apply_refresh(&refresh("r2", t(2), &s2), &diff(&s1, &s2))
        .await
        .unwrap();
    let scope = scope();
    let found = drift(&s2, &scope);
    let read = ScopeRead {
        id: "read-2".into(),
        refresh_id: Some("r2".into()),
        idp: "Entra ID".into(),
        started_at: t(2) - Duration::seconds(20),
        finished_at: t(2),
        outcome: ScopeOutcome::Read,
        detail: None,
        users: 4,
        groups: 1,
        memberships: 3,
        drift: Some(found.len() as u64),
    };
    db.store
        .save_scope(&read, &scope, Some(&found))
        .await
        .unwrap();
    s2
}

fn names(rows: &[store::UserRow]) -> Vec<&str> {
    rows.iter().map(|r| r.user_name.as_str()).collect()
}

async fn figures_count_what_the_overview_shows(db: &TestDb) {
    let empty = db.store.figures().await.unwrap();
    assert_eq!((empty.users, empty.seat_holders, empty.drift), (0, 0, 0));
    assert_eq!(
        empty.scope_users, None,
        "no scope read yet: unknown, not zero"
    );
    assert!(empty.last_success.is_none() && empty.taken_at.is_none());

    let s2 = load(db).await;
    let f = db.store.figures().await.unwrap();
    assert_eq!((f.users, f.groups, f.memberships), (4, 2, 4));
    assert_eq!((f.scope_users, f.scope_groups), (Some(4), Some(1)));
    // ann, bob and cat through q-developers, dan directly: each once.
    assert_eq!(f.seat_holders, 4);
    assert_eq!((f.subscribed_groups, f.subscribed_users), (1, 1));
    assert_eq!(f.drift, drift(&s2, &scope()).len() as u64);
    assert!(f.drift > 0);
    assert_eq!(f.taken_at, Some(t(2)));
    assert_eq!(f.last_success.map(|r| r.id).as_deref(), Some("r2"));
    assert_eq!(f.last_scope_read.map(|r| r.id).as_deref(), Some("read-2"));
    assert_eq!(f.held, 0);
    assert_eq!(f.last_refresh.map(|r| r.id).as_deref(), Some("r2"));

    // History: newest first, each with what it changed.
    let history = db.store.refresh_history(10).await.unwrap();
    let ids: Vec<_> = history.iter().map(|h| h.refresh.id.as_str()).collect();
    assert_eq!(ids, ["r2", "r1"]);
    let day2 = history[0].changes.unwrap();
    assert!(!day2.initial);
    assert_eq!(
        (
            day2.users_added,
            day2.memberships_added,
            day2.memberships_removed
        ),
        (0, 1, 0),
        "cat joined q-developers"
    );
    assert!(history[1].changes.unwrap().initial);

    // A refresh that failed is the latest; the last success stays the one before it. A held one
    // is counted until an admin decides.
    let failed = Refresh {
        outcome: Outcome::Failed,
        detail: Some("throttled".into()),
        ..refresh("r3", t(3), &s2)
    };
    db.store.record_refresh(&failed).await.unwrap();
    let held = Refresh {
        outcome: Outcome::Held,
        ..refresh("r4", t(4), &s2)
    };
    db.store.hold_refresh(&held, &diff(&s2, &s2)).await.unwrap();
    let f = db.store.figures().await.unwrap();
    assert_eq!(f.last_refresh.map(|r| r.id).as_deref(), Some("r4"));
    assert_eq!(f.last_success.map(|r| r.id).as_deref(), Some("r2"));
    assert_eq!(f.held, 1);
    assert_eq!(f.users, 4, "neither changed the snapshot");
}

/// A page's reads (figures, counts, rows) come from one snapshot: a refresh committing between
/// two of them does not make the page disagree with itself; the next page sees it.
async fn a_page_reads_one_snapshot_while_a_refresh_commits(db: &TestDb) {
    load(db).await;
    let [first, second, after] = db
        .read_around_write(
            "SELECT value FROM figures WHERE name = 'users'",
            "UPDATE figures SET value = value + 10 WHERE name = 'users'",
        )
        .await
        .unwrap();
    assert_eq!(first, 4);
    assert_eq!(
        second, first,
        "the write committed mid-page is not seen by that page"
    );
    assert_eq!(after, first + 10, "the next page sees it");
}

async fn users_are_searched_filtered_sorted_and_paged(db: &TestDb) {
    load(db).await;
    let all = UserQuery {
        limit: 50,
        ..UserQuery::default()
    };
    let list = |q: UserQuery| {
        let store = db.store.clone();
        async move { store.users(&q).await.unwrap() }
    };
    let page = list(all.clone()).await;
    assert_eq!(page.total, 4);
    assert_eq!(
        names(&page.rows),
        [
            "ann@example.com",
            "bob@example.com",
            "cat@example.com",
            "dan@example.com"
        ]
    );
    // A prefix of the user name, display name or email, in any case.
    for (text, expect) in [
        ("AN", vec!["ann@example.com"]),
        ("dan ex", vec!["dan@example.com"]),
        ("cat@EXAMPLE", vec!["cat@example.com"]),
        ("example", vec![]),
        ("%", vec![]),
        ("_", vec![]),
        ("  bob ", vec!["bob@example.com"]),
        ("ä", vec![]),
    ] {
        let page = list(UserQuery {
            text: Some(text.into()),
            ..all.clone()
        })
        .await;
        assert_eq!(names(&page.rows), expect, "search {text:?}");
        assert_eq!(page.total, expect.len() as u64);
    }
    let only = |q: UserQuery| async move { names(&list(q).await.rows).join(" ") };
    assert_eq!(
        only(UserQuery {
            origin: Some(OriginFilter::HandMade),
            ..all.clone()
        })
        .await,
        "cat@example.com"
    );
    assert_eq!(
        only(UserQuery {
            enabled: Some(false),
            ..all.clone()
        })
        .await,
        "bob@example.com"
    );
    assert_eq!(
        only(UserQuery {
            has_seat: Some(true),
            origin: Some(OriginFilter::Provisioned),
            ..all.clone()
        })
        .await,
        "ann@example.com bob@example.com dan@example.com"
    );
    // ann's display name differs in the IdP; cat is hand-made (an orphan); bob's status.
    let drifting = list(UserQuery {
        has_drift: Some(true),
        ..all.clone()
    })
    .await;
    assert!(drifting.rows.iter().all(|r| r.drift > 0));
    assert!(names(&drifting.rows).contains(&"ann@example.com"));
    assert!(!names(&drifting.rows).contains(&"dan@example.com"));
    let calm = list(UserQuery {
        has_drift: Some(false),
        ..all.clone()
    })
    .await;
    assert_eq!(drifting.total + calm.total, 4);

    let page = list(UserQuery {
        sort: UserSort::DisplayName,
        descending: true,
        offset: 1,
        limit: 2,
        ..all.clone()
    })
    .await;
    assert_eq!(page.total, 4);
    assert_eq!(names(&page.rows), ["cat@example.com", "bob@example.com"]);
    let seat_of = |rows: &[store::UserRow], name: &str| {
        rows.iter()
            .find(|r| r.user_name == name)
            .map(|r| (r.seat, r.enabled, r.external_id.is_some()))
    };
    let page = list(all.clone()).await;
    assert_eq!(
        seat_of(&page.rows, "bob@example.com"),
        Some((true, false, true))
    );
    assert_eq!(
        seat_of(&page.rows, "cat@example.com"),
        Some((true, true, false))
    );
}

async fn a_users_page_has_groups_seat_paths_and_drift(db: &TestDb) {
    load(db).await;
    assert_eq!(db.store.user_detail("u-nobody").await.unwrap(), None);

    let cat = db.store.user_detail("u-cat").await.unwrap().unwrap();
    assert_eq!(cat.user.external_id, None, "made by hand");
    assert_eq!(cat.idp, None);
    let groups: Vec<_> = cat
        .groups
        .iter()
        .map(|g| (g.display_name.as_str(), g.since, g.assigned_since))
        .collect();
    assert_eq!(
        groups,
        [
            ("Made by hand", t(1), None),
            ("q-developers", t(2), Some(t(1)))
        ]
    );
    // The seat through q-developers dates from when cat joined it, not from the assignment.
    assert_eq!(cat.seat_paths.len(), 1);
    assert_eq!(
        cat.seat_paths[0].via,
        Some(("g-q".to_string(), "q-developers".to_string()))
    );
    assert_eq!(cat.seat_paths[0].since, t(2));
    assert!(
        cat.drift.iter().any(|d| d.finding.kind() == "orphan_user"),
        "{:?}",
        cat.drift
    );

    let ann = db.store.user_detail("u-ann").await.unwrap().unwrap();
    assert_eq!(
        ann.idp.as_ref().and_then(|i| i.display_name.as_deref()),
        Some("Ann Renamed")
    );
    assert_eq!(ann.user.display_name, "ANN Example");
    assert!(
        ann.drift
            .iter()
            .any(|d| d.finding.kind() == "user_mismatch")
    );

    let dan = db.store.user_detail("u-dan").await.unwrap().unwrap();
    assert_eq!(dan.seat_paths.len(), 1);
    assert_eq!(dan.seat_paths[0].via, None, "assigned directly");
    assert_eq!(dan.seat_paths[0].since, t(1));
    assert!(dan.user.seat);
}

async fn groups_and_seats_are_listed_with_members(db: &TestDb) {
    load(db).await;
    let all = GroupQuery {
        limit: 50,
        ..GroupQuery::default()
    };
    let page = db.store.groups(&all).await.unwrap();
    assert_eq!(page.total, 2);
    let rows: Vec<_> = page
        .rows
        .iter()
        .map(|g| (g.display_name.as_str(), g.members, g.assigned_since))
        .collect();
    assert_eq!(
        rows,
        [("Made by hand", 1, None), ("q-developers", 3, Some(t(1)))]
    );
    let q = db
        .store
        .groups(&GroupQuery {
            text: Some("Q-".into()),
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(q.total, 1);
    let hand = db
        .store
        .groups(&GroupQuery {
            assigned: Some(false),
            origin: Some(OriginFilter::HandMade),
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(hand.rows.len(), 1);
    assert_eq!(hand.rows[0].id, "g-hand");

    let detail = db.store.group_detail("g-q", 0, 2).await.unwrap().unwrap();
    assert_eq!(detail.idp, Some(("q-developers".to_string(), 3)));
    assert_eq!(detail.group.members, 3);
    let members: Vec<_> = detail
        .members
        .iter()
        .map(|(u, since)| (u.user_name.as_str(), *since))
        .collect();
    assert_eq!(
        members,
        [("ann@example.com", t(1)), ("bob@example.com", t(1))],
        "the first page of members, by user name"
    );
    let rest = db.store.group_detail("g-q", 2, 2).await.unwrap().unwrap();
    let rest: Vec<_> = rest
        .members
        .iter()
        .map(|(u, _)| u.user_name.as_str())
        .collect();
    assert_eq!(
        rest.len(),
        1,
        "the second page holds the third member: {rest:?}"
    );
    assert!(!members.iter().any(|(n, _)| *n == rest[0]));
    // Pages of one member: the first (and, with few users, more) are read by walking the users
    // in name order, a whole page by sorting the members (`group_detail` picks by size); both
    // give the same members in the same order.
    let whole: Vec<String> = db
        .store
        .group_detail("g-q", 0, 50)
        .await
        .unwrap()
        .unwrap()
        .members
        .into_iter()
        .map(|(u, _)| u.id)
        .collect();
    let mut one_by_one = Vec::new();
    for offset in 0..4 {
        let page = db
            .store
            .group_detail("g-q", offset, 1)
            .await
            .unwrap()
            .unwrap();
        one_by_one.extend(page.members.into_iter().map(|(u, _)| u.id));
    }
    assert_eq!(one_by_one, whole);
    let kinds: Vec<_> = detail.drift.iter().map(|d| d.finding.kind()).collect();
    assert_eq!(kinds, ["extra_membership"]);
    assert_eq!(db.store.group_detail("g-gone", 0, 10).await.unwrap(), None);

    let subscribed = db.store.subscribed().await.unwrap();
    let rows: Vec<_> = subscribed
        .iter()
        .map(|s| (s.kind.as_str(), s.name.as_deref(), s.members))
        .collect();
    assert_eq!(
        rows,
        [
            ("GROUP", Some("q-developers"), 3),
            ("USER", Some("dan@example.com"), 0)
        ]
    );

    let drift = db.store.drift_rows(None, 100, None).await.unwrap();
    assert!(!drift.is_empty());
    let mismatch = drift
        .iter()
        .find(|d| d.drift.finding.kind() == "user_mismatch")
        .unwrap();
    assert_eq!(mismatch.user_name.as_deref(), Some("ann@example.com"));
    // cat is in q-developers in Identity Center only.
    let extra = db
        .store
        .drift_rows(Some("extra_membership"), 100, None)
        .await
        .unwrap();
    assert_eq!(extra.len(), 1, "{extra:?}");
    assert_eq!(extra[0].group_name.as_deref(), Some("q-developers"));
    assert_eq!(extra[0].user_name.as_deref(), Some("cat@example.com"));

    // The Drift page's reads together: the counts of every kind, the page asked for, and when
    // the scope the findings come from was read.
    let page = db
        .store
        .drift_page(Some("extra_membership"), 100, None)
        .await
        .unwrap();
    assert_eq!(page.rows, extra);
    assert_eq!(page.counts, db.store.drift_counts().await.unwrap());
    let read_at = db
        .store
        .scope_reads(10)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.outcome == ScopeOutcome::Read)
        .map(|r| r.finished_at);
    assert!(read_at.is_some(), "the scope was read");
    assert_eq!(page.read_at, read_at);

    // The Seats page's reads together: the subscriptions, a page of holders and their paths.
    let seats = db.store.seats_page(1, 2).await.unwrap();
    assert_eq!(seats.subscribed, subscribed);
    let holders = db
        .store
        .users(&UserQuery {
            has_seat: Some(true),
            offset: 1,
            limit: 2,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(holders.rows.len(), 2, "{holders:?}");
    assert_eq!(seats.holders, holders);
    assert_eq!(
        seats.holders.total,
        db.store.figures().await.unwrap().seat_holders
    );
    let ids: Vec<String> = holders.rows.iter().map(|u| u.id.clone()).collect();
    let paths = db.store.seat_paths(&ids).await.unwrap();
    assert!(!paths.is_empty());
    assert_eq!(seats.paths, paths);
}

/// The snapshot without q-developers' assignment: only dan (assigned directly) keeps a seat.
pub(crate) fn unassigned(s: &Snapshot) -> Snapshot {
    let pairs: Vec<(&str, &str)> = s
        .membership_positions()
        .iter()
        .map(|&(g, u)| {
            (
                s.groups()[g as usize].id.as_str(),
                s.users()[u as usize].id.as_str(),
            )
        })
        .collect();
    Snapshot::build(
        s.users().to_vec(),
        s.groups().to_vec(),
        pairs,
        s.assignments()
            .iter()
            .filter(|a| a.kind == PrincipalKind::User)
            .cloned()
            .collect(),
    )
    .unwrap()
}

async fn seat_holders(db: &TestDb) -> Vec<String> {
    let page = db
        .store
        .users(&UserQuery {
            has_seat: Some(true),
            limit: 10,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, page.rows.len() as u64);
    page.rows.into_iter().map(|u| u.user_name).collect()
}

/// Seats and the overview's counts are kept by the writes, not counted by the pages: a refresh
/// that removes an assignment takes the seats away, a held refresh changes nothing until it is
/// confirmed, and a new scope read recounts the scope and drift.
async fn seats_and_counts_follow_every_write(db: &TestDb) {
    let s2 = load(db).await;
    assert_eq!(seat_holders(db).await.len(), 4);

    let s3 = unassigned(&s2);
    db.store
        .apply_refresh(&refresh("r3", t(3), &s3), &diff(&s2, &s3))
        .await
        .unwrap();
    assert_eq!(seat_holders(db).await, ["dan@example.com"]);
    let without = db
        .store
        .users(&UserQuery {
            has_seat: Some(false),
            limit: 10,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (without.total, names(&without.rows).len()),
        (3, 3),
        "the users without a seat, counted from the kept figures"
    );
    let f = db.store.figures().await.unwrap();
    assert_eq!((f.seat_holders, f.subscribed_groups), (1, 0));
    let ann = db.store.user_detail("u-ann").await.unwrap().unwrap();
    assert!(!ann.user.seat && ann.seat_paths.is_empty());
    let q = db.store.group_detail("g-q", 0, 10).await.unwrap().unwrap();
    assert!(q.members.iter().all(|(u, _)| !u.seat));

    // Held: nothing changes until an admin confirms.
    let mut held = refresh("r4", t(4), &s2);
    held.outcome = Outcome::Held;
    db.store.hold_refresh(&held, &diff(&s3, &s2)).await.unwrap();
    assert_eq!(db.store.figures().await.unwrap().seat_holders, 1);
    db.store.confirm_held("r4", t(4)).await.unwrap();
    assert_eq!(seat_holders(db).await.len(), 4);
    let f = db.store.figures().await.unwrap();
    assert_eq!((f.seat_holders, f.subscribed_groups, f.users), (4, 1, 4));

    // A smaller scope read: its counts replace the previous ones.
    let mut scope = scope();
    scope.users.truncate(2);
    let found = drift(&s2, &scope);
    let read = ScopeRead {
        id: "read-5".into(),
        refresh_id: None,
        idp: "Entra ID".into(),
        started_at: t(5) - Duration::seconds(20),
        finished_at: t(5),
        outcome: ScopeOutcome::Read,
        detail: None,
        users: 2,
        groups: 1,
        memberships: 3,
        drift: Some(found.len() as u64),
    };
    db.store
        .save_scope(&read, &scope, Some(&found))
        .await
        .unwrap();
    let f = db.store.figures().await.unwrap();
    assert_eq!((f.scope_users, f.scope_groups), (Some(2), Some(1)));
    assert_eq!(f.drift, found.len() as u64);
}

async fn people_named_by_the_idp_or_the_configuration_are_found(db: &TestDb) {
    load(db).await;
    assert_eq!(
        db.store.group_name_and_external_id("g-q").await.unwrap(),
        Some(("q-developers".to_string(), Some("idp-g-q".to_string())))
    );
    assert_eq!(
        db.store.group_name_and_external_id("g-hand").await.unwrap(),
        Some(("Made by hand".to_string(), None))
    );
    assert_eq!(
        db.store.group_name_and_external_id("g-none").await.unwrap(),
        None
    );
    // By external id (ann), by user name in another case (cat, made by hand), by email (dan);
    // names that match nobody are no rows.
    let found = db
        .store
        .users_named(
            &["idp-u-ann".into(), "idp-nobody".into()],
            &[
                "CAT@example.com".into(),
                "dan@EXAMPLE.com".into(),
                "eve@example.com".into(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        names(&found),
        ["ann@example.com", "cat@example.com", "dan@example.com"]
    );
    assert!(db.store.users_named(&[], &[]).await.unwrap().is_empty());
}

/// Every user of a refresh shares its first-seen moment, so sorting by it orders them by id,
/// the same way, page after page. Each sort (seat holders alone or not) reads its page from
/// an index that carries the id: at 100,000 users sorting the ties per page took 70 ms.
async fn users_first_seen_together_are_ordered_by_id_from_an_index(db: &TestDb) {
    let s = Snapshot::build(
        vec![
            user("u-3", "ann", UserStatus::Enabled, true),
            user("u-1", "bob", UserStatus::Enabled, true),
            user("u-2", "cat", UserStatus::Enabled, false),
        ],
        vec![],
        vec![],
        vec![],
    )
    .unwrap();
    db.store
        .apply_initial(&refresh("r1", t(1), &s), &s)
        .await
        .unwrap();
    let by_seen = |descending: bool, offset: u64, limit: u32| UserQuery {
        sort: UserSort::FirstSeen,
        descending,
        offset,
        limit,
        ..UserQuery::default()
    };
    let names_of = |q: UserQuery| {
        let store = db.store.clone();
        async move {
            let rows = store.users(&q).await.unwrap().rows;
            rows.into_iter().map(|r| r.user_name).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names_of(by_seen(false, 0, 50)).await,
        ["bob@example.com", "cat@example.com", "ann@example.com"]
    );
    assert_eq!(
        names_of(by_seen(true, 0, 50)).await,
        ["ann@example.com", "cat@example.com", "bob@example.com"]
    );
    assert_eq!(names_of(by_seen(false, 1, 1)).await, ["cat@example.com"]);
    assert_eq!(names_of(by_seen(true, 2, 1)).await, ["bob@example.com"]);

    for sort in [
        UserSort::UserName,
        UserSort::DisplayName,
        UserSort::Email,
        UserSort::FirstSeen,
    ] {
        for has_seat in [None, Some(true), Some(false)] {
            for descending in [false, true] {
                let q = UserQuery {
                    sort,
                    has_seat,
                    descending,
                    limit: 50,
                    ..UserQuery::default()
                };
                let Some(plan) = db.store.user_page_plan(&q).await.unwrap() else {
                    return; // PostgreSQL plans by its statistics, not by the schema alone
                };
                assert!(
                    plan.iter().any(|step| step.contains("USING INDEX"))
                        && !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                    "{sort:?} (seat {has_seat:?}, descending {descending}) sorts instead of walking an index: {plan:?}"
                );
            }
        }
    }
}
