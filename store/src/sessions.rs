//! Sign-in sessions in the deployment's database (tower-sessions' sqlx stores), so any replica
//! serves any session and a restart signs nobody out. SQLite: table `tower_sessions`;
//! PostgreSQL: `tower_sessions.session`. Both are created at start if missing.
//!
//! Sign-out everywhere does not search the stored sessions (their data is opaque to SQL): it
//! records, per person (or for everyone), the time before which their sign-ins no longer count
//! (`session_revocations`, migration 0005), and the server checks it on every request.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
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
        Ok(())
    }

    /// The latest time before which `subject`'s sign-ins no longer count (theirs or everyone's),
    /// if any.
    pub async fn sessions_revoked_before(
        &self,
        subject: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let times: Vec<DateTime<Utc>> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT revoked_before FROM session_revocations WHERE subject = $1 OR subject = $2"
        )
        .bind(subject)
        .bind(EVERYONE)
        .fetch_all(pool)
        .await?);
        Ok(times.into_iter().max())
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
