//! Microsoft Graph v1.0 over the tenant: the resources, paging (`$top`, `$skiptoken` inside
//! `@odata.nextLink`), `$select`, the few `$filter` equalities clients use, and the error shape
//! (`{"error": {"code", "message", "innerError"}}`).

use axum::http::{Method, StatusCode};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};

/// What must be escaped in a query key or value of a next link.
const QUERY_PART: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

use super::tenant::{GraphGroup, GraphUser, Principal, Tenant, TenantError};
use super::token::Granted;
use super::{EntraState, GraphError};

/// What one request needs besides the state: where links point, the caller's grant, the query.
pub struct Request<'a> {
    pub base: &'a str,
    pub granted: &'a Granted,
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
}

pub type Answer = Result<(StatusCode, Option<Value>), GraphError>;

const USER_PROPERTIES: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "jobTitle",
    "department",
    "accountEnabled",
    "createdDateTime",
    "businessPhones",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
];

/// What `GET /users` returns without `$select`.
const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "visibility",
];

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn user_json(u: &GraphUser, select: &[&str]) -> Value {
    let mut o = Map::new();
    for &p in select {
        let v = match p {
            "id" => json!(u.id),
            "userPrincipalName" => json!(u.user_principal_name),
            "displayName" => json!(u.display_name),
            "givenName" => json!(u.given_name),
            "surname" => json!(u.surname),
            "mail" => json!(u.mail),
            "mailNickname" => json!(u.mail_nickname),
            "jobTitle" => json!(u.job_title),
            "department" => json!(u.department),
            "accountEnabled" => json!(u.account_enabled),
            "createdDateTime" => json!(time(u.created)),
            "businessPhones" => json!([]),
            _ => Value::Null,
        };
        o.insert(p.to_string(), v);
    }
    Value::Object(o)
}

fn group_json(g: &GraphGroup, select: &[&str]) -> Value {
    let mut o = Map::new();
    for &p in select {
        let v = match p {
            "id" => json!(g.id),
            "createdDateTime" => json!(time(g.created)),
            "description" => json!(g.description),
            "displayName" => json!(g.display_name),
            "groupTypes" => json!([]),
            "mailEnabled" => json!(false),
            "mailNickname" => json!(g.mail_nickname),
            "securityEnabled" => json!(true),
            _ => Value::Null,
        };
        o.insert(p.to_string(), v);
    }
    Value::Object(o)
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `$select`, checked against the type's properties; `default` when absent.
fn select(
    query: &[(String, String)],
    known: &[&'static str],
    default: &[&'static str],
    type_name: &str,
) -> Result<Vec<&'static str>, GraphError> {
    let Some(list) = param(query, "$select") else {
        return Ok(default.to_vec());
    };
    list.split(',')
        .map(str::trim)
        .map(|name| {
            known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(name))
                .copied()
                .ok_or_else(|| {
                    GraphError::bad_request(format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'."
                    ))
                })
        })
        .collect()
}

/// `$filter=<property> eq '<value>'`: the only filter shape the sandbox serves, on the given
/// properties.
fn equality(
    query: &[(String, String)],
    properties: &[&str],
) -> Result<Option<(String, String)>, GraphError> {
    let Some(filter) = param(query, "$filter") else {
        return Ok(None);
    };
    let unsupported = || {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            format!(
                "Unsupported Query. The sandbox serves $filter=<property> eq '<value>' on {properties:?}."
            ),
        )
    };
    let (property, rest) = filter.trim().split_once(" eq ").ok_or_else(unsupported)?;
    let property = properties
        .iter()
        .find(|p| p.eq_ignore_ascii_case(property.trim()))
        .ok_or_else(unsupported)?;
    let value = rest
        .trim()
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .ok_or_else(unsupported)?
        .replace("''", "'");
    Ok(Some((property.to_string(), value)))
}

/// Page size from `$top` (1..=max, default `default`).
fn top(query: &[(String, String)], default: usize, max: usize) -> Result<usize, GraphError> {
    match param(query, "$top") {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(GraphError::bad_request(format!(
                "Invalid page size specified: '{raw}'. Must be between 1 and {max} inclusive."
            ))),
        },
    }
}

fn skip(query: &[(String, String)]) -> Result<usize, GraphError> {
    let Some(token) = param(query, "$skiptoken") else {
        return Ok(0);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.strip_prefix("sandbox-offset:").map(str::to_string))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| GraphError::bad_request("The $skiptoken is not valid.".to_string()))
}

/// One page of `items` with `@odata.context` and, when more remain, `@odata.nextLink` (the same
/// query with a `$skiptoken`).
fn page(
    req: &Request<'_>,
    context: &str,
    total: usize,
    size: usize,
    offset: usize,
    item: impl Fn(usize) -> Value,
) -> Value {
    let end = (offset + size).min(total);
    let value: Vec<Value> = (offset.min(end)..end).map(item).collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{}/$metadata#{context}", req.base)),
    );
    if end < total {
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("sandbox-offset:{end}"));
        let mut query: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "$skiptoken")
            .cloned()
            .collect();
        query.push(("$skiptoken".into(), token));
        // Graph writes `$top=5&$select=id,displayName&$skiptoken=...` with `$` and `,` as is.
        let encoded: String = query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, QUERY_PART),
                    utf8_percent_encode(v, QUERY_PART)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{}/{}?{encoded}", req.base, req.path)),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Value::Object(body)
}

fn require(granted: &Granted, any_of: &[&str]) -> Result<(), GraphError> {
    if granted
        .permissions
        .iter()
        .any(|p| any_of.contains(&p.as_str()))
    {
        Ok(())
    } else {
        Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.".to_string(),
        ))
    }
}

/// A page of a `directoryObjects` collection whose items are all of one `kind` (`user`,
/// `group`), each tagged with its `@odata.type` as Graph does.
fn directory_objects(
    req: &Request<'_>,
    total: usize,
    size: usize,
    offset: usize,
    kind: &str,
    item: impl Fn(usize) -> Option<Value>,
) -> Value {
    page(req, "directoryObjects", total, size, offset, |i| {
        let mut v = item(i).unwrap_or(Value::Null);
        if let Value::Object(o) = &mut v {
            o.insert(
                "@odata.type".into(),
                json!(format!("#microsoft.graph.{kind}")),
            );
        }
        v
    })
}

const READ_USERS: &[&str] = &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All"];
const READ_GROUPS: &[&str] = &[
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Group.Read.All",
    "Directory.Read.All",
];
const WRITE_MEMBERS: &[&str] = &["GroupMember.ReadWrite.All", "Group.ReadWrite.All"];
const READ_APPS: &[&str] = &["Application.Read.All", "Directory.Read.All"];
const READ_SYNC: &[&str] = &["Synchronization.Read.All", "Synchronization.ReadWrite.All"];
const READ_AUDIT: &[&str] = &["AuditLog.Read.All"];

fn not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// Routes one Graph request (after authentication, quota and faults).
pub fn route(state: &EntraState, req: &Request<'_>) -> Answer {
    let segments: Vec<&str> = req.path.trim_end_matches('/').split('/').collect();
    let get = req.method == Method::GET;
    match (segments.as_slice(), req.method) {
        (["users", "delta"], _) if get => {
            require(req.granted, READ_USERS)?;
            users_delta(state, req)
        }
        (["groups", "delta"], _) if get => {
            require(req.granted, READ_GROUPS)?;
            groups_delta(state, req)
        }
        (["users"], _) if get => {
            require(req.granted, READ_USERS)?;
            list_users(state, req)
        }
        (["users", id], _) if get => {
            require(req.granted, READ_USERS)?;
            let fields = select(req.query, USER_PROPERTIES, USER_DEFAULT, "user")?;
            let tenant = state.tenant()?;
            let u = tenant
                .user_position(id)
                .and_then(|p| tenant.user(p))
                .ok_or_else(|| not_found(id))?;
            let mut body = user_json(u, &fields);
            if let Value::Object(o) = &mut body {
                o.insert(
                    "@odata.context".into(),
                    json!(format!("{}/$metadata#users/$entity", req.base)),
                );
            }
            Ok((StatusCode::OK, Some(body)))
        }
        (["groups"], _) if get => {
            require(req.granted, READ_GROUPS)?;
            list_groups(state, req)
        }
        (
            [
                "users",
                id,
                relation @ ("memberOf" | "transitiveMemberOf" | "ownedObjects"),
            ],
            _,
        ) if get => {
            // The sandbox has no nested groups, so memberOf and transitiveMemberOf agree.
            let owned = *relation == "ownedObjects";
            require(req.granted, if owned { READ_USERS } else { READ_GROUPS })?;
            let fields = select(req.query, GROUP_PROPERTIES, GROUP_PROPERTIES, "group")?;
            let size = top(req.query, 100, 999)?;
            let offset = skip(req.query)?;
            let tenant = state.tenant()?;
            let user = tenant.user_position(id).ok_or_else(|| not_found(id))?;
            let list: Vec<u32> = (0..tenant.groups.len() as u32)
                .filter(|&p| {
                    tenant.group(p).is_some_and(|g| {
                        if owned {
                            g.owners.contains(&user)
                        } else {
                            g.members.contains(&user)
                        }
                    })
                })
                .collect();
            let body = directory_objects(req, list.len(), size, offset, "group", |i| {
                tenant.group(list[i]).map(|g| group_json(g, &fields))
            });
            Ok((StatusCode::OK, Some(body)))
        }
        (["groups", id], _) if get => {
            require(req.granted, READ_GROUPS)?;
            let fields = select(req.query, GROUP_PROPERTIES, GROUP_PROPERTIES, "group")?;
            let tenant = state.tenant()?;
            let g = tenant
                .group_position(id)
                .and_then(|p| tenant.group(p))
                .ok_or_else(|| not_found(id))?;
            Ok((StatusCode::OK, Some(group_json(g, &fields))))
        }
        (["groups", id, relation @ ("members" | "owners")], _) if get => {
            require(req.granted, READ_GROUPS)?;
            let fields = select(req.query, USER_PROPERTIES, USER_DEFAULT, "user")?;
            let size = top(req.query, 100, 999)?;
            let offset = skip(req.query)?;
            let tenant = state.tenant()?;
            let g = tenant
                .group_position(id)
                .and_then(|p| tenant.group(p))
                .ok_or_else(|| not_found(id))?;
            let list = if *relation == "members" {
                &g.members
            } else {
                &g.owners
            };
            let body = directory_objects(req, list.len(), size, offset, "user", |i| {
                tenant.user(list[i]).map(|u| user_json(u, &fields))
            });
            Ok((StatusCode::OK, Some(body)))
        }
        (["groups", id, "members", "$ref"], &Method::POST) => {
            require(req.granted, WRITE_MEMBERS)?;
            let reference: Value = serde_json::from_slice(req.body).map_err(|e| {
                GraphError::bad_request(format!("Invalid JSON in the request body: {e}"))
            })?;
            let user_id = reference
                .get("@odata.id")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    GraphError::bad_request(
                        "Send {\"@odata.id\": \"https://graph.microsoft.com/v1.0/directoryObjects/{id}\"}."
                            .to_string(),
                    )
                })?
                .to_string();
            let mut tenant = state.tenant_mut()?;
            match tenant.add_member(id, &user_id) {
                Ok(()) => Ok((StatusCode::NO_CONTENT, None)),
                Err(e) => Err(member_error(e)),
            }
        }
        (["groups", id, "members", user_id, "$ref"], &Method::DELETE) => {
            require(req.granted, WRITE_MEMBERS)?;
            let mut tenant = state.tenant_mut()?;
            match tenant.remove_member(id, user_id) {
                Ok(()) => Ok((StatusCode::NO_CONTENT, None)),
                Err(TenantError::NotMember) => Err(not_found(user_id)),
                Err(e) => Err(member_error(e)),
            }
        }
        (["servicePrincipals"], _) if get => {
            require(req.granted, READ_APPS)?;
            let filter = equality(req.query, &["displayName", "appId", "id"])?;
            let tenant = state.tenant()?;
            let sp = &tenant.service_principal;
            let matches = match &filter {
                None => true,
                Some((p, v)) => match p.as_str() {
                    "displayName" => &sp.display_name == v,
                    "appId" => &sp.app_id == v,
                    _ => &sp.id == v,
                },
            };
            let items: Vec<Value> = if matches {
                vec![service_principal_json(&tenant)]
            } else {
                Vec::new()
            };
            let body = page(req, "servicePrincipals", items.len(), 100, 0, |i| {
                items[i].clone()
            });
            Ok((StatusCode::OK, Some(body)))
        }
        (["servicePrincipals", id], _) if get => {
            require(req.granted, READ_APPS)?;
            let tenant = state.tenant()?;
            if tenant.service_principal.id != *id {
                return Err(not_found(id));
            }
            Ok((StatusCode::OK, Some(service_principal_json(&tenant))))
        }
        (["servicePrincipals", id, "appRoleAssignedTo"], _) if get => {
            require(req.granted, READ_APPS)?;
            let size = top(req.query, 100, 999)?;
            let offset = skip(req.query)?;
            let tenant = state.tenant()?;
            let sp = &tenant.service_principal;
            if sp.id != *id {
                return Err(not_found(id));
            }
            let body = page(
                req,
                &format!("servicePrincipals('{id}')/appRoleAssignedTo"),
                sp.assignments.len(),
                size,
                offset,
                |i| {
                    let a = &sp.assignments[i];
                    let (kind, principal_id, name) = match a.principal {
                        Principal::User(u) => {
                            let user = tenant.user(u);
                            (
                                "User",
                                user.map(|u| u.id.clone()),
                                user.map(|u| u.display_name.clone()),
                            )
                        }
                        Principal::Group(g) => {
                            let group = tenant.group(g);
                            (
                                "Group",
                                group.map(|g| g.id.clone()),
                                group.map(|g| g.display_name.clone()),
                            )
                        }
                    };
                    json!({
                        "id": a.id,
                        "deletedDateTime": null,
                        "appRoleId": sp.app_role_id,
                        "createdDateTime": time(a.created),
                        "principalDisplayName": name,
                        "principalId": principal_id,
                        "principalType": kind,
                        "resourceDisplayName": sp.display_name,
                        "resourceId": sp.id,
                    })
                },
            );
            Ok((StatusCode::OK, Some(body)))
        }
        (["servicePrincipals", id, "synchronization", "jobs"], _) if get => {
            require(req.granted, READ_SYNC)?;
            if state.tenant()?.service_principal.id != *id {
                return Err(not_found(id));
            }
            let jobs = [state.provisioning.job_json()];
            let body = page(
                req,
                "servicePrincipals/synchronization/jobs",
                1,
                1,
                0,
                |i| jobs[i].clone(),
            );
            Ok((StatusCode::OK, Some(body)))
        }
        (["servicePrincipals", id, "synchronization", "jobs", job_id], _) if get => {
            require(req.granted, READ_SYNC)?;
            if state.tenant()?.service_principal.id != *id || state.provisioning.job_id() != *job_id
            {
                return Err(not_found(job_id));
            }
            Ok((StatusCode::OK, Some(state.provisioning.job_json())))
        }
        (["auditLogs", "provisioning"], _) if get => {
            require(req.granted, READ_AUDIT)?;
            let size = top(req.query, 50, 1000)?;
            let offset = skip(req.query)?;
            let events = state.provisioning.events_newest_first();
            let body = page(
                req,
                "auditLogs/provisioning",
                events.len(),
                size,
                offset,
                |i| events[i].clone(),
            );
            Ok((StatusCode::OK, Some(body)))
        }
        _ => Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                segments.first().copied().unwrap_or_default()
            ),
        )),
    }
}

fn member_error(e: TenantError) -> GraphError {
    match e {
        TenantError::NoSuchGroup(id) | TenantError::NoSuchUser(id) => not_found(&id),
        TenantError::AlreadyMember => GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'members'."
                .to_string(),
        ),
        TenantError::NotMember => not_found("member"),
    }
}

fn delta_token(position: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sandbox-delta:{position}"))
}

/// The position a `$deltatoken` stands for; None for an initial round.
fn delta_since(query: &[(String, String)]) -> Result<Option<usize>, GraphError> {
    let Some(token) = param(query, "$deltatoken") else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.strip_prefix("sandbox-delta:").map(str::to_string))
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            GraphError::bad_request(
                "The $deltatoken is not valid; start a new round without one.".to_string(),
            )
        })
}

/// The last page of a delta round carries `@odata.deltaLink` instead of a next link.
fn with_delta_link(mut body: Value, req: &Request<'_>, position: usize) -> Value {
    if let Value::Object(o) = &mut body
        && !o.contains_key("@odata.nextLink")
    {
        let mut link = format!(
            "{}/{}?$deltatoken={}",
            req.base,
            req.path,
            delta_token(position)
        );
        if let Some(select) = param(req.query, "$select") {
            link.push_str(&format!(
                "&$select={}",
                utf8_percent_encode(select, QUERY_PART)
            ));
        }
        o.insert("@odata.deltaLink".into(), json!(link));
    }
    body
}

/// `GET /users/delta`: every user in the first round; later rounds list users changed since
/// the token (users only change outside Graph's reach in the sandbox, so none).
fn users_delta(state: &EntraState, req: &Request<'_>) -> Answer {
    let fields = select(req.query, USER_PROPERTIES, USER_DEFAULT, "user")?;
    let since = delta_since(req.query)?;
    let size = top(req.query, 100, 999)?;
    let offset = skip(req.query)?;
    let tenant = state.tenant()?;
    let total = if since.is_some() {
        0
    } else {
        tenant.users.len()
    };
    let body = page(req, "users", total, size, offset, |i| {
        user_json(&tenant.users[i], &fields)
    });
    Ok((
        StatusCode::OK,
        Some(with_delta_link(body, req, tenant.delta_position())),
    ))
}

fn member_ref(id: &str, removed: bool) -> Value {
    let mut v = json!({"@odata.type": "#microsoft.graph.user", "id": id});
    if removed && let Value::Object(o) = &mut v {
        o.insert("@removed".into(), json!({"reason": "deleted"}));
    }
    v
}

/// `GET /groups/delta`: the first round lists every group with all its members in
/// `members@delta`; later rounds list the groups whose members changed since the token, with
/// only the changes (removed members carry `@removed`).
fn groups_delta(state: &EntraState, req: &Request<'_>) -> Answer {
    let fields = select(req.query, GROUP_PROPERTIES, GROUP_PROPERTIES, "group")?;
    let since = delta_since(req.query)?;
    let size = top(req.query, 100, 999)?;
    let offset = skip(req.query)?;
    let tenant = state.tenant()?;
    // A later round: the changed groups and their netted changes (few). The first round: every
    // group, its members listed only for the groups on the page asked for.
    let changes: Option<Vec<(u32, Vec<Value>)>> = since.map(|position| {
        tenant
            .member_deltas_since(position)
            .into_iter()
            .map(|(g, delta)| {
                let id = |u: u32| tenant.user(u).map(|u| u.id.clone()).unwrap_or_default();
                let members = delta
                    .added
                    .iter()
                    .map(|&u| member_ref(&id(u), false))
                    .chain(delta.removed.iter().map(|&u| member_ref(&id(u), true)))
                    .collect();
                (g, members)
            })
            .collect()
    });
    let total = changes
        .as_ref()
        .map_or(tenant.groups.len(), |changed| changed.len());
    let body = page(req, "groups", total, size, offset, |i| {
        let (g, members) = match &changes {
            Some(changed) => (changed[i].0, changed[i].1.clone()),
            None => {
                let all = tenant
                    .group(i as u32)
                    .map(|group| {
                        group
                            .members
                            .iter()
                            .filter_map(|&u| tenant.user(u))
                            .map(|u| member_ref(&u.id, false))
                            .collect()
                    })
                    .unwrap_or_default();
                (i as u32, all)
            }
        };
        let mut v = tenant
            .group(g)
            .map(|group| group_json(group, &fields))
            .unwrap_or(Value::Null);
        if let Value::Object(o) = &mut v {
            o.insert("members@delta".into(), Value::Array(members));
        }
        v
    });
    Ok((
        StatusCode::OK,
        Some(with_delta_link(body, req, tenant.delta_position())),
    ))
}

fn list_users(state: &EntraState, req: &Request<'_>) -> Answer {
    let fields = select(req.query, USER_PROPERTIES, USER_DEFAULT, "user")?;
    let filter = equality(req.query, &["userPrincipalName", "mail", "id"])?;
    let size = top(req.query, 100, 999)?;
    let offset = skip(req.query)?;
    let tenant = state.tenant()?;
    let positions: Vec<usize> = match &filter {
        None => (0..tenant.users.len()).collect(),
        Some((p, v)) => tenant
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| match p.as_str() {
                "userPrincipalName" => u.user_principal_name.eq_ignore_ascii_case(v),
                "mail" => u.mail.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(v)),
                _ => &u.id == v,
            })
            .map(|(i, _)| i)
            .collect(),
    };
    let body = page(req, "users", positions.len(), size, offset, |i| {
        user_json(&tenant.users[positions[i]], &fields)
    });
    Ok((StatusCode::OK, Some(body)))
}

fn list_groups(state: &EntraState, req: &Request<'_>) -> Answer {
    let fields = select(req.query, GROUP_PROPERTIES, GROUP_PROPERTIES, "group")?;
    let filter = equality(req.query, &["displayName", "id"])?;
    let size = top(req.query, 100, 999)?;
    let offset = skip(req.query)?;
    let tenant = state.tenant()?;
    let positions: Vec<usize> = match &filter {
        None => (0..tenant.groups.len()).collect(),
        Some((p, v)) => tenant
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| match p.as_str() {
                "displayName" => g.display_name.eq_ignore_ascii_case(v),
                _ => &g.id == v,
            })
            .map(|(i, _)| i)
            .collect(),
    };
    let body = page(req, "groups", positions.len(), size, offset, |i| {
        group_json(&tenant.groups[positions[i]], &fields)
    });
    Ok((StatusCode::OK, Some(body)))
}

fn service_principal_json(tenant: &Tenant) -> Value {
    let sp = &tenant.service_principal;
    let key = &sp.signing_key;
    let cert = &key.certificate;
    let credential = |usage: &str| {
        json!({
            "customKeyIdentifier": cert.thumbprint,
            "displayName": cert.subject,
            "endDateTime": time(cert.not_after),
            "key": null,
            "keyId": key.key_id,
            "startDateTime": time(cert.not_before),
            "type": "AsymmetricX509Cert",
            "usage": usage,
        })
    };
    json!({
        "id": sp.id,
        "deletedDateTime": null,
        "accountEnabled": true,
        "appDisplayName": sp.display_name,
        "appId": sp.app_id,
        "appOwnerOrganizationId": tenant.tenant_id,
        "appRoleAssignmentRequired": true,
        "displayName": sp.display_name,
        "preferredSingleSignOnMode": "saml",
        "preferredTokenSigningKeyThumbprint": cert.thumbprint,
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp", "WindowsAzureActiveDirectoryGalleryApplicationNonPrimaryV1"],
        "servicePrincipalNames": [sp.app_id, sp.saml_sp.entity_id],
        "replyUrls": [sp.saml_sp.acs_url],
        "loginUrl": null,
        "appRoles": [{
            "allowedMemberTypes": ["User"],
            "description": "User",
            "displayName": "User",
            "id": sp.app_role_id,
            "isEnabled": true,
            "origin": "Application",
            "value": null,
        }],
        "keyCredentials": [credential("Verify"), credential("Sign")],
        "passwordCredentials": [],
        "samlSingleSignOnSettings": {"relayState": null},
    })
}
