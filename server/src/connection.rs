//! The connection checklist's verification: gathers the evidence (the IdP's app and
//! provisioning through its API, both sides' SAML metadata, a SCIM canary with the stored
//! token, the last refreshes' figures, admins' attestations), judges it with
//! `domain::connection`, and stores each check's outcome. Runs on a schedule and when an admin
//! asks ("Verify now", or after changing a setting).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use connectors::saml_metadata;
use connectors::scope::IdpReader;
use domain::connection::{self as rules, CheckId, IdpMetadata, Outcome, ScimFacts};
use store::secrets::SecretKey;
use store::{SCIM_TOKEN_PURPOSE, ScimSetting, ScopeOutcome, Store, StoreError, setting};

/// Verifies the checklist.
pub struct ConnectionChecker {
    store: Store,
    idp: Option<IdpReader>,
    key: Option<Arc<SecretKey>>,
    http: reqwest::Client,
    /// Most scope users allowed missing in Identity Center, in hundredths of a percent.
    max_missing_basis_points: u64,
    /// One verification at a time; a second asks waits for it.
    running: tokio::sync::Mutex<()>,
    /// This process's name in the scheduled verification's lease.
    holder: String,
}

/// The lease that lets one replica at a time run the scheduled verification.
const VERIFY_LEASE: &str = "connection.verify";

impl std::fmt::Debug for ConnectionChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionChecker").finish_non_exhaustive()
    }
}

impl ConnectionChecker {
    pub fn new(
        store: Store,
        idp: Option<IdpReader>,
        key: Option<Arc<SecretKey>>,
        max_missing_percent: f64,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            store,
            idp,
            key,
            http,
            max_missing_basis_points: (max_missing_percent * 100.0).round() as u64,
            running: tokio::sync::Mutex::new(()),
            holder: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// The scheduled verification: at most one every `every` across the replicas sharing the
    /// database, so three replicas do not send three SCIM canaries and three IdP reads per
    /// period. The lease is held for `every` and left to expire; None when another replica
    /// holds it (it verified less than `every` ago). An admin's "Verify now" is not leased.
    pub async fn verify_on_schedule(
        &self,
        now: DateTime<Utc>,
        every: chrono::Duration,
    ) -> Result<Option<Vec<Outcome>>, StoreError> {
        if !self
            .store
            .try_lease(VERIFY_LEASE, &self.holder, now, every)
            .await?
        {
            return Ok(None);
        }
        self.verify(now).await.map(Some)
    }

    /// Verifies every check at `now` and stores the outcomes.
    pub async fn verify(&self, now: DateTime<Utc>) -> Result<Vec<Outcome>, StoreError> {
        let _one = self.running.lock().await;
        let connection = match &self.idp {
            None => Err("no IdP is configured: set [idp] (kind, tenant or environment, app credentials) so Tessera can read it".to_string()),
            Some(idp) => idp.connection().await.map_err(|e| e.to_string()),
        };
        let app: Result<Option<&rules::IdpApp>, &str> = match &connection {
            Ok(c) => Ok(c.app.as_ref()),
            Err(e) => Err(e.as_str()),
        };
        let mut outcomes = vec![rules::idp_app_check(app)];
        outcomes.push(self.saml(app.ok().flatten(), now).await?);
        outcomes.push(rules::scim_check(self.scim().await?.as_ref(), now));
        outcomes.push(match &connection {
            Err(e) => rules::provisioning_check(Err(e), now),
            Ok(c) => {
                rules::provisioning_check(c.provisioning.as_ref().map_err(String::as_str), now)
            }
        });
        let figures = self.store.figures().await?;
        outcomes.push(rules::arrivals_check(&self.arrivals(&figures).await?, now));
        outcomes.push(rules::seat_assignment_check(
            figures
                .taken_at
                .map(|_| (figures.subscribed_groups, figures.subscribed_users)),
        ));
        let attestations = self.store.attestations().await?;
        for check in CheckId::ATTESTED {
            let a = attestations
                .iter()
                .find(|(c, _)| *c == check)
                .map(|(_, a)| a);
            outcomes.push(rules::attested_check(check, a, now.date_naive()));
        }
        self.store.save_checks(&outcomes, now).await?;
        Ok(outcomes)
    }

    async fn saml(
        &self,
        app: Option<&rules::IdpApp>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let parse_stored = |name: &str, xml: Option<store::Setting>, sp: bool| {
            xml.map(|s| {
                if sp {
                    saml_metadata::parse_sp(s.value.as_bytes()).map(Parsed::Sp)
                } else {
                    saml_metadata::parse_idp(s.value.as_bytes()).map(Parsed::Idp)
                }
                .map_err(|e| format!("the stored {name} no longer reads ({e}): upload it again"))
            })
        };
        let sp = match parse_stored(
            "service-provider metadata",
            self.store.connection_setting(setting::SP_METADATA).await?,
            true,
        ) {
            Some(Ok(Parsed::Sp(sp))) => Some(sp),
            _ => None,
        };
        let given = match parse_stored(
            "IdP metadata",
            self.store.connection_setting(setting::IDP_METADATA).await?,
            false,
        ) {
            Some(Ok(Parsed::Idp(m))) => Some(m),
            _ => None,
        };
        // The IdP's metadata as published now, else the uploaded copy.
        let published: Option<Result<IdpMetadata, String>> =
            match app.and_then(|a| a.metadata_url.as_deref()) {
                Some(url) => Some(
                    match saml_metadata::fetch(&self.http, url).await {
                        Ok(bytes) => saml_metadata::parse_idp(&bytes),
                        Err(e) => Err(e),
                    }
                    .map_err(|e| e.to_string()),
                ),
                None => given.clone().map(Ok),
            };
        Ok(rules::saml_check(&rules::SamlFacts {
            sp: sp.as_ref(),
            idp: published
                .as_ref()
                .map(|r| r.as_ref().map_err(String::as_str)),
            given_to_identity_center: given.as_ref(),
            app,
            now,
        }))
    }

    /// The stored SCIM connection and the canary's answer with its token.
    async fn scim(&self) -> Result<Option<ScimFacts>, StoreError> {
        let Some(stored) = self.store.connection_setting(setting::SCIM).await? else {
            return Ok(None);
        };
        let scim = ScimSetting::decode(&stored.value)?;
        let token = match &self.key {
            None => Err(format!(
                "{} is not set, so the sealed token cannot be opened: start Tessera with the key it was entered under",
                store::secrets::KEY_VARIABLE
            )),
            Some(key) => key
                .open(&scim.token, SCIM_TOKEN_PURPOSE)
                .map_err(|e| format!("the token {e}; enter it again")),
        };
        let canary = match token {
            Ok(token) => {
                Ok(connectors::scim_canary::canary(&self.http, &scim.endpoint, &token).await)
            }
            Err(e) => Err(e),
        };
        Ok(Some(ScimFacts {
            endpoint: scim.endpoint,
            token_created: scim.token_created,
            canary,
        }))
    }

    async fn arrivals(&self, figures: &store::Figures) -> Result<rules::Arrivals, StoreError> {
        let reads = self.store.scope_reads(50).await?;
        let last_read = reads.iter().find(|r| r.outcome == ScopeOutcome::Read);
        let counts = self.store.drift_counts().await?;
        let count = |kind: &str| {
            counts
                .iter()
                .find(|(k, _)| k == kind)
                .map_or(0, |(_, n)| *n)
        };
        Ok(rules::Arrivals {
            scope_users: figures.scope_users.unwrap_or(0),
            scope_read_at: last_read.map(|r| r.finished_at),
            missing_users: count("missing_user"),
            missing_groups: count("missing_group"),
            max_missing_basis_points: self.max_missing_basis_points,
        })
    }
}

enum Parsed {
    Sp(rules::SpMetadata),
    Idp(IdpMetadata),
}

impl app::state::ConnectionControl for ConnectionChecker {
    fn verify(&self) -> futures_util::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.verify(Utc::now())
                .await
                .map(|_| ())
                .map_err(|e| format!("the checks could not be stored: {e}"))
        })
    }
}

/// Verifies the checklist now and then every `every`.
pub fn spawn_schedule(
    checker: Arc<ConnectionChecker>,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A little under the period, so this replica's next tick finds its own lease expired
        // even when the tick comes a moment early.
        let lease =
            chrono::Duration::from_std(every.mul_f64(0.9)).unwrap_or(chrono::Duration::minutes(10));
        loop {
            ticks.tick().await;
            match checker.verify_on_schedule(Utc::now(), lease).await {
                Ok(Some(outcomes)) => tracing::info!(
                    overall = rules::overall(&outcomes).as_str(),
                    "connection checklist verified"
                ),
                Ok(None) => {
                    tracing::debug!("another replica verified the connection checklist this period")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the connection checklist could not be verified")
                }
            }
        }
    })
}
