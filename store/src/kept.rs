//! Page data kept in memory between changes.
//!
//! What the console's pages read changes only when something is written: a refresh, a scope
//! read, a verification, an attestation, a setting. Between two writes every security admin who
//! opens the overview reads the same figures, so each read of a page's data is kept and answered
//! again until the data changes.
//!
//! Every write of what a page shows counts itself in `figures.data_version`, in its own
//! transaction (`commit_change!`, `figures.rs`). A kept read first asks the database for that
//! version (one statement): the same version answers from memory; another is read from the
//! database, version first, in one snapshot (see [`Store::snapshot`]), so the data kept under a
//! version is exactly what the database held at that version. The version lives in the
//! database, not in the process: a write by another replica (or the CLI) is seen by the very
//! next read here.
//!
//! What this does not see: a hand edit of the database that does not count itself. Restarting
//! the server, or any later write, shows it.

use std::any::Any;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;

use crate::{Conn, Store, StoreError};

/// How many page reads are kept (each a page of at most a few hundred rows); the least
/// recently used goes first.
pub const KEPT_READS: NonZeroUsize = NonZeroUsize::MIN.saturating_add(511);

/// Which read, and with what arguments (their `Debug` form).
type Key = (&'static str, String);

/// The reads kept for one data version.
pub(crate) struct Kept {
    held: Mutex<Held>,
}

struct Held {
    version: i64,
    reads: LruCache<Key, Arc<dyn Any + Send + Sync>>,
}

impl Default for Kept {
    fn default() -> Self {
        Self {
            held: Mutex::new(Held {
                version: i64::MIN,
                reads: LruCache::new(KEPT_READS),
            }),
        }
    }
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.held.lock().ok();
        f.debug_struct("Kept")
            .field("version", &held.as_ref().map(|h| h.version))
            .field("reads", &held.as_ref().map(|h| h.reads.len()))
            .finish()
    }
}

impl Kept {
    /// The read `key` as kept at `version`, if it is.
    fn get<T: Clone + 'static>(&self, version: i64, key: &Key) -> Option<T> {
        let mut held = self.held.lock().ok()?;
        if held.version != version {
            return None;
        }
        held.reads.get(key)?.downcast_ref::<T>().cloned()
    }

    /// Keeps `value` as the read `key` at `version`. A version other than the one held replaces
    /// everything held: versions only grow, so the reads of the one held are stale, or (a slow
    /// reader) this one is, and the next read puts the current one back.
    fn put<T: Send + Sync + 'static>(&self, version: i64, key: Key, value: T) {
        let Ok(mut held) = self.held.lock() else {
            return;
        };
        if held.version != version {
            held.version = version;
            held.reads.clear();
        }
        held.reads.put(key, Arc::new(value));
    }
}

/// The data version one page's render answers from (see [`Store::for_one_page`]), and how long
/// asking for it took.
#[derive(Debug, Default)]
pub(crate) struct PageVersion(tokio::sync::OnceCell<(i64, Duration)>);

impl Store {
    /// This store for rendering one page: its kept reads ask the database for the data version
    /// once (the overview's figures, status card and checklist: one round trip instead of
    /// three) and answer from what is kept at that version; a part not kept at it is read as
    /// the database is at that moment. For reads only: a write through it would not be seen by
    /// its later kept reads.
    pub fn for_one_page(&self) -> Store {
        Store {
            page_version: Some(Default::default()),
            ..self.clone()
        }
    }

    /// The data version now, and how long the round trip to the database took.
    async fn data_version(&self) -> Result<(i64, Duration), StoreError> {
        let mut conn = self.conn().await?;
        let started = Instant::now();
        let version = conn.counter("data_version").await?;
        // The connection goes back to the pool before a snapshot takes one: a read never holds
        // two, so a full pool cannot leave every reader waiting for a second.
        Ok((version, started.elapsed()))
    }

    /// The read `name` with `args`, kept until the data changes: answered from memory when the
    /// database's data version is the one it was kept at, else `read` on one snapshot (see the
    /// module's notes).
    pub(crate) async fn kept<T, A, F>(
        &self,
        name: &'static str,
        args: &A,
        read: F,
    ) -> Result<T, StoreError>
    where
        T: Clone + Send + Sync + 'static,
        A: std::fmt::Debug + ?Sized,
        F: AsyncFnOnce(&mut Conn) -> Result<T, StoreError>,
    {
        Ok(self.kept_timed(name, args, read).await?.0)
    }

    /// [`Store::kept`], with how long the version's round trip to the database took.
    pub(crate) async fn kept_timed<T, A, F>(
        &self,
        name: &'static str,
        args: &A,
        read: F,
    ) -> Result<(T, Duration), StoreError>
    where
        T: Clone + Send + Sync + 'static,
        A: std::fmt::Debug + ?Sized,
        F: AsyncFnOnce(&mut Conn) -> Result<T, StoreError>,
    {
        let key = (name, format!("{args:?}"));
        let (version, round_trip) = match &self.page_version {
            Some(page) => *page.0.get_or_try_init(|| self.data_version()).await?,
            None => self.data_version().await?,
        };
        if let Some(value) = self.kept.get(version, &key) {
            return Ok((value, round_trip));
        }
        let mut conn = self.snapshot().await?;
        let version = conn.counter("data_version").await?;
        let value = read(&mut conn).await?;
        drop(conn);
        self.kept.put(version, key, value.clone());
        Ok((value, round_trip))
    }
}
