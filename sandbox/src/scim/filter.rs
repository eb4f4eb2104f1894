//! List filters: `eq` comparisons joined by `and`, narrowed to the attribute combinations
//! Identity Center supports.

use std::str::FromStr;

use scim_proto::filter::ScimFilter;
use serde_json::Value;

use super::ENTERPRISE_SCHEMA;
use super::ScimError;
use super::resources::{Resource, invalid};
use crate::directory::{Directory, ExternalId, Group, SCIM_ISSUER, User};

/// `eq` comparisons joined by `and`: (attribute as written, value).
pub fn equality_terms(filter: &str) -> Result<Vec<(String, String)>, ScimError> {
    let parsed = ScimFilter::from_str(filter.trim()).map_err(|_| {
        ScimError::validation(format!(
            "Filter {filter:?} is not valid; write <attribute> eq \"<value>\", joined by and"
        ))
    })?;
    let mut terms = Vec::new();
    collect_terms(&parsed, &mut terms)?;
    Ok(terms)
}

fn collect_terms(filter: &ScimFilter, terms: &mut Vec<(String, String)>) -> Result<(), ScimError> {
    match filter {
        ScimFilter::And(a, b) => {
            collect_terms(a, terms)?;
            collect_terms(b, terms)
        }
        ScimFilter::Equal(path, Value::String(value)) => {
            terms.push((path.to_string(), value.clone()));
            Ok(())
        }
        ScimFilter::Equal(path, _) => Err(ScimError::validation(format!(
            "Filter on {} must compare with a quoted string",
            path.to_string()
        ))),
        _ => Err(ScimError::validation(
            "Only the eq operator, joined by and, is supported in filters by IAM Identity Center.",
        )),
    }
}

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
