//! Throwaway databases for tests: a fresh SQLite file, or a fresh PostgreSQL database created on
//! the server named by `TESSERA_TEST_DATABASE_URL` (default: the local server on 127.0.0.1:5432,
//! when one answers). Used through [`backend_tests!`](crate::backend_tests), which turns one async
//! test body into a SQLite test and a PostgreSQL test.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, Executor as _};

use crate::{Conn, ConnectOptions, Pool, Store, StoreError};

/// Where PostgreSQL is looked for when `TESSERA_TEST_DATABASE_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// With this set to 1 (CI sets it), a missing PostgreSQL server fails the test instead of skipping.
pub const REQUIRE_POSTGRES_ENV: &str = "TESSERA_REQUIRE_POSTGRES";

/// A database that lives as long as this value: the SQLite file's directory is removed, the
/// PostgreSQL database dropped, when it is dropped.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A new, migrated SQLite database in a temporary directory.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::CreateDir {
            dir: std::env::temp_dir().display().to_string(),
            source,
        })?;
        let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
        let store = Store::connect(&url, &ConnectOptions::default()).await?;
        store.migrate().await?;
        Ok(Self {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        })
    }

    /// A new, migrated PostgreSQL database, or `None` when no server is reachable (and
    /// [`REQUIRE_POSTGRES_ENV`] is not set).
    pub async fn postgres() -> Result<Option<Self>, StoreError> {
        let explicit = std::env::var("TESSERA_TEST_DATABASE_URL").ok();
        let admin_url = explicit
            .clone()
            .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_string());
        let required =
            explicit.is_some() || std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|v| v == "1");
        let admin_opts =
            PgConnectOptions::from_str(&admin_url).map_err(|e| StoreError::BadUrl {
                url: crate::redact_url(&admin_url),
                reason: e.to_string(),
            })?;
        let mut admin = match tokio::time::timeout(Duration::from_secs(5), admin_opts.connect())
            .await
        {
            Ok(Ok(conn)) => conn,
            outcome => {
                let reason = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_string(),
                };
                if required {
                    return Err(StoreError::Connect {
                        backend: "PostgreSQL",
                        target: crate::redact_url(&admin_url),
                        source: sqlx::Error::Configuration(reason.into()),
                    });
                }
                eprintln!(
                    "PostgreSQL test skipped: no server at {} ({reason}); set TESSERA_TEST_DATABASE_URL",
                    crate::redact_url(&admin_url)
                );
                return Ok(None);
            }
        };
        let name = format!("tessera_t_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await?;
        admin.close().await?;
        let url = admin_opts.database(&name).to_url_lossy().to_string();
        let store = Store::connect(&url, &ConnectOptions::default()).await?;
        store.migrate().await?;
        Ok(Some(Self {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        }))
    }

    /// Runs one statement on the test database as it is, behind the store's back (to stage
    /// what an older version or a hand edit would have left); the rows it touched.
    pub async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(self.store, |pool| sqlx::query(sql)
            .execute(pool)
            .await?
            .rows_affected()))
    }

    /// Runs the scalar query `read` twice on one page snapshot ([`Store::snapshot`], what the
    /// pages read from), with `write` committed by another connection between the two; both
    /// answers, then `read` once more on a fresh connection.
    pub async fn read_around_write(&self, read: &str, write: &str) -> Result<[i64; 3], StoreError> {
        let mut snapshot = self.store.snapshot().await?;
        let first: i64 = on_conn!(&mut snapshot, |c| sqlx::query_scalar(read)
            .fetch_one(&mut **c)
            .await?);
        self.execute(write).await?;
        let second: i64 = on_conn!(&mut snapshot, |c| sqlx::query_scalar(read)
            .fetch_one(&mut **c)
            .await?);
        drop(snapshot);
        let after: i64 = on_conn!(&mut self.store.conn().await?, |c| sqlx::query_scalar(read)
            .fetch_one(&mut **c)
            .await?);
        Ok([first, second, after])
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which is blocked until this returns: do the
        // clean-up on a thread and runtime of its own, and do not touch the test's pool (its
        // connections are driven by the blocked runtime). FORCE ends those sessions server-side.
        let cleaner = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(
                            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                        )
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = cleaner.join();
    }
}

/// Declares each listed `async fn name(db: &TestDb)` as two tests, `sqlite::name` and
/// `postgres::name`, so one suite covers both databases.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::testkit::TestDb::sqlite().await.expect("SQLite test database");
                    super::$name(&db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = $crate::testkit::TestDb::postgres().await.expect("PostgreSQL test database") else {
                        return;
                    };
                    super::$name(&db).await;
                }
            )+
        }
    };
}
