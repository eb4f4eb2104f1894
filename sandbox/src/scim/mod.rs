//! Identity Center's SCIM endpoint (`/<tenant>/scim/v2/`), the way IdPs provision into it:
//! bearer tokens (at most two, one year each), Users and Groups with `eq` filters joined by
//! `and`, cursor paging with `count` ≤ 100, empty `members` on group reads, PATCH with at most
//! 100 member changes, and Identity Center's refusals (/Bulk, /Me, /.search, PUT on groups,
//! other filter operators, several values in multi-valued attributes) in its error shape.
//! Sources: the "IAM Identity Center SCIM implementation developer guide"; where it is silent the
//! choice is written beside the code. The data is the same [`Directory`] the Identity Store API
//! serves, so a user created here is what `DescribeUser` returns.

pub mod filter;
pub mod patch;
pub mod resources;
pub mod tokens;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::aws::{AwsState, Service, SharedAwsState};
use crate::directory::{Directory, DirectoryError, Group};
use crate::faults::{FaultKind, Verdict};
use patch::MemberChange;
use resources::Resource;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Largest `count`, and the page size when none is given.
pub const MAX_COUNT: usize = 100;
/// Member changes one PATCH (or one group creation) may carry.
pub const MAX_MEMBER_CHANGES: usize = 100;

/// The SCIM side of the identity store: its tenant id (the path segment before `/scim/v2`) and
/// its bearer tokens.
#[derive(Debug)]
pub struct ScimState {
    pub tenant: String,
    pub tokens: tokens::ScimTokens,
}

impl ScimState {
    pub fn new(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            tokens: tokens::ScimTokens::default(),
        }
    }
}

/// An error as Identity Center's SCIM endpoint answers it: both `schema` and `schemas` (the
/// service sends both), `detail`, `status` as a string, a request id and a timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimError {
    pub status: StatusCode,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    /// ValidationException: unparsable, violates the schema, or not supported.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// The wording the service uses for a duplicate.
    pub fn conflict() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Refused to create a new, duplicate resource.",
        )
    }

    pub fn throttled() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "Rate exceeded")
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, detail)
    }
}

impl From<DirectoryError> for ScimError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound { kind, id } => {
                ScimError::not_found(format!("{} {id} not found", title_case(kind)))
            }
            DirectoryError::Conflict { .. } => ScimError::conflict(),
        }
    }
}

/// `USER` → `User`.
fn title_case(kind: &str) -> String {
    crate::aws::wire::upper_first(&kind.to_lowercase())
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "schema": [ERROR_SCHEMA],
            "schemas": [ERROR_SCHEMA],
            "detail": self.detail,
            "status": self.status.as_u16().to_string(),
            "exceptionRequestId": request_id,
            "timeStamp": Utc::now().format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-amzn-RequestId", v);
        }
        response
    }
}

type Answer = Result<(StatusCode, Option<Value>), ScimError>;

/// `/{tenant}/scim/v2/{*path}`: faults, tenant and token, quota, then the operation.
pub async fn handle(
    State(state): State<SharedAwsState>,
    Path((tenant, path)): Path<(String, String)>,
    method: Method,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (latency, verdict) = state.faults.decide(Service::Scim.fault_key());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match verdict {
        Verdict::Serve => {}
        Verdict::Unavailable => {
            return ScimError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service is unavailable (sandbox outage)",
            )
            .into_response();
        }
        Verdict::Fail(FaultKind::Throttle) => return ScimError::throttled().into_response(),
        Verdict::Fail(FaultKind::InternalError) => {
            return ScimError::internal("Internal error (sandbox fault)").into_response();
        }
        Verdict::Fail(FaultKind::DropConnection) => return crate::aws::dropped_connection(),
    }
    let answer = authenticate(&state, &tenant, &headers)
        .and_then(|()| {
            let write = method != Method::GET;
            state
                .throttle
                .admit(Service::Scim, if write { "write" } else { "read" })
                .map_err(|_| ScimError::throttled())
        })
        .and_then(|()| {
            let Query(query) =
                query.map_err(|e| ScimError::validation(format!("Query is not valid: {e}")))?;
            route(&state, &method, &path, &query, &body)
        });
    match answer {
        Ok((status, Some(body))) => (status, axum::Json(body)).into_response(),
        Ok((status, None)) => status.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The tenant must be this store's and the bearer token one of its live tokens.
fn authenticate(state: &AwsState, tenant: &str, headers: &HeaderMap) -> Result<(), ScimError> {
    if tenant != state.scim.tenant {
        return Err(ScimError::unauthorized(
            "The tenant id in the request is not valid.",
        ));
    }
    let token = crate::bearer::bearer(headers).ok_or_else(|| {
        ScimError::unauthorized("The Authorization header is missing or is not a bearer token.")
    })?;
    state
        .scim
        .tokens
        .check(token, state.clock.now())
        .map_err(|refusal| match refusal {
            tokens::Refusal::Expired => ScimError::unauthorized("The bearer token has expired."),
            tokens::Refusal::Unknown => ScimError::unauthorized("The bearer token is not valid."),
        })
}

fn route(
    state: &AwsState,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
) -> Answer {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let now = state.clock.now();
    let read = || {
        state
            .directory
            .read()
            .map_err(|_| ScimError::internal("the directory is unavailable"))
    };
    let write = || {
        state
            .directory
            .write()
            .map_err(|_| ScimError::internal("the directory is unavailable"))
    };
    let ok = |v: Value| Ok((StatusCode::OK, Some(v)));
    match (method.clone(), segments.as_slice()) {
        (_, ["Bulk" | "Me" | ".search"]) | (_, ["Users" | "Groups", ".search"]) => Err(
            ScimError::validation(format!("/{path} is not supported by IAM Identity Center.")),
        ),
        (Method::GET, ["ServiceProviderConfig"]) => ok(service_provider_config()),
        (Method::GET, ["Schemas"]) => {
            let all = schemas();
            let n = all.len();
            ok(list_response(all, n, None))
        }
        (Method::GET, ["Schemas", id]) => schemas()
            .into_iter()
            .find(|s| s.get("id").and_then(Value::as_str) == Some(id))
            .map_or_else(
                || Err(ScimError::not_found(format!("Schema {id} not found"))),
                ok,
            ),
        (Method::GET, ["ResourceTypes"]) => {
            let all = resource_types();
            let n = all.len();
            ok(list_response(all, n, None))
        }
        (Method::GET, ["ResourceTypes", id]) => resource_types()
            .into_iter()
            .find(|s| s.get("id").and_then(Value::as_str) == Some(id))
            .map_or_else(
                || Err(ScimError::not_found(format!("ResourceType {id} not found"))),
                ok,
            ),
        (Method::GET, ["Users"]) => list(&*read()?, Resource::User, query),
        (Method::GET, ["Groups"]) => list(&*read()?, Resource::Group, query),
        (Method::POST, ["Users"]) => create_user(&mut *write()?, &json_body(body)?, now),
        (Method::POST, ["Groups"]) => create_group(&mut *write()?, &json_body(body)?, now),
        (Method::GET, ["Users", id]) => {
            let d = read()?;
            let user = d.user(id).ok_or_else(|| user_not_found(id))?;
            ok(resources::user_json(user))
        }
        (Method::GET, ["Groups", id]) => {
            let d = read()?;
            let group = d.group(id).ok_or_else(|| group_not_found(id))?;
            ok(resources::group_json(group))
        }
        (Method::PUT, ["Users", id]) => put_user(&mut *write()?, id, &json_body(body)?, now),
        (Method::PATCH, ["Users", id]) => patch_user(&mut *write()?, id, &json_body(body)?, now),
        (Method::PATCH, ["Groups", id]) => patch_group(&mut *write()?, id, &json_body(body)?, now),
        (Method::DELETE, ["Users", id]) => {
            write()?.remove_user(id)?;
            Ok((StatusCode::NO_CONTENT, None))
        }
        (Method::DELETE, ["Groups", id]) => {
            write()?.remove_group(id)?;
            Ok((StatusCode::NO_CONTENT, None))
        }
        (Method::PUT, ["Groups", _]) => Err(ScimError::validation(
            "PUT on a group is not supported by IAM Identity Center; use PATCH.",
        )),
        (
            _,
            [
                "Users" | "Groups" | "ServiceProviderConfig" | "Schemas" | "ResourceTypes",
                ..,
            ],
        ) => Err(ScimError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} /{path} is not supported."),
        )),
        _ => Err(ScimError::not_found(format!("/{path} not found"))),
    }
}

fn json_body(body: &[u8]) -> Result<Value, ScimError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ScimError::validation(format!(
            "Request is unparsable, syntactically incorrect, or violates schema. ({e})"
        ))
    })?;
    if !value.is_object() {
        return Err(ScimError::validation(
            "Request is unparsable, syntactically incorrect, or violates schema. (not a JSON object)",
        ));
    }
    Ok(value)
}

fn user_not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("User {id} not found"))
}

fn group_not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("Group {id} not found"))
}

// ---- discovery ---------------------------------------------------------------------------------

fn service_provider_config() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://docs.aws.amazon.com/singlesignon/latest/developerguide/what-is-scim.html",
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 1, "maxPayloadSize": 1048576 },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "meta": { "resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig" }
    })
}

/// The User, Group and enterprise-extension schemas, limited to what Identity Center keeps.
fn schemas() -> Vec<Value> {
    serde_json::from_str(include_str!("schemas.json")).unwrap_or_default()
}

fn resource_types() -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{ "schema": ENTERPRISE_SCHEMA, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": "/ResourceTypes/User" }
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": GROUP_SCHEMA,
            "meta": { "resourceType": "ResourceType", "location": "/ResourceTypes/Group" }
        }),
    ]
}

/// A ListResponse. Without `cursor` in the request: totalResults, itemsPerPage, startIndex.
/// With it: itemsPerPage and, when there is more, nextCursor.
fn list_response(items: Vec<Value>, total_results: usize, cursor: Option<Option<String>>) -> Value {
    let mut body = json!({
        "schemas": [LIST_SCHEMA],
        "itemsPerPage": items.len(),
    });
    if let Some(map) = body.as_object_mut() {
        match cursor {
            None => {
                map.insert("totalResults".into(), Value::from(total_results));
                map.insert("startIndex".into(), Value::from(1));
            }
            Some(next) => {
                if let Some(next) = next {
                    map.insert("nextCursor".into(), Value::from(next));
                }
            }
        }
        map.insert("Resources".into(), Value::Array(items));
    }
    body
}

// ---- listing -----------------------------------------------------------------------------------

/// Paging parameters: `count` 1–100 (default 100), `cursor` (present, even empty, switches
/// to cursor paging). `startIndex` is not supported by the service and is ignored.
fn paging(query: &[(String, String)]) -> Result<(usize, Option<String>), ScimError> {
    let mut count = MAX_COUNT;
    let mut cursor = None;
    for (key, value) in query {
        match key.as_str() {
            "count" => {
                count = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| {
                        ScimError::validation(format!(
                            "count must be between 1 and {MAX_COUNT}, not {value:?}"
                        ))
                    })?;
            }
            "cursor" => cursor = Some(value.clone()),
            _ => {}
        }
    }
    Ok((count, cursor))
}

fn encode_cursor(resource: Resource, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1|{}|{offset}", resource.name()))
}

fn decode_cursor(resource: Resource, cursor: &str) -> Result<usize, ScimError> {
    if cursor.is_empty() {
        return Ok(0);
    }
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|raw| {
            let rest = raw.strip_prefix(&format!("c1|{}|", resource.name()))?;
            rest.parse().ok()
        })
        .ok_or_else(|| ScimError::validation("The cursor is not valid."))
}

fn list(d: &Directory, resource: Resource, query: &[(String, String)]) -> Answer {
    let (count, cursor) = paging(query)?;
    let filter = query
        .iter()
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.as_str());
    let offset = match &cursor {
        Some(c) => decode_cursor(resource, c)?,
        None => 0,
    };
    // Positions (slots) of the matching objects, in creation order.
    let matches: Vec<usize> = match filter {
        None => match resource {
            Resource::User => live_slots(d.user_slots()),
            Resource::Group => live_slots(d.group_slots()),
        },
        Some(filter) => filter::filtered(d, resource, &filter::equality_terms(filter)?)?,
    };
    let total = matches.len();
    let start = offset.min(total);
    let end = (start + count).min(total);
    let items: Vec<Value> = matches[start..end]
        .iter()
        .filter_map(|&slot| match resource {
            Resource::User => d.user_slots()[slot].as_ref().map(resources::user_json),
            Resource::Group => d.group_slots()[slot].as_ref().map(resources::group_json),
        })
        .collect();
    let page = cursor.map(|_| (end < total).then(|| encode_cursor(resource, end)));
    Ok((StatusCode::OK, Some(list_response(items, total, page))))
}

fn live_slots<T>(slots: &[Option<T>]) -> Vec<usize> {
    slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|_| i))
        .collect()
}

// ---- writes ------------------------------------------------------------------------------------

fn new_id(d: &Directory) -> String {
    d.object_id(*uuid::Uuid::new_v4().as_bytes())
}

fn create_user(d: &mut Directory, body: &Value, now: DateTime<Utc>) -> Answer {
    if body.get("groups").is_some() {
        return Err(ScimError::validation(
            "The groups attribute cannot be set when creating a user; add the user to groups with PATCH on the group.",
        ));
    }
    let user_id = new_id(d);
    let user = resources::user_from_scim(body, user_id.clone(), now)?;
    d.add_user(user)?;
    let user = d.user(&user_id).ok_or_else(|| user_not_found(&user_id))?;
    Ok((StatusCode::CREATED, Some(resources::user_json(user))))
}

fn put_user(d: &mut Directory, id: &str, body: &Value, now: DateTime<Utc>) -> Answer {
    let existing = d.user(id).ok_or_else(|| user_not_found(id))?;
    let mut user = resources::user_from_scim(body, id.to_string(), now)?;
    user.created_at = existing.created_at;
    d.replace_user(id, user)?;
    let user = d.user(id).ok_or_else(|| user_not_found(id))?;
    Ok((StatusCode::OK, Some(resources::user_json(user))))
}

fn patch_operations(body: &Value) -> Result<&[Value], ScimError> {
    let ops = body
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::validation("A PATCH request needs an Operations list."))?;
    if ops.is_empty() {
        return Err(ScimError::validation("Operations must not be empty."));
    }
    Ok(ops)
}

fn patch_user(d: &mut Directory, id: &str, body: &Value, now: DateTime<Utc>) -> Answer {
    let existing = d.user(id).ok_or_else(|| user_not_found(id))?;
    let mut document = resources::user_json(existing);
    for op in patch_operations(body)? {
        patch::apply_user_operation(&mut document, op)?;
    }
    let created_at = existing.created_at;
    let mut user = resources::user_from_scim(&document, id.to_string(), now)?;
    user.created_at = created_at;
    d.replace_user(id, user)?;
    let user = d.user(id).ok_or_else(|| user_not_found(id))?;
    Ok((StatusCode::OK, Some(resources::user_json(user))))
}

fn create_group(d: &mut Directory, body: &Value, now: DateTime<Utc>) -> Answer {
    let members = resources::member_ids(body.get("members"))?;
    if members.len() > MAX_MEMBER_CHANGES {
        return Err(ScimError::validation(format!(
            "A maximum of {MAX_MEMBER_CHANGES} members can be added in a single request."
        )));
    }
    if let Some(missing) = members.iter().find(|m| d.user(m).is_none()) {
        return Err(user_not_found(missing));
    }
    let group_id = new_id(d);
    let group = resources::group_from_scim(body, group_id.clone(), now)?;
    d.add_group(group)?;
    for member in members {
        let membership = new_id(d);
        d.add_membership(&membership, &group_id, &member)?;
    }
    let group = d
        .group(&group_id)
        .ok_or_else(|| group_not_found(&group_id))?;
    Ok((StatusCode::CREATED, Some(resources::group_json(group))))
}

fn patch_group(d: &mut Directory, id: &str, body: &Value, now: DateTime<Utc>) -> Answer {
    let existing: Group = d.group(id).cloned().ok_or_else(|| group_not_found(id))?;
    let mut group = existing.clone();
    let mut changes: Vec<MemberChange> = Vec::new();
    for op in patch_operations(body)? {
        patch::apply_group_operation(&mut group, op, &mut changes)?;
    }
    if changes.len() > MAX_MEMBER_CHANGES {
        return Err(ScimError::validation(format!(
            "A maximum of {MAX_MEMBER_CHANGES} membership changes are allowed in a single request; this one has {}.",
            changes.len()
        )));
    }
    if let Some(missing) = changes.iter().find_map(|c| match c {
        MemberChange::Add(user) if d.user(user).is_none() => Some(user),
        _ => None,
    }) {
        return Err(user_not_found(missing));
    }
    // Check everything before changing anything: a refused PATCH leaves the group as it was.
    if group != existing {
        group.updated_at = now;
        d.replace_group(id, group)?;
    }
    for change in changes {
        match change {
            MemberChange::Add(user) => {
                if !d.is_member(id, &user) {
                    let membership = new_id(d);
                    d.add_membership(&membership, id, &user)?;
                }
            }
            MemberChange::Remove(user) => {
                d.remove_member(id, &user);
            }
        }
    }
    Ok((StatusCode::NO_CONTENT, None))
}
