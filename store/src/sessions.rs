//! Sign-in sessions in the deployment's database (tower-sessions' sqlx stores), so any replica
//! serves any session and a restart signs nobody out. SQLite: table `tower_sessions`;
//! PostgreSQL: `tower_sessions.session`. Both are created at start if missing.
//!
//! Every request reads its session, so a session read from the database answers from this
//! process's memory for [`SESSIONS_FRESH`] (tower-sessions' `CachingSessionStore` over a
//! least-recently-used map); what this process writes or deletes goes to both at once. A
//! sign-out on another replica (its session deleted there) therefore takes effect here within
//! that time, as a sign-out everywhere does (below). Expired sessions are deleted by
//! [`Sessions::delete_expired`] now and then (a job of the server's).
//!
//! Sign-out everywhere does not search the stored sessions (their data is opaque to SQL): it
//! records, per person (or for everyone), the time before which their sign-ins no longer count
//! (`session_revocations`, migration 0005), and the server checks it on every request. The
//! table (one row per person who signed out everywhere) is held in memory and read again when
//! it is [`REVOCATIONS_FRESH`] old or when this process writes to it: a sign-out everywhere
//! takes effect at once on the replica that recorded it and within that time on the others.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lru::LruCache;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{
    self, CachingSessionStore, ExpiredDeletion, SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::{Pool, Store, StoreError};

/// The session store on the deployment's database, with the sessions read lately held in
/// memory.
#[derive(Debug, Clone)]
pub struct Sessions {
    both: CachingSessionStore<Recent, Database>,
    /// The database side again, for what `CachingSessionStore` does not pass on (deleting the
    /// expired sessions).
    database: Database,
}

/// tower-sessions' store on this deployment's database.
#[derive(Debug, Clone)]
enum Database {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// How long a session read from the database answers for in this process before it is read
/// again: as long as a read of the sign-outs everywhere does.
pub const SESSIONS_FRESH: std::time::Duration = REVOCATIONS_FRESH;

/// How many sessions are held in memory (a console's people active within seconds of each
/// other; a session is a few KB with its ID token); the least recently used goes first, and
/// one not held is read from the database.
const RECENT_SESSIONS: NonZeroUsize = NonZeroUsize::MIN.saturating_add(999);

/// The sessions this process read or wrote lately, each with when it was held.
#[derive(Clone)]
struct Recent {
    held: Arc<Mutex<LruCache<Id, (Instant, Record)>>>,
}

impl Default for Recent {
    fn default() -> Self {
        Self {
            held: Arc::new(Mutex::new(LruCache::new(RECENT_SESSIONS))),
        }
    }
}

impl std::fmt::Debug for Recent {
    // Sessions hold secrets (tokens): only their count is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recent")
            .field("sessions", &self.held().len())
            .finish()
    }
}

impl Recent {
    fn held(&self) -> std::sync::MutexGuard<'_, LruCache<Id, (Instant, Record)>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn hold(&self, record: &Record) {
        self.held().put(record.id, (Instant::now(), record.clone()));
    }
}

#[async_trait]
impl SessionStore for Recent {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.hold(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.hold(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut held = self.held();
        let now = time::OffsetDateTime::now_utc();
        match held.get(id) {
            Some((at, record)) if at.elapsed() < SESSIONS_FRESH && record.expiry_date > now => {
                Ok(Some(record.clone()))
            }
            Some(_) => {
                held.pop(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.held().pop(id);
        Ok(())
    }
}

impl Store {
    /// The session store on this database, its table created if missing.
    pub async fn sessions(&self) -> Result<Sessions, StoreError> {
        let database = match &self.pool {
            Pool::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                Database::Sqlite(store)
            }
            Pool::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                Database::Postgres(store)
            }
        };
        Ok(Sessions {
            both: CachingSessionStore::new(Recent::default(), database.clone()),
            database,
        })
    }
}

/// How long a read of `session_revocations` answers for before it is read again.
pub const REVOCATIONS_FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// The last read of `session_revocations` (subject → revoked before) and when it started, and
/// when this process last wrote to the table.
#[derive(Debug, Default)]
pub(crate) struct Revocations {
    held: std::sync::Mutex<Held>,
}

type Times = Arc<HashMap<String, DateTime<Utc>>>;

#[derive(Debug, Default)]
struct Held {
    read: Option<(Instant, Times)>,
    written: Option<Instant>,
}

impl Revocations {
    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self) -> Option<Times> {
        self.held()
            .read
            .as_ref()
            .filter(|(at, _)| at.elapsed() < REVOCATIONS_FRESH)
            .map(|(_, times)| times.clone())
    }

    /// Keeps a read that started at `read_at`, unless this process wrote since (the read may
    /// not have seen that write).
    fn keep(&self, read_at: Instant, times: Times) {
        let mut held = self.held();
        if held.written.is_none_or(|w| w < read_at) {
            held.read = Some((read_at, times));
        }
    }

    fn forget(&self) {
        let mut held = self.held();
        held.read = None;
        held.written = Some(Instant::now());
    }
}

/// The `subject` that stands for everyone in `session_revocations`.
const EVERYONE: &str = "*";

impl Store {
    /// Ends every session of `subject` (every session of everyone when `None`) signed in at or
    /// before `at`.
    pub async fn revoke_sessions(
        &self,
        subject: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let subject = subject.unwrap_or(EVERYONE);
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO session_revocations (subject, revoked_before) VALUES ($1, $2) \
             ON CONFLICT (subject) DO UPDATE SET revoked_before = excluded.revoked_before"
        )
        .bind(subject)
        .bind(at)
        .execute(pool)
        .await?
        .rows_affected());
        self.revocations.forget();
        Ok(())
    }

    /// The latest time before which `subject`'s sign-ins no longer count (theirs or everyone's),
    /// if any.
    pub async fn sessions_revoked_before(
        &self,
        subject: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let times = match self.revocations.fresh() {
            Some(times) => times,
            None => {
                let read_at = Instant::now();
                let rows: Vec<(String, DateTime<Utc>)> = on_pool!(self, |pool| sqlx::query_as(
                    "SELECT subject, revoked_before FROM session_revocations"
                )
                .fetch_all(pool)
                .await?);
                let times = Arc::new(rows.into_iter().collect::<HashMap<_, _>>());
                self.revocations.keep(read_at, times.clone());
                times
            }
        };
        Ok([subject, EVERYONE]
            .iter()
            .filter_map(|s| times.get(*s).copied())
            .max())
    }
}

#[async_trait]
impl SessionStore for Database {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Database::Sqlite(s) => s.create(record).await,
            Database::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Database::Sqlite(s) => s.save(record).await,
            Database::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Database::Sqlite(s) => s.load(id).await,
            Database::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Database::Sqlite(s) => s.delete(id).await,
            Database::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.both.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.both.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.both.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.both.delete(id).await
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    /// Deletes the sessions whose expiry has passed from the database (the memory forgets
    /// them on its own: an expired session is never answered from it).
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.database {
            Database::Sqlite(s) => s.delete_expired().await,
            Database::Postgres(s) => s.delete_expired().await,
        }
    }
}
