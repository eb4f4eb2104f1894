//! Search as you type answered from the in-memory index: the same rows, order and totals as the
//! database gives, on every page and order, and never an answer from a snapshot that was
//! replaced.

use chrono::{DateTime, TimeZone, Utc};
use domain::changes::diff;
use domain::snapshot::{Group, Snapshot, User};
use sandbox::expect::{assignments_of, snapshot_of};
use sandbox::seed::{Organisation, SeedSpec};
use store::testkit::TestDb;
use store::{UserQuery, UserSort};

use crate::browse::refresh;

store::backend_tests!(
    the_index_answers_what_the_database_answers,
    a_changed_snapshot_is_searched_as_it_now_is,
);

fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, day, 9, 0, 0).unwrap()
}

/// The demo organisation (300 people, hand-made users and case twins among them), stored.
async fn demo(db: &TestDb) -> Snapshot {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let seeded = snapshot_of(&org.identity_center, assignments_of(&org.instance)).unwrap();
    db.store
        .apply_initial(&refresh("r1", t(1), &seeded), &seeded)
        .await
        .unwrap();
    seeded
}

/// Prefixes a person types: the first letters of names and emails, whole values, and some
/// that match nothing or would be patterns in SQL.
fn typed(s: &Snapshot) -> Vec<String> {
    let mut typed: Vec<String> = vec!["a".into(), "%".into(), "_".into(), "ä".into(), "zzz".into()];
    for u in s.users().iter().step_by(37) {
        let email = u.email.clone().unwrap_or_default();
        for value in [&u.user_name, &u.display_name, &email] {
            for n in [1, 2, 3, 6] {
                typed.push(value.chars().take(n).collect());
            }
            typed.push(value.to_uppercase());
        }
    }
    typed.sort();
    typed.dedup();
    typed.retain(|t| !t.trim().is_empty());
    typed
}

/// Every order both ways, at the start, part-way and past the end.
fn queries(text: &str) -> Vec<UserQuery> {
    let mut queries = Vec::new();
    for sort in [
        UserSort::UserName,
        UserSort::DisplayName,
        UserSort::Email,
        UserSort::FirstSeen,
    ] {
        for descending in [false, true] {
            for (offset, limit) in [(0, 50), (7, 5), (40, 20), (1_000, 50)] {
                queries.push(UserQuery {
                    text: Some(text.into()),
                    sort,
                    descending,
                    offset,
                    limit,
                    ..UserQuery::default()
                });
            }
        }
    }
    queries
}

async fn answers_agree(db: &TestDb, texts: &[String]) -> u64 {
    let mut matched = 0;
    for text in texts {
        for q in queries(text) {
            let from_index = db.store.users(&q).await.unwrap();
            let from_database = db.store.users_from_database(&q).await.unwrap();
            assert_eq!(from_index, from_database, "{q:?}");
            matched += from_index.rows.len() as u64;
        }
    }
    matched
}

async fn the_index_answers_what_the_database_answers(db: &TestDb) {
    let seeded = demo(db).await;
    assert!(!db.store.search_index_is_current().await.unwrap());
    db.store.prepare_search().await.unwrap();
    assert!(db.store.search_index_is_current().await.unwrap());
    let texts = typed(&seeded);
    let matched = answers_agree(db, &texts).await;
    assert!(matched > 1_000, "the prefixes matched only {matched} rows");
    // "a" matches many users; the total counts each once, however many of their values match.
    let a = db
        .store
        .users(&UserQuery {
            text: Some("A".into()),
            limit: 50,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    let expected = seeded
        .users()
        .iter()
        .filter(|u| {
            [Some(&u.user_name), Some(&u.display_name), u.email.as_ref()]
                .into_iter()
                .flatten()
                .any(|v| v.to_lowercase().starts_with('a'))
        })
        .count();
    assert_eq!(a.total, expected as u64);
    assert_eq!(a.rows.len(), 50.min(expected));
    assert!(db.store.search_index_is_current().await.unwrap());
}

async fn a_changed_snapshot_is_searched_as_it_now_is(db: &TestDb) {
    let seeded = demo(db).await;
    db.store.prepare_search().await.unwrap();
    // Five leavers, and a joiner renamed into the place of the first of them.
    let gone = &seeded.users()[0];
    let mut users: Vec<User> = seeded.users()[5..].to_vec();
    users[0].user_name = format!("renamed-{}", gone.user_name);
    users[0].display_name = "Zebedee Renamed".into();
    let groups: Vec<Group> = seeded.groups().to_vec();
    let later = Snapshot::build(
        users,
        groups,
        seeded
            .memberships()
            .filter(|(_, u)| seeded.user_position(&u.id).unwrap() >= 5)
            .map(|(g, u)| (g.id.as_str(), u.id.as_str())),
        seeded.assignments().to_vec(),
    )
    .unwrap();
    db.store
        .apply_refresh(&refresh("r2", t(2), &later), &diff(&seeded, &later))
        .await
        .unwrap();
    // The index held is the replaced snapshot's: the next search must not use it.
    assert!(!db.store.search_index_is_current().await.unwrap());
    let search = |text: &str| {
        let store = db.store.clone();
        let q = UserQuery {
            text: Some(text.into()),
            limit: 50,
            ..UserQuery::default()
        };
        async move { store.users(&q).await.unwrap() }
    };
    let renamed = search("zebedee").await;
    assert_eq!(renamed.total, 1);
    assert_eq!(renamed.rows[0].display_name, "Zebedee Renamed");
    let left = search(&gone.user_name).await;
    assert!(left.rows.iter().all(|r| r.id != gone.id), "{left:?}");
    // Built again, it answers for the new snapshot, as the database does.
    db.store.prepare_search().await.unwrap();
    assert!(db.store.search_index_is_current().await.unwrap());
    assert_eq!(search("zebedee").await, renamed);
    answers_agree(db, &typed(&later)).await;
}
