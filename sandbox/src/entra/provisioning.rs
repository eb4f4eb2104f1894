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

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::tenant::{GraphUser, Tenant};
use crate::seed::Organisation;

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
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub active: bool,
}

impl UserAttributes {
    /// userPrincipalName → userName, displayName, givenName, surname → familyName, mail →
    /// emails[type eq "work"], jobTitle → title, accountEnabled → active.
    pub fn of(u: &GraphUser) -> Self {
        Self {
            user_name: u.user_principal_name.clone(),
            display_name: u.display_name.clone(),
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

/// The provisioning job of the Identity Center app.
#[derive(Debug)]
pub struct Provisioning {
    job_id: String,
    tenant_id: String,
    service_principal: (String, String),
    status: Mutex<JobStatus>,
    target: RwLock<Target>,
    /// Held for the whole of a run: one run at a time.
    escrow: tokio::sync::Mutex<Escrow>,
    events: RwLock<Vec<Value>>,
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

/// How one SCIM call ended.
#[derive(Debug)]
enum CallError {
    /// 401/403: the token is refused. Stops the run.
    Unauthorized(String),
    /// No answer, or 5xx/429 after retries. Stops the run.
    Unavailable(String),
    /// 4xx about this object (400, 404, 409): the object is escrowed, the run goes on.
    Entry { status: u16, detail: String },
}

impl CallError {
    fn retryable(&self) -> bool {
        matches!(self, CallError::Unavailable(_))
    }
}

/// One object's outcome, for the provisioning log.
struct Outcome<'a> {
    action: &'a str,
    identity_type: &'a str,
    source_id: &'a str,
    display_name: &'a str,
    target_id: Option<&'a str>,
    error: Option<&'a CallError>,
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
        let mut escrow = Escrow::default();
        for (p, person) in org.people.iter().enumerate() {
            let (Some(ic_id), Some(position)) = (
                org.provisioned_user.get(p).cloned().flatten(),
                tenant.user_position(&person.idp_id),
            ) else {
                continue;
            };
            if let Some(user) = tenant.user(position) {
                escrow.users.insert(
                    person.idp_id.clone(),
                    ExportedUser {
                        ic_id,
                        attributes: UserAttributes::of(user),
                        out_of_scope: false,
                    },
                );
            }
        }
        for (g, group) in tenant.groups.iter().enumerate() {
            let Some(ic_id) = org.provisioned_group.get(g).cloned() else {
                continue;
            };
            let members = group
                .members
                .iter()
                .filter_map(|&u| tenant.user(u))
                .filter(|u| escrow.users.contains_key(&u.id))
                .map(|u| u.id.clone())
                .collect();
            escrow.groups.insert(
                group.id.clone(),
                ExportedGroup {
                    ic_id,
                    display_name: group.display_name.clone(),
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
        let sp = &tenant.service_principal;
        Self {
            job_id: format!(
                "AWSSCIM.{}.{}",
                tenant.tenant_id.replace('-', ""),
                sp.id.replace('-', "")
            ),
            tenant_id: tenant.tenant_id.clone(),
            service_principal: (sp.id.clone(), sp.display_name.clone()),
            status: Mutex::new(status),
            target: RwLock::new(target),
            escrow: tokio::sync::Mutex::new(escrow),
            events: RwLock::new(Vec::new()),
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
        let mut escrow = self.escrow.lock().await;
        let target = self.target.read().map(|t| t.clone()).unwrap_or(Target {
            scim_endpoint: String::new(),
            token: String::new(),
        });
        let cycle_id = uuid::Uuid::new_v4().to_string();
        let Some(plan) = tenant.read().ok().map(|t| Plan::of(&t)) else {
            return self.finish(now, Execution::failed(&cycle_id, now, "tenant unreadable"));
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
        };
        let stopped = run.users(&plan, &mut escrow).await;
        let stopped = match stopped {
            Ok(()) => run.groups(&plan, &mut escrow).await,
            Err(e) => Err(e),
        };
        let (exports, exported, escrowed) = (run.exports, run.exported, run.escrowed);
        let events = std::mem::take(&mut run.events);
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
                if s.successive_failures >= QUARANTINE_AFTER {
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

/// The job-level error for a run that stopped.
fn job_error(e: &CallError) -> SyncError {
    match e {
        CallError::Unauthorized(detail) => SyncError {
            code: "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable".into(),
            message: format!(
                "You appear to have entered invalid credentials. Please check the Secret Token in the app's provisioning settings: AWS IAM Identity Center answered 401 Unauthorized ({detail}). Generate a new SCIM access token in IAM Identity Center and save it here."
            ),
            tenant_actionable: true,
        },
        CallError::Unavailable(detail) => SyncError {
            code: "SystemForCrossDomainIdentityManagementServiceUnavailable".into(),
            message: format!("AWS IAM Identity Center's SCIM endpoint did not answer: {detail}"),
            tenant_actionable: false,
        },
        CallError::Entry { status, detail } => SyncError {
            code: "SystemForCrossDomainIdentityManagementBadResponse".into(),
            message: format!("HTTP {status}: {detail}"),
            tenant_actionable: false,
        },
    }
}

/// What should be in Identity Center: users and groups in scope, by IdP id.
struct Plan {
    users: Vec<(String, UserAttributes)>,
    /// Every user id still in the tenant (a user out of scope but present is disabled, one
    /// gone from the tenant is deleted).
    existing: HashSet<String>,
    groups: Vec<(String, String, Vec<String>)>,
}

impl Plan {
    fn of(tenant: &Tenant) -> Self {
        let scope = tenant.scope();
        let users = scope
            .users
            .iter()
            .filter_map(|&u| tenant.user(u))
            .map(|u| (u.id.clone(), UserAttributes::of(u)))
            .collect();
        let groups = scope
            .groups
            .iter()
            .filter_map(|&g| tenant.group(g))
            .map(|g| {
                (
                    g.id.clone(),
                    g.display_name.clone(),
                    g.members
                        .iter()
                        .filter_map(|&u| tenant.user(u))
                        .map(|u| u.id.clone())
                        .collect(),
                )
            })
            .collect();
        Self {
            users,
            existing: tenant.users.iter().map(|u| u.id.clone()).collect(),
            groups,
        }
    }
}

/// One run in progress.
struct Run<'a> {
    job: &'a Provisioning,
    target: &'a Target,
    cycle_id: &'a str,
    now: DateTime<Utc>,
    exports: u64,
    exported: u64,
    escrowed: u64,
    events: Vec<Value>,
}

impl Run<'_> {
    /// One SCIM call, retried with backoff and jitter on 429/5xx/no answer.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, CallError> {
        let url = format!(
            "{}/{}",
            self.target.scim_endpoint.trim_end_matches('/'),
            path
        );
        let attempt = || async {
            let mut request = self
                .job
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.target.token)
                .header("accept", "application/scim+json");
            if let Some(body) = &body {
                request = request
                    .header("content-type", "application/scim+json")
                    .body(body.to_string());
            }
            let response = request
                .send()
                .await
                .map_err(|e| CallError::Unavailable(e.to_string()))?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if status.is_success() {
                return Ok(serde_json::from_str::<Value>(&text).ok());
            }
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_string))
                .unwrap_or(text);
            Err(match status.as_u16() {
                401 | 403 => CallError::Unauthorized(detail),
                429 | 500..=599 => CallError::Unavailable(format!("HTTP {status}: {detail}")),
                code => CallError::Entry {
                    status: code,
                    detail,
                },
            })
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(StdDuration::from_millis(200))
                    .with_max_delay(StdDuration::from_secs(5))
                    .with_max_times(4)
                    .with_jitter(),
            )
            .sleep(tokio::time::sleep)
            .when(CallError::retryable)
            .await
    }

    fn log(&mut self, o: Outcome<'_>) {
        self.exports += 1;
        let (status, error) = match o.error {
            None => {
                self.exported += 1;
                ("success", Value::Null)
            }
            Some(e) => {
                self.escrowed += 1;
                let (code, reason) = match e {
                    CallError::Entry {
                        status: 409,
                        detail,
                    } => (
                        "SystemForCrossDomainIdentityManagementEntryConflict".to_string(),
                        format!("AWS IAM Identity Center returned 409 Conflict: {detail}"),
                    ),
                    CallError::Entry { status, detail } => (
                        "SystemForCrossDomainIdentityManagementBadResponse".to_string(),
                        format!(
                            "AWS IAM Identity Center returned an error response with the HTTP status code {status}: {detail}"
                        ),
                    ),
                    other => {
                        let j = job_error(other);
                        (j.code, j.message)
                    }
                };
                (
                    "failure",
                    json!({
                        "errorCode": code,
                        "reason": reason,
                        "additionalDetails": null,
                        "errorCategory": "nonServiceFailure",
                        "recommendedAction": null,
                    }),
                )
            }
        };
        let (sp_id, sp_name) = &self.job.service_principal;
        self.events.push(json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "activityDateTime": time(self.now),
            "tenantId": self.job.tenant_id,
            "jobId": self.job.job_id,
            "cycleId": self.cycle_id,
            "changeId": uuid::Uuid::new_v4().to_string(),
            "provisioningAction": o.action,
            "durationInMilliseconds": 0,
            "provisioningStatusInfo": {"status": status, "errorInformation": error},
            "provisioningSteps": [],
            "modifiedProperties": [],
            "servicePrincipal": {"id": sp_id, "displayName": sp_name},
            "sourceSystem": {"id": self.job.tenant_id, "displayName": "Azure Active Directory", "details": {}},
            "targetSystem": {"id": sp_id, "displayName": sp_name, "details": {"ServicePrincipalId": sp_id, "ServicePrincipalDisplayName": sp_name}},
            "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"},
            "sourceIdentity": {"id": o.source_id, "displayName": o.display_name, "identityType": o.identity_type, "details": {}},
            "targetIdentity": {"id": o.target_id.unwrap_or(""), "displayName": o.display_name, "identityType": o.identity_type, "details": {}},
        }));
    }

    /// An entry-level error is logged and the run goes on; any other stops the run.
    fn settle(&mut self, o: Outcome<'_>) -> Result<(), CallError> {
        let stop = match o.error {
            Some(CallError::Unauthorized(d)) => Some(CallError::Unauthorized(d.clone())),
            Some(CallError::Unavailable(d)) => Some(CallError::Unavailable(d.clone())),
            _ => None,
        };
        self.log(o);
        match stop {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn users(&mut self, plan: &Plan, escrow: &mut Escrow) -> Result<(), CallError> {
        let in_scope: HashSet<&str> = plan.users.iter().map(|(id, _)| id.as_str()).collect();
        for (idp_id, attributes) in &plan.users {
            match escrow.users.get(idp_id).cloned() {
                None => {
                    let result = self.create_user(idp_id, attributes).await;
                    let (ic_id, error) = match result {
                        Ok(id) => (Some(id), None),
                        Err(e) => (None, Some(e)),
                    };
                    self.settle(Outcome {
                        action: "create",
                        identity_type: "User",
                        source_id: idp_id,
                        display_name: &attributes.display_name,
                        target_id: ic_id.as_deref(),
                        error: error.as_ref(),
                    })?;
                    if let Some(ic_id) = ic_id {
                        escrow.users.insert(
                            idp_id.clone(),
                            ExportedUser {
                                ic_id,
                                attributes: attributes.clone(),
                                out_of_scope: false,
                            },
                        );
                    }
                }
                Some(exported) if exported.attributes != *attributes || exported.out_of_scope => {
                    let operations = user_operations(Some(&exported.attributes), attributes);
                    let result = self
                        .call(
                            reqwest::Method::PATCH,
                            &format!("Users/{}", exported.ic_id),
                            Some(json!({"schemas": [PATCH_SCHEMA], "Operations": operations})),
                        )
                        .await;
                    if let Err(CallError::Entry { status: 404, .. }) = &result {
                        // Deleted in Identity Center behind the job's back: create it next run.
                        escrow.users.remove(idp_id);
                    }
                    let error = result.err();
                    self.settle(Outcome {
                        action: "update",
                        identity_type: "User",
                        source_id: idp_id,
                        display_name: &attributes.display_name,
                        target_id: Some(&exported.ic_id),
                        error: error.as_ref(),
                    })?;
                    if error.is_none()
                        && let Some(e) = escrow.users.get_mut(idp_id)
                    {
                        e.attributes = attributes.clone();
                        e.out_of_scope = false;
                    }
                }
                Some(_) => {}
            }
        }
        // Out of scope: disabled if still in the tenant, deleted if gone from it.
        let leaving: Vec<(String, ExportedUser)> = escrow
            .users
            .iter()
            .filter(|(id, e)| !in_scope.contains(id.as_str()) && !e.out_of_scope)
            .map(|(id, e)| (id.clone(), e.clone()))
            .collect();
        for (idp_id, exported) in leaving {
            let deleted = !plan.existing.contains(&idp_id);
            let result = if deleted {
                self.call(
                    reqwest::Method::DELETE,
                    &format!("Users/{}", exported.ic_id),
                    None,
                )
                .await
            } else {
                self.call(
                    reqwest::Method::PATCH,
                    &format!("Users/{}", exported.ic_id),
                    Some(json!({"schemas": [PATCH_SCHEMA], "Operations": [
                        {"op": "Replace", "path": "active", "value": "False"}
                    ]})),
                )
                .await
            };
            let gone = matches!(&result, Err(CallError::Entry { status: 404, .. }));
            let error = if gone { None } else { result.err() };
            self.settle(Outcome {
                action: if deleted { "delete" } else { "disable" },
                identity_type: "User",
                source_id: &idp_id,
                display_name: &exported.attributes.display_name,
                target_id: Some(&exported.ic_id),
                error: error.as_ref(),
            })?;
            if error.is_none() {
                if deleted || gone {
                    escrow.users.remove(&idp_id);
                } else if let Some(e) = escrow.users.get_mut(&idp_id) {
                    e.out_of_scope = true;
                    e.attributes.active = false;
                }
            }
        }
        Ok(())
    }

    /// Looks for a match by userName; adopts it (sending every mapped attribute) or creates the
    /// user. Returns the Identity Center id.
    async fn create_user(
        &self,
        idp_id: &str,
        attributes: &UserAttributes,
    ) -> Result<String, CallError> {
        let filter = format!(
            "userName eq \"{}\"",
            attributes.user_name.replace('"', "\\\"")
        );
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &filter)
            .finish();
        let found = self
            .call(reqwest::Method::GET, &format!("Users?{query}"), None)
            .await?;
        let existing = found
            .as_ref()
            .and_then(|v| v.get("Resources"))
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(|u| u.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(ic_id) = existing {
            let mut operations = user_operations(None, attributes);
            operations.push(json!({"op": "Replace", "path": "externalId", "value": idp_id}));
            self.call(
                reqwest::Method::PATCH,
                &format!("Users/{ic_id}"),
                Some(json!({"schemas": [PATCH_SCHEMA], "Operations": operations})),
            )
            .await?;
            return Ok(ic_id);
        }
        let mut name = serde_json::Map::new();
        if let Some(g) = &attributes.given_name {
            name.insert("givenName".into(), json!(g));
        }
        if let Some(f) = &attributes.family_name {
            name.insert("familyName".into(), json!(f));
        }
        let mut body = json!({
            "schemas": [USER_SCHEMA],
            "externalId": idp_id,
            "userName": attributes.user_name,
            "name": name,
            "displayName": attributes.display_name,
            "active": attributes.active,
        });
        if let Some(o) = body.as_object_mut() {
            if let Some(email) = &attributes.email {
                o.insert(
                    "emails".into(),
                    json!([{"value": email, "type": "work", "primary": true}]),
                );
            }
            if let Some(title) = &attributes.title {
                o.insert("title".into(), json!(title));
            }
        }
        let created = self
            .call(reqwest::Method::POST, "Users", Some(body))
            .await?;
        created
            .as_ref()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| CallError::Entry {
                status: 201,
                detail: "the created user came back without an id".into(),
            })
    }

    async fn groups(&mut self, plan: &Plan, escrow: &mut Escrow) -> Result<(), CallError> {
        let in_scope: HashSet<&str> = plan.groups.iter().map(|(id, _, _)| id.as_str()).collect();
        for (idp_id, display_name, members) in &plan.groups {
            let exported = match escrow.groups.get(idp_id) {
                Some(e) => e.clone(),
                None => {
                    let result = self.create_group(idp_id, display_name).await;
                    let (ic_id, error) = match result {
                        Ok(id) => (Some(id), None),
                        Err(e) => (None, Some(e)),
                    };
                    self.settle(Outcome {
                        action: "create",
                        identity_type: "Group",
                        source_id: idp_id,
                        display_name,
                        target_id: ic_id.as_deref(),
                        error: error.as_ref(),
                    })?;
                    let Some(ic_id) = ic_id else { continue };
                    let group = ExportedGroup {
                        ic_id,
                        display_name: display_name.clone(),
                        members: HashSet::new(),
                    };
                    escrow.groups.insert(idp_id.clone(), group.clone());
                    group
                }
            };
            let mut operations = Vec::new();
            if exported.display_name != *display_name {
                operations
                    .push(json!({"op": "Replace", "path": "displayName", "value": display_name}));
            }
            // Members whose users were exported; the others follow once they are.
            let wanted: HashSet<&String> = members
                .iter()
                .filter(|m| escrow.users.get(*m).is_some_and(|u| !u.out_of_scope))
                .collect();
            let add: Vec<&String> = wanted
                .iter()
                .filter(|m| !exported.members.contains(**m))
                .copied()
                .collect();
            let remove: Vec<&String> = exported
                .members
                .iter()
                .filter(|m| !wanted.contains(m))
                .collect();
            let ic = |m: &String| escrow.users.get(m).map(|u| u.ic_id.clone());
            let mut batches: Vec<(Vec<Value>, Vec<&String>, Vec<&String>)> = Vec::new();
            if !operations.is_empty() {
                batches.push((operations, Vec::new(), Vec::new()));
            }
            for chunk in add.chunks(100) {
                let values: Vec<Value> = chunk
                    .iter()
                    .filter_map(|m| ic(m))
                    .map(|id| json!({"value": id}))
                    .collect();
                batches.push((
                    vec![json!({"op": "Add", "path": "members", "value": values})],
                    chunk.to_vec(),
                    Vec::new(),
                ));
            }
            for chunk in remove.chunks(100) {
                // A member deleted from the tenant has left the escrow already (and Identity
                // Center dropped its memberships with the user): nothing to send for it.
                let values: Vec<Value> = chunk
                    .iter()
                    .filter_map(|m| ic(m))
                    .map(|id| json!({"value": id}))
                    .collect();
                batches.push((
                    vec![json!({"op": "Remove", "path": "members", "value": values})],
                    Vec::new(),
                    chunk.to_vec(),
                ));
            }
            for (operations, added, removed) in batches {
                let empty = operations.iter().all(|op| {
                    op.get("value")
                        .and_then(Value::as_array)
                        .is_some_and(|v| v.is_empty())
                });
                if empty {
                    if let Some(g) = escrow.groups.get_mut(idp_id) {
                        for m in removed {
                            g.members.remove(m);
                        }
                    }
                    continue;
                }
                let result = self
                    .call(
                        reqwest::Method::PATCH,
                        &format!("Groups/{}", exported.ic_id),
                        Some(json!({"schemas": [PATCH_SCHEMA], "Operations": operations})),
                    )
                    .await;
                let error = result.err();
                self.settle(Outcome {
                    action: "update",
                    identity_type: "Group",
                    source_id: idp_id,
                    display_name,
                    target_id: Some(&exported.ic_id),
                    error: error.as_ref(),
                })?;
                if error.is_none()
                    && let Some(g) = escrow.groups.get_mut(idp_id)
                {
                    g.display_name = display_name.clone();
                    for m in added {
                        g.members.insert(m.clone());
                    }
                    for m in removed {
                        g.members.remove(m);
                    }
                }
            }
        }
        let leaving: Vec<(String, ExportedGroup)> = escrow
            .groups
            .iter()
            .filter(|(id, _)| !in_scope.contains(id.as_str()))
            .map(|(id, g)| (id.clone(), g.clone()))
            .collect();
        for (idp_id, exported) in leaving {
            let result = self
                .call(
                    reqwest::Method::DELETE,
                    &format!("Groups/{}", exported.ic_id),
                    None,
                )
                .await;
            let gone = matches!(&result, Err(CallError::Entry { status: 404, .. }));
            let error = if gone { None } else { result.err() };
            self.settle(Outcome {
                action: "delete",
                identity_type: "Group",
                source_id: &idp_id,
                display_name: &exported.display_name,
                target_id: Some(&exported.ic_id),
                error: error.as_ref(),
            })?;
            if error.is_none() {
                escrow.groups.remove(&idp_id);
            }
        }
        Ok(())
    }

    async fn create_group(&self, idp_id: &str, display_name: &str) -> Result<String, CallError> {
        let filter = format!("displayName eq \"{}\"", display_name.replace('"', "\\\""));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &filter)
            .finish();
        let found = self
            .call(reqwest::Method::GET, &format!("Groups?{query}"), None)
            .await?;
        let existing = found
            .as_ref()
            .and_then(|v| v.get("Resources"))
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(|g| g.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(ic_id) = existing {
            self.call(
                reqwest::Method::PATCH,
                &format!("Groups/{ic_id}"),
                Some(json!({"schemas": [PATCH_SCHEMA], "Operations": [
                    {"op": "Replace", "path": "externalId", "value": idp_id}
                ]})),
            )
            .await?;
            return Ok(ic_id);
        }
        let created = self
            .call(
                reqwest::Method::POST,
                "Groups",
                Some(json!({
                    "schemas": [GROUP_SCHEMA],
                    "displayName": display_name,
                    "externalId": idp_id,
                    "members": [],
                })),
            )
            .await?;
        created
            .as_ref()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| CallError::Entry {
                status: 201,
                detail: "the created group came back without an id".into(),
            })
    }
}

/// PATCH operations that turn `old` (all attributes when `None`) into `new`, as Entra sends
/// them: `Replace` with a path, booleans as "True"/"False" strings.
fn user_operations(old: Option<&UserAttributes>, new: &UserAttributes) -> Vec<Value> {
    let mut ops = Vec::new();
    let mut replace = |path: &str, changed: bool, value: Value| {
        if changed {
            ops.push(json!({"op": "Replace", "path": path, "value": value}));
        }
    };
    let differs = |f: fn(&UserAttributes) -> &Option<String>| old.is_none_or(|o| f(o) != f(new));
    replace(
        "userName",
        old.is_none_or(|o| o.user_name != new.user_name),
        json!(new.user_name),
    );
    replace(
        "displayName",
        old.is_none_or(|o| o.display_name != new.display_name),
        json!(new.display_name),
    );
    if let Some(g) = &new.given_name {
        replace("name.givenName", differs(|a| &a.given_name), json!(g));
    }
    if let Some(f) = &new.family_name {
        replace("name.familyName", differs(|a| &a.family_name), json!(f));
    }
    if let Some(e) = &new.email {
        replace(
            "emails[type eq \"work\"].value",
            differs(|a| &a.email),
            json!(e),
        );
    }
    if let Some(t) = &new.title {
        replace("title", differs(|a| &a.title), json!(t));
    }
    replace(
        "active",
        old.is_none_or(|o| o.active != new.active),
        json!(if new.active { "True" } else { "False" }),
    );
    ops
}
