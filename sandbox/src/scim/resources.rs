//! SCIM Users and Groups to and from the directory's objects, PATCH operations and the filters
//! Identity Center supports.
//!
//! A user's SCIM document is rendered from the modelled attributes (the ones the Identity Store
//! API also shows: userName, displayName, name, active, one email, title, externalId) laid over
//! the attributes the SCIM client sent that are not modelled (kept as sent). PATCH is applied to
//! that document and the result is read back like a PUT, so both go through the same checks.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use scim_proto::filter::ScimComplexFilter;
use serde_json::{Map, Value, json};

use super::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, ScimError, USER_SCHEMA};
use crate::directory::{Directory, ExternalId, Group, SCIM_ISSUER, User, UserStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::User => "Users",
            Resource::Group => "Groups",
        }
    }
}

/// One member added to or removed from a group by a PATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(String),
    Remove(String),
}

/// Attribute names as the schemas spell them; SCIM names are case-insensitive on input.
const KNOWN_NAMES: &[&str] = &[
    "id",
    "externalId",
    "meta",
    "schemas",
    "userName",
    "name",
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phoneNumbers",
    "addresses",
    "streetAddress",
    "locality",
    "region",
    "postalCode",
    "country",
    "value",
    "type",
    "primary",
    "groups",
    "members",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];

/// Modelled user attributes, kept in [`User`] rather than among the SCIM-only attributes.
const MODELLED: &[&str] = &[
    "id",
    "meta",
    "schemas",
    "userName",
    "displayName",
    "active",
    "externalId",
    "title",
    "groups",
];

/// User attributes Identity Center refuses.
const UNSUPPORTED: &[&str] = &[
    "password",
    "ims",
    "photos",
    "entitlements",
    "x509Certificates",
];

fn canonical(name: &str) -> String {
    if name.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
        return ENTERPRISE_SCHEMA.to_string();
    }
    KNOWN_NAMES
        .iter()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_string(), |k| (*k).to_string())
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::validation(detail)
}

// ---- rendering ---------------------------------------------------------------------------------

pub fn user_json(u: &User) -> Value {
    let mut doc: Map<String, Value> = u.scim_attributes.as_deref().cloned().unwrap_or_default();
    doc.insert("id".into(), Value::from(u.user_id.clone()));
    if let Some(external) = u.external_ids.first() {
        doc.insert("externalId".into(), Value::from(external.id.clone()));
    }
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": timestamp(u.created_at),
            "lastModified": timestamp(u.updated_at),
        }),
    );
    let mut schemas = vec![Value::from(USER_SCHEMA)];
    if doc.contains_key(ENTERPRISE_SCHEMA) {
        schemas.push(Value::from(ENTERPRISE_SCHEMA));
    }
    doc.insert("schemas".into(), Value::Array(schemas));
    doc.insert("userName".into(), Value::from(u.user_name.clone()));
    doc.insert("displayName".into(), Value::from(u.display_name.clone()));
    doc.insert(
        "active".into(),
        Value::from(u.status == UserStatus::Enabled),
    );
    match &u.title {
        Some(title) => doc.insert("title".into(), Value::from(title.clone())),
        None => doc.remove("title"),
    };
    let name = doc
        .entry("name")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(name) = name.as_object_mut() {
        name.insert("givenName".into(), Value::from(u.given_name.clone()));
        name.insert("familyName".into(), Value::from(u.family_name.clone()));
    }
    match &u.email {
        Some(email) => {
            let emails = doc
                .entry("emails")
                .or_insert_with(|| Value::Array(Vec::new()));
            match emails.as_array_mut().and_then(|a| a.first_mut()) {
                Some(Value::Object(first)) => {
                    first.insert("value".into(), Value::from(email.clone()));
                }
                _ => *emails = json!([{ "value": email, "type": "work", "primary": true }]),
            }
        }
        None => {
            doc.remove("emails");
        }
    }
    Value::Object(doc)
}

/// Identity Center answers group reads with an empty member list, always.
pub fn group_json(g: &Group) -> Value {
    let mut doc = json!({
        "id": g.group_id,
        "meta": {
            "resourceType": "Group",
            "created": timestamp(g.created_at),
            "lastModified": timestamp(g.updated_at),
        },
        "schemas": [GROUP_SCHEMA],
        "displayName": g.display_name,
        "members": [],
    });
    if let (Some(external), Some(map)) = (g.external_ids.first(), doc.as_object_mut()) {
        map.insert("externalId".into(), Value::from(external.id.clone()));
    }
    doc
}

// ---- reading documents -------------------------------------------------------------------------

fn required_string(map: &Map<String, Value>, key: &str, what: &str) -> Result<String, ScimError> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(invalid(format!(
            "{what} is required and must be a non-empty string."
        ))),
    }
}

fn optional_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ScimError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{key} must be a string."))),
    }
}

/// `true`/`false`, also as the strings Entra ID sends ("True", "False").
fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Top-level keys in canonical spelling (the enterprise extension's keys too).
fn normalised(body: &Value) -> Result<Map<String, Value>, ScimError> {
    let object = body.as_object().ok_or_else(|| {
        invalid("Request is unparsable, syntactically incorrect, or violates schema.")
    })?;
    let mut map = Map::new();
    for (key, value) in object {
        let key = canonical(key);
        let value = if key == ENTERPRISE_SCHEMA {
            match value {
                Value::Object(ext) => {
                    Value::Object(ext.iter().map(|(k, v)| (canonical(k), v.clone())).collect())
                }
                _ => return Err(invalid(format!("{ENTERPRISE_SCHEMA} must be an object."))),
            }
        } else {
            value.clone()
        };
        map.insert(key, value);
    }
    Ok(map)
}

/// `externalId` as the directory keeps it: SCIM's one external id, under the SCIM issuer.
fn external_ids(map: &Map<String, Value>) -> Result<Vec<ExternalId>, ScimError> {
    Ok(optional_string(map, "externalId")?
        .filter(|e| !e.is_empty())
        .map(|id| {
            vec![ExternalId {
                issuer: SCIM_ISSUER.into(),
                id,
            }]
        })
        .unwrap_or_default())
}

/// A user from a SCIM document (POST, PUT, or the result of a PATCH).
pub fn user_from_scim(
    body: &Value,
    user_id: String,
    now: DateTime<Utc>,
) -> Result<User, ScimError> {
    let mut map = normalised(body)?;
    if let Some(bad) = UNSUPPORTED.iter().find(|k| map.contains_key(**k)) {
        return Err(invalid(format!(
            "The {bad} attribute is not supported by IAM Identity Center."
        )));
    }
    let user_name = required_string(&map, "userName", "userName")?;
    let display_name = required_string(&map, "displayName", "displayName")?;
    let name = map
        .get("name")
        .and_then(Value::as_object)
        .map(|n| {
            n.iter()
                .map(|(k, v)| (canonical(k), v.clone()))
                .collect::<Map<String, Value>>()
        })
        .ok_or_else(|| invalid("name with givenName and familyName is required."))?;
    let given_name = required_string(&name, "givenName", "name.givenName")?;
    let family_name = required_string(&name, "familyName", "name.familyName")?;
    map.insert("name".into(), Value::Object(name));
    for multi in ["emails", "phoneNumbers", "addresses"] {
        match map.get(multi) {
            None | Some(Value::Null) => {}
            Some(Value::Array(values)) if values.len() <= 1 => {}
            Some(Value::Array(_)) => {
                return Err(invalid(format!(
                    "IAM Identity Center does not support multiple values in {multi}; send one."
                )));
            }
            Some(_) => return Err(invalid(format!("{multi} must be a list."))),
        }
    }
    let email = match map
        .get("emails")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        None => None,
        Some(first) => {
            let value = first
                .get("value")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid("emails[0].value is required."))?;
            if first.get("primary").and_then(boolean) != Some(true) {
                return Err(invalid(
                    "The emails attribute value must be marked as primary.",
                ));
            }
            Some(value.to_string())
        }
    };
    let active = match map.get("active") {
        None | Some(Value::Null) => true,
        Some(v) => boolean(v).ok_or_else(|| invalid("active must be true or false."))?,
    };
    let external_ids = external_ids(&map)?;
    let title = optional_string(&map, "title")?;
    for key in MODELLED {
        map.remove(*key);
    }
    map.retain(|_, v| !v.is_null());
    Ok(User {
        user_id,
        user_name,
        display_name,
        given_name,
        family_name,
        email,
        title,
        status: if active {
            UserStatus::Enabled
        } else {
            UserStatus::Disabled
        },
        external_ids,
        created_at: now,
        updated_at: now,
        scim_attributes: (!map.is_empty()).then(|| Box::new(map)),
    })
}

pub fn group_from_scim(
    body: &Value,
    group_id: String,
    now: DateTime<Utc>,
) -> Result<Group, ScimError> {
    let map = normalised(body)?;
    if let Some(other) = map.keys().find(|k| {
        ![
            "schemas",
            "id",
            "meta",
            "displayName",
            "externalId",
            "members",
        ]
        .contains(&k.as_str())
    }) {
        return Err(invalid(format!(
            "Only displayName, members and externalId can be set on a group, not {other}."
        )));
    }
    let display_name = required_string(&map, "displayName", "displayName")?;
    let external_ids = external_ids(&map)?;
    Ok(Group {
        group_id,
        display_name,
        description: None,
        external_ids,
        created_at: now,
        updated_at: now,
    })
}

/// `[{"value": "<user id>"}, …]` → the ids.
pub fn member_ids(members: Option<&Value>) -> Result<Vec<String>, ScimError> {
    let Some(members) = members else {
        return Ok(Vec::new());
    };
    let list = match members {
        Value::Array(list) => list.as_slice(),
        Value::Null => return Ok(Vec::new()),
        single @ Value::Object(_) => std::slice::from_ref(single),
        _ => {
            return Err(invalid(
                "members must be a list of {\"value\": \"<user id>\"}.",
            ));
        }
    };
    list.iter()
        .map(|m| {
            m.get("value")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| invalid("Each member needs a value (the user id)."))
        })
        .collect()
}

// ---- PATCH -------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn op_kind(op: &Value) -> Result<Op, ScimError> {
    match op.get("op").and_then(Value::as_str) {
        Some(o) if o.eq_ignore_ascii_case("add") => Ok(Op::Add),
        Some(o) if o.eq_ignore_ascii_case("replace") => Ok(Op::Replace),
        Some(o) if o.eq_ignore_ascii_case("remove") => Ok(Op::Remove),
        other => Err(invalid(format!(
            "op must be add, replace or remove, not {other:?}."
        ))),
    }
}

/// A PATCH path: `attr`, `attr.sub`, `attr[sub eq "v"]`, `attr[sub eq "v"].sub`, optionally
/// prefixed with a schema URN.
#[derive(Debug, Clone, PartialEq)]
struct PatchPath {
    enterprise: bool,
    attribute: String,
    filter: Option<(String, Value)>,
    sub: Option<String>,
}

fn parse_path(path: &str) -> Result<PatchPath, ScimError> {
    // The extension as a whole (RFC 7644 §3.5.2: a path may be a schema URN).
    if path.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
        return Ok(PatchPath {
            enterprise: false,
            attribute: ENTERPRISE_SCHEMA.to_string(),
            filter: None,
            sub: None,
        });
    }
    let strip = |prefix: &str| {
        path.get(..prefix.len() + 1)
            .filter(|head| head.eq_ignore_ascii_case(&format!("{prefix}:")))
            .map(|head| &path[head.len()..])
    };
    let (enterprise, rest) = if let Some(rest) = strip(ENTERPRISE_SCHEMA) {
        (true, rest)
    } else if let Some(rest) = strip(USER_SCHEMA) {
        (false, rest)
    } else if path.to_ascii_lowercase().starts_with("urn:") {
        return Err(invalid(format!("Path {path} names an unknown schema.")));
    } else {
        (false, path)
    };
    let (attribute, filter, sub) = match (rest.find('['), rest.rfind(']')) {
        (Some(open), Some(close)) if close > open => {
            let inner = &rest[open + 1..close];
            let filter = match ScimComplexFilter::from_str(inner) {
                Ok(ScimComplexFilter::Equal(sub, value)) => (canonical(&sub), value),
                _ => {
                    return Err(invalid(format!(
                        "The filter in path {path} is not supported; use [<attribute> eq \"<value>\"]."
                    )));
                }
            };
            let sub = rest[close + 1..].strip_prefix('.').map(canonical);
            (canonical(&rest[..open]), Some(filter), sub)
        }
        (None, None) => match rest.split_once('.') {
            Some((a, s)) => (canonical(a), None, Some(canonical(s))),
            None => (canonical(rest), None, None),
        },
        _ => return Err(invalid(format!("Path {path} is not valid."))),
    };
    if attribute.is_empty() {
        return Err(invalid(format!("Path {path} is not valid.")));
    }
    Ok(PatchPath {
        enterprise,
        attribute,
        filter,
        sub,
    })
}

fn matches(element: &Value, (sub, expected): &(String, Value)) -> bool {
    let actual = element
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(sub)))
        .map(|(_, v)| v);
    match (actual, expected) {
        (Some(Value::String(a)), Value::String(e)) => a.eq_ignore_ascii_case(e),
        (Some(a), e) => a == e,
        (None, _) => false,
    }
}

/// Sets `value` into `slot`: `add` extends lists and merges objects, `replace` overwrites.
fn put(slot: &mut Value, value: Value, op: Op) {
    match (op, slot, value) {
        (Op::Add, Value::Array(existing), Value::Array(more)) => existing.extend(more),
        (_, Value::Object(existing), Value::Object(more)) => {
            for (k, v) in more {
                existing.insert(canonical(&k), v);
            }
        }
        (_, slot, value) => *slot = value,
    }
}

/// Applies one PATCH operation to a user's SCIM document.
pub fn apply_user_operation(doc: &mut Value, op: &Value) -> Result<(), ScimError> {
    let kind = op_kind(op)?;
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    let Some(path) = op
        .get("path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    else {
        if kind == Op::Remove {
            return Err(invalid("A remove operation needs a path."));
        }
        let Value::Object(values) = value else {
            return Err(invalid("Without a path, value must be an object."));
        };
        for (key, v) in values {
            // Entra ID sends dotted keys ("name.givenName") and schema-prefixed keys here.
            if canonical(&key) == ENTERPRISE_SCHEMA {
                let Value::Object(ext) = v else {
                    return Err(invalid(format!("{ENTERPRISE_SCHEMA} must be an object.")));
                };
                for (k, v) in ext {
                    apply_at(
                        doc,
                        kind,
                        &parse_path(&format!("{ENTERPRISE_SCHEMA}:{k}"))?,
                        v,
                    )?;
                }
            } else {
                apply_at(doc, kind, &parse_path(&key)?, v)?;
            }
        }
        return Ok(());
    };
    apply_at(doc, kind, &parse_path(path)?, value)
}

fn apply_at(doc: &mut Value, kind: Op, path: &PatchPath, value: Value) -> Result<(), ScimError> {
    if ["id", "meta", "schemas", "groups"].contains(&path.attribute.as_str()) && !path.enterprise {
        return Err(invalid(format!(
            "{} cannot be changed by a SCIM client.",
            path.attribute
        )));
    }
    let value = if path.attribute == "active" {
        boolean(&value).map_or(value, Value::from)
    } else {
        value
    };
    let root = doc
        .as_object_mut()
        .ok_or_else(|| ScimError::internal("user document is not an object"))?;
    let container = if path.enterprise {
        let ext = root
            .entry(ENTERPRISE_SCHEMA)
            .or_insert_with(|| Value::Object(Map::new()));
        if !ext.is_object() {
            *ext = Value::Object(Map::new());
        }
        ext.as_object_mut()
            .ok_or_else(|| ScimError::internal("extension is not an object"))?
    } else {
        root
    };
    let attribute = path.attribute.clone();
    match (kind, &path.filter, &path.sub) {
        (Op::Remove, None, None) => {
            container.remove(&attribute);
        }
        (Op::Remove, None, Some(sub)) => match container.get_mut(&attribute) {
            Some(Value::Object(o)) => {
                o.remove(sub);
            }
            Some(Value::Array(items)) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.remove(sub);
                }
            }
            _ => {}
        },
        (Op::Remove, Some(filter), sub) => {
            if let Some(Value::Array(items)) = container.get_mut(&attribute) {
                match sub {
                    None => items.retain(|item| !matches(item, filter)),
                    Some(sub) => {
                        for item in items.iter_mut().filter(|i| matches(i, filter)) {
                            if let Some(o) = item.as_object_mut() {
                                o.remove(sub);
                            }
                        }
                    }
                }
            }
        }
        (_, None, None) => match container.get_mut(&attribute) {
            Some(slot) => put(slot, value, kind),
            None => {
                container.insert(attribute, value);
            }
        },
        (_, None, Some(sub)) => {
            let slot = container
                .entry(attribute)
                .or_insert_with(|| Value::Object(Map::new()));
            let target = match slot {
                Value::Array(items) => {
                    if items.is_empty() {
                        items.push(Value::Object(Map::new()));
                    }
                    items.first_mut()
                }
                other => Some(other),
            };
            match target {
                Some(Value::Object(o)) => {
                    o.insert(sub.clone(), value);
                }
                Some(other) => *other = json!({ sub.clone(): value }),
                None => {}
            }
        }
        (_, Some(filter), sub) => {
            let slot = container
                .entry(attribute)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(items) = slot else {
                return Ok(());
            };
            let mut found = false;
            for item in items.iter_mut().filter(|i| matches(i, filter)) {
                found = true;
                match sub {
                    Some(sub) => {
                        if let Some(o) = item.as_object_mut() {
                            o.insert(sub.clone(), value.clone());
                        }
                    }
                    None => put(item, value.clone(), Op::Replace),
                }
            }
            if !found {
                let mut element = Map::new();
                element.insert(filter.0.clone(), filter.1.clone());
                match (sub, value) {
                    (Some(sub), value) => {
                        element.insert(sub.clone(), value);
                    }
                    (None, Value::Object(more)) => element.extend(more),
                    (None, _) => {}
                }
                // A new email made this way is the user's one (primary) email.
                if path.attribute == "emails" {
                    element.entry("primary").or_insert(Value::Bool(true));
                }
                items.push(Value::Object(element));
            }
        }
    }
    Ok(())
}

/// Applies one PATCH operation to a group: displayName, externalId and member changes only.
/// Replacing the member list, or removing all members, is refused as Identity Center does.
pub fn apply_group_operation(
    group: &mut Group,
    op: &Value,
    changes: &mut Vec<MemberChange>,
) -> Result<(), ScimError> {
    let kind = op_kind(op)?;
    let value = op.get("value");
    let path = op
        .get("path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    let Some(path) = path else {
        if kind == Op::Remove {
            return Err(invalid("A remove operation needs a path."));
        }
        let Some(Value::Object(values)) = value else {
            return Err(invalid("Without a path, value must be an object."));
        };
        for (key, v) in values {
            let key = canonical(key);
            if key == "id" {
                if v.as_str() != Some(group.group_id.as_str()) {
                    return Err(invalid("id cannot be changed."));
                }
                continue;
            }
            group_attribute(group, kind, &key, None, Some(v), changes)?;
        }
        return Ok(());
    };
    let path = parse_path(path)?;
    if path.enterprise || path.sub.as_deref().is_some_and(|s| s != "value") {
        return Err(invalid(
            "Only displayName, members and externalId attributes are allowed in the request.",
        ));
    }
    group_attribute(group, kind, &path.attribute, path.filter, value, changes)
}

fn group_attribute(
    group: &mut Group,
    kind: Op,
    attribute: &str,
    filter: Option<(String, Value)>,
    value: Option<&Value>,
    changes: &mut Vec<MemberChange>,
) -> Result<(), ScimError> {
    match (attribute, kind) {
        ("displayName", Op::Add | Op::Replace) => {
            group.display_name = value
                .and_then(Value::as_str)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| invalid("displayName must be a non-empty string."))?
                .to_string();
        }
        ("externalId", Op::Add | Op::Replace) => {
            let id = value
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("externalId must be a string."))?;
            group.external_ids = vec![ExternalId {
                issuer: SCIM_ISSUER.into(),
                id: id.to_string(),
            }];
        }
        ("externalId", Op::Remove) => group.external_ids.clear(),
        ("members", Op::Add) => {
            changes.extend(member_ids(value)?.into_iter().map(MemberChange::Add));
        }
        ("members", Op::Remove) => match (filter, value) {
            (Some((sub, Value::String(id))), _) if sub == "value" => {
                changes.push(MemberChange::Remove(id));
            }
            (Some(_), _) => {
                return Err(invalid("Members are selected by [value eq \"<user id>\"]."));
            }
            (None, Some(v)) if !v.is_null() => {
                changes.extend(member_ids(Some(v))?.into_iter().map(MemberChange::Remove));
            }
            (None, _) => {
                return Err(invalid(
                    "Removing all members of a group in one request is not supported by IAM Identity Center.",
                ));
            }
        },
        ("members", Op::Replace) => {
            return Err(invalid(
                "Replacing the members of a group is not supported by IAM Identity Center; add and remove members instead.",
            ));
        }
        ("displayName", Op::Remove) => {
            return Err(invalid("displayName is required and cannot be removed."));
        }
        (other, _) => {
            return Err(invalid(format!(
                "Only displayName, members and externalId attributes are allowed in the request, not {other}."
            )));
        }
    }
    Ok(())
}

// ---- filters -----------------------------------------------------------------------------------

/// The slots of the objects matching `terms`, for the combinations Identity Center supports:
/// users by (userName), (externalId), (groups.value), (id), (id and manager); groups by
/// (displayName), (externalId), (members / members.value), (id), (id and members).
pub fn filtered(
    d: &Directory,
    resource: Resource,
    terms: &[(String, String)],
) -> Result<Vec<usize>, ScimError> {
    let mut by: Vec<(String, &str)> = terms
        .iter()
        .map(|(a, v)| (a.to_ascii_lowercase(), v.as_str()))
        .collect();
    by.sort();
    let keys: Vec<&str> = by.iter().map(|(a, _)| a.as_str()).collect();
    let value = |key: &str| by.iter().find(|(a, _)| a == key).map(|(_, v)| *v);
    let unsupported = || {
        invalid(format!(
            "Filter combination ({}) is not supported by IAM Identity Center for {}.",
            terms
                .iter()
                .map(|(a, _)| a.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            resource.name()
        ))
    };
    // At most one object: its slot, or nothing.
    let user_slot = |u: Option<&User>| -> Vec<usize> {
        u.and_then(|u| d.user_slot(&u.user_id))
            .into_iter()
            .collect()
    };
    let group_slot = |g: Option<&Group>| -> Vec<usize> {
        g.and_then(|g| d.group_slot(&g.group_id))
            .into_iter()
            .collect()
    };
    let external = |id: &str| ExternalId {
        issuer: SCIM_ISSUER.into(),
        id: id.to_string(),
    };
    let found: Vec<usize> = match (resource, keys.as_slice()) {
        (Resource::User, ["username"]) => {
            user_slot(value("username").and_then(|v| d.user_by_name(v)))
        }
        (Resource::User, ["externalid"]) => {
            user_slot(value("externalid").and_then(|v| d.user_by_external_id(&external(v))))
        }
        (Resource::User, ["id"]) => user_slot(value("id").and_then(|v| d.user(v))),
        (Resource::User, ["groups.value"]) => {
            let group = value("groups.value").unwrap_or_default();
            let mut slots: Vec<usize> = d
                .memberships_of_group(group)
                .iter()
                .filter_map(|m| d.user_slot(m.user_id))
                .collect();
            slots.sort_unstable();
            slots
        }
        (Resource::User, ["id", "manager"]) => {
            let manager = value("manager").unwrap_or_default();
            user_slot(value("id").and_then(|v| d.user(v)).filter(|u| {
                u.scim_attributes
                    .as_ref()
                    .and_then(|a| a.get(ENTERPRISE_SCHEMA))
                    .and_then(|e| e.get("manager"))
                    .and_then(|m| m.get("value"))
                    .and_then(Value::as_str)
                    == Some(manager)
            }))
        }
        (Resource::Group, ["displayname"]) => {
            group_slot(value("displayname").and_then(|v| d.group_by_name(v)))
        }
        (Resource::Group, ["externalid"]) => {
            group_slot(value("externalid").and_then(|v| d.group_by_external_id(&external(v))))
        }
        (Resource::Group, ["id"]) => group_slot(value("id").and_then(|v| d.group(v))),
        (Resource::Group, [member @ ("members" | "members.value")]) => {
            let user = value(member).unwrap_or_default();
            if d.user(user).is_none() {
                return Err(ScimError::not_found(format!("User {user} not found")));
            }
            let mut slots: Vec<usize> = d
                .memberships_of_user(user)
                .iter()
                .filter_map(|m| d.group_slot(m.group_id))
                .collect();
            slots.sort_unstable();
            slots
        }
        (Resource::Group, ["id", member @ ("members" | "members.value")]) => {
            let user = value(member).unwrap_or_default();
            if d.user(user).is_none() {
                return Err(ScimError::not_found(format!("User {user} not found")));
            }
            let group = value("id").unwrap_or_default();
            group_slot(d.group(group).filter(|_| d.is_member(group, user)))
        }
        _ => return Err(unsupported()),
    };
    Ok(found)
}
