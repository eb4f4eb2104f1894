//! Sign-in sessions in the deployment's database (tower-sessions' sqlx stores), so any replica
//! serves any session and a restart signs nobody out. SQLite: table `tower_sessions`;
//! PostgreSQL: `tower_sessions.session`. Both are created at start if missing.
//!
//! Sign-out everywhere does not search the stored sessions (their data is opaque to SQL): it
//! records, per person (or for everyone), the time before which their sign-ins no longer count
//! (`session_revocations`, migration 0005), and the server checks it on every request. The
//! table (one row per person who signed out everywhere) is held in memory and read again when
//! it is [`REVOCATIONS_FRESH`] old or when this process writes to it: a sign-out everywhere
//! takes effect at once on the replica that recorded it and within that time on the others.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::{Pool, Store, StoreError};

/// The session store on the deployment's database.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// The session store on this database, its table created if missing.
    pub async fn sessions(&self) -> Result<Sessions, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                Sessions::Sqlite(store)
            }
            Pool::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                Sessions::Postgres(store)
            }
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
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}
