//! What a read has done so far, updated by the reader and read by whoever shows a progress bar.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters shared between the reader's tasks.
#[derive(Debug, Default)]
pub struct Progress {
    phase: Mutex<&'static str>,
    calls: AtomicU64,
    pages: AtomicU64,
    throttles: AtomicU64,
    failed_attempts: AtomicU64,
    users: AtomicU64,
    groups_listed: AtomicU64,
    groups_done: AtomicU64,
    memberships: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Progress {
    /// Back to zero, for the next read.
    pub fn reset(&self) {
        for counter in [
            &self.calls,
            &self.pages,
            &self.throttles,
            &self.failed_attempts,
            &self.users,
            &self.groups_listed,
            &self.groups_done,
            &self.memberships,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.set_phase("starting");
    }

    pub fn set_phase(&self, phase: &'static str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
    }

    /// One HTTP attempt made (retries included); `throttled` when the service said so.
    pub fn attempt(&self, throttled: bool, failed: bool) {
        add(&self.calls, 1);
        if throttled {
            add(&self.throttles, 1);
        }
        if failed {
            add(&self.failed_attempts, 1);
        }
    }

    pub fn page(&self) {
        add(&self.pages, 1);
    }

    pub fn users_read(&self, n: usize) {
        add(&self.users, n as u64);
    }

    pub fn groups_listed(&self, n: usize) {
        add(&self.groups_listed, n as u64);
    }

    pub fn group_done(&self, memberships: usize) {
        add(&self.groups_done, 1);
        add(&self.memberships, memberships as u64);
    }

    /// A copy of the counters, with an estimate of the time left at `memberships_per_second`
    /// (the membership reads are the longest part of a full read: at least one call per group).
    pub fn view(&self, memberships_per_second: f64) -> ProgressView {
        let groups_listed = get(&self.groups_listed);
        let groups_done = get(&self.groups_done);
        let remaining = groups_listed.saturating_sub(groups_done);
        ProgressView {
            phase: self.phase.lock().map(|p| *p).unwrap_or("unknown"),
            calls: get(&self.calls),
            pages: get(&self.pages),
            throttles: get(&self.throttles),
            failed_attempts: get(&self.failed_attempts),
            users: get(&self.users),
            groups_listed,
            groups_done,
            memberships: get(&self.memberships),
            seconds_left: (memberships_per_second > 0.0 && groups_listed > 0)
                .then(|| remaining as f64 / memberships_per_second),
        }
    }
}

/// A copy of a read's counters, for display.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressView {
    pub phase: &'static str,
    /// HTTP attempts, retries included.
    pub calls: u64,
    /// Pages of results received.
    pub pages: u64,
    /// Attempts the service answered with throttling.
    pub throttles: u64,
    /// Attempts that failed (throttled, 5xx, dropped, timed out) and were retried or gave up.
    pub failed_attempts: u64,
    pub users: u64,
    pub groups_listed: u64,
    pub groups_done: u64,
    pub memberships: u64,
    /// At the current pace, while membership reads remain.
    pub seconds_left: Option<f64>,
}
