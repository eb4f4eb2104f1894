//! Identity Center as Tessera last read it, and its history.
//!
//! The current snapshot lives in `ic_users`, `ic_groups`, `ic_memberships` and `ic_assignments`
//! (indexed for search). Each applied refresh adds one `ic_history` row holding the changes it
//! brought, so the snapshot at any time since the first refresh is the current one with the later
//! changes undone. Every refresh, applied or not, leaves an `ic_refreshes` row. A refresh is
//! applied in one transaction: the tables, the history row and the refresh row change together or
//! not at all, so a failure part-way leaves the last good snapshot current.

use chrono::{DateTime, Utc};
use domain::changes::{Changes, Diff, apply};
use domain::snapshot::{Assignment, Group, PrincipalKind, Sizes, Snapshot, User, UserStatus};
use futures_util::TryStreamExt;
use sqlx::Row;

use crate::{Conn, Pool, Store, StoreError};

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bind limits.
const BATCH: usize = 500;

/// What one refresh did, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    pub id: String,
    pub kind: RefreshKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// What failed, or why it is held (the fuse's trip).
    pub detail: Option<String>,
    pub calls: u64,
    pub throttles: u64,
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
}

/// What a refresh read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshKind {
    /// The whole directory (and the IdP's scope, when one is configured).
    Full,
    /// Only what decides seats: the seat product's assignments and its groups' members.
    Focused,
}

impl RefreshKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshKind::Full => "full",
            RefreshKind::Focused => "focused",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(RefreshKind::Full),
            "focused" => Some(RefreshKind::Focused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its changes became the current snapshot.
    Applied,
    /// Read completely; nothing had changed.
    Unchanged,
    /// Kept aside by the mass-deletion fuse until an admin confirms or discards it.
    Held,
    /// Held, then confirmed and applied.
    Confirmed,
    /// Held, then discarded.
    Discarded,
    Failed,
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::Held => "held",
            Outcome::Confirmed => "confirmed",
            Outcome::Discarded => "discarded",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "applied" => Outcome::Applied,
            "unchanged" => Outcome::Unchanged,
            "held" => Outcome::Held,
            "confirmed" => Outcome::Confirmed,
            "discarded" => Outcome::Discarded,
            "failed" => Outcome::Failed,
            "cancelled" => Outcome::Cancelled,
            _ => return None,
        })
    }
}

fn status_str(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Enabled => "ENABLED",
        UserStatus::Disabled => "DISABLED",
    }
}

fn kind_str(k: PrincipalKind) -> &'static str {
    match k {
        PrincipalKind::User => "USER",
        PrincipalKind::Group => "GROUP",
    }
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

/// Inserts users in batches.
macro_rules! insert_users {
    ($tx:expr, $users:expr, $at:expr) => {{
        for chunk in $users.chunks(BATCH) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO ic_users (id, user_name, display_name, given_name, family_name, email, status, \
                 external_id, user_name_lower, display_name_lower, email_lower, first_seen) ",
            );
            q.push_values(chunk, |mut b, u| {
                b.push_bind(&u.id)
                    .push_bind(&u.user_name)
                    .push_bind(&u.display_name)
                    .push_bind(&u.given_name)
                    .push_bind(&u.family_name)
                    .push_bind(&u.email)
                    .push_bind(status_str(u.status))
                    .push_bind(&u.external_id)
                    .push_bind(u.user_name.to_lowercase())
                    .push_bind(u.display_name.to_lowercase())
                    .push_bind(u.email.as_ref().map(|e| e.to_lowercase()))
                    .push_bind($at);
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Inserts groups in batches.
macro_rules! insert_groups {
    ($tx:expr, $groups:expr, $at:expr) => {{
        for chunk in $groups.chunks(BATCH) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO ic_groups (id, display_name, display_name_lower, external_id, first_seen) ",
            );
            q.push_values(chunk, |mut b, g| {
                b.push_bind(&g.id)
                    .push_bind(&g.display_name)
                    .push_bind(g.display_name.to_lowercase())
                    .push_bind(&g.external_id)
                    .push_bind($at);
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Inserts memberships in batches: `$pairs` is a slice, `|$p| ($g, $u)` gives the group and user
/// ids of one element.
macro_rules! insert_memberships {
    ($tx:expr, $pairs:expr, |$p:pat_param| ($g:expr, $u:expr), $at:expr) => {{
        for chunk in $pairs.chunks(BATCH) {
            let mut q =
                sqlx::QueryBuilder::new("INSERT INTO ic_memberships (group_id, user_id, since) ");
            q.push_values(chunk, |mut b, $p| {
                b.push_bind($g).push_bind($u).push_bind($at);
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Inserts assignments in batches.
macro_rules! insert_assignments {
    ($tx:expr, $assignments:expr, $at:expr) => {{
        for chunk in $assignments.chunks(BATCH) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO ic_assignments (principal_kind, principal_id, since) ",
            );
            q.push_values(chunk, |mut b, a| {
                b.push_bind(kind_str(a.kind))
                    .push_bind(&a.principal_id)
                    .push_bind($at);
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Applies `changes` to the current-snapshot tables inside a transaction. One body for both
/// databases: `$tx` is a transaction of either kind.
macro_rules! write_changes {
    ($tx:expr, $changes:expr, $at:expr) => {{
        let changes: &Changes = $changes;
        let at: DateTime<Utc> = $at;
        for (g, u) in &changes.memberships_removed {
            sqlx::query("DELETE FROM ic_memberships WHERE group_id = $1 AND user_id = $2")
                .bind(g)
                .bind(u)
                .execute(&mut *$tx)
                .await?;
        }
        for a in &changes.assignments_removed {
            sqlx::query("DELETE FROM ic_assignments WHERE principal_kind = $1 AND principal_id = $2")
                .bind(kind_str(a.kind))
                .bind(&a.principal_id)
                .execute(&mut *$tx)
                .await?;
        }
        for u in &changes.users_removed {
            sqlx::query("DELETE FROM ic_users WHERE id = $1")
                .bind(&u.id)
                .execute(&mut *$tx)
                .await?;
        }
        for g in &changes.groups_removed {
            sqlx::query("DELETE FROM ic_groups WHERE id = $1")
                .bind(&g.id)
                .execute(&mut *$tx)
                .await?;
        }
        for c in &changes.users_changed {
            let u = &c.after;
            sqlx::query(
                "UPDATE ic_users SET user_name = $2, display_name = $3, given_name = $4, family_name = $5, \
                 email = $6, status = $7, external_id = $8, user_name_lower = $9, display_name_lower = $10, \
                 email_lower = $11 WHERE id = $1",
            )
            .bind(&u.id)
            .bind(&u.user_name)
            .bind(&u.display_name)
            .bind(&u.given_name)
            .bind(&u.family_name)
            .bind(&u.email)
            .bind(status_str(u.status))
            .bind(&u.external_id)
            .bind(u.user_name.to_lowercase())
            .bind(u.display_name.to_lowercase())
            .bind(u.email.as_ref().map(|e| e.to_lowercase()))
            .execute(&mut *$tx)
            .await?;
        }
        for c in &changes.groups_changed {
            let g = &c.after;
            sqlx::query(
                "UPDATE ic_groups SET display_name = $2, display_name_lower = $3, external_id = $4 WHERE id = $1",
            )
            .bind(&g.id)
            .bind(&g.display_name)
            .bind(g.display_name.to_lowercase())
            .bind(&g.external_id)
            .execute(&mut *$tx)
            .await?;
        }
        insert_users!($tx, changes.users_added, at);
        insert_groups!($tx, changes.groups_added, at);
        insert_memberships!($tx, changes.memberships_added, |(g, u)| (g, u), at);
        insert_assignments!($tx, changes.assignments_added, at);
    }};
}

/// Inserts the refresh's row.
macro_rules! insert_refresh {
    ($tx:expr, $r:expr, $held:expr) => {{
        let r: &Refresh = $r;
        let held: Option<String> = $held;
        sqlx::query(
            "INSERT INTO ic_refreshes (id, started_at, finished_at, outcome, detail, calls, throttles, \
             users, groups_read, memberships, held_changes, kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&r.id)
        .bind(r.started_at)
        .bind(r.finished_at)
        .bind(r.outcome.as_str())
        .bind(&r.detail)
        .bind(r.calls as i64)
        .bind(r.throttles as i64)
        .bind(r.users as i64)
        .bind(r.groups as i64)
        .bind(r.memberships as i64)
        .bind(held)
        .bind(r.kind.as_str())
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Appends a history row and evaluates to its `seq`: `json` holds the changes (none for the first
/// refresh, which is the whole directory), `counts` the users added, removed and changed and the
/// memberships added and removed.
macro_rules! insert_history_row {
    ($tx:expr, $refresh_id:expr, $at:expr, $initial:expr, $json:expr, $counts:expr) => {{
        let counts: [usize; 5] = $counts;
        let json: Option<String> = $json;
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM ic_history")
            .fetch_one(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO ic_history (seq, refresh_id, taken_at, initial, changes, users_added, users_removed, \
             users_changed, memberships_added, memberships_removed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(seq)
        .bind($refresh_id)
        .bind($at)
        .bind($initial)
        .bind(json)
        .bind(counts[0] as i64)
        .bind(counts[1] as i64)
        .bind(counts[2] as i64)
        .bind(counts[3] as i64)
        .bind(counts[4] as i64)
        .execute(&mut *$tx)
        .await?;
        seq
    }};
}

/// Appends the history row of an applied refresh (not the first: [`Store::apply_initial`]) and
/// its split by object (`timeline.rs`).
macro_rules! insert_history {
    ($tx:expr, $refresh_id:expr, $changes:expr, $at:expr) => {{
        let changes: &Changes = $changes;
        let json = serde_json::to_string(changes).map_err(|e| corrupt(e.to_string()))?;
        let seq = insert_history_row!(
            $tx,
            $refresh_id,
            $at,
            false,
            Some(json),
            [
                changes.users_added.len(),
                changes.users_removed.len(),
                changes.users_changed.len(),
                changes.memberships_added.len(),
                changes.memberships_removed.len(),
            ]
        );
        insert_object_changes!($tx, seq, $at, changes);
    }};
}

/// A refresh from an `ic_refreshes` row of either database.
/// The users, groups and assignments of the current snapshot as rows, and how each becomes a
/// domain value (shared by loading the snapshot and streaming it into a diff).
const USER_COLUMNS: &str = "SELECT id, user_name, display_name, given_name, family_name, email, status, external_id FROM ic_users";
const GROUP_COLUMNS: &str = "SELECT id, display_name, external_id FROM ic_groups";
const ASSIGNMENT_COLUMNS: &str = "SELECT principal_kind, principal_id FROM ic_assignments";

macro_rules! user_of {
    ($r:expr) => {{
        let r = $r;
        let status: &str = r.try_get("status")?;
        User {
            id: r.try_get("id")?,
            user_name: r.try_get("user_name")?,
            display_name: r.try_get("display_name")?,
            given_name: r.try_get("given_name")?,
            family_name: r.try_get("family_name")?,
            email: r.try_get("email")?,
            status: if status == "DISABLED" {
                UserStatus::Disabled
            } else {
                UserStatus::Enabled
            },
            external_id: r.try_get("external_id")?,
        }
    }};
}

macro_rules! group_of {
    ($r:expr) => {{
        let r = $r;
        Group {
            id: r.try_get("id")?,
            display_name: r.try_get("display_name")?,
            external_id: r.try_get("external_id")?,
        }
    }};
}

macro_rules! assignment_of {
    ($r:expr) => {{
        let r = $r;
        let kind: &str = r.try_get("principal_kind")?;
        Assignment {
            kind: if kind == "USER" {
                PrincipalKind::User
            } else {
                PrincipalKind::Group
            },
            principal_id: r.try_get("principal_id")?,
        }
    }};
}

macro_rules! refresh_of {
    ($row:expr) => {{
        let row = $row;
        let outcome: String = row.try_get("outcome")?;
        let kind: String = row.try_get("kind")?;
        Ok::<Refresh, StoreError>(Refresh {
            id: row.try_get("id")?,
            kind: RefreshKind::parse(&kind)
                .ok_or_else(|| corrupt(format!("unknown refresh kind {kind:?}")))?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| corrupt(format!("unknown refresh outcome {outcome:?}")))?,
            detail: row.try_get("detail")?,
            calls: row.try_get::<i64, _>("calls")? as u64,
            throttles: row.try_get::<i64, _>("throttles")? as u64,
            users: row.try_get::<i64, _>("users")? as u64,
            groups: row.try_get::<i64, _>("groups_read")? as u64,
            memberships: row.try_get::<i64, _>("memberships")? as u64,
        })
    }};
}

const REFRESH_COLUMNS: &str = "id, kind, started_at, finished_at, outcome, detail, calls, throttles, users, groups_read, memberships";

impl Conn {
    /// See [`Store::refreshes`].
    pub(crate) async fn refreshes(&mut self, limit: u32) -> Result<Vec<Refresh>, StoreError> {
        let sql = format!(
            "SELECT {REFRESH_COLUMNS} FROM ic_refreshes ORDER BY started_at DESC, id LIMIT $1"
        );
        on_conn!(self, |c| {
            let rows = sqlx::query(&sql)
                .bind(i64::from(limit))
                .fetch_all(&mut **c)
                .await?;
            rows.iter().map(|row| refresh_of!(row)).collect()
        })
    }

    /// See [`Store::latest_refreshes`].
    pub(crate) async fn latest_refreshes(
        &mut self,
    ) -> Result<(Option<Refresh>, Option<Refresh>), StoreError> {
        let sql = format!(
            "SELECT 0 AS which, latest.* FROM (SELECT {REFRESH_COLUMNS} FROM ic_refreshes \
             ORDER BY started_at DESC, id LIMIT 1) latest \
             UNION ALL SELECT 1 AS which, success.* FROM (SELECT {REFRESH_COLUMNS} FROM ic_refreshes \
             WHERE outcome IN ('applied', 'unchanged', 'confirmed') ORDER BY finished_at DESC, id LIMIT 1) success"
        );
        on_conn!(self, |c| {
            let rows = sqlx::query(&sql).fetch_all(&mut **c).await?;
            let (mut latest, mut success) = (None, None);
            for row in &rows {
                let which: i32 = row.try_get("which")?;
                let refresh = refresh_of!(row)?;
                if which == 0 {
                    latest = Some(refresh);
                } else {
                    success = Some(refresh);
                }
            }
            Ok((latest, success))
        })
    }

    /// See [`Store::current_taken_at`].
    pub(crate) async fn current_taken_at(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(on_conn!(self, |c| sqlx::query_scalar(
            "SELECT taken_at FROM ic_history ORDER BY seq DESC LIMIT 1"
        )
        .fetch_optional(&mut **c)
        .await?))
    }
}

impl Store {
    /// Applies a refresh: its changes become the current snapshot and one history entry, all in
    /// one transaction.
    pub async fn apply_refresh(
        &self,
        refresh: &Refresh,
        changes: &Changes,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            write_changes!(tx, changes, refresh.finished_at);
            keep_figures!(tx, crate::figures::AFTER_SNAPSHOT);
            insert_refresh!(tx, refresh, None);
            insert_history!(tx, &refresh.id, changes, refresh.finished_at);
            commit_change!(tx);
        });
        Ok(())
    }

    /// Applies the first refresh: `snapshot` becomes the current one, written straight from its
    /// users, groups and membership positions (no list of changes from nothing is built — at
    /// 100,000 users that list alone was a million pairs of id strings). Its history entry has
    /// no changes (the whole directory is the first entry). One transaction; the tables must be
    /// empty (no refresh applied before).
    pub async fn apply_initial(
        &self,
        refresh: &Refresh,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        let at = refresh.finished_at;
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ic_history")
                .fetch_one(&mut *tx)
                .await?;
            if applied > 0 {
                return Err(corrupt(
                    "a first refresh was applied over an existing snapshot",
                ));
            }
            insert_users!(tx, snapshot.users(), at);
            insert_groups!(tx, snapshot.groups(), at);
            let (groups, users) = (snapshot.groups(), snapshot.users());
            insert_memberships!(
                tx,
                snapshot.membership_positions(),
                |&(g, u)| (&groups[g as usize].id, &users[u as usize].id),
                at
            );
            insert_assignments!(tx, snapshot.assignments(), at);
            keep_figures!(tx, crate::figures::AFTER_SNAPSHOT);
            insert_refresh!(tx, refresh, None);
            insert_history_row!(
                tx,
                &refresh.id,
                at,
                true,
                None,
                [snapshot.users().len(), 0, 0, snapshot.membership_count(), 0]
            );
            commit_change!(tx);
        });
        Ok(())
    }

    /// Records a refresh that changed nothing: failed, cancelled or unchanged.
    pub async fn record_refresh(&self, refresh: &Refresh) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            insert_refresh!(tx, refresh, None);
            commit_change!(tx);
        });
        Ok(())
    }

    /// Keeps a refresh aside (the fuse tripped): its changes wait for an admin.
    pub async fn hold_refresh(
        &self,
        refresh: &Refresh,
        changes: &Changes,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(changes).map_err(|e| corrupt(e.to_string()))?;
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            insert_refresh!(tx, refresh, Some(json));
            commit_change!(tx);
        });
        Ok(())
    }

    /// Applies a held refresh, if nothing was applied after it was held (otherwise its changes
    /// no longer fit the current snapshot: discard it and refresh again).
    pub async fn confirm_held(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(
                "SELECT held_changes, finished_at FROM ic_refreshes WHERE id = $1 AND outcome = 'held'",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotHeld(id.to_string()))?;
            let json: Option<String> = row.try_get("held_changes")?;
            let held_at: DateTime<Utc> = row.try_get("finished_at")?;
            let later: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM ic_history WHERE taken_at > $1")
                    .bind(held_at)
                    .fetch_one(&mut *tx)
                    .await?;
            if later > 0 {
                return Err(StoreError::HeldIsStale(id.to_string()));
            }
            let changes: Changes = serde_json::from_str(json.as_deref().unwrap_or("{}"))
                .map_err(|e| corrupt(format!("held changes of {id}: {e}")))?;
            write_changes!(tx, &changes, at);
            keep_figures!(tx, crate::figures::AFTER_SNAPSHOT);
            sqlx::query(
                "UPDATE ic_refreshes SET outcome = 'confirmed', held_changes = NULL WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            insert_history!(tx, id, &changes, at);
            commit_change!(tx);
        });
        Ok(())
    }

    /// Drops a held refresh; the current snapshot stays.
    pub async fn discard_held(&self, id: &str) -> Result<(), StoreError> {
        let done = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
            "UPDATE ic_refreshes SET outcome = 'discarded', held_changes = NULL WHERE id = $1 AND outcome = 'held'"
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
            commit_change!(tx);
            done
        });
        if done == 0 {
            return Err(StoreError::NotHeld(id.to_string()));
        }
        Ok(())
    }

    /// The latest refreshes, newest first.
    pub async fn refreshes(&self, limit: u32) -> Result<Vec<Refresh>, StoreError> {
        self.conn().await?.refreshes(limit).await
    }

    /// The latest refresh and the newest that applied, confirmed or found nothing to change
    /// (the overview shows both), in one read.
    pub async fn latest_refreshes(&self) -> Result<(Option<Refresh>, Option<Refresh>), StoreError> {
        self.conn().await?.latest_refreshes().await
    }

    /// When the current snapshot was taken; None before the first applied refresh.
    pub async fn current_taken_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.conn().await?.current_taken_at().await
    }

    /// The current snapshot (empty before the first refresh).
    pub async fn current_snapshot(&self) -> Result<Snapshot, StoreError> {
        on_pool!(self, |pool| {
            // Rows are streamed and decoded one at a time: fetching 100,000 users at once held
            // every row in SQLite's and sqlx's buffers beside the decoded users (≈110 MB).
            let mut users = Vec::new();
            {
                let mut rows = sqlx::query(USER_COLUMNS).fetch(pool);
                while let Some(r) = rows.try_next().await? {
                    users.push(user_of!(&r));
                }
            }
            let mut groups = Vec::new();
            {
                let mut rows = sqlx::query(GROUP_COLUMNS).fetch(pool);
                while let Some(r) = rows.try_next().await? {
                    groups.push(group_of!(&r));
                }
            }
            // Memberships are streamed and resolved to positions as they come, so a million of
            // them never exist as strings at once.
            users.sort_unstable_by(|a, b| a.id.cmp(&b.id));
            groups.sort_unstable_by(|a, b| a.id.cmp(&b.id));
            let user_at: std::collections::HashMap<&str, u32> = users
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.as_str(), i as u32))
                .collect();
            let group_at: std::collections::HashMap<&str, u32> = groups
                .iter()
                .enumerate()
                .map(|(i, g)| (g.id.as_str(), i as u32))
                .collect();
            let mut memberships: Vec<(u32, u32)> = Vec::new();
            {
                let mut rows =
                    sqlx::query("SELECT group_id, user_id FROM ic_memberships").fetch(pool);
                while let Some(row) = rows.try_next().await? {
                    let g: &str = row.try_get("group_id")?;
                    let u: &str = row.try_get("user_id")?;
                    match (group_at.get(g), user_at.get(u)) {
                        (Some(&g), Some(&u)) => memberships.push((g, u)),
                        _ => {
                            return Err(corrupt(format!(
                                "membership ({g}, {u}) names a user or group that is not stored"
                            )));
                        }
                    }
                }
            }
            drop(user_at);
            drop(group_at);
            let mut assignments = Vec::new();
            for r in sqlx::query(ASSIGNMENT_COLUMNS).fetch_all(pool).await? {
                assignments.push(assignment_of!(&r));
            }
            Snapshot::from_positions(users, groups, memberships, assignments)
                .map_err(|e| corrupt(format!("the stored snapshot does not fit together: {e}")))
        })
    }

    /// The changes from the current snapshot to `after`, and the current snapshot's sizes, with
    /// the stored rows streamed through [`Diff`] instead of loaded: a refresh that just read
    /// 100,000 users need not hold the stored 100,000 beside them (about 50 MB).
    pub async fn diff_with_current(
        &self,
        after: &Snapshot,
    ) -> Result<(Changes, Sizes), StoreError> {
        let mut diff = Diff::new(after);
        on_pool!(self, |pool| {
            let mut rows = sqlx::query(USER_COLUMNS).fetch(pool);
            while let Some(r) = rows.try_next().await? {
                diff.user(&user_of!(&r));
            }
            drop(rows);
            let mut rows = sqlx::query(GROUP_COLUMNS).fetch(pool);
            while let Some(r) = rows.try_next().await? {
                diff.group(&group_of!(&r));
            }
            drop(rows);
            let mut rows = sqlx::query("SELECT group_id, user_id FROM ic_memberships").fetch(pool);
            while let Some(r) = rows.try_next().await? {
                diff.membership(r.try_get("group_id")?, r.try_get("user_id")?);
            }
            drop(rows);
            for r in sqlx::query(ASSIGNMENT_COLUMNS).fetch_all(pool).await? {
                diff.assignment(&assignment_of!(&r));
            }
        });
        Ok(diff.finish())
    }

    /// Identity Center as it was at `at`: the current snapshot with every later change undone.
    /// None when `at` is before the first refresh.
    pub async fn snapshot_at(&self, at: DateTime<Utc>) -> Result<Option<Snapshot>, StoreError> {
        let first: Option<DateTime<Utc>> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT taken_at FROM ic_history ORDER BY seq LIMIT 1"
        )
        .fetch_optional(pool)
        .await?);
        if first.is_none_or(|first| at < first) {
            return Ok(None);
        }
        let later: Vec<Option<String>> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT changes FROM ic_history WHERE taken_at > $1 ORDER BY seq DESC"
        )
        .bind(at)
        .fetch_all(pool)
        .await?);
        let mut snapshot = self.current_snapshot().await?;
        for json in later {
            let changes: Changes = serde_json::from_str(json.as_deref().unwrap_or("{}"))
                .map_err(|e| corrupt(format!("a history entry cannot be read: {e}")))?;
            snapshot = apply(&snapshot, &changes.inverted())
                .map_err(|e| corrupt(format!("history does not replay: {e}")))?;
        }
        Ok(Some(snapshot))
    }
}
