//! The Platform API routes under `/v1/environments/{envId}/`: users (with the
//! `memberOfGroups[id eq "…"]` and `population.id eq "…"` filters and cursor paging by
//! `_links.next.href`), groups, a user's group memberships (read, add, remove), the SAML application and signing keys, populations,
//! and propagation (plans, stores, rules, mappings, a user's synced rule). Each route needs a
//! worker-app role: reading the directory any of them, writing memberships Identity Data Admin
//! (or Environment Admin), the rest Environment Admin.

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::environment::{EnvironmentError, P1Group, P1User};
use super::{
    ApiError, PingOneState, ROLE_ENVIRONMENT_ADMIN, ROLE_IDENTITY_DATA_ADMIN,
    ROLE_IDENTITY_DATA_READ_ONLY,
};

/// Most items one page of users holds; a larger `limit` gets fewer, as PingOne may return.
pub const PAGE_MAX: usize = 200;
/// Most groups one page holds (Read All Groups takes `limit` up to 1,000).
pub const GROUP_PAGE_MAX: usize = 1000;
/// Items per page when `limit` is not given.
pub const PAGE_DEFAULT: usize = 100;

pub struct Request<'a> {
    /// `http://<host>/pingone/api/v1/environments/<envId>`.
    pub base: &'a str,
    pub roles: &'a [String],
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub body: &'a Bytes,
}

pub type Answer = Result<(StatusCode, Option<Value>), ApiError>;

#[derive(Clone, Copy)]
enum Need {
    Read,
    WriteMembers,
    Admin,
}

fn allow(req: &Request<'_>, need: Need) -> Result<(), ApiError> {
    let has = |r: &str| req.roles.iter().any(|g| g == r);
    let (ok, role) = match need {
        Need::Read => (
            has(ROLE_IDENTITY_DATA_READ_ONLY)
                || has(ROLE_IDENTITY_DATA_ADMIN)
                || has(ROLE_ENVIRONMENT_ADMIN),
            ROLE_IDENTITY_DATA_READ_ONLY,
        ),
        Need::WriteMembers => (
            has(ROLE_IDENTITY_DATA_ADMIN) || has(ROLE_ENVIRONMENT_ADMIN),
            ROLE_IDENTITY_DATA_ADMIN,
        ),
        Need::Admin => (has(ROLE_ENVIRONMENT_ADMIN), ROLE_ENVIRONMENT_ADMIN),
    };
    if ok {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "ACCESS_FAILED",
        "The request could not be completed. You do not have access to this resource.",
    )
    .with_detail(
        "INSUFFICIENT_PERMISSIONS",
        "roles",
        format!("The worker application needs the {role} role on this environment."),
    ))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn param<'a>(req: &'a Request<'_>, name: &str) -> Option<&'a str> {
    req.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `limit` and `cursor`: (page size, offset).
fn paging(req: &Request<'_>, max: usize) -> Result<(usize, usize), ApiError> {
    let limit = match param(req, "limit") {
        None => PAGE_DEFAULT,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(max),
            _ => {
                return Err(
                    ApiError::invalid_request("The request is not valid.").with_detail(
                        "INVALID_VALUE",
                        "limit",
                        format!("limit must be a whole number of at least 1, not '{v}'."),
                    ),
                );
            }
        },
    };
    let offset = match param(req, "cursor") {
        None => 0,
        Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
            .ok_or_else(|| {
                ApiError::invalid_request("The request is not valid.").with_detail(
                    "INVALID_VALUE",
                    "cursor",
                    "The cursor is not one this API gave; start again without it.",
                )
            })?,
    };
    Ok((limit, offset))
}

/// A page of `key` items with `_links.self` and, when more remain, `_links.next`.
fn page(
    req: &Request<'_>,
    collection: &str,
    key: &str,
    total: usize,
    limit: usize,
    offset: usize,
    item: impl Fn(usize) -> Value,
) -> Value {
    let end = (offset + limit).min(total);
    let items: Vec<Value> = (offset.min(end)..end).map(item).collect();
    let link = |offset: Option<usize>| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in req.query {
            if k != "cursor" {
                q.append_pair(k, v);
            }
        }
        if let Some(o) = offset {
            q.append_pair(
                "cursor",
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{o}")),
            );
        }
        let q = q.finish();
        if q.is_empty() {
            format!("{}/{collection}", req.base)
        } else {
            format!("{}/{collection}?{q}", req.base)
        }
    };
    let mut links = json!({"self": {"href": link((offset > 0).then_some(offset))}});
    if end < total
        && let Some(o) = links.as_object_mut()
    {
        o.insert("next".into(), json!({"href": link(Some(end))}));
    }
    json!({
        "_links": links,
        "_embedded": {key: items},
        "count": total,
        "size": end - offset.min(end),
    })
}

/// A list that is never paged (propagation, keys, applications).
fn list(req: &Request<'_>, collection: &str, key: &str, items: Vec<Value>) -> Value {
    json!({
        "_links": {"self": {"href": format!("{}/{collection}", req.base)}},
        "_embedded": {key: items},
        "size": items.len(),
    })
}

/// `attr eq "value"` → (attr, value); `memberOfGroups[id eq "value"]` → ("memberOfGroups",
/// value).
fn filter(req: &Request<'_>, allowed: &[&str]) -> Result<Option<(String, String)>, ApiError> {
    let Some(f) = param(req, "filter") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::invalid_request("The request is not valid.").with_detail(
            "INVALID_FILTER",
            "filter",
            format!(
                "The sandbox understands {} with eq and a quoted value, not '{f}'.",
                allowed.join(", ")
            ),
        )
    };
    let f = f.trim();
    let (attr, rest) = if let Some(inner) = f
        .strip_prefix("memberOfGroups[")
        .and_then(|r| r.strip_suffix(']'))
    {
        (
            "memberOfGroups",
            inner.trim().strip_prefix("id").ok_or_else(bad)?,
        )
    } else {
        let (a, r) = f.split_once(char::is_whitespace).ok_or_else(bad)?;
        (a, r)
    };
    let rest = rest.trim_start();
    let value = rest
        .get(..2)
        .filter(|op| op.eq_ignore_ascii_case("eq"))
        .and_then(|_| rest.get(2..))
        .map(str::trim)
        .and_then(|v| v.strip_prefix('"'))
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(bad)?;
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(attr)) {
        return Err(bad());
    }
    Ok(Some((attr.to_string(), value.replace("\\\"", "\""))))
}

fn user_json(base: &str, env_id: &str, population: &str, u: &P1User) -> Value {
    let mut name = json!({
        "given": u.given,
        "formatted": match &u.family {
            Some(f) => format!("{} {f}", u.given),
            None => u.given.clone(),
        },
    });
    if let (Some(f), Some(o)) = (&u.family, name.as_object_mut()) {
        o.insert("family".into(), json!(f));
    }
    json!({
        "_links": {
            "self": {"href": format!("{base}/users/{}", u.id)},
            "memberOfGroups": {"href": format!("{base}/users/{}/memberOfGroups", u.id)},
        },
        "id": u.id,
        "environment": {"id": env_id},
        "account": {"canAuthenticate": u.enabled, "status": "OK"},
        "createdAt": time(u.created),
        "updatedAt": time(u.created),
        "email": u.email,
        "enabled": u.enabled,
        "identityProvider": {"type": "PING_ONE"},
        "lifecycle": {"status": "ACCOUNT_OK"},
        "mfaEnabled": false,
        "name": name,
        "population": {"id": population},
        "title": u.title,
        "username": u.username,
        "verifyStatus": "NOT_INITIATED",
    })
}

fn group_json(base: &str, env_id: &str, g: &P1Group) -> Value {
    json!({
        "_links": {"self": {"href": format!("{base}/groups/{}", g.id)}},
        "id": g.id,
        "environment": {"id": env_id},
        "name": g.name,
        "description": g.description,
        "directMemberCounts": {"users": g.members.len()},
        "createdAt": time(g.created),
        "updatedAt": time(g.created),
    })
}

fn membership_json(base: &str, user_id: &str, g: &P1Group) -> Value {
    json!({
        "_links": {
            "self": {"href": format!("{base}/users/{user_id}/memberOfGroups/{}", g.id)},
            "group": {"href": format!("{base}/groups/{}", g.id)},
        },
        "id": g.id,
        "name": g.name,
        "type": "DIRECT",
    })
}

pub async fn route(state: &PingOneState, req: &Request<'_>) -> Answer {
    let segments: Vec<&str> = req
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let m = req.method;
    match segments.as_slice() {
        ["users"] if m == Method::GET => {
            allow(req, Need::Read)?;
            users(state, req)
        }
        ["users", id] if m == Method::GET => {
            allow(req, Need::Read)?;
            let env = state.environment()?;
            let u = env
                .user_position(id)
                .and_then(|p| env.user(p))
                .ok_or_else(|| ApiError::not_found("user"))?;
            Ok((
                StatusCode::OK,
                Some(user_json(req.base, &env.id, &env.population_id, u)),
            ))
        }
        ["users", id, "memberOfGroups"] if m == Method::GET => {
            allow(req, Need::Read)?;
            member_of(state, req, id)
        }
        ["users", id, "memberOfGroups"] if m == Method::POST => {
            allow(req, Need::WriteMembers)?;
            add_membership(state, req, id)
        }
        ["users", id, "memberOfGroups", group] if m == Method::GET => {
            allow(req, Need::Read)?;
            let env = state.environment()?;
            let (u, g) = (env.user_position(id), env.group_position(group));
            match (u, g) {
                (Some(u), Some(g)) if env.is_member(g, u) => {
                    let group = env.group(g).ok_or_else(|| ApiError::not_found("group"))?;
                    Ok((StatusCode::OK, Some(membership_json(req.base, id, group))))
                }
                (None, _) => Err(ApiError::not_found("user")),
                _ => Err(ApiError::not_found("group membership")),
            }
        }
        ["users", id, "memberOfGroups", group] if m == Method::DELETE => {
            allow(req, Need::WriteMembers)?;
            let mut env = state.environment_mut()?;
            match env.remove_member(id, group) {
                Ok(()) => Ok((StatusCode::NO_CONTENT, None)),
                Err(EnvironmentError::NoSuchUser(_)) => Err(ApiError::not_found("user")),
                Err(_) => Err(ApiError::not_found("group membership")),
            }
        }
        ["users", id, "syncedRules", rule] if m == Method::GET => {
            allow(req, Need::Admin)?;
            synced_rule(state, req, id, rule).await
        }
        ["groups"] if m == Method::GET => {
            allow(req, Need::Read)?;
            groups(state, req)
        }
        ["groups", id] if m == Method::GET => {
            allow(req, Need::Read)?;
            let env = state.environment()?;
            let g = env
                .group_position(id)
                .and_then(|p| env.group(p))
                .ok_or_else(|| ApiError::not_found("group"))?;
            Ok((StatusCode::OK, Some(group_json(req.base, &env.id, g))))
        }
        ["populations"] if m == Method::GET => {
            allow(req, Need::Read)?;
            let env = state.environment()?;
            let population = json!({
                "_links": {"self": {"href": format!("{}/populations/{}", req.base, env.population_id)}},
                "id": env.population_id,
                "environment": {"id": env.id},
                "name": "Default",
                "default": true,
                "userCount": env.users.len(),
            });
            Ok((
                StatusCode::OK,
                Some(list(req, "populations", "populations", vec![population])),
            ))
        }
        ["applications"] if m == Method::GET => {
            allow(req, Need::Admin)?;
            let app = application_json(state, req)?;
            Ok((
                StatusCode::OK,
                Some(list(req, "applications", "applications", vec![app])),
            ))
        }
        ["applications", id] if m == Method::GET => {
            allow(req, Need::Admin)?;
            if *id != state.environment()?.app.id {
                return Err(ApiError::not_found("application"));
            }
            Ok((StatusCode::OK, Some(application_json(state, req)?)))
        }
        ["keys"] if m == Method::GET => {
            allow(req, Need::Admin)?;
            let key = key_json(state, req)?;
            Ok((StatusCode::OK, Some(list(req, "keys", "keys", vec![key]))))
        }
        ["keys", id] if m == Method::GET => {
            allow(req, Need::Admin)?;
            if *id != state.environment()?.signing_key.id {
                return Err(ApiError::not_found("key"));
            }
            Ok((StatusCode::OK, Some(key_json(state, req)?)))
        }
        ["propagation", rest @ ..] if m == Method::GET => {
            allow(req, Need::Admin)?;
            propagation(state, req, rest)
        }
        _ => Err(ApiError::not_found("the resource (no such path or method)")),
    }
}

fn users(state: &PingOneState, req: &Request<'_>) -> Answer {
    let (limit, offset) = paging(req, PAGE_MAX)?;
    let f = filter(
        req,
        &["memberOfGroups", "population.id", "username", "email"],
    )?;
    let env = state.environment()?;
    let positions: Vec<usize> = match &f {
        None => (0..env.users.len()).collect(),
        // The environment has one population: every user is in it.
        Some((attr, value)) if attr.eq_ignore_ascii_case("population.id") => {
            if *value == env.population_id {
                (0..env.users.len()).collect()
            } else {
                Vec::new()
            }
        }
        Some((attr, value)) if attr == "memberOfGroups" => env
            .group_position(value)
            .and_then(|g| env.group(g))
            .map(|g| g.members.iter().map(|&u| u as usize).collect())
            .unwrap_or_default(),
        Some((attr, value)) => env
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                if attr.eq_ignore_ascii_case("username") {
                    u.username.eq_ignore_ascii_case(value)
                } else {
                    u.email.eq_ignore_ascii_case(value)
                }
            })
            .map(|(i, _)| i)
            .collect(),
    };
    let body = page(req, "users", "users", positions.len(), limit, offset, |i| {
        user_json(
            req.base,
            &env.id,
            &env.population_id,
            &env.users[positions[i]],
        )
    });
    Ok((StatusCode::OK, Some(body)))
}

fn groups(state: &PingOneState, req: &Request<'_>) -> Answer {
    let (limit, offset) = paging(req, GROUP_PAGE_MAX)?;
    let f = filter(req, &["name"])?;
    let env = state.environment()?;
    let positions: Vec<usize> = env
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| f.as_ref().is_none_or(|(_, v)| g.name == *v))
        .map(|(i, _)| i)
        .collect();
    let body = page(
        req,
        "groups",
        "groups",
        positions.len(),
        limit,
        offset,
        |i| group_json(req.base, &env.id, &env.groups[positions[i]]),
    );
    Ok((StatusCode::OK, Some(body)))
}

fn member_of(state: &PingOneState, req: &Request<'_>, user_id: &str) -> Answer {
    let (limit, offset) = paging(req, PAGE_MAX)?;
    let env = state.environment()?;
    let u = env
        .user_position(user_id)
        .ok_or_else(|| ApiError::not_found("user"))?;
    let groups = env.groups_of(u);
    let collection = format!("users/{user_id}/memberOfGroups");
    let body = page(
        req,
        &collection,
        "groupMemberships",
        groups.len(),
        limit,
        offset,
        |i| match env.group(groups[i]) {
            Some(g) => membership_json(req.base, user_id, g),
            None => Value::Null,
        },
    );
    Ok((StatusCode::OK, Some(body)))
}

fn add_membership(state: &PingOneState, req: &Request<'_>, user_id: &str) -> Answer {
    let body: Value = serde_json::from_slice(req.body)
        .map_err(|e| ApiError::invalid_request(format!("The request body is not JSON: {e}")))?;
    let Some(group_id) = body.get("id").and_then(Value::as_str) else {
        return Err(ApiError::invalid_data(
            "id",
            "Send {\"id\": \"<group id>\"}: the group to add the user to.",
        ));
    };
    let mut env = state.environment_mut()?;
    match env.add_member(user_id, group_id) {
        Ok(()) => {}
        Err(EnvironmentError::NoSuchUser(_)) => return Err(ApiError::not_found("user")),
        Err(EnvironmentError::NoSuchGroup(g)) => {
            return Err(ApiError::invalid_data(
                "id",
                format!("No group with id '{g}' exists in this environment."),
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_DATA",
                "The request could not be completed. One or more validation errors were in the request.",
            )
            .with_detail(
                "UNIQUENESS_VIOLATION",
                "id",
                "The user is already a direct member of this group.",
            ));
        }
    }
    let g = env
        .group_position(group_id)
        .and_then(|g| env.group(g))
        .ok_or_else(|| ApiError::not_found("group"))?;
    Ok((
        StatusCode::CREATED,
        Some(membership_json(req.base, user_id, g)),
    ))
}

async fn synced_rule(
    state: &PingOneState,
    req: &Request<'_>,
    user_id: &str,
    rule_id: &str,
) -> Answer {
    let (env_id, rule_created) = {
        let env = state.environment()?;
        if env.user_position(user_id).is_none() {
            return Err(ApiError::not_found("user"));
        }
        if env.propagation.rule.id != rule_id {
            return Err(ApiError::not_found("rule"));
        }
        (env.id.clone(), env.propagation.rule.created)
    };
    let outcome = state.propagation.outcome(user_id);
    let exported = state.propagation.exported_id(user_id).await;
    let (sync_state, details, at) = match (&outcome, &exported) {
        (Some(o), _) => (
            if o.error.is_some() {
                "FAILED"
            } else {
                "SUCCESS"
            },
            o.error.clone(),
            o.at,
        ),
        (None, Some(_)) => ("SUCCESS", None, rule_created),
        (None, None) => return Err(ApiError::not_found("synced rule for this user")),
    };
    Ok((
        StatusCode::OK,
        Some(json!({
            "_links": {"self": {"href": format!("{}/users/{user_id}/syncedRules/{rule_id}", req.base)}},
            "id": rule_id,
            "environment": {"id": env_id},
            "rule": {"id": rule_id},
            "user": {"id": user_id},
            "state": sync_state,
            "details": details,
            "lastSyncAt": time(at),
            "targetUserId": outcome.as_ref().and_then(|o| o.target_id.clone()).or(exported),
        })),
    ))
}

fn application_json(state: &PingOneState, req: &Request<'_>) -> Result<Value, ApiError> {
    let env = state.environment()?;
    let app = &env.app;
    let groups: Vec<Value> = app
        .access_groups
        .iter()
        .filter_map(|&g| env.group(g))
        .map(|g| json!({"id": g.id}))
        .collect();
    Ok(json!({
        "_links": {"self": {"href": format!("{}/applications/{}", req.base, app.id)}},
        "id": app.id,
        "environment": {"id": env.id},
        "name": app.name,
        "description": "AWS IAM Identity Center (from the application catalog)",
        "enabled": true,
        "type": "WEB_APP",
        "protocol": "SAML",
        "acsUrls": [app.acs_url],
        "spEntityId": app.sp_entity_id,
        "assertionDuration": 60,
        "responseSigned": true,
        "nameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "idpSigning": {"key": {"id": env.signing_key.id}, "algorithm": "SHA256withRSA"},
        "accessControl": {"group": {"type": "ANY_GROUP", "groups": groups}},
        "createdAt": time(env.propagation.rule.created),
        "updatedAt": time(env.propagation.rule.created),
    }))
}

fn key_json(state: &PingOneState, req: &Request<'_>) -> Result<Value, ApiError> {
    let env = state.environment()?;
    let key = &env.signing_key;
    let cert = &key.certificate;
    let serial = u128::from_str_radix(&cert.serial, 16)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| cert.serial.clone());
    Ok(json!({
        "_links": {"self": {"href": format!("{}/keys/{}", req.base, key.id)}},
        "id": key.id,
        "environment": {"id": env.id},
        "name": key.name,
        "serialNumber": serial,
        "subjectDN": cert.subject,
        "issuerDN": cert.subject,
        "algorithm": "RSA",
        "keyLength": 2048,
        "signatureAlgorithm": "SHA256withRSA",
        "validityPeriod": (cert.not_after - cert.not_before).num_days(),
        "startsAt": time(cert.not_before),
        "expiresAt": time(cert.not_after),
        "status": if cert.not_after > state.clock.now() { "VALID" } else { "EXPIRED" },
        "usageType": "SIGNING",
        "default": true,
        "createdAt": time(cert.not_before),
    }))
}

fn propagation(state: &PingOneState, req: &Request<'_>, rest: &[&str]) -> Answer {
    let env = state.environment()?;
    let p = &env.propagation;
    let base = req.base;
    let plan = json!({
        "_links": {"self": {"href": format!("{base}/propagation/plans/{}", p.plan_id)}},
        "id": p.plan_id,
        "environment": {"id": env.id},
        "name": "Default",
        "status": "ACTIVE",
    });
    let rule = json!({
        "_links": {"self": {"href": format!("{base}/propagation/rules/{}", p.rule.id)}},
        "id": p.rule.id,
        "environment": {"id": env.id},
        "plan": {"id": p.plan_id},
        "name": p.rule.name,
        "description": "PingOne Directory to IAM Identity Store",
        "active": p.rule.active,
        "deprovision": true,
        "sourceStore": {"id": env.id},
        "targetStore": {"id": p.store.id},
        "populations": p.rule.populations.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        "groups": p.rule.groups.iter().filter_map(|&g| env.group(g)).map(|g| json!({"id": g.id})).collect::<Vec<_>>(),
        "createdAt": time(p.rule.created),
        "updatedAt": time(p.rule.created),
    });
    let mappings: Vec<Value> = p
        .rule
        .mappings
        .iter()
        .map(|m| {
            json!({
                "_links": {"self": {"href": format!("{base}/propagation/rules/{}/mappings/{}", p.rule.id, m.id)}},
                "id": m.id,
                "environment": {"id": env.id},
                "rule": {"id": p.rule.id},
                "sourceAttribute": m.source,
                "targetAttribute": m.target,
                "expression": null,
            })
        })
        .collect();
    let last = state.propagation.last_execution();
    let sync_status = match &last {
        None => json!({"syncState": "SYNCING"}),
        Some(e) => json!({
            "syncState": if e.error.is_some() { "FAILED" } else { "SYNCING" },
            "details": e.error.as_ref().map(|e| e.message.clone()),
            "lastSyncAt": time(e.ended),
            "successCount": e.exported,
            "failedCount": e.escrowed,
            "failedDeprovisionCount": 0,
            "userTotal": env.users.len(),
        }),
    };
    let store = json!({
        "_links": {"self": {"href": format!("{base}/propagation/stores/{}", p.store.id)}},
        "id": p.store.id,
        "environment": {"id": env.id},
        "name": p.store.name,
        "description": "SCIM outbound to AWS IAM Identity Center",
        "type": "scim",
        "status": "ACTIVE",
        "managed": false,
        "configuration": {
            "SCIM_URL": p.store.scim_url,
            "SCIM_VERSION": "2.0",
            "AUTHENTICATION_METHOD": "OAuth 2 Bearer Token",
            "AUTHORIZATION_TYPE": "Bearer",
            "USER_FILTER": p.store.user_filter,
            "UNIQUE_USER_IDENTIFIER": "username",
            "USERS_RESOURCE": "/Users",
            "GROUPS_RESOURCE": "/Groups",
            "CREATE_USERS": true,
            "UPDATE_USERS": true,
            "DISABLE_USERS": true,
            "REMOVE_ACTION": "Disable",
            "GROUP_NAME_SOURCE": "Common Name",
        },
        "syncStatus": sync_status,
        "createdAt": time(p.store.created),
        "updatedAt": time(p.store.created),
    });
    let one = |v: Value| Ok((StatusCode::OK, Some(v)));
    match rest {
        ["plans"] => one(list(req, "propagation/plans", "plans", vec![plan])),
        ["plans", id] if *id == p.plan_id => one(plan),
        ["plans", id, "rules"] if *id == p.plan_id => one(list(
            req,
            &format!("propagation/plans/{id}/rules"),
            "rules",
            vec![rule],
        )),
        ["stores"] => one(list(req, "propagation/stores", "stores", vec![store])),
        ["stores", id] if *id == p.store.id => one(store),
        ["rules"] => one(list(req, "propagation/rules", "rules", vec![rule])),
        ["rules", id] if *id == p.rule.id => one(rule),
        ["rules", id, "mappings"] if *id == p.rule.id => one(list(
            req,
            &format!("propagation/rules/{id}/mappings"),
            "mappings",
            mappings,
        )),
        _ => Err(ApiError::not_found("the propagation resource")),
    }
}
