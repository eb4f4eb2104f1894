//! The connection checklist's data (migration 0007): what admins entered for it (metadata files,
//! the SCIM connection with its token sealed), their attestations, and each check's last
//! verified outcome.

use chrono::{DateTime, NaiveDate, Utc};
use domain::connection::{Attestation, CheckId, Outcome};
use sqlx::Row;

use crate::{Conn, Pool, Store, StoreError};

/// A setting as stored, with who entered it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// The Connection page's data (see [`Store::checklist`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// Each check's last outcome, in checklist order.
    pub checks: Vec<Verified>,
    /// Every setting entered, by name.
    pub settings: std::collections::HashMap<String, Setting>,
}

/// A check's last outcome and when it was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub outcome: Outcome,
    pub verified_at: DateTime<Utc>,
}

/// The SCIM connection as stored (setting [`setting::SCIM`]), its token sealed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScimSetting {
    pub endpoint: String,
    /// `sealed:v1:…` ([`crate::secrets`]), sealed for [`SCIM_TOKEN_PURPOSE`].
    pub token: String,
    /// When the token was created in the Identity Center console.
    pub token_created: DateTime<Utc>,
}

impl ScimSetting {
    /// The stored form (JSON).
    pub fn encode(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Reads the stored form back.
    pub fn decode(value: &str) -> Result<Self, StoreError> {
        serde_json::from_str(value)
            .map_err(|e| StoreError::Corrupt(format!("the SCIM setting: {e}")))
    }
}

/// The purpose the SCIM token is sealed for (bound into the sealed value).
pub const SCIM_TOKEN_PURPOSE: &str = "connection.scim_token";

/// The settings' names.
pub mod setting {
    /// Identity Center's service-provider metadata (XML).
    pub const SP_METADATA: &str = "sp_metadata";
    /// The IdP metadata Identity Center was given (XML).
    pub const IDP_METADATA: &str = "idp_metadata";
    /// The SCIM connection (JSON: endpoint, sealed token, token creation time).
    pub const SCIM: &str = "scim";
}

impl Store {
    /// Replaces the setting `name`.
    pub async fn set_connection_setting(
        &self,
        name: &str,
        value: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
            "INSERT INTO connection_settings (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at"
        )
        .bind(name)
        .bind(value)
        .bind(by)
        .bind(at)
        .execute(&mut *tx)
        .await?;
            commit_change!(tx);
        });
        Ok(())
    }

    /// Removes the setting `name` (true when there was one).
    pub async fn clear_connection_setting(&self, name: &str) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("DELETE FROM connection_settings WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            commit_change!(tx);
            n
        });
        Ok(n > 0)
    }

    /// The setting `name`, if entered.
    pub async fn connection_setting(&self, name: &str) -> Result<Option<Setting>, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT value, updated_by, updated_at FROM connection_settings WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await?;
            row.map(|r| {
                Ok(Setting {
                    value: r.try_get("value")?,
                    updated_by: r.try_get("updated_by")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .transpose()
        })
    }

    /// Every setting entered, by name (the Connection page shows them all), in one read.
    pub async fn connection_settings(
        &self,
    ) -> Result<std::collections::HashMap<String, Setting>, StoreError> {
        self.conn().await?.connection_settings().await
    }

    /// The Connection page's data from one snapshot: each check's last outcome and every
    /// setting entered.
    pub async fn checklist(&self) -> Result<Checklist, StoreError> {
        self.kept("checklist", &(), async |conn: &mut Conn| {
            Ok(Checklist {
                checks: conn.checks().await?,
                settings: conn.connection_settings().await?,
            })
        })
        .await
    }

    /// Records an admin's attestation of `check` (kept; the latest counts).
    pub async fn attest(
        &self,
        check: CheckId,
        attestation: &Attestation,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
            "INSERT INTO attestations (check_id, attested_by, attested_on, note, recorded_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(check.as_str())
        .bind(&attestation.by)
        .bind(attestation.on.format("%Y-%m-%d").to_string())
        .bind(&attestation.note)
        .bind(at)
        .execute(&mut *tx)
        .await?;
            commit_change!(tx);
        });
        Ok(())
    }

    /// The latest attestation of each attested check.
    pub async fn attestations(&self) -> Result<Vec<(CheckId, Attestation)>, StoreError> {
        let rows: Vec<(String, String, String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT a.check_id, a.attested_by, a.attested_on, a.note FROM attestations a \
             WHERE a.id = (SELECT MAX(b.id) FROM attestations b WHERE b.check_id = a.check_id) \
             ORDER BY a.check_id"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(check, by, on, note)| {
                let check = CheckId::parse(&check)
                    .ok_or_else(|| StoreError::Corrupt(format!("attested check {check:?}")))?;
                let on = NaiveDate::parse_from_str(&on, "%Y-%m-%d")
                    .map_err(|_| StoreError::Corrupt(format!("attestation date {on:?}")))?;
                Ok((check, Attestation { by, on, note }))
            })
            .collect()
    }

    /// Stores a verification's outcomes, replacing each check's previous one (one transaction).
    pub async fn save_checks(
        &self,
        outcomes: &[Outcome],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let encoded: Vec<(String, &'static str, &'static str)> = outcomes
            .iter()
            .map(|o| {
                serde_json::to_string(o)
                    .map(|json| (json, o.check.as_str(), o.status.as_str()))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (json, check, status) in &encoded {
                sqlx::query(
                    "INSERT INTO connection_checks (check_id, status, outcome, verified_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (check_id) DO UPDATE SET status = excluded.status, outcome = excluded.outcome, verified_at = excluded.verified_at",
                )
                .bind(*check)
                .bind(*status)
                .bind(json)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            commit_change!(tx);
            Ok::<(), StoreError>(())
        })
    }

    /// Each check's last outcome, in checklist order (checks never verified are absent).
    pub async fn checks(&self) -> Result<Vec<Verified>, StoreError> {
        self.conn().await?.checks().await
    }
}

impl Conn {
    /// See [`Store::checks`].
    pub(crate) async fn checks(&mut self) -> Result<Vec<Verified>, StoreError> {
        let rows: Vec<(String, DateTime<Utc>)> = on_conn!(self, |c| sqlx::query_as(
            "SELECT outcome, verified_at FROM connection_checks"
        )
        .fetch_all(&mut **c)
        .await?);
        let mut out: Vec<Verified> = rows
            .into_iter()
            .map(|(json, verified_at)| {
                serde_json::from_str::<Outcome>(&json)
                    .map(|outcome| Verified {
                        outcome,
                        verified_at,
                    })
                    .map_err(|e| StoreError::Corrupt(format!("a check's outcome: {e}")))
            })
            .collect::<Result<_, _>>()?;
        out.sort_by_key(|v| {
            CheckId::ALL
                .iter()
                .position(|c| *c == v.outcome.check)
                .unwrap_or(usize::MAX)
        });
        Ok(out)
    }

    /// See [`Store::connection_settings`].
    pub(crate) async fn connection_settings(
        &mut self,
    ) -> Result<std::collections::HashMap<String, Setting>, StoreError> {
        on_conn!(self, |c| {
            let rows =
                sqlx::query("SELECT name, value, updated_by, updated_at FROM connection_settings")
                    .fetch_all(&mut **c)
                    .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("name")?,
                        Setting {
                            value: r.try_get("value")?,
                            updated_by: r.try_get("updated_by")?,
                            updated_at: r.try_get("updated_at")?,
                        },
                    ))
                })
                .collect()
        })
    }
}
