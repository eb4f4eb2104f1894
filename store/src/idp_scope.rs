//! The IdP's provisioning scope as last read completely, and the drift computed from it.
//!
//! `idp_users` and `idp_groups` hold the scope of the last complete read (what the user pages show
//! beside Identity Center's attributes); `drift` holds that read's findings, one row each, with
//! the objects they name indexed. A complete read replaces all three and adds its `idp_reads`
//! row in one transaction, so the pages never see half of one read and half of another. A read
//! that failed or was cancelled only adds its row: the last complete scope and drift stay.

use chrono::{DateTime, Utc};
use domain::drift::Drift;
use domain::scope::IdpScope;
use sqlx::Row;

use crate::{Conn, Pool, Store, StoreError};

/// Rows per multi-row INSERT (well under both databases' bind limits).
const BATCH: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeOutcome {
    /// Read completely: it is the current scope.
    Read,
    Failed,
    Cancelled,
}

impl ScopeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeOutcome::Read => "read",
            ScopeOutcome::Failed => "failed",
            ScopeOutcome::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(ScopeOutcome::Read),
            "failed" => Some(ScopeOutcome::Failed),
            "cancelled" => Some(ScopeOutcome::Cancelled),
            _ => None,
        }
    }
}

/// One read of the IdP's scope, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRead {
    pub id: String,
    /// The Identity Center refresh it ran beside.
    pub refresh_id: Option<String>,
    /// "Entra ID" or "PingOne".
    pub idp: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: ScopeOutcome,
    /// What failed.
    pub detail: Option<String>,
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    /// How many drift findings it gave, when drift was computed from it.
    pub drift: Option<u64>,
}

/// One stored drift finding with its place in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDrift {
    pub seq: i64,
    pub finding: Drift,
}

/// The finding's kind as stored (the `kind` tag of its JSON) and the objects it names:
/// (Identity Center user, Identity Center group, IdP object).
fn keys(d: &Drift) -> (&'static str, Option<&str>, Option<&str>, Option<&str>) {
    match d {
        Drift::MissingUser { idp_id, .. } => ("missing_user", None, None, Some(idp_id)),
        Drift::MissingGroup { idp_id, .. } => ("missing_group", None, None, Some(idp_id)),
        Drift::OrphanUser { user_id, .. } => ("orphan_user", Some(user_id), None, None),
        Drift::OrphanGroup { group_id, .. } => ("orphan_group", None, Some(group_id), None),
        Drift::UserMismatch {
            user_id, idp_id, ..
        } => ("user_mismatch", Some(user_id), None, Some(idp_id)),
        Drift::GroupMismatch {
            group_id, idp_id, ..
        } => ("group_mismatch", None, Some(group_id), Some(idp_id)),
        Drift::MissingMembership { group_id, user_id } => {
            ("missing_membership", Some(user_id), Some(group_id), None)
        }
        Drift::ExtraMembership { group_id, user_id } => {
            ("extra_membership", Some(user_id), Some(group_id), None)
        }
        // A twin pair names several users; the first is indexed, all are in the JSON.
        Drift::EmailCaseTwins { user_ids, .. } => (
            "email_case_twins",
            user_ids.first().map(String::as_str),
            None,
            None,
        ),
    }
}

macro_rules! insert_read {
    ($tx:expr, $r:expr) => {{
        let r: &ScopeRead = $r;
        sqlx::query(
            "INSERT INTO idp_reads (id, refresh_id, idp, started_at, finished_at, outcome, detail, \
             users, groups_read, memberships, drift) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&r.id)
        .bind(&r.refresh_id)
        .bind(&r.idp)
        .bind(r.started_at)
        .bind(r.finished_at)
        .bind(r.outcome.as_str())
        .bind(&r.detail)
        .bind(r.users as i64)
        .bind(r.groups as i64)
        .bind(r.memberships as i64)
        .bind(r.drift.map(|d| d as i64))
        .execute(&mut *$tx)
        .await?;
    }};
}

macro_rules! replace_drift {
    ($tx:expr, $drift:expr) => {{
        let drift: &[Drift] = $drift;
        sqlx::query("DELETE FROM drift").execute(&mut *$tx).await?;
        for (n, chunk) in drift.chunks(BATCH).enumerate() {
            let rows = chunk
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    serde_json::to_string(d)
                        .map(|json| ((n * BATCH + i) as i64, keys(d), json))
                        .map_err(|e| StoreError::Corrupt(e.to_string()))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO drift (seq, kind, user_id, group_id, idp_id, finding) ",
            );
            q.push_values(&rows, |mut b, (seq, (kind, user, group, idp), json)| {
                b.push_bind(*seq)
                    .push_bind(*kind)
                    .push_bind(*user)
                    .push_bind(*group)
                    .push_bind(*idp)
                    .push_bind(json);
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    /// Makes `scope` the current scope and `drift` the current drift, and records the read, in
    /// one transaction. `drift` is None when there was no snapshot to compare with: the previous
    /// findings are removed then (they described another scope).
    pub async fn save_scope(
        &self,
        read: &ScopeRead,
        scope: &IdpScope,
        drift: Option<&[Drift]>,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM idp_users")
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM idp_groups")
                .execute(&mut *tx)
                .await?;
            for chunk in scope.users.chunks(BATCH) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO idp_users (idp_id, user_name, display_name, email, enabled, user_name_lower) ",
                );
                q.push_values(chunk, |mut b, u| {
                    b.push_bind(&u.idp_id)
                        .push_bind(&u.user_name)
                        .push_bind(&u.display_name)
                        .push_bind(&u.email)
                        .push_bind(u.enabled)
                        .push_bind(u.user_name.to_lowercase());
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in scope.groups.chunks(BATCH) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO idp_groups (idp_id, display_name, members) ",
                );
                q.push_values(chunk, |mut b, g| {
                    b.push_bind(&g.idp_id)
                        .push_bind(&g.display_name)
                        .push_bind(g.members.len() as i64);
                });
                q.build().execute(&mut *tx).await?;
            }
            replace_drift!(tx, drift.unwrap_or_default());
            keep_figures!(tx, crate::figures::AFTER_SCOPE);
            insert_read!(tx, read);
            commit_change!(tx);
        });
        Ok(())
    }

    /// Records a read that did not complete; the current scope and drift stay.
    pub async fn record_scope_read(&self, read: &ScopeRead) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            insert_read!(tx, read);
            commit_change!(tx);
        });
        Ok(())
    }

    /// The latest scope reads, newest first.
    pub async fn scope_reads(&self, limit: u32) -> Result<Vec<ScopeRead>, StoreError> {
        self.conn().await?.scope_reads(limit).await
    }

    /// The current drift findings of one kind (or all), in order, a page at a time.
    pub async fn drift(
        &self,
        kind: Option<&str>,
        limit: u32,
        after_seq: Option<i64>,
    ) -> Result<Vec<StoredDrift>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT seq, finding FROM drift WHERE ($1 IS NULL OR kind = $1) AND seq > $2 \
                 ORDER BY seq LIMIT $3",
            )
            .bind(kind)
            .bind(after_seq.unwrap_or(-1))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            rows.iter().map(stored_drift).collect()
        })
    }

    /// The current drift findings about one Identity Center user.
    pub async fn drift_of_user(&self, user_id: &str) -> Result<Vec<StoredDrift>, StoreError> {
        self.conn().await?.drift_of_user(user_id).await
    }

    /// How many current findings there are of each kind, by kind.
    pub async fn drift_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.conn().await?.drift_counts().await
    }

    /// An IdP user of the current scope, with the attributes the IdP maps.
    pub async fn scope_user(
        &self,
        idp_id: &str,
    ) -> Result<Option<domain::scope::ScopeUser>, StoreError> {
        self.conn().await?.scope_user(idp_id).await
    }
}

impl Conn {
    /// See [`Store::drift_counts`].
    pub(crate) async fn drift_counts(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        on_conn!(self, |c| {
            let rows =
                sqlx::query("SELECT kind, COUNT(*) AS n FROM drift GROUP BY kind ORDER BY kind")
                    .fetch_all(&mut **c)
                    .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("kind")?, r.try_get::<i64, _>("n")? as u64)))
                .collect()
        })
    }

    /// When the last complete scope read finished; None before one.
    pub(crate) async fn last_complete_scope_read(
        &mut self,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(on_conn!(self, |c| sqlx::query_scalar(
            "SELECT finished_at FROM idp_reads WHERE outcome = 'read' \
             ORDER BY started_at DESC, id LIMIT 1"
        )
        .fetch_optional(&mut **c)
        .await?))
    }

    /// See [`Store::scope_reads`].
    pub(crate) async fn scope_reads(&mut self, limit: u32) -> Result<Vec<ScopeRead>, StoreError> {
        on_conn!(self, |c| {
            let rows = sqlx::query(
                "SELECT id, refresh_id, idp, started_at, finished_at, outcome, detail, users, \
                 groups_read, memberships, drift FROM idp_reads ORDER BY started_at DESC, id LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(&mut **c)
            .await?;
            rows.iter()
                .map(|row| {
                    let outcome: String = row.try_get("outcome")?;
                    Ok(ScopeRead {
                        id: row.try_get("id")?,
                        refresh_id: row.try_get("refresh_id")?,
                        idp: row.try_get("idp")?,
                        started_at: row.try_get("started_at")?,
                        finished_at: row.try_get("finished_at")?,
                        outcome: ScopeOutcome::parse(&outcome).ok_or_else(|| {
                            StoreError::Corrupt(format!("unknown scope read outcome {outcome:?}"))
                        })?,
                        detail: row.try_get("detail")?,
                        users: row.try_get::<i64, _>("users")? as u64,
                        groups: row.try_get::<i64, _>("groups_read")? as u64,
                        memberships: row.try_get::<i64, _>("memberships")? as u64,
                        drift: row.try_get::<Option<i64>, _>("drift")?.map(|d| d as u64),
                    })
                })
                .collect()
        })
    }

    /// See [`Store::drift_of_user`].
    pub(crate) async fn drift_of_user(
        &mut self,
        user_id: &str,
    ) -> Result<Vec<StoredDrift>, StoreError> {
        on_conn!(self, |c| {
            let rows =
                sqlx::query("SELECT seq, finding FROM drift WHERE user_id = $1 ORDER BY seq")
                    .bind(user_id)
                    .fetch_all(&mut **c)
                    .await?;
            rows.iter().map(stored_drift).collect()
        })
    }

    /// See [`Store::scope_user`].
    pub(crate) async fn scope_user(
        &mut self,
        idp_id: &str,
    ) -> Result<Option<domain::scope::ScopeUser>, StoreError> {
        on_conn!(self, |c| {
            let row = sqlx::query(
                "SELECT idp_id, user_name, display_name, email, enabled FROM idp_users WHERE idp_id = $1",
            )
            .bind(idp_id)
            .fetch_optional(&mut **c)
            .await?;
            row.map(|r| {
                Ok(domain::scope::ScopeUser {
                    idp_id: r.try_get("idp_id")?,
                    user_name: r.try_get("user_name")?,
                    display_name: r.try_get("display_name")?,
                    email: r.try_get("email")?,
                    enabled: r.try_get("enabled")?,
                })
            })
            .transpose()
        })
    }
}

pub(crate) fn stored_drift<R: Row>(row: &R) -> Result<StoredDrift, StoreError>
where
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let json: String = row.try_get("finding")?;
    Ok(StoredDrift {
        seq: row.try_get("seq")?,
        finding: serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("a drift finding: {e}")))?,
    })
}
