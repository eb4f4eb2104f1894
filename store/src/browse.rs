//! The reads the console's pages make: key figures, users and groups to search, filter, sort and
//! page through, one user's or group's whole picture, seat holders with their paths.
//!
//! Search is "as you type": a prefix of the user name, display name or email (lower-cased
//! copies, indexed), written as a range (`>= q AND < q + U+10FFFF`) so both databases answer it
//! from the index — PostgreSQL compares those columns in the "C" collation (migration 0006) so
//! the range is a byte range whatever the database's collation.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::{Backend, Pool, Refresh, ScopeRead, Store, StoreError, StoredDrift};

/// A page of rows and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOf<T> {
    pub rows: Vec<T>,
    pub total: u64,
}

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

/// Where an Identity Center object comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginFilter {
    /// Carries an external id (SCIM).
    Provisioned,
    /// No external id (created by hand).
    HandMade,
}

/// How the user list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    UserName,
    DisplayName,
    Email,
    FirstSeen,
}

/// What the user list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserQuery {
    /// A prefix of the user name, display name or email (any case).
    pub text: Option<String>,
    pub origin: Option<OriginFilter>,
    /// "ENABLED" or "DISABLED".
    pub enabled: Option<bool>,
    pub has_seat: Option<bool>,
    pub has_drift: Option<bool>,
    pub sort: UserSort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

/// One row of the user list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub enabled: bool,
    pub external_id: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub seat: bool,
    pub drift: u64,
}

/// What the group list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupQuery {
    /// A prefix of the display name (any case).
    pub text: Option<String>,
    pub origin: Option<OriginFilter>,
    /// Assigned to the seat product.
    pub assigned: Option<bool>,
    pub has_drift: Option<bool>,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

/// One row of the group list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub members: u64,
    /// Since when it is assigned to the seat product.
    pub assigned_since: Option<DateTime<Utc>>,
    pub drift: u64,
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
    pub idp: Option<domain::drift::ScopeUser>,
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
    /// Members (a page of them, by user name) and when they joined.
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

/// The end of a prefix range: everything that starts with `prefix` sorts below it.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// A user holds a seat: assigned directly, or a member of an assigned group.
const HAS_SEAT: &str = "(EXISTS (SELECT 1 FROM ic_assignments a WHERE a.principal_kind = 'USER' \
     AND a.principal_id = u.id) OR EXISTS (SELECT 1 FROM ic_memberships m JOIN ic_assignments a \
     ON a.principal_kind = 'GROUP' AND a.principal_id = m.group_id WHERE m.user_id = u.id))";

const USER_COLUMNS: &str = "u.id, u.user_name, u.display_name, u.email, u.status, u.external_id, \
     u.first_seen";

impl Store {
    /// The overview's figures.
    pub async fn figures(&self) -> Result<Figures, StoreError> {
        let count = |sql: &'static str| async move {
            Ok::<u64, StoreError>(on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(pool)
                .await?) as u64)
        };
        let users = count("SELECT COUNT(*) FROM ic_users").await?;
        let groups = count("SELECT COUNT(*) FROM ic_groups").await?;
        let memberships = count("SELECT COUNT(*) FROM ic_memberships").await?;
        let drift = count("SELECT COUNT(*) FROM drift").await?;
        let seat_holders = count(
            "SELECT COUNT(*) FROM (SELECT principal_id AS id FROM ic_assignments a JOIN ic_users u \
             ON u.id = a.principal_id WHERE a.principal_kind = 'USER' UNION SELECT m.user_id FROM \
             ic_memberships m JOIN ic_assignments a ON a.principal_kind = 'GROUP' AND \
             a.principal_id = m.group_id) holders",
        )
        .await?;
        let subscribed_groups =
            count("SELECT COUNT(*) FROM ic_assignments WHERE principal_kind = 'GROUP'").await?;
        let subscribed_users =
            count("SELECT COUNT(*) FROM ic_assignments WHERE principal_kind = 'USER'").await?;
        let held = count("SELECT COUNT(*) FROM ic_refreshes WHERE outcome = 'held'").await?;
        let last_scope_read = self.scope_reads(1).await?.into_iter().next();
        let complete = self.last_complete_scope().await?;
        let (scope_users, scope_groups) = match complete {
            Some(_) => (
                Some(count("SELECT COUNT(*) FROM idp_users").await?),
                Some(count("SELECT COUNT(*) FROM idp_groups").await?),
            ),
            None => (None, None),
        };
        Ok(Figures {
            users,
            groups,
            memberships,
            scope_users,
            scope_groups,
            drift,
            seat_holders,
            subscribed_groups,
            subscribed_users,
            taken_at: self.current_taken_at().await?,
            last_refresh: self.refreshes(1).await?.into_iter().next(),
            last_success: self.last_successful_refresh().await?,
            last_scope_read,
            held,
        })
    }

    /// The newest scope read that completed, if any.
    async fn last_complete_scope(&self) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM idp_reads WHERE outcome = 'read' ORDER BY started_at DESC LIMIT 1"
        )
        .fetch_optional(pool)
        .await?))
    }

    /// The users the query selects, a page of them, and how many in all.
    pub async fn users(&self, q: &UserQuery) -> Result<PageOf<UserRow>, StoreError> {
        let backend = self.backend();
        let order = match q.sort {
            UserSort::UserName => "u.user_name_lower",
            UserSort::DisplayName => "u.display_name_lower",
            UserSort::Email => "u.email_lower",
            UserSort::FirstSeen => "u.first_seen",
        };
        let dir = if q.descending { "DESC" } else { "ASC" };
        let text = q
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        on_pool!(self, |pool| {
            let mut total = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM ic_users u");
            push_user_filters(&mut total, q, text.as_deref(), backend);
            let total: i64 = total.build_query_scalar().fetch_one(pool).await?;
            let mut list = sqlx::QueryBuilder::new(format!(
                "SELECT {USER_COLUMNS}, {HAS_SEAT} AS seat, \
                 (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift FROM ic_users u"
            ));
            push_user_filters(&mut list, q, text.as_deref(), backend);
            list.push(format!(" ORDER BY {order} {dir}, u.id {dir} LIMIT "))
                .push_bind(i64::from(q.limit))
                .push(" OFFSET ")
                .push_bind(q.offset as i64);
            let rows = list.build().fetch_all(pool).await?;
            Ok(PageOf {
                rows: rows
                    .iter()
                    .map(user_row)
                    .collect::<Result<_, StoreError>>()?,
                total: total as u64,
            })
        })
    }

    /// One user with their IdP counterpart, groups, seat paths and drift; None when Identity
    /// Center has no such user.
    pub async fn user_detail(&self, id: &str) -> Result<Option<UserDetail>, StoreError> {
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(&format!(
                "SELECT {USER_COLUMNS}, u.given_name, u.family_name, {HAS_SEAT} AS seat, \
                 (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift \
                 FROM ic_users u WHERE u.id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
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
            Some(external) => self.scope_user(external).await?,
            None => None,
        };
        let groups = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT g.id, g.display_name, m.since, a.since AS assigned_since FROM ic_memberships m \
                 JOIN ic_groups g ON g.id = m.group_id LEFT JOIN ic_assignments a ON \
                 a.principal_kind = 'GROUP' AND a.principal_id = g.id WHERE m.user_id = $1 \
                 ORDER BY g.display_name_lower, g.id",
            )
            .bind(id)
            .fetch_all(pool)
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
        let seat_paths = self.seat_paths(std::slice::from_ref(&user.id)).await?;
        let drift = self.drift_of_user(id).await?;
        Ok(Some(UserDetail {
            user,
            given_name,
            family_name,
            idp,
            groups,
            seat_paths,
            drift,
        }))
    }

    /// The groups the query selects, a page of them, and how many in all.
    pub async fn groups(&self, q: &GroupQuery) -> Result<PageOf<GroupRow>, StoreError> {
        let backend = self.backend();
        let dir = if q.descending { "DESC" } else { "ASC" };
        let text = q
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        on_pool!(self, |pool| {
            let mut total = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM ic_groups g");
            push_group_filters(&mut total, q, text.as_deref(), backend);
            let total: i64 = total.build_query_scalar().fetch_one(pool).await?;
            let mut list =
                sqlx::QueryBuilder::new(format!("SELECT {GROUP_COLUMNS} FROM ic_groups g"));
            push_group_filters(&mut list, q, text.as_deref(), backend);
            list.push(format!(
                " ORDER BY g.display_name_lower {dir}, g.id {dir} LIMIT "
            ))
            .push_bind(i64::from(q.limit))
            .push(" OFFSET ")
            .push_bind(q.offset as i64);
            let rows = list.build().fetch_all(pool).await?;
            Ok(PageOf {
                rows: rows
                    .iter()
                    .map(group_row)
                    .collect::<Result<_, StoreError>>()?,
                total: total as u64,
            })
        })
    }

    /// One group with its IdP counterpart, the first `member_limit` members (by user name) and
    /// its drift; None when Identity Center has no such group.
    pub async fn group_detail(
        &self,
        id: &str,
        member_limit: u32,
    ) -> Result<Option<GroupDetail>, StoreError> {
        let group = on_pool!(self, |pool| {
            let row = sqlx::query(&format!(
                "SELECT {GROUP_COLUMNS} FROM ic_groups g WHERE g.id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(group_row).transpose()?
        });
        let Some(group) = group else {
            return Ok(None);
        };
        let idp = match &group.external_id {
            Some(external) => on_pool!(self, |pool| {
                let row =
                    sqlx::query("SELECT display_name, members FROM idp_groups WHERE idp_id = $1")
                        .bind(external)
                        .fetch_optional(pool)
                        .await?;
                match row {
                    Some(r) => Some((
                        r.try_get::<String, _>("display_name")?,
                        r.try_get::<i64, _>("members")? as u64,
                    )),
                    None => None,
                }
            }),
            None => None,
        };
        let members = on_pool!(self, |pool| {
            let rows = sqlx::query(&format!(
                "SELECT {USER_COLUMNS}, m.since, {HAS_SEAT} AS seat, \
                 (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift \
                 FROM ic_memberships m JOIN ic_users u ON u.id = m.user_id WHERE m.group_id = $1 \
                 ORDER BY u.user_name_lower, u.id LIMIT $2"
            ))
            .bind(id)
            .bind(i64::from(member_limit))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((user_row(r)?, r.try_get("since")?)))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let drift = on_pool!(self, |pool| {
            let rows =
                sqlx::query("SELECT seq, finding FROM drift WHERE group_id = $1 ORDER BY seq")
                    .bind(id)
                    .fetch_all(pool)
                    .await?;
            rows.iter()
                .map(crate::idp_scope::stored_drift)
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        Ok(Some(GroupDetail {
            group,
            idp,
            members,
            drift,
        }))
    }

    /// Every way each of `user_ids` holds a seat, by user then group name.
    pub async fn seat_paths(&self, user_ids: &[String]) -> Result<Vec<SeatPath>, StoreError> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        on_pool!(self, |pool| {
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
            let rows = q.build().fetch_all(pool).await?;
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

    /// The principals assigned to the seat product, groups first, by name.
    pub async fn subscribed(&self) -> Result<Vec<Subscribed>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT a.principal_kind, a.principal_id, a.since, COALESCE(g.display_name, u.user_name) AS name, \
                 (SELECT COUNT(*) FROM ic_memberships m WHERE a.principal_kind = 'GROUP' AND m.group_id = a.principal_id) AS members \
                 FROM ic_assignments a \
                 LEFT JOIN ic_groups g ON a.principal_kind = 'GROUP' AND g.id = a.principal_id \
                 LEFT JOIN ic_users u ON a.principal_kind = 'USER' AND u.id = a.principal_id \
                 ORDER BY a.principal_kind, name, a.principal_id",
            )
            .fetch_all(pool)
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

    /// The current drift findings of one kind (or all), a page of them after `after_seq`, with
    /// the names of the Identity Center objects they name.
    pub async fn drift_rows(
        &self,
        kind: Option<&str>,
        limit: u32,
        after_seq: Option<i64>,
    ) -> Result<Vec<DriftRow>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT d.seq, d.finding, u.user_name, g.display_name AS group_name FROM drift d \
                 LEFT JOIN ic_users u ON u.id = d.user_id LEFT JOIN ic_groups g ON g.id = d.group_id \
                 WHERE ($1 IS NULL OR d.kind = $1) AND d.seq > $2 ORDER BY d.seq LIMIT $3",
            )
            .bind(kind)
            .bind(after_seq.unwrap_or(-1))
            .bind(i64::from(limit))
            .fetch_all(pool)
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
}

impl Store {
    /// The latest refreshes, newest first, each with what it changed (None for one that changed
    /// nothing: failed, cancelled, unchanged, held or discarded).
    pub async fn refresh_history(&self, limit: u32) -> Result<Vec<RefreshChanges>, StoreError> {
        let refreshes = self.refreshes(limit).await?;
        if refreshes.is_empty() {
            return Ok(Vec::new());
        }
        let counts = on_pool!(self, |pool| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT refresh_id, initial, users_added, users_removed, users_changed, \
                 memberships_added, memberships_removed FROM ic_history WHERE refresh_id IN (",
            );
            let mut ids = q.separated(", ");
            for r in &refreshes {
                ids.push_bind(r.id.clone());
            }
            q.push(")");
            let rows = q.build().fetch_all(pool).await?;
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

const GROUP_COLUMNS: &str = "g.id, g.display_name, g.external_id, g.first_seen, \
     (SELECT COUNT(*) FROM ic_memberships m WHERE m.group_id = g.id) AS members, \
     (SELECT a.since FROM ic_assignments a WHERE a.principal_kind = 'GROUP' AND a.principal_id = g.id) AS assigned_since, \
     (SELECT COUNT(*) FROM drift d WHERE d.group_id = g.id) AS drift";

/// A text column compared bytewise (PostgreSQL: the "C" collation its search index uses).
fn bytewise(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => column.to_string(),
        Backend::Postgres => format!("({column} COLLATE \"C\")"),
    }
}

/// `WHERE …` for the user list's filters (nothing when there are none).
fn push_user_filters<'a, DB: sqlx::Database>(
    q: &mut sqlx::QueryBuilder<'a, DB>,
    query: &UserQuery,
    text: Option<&str>,
    backend: Backend,
) where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut and = " WHERE ";
    if let Some(t) = text {
        q.push(and).push("(");
        for (i, column) in ["u.user_name_lower", "u.display_name_lower", "u.email_lower"]
            .into_iter()
            .enumerate()
        {
            let column = bytewise(backend, column);
            if i > 0 {
                q.push(" OR ");
            }
            q.push(format!("({column} >= "))
                .push_bind(t.to_string())
                .push(format!(" AND {column} < "))
                .push_bind(prefix_end(t))
                .push(")");
        }
        q.push(")");
        and = " AND ";
    }
    if let Some(origin) = query.origin {
        q.push(and).push(match origin {
            OriginFilter::Provisioned => "u.external_id IS NOT NULL AND u.external_id <> ''",
            OriginFilter::HandMade => "(u.external_id IS NULL OR u.external_id = '')",
        });
        and = " AND ";
    }
    if let Some(enabled) = query.enabled {
        q.push(and).push(if enabled {
            "u.status = 'ENABLED'"
        } else {
            "u.status <> 'ENABLED'"
        });
        and = " AND ";
    }
    if let Some(seat) = query.has_seat {
        q.push(and);
        if !seat {
            q.push("NOT ");
        }
        q.push(HAS_SEAT);
        and = " AND ";
    }
    if let Some(drift) = query.has_drift {
        q.push(and);
        if !drift {
            q.push("NOT ");
        }
        q.push("EXISTS (SELECT 1 FROM drift d WHERE d.user_id = u.id)");
    }
}

/// `WHERE …` for the group list's filters.
fn push_group_filters<'a, DB: sqlx::Database>(
    q: &mut sqlx::QueryBuilder<'a, DB>,
    query: &GroupQuery,
    text: Option<&str>,
    backend: Backend,
) where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut and = " WHERE ";
    if let Some(t) = text {
        let column = bytewise(backend, "g.display_name_lower");
        q.push(and)
            .push(format!("({column} >= "))
            .push_bind(t.to_string())
            .push(format!(" AND {column} < "))
            .push_bind(prefix_end(t))
            .push(")");
        and = " AND ";
    }
    if let Some(origin) = query.origin {
        q.push(and).push(match origin {
            OriginFilter::Provisioned => "g.external_id IS NOT NULL AND g.external_id <> ''",
            OriginFilter::HandMade => "(g.external_id IS NULL OR g.external_id = '')",
        });
        and = " AND ";
    }
    if let Some(assigned) = query.assigned {
        q.push(and);
        if !assigned {
            q.push("NOT ");
        }
        q.push(
            "EXISTS (SELECT 1 FROM ic_assignments a WHERE a.principal_kind = 'GROUP' AND a.principal_id = g.id)",
        );
        and = " AND ";
    }
    if let Some(drift) = query.has_drift {
        q.push(and);
        if !drift {
            q.push("NOT ");
        }
        q.push("EXISTS (SELECT 1 FROM drift d WHERE d.group_id = g.id)");
    }
}

fn user_row<R: Row>(r: &R) -> Result<UserRow, StoreError>
where
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let status: String = r.try_get("status")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        user_name: r.try_get("user_name")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        enabled: status == "ENABLED",
        external_id: r
            .try_get::<Option<String>, _>("external_id")?
            .filter(|e| !e.is_empty()),
        first_seen: r.try_get("first_seen")?,
        seat: r.try_get("seat")?,
        drift: r.try_get::<i64, _>("drift")? as u64,
    })
}

fn group_row<R: Row>(r: &R) -> Result<GroupRow, StoreError>
where
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<DateTime<Utc>>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    Ok(GroupRow {
        id: r.try_get("id")?,
        display_name: r.try_get("display_name")?,
        external_id: r
            .try_get::<Option<String>, _>("external_id")?
            .filter(|e| !e.is_empty()),
        first_seen: r.try_get("first_seen")?,
        members: r.try_get::<i64, _>("members")? as u64,
        assigned_since: r.try_get("assigned_since")?,
        drift: r.try_get::<i64, _>("drift")? as u64,
    })
}
