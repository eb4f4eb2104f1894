//! One provisioning run's work against Identity Center's SCIM endpoint: what should be there
//! ([`Plan`], from the tenant), the calls that make it so ([`Run`]: match, create, PATCH,
//! disable, delete, member batches of at most 100), each retried on 429/5xx with backoff and
//! jitter, each object logged as a `provisioningObjectSummary`.

use std::collections::{HashMap, HashSet};
use std::time::Duration as StdDuration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    Escrow, ExportedGroup, ExportedUser, GROUP_SCHEMA, ObjectOutcome, PATCH_SCHEMA, Provisioning,
    SyncError, Target, USER_SCHEMA, UserAttributes, time,
};
use crate::entra::tenant::Tenant;

/// How one SCIM call ended.
#[derive(Debug)]
pub(super) enum CallError {
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

/// The job-level error for a run that stopped.
pub(super) fn job_error(e: &CallError) -> SyncError {
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

/// Entra's matching: a user whose `userName` is the source's (`%s`).
pub const MATCH_BY_USER_NAME: &str = "userName eq \"%s\"";

/// What should be in Identity Center: users and groups in scope, by IdP id.
#[derive(Debug, Clone)]
pub struct Plan {
    pub users: Vec<(String, UserAttributes)>,
    /// Every user id still in the source (a user out of scope but present is disabled, one
    /// gone from the source is deleted).
    pub existing: HashSet<String>,
    /// (IdP id, display name, member IdP ids).
    pub groups: Vec<(String, String, Vec<String>)>,
    /// The SCIM filter that looks for a user to match before creating one; `%s` stands for the
    /// user's userName (PingOne's "User Filter Expression"; the seeds set `userName Eq "%s"`).
    pub user_filter: String,
}

impl Plan {
    pub fn of(tenant: &Tenant) -> Self {
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
            user_filter: MATCH_BY_USER_NAME.to_string(),
        }
    }
}

/// One run in progress.
pub(super) struct Run<'a> {
    pub(super) job: &'a Provisioning,
    pub(super) target: &'a Target,
    pub(super) cycle_id: &'a str,
    pub(super) now: DateTime<Utc>,
    pub(super) exports: u64,
    pub(super) exported: u64,
    pub(super) escrowed: u64,
    pub(super) events: Vec<Value>,
    pub(super) outcomes: HashMap<String, ObjectOutcome>,
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
        self.outcomes.insert(
            o.source_id.to_string(),
            ObjectOutcome {
                action: o.action.to_string(),
                target_id: o.target_id.map(str::to_string),
                error: o.error.map(|e| match e {
                    CallError::Entry { status, detail } => format!("HTTP {status}: {detail}"),
                    other => job_error(other).message,
                }),
                at: self.now,
            },
        );
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

    pub(super) async fn users(
        &mut self,
        plan: &Plan,
        escrow: &mut Escrow,
    ) -> Result<(), CallError> {
        let in_scope: HashSet<&str> = plan.users.iter().map(|(id, _)| id.as_str()).collect();
        for (idp_id, attributes) in &plan.users {
            match escrow.users.get(idp_id).cloned() {
                None => {
                    let result = self
                        .create_user(idp_id, attributes, &plan.user_filter)
                        .await;
                    let (ic_id, error) = match result {
                        Ok(id) => (Some(id), None),
                        Err(e) => (None, Some(e)),
                    };
                    self.settle(Outcome {
                        action: "create",
                        identity_type: "User",
                        source_id: idp_id,
                        display_name: attributes.shown_name(),
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
                        display_name: attributes.shown_name(),
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
            let (gone, error) = gone_is_done(result);
            self.settle(Outcome {
                action: if deleted { "delete" } else { "disable" },
                identity_type: "User",
                source_id: &idp_id,
                display_name: exported.attributes.shown_name(),
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

    /// Looks for a match with the plan's user filter; adopts it (sending every mapped
    /// attribute) or creates the user. Returns the Identity Center id.
    async fn create_user(
        &self,
        idp_id: &str,
        attributes: &UserAttributes,
        user_filter: &str,
    ) -> Result<String, CallError> {
        let filter = user_filter.replace("%s", &attributes.user_name.replace('"', "\\\""));
        if let Some(ic_id) = self.find("Users", &filter).await? {
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
            "active": attributes.active,
        });
        if let Some(o) = body.as_object_mut() {
            if let Some(d) = &attributes.display_name {
                o.insert("displayName".into(), json!(d));
            }
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
        id_of(created.as_ref(), "user")
    }

    pub(super) async fn groups(
        &mut self,
        plan: &Plan,
        escrow: &mut Escrow,
    ) -> Result<(), CallError> {
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
            let (_, error) = gone_is_done(result);
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
        if let Some(ic_id) = self.find("Groups", &filter).await? {
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
        id_of(created.as_ref(), "group")
    }

    /// The Identity Center id of the first `resource` that `filter` finds (how the IdP
    /// matches before it creates).
    async fn find(&self, resource: &str, filter: &str) -> Result<Option<String>, CallError> {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .finish();
        let found = self
            .call(reqwest::Method::GET, &format!("{resource}?{query}"), None)
            .await?;
        Ok(found
            .as_ref()
            .and_then(|v| v.get("Resources"))
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string))
    }
}

/// The `id` of a resource Identity Center just created.
fn id_of(created: Option<&Value>, kind: &str) -> Result<String, CallError> {
    created
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| CallError::Entry {
            status: 201,
            detail: format!("the created {kind} came back without an id"),
        })
}

/// A DELETE or disable that finds the object already gone has done its job: (gone, the error
/// that remains).
fn gone_is_done(result: Result<Option<Value>, CallError>) -> (bool, Option<CallError>) {
    match result {
        Err(CallError::Entry { status: 404, .. }) => (true, None),
        other => (false, other.err()),
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
    if let Some(d) = &new.display_name {
        replace("displayName", differs(|a| &a.display_name), json!(d));
    }
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
