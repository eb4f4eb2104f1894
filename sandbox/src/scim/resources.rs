//! SCIM Users and Groups to and from the directory's objects (PATCH is in `patch`, list filters
//! in `filter`).
//!
//! A user's SCIM document is rendered from the modelled attributes (the ones the Identity Store
//! API also shows: userName, displayName, name, active, one email, title, externalId) laid over
//! the attributes the SCIM client sent that are not modelled (kept as sent). PATCH is applied to
//! that document and the result is read back like a PUT, so both go through the same checks.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, ScimError, USER_SCHEMA};
use crate::directory::{ExternalId, Group, SCIM_ISSUER, User, UserStatus};

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

pub(super) fn canonical(name: &str) -> String {
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

pub(super) fn invalid(detail: impl Into<String>) -> ScimError {
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
pub(super) fn boolean(value: &Value) -> Option<bool> {
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
