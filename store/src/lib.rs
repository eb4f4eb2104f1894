//! Tessera's persistence.
//!
//! One [`Store`] speaks to either an embedded SQLite file (the default) or PostgreSQL (for
//! deployments with several replicas). Each dialect has its own migration directory under
//! `migrations/`; both carry the same numbered migrations and the same test suite runs on both.
//!
//! Queries are written once with `$N` placeholders, which both SQLite and PostgreSQL accept, and
//! run through [`on_pool!`] so the same statement is bound and executed on whichever pool is open.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Row, SqlitePool};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Runs the same body on whichever pool the store holds; `$pool` is bound to the concrete pool.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the [`Conn`]'s connection (`&mut PoolConnection<DB>`, an
/// executor as `&mut **$c`), once per backend.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            Conn::Sqlite($c) => $body,
            Conn::Postgres($c) => $body,
        }
    };
}

#[cfg(feature = "testkit")]
pub mod testkit;
#[macro_use]
mod figures;
#[macro_use]
mod timeline;
mod browse;
mod connection;
mod identity_center;
mod idp_scope;
mod kept;
mod leases;
mod lists;
mod search;
pub mod secrets;
mod sessions;
pub use browse::{
    ChangeCounts, DriftPage, DriftRow, Figures, GroupDetail, MembershipOf, RefreshChanges,
    SeatPath, SeatsPage, Subscribed, UserDetail,
};
pub use connection::{Checklist, SCIM_TOKEN_PURPOSE, ScimSetting, Setting, Verified, setting};
pub use identity_center::{Outcome, Refresh, RefreshKind};
pub use idp_scope::{ScopeOutcome, ScopeRead, StoredDrift};
pub use kept::KEPT_READS;
pub use lists::{GroupQuery, GroupRow, OriginFilter, PageOf, UserQuery, UserRow, UserSort};
pub use sessions::{REVOCATIONS_FRESH, SESSIONS_FRESH, Sessions};
pub use timeline::ObjectChange;

/// Which database a [`Store`] is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Everything that can go wrong in the store, phrased for the operator who has to fix it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "database URL {url:?} is not understood: {reason}. Use sqlite://path/to/file.db or postgres://user@host/db"
    )]
    BadUrl { url: String, reason: String },
    #[error("cannot create the directory {dir} for the SQLite database: {source}")]
    CreateDir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the {backend} database at {target}: {source}")]
    Connect {
        backend: &'static str,
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "applying database migrations failed: {0}. The database was left at its last complete migration; fix the cause and start again"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database has not been set up yet: run `tessera migrate` or start the server once")]
    NotInitialised,
    #[error("stored data cannot be read back ({0}); the database may have been edited by hand")]
    Corrupt(String),
    #[error("refresh {0} is not held (it was confirmed, discarded or never held)")]
    NotHeld(String),
    #[error(
        "refresh {0} was held before a later refresh was applied, so its changes no longer fit; discard it and refresh again"
    )]
    HeldIsStale(String),
}

/// How much of a SQLite database file each connection maps into memory (address space; the
/// pages are the operating system's file cache, shared by every connection).
const MMAP_BYTES: u64 = 1 << 30;

/// Pool settings taken from configuration.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One connection taken from the pool, for reads that go together (a page's). Each statement
/// run on the pool itself takes a connection and gives it back, and sqlx checks every
/// connection given back with a round trip of its own (on SQLite, two hand-offs to the
/// connection's thread): a page that reads on one connection pays that once.
enum Conn {
    Sqlite(Link<sqlx::Sqlite>),
    Postgres(Link<sqlx::Postgres>),
}

/// A [`Conn`]'s connection: as taken from the pool, or inside a read transaction so that every
/// statement sees the same committed state (see [`Store::snapshot`]).
enum Link<DB: sqlx::Database> {
    Pooled(sqlx::pool::PoolConnection<DB>),
    /// Never committed: dropping it rolls back, which for reads only ends the snapshot.
    Snapshot(sqlx::Transaction<'static, DB>),
}

impl<DB: sqlx::Database> std::ops::Deref for Link<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Link::Pooled(c) => c,
            Link::Snapshot(t) => t,
        }
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for Link<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Link::Pooled(c) => c,
            Link::Snapshot(t) => t,
        }
    }
}

/// The handle every part of Tessera uses to read and write its data. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// The sign-outs everywhere, read once per [`sessions::REVOCATIONS_FRESH`] instead of on
    /// every request.
    revocations: std::sync::Arc<sessions::Revocations>,
    /// The search index of the current snapshot's users, when built.
    search: std::sync::Arc<search::Search>,
    /// Page data read since the last change (`kept.rs`).
    kept: std::sync::Arc<kept::Kept>,
    /// For one page's render (see [`Store::for_one_page`]): the data version its first kept
    /// read asked for, which its other kept reads answer from.
    page_version: Option<std::sync::Arc<kept::PageVersion>>,
}

/// The deployment's own record: who it is and how often it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub deployment_id: String,
    pub created_at: DateTime<Utc>,
    pub last_started_at: DateTime<Utc>,
    pub starts: i64,
    pub last_version: String,
}

/// Where the database's schema stands against the migrations this binary carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Highest migration version applied (0 before the first).
    pub version: i64,
    /// Migrations this binary knows that the database has not had.
    pub pending: usize,
}

/// The deployment's health, read together (see [`Store::health`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// How long a round trip to the database took.
    pub round_trip: Duration,
    pub deployment: Deployment,
    pub schema: SchemaStatus,
}

/// The outcome of applying migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Migrations applied by this call.
    pub applied_now: usize,
    /// Highest migration version now in the database.
    pub schema_version: i64,
}

impl Store {
    /// Opens the database named by `url`. SQLite files (and their directory) are created when
    /// missing; nothing is migrated until [`Store::migrate`] is called.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let bad_url = |reason: String| StoreError::BadUrl {
            url: redact_url(url),
            reason,
        };
        if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|e| bad_url(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                // Reads map the file instead of copying each page through read(2) (a tenth of
                // the CPU of a search under load went to those copies), and each connection
                // keeps 16 MiB of pages instead of SQLite's default 2 MiB.
                .pragma("mmap_size", MMAP_BYTES.to_string())
                .pragma("cache_size", "-16384");
            let file = connect.get_filename().to_path_buf();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_dir(dir)?;
            }
            // No ping before handing out a connection: a SQLite connection is a file this
            // process holds open, not a peer that can hang up, and sqlx's default ping is one
            // more round trip to the connection's worker thread for every query.
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .test_before_acquire(false)
                .connect_with(connect)
                .await
                .map_err(|source| StoreError::Connect {
                    backend: Backend::Sqlite.as_str(),
                    target: file.display().to_string(),
                    source,
                })?;
            Ok(Self {
                pool: Pool::Sqlite(pool),
                revocations: Default::default(),
                search: Default::default(),
                kept: Default::default(),
                page_version: None,
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url).map_err(|e| bad_url(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await
                .map_err(|source| StoreError::Connect {
                    backend: Backend::Postgres.as_str(),
                    target: redact_url(url),
                    source,
                })?;
            Ok(Self {
                pool: Pool::Postgres(pool),
                revocations: Default::default(),
                search: Default::default(),
                kept: Default::default(),
                page_version: None,
            })
        } else {
            Err(bad_url(
                "the scheme must be sqlite: or postgres:".to_string(),
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this backend's dialect. Safe to run on every start and
    /// from several replicas at once (sqlx takes a database lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        let before = self.applied_migrations().await?;
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        self.split_old_history().await?;
        let after = self.applied_migrations().await?;
        if after.len() > before.len() {
            // The schema is part of what the status card shows (see `Store::health`).
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await?;
                commit_change!(tx);
            });
        }
        Ok(MigrationReport {
            applied_now: after.len().saturating_sub(before.len()),
            schema_version: after.last().copied().unwrap_or(0),
        })
    }

    /// Versions of the migrations this binary knows, in order.
    pub fn known_migrations(&self) -> Vec<i64> {
        let migrator = match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).collect()
    }

    /// Versions applied to the database, ascending; empty before the first migration.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        self.conn().await?.applied_migrations().await
    }

    /// The applied schema version and how many known migrations are still pending.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let applied = self.applied_migrations().await?;
        Ok(self.schema_of(&applied))
    }

    fn schema_of(&self, applied: &[i64]) -> SchemaStatus {
        SchemaStatus {
            version: applied.last().copied().unwrap_or(0),
            pending: self
                .known_migrations()
                .iter()
                .filter(|v| !applied.contains(v))
                .count(),
        }
    }

    /// A round trip to the database; returns how long it took.
    pub async fn ping(&self) -> Result<Duration, StoreError> {
        self.conn().await?.ping().await
    }

    /// The deployment's health: a round trip, its record and its schema (the status card shows
    /// all three). The record and schema are kept until the data changes (`kept.rs`: a start
    /// and a migration count as changes); the round trip is the one that asks whether it did.
    pub async fn health(&self) -> Result<Health, StoreError> {
        let ((deployment, applied), round_trip) = self
            .kept_timed("health", &(), async |conn: &mut Conn| {
                Ok((conn.deployment().await?, conn.applied_migrations().await?))
            })
            .await?;
        Ok(Health {
            round_trip,
            deployment,
            schema: self.schema_of(&applied),
        })
    }

    /// Records a start of the server at `now` with the given version: the first start creates the
    /// deployment record (with a new deployment id), later ones count up.
    pub async fn record_start(
        &self,
        version: &str,
        now: DateTime<Utc>,
    ) -> Result<Deployment, StoreError> {
        let new_id = uuid::Uuid::new_v4().to_string();
        let sql = "INSERT INTO deployment (id, deployment_id, created_at, last_started_at, starts, last_version)
                   VALUES (1, $1, $2, $2, 1, $3)
                   ON CONFLICT (id) DO UPDATE
                   SET last_started_at = excluded.last_started_at,
                       starts = deployment.starts + 1,
                       last_version = excluded.last_version";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(sql)
                .bind(&new_id)
                .bind(now)
                .bind(version)
                .execute(&mut *tx)
                .await?;
            commit_change!(tx);
        });
        self.deployment().await
    }

    /// The deployment record; [`StoreError::NotInitialised`] before the first start.
    pub async fn deployment(&self) -> Result<Deployment, StoreError> {
        self.conn().await?.deployment().await
    }

    /// One connection for several reads (see [`Conn`]).
    async fn conn(&self) -> Result<Conn, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Conn::Sqlite(Link::Pooled(pool.acquire().await?)),
            Pool::Postgres(pool) => Conn::Postgres(Link::Pooled(pool.acquire().await?)),
        })
    }

    /// One connection whose reads all see the same committed state: a page's figures, counts
    /// and rows agree with each other even when a refresh commits while the page is read.
    /// SQLite: a deferred `BEGIN` (in WAL mode the snapshot is taken at the first read and
    /// writers are not blocked); PostgreSQL: a read-only repeatable-read transaction.
    async fn snapshot(&self) -> Result<Conn, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Conn::Sqlite(Link::Snapshot(pool.begin().await?)),
            Pool::Postgres(pool) => Conn::Postgres(Link::Snapshot(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            )),
        })
    }

    /// Closes every connection; waits for checked-out connections to return.
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

impl Conn {
    /// See [`Store::ping`].
    async fn ping(&mut self) -> Result<Duration, StoreError> {
        let started = Instant::now();
        let _: i32 = on_conn!(self, |c| sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut **c)
            .await?);
        Ok(started.elapsed())
    }

    /// See [`Store::deployment`].
    async fn deployment(&mut self) -> Result<Deployment, StoreError> {
        let sql = "SELECT deployment_id, created_at, last_started_at, starts, last_version
                   FROM deployment WHERE id = 1";
        let row = on_conn!(self, |c| {
            let row = sqlx::query(sql).fetch_optional(&mut **c).await?;
            match row {
                None => None,
                Some(row) => Some(Deployment {
                    deployment_id: row.try_get(0)?,
                    created_at: row.try_get(1)?,
                    last_started_at: row.try_get(2)?,
                    starts: row.try_get(3)?,
                    last_version: row.try_get(4)?,
                }),
            }
        });
        row.ok_or(StoreError::NotInitialised)
    }

    /// See [`Store::applied_migrations`].
    async fn applied_migrations(&mut self) -> Result<Vec<i64>, StoreError> {
        let exists_sql = match self {
            Conn::Sqlite(_) => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Conn::Postgres(_) => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = on_conn!(self, |c| sqlx::query_scalar(exists_sql)
            .fetch_one(&mut **c)
            .await?);
        if exists == 0 {
            return Ok(Vec::new());
        }
        let sql = "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version";
        Ok(on_conn!(self, |c| sqlx::query_scalar(sql)
            .fetch_all(&mut **c)
            .await?))
    }
}

fn create_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
        dir: dir.display().to_string(),
        source,
    })
}

/// The URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    // scheme://user:password@host/... → scheme://user:***@host/...
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://tessera:s3cr@t@db.internal:5432/tessera"),
            "postgres://tessera:***@db.internal:5432/tessera"
        );
        assert_eq!(
            redact_url("postgres://tessera@db/tessera"),
            "postgres://tessera@db/tessera"
        );
        assert_eq!(
            redact_url("sqlite://data/tessera.db"),
            "sqlite://data/tessera.db"
        );
    }
}
