//! The refresh job: read Identity Center, compare with the current snapshot, then apply the
//! changes, hold them (the mass-deletion fuse) or record why nothing changed. One refresh at a
//! time per process; on a schedule and on demand; cancellable.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use connectors::identity_center::{IdentityCenterSource, ReadError};
use connectors::progress::ProgressView;
use domain::changes::diff;
use domain::fuse::{self, FuseLimit};
use store::{Outcome, Refresh, Store, StoreError};
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("a refresh is already running; wait for it or cancel it")]
    AlreadyRunning,
    #[error("another replica is refreshing Identity Center; this one will try again later")]
    RunningElsewhere,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs refreshes from one source into one store.
pub struct Refresher<S> {
    store: Store,
    /// This process's name in the refresh lease.
    holder: String,
    source: S,
    fuse: FuseLimit,
    running: tokio::sync::Mutex<()>,
    cancel: Mutex<Option<CancellationToken>>,
}

impl<S: IdentityCenterSource + Sync> Refresher<S> {
    pub fn new(store: Store, source: S, fuse: FuseLimit) -> Self {
        Self {
            store,
            holder: uuid::Uuid::new_v4().to_string(),
            source,
            fuse,
            running: tokio::sync::Mutex::new(()),
            cancel: Mutex::new(None),
        }
    }

    /// What the running (or last) read has done.
    pub fn progress(&self) -> ProgressView {
        self.source.progress()
    }

    /// Cancels the running refresh, if any; true when one was running.
    pub fn cancel(&self) -> bool {
        self.cancel
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(CancellationToken::cancel))
            .is_some()
    }

    /// One full refresh. `now` gives the times recorded (the sandbox clock in tests). One runs at
    /// a time in this process, and one at a time across replicas sharing the database (a lease).
    pub async fn refresh_once(
        &self,
        now: impl Fn() -> DateTime<Utc>,
    ) -> Result<Refresh, RefreshError> {
        let Ok(_only_one) = self.running.try_lock() else {
            return Err(RefreshError::AlreadyRunning);
        };
        if !self
            .store
            .try_lease(LEASE, &self.holder, now(), LEASE_TTL)
            .await?
        {
            return Err(RefreshError::RunningElsewhere);
        }
        let outcome = self.refresh_holding_the_lease(&now).await;
        if let Err(e) = self.store.release_lease(LEASE, &self.holder).await {
            tracing::warn!(error = %e, "cannot release the refresh lease; it expires on its own");
        }
        outcome
    }

    async fn refresh_holding_the_lease(
        &self,
        now: &impl Fn() -> DateTime<Utc>,
    ) -> Result<Refresh, RefreshError> {
        let token = CancellationToken::new();
        if let Ok(mut slot) = self.cancel.lock() {
            *slot = Some(token.clone());
        }
        let started_at = now();
        let read = self.source.read(&token).await;
        if let Ok(mut slot) = self.cancel.lock() {
            *slot = None;
        }
        let progress = self.source.progress();
        let mut refresh = Refresh {
            id: uuid::Uuid::new_v4().to_string(),
            started_at,
            finished_at: now(),
            outcome: Outcome::Failed,
            detail: None,
            calls: progress.calls,
            throttles: progress.throttles,
            users: progress.users,
            groups: progress.groups_listed,
            memberships: progress.memberships,
        };
        let read = match read {
            Ok(read) => read,
            Err(ReadError::Cancelled) => {
                refresh.outcome = Outcome::Cancelled;
                self.store.record_refresh(&refresh).await?;
                return Ok(refresh);
            }
            Err(e) => {
                refresh.detail = Some(e.to_string());
                tracing::warn!(error = %e, "Identity Center refresh failed; the last good snapshot stays current");
                self.store.record_refresh(&refresh).await?;
                return Ok(refresh);
            }
        };
        let initial = self.store.current_taken_at().await?.is_none();
        let current = self.store.current_snapshot().await?;
        let changes = diff(&current, &read.snapshot);
        let trips = fuse::check(&current, &changes, self.fuse);
        if initial {
            refresh.outcome = Outcome::Applied;
            self.store.apply_refresh(&refresh, &changes, true).await?;
        } else if changes.is_empty() {
            refresh.outcome = Outcome::Unchanged;
            self.store.record_refresh(&refresh).await?;
        } else if !trips.is_empty() {
            refresh.outcome = Outcome::Held;
            refresh.detail = Some(
                trips
                    .iter()
                    .map(|t| {
                        format!(
                            "{} of {} {:?} would be removed ({:.0} % > {:.0} %)",
                            t.removed,
                            t.before,
                            t.kind,
                            t.share() * 100.0,
                            t.limit * 100.0
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            tracing::warn!(detail = ?refresh.detail, "refresh held by the mass-deletion fuse; an admin must confirm or discard it");
            self.store.hold_refresh(&refresh, &changes).await?;
        } else {
            refresh.outcome = Outcome::Applied;
            self.store.apply_refresh(&refresh, &changes, false).await?;
        }
        tracing::info!(
            outcome = refresh.outcome.as_str(),
            users = refresh.users,
            memberships = refresh.memberships,
            calls = refresh.calls,
            throttles = refresh.throttles,
            "Identity Center refresh finished"
        );
        Ok(refresh)
    }
}

/// The lease's name and how long a refresh may hold it (longer than a 100k read at AWS's quotas,
/// about 11 minutes); a replica that dies mid-refresh frees it after that.
const LEASE: &str = "identity_center.refresh";
const LEASE_TTL: chrono::Duration = chrono::Duration::minutes(30);

/// Refreshes now and then every `every`, until the task is dropped.
pub fn spawn_schedule<S>(
    refresher: Arc<Refresher<S>>,
    every: Duration,
) -> tokio::task::JoinHandle<()>
where
    S: IdentityCenterSource + Send + Sync + 'static,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match refresher.refresh_once(Utc::now).await {
                Ok(_) | Err(RefreshError::AlreadyRunning | RefreshError::RunningElsewhere) => {}
                Err(e) => tracing::error!(error = %e, "cannot record the refresh"),
            }
        }
    })
}
