//! The mass-deletion fuse: a snapshot that would remove more than a set share of the users,
//! groups or memberships at once is held back until an admin confirms it — a misconfigured
//! provisioning scope or a failed read should not look like half the company leaving.

use serde::{Deserialize, Serialize};

use crate::changes::Changes;
use crate::snapshot::{Sizes, Snapshot};

/// The largest share (0.0–1.0) of each kind that one refresh may remove without confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FuseLimit(pub f64);

impl Default for FuseLimit {
    fn default() -> Self {
        Self(0.10)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Users,
    Groups,
    Memberships,
}

/// Why a snapshot is held back: `removed` of `before` objects of one kind would go.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trip {
    pub kind: Kind,
    pub removed: usize,
    pub before: usize,
    pub limit: f64,
}

impl Trip {
    pub fn share(&self) -> f64 {
        if self.before == 0 {
            0.0
        } else {
            self.removed as f64 / self.before as f64
        }
    }
}

/// The kinds whose removals exceed the limit (empty: apply the snapshot).
pub fn check(before: &Snapshot, changes: &Changes, limit: FuseLimit) -> Vec<Trip> {
    check_sizes(before.sizes(), changes, limit)
}

/// [`check`] against the earlier snapshot's sizes (when it was streamed, not loaded).
pub fn check_sizes(before: Sizes, changes: &Changes, limit: FuseLimit) -> Vec<Trip> {
    [
        (Kind::Users, changes.users_removed.len(), before.users),
        (Kind::Groups, changes.groups_removed.len(), before.groups),
        (
            Kind::Memberships,
            changes.memberships_removed.len(),
            before.memberships,
        ),
    ]
    .into_iter()
    .map(|(kind, removed, before)| Trip {
        kind,
        removed,
        before,
        limit: limit.0,
    })
    .filter(|t| t.before > 0 && t.share() > t.limit)
    .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::changes::diff;
    use crate::snapshot::tests::user;

    fn users(n: usize) -> Snapshot {
        Snapshot::build(
            (0..n)
                .map(|i| user(&format!("u{i:03}"), &format!("n{i}")))
                .collect(),
            vec![],
            [],
            vec![],
        )
        .unwrap()
    }

    #[test]
    fn removing_more_than_the_share_trips_the_fuse_and_exactly_the_share_does_not() {
        let before = users(100);
        let ten_gone = users(90);
        let eleven_gone = users(89);
        assert!(check(&before, &diff(&before, &ten_gone), FuseLimit::default()).is_empty());
        let trips = check(&before, &diff(&before, &eleven_gone), FuseLimit::default());
        assert_eq!(trips.len(), 1);
        assert_eq!(trips[0].kind, Kind::Users);
        assert_eq!((trips[0].removed, trips[0].before), (11, 100));
        // Growth never trips it, and neither does a first snapshot.
        assert!(check(&ten_gone, &diff(&ten_gone, &before), FuseLimit::default()).is_empty());
        let empty = Snapshot::default();
        assert!(check(&empty, &diff(&empty, &before), FuseLimit(0.0)).is_empty());
    }
}
