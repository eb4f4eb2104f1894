//! Lists of Identity Center's users and groups as the console pages through them: searched
//! as you type, filtered, sorted and paged, and the pieces the object pages share with them.
//!
//! Search is a prefix of the user name, display name or email (lower-cased copies, indexed),
//! written as a range (`>= q AND < q + U+10FFFF`) so both databases answer it from the index —
//! PostgreSQL compares those columns in the "C" collation (migration 0006) so the range is a
//! byte range whatever the database's collation.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::{Backend, Conn, Store, StoreError};

/// A page of rows and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOf<T> {
    pub rows: Vec<T>,
    pub total: u64,
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

/// What a list searches for: the text typed, trimmed and lower-cased; None when blank.
fn searched(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

/// The end of a prefix range: everything that starts with `prefix` sorts below it.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// The columns a user search looks in (each with its index).
const USER_SEARCHED: [&str; 3] = ["u.user_name_lower", "u.display_name_lower", "u.email_lower"];

/// A user row's columns; `seat` is kept by every write that changes it (`figures.rs`).
pub(crate) const USER_COLUMNS: &str = "u.id, u.user_name, u.display_name, u.email, u.status, u.external_id, \
     u.first_seen, u.seat";

/// The column the user list is ordered by (then by id, the same way).
pub(crate) fn sort_column(sort: UserSort) -> &'static str {
    match sort {
        UserSort::UserName => "u.user_name_lower",
        UserSort::DisplayName => "u.display_name_lower",
        UserSort::Email => "u.email_lower",
        UserSort::FirstSeen => "u.first_seen",
    }
}

impl Store {
    /// The users the query selects, a page of them, and how many in all. A search alone is
    /// answered from the search index when this process holds the current one (`search.rs`).
    pub async fn users(&self, q: &UserQuery) -> Result<PageOf<UserRow>, StoreError> {
        self.kept("users", q, async |conn: &mut Conn| {
            self.list_users_on(conn, q, true).await
        })
        .await
    }

    /// [`Store::users`] read from the database alone, never the search index: what the index's
    /// answers are checked against.
    #[cfg(feature = "testkit")]
    pub async fn users_from_database(&self, q: &UserQuery) -> Result<PageOf<UserRow>, StoreError> {
        self.list_users_on(&mut self.snapshot().await?, q, false)
            .await
    }

    /// How SQLite reads a page of the user list `q` selects (its `EXPLAIN QUERY PLAN` lines);
    /// None on PostgreSQL, whose plans follow its statistics rather than the schema alone.
    #[cfg(feature = "testkit")]
    pub async fn user_page_plan(&self, q: &UserQuery) -> Result<Option<Vec<String>>, StoreError> {
        let crate::Pool::Sqlite(pool) = &self.pool else {
            return Ok(None);
        };
        let text = searched(q.text.as_deref());
        let rows = user_page("EXPLAIN QUERY PLAN ", q, text.as_deref(), Backend::Sqlite)
            .build()
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("detail").map_err(StoreError::from))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// [`Store::users`] on `conn` (a page's reads see one snapshot, see `Store::snapshot`: its
    /// count and rows agree).
    pub(crate) async fn list_users_on(
        &self,
        conn: &mut Conn,
        q: &UserQuery,
        use_index: bool,
    ) -> Result<PageOf<UserRow>, StoreError> {
        let backend = self.backend();
        let text = searched(q.text.as_deref());
        // Filters other than the seat (whose counts are kept, below).
        let no_other_filter = q.origin.is_none() && q.enabled.is_none() && q.has_drift.is_none();
        let no_filter = no_other_filter && q.has_seat.is_none();
        let text_only = text.is_some() && no_filter;
        if let Some(text) = text.as_deref().filter(|_| text_only && use_index)
            && let Some(index) = self.user_index(conn).await?
        {
            let hits = index.page(text, q.sort, q.descending, q.offset, q.limit);
            return Ok(PageOf {
                rows: conn.users_by_id(&hits.ids).await?,
                total: hits.total,
            });
        }
        // Every user, the seat holders or the others: the counts the last write kept, not a
        // count of up to 100,000 rows per page.
        let kept = if text.is_none() && no_other_filter {
            let kept = conn.kept_figures().await?;
            let users = kept.get("users").copied();
            let holders = kept.get("seat_holders").copied();
            match q.has_seat {
                None => users,
                Some(true) => holders,
                Some(false) => users.zip(holders).map(|(u, h)| u.saturating_sub(h)),
            }
        } else {
            None
        };
        on_conn!(conn, |c| {
            let total: i64 = match kept {
                Some(n) => n as i64,
                None if text_only => {
                    // Each column's matches read from its own index alone (no row is read),
                    // a user matched by several counted once.
                    let key = match backend {
                        Backend::Sqlite => "u.rowid",
                        Backend::Postgres => "u.id",
                    };
                    let mut total = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM (");
                    for (i, column) in USER_SEARCHED.iter().enumerate() {
                        if i > 0 {
                            total.push(" UNION ");
                        }
                        total.push(format!("SELECT {key} FROM ic_users u"));
                        Conditions::new(&mut total).prefix(&[column], text.as_deref(), backend);
                    }
                    total.push(") hits");
                    total.build_query_scalar().fetch_one(&mut **c).await?
                }
                None => {
                    let mut total = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM ic_users u");
                    push_user_filters(&mut total, q, text.as_deref(), backend);
                    total.build_query_scalar().fetch_one(&mut **c).await?
                }
            };
            let rows = user_page("", q, text.as_deref(), backend)
                .build()
                .fetch_all(&mut **c)
                .await?;
            Ok(PageOf {
                rows: rows
                    .iter()
                    .map(user_row)
                    .collect::<Result<_, StoreError>>()?,
                total: total as u64,
            })
        })
    }

    /// The groups the query selects, a page of them, and how many in all.
    pub async fn groups(&self, q: &GroupQuery) -> Result<PageOf<GroupRow>, StoreError> {
        let backend = self.backend();
        let dir = if q.descending { "DESC" } else { "ASC" };
        let text = searched(q.text.as_deref());
        self.kept("groups", q, async |conn: &mut Conn| {
            on_conn!(&mut *conn, |c| {
                let mut total = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM ic_groups g");
                push_group_filters(&mut total, q, text.as_deref(), backend);
                let total: i64 = total.build_query_scalar().fetch_one(&mut **c).await?;
                let mut list =
                    sqlx::QueryBuilder::new(format!("SELECT {GROUP_COLUMNS} FROM ic_groups g"));
                push_group_filters(&mut list, q, text.as_deref(), backend);
                list.push(format!(
                    " ORDER BY g.display_name_lower {dir}, g.id {dir} LIMIT "
                ))
                .push_bind(i64::from(q.limit))
                .push(" OFFSET ")
                .push_bind(q.offset as i64);
                let rows = list.build().fetch_all(&mut **c).await?;
                Ok(PageOf {
                    rows: rows
                        .iter()
                        .map(group_row)
                        .collect::<Result<_, StoreError>>()?,
                    total: total as u64,
                })
            })
        })
        .await
    }
}

impl Conn {
    /// The users of `ids` (as list rows), in that order; ids no longer stored are left out.
    async fn users_by_id(&mut self, ids: &[&str]) -> Result<Vec<UserRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<UserRow> = on_conn!(self, |c| {
            let mut list = sqlx::QueryBuilder::new(format!(
                "SELECT {USER_COLUMNS}, \
                 (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift \
                 FROM ic_users u WHERE u.id IN ("
            ));
            let mut each = list.separated(", ");
            for id in ids {
                each.push_bind(id.to_string());
            }
            list.push(")");
            list.build()
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(user_row)
                .collect::<Result<_, StoreError>>()?
        });
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        Ok(rows)
    }
}

pub(crate) const GROUP_COLUMNS: &str = "g.id, g.display_name, g.external_id, g.first_seen, g.members, \
     (SELECT a.since FROM ic_assignments a WHERE a.principal_kind = 'GROUP' AND a.principal_id = g.id) AS assigned_since, \
     (SELECT COUNT(*) FROM drift d WHERE d.group_id = g.id) AS drift";

/// A text column compared bytewise (PostgreSQL: the "C" collation its search index uses).
fn bytewise(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => column.to_string(),
        Backend::Postgres => format!("({column} COLLATE \"C\")"),
    }
}

/// A list's `WHERE` clause, written one condition at a time (only the filters given, so the
/// planner sees plain conditions it can answer from the indexes).
struct Conditions<'b, 'a, DB: sqlx::Database> {
    q: &'b mut sqlx::QueryBuilder<'a, DB>,
    any: bool,
}

impl<'b, 'a, DB: sqlx::Database> Conditions<'b, 'a, DB>
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    fn new(q: &'b mut sqlx::QueryBuilder<'a, DB>) -> Self {
        Self { q, any: false }
    }

    /// The next condition's place (` WHERE ` or ` AND `).
    fn next(&mut self) -> &mut sqlx::QueryBuilder<'a, DB> {
        self.q.push(if self.any { " AND " } else { " WHERE " });
        self.any = true;
        self.q
    }

    /// `sql` when wanted, `NOT sql` when not, nothing when either will do.
    fn holds(&mut self, wanted: Option<bool>, sql: &str) {
        if let Some(wanted) = wanted {
            let q = self.next();
            if !wanted {
                q.push("NOT ");
            }
            q.push(sql);
        }
    }

    /// One of `columns` starts with `text` (a bound range, bytewise).
    fn prefix(&mut self, columns: &[&str], text: Option<&str>, backend: Backend) {
        let Some(t) = text else { return };
        let q = self.next();
        q.push("(");
        for (i, column) in columns.iter().enumerate() {
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
    }

    /// Provisioned (an external id) or made by hand, for the table aliased `alias`.
    fn origin(&mut self, origin: Option<OriginFilter>, alias: &str) {
        self.holds(
            origin.map(|o| o == OriginFilter::Provisioned),
            &format!("({alias}.external_id IS NOT NULL AND {alias}.external_id <> '')"),
        );
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
    let mut c = Conditions::new(q);
    c.prefix(&USER_SEARCHED, text, backend);
    c.origin(query.origin, "u");
    c.holds(query.enabled, "u.status = 'ENABLED'");
    c.holds(query.has_seat, "u.seat = TRUE");
    c.holds(
        query.has_drift,
        "EXISTS (SELECT 1 FROM drift d WHERE d.user_id = u.id)",
    );
}

/// The statement that reads a page of the user list: `q`'s filters, its order, then the id the
/// same way (equal values keep one order from page to page), and its page. Each order has an
/// index that carries the id (migration 0011), so a page is a walk of that index. `prefix`
/// comes before the statement (`EXPLAIN QUERY PLAN` in the tests).
fn user_page<'a, DB: sqlx::Database>(
    prefix: &str,
    q: &UserQuery,
    text: Option<&str>,
    backend: Backend,
) -> sqlx::QueryBuilder<'a, DB>
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let order = sort_column(q.sort);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let mut list = sqlx::QueryBuilder::new(format!(
        "{prefix}SELECT {USER_COLUMNS}, \
         (SELECT COUNT(*) FROM drift d WHERE d.user_id = u.id) AS drift FROM ic_users u"
    ));
    push_user_filters(&mut list, q, text, backend);
    list.push(format!(" ORDER BY {order} {dir}, u.id {dir} LIMIT "))
        .push_bind(i64::from(q.limit))
        .push(" OFFSET ")
        .push_bind(q.offset as i64);
    list
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
    let mut c = Conditions::new(q);
    c.prefix(&["g.display_name_lower"], text, backend);
    c.origin(query.origin, "g");
    c.holds(
        query.assigned,
        "EXISTS (SELECT 1 FROM ic_assignments a WHERE a.principal_kind = 'GROUP' AND a.principal_id = g.id)",
    );
    c.holds(
        query.has_drift,
        "EXISTS (SELECT 1 FROM drift d WHERE d.group_id = g.id)",
    );
}

pub(crate) fn user_row<R: Row>(r: &R) -> Result<UserRow, StoreError>
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

pub(crate) fn group_row<R: Row>(r: &R) -> Result<GroupRow, StoreError>
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
