//! Job leases: one replica at a time runs a background job. A lease is taken when free or
//! expired and released when the job ends; if the replica dies, the lease expires.

use chrono::{DateTime, Duration, Utc};

use crate::{Pool, Store, StoreError};

impl Store {
    /// Takes the lease `name` for `holder` until `now + ttl`, if it is free, expired or already
    /// this holder's. True when taken.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let taken = on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_leases.expires_at <= $4 OR job_leases.holder = excluded.holder"
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(taken == 1)
    }

    /// Gives the lease back, if `holder` still holds it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM job_leases WHERE name = $1 AND holder = $2"
        )
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }
}
