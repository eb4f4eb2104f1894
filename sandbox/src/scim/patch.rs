//! SCIM PATCH as Identity Center takes it: user operations applied to the user's document (read
//! back like a PUT afterwards), group operations limited to displayName, externalId and member
//! changes.

use std::str::FromStr;

use scim_proto::filter::ScimComplexFilter;
use serde_json::{Map, Value, json};

use super::resources::{boolean, canonical, invalid, member_ids};
use super::{ENTERPRISE_SCHEMA, ScimError, USER_SCHEMA};
use crate::directory::{ExternalId, Group, SCIM_ISSUER};

/// One member added to or removed from a group by a PATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(String),
    Remove(String),
}

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
