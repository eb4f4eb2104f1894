//! What the console's pages would otherwise count or join over the whole snapshot on every
//! request (migration 0008): each user's `seat`, each group's `members` and the overview's
//! counts in `figures`. Every write that changes what they are computed from recomputes them in
//! its own transaction, so a reader sees them exactly as consistent as the tables themselves.

/// After the snapshot changed: each user's seat (held when assigned directly or a member of an
/// assigned group; flipped only where that changed), each group's member count, the
/// snapshot's counts, and its generation.
pub(crate) const AFTER_SNAPSHOT: &[&str] = &[
    "UPDATE ic_users SET seat = NOT seat WHERE seat <> \
     (EXISTS (SELECT 1 FROM ic_assignments a WHERE a.principal_kind = 'USER' AND a.principal_id = ic_users.id) \
     OR EXISTS (SELECT 1 FROM ic_memberships m JOIN ic_assignments a ON a.principal_kind = 'GROUP' \
     AND a.principal_id = m.group_id WHERE m.user_id = ic_users.id))",
    "UPDATE ic_groups SET members = (SELECT COUNT(*) FROM ic_memberships m WHERE m.group_id = ic_groups.id) \
     WHERE members <> (SELECT COUNT(*) FROM ic_memberships m WHERE m.group_id = ic_groups.id)",
    "DELETE FROM figures WHERE name IN ('users', 'groups', 'memberships', 'seat_holders', \
     'subscribed_groups', 'subscribed_users')",
    "INSERT INTO figures (name, value) \
     SELECT 'users', COUNT(*) FROM ic_users \
     UNION ALL SELECT 'groups', COUNT(*) FROM ic_groups \
     UNION ALL SELECT 'memberships', COUNT(*) FROM ic_memberships \
     UNION ALL SELECT 'seat_holders', COUNT(*) FROM ic_users WHERE seat = TRUE \
     UNION ALL SELECT 'subscribed_groups', COUNT(*) FROM ic_assignments WHERE principal_kind = 'GROUP' \
     UNION ALL SELECT 'subscribed_users', COUNT(*) FROM ic_assignments WHERE principal_kind = 'USER'",
    // Counts the snapshot's writes: what tells a search index (`search.rs`) it is stale.
    "INSERT INTO figures (name, value) VALUES ('snapshot_generation', 1) \
     ON CONFLICT (name) DO UPDATE SET value = figures.value + 1",
];

/// After a complete scope read replaced the scope and the drift: their counts.
pub(crate) const AFTER_SCOPE: &[&str] = &[
    "DELETE FROM figures WHERE name IN ('scope_users', 'scope_groups', 'drift')",
    "INSERT INTO figures (name, value) \
     SELECT 'scope_users', COUNT(*) FROM idp_users \
     UNION ALL SELECT 'scope_groups', COUNT(*) FROM idp_groups \
     UNION ALL SELECT 'drift', COUNT(*) FROM drift",
];

/// Runs `$statements` (one of the lists above) in the transaction `$tx`.
macro_rules! keep_figures {
    ($tx:expr, $statements:expr) => {{
        for sql in $statements {
            sqlx::query(sql).execute(&mut *$tx).await?;
        }
    }};
}

/// Counts one change of what the console's pages show, in the changing transaction: what tells
/// page data kept in memory (`kept.rs`), in this process and every other replica, that it is
/// stale. Run last, just before the commit, so that on PostgreSQL concurrent writers queue on
/// this one row only for the moment between it and their commit.
pub(crate) const COUNT_CHANGE: &str = "INSERT INTO figures (name, value) VALUES ('data_version', 1) \
     ON CONFLICT (name) DO UPDATE SET value = figures.value + 1";

/// Counts the change (see [`COUNT_CHANGE`]) and commits the transaction `$tx`. Every write of
/// what a page shows ends with this instead of a bare `commit()`.
macro_rules! commit_change {
    ($tx:expr) => {{
        sqlx::query($crate::figures::COUNT_CHANGE)
            .execute(&mut *$tx)
            .await?;
        $tx.commit().await?;
    }};
}

use crate::{Conn, StoreError};

impl Conn {
    /// One of the counters in `figures` (`snapshot_generation`, `data_version`); 0 before the
    /// first write that counts itself there.
    pub(crate) async fn counter(&mut self, name: &str) -> Result<i64, StoreError> {
        let value: Option<i64> = on_conn!(self, |c| sqlx::query_scalar(
            "SELECT value FROM figures WHERE name = $1"
        )
        .bind(name)
        .fetch_optional(&mut **c)
        .await?);
        Ok(value.unwrap_or(0))
    }
}
