//! The refresh job: read Identity Center (and, beside it, the IdP's provisioning scope), compare
//! with the current snapshot, then apply the changes, hold them (the mass-deletion fuse) or record
//! why nothing changed; compute drift from the scope and keep it. A full refresh reads everything;
//! a focused one reads only what decides seats (the seat product's assignments and its groups'
//! members). One refresh at a time per process and across replicas (a lease, renewed while the
//! refresh runs); on a schedule and on demand; cancellable.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use connectors::identity_center::{IdentityCenterSource, Read, ReadError};
use connectors::progress::ProgressView;
use connectors::scope::{IdpReader, IdpScopeSource, ScopeError};
use domain::changes::diff;
use domain::fuse::{self, FuseLimit};
use domain::scope::IdpScope;
use domain::snapshot::Snapshot;
use store::{Outcome, Refresh, RefreshKind, ScopeOutcome, ScopeRead, Store, StoreError};
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

/// Runs refreshes from one Identity Center source (and optionally one IdP) into one store.
pub struct Refresher<S> {
    store: Store,
    /// This process's name in the refresh lease.
    holder: String,
    source: S,
    idp: Option<IdpReader>,
    fuse: FuseLimit,
    lease_ttl: chrono::Duration,
    running: tokio::sync::Mutex<()>,
    cancel: Mutex<Option<CancellationToken>>,
}

/// The IdP side of a full refresh: when the read started and ended, and what it gave.
struct ScopeOutcomeOf {
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    result: Result<IdpScope, ScopeError>,
}

impl<S: IdentityCenterSource + Sync> Refresher<S> {
    pub fn new(store: Store, source: S, fuse: FuseLimit) -> Self {
        Self {
            store,
            holder: uuid::Uuid::new_v4().to_string(),
            source,
            idp: None,
            fuse,
            lease_ttl: LEASE_TTL,
            running: tokio::sync::Mutex::new(()),
            cancel: Mutex::new(None),
        }
    }

    /// Reads the IdP's provisioning scope beside each full refresh and keeps the drift.
    pub fn with_idp(mut self, idp: IdpReader) -> Self {
        self.idp = Some(idp);
        self
    }

    /// How long the lease lasts without renewal (renewed every third of it while a refresh
    /// runs). Thirty minutes unless changed.
    pub fn with_lease_ttl(mut self, ttl: chrono::Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// What the running (or last) read has done.
    pub fn progress(&self) -> ProgressView {
        self.source.progress()
    }

    /// Whether a refresh is running in this process.
    pub fn is_running(&self) -> bool {
        self.running.try_lock().is_err()
    }

    /// Cancels the running refresh, if any; true when one was running.
    pub fn cancel(&self) -> bool {
        self.cancel
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(CancellationToken::cancel))
            .is_some()
    }

    /// One full refresh. `now` gives the times recorded (the sandbox clock in tests).
    pub async fn refresh_once(
        &self,
        now: impl Fn() -> DateTime<Utc>,
    ) -> Result<Refresh, RefreshError> {
        self.refresh(RefreshKind::Full, now).await
    }

    /// One focused refresh: only the seat product's assignments and its groups' members. Before
    /// the first full refresh there is nothing to focus on, so it is a full one.
    pub async fn refresh_focused(
        &self,
        now: impl Fn() -> DateTime<Utc>,
    ) -> Result<Refresh, RefreshError> {
        self.refresh(RefreshKind::Focused, now).await
    }

    /// One refresh of `kind`. One runs at a time in this process, and one at a time across
    /// replicas sharing the database: a lease, renewed while the refresh runs; if another
    /// replica took it meanwhile (this one stalled past its expiry), the refresh is cancelled.
    async fn refresh(
        &self,
        kind: RefreshKind,
        now: impl Fn() -> DateTime<Utc>,
    ) -> Result<Refresh, RefreshError> {
        let Ok(_only_one) = self.running.try_lock() else {
            return Err(RefreshError::AlreadyRunning);
        };
        if !self
            .store
            .try_lease(LEASE, &self.holder, now(), self.lease_ttl)
            .await?
        {
            return Err(RefreshError::RunningElsewhere);
        }
        let token = CancellationToken::new();
        if let Ok(mut slot) = self.cancel.lock() {
            *slot = Some(token.clone());
        }
        let renew = async {
            let every = (self.lease_ttl / 3)
                .to_std()
                .unwrap_or(Duration::from_secs(60));
            loop {
                tokio::time::sleep(every).await;
                match self
                    .store
                    .try_lease(LEASE, &self.holder, now(), self.lease_ttl)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(
                            "the refresh lease was taken by another replica; cancelling this refresh"
                        );
                        token.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot renew the refresh lease"),
                }
            }
        };
        let refresh = self.refresh_holding_the_lease(kind, &token, &now);
        tokio::pin!(refresh, renew);
        let mut renewing = true;
        // The renewal ends only when the lease is lost; the refresh then ends cancelled.
        let outcome = loop {
            tokio::select! {
                outcome = &mut refresh => break outcome,
                () = &mut renew, if renewing => renewing = false,
            }
        };
        if let Ok(mut slot) = self.cancel.lock() {
            *slot = None;
        }
        if let Err(e) = self.store.release_lease(LEASE, &self.holder).await {
            tracing::warn!(error = %e, "cannot release the refresh lease; it expires on its own");
        }
        outcome
    }

    async fn read_scope(
        &self,
        token: &CancellationToken,
        now: &impl Fn() -> DateTime<Utc>,
    ) -> Option<ScopeOutcomeOf> {
        let idp = self.idp.as_ref()?;
        let started_at = now();
        let result = idp.read_scope(token).await;
        Some(ScopeOutcomeOf {
            started_at,
            finished_at: now(),
            result,
        })
    }

    async fn refresh_holding_the_lease(
        &self,
        mut kind: RefreshKind,
        token: &CancellationToken,
        now: &impl Fn() -> DateTime<Utc>,
    ) -> Result<Refresh, RefreshError> {
        let started_at = now();
        let initial = self.store.current_taken_at().await?.is_none();
        if initial {
            kind = RefreshKind::Full;
        }
        let (read, current, scope) = match kind {
            RefreshKind::Full => {
                let (read, scope) =
                    tokio::join!(self.source.read(token), self.read_scope(token, now));
                (read, None, scope)
            }
            RefreshKind::Focused => {
                let current = self.store.current_snapshot().await?;
                let read = self.source.read_focused(&current, token).await;
                (read, Some(current), None)
            }
        };
        let progress = self.source.progress();
        let mut refresh = Refresh {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
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
        let basis = match read {
            Ok(read) => Some(self.settle(&mut refresh, read, current, initial).await?),
            Err(ReadError::Cancelled) => {
                refresh.outcome = Outcome::Cancelled;
                self.store.record_refresh(&refresh).await?;
                None
            }
            Err(e) => {
                refresh.detail = Some(e.to_string());
                tracing::warn!(error = %e, "Identity Center refresh failed; the last good snapshot stays current");
                self.store.record_refresh(&refresh).await?;
                None
            }
        };
        if let Some(scope) = scope {
            self.keep_scope(&refresh, scope, basis).await?;
        }
        // The search index follows the snapshot now, not on the first search after it (which
        // would read the database meanwhile). Only search's speed depends on it.
        if let Err(e) = self.store.prepare_search().await {
            tracing::warn!(error = %e, "the search index could not be built; searches read the database meanwhile");
        }
        tracing::info!(
            kind = refresh.kind.as_str(),
            outcome = refresh.outcome.as_str(),
            users = refresh.users,
            memberships = refresh.memberships,
            calls = refresh.calls,
            throttles = refresh.throttles,
            "Identity Center refresh finished"
        );
        Ok(refresh)
    }

    /// Compares a complete read with the current snapshot and applies, holds or records it.
    /// Returns the snapshot that is current afterwards.
    async fn settle(
        &self,
        refresh: &mut Refresh,
        read: Read,
        current: Option<Snapshot>,
        initial: bool,
    ) -> Result<Snapshot, RefreshError> {
        if initial {
            refresh.outcome = Outcome::Applied;
            self.store.apply_initial(refresh, &read.snapshot).await?;
            return Ok(read.snapshot);
        }
        // A focused refresh has the current snapshot already; a full one streams it from the
        // store into the diff rather than load it beside the snapshot just read.
        let (changes, before) = match &current {
            Some(c) => (diff(c, &read.snapshot), c.sizes()),
            None => self.store.diff_with_current(&read.snapshot).await?,
        };
        let trips = fuse::check_sizes(before, &changes, self.fuse);
        if changes.is_empty() {
            refresh.outcome = Outcome::Unchanged;
            self.store.record_refresh(refresh).await?;
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
            self.store.hold_refresh(refresh, &changes).await?;
            // The stored snapshot stays current; drift is kept against it.
            drop(read);
            return match current {
                Some(c) => Ok(c),
                None => Ok(self.store.current_snapshot().await?),
            };
        } else {
            refresh.outcome = Outcome::Applied;
            self.store.apply_refresh(refresh, &changes).await?;
        }
        drop(current);
        Ok(read.snapshot)
    }

    /// Records the IdP read; a complete one becomes the current scope, with drift against
    /// `basis` (the snapshot current after this refresh; the stored one when Identity Center's
    /// read failed; none before the first).
    async fn keep_scope(
        &self,
        refresh: &Refresh,
        scope: ScopeOutcomeOf,
        basis: Option<Snapshot>,
    ) -> Result<(), RefreshError> {
        let idp = self.idp.as_ref().map_or("IdP", IdpReader::idp);
        let mut read = ScopeRead {
            id: uuid::Uuid::new_v4().to_string(),
            refresh_id: Some(refresh.id.clone()),
            idp: idp.to_string(),
            started_at: scope.started_at,
            finished_at: scope.finished_at,
            outcome: ScopeOutcome::Failed,
            detail: None,
            users: 0,
            groups: 0,
            memberships: 0,
            drift: None,
        };
        match scope.result {
            Ok(scope) => {
                read.outcome = ScopeOutcome::Read;
                read.users = scope.users.len() as u64;
                read.groups = scope.groups.len() as u64;
                read.memberships = scope.memberships() as u64;
                let basis = match basis {
                    Some(b) => Some(b),
                    None if self.store.current_taken_at().await?.is_some() => {
                        Some(self.store.current_snapshot().await?)
                    }
                    None => None,
                };
                let drift = basis.map(|b| domain::drift::drift(&b, &scope));
                read.drift = drift.as_ref().map(|d| d.len() as u64);
                self.store
                    .save_scope(&read, &scope, drift.as_deref())
                    .await?;
                tracing::info!(
                    idp,
                    users = read.users,
                    drift = read.drift,
                    "IdP scope read"
                );
            }
            Err(e) => {
                if e.is_cancelled() {
                    read.outcome = ScopeOutcome::Cancelled;
                } else {
                    tracing::warn!(idp, error = %e, "IdP scope read failed; the last scope and drift stay");
                    read.detail = Some(e.to_string());
                }
                self.store.record_scope_read(&read).await?;
            }
        }
        Ok(())
    }
}

/// The lease's name and how long a refresh may hold it (longer than a 100k read at AWS's quotas,
/// about 11 minutes); a replica that dies mid-refresh frees it after that.
const LEASE: &str = "identity_center.refresh";
const LEASE_TTL: chrono::Duration = chrono::Duration::minutes(30);

/// Refreshes now and then every `every`; between full refreshes, a focused one every
/// `focused_every` (None: none), so seat changes are seen within that time.
pub fn spawn_schedule<S>(
    refresher: Arc<Refresher<S>>,
    every: Duration,
    focused_every: Option<Duration>,
) -> tokio::task::JoinHandle<()>
where
    S: IdentityCenterSource + Send + Sync + 'static,
{
    tokio::spawn(async move {
        let mut full = tokio::time::interval(every);
        full.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut focused = tokio::time::interval(focused_every.unwrap_or(every));
        focused.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first full refresh comes at once; the first focused one an interval later.
        focused.tick().await;
        loop {
            let outcome = tokio::select! {
                _ = full.tick() => refresher.refresh_once(Utc::now).await,
                _ = focused.tick(), if focused_every.is_some() => refresher.refresh_focused(Utc::now).await,
            };
            match outcome {
                Ok(_) | Err(RefreshError::AlreadyRunning | RefreshError::RunningElsewhere) => {}
                Err(e) => tracing::error!(error = %e, "cannot record the refresh"),
            }
        }
    })
}

/// The refresher as the pages drive it: "Refresh now" starts one in the background, the
/// progress bar reads its counters.
pub struct RefreshHandle<S> {
    refresher: Arc<Refresher<S>>,
    /// Set from the moment one is asked for until it ends, so the progress bar does not read
    /// "idle" before the refresh has taken its lock.
    asked: Arc<std::sync::atomic::AtomicBool>,
}

impl<S> RefreshHandle<S> {
    pub fn new(refresher: Arc<Refresher<S>>) -> Self {
        Self {
            refresher,
            asked: Arc::default(),
        }
    }
}

impl<S> std::fmt::Debug for RefreshHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshHandle").finish_non_exhaustive()
    }
}

impl<S> app::state::RefreshControl for RefreshHandle<S>
where
    S: IdentityCenterSource + Send + Sync + 'static,
{
    fn start(&self, focused: bool) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        if self.refresher.is_running() || self.asked.swap(true, Ordering::SeqCst) {
            return Err(RefreshError::AlreadyRunning.to_string());
        }
        let refresher = self.refresher.clone();
        let asked = self.asked.clone();
        tokio::spawn(async move {
            let outcome = if focused {
                refresher.refresh_focused(Utc::now).await
            } else {
                refresher.refresh_once(Utc::now).await
            };
            asked.store(false, Ordering::SeqCst);
            match outcome {
                Ok(r) => {
                    tracing::info!(refresh = %r.id, outcome = r.outcome.as_str(), "refresh asked for from the console ended")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "refresh asked for from the console did not run")
                }
            }
        });
        Ok(())
    }

    fn progress(&self) -> app::overview::Progress {
        let running =
            self.refresher.is_running() || self.asked.load(std::sync::atomic::Ordering::SeqCst);
        let p = self.refresher.progress();
        app::overview::Progress {
            available: true,
            running,
            phase: p.phase.to_string(),
            calls: p.calls,
            pages: p.pages,
            throttles: p.throttles,
            users: p.users,
            groups_listed: p.groups_listed,
            groups_done: p.groups_done,
            memberships: p.memberships,
            percent: (p.groups_listed > 0)
                .then(|| (p.groups_done.min(p.groups_listed) * 100 / p.groups_listed) as u8),
            seconds_left: p.seconds_left.map(|s| s.ceil() as u64),
        }
    }
}
