//! Entra ID's provisioning service for the "AWS IAM Identity Center" app: a synchronization job
//! that, on a schedule, carries the users and groups in scope (assigned to the app) into
//! Identity Center through its SCIM endpoint, over HTTP, with the token an admin pasted into the
//! app's provisioning settings.
//!
//! Like the real service it works incrementally: it remembers what it exported (its escrow) and
//! sends only the differences — creates (after looking for a match by `userName` /
//! `displayName`), attribute updates, disables for users who left scope, deletes for users
//! deleted from the tenant, member adds and removes in batches of at most 100. It records each
//! run as a `synchronizationTaskExecution`, each object as a `provisioningObjectSummary`, and
//! after three complete failures in a row (an expired SCIM token, say) puts the job in
//! quarantine, retrying less and less often, until a run succeeds.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::tenant::{GraphUser, Tenant};
use crate::seed::Organisation;

mod cycle;
pub use cycle::Plan;
use cycle::{Run, job_error};

/// Complete failures in a row before quarantine.
pub const QUARANTINE_AFTER: u32 = 3;

/// Provisioning events kept for `auditLogs/provisioning` (newest win).
const EVENTS_KEPT: usize = 10_000;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The SCIM attributes the app's default mappings produce for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAttributes {
    pub user_name: String,
    /// Identity Center requires one: a user without it cannot be created (PingOne without the
    /// seeds' Username → displayName mapping).
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub active: bool,
}

impl UserAttributes {
    /// The name logs show: the display name, else the user name.
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.user_name)
    }

    /// userPrincipalName → userName, displayName, givenName, surname → familyName, mail →
    /// emails[type eq "work"], jobTitle → title, accountEnabled → active.
    pub fn of(u: &GraphUser) -> Self {
        Self {
            user_name: u.user_principal_name.clone(),
            display_name: Some(u.display_name.clone()),
            given_name: u.given_name.clone(),
            family_name: u.surname.clone(),
            email: u.mail.clone(),
            title: u.job_title.clone(),
            active: u.account_enabled,
        }
    }
}

#[derive(Debug, Clone)]
struct ExportedUser {
    ic_id: String,
    attributes: UserAttributes,
    /// Left scope and was disabled in Identity Center (kept so it is not disabled again).
    out_of_scope: bool,
}

#[derive(Debug, Clone)]
struct ExportedGroup {
    ic_id: String,
    display_name: String,
    /// IdP ids of the members exported.
    members: HashSet<String>,
}

/// What the job has exported: IdP id → Identity Center object.
#[derive(Debug, Default)]
struct Escrow {
    users: HashMap<String, ExportedUser>,
    groups: HashMap<String, ExportedGroup>,
}

/// `synchronizationTaskExecution.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Succeeded,
    Failed,
    EntryLevelErrors,
}

impl RunState {
    fn as_str(self) -> &'static str {
        match self {
            RunState::Succeeded => "Succeeded",
            RunState::Failed => "Failed",
            RunState::EntryLevelErrors => "EntryLevelErrors",
        }
    }
}

/// A `synchronizationError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncError {
    pub code: String,
    pub message: String,
    pub tenant_actionable: bool,
}

/// One run of the job.
#[derive(Debug, Clone)]
pub struct Execution {
    pub id: String,
    pub began: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub state: RunState,
    pub entitled: u64,
    pub exports: u64,
    pub exported: u64,
    pub escrowed: u64,
    pub error: Option<SyncError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobCode {
    NotRun,
    Active,
    Paused,
    Quarantine,
}

impl JobCode {
    pub fn as_str(self) -> &'static str {
        match self {
            JobCode::NotRun => "NotRun",
            JobCode::Active => "Active",
            JobCode::Paused => "Paused",
            JobCode::Quarantine => "Quarantine",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Quarantine {
    pub current_began: DateTime<Utc>,
    pub next_attempt: DateTime<Utc>,
    pub series_began: DateTime<Utc>,
    pub series_count: u32,
    pub error: SyncError,
}

#[derive(Debug, Clone)]
struct JobStatus {
    code: JobCode,
    interval: Duration,
    next_run: DateTime<Utc>,
    successive_failures: u32,
    last: Option<Execution>,
    last_successful: Option<Execution>,
    last_with_exports: Option<Execution>,
    quarantine: Option<Quarantine>,
    steady_first: Option<DateTime<Utc>>,
    steady_last: Option<DateTime<Utc>>,
    synchronized_users: usize,
    synchronized_groups: usize,
}

/// Where the job provisions to: the Tenant URL and Secret Token of the app's admin credentials.
#[derive(Debug, Clone)]
pub struct Target {
    pub scim_endpoint: String,
    pub token: String,
}

/// Who runs the job, for its logs: the job's id, the source's id (tenant or environment) and
/// the application (id, display name).
#[derive(Debug, Clone)]
pub struct JobIdentity {
    /// Whether repeated complete failures put the job in quarantine (Entra does; PingOne
    /// keeps trying).
    pub quarantines: bool,
    pub job_id: String,
    pub tenant_id: String,
    pub application: (String, String),
}

/// The latest outcome for one source object (what PingOne shows as a user's synced rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectOutcome {
    /// create, update, disable, delete.
    pub action: String,
    /// Identity Center id, when known.
    pub target_id: Option<String>,
    /// None: it succeeded.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// The provisioning job of the Identity Center app.
#[derive(Debug)]
pub struct Provisioning {
    job_id: String,
    tenant_id: String,
    service_principal: (String, String),
    quarantines: bool,
    status: Mutex<JobStatus>,
    target: RwLock<Target>,
    /// Held for the whole of a run: one run at a time.
    escrow: tokio::sync::Mutex<Escrow>,
    events: RwLock<Vec<Value>>,
    /// Source object id → its latest outcome.
    outcomes: RwLock<HashMap<String, ObjectOutcome>>,
    http: reqwest::Client,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// ISO 8601 duration (`PT40M`, `PT30S`) as the schedule's `interval`.
fn iso_duration(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}S"));
    }
    out
}

impl Provisioning {
    /// The job as it stands after provisioning `org` (its escrow is what the seed provisioned:
    /// every person and group but the leavers, whom an earlier job made, and the planted
    /// unprovisionable person). `interval` is the schedule (Entra: 40 minutes; the demo uses
    /// seconds). The job's last run is dated `now`.
    pub fn from_organisation(
        org: &Organisation,
        tenant: &Tenant,
        target: Target,
        interval: Duration,
        now: DateTime<Utc>,
    ) -> Self {
        let sp = &tenant.service_principal;
        let identity = JobIdentity {
            quarantines: true,
            job_id: format!(
                "AWSSCIM.{}.{}",
                tenant.tenant_id.replace('-', ""),
                sp.id.replace('-', "")
            ),
            tenant_id: tenant.tenant_id.clone(),
            application: (sp.id.clone(), sp.display_name.clone()),
        };
        Self::from_plan(org, &Plan::of(tenant), identity, target, interval, now)
    }

    /// A job whose escrow is what the seed provisioned of `seeded` (the scope as it stands):
    /// every user and group in it that `org` put into Identity Center.
    pub fn from_plan(
        org: &Organisation,
        seeded: &Plan,
        identity: JobIdentity,
        target: Target,
        interval: Duration,
        now: DateTime<Utc>,
    ) -> Self {
        let provisioned_users: HashMap<&str, &String> = org
            .people
            .iter()
            .zip(&org.provisioned_user)
            .filter_map(|(p, ic)| ic.as_ref().map(|ic| (p.idp_id.as_str(), ic)))
            .collect();
        let provisioned_groups: HashMap<&str, &String> = org
            .groups
            .iter()
            .zip(&org.provisioned_group)
            .map(|(g, ic)| (g.idp_id.as_str(), ic))
            .collect();
        let mut escrow = Escrow::default();
        for (idp_id, attributes) in &seeded.users {
            if let Some(ic_id) = provisioned_users.get(idp_id.as_str()) {
                escrow.users.insert(
                    idp_id.clone(),
                    ExportedUser {
                        ic_id: (*ic_id).clone(),
                        attributes: attributes.clone(),
                        out_of_scope: false,
                    },
                );
            }
        }
        for (idp_id, display_name, members) in &seeded.groups {
            let Some(ic_id) = provisioned_groups.get(idp_id.as_str()) else {
                continue;
            };
            let members = members
                .iter()
                .filter(|u| escrow.users.contains_key(*u))
                .cloned()
                .collect();
            escrow.groups.insert(
                idp_id.clone(),
                ExportedGroup {
                    ic_id: (*ic_id).clone(),
                    display_name: display_name.clone(),
                    members,
                },
            );
        }
        let seeded_run = Execution {
            id: uuid::Uuid::new_v4().to_string(),
            began: now - Duration::seconds(5),
            ended: now,
            state: RunState::Succeeded,
            entitled: (escrow.users.len() + escrow.groups.len()) as u64,
            exports: 0,
            exported: 0,
            escrowed: 0,
            error: None,
        };
        let status = JobStatus {
            code: JobCode::Active,
            interval,
            next_run: now + interval,
            successive_failures: 0,
            last: Some(seeded_run.clone()),
            last_successful: Some(seeded_run.clone()),
            last_with_exports: None,
            quarantine: None,
            steady_first: Some(now),
            steady_last: Some(now),
            synchronized_users: escrow.users.len(),
            synchronized_groups: escrow.groups.len(),
        };
        Self {
            job_id: identity.job_id,
            tenant_id: identity.tenant_id,
            service_principal: identity.application,
            quarantines: identity.quarantines,
            status: Mutex::new(status),
            target: RwLock::new(target),
            escrow: tokio::sync::Mutex::new(escrow),
            events: RwLock::new(Vec::new()),
            outcomes: RwLock::new(HashMap::new()),
            http: reqwest::Client::builder()
                .timeout(StdDuration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// Replaces the Secret Token (what an admin does after rotating the SCIM token). A job in
    /// quarantine tries again at once.
    pub fn set_token(&self, token: String, now: DateTime<Utc>) {
        if let Ok(mut target) = self.target.write() {
            target.token = token;
        }
        if let Ok(mut status) = self.status.lock()
            && status.code == JobCode::Quarantine
        {
            status.next_run = now;
        }
    }

    pub fn code(&self) -> JobCode {
        self.status
            .lock()
            .map(|s| s.code)
            .unwrap_or(JobCode::NotRun)
    }

    /// When the next run is due (sandbox clock).
    pub fn next_run(&self) -> Option<DateTime<Utc>> {
        self.status.lock().ok().map(|s| s.next_run)
    }

    pub fn last_execution(&self) -> Option<Execution> {
        self.status.lock().ok().and_then(|s| s.last.clone())
    }

    pub fn quarantine(&self) -> Option<Quarantine> {
        self.status.lock().ok().and_then(|s| s.quarantine.clone())
    }

    /// The latest outcome for a source object (user or group id), if a run touched it.
    pub fn outcome(&self, source_id: &str) -> Option<ObjectOutcome> {
        self.outcomes
            .read()
            .ok()
            .and_then(|o| o.get(source_id).cloned())
    }

    /// The Identity Center id the job exported a source user or group as.
    pub async fn exported_id(&self, source_id: &str) -> Option<String> {
        let escrow = self.escrow.lock().await;
        escrow
            .users
            .get(source_id)
            .map(|u| u.ic_id.clone())
            .or_else(|| escrow.groups.get(source_id).map(|g| g.ic_id.clone()))
    }

    /// `GET /auditLogs/provisioning` items, newest first.
    pub fn events_newest_first(&self) -> Vec<Value> {
        self.events
            .read()
            .map(|e| e.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// The job as `GET .../synchronization/jobs/{id}` shows it.
    pub fn job_json(&self) -> Value {
        let Ok(s) = self.status.lock() else {
            return Value::Null;
        };
        let execution = |e: &Option<Execution>| match e {
            None => Value::Null,
            Some(e) => json!({
                "activityIdentifier": e.id,
                "countEntitled": e.entitled,
                "countEntitledForProvisioning": e.entitled,
                "countEscrowed": e.escrowed,
                "countEscrowedRaw": e.escrowed,
                "countExported": e.exported,
                "countExports": e.exports,
                "countImported": e.entitled,
                "countImportedDeltas": e.exports,
                "countImportedReferenceDeltas": 0,
                "error": e.error.as_ref().map(error_json),
                "state": e.state.as_str(),
                "timeBegan": time(e.began),
                "timeEnded": time(e.ended),
            }),
        };
        let never = "0001-01-01T00:00:00Z".to_string();
        json!({
            "id": self.job_id,
            "templateId": "AWSSCIM",
            "schedule": {
                "expiration": null,
                "interval": iso_duration(s.interval),
                "state": if s.code == JobCode::Paused { "Disabled" } else { "Active" },
            },
            "status": {
                "code": s.code.as_str(),
                "countSuccessiveCompleteFailures": s.successive_failures,
                "escrowsPruned": false,
                "lastExecution": execution(&s.last),
                "lastSuccessfulExecution": execution(&s.last_successful),
                "lastSuccessfulExecutionWithExports": execution(&s.last_with_exports),
                "progress": [],
                "quarantine": s.quarantine.as_ref().map(|q| json!({
                    "currentBegan": time(q.current_began),
                    "nextAttempt": time(q.next_attempt),
                    "reason": "EncounteredQuarantineException",
                    "seriesBegan": time(q.series_began),
                    "seriesCount": q.series_count,
                    "error": error_json(&q.error),
                })),
                "steadyStateFirstAchievedTime": s.steady_first.map(time).unwrap_or_else(|| never.clone()),
                "steadyStateLastAchievedTime": s.steady_last.map(time).unwrap_or(never),
                "synchronizedEntryCountByType": [
                    {"key": "user to urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": s.synchronized_users},
                    {"key": "group to urn:ietf:params:scim:schemas:core:2.0:Group", "value": s.synchronized_groups},
                ],
                "troubleshootingUrl": null,
            },
            "synchronizationJobSettings": [],
        })
    }

    /// Whether a scheduled run is due at `now`.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        self.status
            .lock()
            .map(|s| s.code != JobCode::Paused && s.next_run <= now)
            .unwrap_or(false)
    }

    /// One provisioning run at `now` (sandbox clock): what is in scope in `tenant` against what
    /// was exported, the differences sent to Identity Center's SCIM endpoint. Waits for a run
    /// already in progress.
    pub async fn run(&self, tenant: &RwLock<Tenant>, now: DateTime<Utc>) -> Execution {
        let plan = tenant.read().ok().map(|t| Plan::of(&t));
        self.run_plan(plan, now).await
    }

    /// One run towards `plan` (None: the source could not be read, and the run fails).
    pub async fn run_plan(&self, plan: Option<Plan>, now: DateTime<Utc>) -> Execution {
        let mut escrow = self.escrow.lock().await;
        let target = self.target.read().map(|t| t.clone()).unwrap_or(Target {
            scim_endpoint: String::new(),
            token: String::new(),
        });
        let cycle_id = uuid::Uuid::new_v4().to_string();
        let Some(plan) = plan else {
            return self.finish(now, Execution::failed(&cycle_id, now, "source unreadable"));
        };
        let mut run = Run {
            job: self,
            target: &target,
            cycle_id: &cycle_id,
            now,
            exports: 0,
            exported: 0,
            escrowed: 0,
            events: Vec::new(),
            outcomes: HashMap::new(),
        };
        let stopped = run.users(&plan, &mut escrow).await;
        let stopped = match stopped {
            Ok(()) => run.groups(&plan, &mut escrow).await,
            Err(e) => Err(e),
        };
        let (exports, exported, escrowed) = (run.exports, run.exported, run.escrowed);
        let events = std::mem::take(&mut run.events);
        let outcomes = std::mem::take(&mut run.outcomes);
        if let Ok(mut kept) = self.outcomes.write() {
            kept.extend(outcomes);
        }
        if let Ok(mut log) = self.events.write() {
            log.extend(events);
            let excess = log.len().saturating_sub(EVENTS_KEPT);
            log.drain(..excess);
        }
        let execution = Execution {
            id: cycle_id.clone(),
            began: now,
            ended: now,
            state: match (&stopped, escrowed) {
                (Err(_), _) => RunState::Failed,
                (Ok(()), 0) => RunState::Succeeded,
                (Ok(()), _) => RunState::EntryLevelErrors,
            },
            entitled: (plan.users.len() + plan.groups.len()) as u64,
            exports,
            exported,
            escrowed,
            error: stopped.err().map(|e| job_error(&e)),
        };
        let (users, groups) = (
            escrow.users.values().filter(|u| !u.out_of_scope).count(),
            escrow.groups.len(),
        );
        if let Ok(mut s) = self.status.lock() {
            s.synchronized_users = users;
            s.synchronized_groups = groups;
        }
        self.finish(now, execution)
    }

    /// Records a run in the job's status: last runs, failures in a row, quarantine, next run.
    fn finish(&self, now: DateTime<Utc>, execution: Execution) -> Execution {
        if let Ok(mut s) = self.status.lock() {
            s.last = Some(execution.clone());
            if execution.state == RunState::Failed {
                s.successive_failures += 1;
                if self.quarantines && s.successive_failures >= QUARANTINE_AFTER {
                    let error = execution.error.clone().unwrap_or(SyncError {
                        code: "Unknown".into(),
                        message: "The job failed.".into(),
                        tenant_actionable: false,
                    });
                    let (series_began, series_count) = match &s.quarantine {
                        Some(q) => (q.series_began, q.series_count + 1),
                        None => (now, 1),
                    };
                    // Back off: twice the interval per quarantined run, at most a day.
                    let factor = 1i32 << series_count.min(16);
                    let wait = (s.interval * factor).min(Duration::days(1));
                    s.quarantine = Some(Quarantine {
                        current_began: now,
                        next_attempt: now + wait,
                        series_began,
                        series_count,
                        error,
                    });
                    s.code = JobCode::Quarantine;
                    s.next_run = now + wait;
                } else {
                    s.next_run = now + s.interval;
                }
            } else {
                s.successive_failures = 0;
                s.quarantine = None;
                s.code = JobCode::Active;
                s.last_successful = Some(execution.clone());
                if execution.exported > 0 {
                    s.last_with_exports = Some(execution.clone());
                }
                if execution.exports == 0 {
                    s.steady_first.get_or_insert(now);
                    s.steady_last = Some(now);
                }
                s.next_run = now + s.interval;
            }
        }
        execution
    }
}

impl Execution {
    fn failed(id: &str, now: DateTime<Utc>, why: &str) -> Self {
        Self {
            id: id.to_string(),
            began: now,
            ended: now,
            state: RunState::Failed,
            entitled: 0,
            exports: 0,
            exported: 0,
            escrowed: 0,
            error: Some(SyncError {
                code: "Unknown".into(),
                message: why.into(),
                tenant_actionable: false,
            }),
        }
    }
}

fn error_json(e: &SyncError) -> Value {
    json!({"code": e.code, "message": e.message, "tenantActionable": e.tenant_actionable})
}
