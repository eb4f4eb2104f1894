//! One user's or group's history (`ic_object_changes`, migration 0009): each applied refresh's
//! changes split by the object they touch ([`domain::timeline::by_object`]), written with the
//! history row in the same transaction, read by the user and group pages.

use chrono::{DateTime, Utc};
use domain::changes::Changes;
use domain::timeline::{Event, ObjectKind};
use sqlx::Row;

use crate::{Conn, Pool, Store, StoreError};

/// One refresh's entry in an object's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    /// The history entry's sequence number (ascending in time).
    pub seq: i64,
    pub taken_at: DateTime<Utc>,
    pub events: Vec<Event>,
}

pub(crate) fn kind_str(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::User => "user",
        ObjectKind::Group => "group",
    }
}

/// The rows to write for one refresh's changes: (kind, object id, events as JSON).
pub(crate) fn object_rows(
    changes: &Changes,
) -> Result<Vec<(&'static str, String, String)>, StoreError> {
    domain::timeline::by_object(changes)
        .into_iter()
        .map(|((kind, id), events)| {
            let json = serde_json::to_string(&events)
                .map_err(|e| StoreError::Corrupt(format!("history of {id}: {e}")))?;
            Ok((kind_str(kind), id, json))
        })
        .collect()
}

/// Writes the per-object split of history entry `$seq` (taken at `$at`) inside `$tx`.
macro_rules! insert_object_changes {
    ($tx:expr, $seq:expr, $at:expr, $changes:expr) => {{
        let rows = crate::timeline::object_rows($changes)?;
        let (seq, at): (i64, DateTime<Utc>) = ($seq, $at);
        for chunk in rows.chunks(500) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO ic_object_changes (kind, object_id, seq, taken_at, events) ",
            );
            q.push_values(chunk, |mut b, (kind, id, json)| {
                b.push_bind(*kind)
                    .push_bind(id)
                    .push_bind(seq)
                    .push_bind(at)
                    .push_bind(json);
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    /// The latest `limit` history entries of one user or group, newest first. An object first
    /// seen in the first snapshot has no entry for it (that snapshot is the whole directory).
    pub async fn object_history(
        &self,
        kind: ObjectKind,
        id: &str,
        limit: u32,
    ) -> Result<Vec<ObjectChange>, StoreError> {
        self.conn().await?.object_history(kind, id, limit).await
    }

    /// Display names of the groups with these ids that Identity Center still has.
    pub async fn group_names(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        self.conn().await?.group_names(ids).await
    }

    /// An object's page history ([`Store::object_history`]) with the names of the groups its
    /// entries name ([`Store::group_names`]), from one snapshot, kept until the data changes.
    pub async fn object_timeline(
        &self,
        kind: ObjectKind,
        id: &str,
        limit: u32,
    ) -> Result<(Vec<ObjectChange>, std::collections::HashMap<String, String>), StoreError> {
        self.kept(
            "object_timeline",
            &(kind_str(kind), id, limit),
            async |conn: &mut Conn| {
                let history = conn.object_history(kind, id, limit).await?;
                let mut ids: Vec<String> = history
                    .iter()
                    .flat_map(|c| domain::timeline::groups_named(&c.events).map(str::to_string))
                    .collect();
                ids.sort();
                ids.dedup();
                let names = conn.group_names(&ids).await?;
                Ok((history, names))
            },
        )
        .await
    }
}

impl Conn {
    /// See [`Store::object_history`].
    async fn object_history(
        &mut self,
        kind: ObjectKind,
        id: &str,
        limit: u32,
    ) -> Result<Vec<ObjectChange>, StoreError> {
        let rows: Vec<(i64, DateTime<Utc>, String)> = on_conn!(self, |c| {
            sqlx::query_as(
            "SELECT seq, taken_at, events FROM ic_object_changes WHERE kind = $1 AND object_id = $2 \
             ORDER BY seq DESC LIMIT $3"
        )
        .bind(kind_str(kind))
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&mut **c)
        .await?
        });
        rows.into_iter()
            .map(|(seq, taken_at, json)| {
                let events = serde_json::from_str(&json).map_err(|e| {
                    StoreError::Corrupt(format!("history entry {seq} of {id}: {e}"))
                })?;
                Ok(ObjectChange {
                    seq,
                    taken_at,
                    events,
                })
            })
            .collect()
    }

    /// See [`Store::group_names`].
    async fn group_names(
        &mut self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(String, String)> = on_conn!(self, |c| {
            let mut q =
                sqlx::QueryBuilder::new("SELECT id, display_name FROM ic_groups WHERE id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id.clone());
            }
            q.push(")");
            q.build_query_as().fetch_all(&mut **c).await?
        });
        Ok(rows.into_iter().collect())
    }
}

impl Store {
    /// Splits by object the history entries written before migration 0009 (those with changes
    /// but no `ic_object_changes` rows). Runs at every migrate; once done, it finds nothing.
    pub(crate) async fn split_old_history(&self) -> Result<u64, StoreError> {
        let (mut split, mut after) = (0, 0_i64);
        loop {
            let pending = on_pool!(self, |pool| {
                let rows = sqlx::query(
                    "SELECT h.seq, h.taken_at, h.changes FROM ic_history h WHERE h.initial = FALSE \
                     AND h.changes IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ic_object_changes o \
                     WHERE o.seq = h.seq) AND h.seq > $1 ORDER BY h.seq LIMIT 1",
                )
                .bind(after)
                .fetch_optional(pool)
                .await?;
                match rows {
                    None => None,
                    Some(r) => Some((
                        r.try_get::<i64, _>("seq")?,
                        r.try_get::<DateTime<Utc>, _>("taken_at")?,
                        r.try_get::<String, _>("changes")?,
                    )),
                }
            });
            let Some((seq, at, json)) = pending else {
                return Ok(split);
            };
            let changes: Changes = serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("history entry {seq}: {e}")))?;
            after = seq;
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await?;
                insert_object_changes!(tx, seq, at, &changes);
                commit_change!(tx);
            });
            split += u64::from(!changes.is_empty());
        }
    }
}
