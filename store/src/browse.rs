//! The reads the console's pages make besides the lists (`lists.rs`): key figures, one user's or
//! group's whole picture, seat holders with their paths, subscriptions, drift with names, and
//! refreshes with what they changed.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::lists::{GROUP_COLUMNS, USER_COLUMNS, group_row, user_row};
use crate::{Conn, GroupRow, Pool, Refresh, ScopeRead, Store, StoreError, StoredDrift, UserRow};

/// The overview's figures, read together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    /// The IdP's scope as last read completely (None before one).
    pub scope_users: Option<u64>,
    pub scope_groups: Option<u64>,
    pub drift: u64,
    /// Users holding a seat (each once), and the principals assigned to the seat product.
    pub seat_holders: u64,
    pub subscribed_groups: u64,
    pub subscribed_users: u64,
    /// When the current snapshot was taken (None before the first refresh).
    pub taken_at: Option<DateTime<Utc>>,
    /// The latest refresh whatever its outcome, and the latest that succeeded.
    pub last_refresh: Option<Refresh>,
    pub last_success: Option<Refresh>,
    pub last_scope_read: Option<ScopeRead>,
    /// Refreshes held by the mass-deletion fuse, waiting for an admin.
    pub held: u64,
}

/// The Drift page's data (see [`Store::drift_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftPage {
    /// How many current findings there are of each kind, by kind.
    pub counts: Vec<(String, u64)>,
    pub rows: Vec<DriftRow>,
    /// When the scope the findings come from (the last complete read) was read; None before one.
    pub read_at: Option<DateTime<Utc>>,
}

/// The Seats page's data (see [`Store::seats_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatsPage {
    pub subscribed: Vec<Subscribed>,
    pub holders: crate::PageOf<UserRow>,
    /// Every way each holder on the page holds a seat, by user then group name.
    pub paths: Vec<SeatPath>,
}

/// A group a user belongs to, from the user's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipOf {
    pub group_id: String,
    pub display_name: String,
    pub since: DateTime<Utc>,
    pub assigned_since: Option<DateTime<Utc>>,
}

/// One way a user holds a seat: directly or through a group, since the later of the
/// assignment and the membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatPath {
    pub user_id: String,
    /// The group (id, name), or None for a direct assignment.
    pub via: Option<(String, String)>,
    pub since: DateTime<Utc>,
}

/// A principal assigned to the seat product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    /// "USER" or "GROUP".
    pub kind: String,
    pub id: String,
    /// Its name, None when Identity Center no longer has it (a dangling assignment).
    pub name: Option<String>,
    pub since: DateTime<Utc>,
    /// Members, for a group.
    pub members: u64,
}

/// One user, as the user page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    pub user: UserRow,
    pub given_name: String,
    pub family_name: String,
    /// The IdP's user with this external id, from the last complete scope read.
    pub idp: Option<domain::scope::ScopeUser>,
    pub groups: Vec<MembershipOf>,
    pub seat_paths: Vec<SeatPath>,
    pub drift: Vec<StoredDrift>,
}

/// One group, as the group page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    pub group: GroupRow,
    /// The IdP's group with this external id: (name, members in scope).
    pub idp: Option<(String, u64)>,
    /// A page of members, by user name, and when they joined (`group.members` counts them all).
    pub members: Vec<(UserRow, DateTime<Utc>)>,
    pub drift: Vec<StoredDrift>,
}

/// One drift finding with the names of the Identity Center objects it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftRow {
    pub drift: StoredDrift,
    pub user_name: Option<String>,
    pub group_name: Option<String>,
}

/// A refresh and the history entry it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshChanges {
    pub refresh: Refresh,
    pub changes: Option<ChangeCounts>,
}

/// How much one history entry changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeCounts {
    /// The first snapshot (everything was new).
    pub initial: bool,
    pub users_added: u64,
    pub users_removed: u64,
    pub users_changed: u64,
    pub memberships_added: u64,
    pub memberships_removed: u64,
}

impl Store {
    /// The overview's figures: the counts kept by the last writes (`figures.rs`) and the
    /// latest refreshes and scope read.
    pub async fn figures(&self) -> Result<Figures, StoreError> {
        // Four reads of one snapshot (see `Store::snapshot`). The first brings the kept counts,
        // the held refreshes and whether any scope read completed together.
        self.kept("figures", &(), async |conn: &mut Conn| {
            let rows: Vec<(String, i64)> = on_conn!(&mut *conn, |c| sqlx::query_as(
                "SELECT name, value FROM figures \
             UNION ALL SELECT 'held refreshes', COUNT(*) FROM ic_refreshes WHERE outcome = 'held' \
             UNION ALL SELECT 'complete scope reads', COUNT(*) FROM \
             (SELECT 1 FROM idp_reads WHERE outcome = 'read' LIMIT 1) complete"
            )
            .fetch_all(&mut **c)
            .await?);
            let kept = by_name(rows);
            let count = |name: &str| kept.get(name).copied().unwrap_or(0);
            let complete = count("complete scope reads") > 0;
            let (last_refresh, last_success) = conn.latest_refreshes().await?;
            Ok(Figures {
                users: count("users"),
                groups: count("groups"),
                memberships: count("memberships"),
                scope_users: complete.then(|| count("scope_users")),
                scope_groups: complete.then(|| count("scope_groups")),
                drift: count("drift"),
                seat_holders: count("seat_holders"),
                subscribed_groups: count("subscribed_groups"),
                subscribed_users: count("subscribed_users"),
                taken_at: conn.current_taken_at().await?,
                last_refresh,
                last_success,
                last_scope_read: conn.scope_reads(1).await?.into_iter().next(),
                held: count("held refreshes"),
            })
        })
        .await
    }

    /// One user with their IdP counterpart, groups, seat paths and drift; None when Identity
    /// Center has no such user.
    pub async fn user_detail(&self, id: &str) -> Result<Option<UserDetail>, StoreError> {
        // Five reads of one snapshot (see `Store::snapshot`).
        self.kept("user_detail", id, async |conn: &mut Conn| {
            let row = on_conn!(&mut *conn, |c| {
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS}, u.given_name, u.family_name, \
                     (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift \
                     FROM ic_users u WHERE u.id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut **c)
                .await?;
                match row {
                    None => None,
                    Some(r) => Some((
                        user_row(&r)?,
                        r.try_get::<String, _>("given_name")?,
                        r.try_get::<String, _>("family_name")?,
                    )),
                }
            });
            let Some((user, given_name, family_name)) = row else {
                return Ok(None);
            };
            let idp = match &user.external_id {
                Some(external) => conn.scope_user(external).await?,
                None => None,
            };
            let groups = on_conn!(&mut *conn, |c| {
                let rows = sqlx::query(
                    "SELECT g.id, g.display_name, m.since, a.since AS assigned_since FROM ic_memberships m \
                     JOIN ic_groups g ON g.id = m.group_id LEFT JOIN ic_assignments a ON \
                     a.principal_kind = 'GROUP' AND a.principal_id = g.id WHERE m.user_id = $1 \
                     ORDER BY g.display_name_lower, g.id",
                )
                .bind(id)
                .fetch_all(&mut **c)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(MembershipOf {
                            group_id: r.try_get("id")?,
                            display_name: r.try_get("display_name")?,
                            since: r.try_get("since")?,
                            assigned_since: r.try_get("assigned_since")?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?
            });
            let seat_paths = conn.seat_paths(std::slice::from_ref(&user.id)).await?;
            let drift = conn.drift_of_user(id).await?;
            Ok(Some(UserDetail {
                user,
                given_name,
                family_name,
                idp,
                groups,
                seat_paths,
                drift,
            }))
        })
        .await
    }

    /// One group with its IdP counterpart, a page of its members (by user name: `limit` after
    /// the first `offset`) and its drift; None when Identity Center has no such group.
    pub async fn group_detail(
        &self,
        id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<Option<GroupDetail>, StoreError> {
        self.kept("group_detail", &(id, offset, limit), async |conn: &mut Conn| {
            on_conn!(&mut *conn, |conn| {
                // One snapshot for the page's three statements (see `Store::snapshot`).
                // The group, its IdP counterpart and how many users there are (which way to page
                // its members, below) in one read.
                let row = sqlx::query(&format!(
                    "SELECT {GROUP_COLUMNS}, i.display_name AS idp_name, i.members AS idp_members, \
                     (SELECT f.value FROM figures f WHERE f.name = 'users') AS all_users \
                     FROM ic_groups g LEFT JOIN idp_groups i ON i.idp_id = g.external_id WHERE g.id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let group = group_row(&row)?;
                let idp = match row.try_get::<Option<String>, _>("idp_name")? {
                    Some(name) => Some((name, row.try_get::<i64, _>("idp_members")? as u64)),
                    None => None,
                };
                let users = row.try_get::<Option<i64>, _>("all_users")?.unwrap_or(0) as u64;
                // Two ways to a page of members by user name. A small group: its memberships,
                // sorted. A large one: the users in name order (an index that carries their id),
                // each looked up in the group, until the page is full — sorting 50,000 members per
                // request is what made a large group's page time out under load. The walk reads
                // about (offset + limit) × users / members users, the sort members; the cheaper is
                // taken (SQLite honours CROSS JOIN's order; PostgreSQL plans both forms itself).
                let walk = (offset + u64::from(limit)).saturating_mul(users)
                    < group.members.saturating_mul(group.members);
                let from = if walk {
                    "FROM ic_users u CROSS JOIN ic_memberships m WHERE m.group_id = $1 AND m.user_id = u.id"
                } else {
                    "FROM ic_memberships m JOIN ic_users u ON u.id = m.user_id WHERE m.group_id = $1"
                };
                let rows = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS}, m.since, \
                     (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift \
                     {from} ORDER BY u.user_name_lower, u.id LIMIT $2 OFFSET $3"
                ))
                .bind(id)
                .bind(i64::from(limit))
                .bind(offset as i64)
                .fetch_all(&mut **conn)
                .await?;
                let members = rows
                    .iter()
                    .map(|r| Ok((user_row(r)?, r.try_get("since")?)))
                    .collect::<Result<Vec<_>, StoreError>>()?;
                let rows =
                    sqlx::query("SELECT seq, finding FROM drift WHERE group_id = $1 ORDER BY seq")
                        .bind(id)
                        .fetch_all(&mut **conn)
                        .await?;
                let drift = rows
                    .iter()
                    .map(crate::idp_scope::stored_drift)
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok(Some(GroupDetail {
                    group,
                    idp,
                    members,
                    drift,
                }))
            })
        })
        .await
    }

    /// A group's display name and external id (its IdP group's id), None when Identity Center
    /// has no such group.
    pub async fn group_name_and_external_id(
        &self,
        id: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(on_pool!(self, |pool| {
            let row = sqlx::query("SELECT display_name, external_id FROM ic_groups WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(r) => Some((r.try_get("display_name")?, r.try_get("external_id")?)),
                None => None,
            }
        }))
    }

    /// The users that carry one of `external_ids`, or whose user name or email is one of
    /// `names` (any case): how people an IdP or the configuration names are found in Identity
    /// Center.
    pub async fn users_named(
        &self,
        external_ids: &[String],
        names: &[String],
    ) -> Result<Vec<UserRow>, StoreError> {
        if external_ids.is_empty() && names.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        on_pool!(self, |pool| {
            let mut q = sqlx::QueryBuilder::new(format!(
                "SELECT {USER_COLUMNS}, \
                 (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift \
                 FROM ic_users u WHERE u.external_id IN ("
            ));
            // An empty IN list is not SQL: NULL matches nothing.
            q.push("NULL");
            for e in external_ids {
                q.push(", ").push_bind(e);
            }
            q.push(") OR u.user_name_lower IN (NULL");
            for n in &names {
                q.push(", ").push_bind(n);
            }
            q.push(") OR u.email_lower IN (NULL");
            for n in &names {
                q.push(", ").push_bind(n);
            }
            q.push(") ORDER BY u.user_name_lower, u.id");
            let rows = q.build().fetch_all(pool).await?;
            rows.iter().map(user_row).collect::<Result<Vec<_>, _>>()
        })
    }

    /// Every way each of `user_ids` holds a seat, by user then group name.
    pub async fn seat_paths(&self, user_ids: &[String]) -> Result<Vec<SeatPath>, StoreError> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        self.conn().await?.seat_paths(user_ids).await
    }

    /// The principals assigned to the seat product, groups first, by name.
    pub async fn subscribed(&self) -> Result<Vec<Subscribed>, StoreError> {
        self.conn().await?.subscribed().await
    }

    /// The current drift findings of one kind (or all), a page of them after `after_seq`, with
    /// the names of the Identity Center objects they name.
    pub async fn drift_rows(
        &self,
        kind: Option<&str>,
        limit: u32,
        after_seq: Option<i64>,
    ) -> Result<Vec<DriftRow>, StoreError> {
        self.conn().await?.drift_rows(kind, limit, after_seq).await
    }

    /// The Drift page's data from one snapshot: the findings of each kind, a page of them
    /// (see [`Store::drift_rows`]) and when the scope they come from was read.
    pub async fn drift_page(
        &self,
        kind: Option<&str>,
        limit: u32,
        after_seq: Option<i64>,
    ) -> Result<DriftPage, StoreError> {
        self.kept(
            "drift_page",
            &(kind, limit, after_seq),
            async |conn: &mut Conn| {
                Ok(DriftPage {
                    counts: conn.drift_counts().await?,
                    rows: conn.drift_rows(kind, limit, after_seq).await?,
                    read_at: conn.last_complete_scope_read().await?,
                })
            },
        )
        .await
    }

    /// The Seats page's data from one snapshot: the principals assigned to the seat product,
    /// a page of the seat holders (`limit` after the first `offset`, by user name) and every
    /// way each of them holds a seat.
    pub async fn seats_page(&self, offset: u64, limit: u32) -> Result<SeatsPage, StoreError> {
        self.kept("seats_page", &(offset, limit), async |conn: &mut Conn| {
            let subscribed = conn.subscribed().await?;
            let query = crate::UserQuery {
                has_seat: Some(true),
                offset,
                limit,
                ..crate::UserQuery::default()
            };
            let holders = self.list_users_on(&mut *conn, &query, true).await?;
            let ids: Vec<String> = holders.rows.iter().map(|u| u.id.clone()).collect();
            let paths = conn.seat_paths(&ids).await?;
            Ok(SeatsPage {
                subscribed,
                holders,
                paths,
            })
        })
        .await
    }
}

impl Store {
    /// The latest refreshes, newest first, each with what it changed (None for one that changed
    /// nothing: failed, cancelled, unchanged, held or discarded).
    pub async fn refresh_history(&self, limit: u32) -> Result<Vec<RefreshChanges>, StoreError> {
        self.kept("refresh_history", &limit, async |conn: &mut Conn| {
            conn.refresh_history(limit).await
        })
        .await
    }
}

impl Conn {
    /// See [`Store::refresh_history`].
    async fn refresh_history(&mut self, limit: u32) -> Result<Vec<RefreshChanges>, StoreError> {
        let refreshes = self.refreshes(limit).await?;
        if refreshes.is_empty() {
            return Ok(Vec::new());
        }
        let counts = on_conn!(self, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT refresh_id, initial, users_added, users_removed, users_changed, \
                 memberships_added, memberships_removed FROM ic_history WHERE refresh_id IN (",
            );
            let mut ids = q.separated(", ");
            for r in &refreshes {
                ids.push_bind(r.id.clone());
            }
            q.push(")");
            let rows = q.build().fetch_all(&mut **c).await?;
            rows.iter()
                .map(|r| {
                    let n = |c: &str| r.try_get::<i64, _>(c).map(|v| v as u64);
                    Ok((
                        r.try_get::<String, _>("refresh_id")?,
                        ChangeCounts {
                            initial: r.try_get::<bool, _>("initial")?,
                            users_added: n("users_added")?,
                            users_removed: n("users_removed")?,
                            users_changed: n("users_changed")?,
                            memberships_added: n("memberships_added")?,
                            memberships_removed: n("memberships_removed")?,
                        },
                    ))
                })
                .collect::<Result<std::collections::HashMap<_, _>, StoreError>>()?
        });
        Ok(refreshes
            .into_iter()
            .map(|refresh| RefreshChanges {
                changes: counts.get(&refresh.id).cloned(),
                refresh,
            })
            .collect())
    }
}

/// Counts read as `(name, value)` rows, by name (a negative count reads as zero).
impl Conn {
    /// See [`Store::subscribed`].
    pub(crate) async fn subscribed(&mut self) -> Result<Vec<Subscribed>, StoreError> {
        on_conn!(self, |c| {
            let rows = sqlx::query(
                "SELECT a.principal_kind, a.principal_id, a.since, COALESCE(g.display_name, u.user_name) AS name, \
                 COALESCE(g.members, 0) AS members \
                 FROM ic_assignments a \
                 LEFT JOIN ic_groups g ON a.principal_kind = 'GROUP' AND g.id = a.principal_id \
                 LEFT JOIN ic_users u ON a.principal_kind = 'USER' AND u.id = a.principal_id \
                 ORDER BY a.principal_kind, name, a.principal_id",
            )
            .fetch_all(&mut **c)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Subscribed {
                        kind: r.try_get("principal_kind")?,
                        id: r.try_get("principal_id")?,
                        name: r.try_get("name")?,
                        since: r.try_get("since")?,
                        members: r.try_get::<i64, _>("members")? as u64,
                    })
                })
                .collect()
        })
    }

    /// See [`Store::drift_rows`].
    pub(crate) async fn drift_rows(
        &mut self,
        kind: Option<&str>,
        limit: u32,
        after_seq: Option<i64>,
    ) -> Result<Vec<DriftRow>, StoreError> {
        on_conn!(self, |c| {
            let rows = sqlx::query(
                "SELECT d.seq, d.finding, u.user_name, g.display_name AS group_name FROM drift d \
                 LEFT JOIN ic_users u ON u.id = d.user_id LEFT JOIN ic_groups g ON g.id = d.group_id \
                 WHERE ($1 IS NULL OR d.kind = $1) AND d.seq > $2 ORDER BY d.seq LIMIT $3",
            )
            .bind(kind)
            .bind(after_seq.unwrap_or(-1))
            .bind(i64::from(limit))
            .fetch_all(&mut **c)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(DriftRow {
                        drift: crate::idp_scope::stored_drift(r)?,
                        user_name: r.try_get("user_name")?,
                        group_name: r.try_get("group_name")?,
                    })
                })
                .collect()
        })
    }

    /// The counts kept in `figures`, by name.
    pub(crate) async fn kept_figures(
        &mut self,
    ) -> Result<std::collections::HashMap<String, u64>, StoreError> {
        let rows: Vec<(String, i64)> =
            on_conn!(self, |c| sqlx::query_as("SELECT name, value FROM figures")
                .fetch_all(&mut **c)
                .await?);
        Ok(by_name(rows))
    }

    /// See [`Store::seat_paths`].
    pub(crate) async fn seat_paths(
        &mut self,
        user_ids: &[String],
    ) -> Result<Vec<SeatPath>, StoreError> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT a.principal_id AS user_id, NULL AS group_id, NULL AS group_name, \
                 a.since AS assigned, a.since AS joined FROM ic_assignments a \
                 WHERE a.principal_kind = 'USER' AND a.principal_id IN (",
            );
            let mut ids = q.separated(", ");
            for id in user_ids {
                ids.push_bind(id);
            }
            q.push(
                ") UNION ALL SELECT m.user_id, g.id, g.display_name, a.since, m.since FROM \
                 ic_memberships m JOIN ic_assignments a ON a.principal_kind = 'GROUP' AND \
                 a.principal_id = m.group_id JOIN ic_groups g ON g.id = m.group_id WHERE m.user_id IN (",
            );
            let mut ids = q.separated(", ");
            for id in user_ids {
                ids.push_bind(id);
            }
            q.push(") ORDER BY 1, 3");
            let rows = q.build().fetch_all(&mut **c).await?;
            rows.iter()
                .map(|r| {
                    let group_id: Option<String> = r.try_get("group_id")?;
                    let group_name: Option<String> = r.try_get("group_name")?;
                    let assigned: DateTime<Utc> = r.try_get("assigned")?;
                    let joined: DateTime<Utc> = r.try_get("joined")?;
                    Ok(SeatPath {
                        user_id: r.try_get("user_id")?,
                        via: group_id.zip(group_name),
                        since: assigned.max(joined),
                    })
                })
                .collect()
        })
    }
}

fn by_name(rows: Vec<(String, i64)>) -> std::collections::HashMap<String, u64> {
    rows.into_iter()
        .map(|(n, v)| (n, v.max(0) as u64))
        .collect()
}
