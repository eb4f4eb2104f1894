//! Search as you type over the current snapshot's users, answered from memory.
//!
//! Three letters of a common first name match thousands of users in each of the three searched
//! columns (user name, display name, email), and the page wants the first 50 of them in the
//! list's order: the database reads and sorts every match on every keystroke (5 ms of the
//! search page's 6.6 at 100,000 users). This index holds every searched value once, sorted
//! bytewise, and each user's place in each of the list's orders, so a page is a binary search,
//! one pass over the matches and a read of the page's rows by id.
//!
//! The places come from the database's own `ORDER BY` (collation and NULLs included), so a
//! search pages exactly as the database would. An index belongs to one snapshot generation:
//! every write of the snapshot counts itself in `figures.snapshot_generation`, in its own
//! transaction (`figures.rs`). A search whose generation is not the index's answers from the
//! database while one new index is built in the background.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::lists::{UserSort, sort_column};
use crate::{Conn, Store, StoreError};

/// The list's orders, each with its place in [`UserIndex::orders`].
const SORTS: [UserSort; 4] = [
    UserSort::UserName,
    UserSort::DisplayName,
    UserSort::Email,
    UserSort::FirstSeen,
];

fn sort_slot(sort: UserSort) -> usize {
    match sort {
        UserSort::UserName => 0,
        UserSort::DisplayName => 1,
        UserSort::Email => 2,
        UserSort::FirstSeen => 3,
    }
}

/// One searched value: `text[start..end]`, held by `user`.
#[derive(Debug, Clone, Copy)]
struct Key {
    start: u32,
    end: u32,
    user: u32,
}

/// One of the list's orders: each user's place in it, and who is at each place.
#[derive(Debug, Default)]
struct Order {
    place: Vec<u32>,
    user: Vec<u32>,
}

/// One user as the index is built from: id and the lower-cased searched values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Searched {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub email: Option<String>,
}

/// Every user's searched values and places, for one snapshot generation.
#[derive(Debug)]
pub(crate) struct UserIndex {
    generation: i64,
    ids: Vec<Box<str>>,
    /// Every key's text, one after another.
    text: String,
    /// Sorted by their text (bytewise).
    keys: Vec<Key>,
    orders: [Order; 4],
}

/// A page of ids in the list's order, and how many users match in all.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Hits<'i> {
    pub ids: Vec<&'i str>,
    pub total: u64,
}

impl UserIndex {
    /// The index of `users`, each listed once; `orders` holds, for each of [`SORTS`], every
    /// user's id in that order (ascending, as the database sorts it).
    pub(crate) fn new(
        generation: i64,
        users: Vec<Searched>,
        orders: [Vec<String>; 4],
    ) -> Result<Self, String> {
        let too_many = || format!("{} users are more than the index holds", users.len());
        let count = u32::try_from(users.len()).map_err(|_| too_many())?;
        let mut text = String::new();
        let mut keys = Vec::with_capacity(users.len() * 2);
        let mut ids = Vec::with_capacity(users.len());
        for (user, u) in (0..count).zip(&users) {
            let mut held: Vec<&str> = [
                Some(u.user_name.as_str()),
                Some(u.display_name.as_str()),
                u.email.as_deref(),
            ]
            .into_iter()
            .flatten()
            .filter(|v| !v.is_empty())
            .collect();
            held.sort_unstable();
            held.dedup();
            for value in held {
                let start = u32::try_from(text.len()).map_err(|_| too_many())?;
                text.push_str(value);
                let end = u32::try_from(text.len()).map_err(|_| too_many())?;
                keys.push(Key { start, end, user });
            }
            ids.push(Box::<str>::from(u.id.as_str()));
        }
        keys.sort_unstable_by(|a, b| {
            text[a.start as usize..a.end as usize].cmp(&text[b.start as usize..b.end as usize])
        });
        let by_id: HashMap<&str, u32> = ids.iter().map(|id| &**id).zip(0..count).collect();
        if by_id.len() != ids.len() {
            return Err("a user id is listed twice".into());
        }
        let mut built: [Order; 4] = Default::default();
        for (order, ids_in_order) in built.iter_mut().zip(orders) {
            if ids_in_order.len() != ids.len() {
                return Err(format!(
                    "an order lists {} users, the index {}",
                    ids_in_order.len(),
                    ids.len()
                ));
            }
            order.place = vec![u32::MAX; ids.len()];
            order.user = Vec::with_capacity(ids.len());
            for (place, id) in (0..count).zip(&ids_in_order) {
                let user = *by_id
                    .get(id.as_str())
                    .ok_or_else(|| format!("an order lists {id}, which the index does not"))?;
                if order.place[user as usize] != u32::MAX {
                    return Err(format!("an order lists {id} twice"));
                }
                order.place[user as usize] = place;
                order.user.push(user);
            }
        }
        Ok(Self {
            generation,
            ids,
            text,
            keys,
            orders: built,
        })
    }

    pub(crate) fn generation(&self) -> i64 {
        self.generation
    }

    fn key(&self, k: &Key) -> &str {
        &self.text[k.start as usize..k.end as usize]
    }

    /// The users whose user name, display name or email starts with `prefix` (lower-cased),
    /// the page `offset..offset + limit` of them in `sort`'s order, and how many in all.
    pub(crate) fn page(
        &self,
        prefix: &str,
        sort: UserSort,
        descending: bool,
        offset: u64,
        limit: u32,
    ) -> Hits<'_> {
        let order = &self.orders[sort_slot(sort)];
        let from = self.keys.partition_point(|k| self.key(k) < prefix);
        let mut places: Vec<u32> = self.keys[from..]
            .iter()
            .take_while(|k| self.key(k).starts_with(prefix))
            .map(|k| order.place[k.user as usize])
            .collect();
        places.sort_unstable();
        places.dedup();
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = limit as usize;
        let id = |place: &u32| &*self.ids[order.user[*place as usize] as usize];
        let ids = if descending {
            places.iter().rev().skip(skip).take(take).map(id).collect()
        } else {
            places.iter().skip(skip).take(take).map(id).collect()
        };
        Hits {
            ids,
            total: places.len() as u64,
        }
    }
}

/// The index this process holds, and whether one is being built.
#[derive(Debug, Default)]
pub(crate) struct Search {
    current: RwLock<Option<Arc<UserIndex>>>,
    building: AtomicBool,
}

impl Search {
    fn current(&self) -> Option<Arc<UserIndex>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Keeps `index` unless a newer one is already kept.
    fn keep(&self, index: UserIndex) {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current
            .as_ref()
            .is_none_or(|c| c.generation <= index.generation)
        {
            *current = Some(Arc::new(index));
        }
    }
}

impl Store {
    /// The index this process holds, if it is the current snapshot's (asked on `conn`).
    async fn current_index(&self, conn: &mut Conn) -> Result<Option<Arc<UserIndex>>, StoreError> {
        let generation = conn.counter("snapshot_generation").await?;
        Ok(self
            .search
            .current()
            .filter(|i| i.generation() == generation))
    }

    /// The index of the current snapshot, or None while it is being built (in the background,
    /// started here when needed): the caller answers from the database.
    pub(crate) async fn user_index(
        &self,
        conn: &mut Conn,
    ) -> Result<Option<Arc<UserIndex>>, StoreError> {
        if let Some(index) = self.current_index(conn).await? {
            return Ok(Some(index));
        }
        if !self.search.building.swap(true, Ordering::AcqRel) {
            let store = self.clone();
            tokio::spawn(async move {
                if let Err(e) = store.build_user_index().await {
                    tracing::warn!(error = %e, "the search index could not be built; searches read the database meanwhile");
                }
                store.search.building.store(false, Ordering::Release);
            });
        }
        Ok(None)
    }

    /// Builds the search index of the current snapshot now, unless this process holds it
    /// already. Searches build it on their own when they find it missing or stale; this saves
    /// the first of them the database's slower answer (after a refresh, at start).
    pub async fn prepare_search(&self) -> Result<(), StoreError> {
        if self.current_index(&mut self.conn().await?).await?.is_some() {
            return Ok(());
        }
        self.build_user_index().await
    }

    /// Whether this process holds the index of the current snapshot (searches use it).
    #[cfg(feature = "testkit")]
    pub async fn search_index_is_current(&self) -> Result<bool, StoreError> {
        Ok(self.current_index(&mut self.conn().await?).await?.is_some())
    }

    /// Reads every user's searched values and places in one consistent read, then keeps the
    /// index built from them.
    async fn build_user_index(&self) -> Result<(), StoreError> {
        // One snapshot of the database for every statement below (see `Store::snapshot`).
        let mut conn = self.snapshot().await?;
        let generation = conn.counter("snapshot_generation").await?;
        let (users, orders) = on_conn!(&mut conn, |c| {
            let users: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&format!(
                "SELECT u.id, u.user_name_lower, u.display_name_lower, u.email_lower \
                 FROM ic_users u ORDER BY {}, u.id",
                sort_column(UserSort::UserName)
            ))
            .fetch_all(&mut **c)
            .await?;
            let mut orders: [Vec<String>; 4] = Default::default();
            for (ids, sort) in orders.iter_mut().zip(SORTS) {
                *ids = if sort == UserSort::UserName {
                    users.iter().map(|u| u.0.clone()).collect()
                } else {
                    sqlx::query_scalar(&format!(
                        "SELECT u.id FROM ic_users u ORDER BY {}, u.id",
                        sort_column(sort)
                    ))
                    .fetch_all(&mut **c)
                    .await?
                };
            }
            (users, orders)
        });
        drop(conn);
        let users = users
            .into_iter()
            .map(|(id, user_name, display_name, email)| Searched {
                id,
                user_name,
                display_name,
                email,
            })
            .collect();
        let index = UserIndex::new(generation, users, orders).map_err(StoreError::Corrupt)?;
        self.search.keep(index);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn user(id: &str, user_name: &str, display_name: &str, email: Option<&str>) -> Searched {
        Searched {
            id: id.into(),
            user_name: user_name.into(),
            display_name: display_name.into(),
            email: email.map(Into::into),
        }
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Four users; the orders as a database would give them (email: NULL first).
    fn index() -> UserIndex {
        let users = vec![
            user("1", "ann@x.io", "ann lee", Some("ann@x.io")),
            user("2", "anna@x.io", "zed anders", None),
            user("3", "bob@x.io", "anne bell", Some("robert@y.io")),
            user("4", "cat@x.io", "cat anton", Some("an.cat@y.io")),
        ];
        UserIndex::new(
            7,
            users,
            [
                ids(&["1", "2", "3", "4"]),
                ids(&["1", "3", "4", "2"]),
                ids(&["2", "4", "1", "3"]),
                ids(&["4", "3", "2", "1"]),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_prefix_of_any_column_matches_each_user_once() {
        let index = index();
        let page = index.page("an", UserSort::UserName, false, 0, 50);
        // ann (all three), anna (user name), bob (display name "anne bell"), cat (email).
        assert_eq!(page.ids, ["1", "2", "3", "4"]);
        assert_eq!(page.total, 4);
        let page = index.page("anne", UserSort::UserName, false, 0, 50);
        assert_eq!(page.ids, ["3"]);
        let page = index.page("robert@", UserSort::UserName, false, 0, 50);
        assert_eq!(page.ids, ["3"]);
        // A prefix matches at the start of a value only, and nothing matches nothing.
        assert_eq!(index.page("lee", UserSort::UserName, false, 0, 50).total, 0);
        assert_eq!(index.page("zz", UserSort::UserName, false, 0, 50).total, 0);
        assert_eq!(index.page("a", UserSort::UserName, false, 0, 50).total, 4);
    }

    #[test]
    fn pages_follow_the_order_asked_for_both_ways() {
        let index = index();
        let all = |sort, descending| index.page("an", sort, descending, 0, 50).ids;
        assert_eq!(all(UserSort::DisplayName, false), ["1", "3", "4", "2"]);
        assert_eq!(all(UserSort::Email, false), ["2", "4", "1", "3"]);
        assert_eq!(all(UserSort::FirstSeen, true), ["1", "2", "3", "4"]);
        let page = index.page("an", UserSort::DisplayName, false, 1, 2);
        assert_eq!((page.ids, page.total), (vec!["3", "4"], 4));
        let page = index.page("an", UserSort::DisplayName, true, 3, 2);
        assert_eq!((page.ids, page.total), (vec!["1"], 4));
        let page = index.page("an", UserSort::UserName, false, 9, 2);
        assert_eq!((page.ids, page.total), (vec![], 4));
    }

    #[test]
    fn orders_that_do_not_list_the_same_users_are_refused() {
        let users = vec![user("1", "a", "a", None), user("2", "b", "b", None)];
        let one = || ids(&["1", "2"]);
        let err = UserIndex::new(1, users.clone(), [one(), one(), one(), ids(&["1", "3"])])
            .map(|_| ())
            .unwrap_err();
        assert!(err.contains("3"), "{err}");
        let err = UserIndex::new(1, users.clone(), [one(), ids(&["1"]), one(), one()])
            .map(|_| ())
            .unwrap_err();
        assert!(err.contains("lists 1 users"), "{err}");
        let err = UserIndex::new(1, users, [one(), one(), ids(&["2", "2"]), one()])
            .map(|_| ())
            .unwrap_err();
        assert!(err.contains("twice"), "{err}");
    }
}
