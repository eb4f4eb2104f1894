//! The Identity Store API (`identitystore`, 2020-06-15) over AWS JSON 1.1: the read operations
//! Tessera uses, plus the create calls tests need. Shapes, limits and errors follow the AWS API
//! reference; where the reference is silent the choice is written beside the code.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::wire::{
    epoch_seconds, invalid, optional_str, paged, paged_slots, required_str, upper_first, with_token,
};
use super::{AwsError, AwsState};
use crate::directory::{Directory, DirectoryError, ExternalId, Group, User, UserStatus};

/// `X-Amz-Target` prefix of the Identity Store.
pub const TARGET_PREFIX: &str = "AWSIdentityStore";

/// Every operation served (each has its own request quota).
pub const OPERATIONS: &[&str] = &[
    "ListUsers",
    "ListGroups",
    "ListGroupMemberships",
    "ListGroupMembershipsForMember",
    "IsMemberInGroups",
    "DescribeUser",
    "DescribeGroup",
    "DescribeGroupMembership",
    "GetUserId",
    "GetGroupId",
    "GetGroupMembershipId",
    "CreateUser",
    "CreateGroup",
    "CreateGroupMembership",
    "UpdateUser",
    "UpdateGroup",
    "DeleteUser",
    "DeleteGroup",
    "DeleteGroupMembership",
];

/// Largest `MaxResults` of the Identity Store's List operations.
const MAX_PAGE: usize = 100;

/// `MaxResults` and the `NextToken` offset, with tokens bound to this store.
fn page(d: &Directory, input: &Value, operation: &str) -> Result<(usize, usize), AwsError> {
    super::wire::page(input, operation, d.identity_store_id(), MAX_PAGE)
}

/// The store named in the request must be this one.
fn check_store(directory: &Directory, input: &Value) -> Result<(), AwsError> {
    let id = required_str(input, "IdentityStoreId")?;
    let well_formed = (id.len() == 12
        && id.starts_with("d-")
        && id[2..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
        || uuid::Uuid::try_parse(id).is_ok();
    if !well_formed {
        return Err(invalid(
            "identityStoreId",
            "Member must satisfy regular expression pattern: d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        ));
    }
    if id != directory.identity_store_id() {
        // The reference does not list this case; AWS answers a store of another account with
        // ResourceNotFoundException for the identity store.
        return Err(AwsError::not_found(
            "IDENTITY_STORE",
            id,
            format!("Identity store {id} does not exist"),
        ));
    }
    Ok(())
}

pub fn call(state: &AwsState, operation: &str, input: &Value) -> Result<Value, AwsError> {
    let read = || {
        state
            .directory
            .read()
            .map_err(|_| AwsError::internal("the directory is unavailable"))
    };
    let write = || {
        state
            .directory
            .write()
            .map_err(|_| AwsError::internal("the directory is unavailable"))
    };
    match operation {
        "ListUsers" => list_users(&*read()?, input),
        "ListGroups" => list_groups(&*read()?, input),
        "ListGroupMemberships" => list_group_memberships(&*read()?, input),
        "ListGroupMembershipsForMember" => list_memberships_for_member(&*read()?, input),
        "IsMemberInGroups" => is_member_in_groups(&*read()?, input),
        "DescribeUser" => describe_user(&*read()?, input),
        "DescribeGroup" => describe_group(&*read()?, input),
        "DescribeGroupMembership" => describe_group_membership(&*read()?, input),
        "GetUserId" => get_user_id(&*read()?, input),
        "GetGroupId" => get_group_id(&*read()?, input),
        "GetGroupMembershipId" => get_group_membership_id(&*read()?, input),
        "CreateUser" => create_user(&mut *write()?, input, state.clock.now()),
        "CreateGroup" => create_group(&mut *write()?, input, state.clock.now()),
        "CreateGroupMembership" => create_group_membership(&mut *write()?, input),
        "UpdateUser" => update_user(&mut *write()?, input, state.clock.now()),
        "UpdateGroup" => update_group(&mut *write()?, input, state.clock.now()),
        "DeleteUser" => delete_user(&mut *write()?, input),
        "DeleteGroup" => delete_group(&mut *write()?, input),
        "DeleteGroupMembership" => delete_group_membership(&mut *write()?, input),
        other => Err(AwsError::unknown_operation(&format!(
            "{TARGET_PREFIX}.{other}"
        ))),
    }
}

fn external_ids_json(ids: &[ExternalId]) -> Value {
    Value::Array(
        ids.iter()
            .map(|e| json!({ "Issuer": e.issuer, "Id": e.id }))
            .collect(),
    )
}

fn user_json(store: &str, u: &User) -> Value {
    let mut v = json!({
        "IdentityStoreId": store,
        "UserId": u.user_id,
        "UserName": u.user_name,
        "DisplayName": u.display_name,
        "Name": {
            "Formatted": format!("{} {}", u.given_name, u.family_name),
            "GivenName": u.given_name,
            "FamilyName": u.family_name,
        },
        "UserStatus": match u.status { UserStatus::Enabled => "ENABLED", UserStatus::Disabled => "DISABLED" },
        "CreatedAt": epoch_seconds(u.created_at),
        "UpdatedAt": epoch_seconds(u.updated_at),
    });
    if let Some(map) = v.as_object_mut() {
        if !u.external_ids.is_empty() {
            map.insert("ExternalIds".into(), external_ids_json(&u.external_ids));
        }
        if let Some(email) = &u.email {
            map.insert(
                "Emails".into(),
                json!([{ "Value": email, "Type": "work", "Primary": true }]),
            );
        }
        if let Some(title) = &u.title {
            map.insert("Title".into(), Value::from(title.clone()));
        }
        if let Some(scim) = u.scim_attributes.as_deref() {
            scim_attributes_json(scim, map);
        }
    }
    v
}

/// The attributes only a SCIM client sets, as the Identity Store API names them (the SCIM name
/// with a capital first letter; one address and one phone number at most).
fn scim_attributes_json(
    scim: &serde_json::Map<String, Value>,
    user: &mut serde_json::Map<String, Value>,
) {
    fn capitalised(value: &Value) -> Value {
        match value {
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (upper_first(k), capitalised(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(capitalised).collect()),
            other => other.clone(),
        }
    }
    for (scim_name, api_name) in [
        ("nickName", "NickName"),
        ("profileUrl", "ProfileUrl"),
        ("userType", "UserType"),
        ("preferredLanguage", "PreferredLanguage"),
        ("locale", "Locale"),
        ("timezone", "Timezone"),
        ("addresses", "Addresses"),
        ("phoneNumbers", "PhoneNumbers"),
    ] {
        if let Some(value) = scim.get(scim_name).filter(|v| !v.is_null()) {
            user.insert(api_name.into(), capitalised(value));
        }
    }
    if let (Some(Value::Object(extra)), Some(Value::Object(name))) =
        (scim.get("name"), user.get_mut("Name"))
    {
        for key in [
            "formatted",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
        ] {
            if let Some(value) = extra.get(key).filter(|v| v.is_string()) {
                name.insert(upper_first(key), value.clone());
            }
        }
    }
}

fn group_json(store: &str, g: &Group) -> Value {
    let mut v = json!({
        "IdentityStoreId": store,
        "GroupId": g.group_id,
        "DisplayName": g.display_name,
        "CreatedAt": epoch_seconds(g.created_at),
        "UpdatedAt": epoch_seconds(g.updated_at),
    });
    if let Some(map) = v.as_object_mut() {
        if !g.external_ids.is_empty() {
            map.insert("ExternalIds".into(), external_ids_json(&g.external_ids));
        }
        if let Some(d) = &g.description {
            map.insert("Description".into(), Value::from(d.clone()));
        }
    }
    v
}

fn membership_json(store: &str, m: &crate::directory::Membership<'_>) -> Value {
    json!({
        "IdentityStoreId": store,
        "MembershipId": m.membership_id,
        "GroupId": m.group_id,
        "MemberId": { "UserId": m.user_id },
    })
}

/// `MemberId` is a union with one member, `UserId`.
fn member_user_id(input: &Value) -> Result<&str, AwsError> {
    let member = input.get("MemberId").ok_or_else(|| {
        AwsError::validation(
            "1 validation error detected: Value null at 'memberId' failed to satisfy constraint: Member must not be null",
        )
    })?;
    required_str(member, "UserId")
}

/// The deprecated single filter of ListUsers/ListGroups: exact match on one attribute.
fn single_filter<'a>(input: &'a Value, attribute: &str) -> Result<Option<&'a str>, AwsError> {
    let Some(filters) = input.get("Filters").and_then(Value::as_array) else {
        return Ok(None);
    };
    match filters.as_slice() {
        [] => Ok(None),
        [filter] => {
            let path = required_str(filter, "AttributePath")?;
            if path != attribute {
                return Err(AwsError::validation(format!(
                    "Filter on attribute {path} is not supported; only {attribute} can be filtered"
                )));
            }
            Ok(Some(required_str(filter, "AttributeValue")?))
        }
        _ => Err(invalid(
            "filters",
            "Member must have length less than or equal to 1",
        )),
    }
}

fn user_not_found(id: &str) -> AwsError {
    AwsError::not_found("USER", id, format!("USER not found: {id}"))
}

fn group_not_found(id: &str) -> AwsError {
    AwsError::not_found("GROUP", id, format!("GROUP not found: {id}"))
}

fn from_directory_error(e: DirectoryError) -> AwsError {
    match e {
        DirectoryError::NotFound { kind, id } => {
            AwsError::not_found(kind, &id, format!("{kind} not found: {id}"))
        }
        DirectoryError::Conflict { reason } => AwsError::conflict(reason),
    }
}

// ---- operations ----------------------------------------------------------------------------

fn list_users(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    list_objects(
        d,
        input,
        ("ListUsers", "Users", "UserName"),
        d.user_slots(),
        |name| d.user_by_name(name),
        user_json,
    )
}

fn list_groups(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    list_objects(
        d,
        input,
        ("ListGroups", "Groups", "DisplayName"),
        d.group_slots(),
        |name| d.group_by_name(name),
        group_json,
    )
}

/// ListUsers / ListGroups: one page of `all`, or the one object the (deprecated) filter names.
/// `names` is (operation, answer key, filterable attribute).
fn list_objects<'d, T>(
    d: &Directory,
    input: &Value,
    names: (&str, &str, &str),
    all: &'d [Option<T>],
    by_name: impl Fn(&str) -> Option<&'d T>,
    to_json: fn(&str, &T) -> Value,
) -> Result<Value, AwsError> {
    let (operation, key, filter_attribute) = names;
    check_store(d, input)?;
    let store = d.identity_store_id();
    if let Some(name) = single_filter(input, filter_attribute)? {
        let found: Vec<Value> = by_name(name)
            .map(|o| to_json(store, o))
            .into_iter()
            .collect();
        return Ok(json!({ key: found }));
    }
    let (size, offset) = page(d, input, operation)?;
    let (range, next) = paged_slots(all, size, offset, operation, store);
    let items: Vec<Value> = range
        .iter()
        .filter_map(|&i| all[i].as_ref())
        .map(|o| to_json(store, o))
        .collect();
    Ok(with_token(json!({ key: items }), next))
}

fn list_group_memberships(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let group_id = required_str(input, "GroupId")?;
    if d.group(group_id).is_none() {
        return Err(group_not_found(group_id));
    }
    memberships_page(
        d,
        input,
        "ListGroupMemberships",
        &d.memberships_of_group(group_id),
    )
}

/// One page of `all` as a `GroupMemberships` answer.
fn memberships_page(
    d: &Directory,
    input: &Value,
    operation: &str,
    all: &[crate::directory::Membership<'_>],
) -> Result<Value, AwsError> {
    let store = d.identity_store_id();
    let (size, offset) = page(d, input, operation)?;
    let (range, next) = paged(all, size, offset, operation, store);
    let items: Vec<Value> = range
        .iter()
        .map(|&i| membership_json(store, &all[i]))
        .collect();
    Ok(with_token(json!({ "GroupMemberships": items }), next))
}

fn list_memberships_for_member(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let user_id = member_user_id(input)?;
    if d.user(user_id).is_none() {
        return Err(user_not_found(user_id));
    }
    memberships_page(
        d,
        input,
        "ListGroupMembershipsForMember",
        &d.memberships_of_user(user_id),
    )
}

fn is_member_in_groups(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let user_id = member_user_id(input)?;
    let group_ids: Vec<&str> = input
        .get("GroupIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if group_ids.is_empty() || group_ids.len() > 100 {
        return Err(invalid(
            "groupIds",
            "Member must have length less than or equal to 100 and greater than or equal to 1",
        ));
    }
    if d.user(user_id).is_none() {
        return Err(user_not_found(user_id));
    }
    let results: Vec<Value> = group_ids
        .iter()
        .map(|g| {
            json!({
                "GroupId": g,
                "MemberId": { "UserId": user_id },
                "MembershipExists": d.is_member(g, user_id),
            })
        })
        .collect();
    Ok(json!({ "Results": results }))
}

fn describe_user(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let user_id = required_str(input, "UserId")?;
    d.user(user_id)
        .map(|u| user_json(d.identity_store_id(), u))
        .ok_or_else(|| user_not_found(user_id))
}

fn describe_group(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let group_id = required_str(input, "GroupId")?;
    d.group(group_id)
        .map(|g| group_json(d.identity_store_id(), g))
        .ok_or_else(|| group_not_found(group_id))
}

fn describe_group_membership(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let id = required_str(input, "MembershipId")?;
    d.membership(id)
        .map(|m| membership_json(d.identity_store_id(), &m))
        .ok_or_else(|| {
            AwsError::not_found(
                "GROUP_MEMBERSHIP",
                id,
                format!("GROUP_MEMBERSHIP not found: {id}"),
            )
        })
}

/// `AlternateIdentifier` is a union: `ExternalId{Issuer, Id}` or
/// `UniqueAttribute{AttributePath, AttributeValue}`.
enum Alternate<'a> {
    External(ExternalId),
    Unique { path: &'a str, value: &'a Value },
}

fn alternate_identifier(input: &Value) -> Result<Alternate<'_>, AwsError> {
    let alt = input.get("AlternateIdentifier").ok_or_else(|| {
        AwsError::validation(
            "1 validation error detected: Value null at 'alternateIdentifier' failed to satisfy constraint: Member must not be null",
        )
    })?;
    if let Some(ext) = alt.get("ExternalId") {
        return Ok(Alternate::External(ExternalId {
            issuer: required_str(ext, "Issuer")?.to_string(),
            id: required_str(ext, "Id")?.to_string(),
        }));
    }
    if let Some(unique) = alt.get("UniqueAttribute") {
        let path = required_str(unique, "AttributePath")?;
        let value = unique
            .get("AttributeValue")
            .ok_or_else(|| AwsError::validation("AttributeValue is required in UniqueAttribute"))?;
        return Ok(Alternate::Unique { path, value });
    }
    Err(AwsError::validation(
        "AlternateIdentifier must have exactly one of ExternalId or UniqueAttribute",
    ))
}

fn get_user_id(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let found = match alternate_identifier(input)? {
        Alternate::External(ext) => d.user_by_external_id(&ext),
        Alternate::Unique { path, value } => {
            if !path.eq_ignore_ascii_case("userName") {
                return Err(AwsError::validation(format!(
                    "{path} is not a unique attribute of users; use userName"
                )));
            }
            value.as_str().and_then(|v| d.user_by_name(v))
        }
    };
    found
        .map(|u| json!({ "IdentityStoreId": d.identity_store_id(), "UserId": u.user_id }))
        .ok_or_else(|| AwsError::not_found("USER", "", "USER not found"))
}

fn get_group_id(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let found = match alternate_identifier(input)? {
        Alternate::External(ext) => d.group_by_external_id(&ext),
        Alternate::Unique { path, value } => {
            if !path.eq_ignore_ascii_case("displayName") {
                return Err(AwsError::validation(format!(
                    "{path} is not a unique attribute of groups; use displayName"
                )));
            }
            value.as_str().and_then(|v| d.group_by_name(v))
        }
    };
    found
        .map(|g| json!({ "IdentityStoreId": d.identity_store_id(), "GroupId": g.group_id }))
        .ok_or_else(|| AwsError::not_found("GROUP", "", "GROUP not found"))
}

fn get_group_membership_id(d: &Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let group_id = required_str(input, "GroupId")?;
    let user_id = member_user_id(input)?;
    d.memberships_of_group(group_id)
        .into_iter()
        .find(|m| m.user_id == user_id)
        .map(|m| json!({ "IdentityStoreId": d.identity_store_id(), "MembershipId": m.membership_id }))
        .ok_or_else(|| AwsError::not_found("GROUP_MEMBERSHIP", "", "GROUP_MEMBERSHIP not found"))
}

fn new_id(d: &Directory) -> String {
    d.object_id(*uuid::Uuid::new_v4().as_bytes())
}

fn create_user(d: &mut Directory, input: &Value, now: DateTime<Utc>) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let user_name = required_str(input, "UserName")?;
    let display_name = required_str(input, "DisplayName")?;
    let name = input
        .get("Name")
        .ok_or_else(|| AwsError::validation("Name is required"))?;
    let given = required_str(name, "GivenName")?;
    let family = required_str(name, "FamilyName")?;
    let emails = input.get("Emails").and_then(Value::as_array);
    if emails.is_some_and(|e| e.len() > 1) {
        return Err(invalid(
            "emails",
            "Member must have length less than or equal to 1",
        ));
    }
    let email = emails
        .and_then(|e| e.first())
        .and_then(|e| e.get("Value"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let user_id = new_id(d);
    d.add_user(User {
        user_id: user_id.clone(),
        user_name: user_name.to_string(),
        display_name: display_name.to_string(),
        given_name: given.to_string(),
        family_name: family.to_string(),
        email,
        title: optional_str(input, "Title")?.map(str::to_string),
        status: UserStatus::Enabled,
        external_ids: Vec::new(),
        created_at: now,
        updated_at: now,
        scim_attributes: None,
    })
    .map_err(from_directory_error)?;
    Ok(json!({ "IdentityStoreId": d.identity_store_id(), "UserId": user_id }))
}

fn create_group(d: &mut Directory, input: &Value, now: DateTime<Utc>) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let display_name = required_str(input, "DisplayName")?;
    let group_id = new_id(d);
    d.add_group(Group {
        group_id: group_id.clone(),
        display_name: display_name.to_string(),
        description: optional_str(input, "Description")?.map(str::to_string),
        external_ids: Vec::new(),
        created_at: now,
        updated_at: now,
    })
    .map_err(from_directory_error)?;
    Ok(json!({ "IdentityStoreId": d.identity_store_id(), "GroupId": group_id }))
}

fn create_group_membership(d: &mut Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let group_id = required_str(input, "GroupId")?.to_string();
    let user_id = member_user_id(input)?.to_string();
    let id = new_id(d);
    let store = d.identity_store_id().to_string();
    let membership = d
        .add_membership(&id, &group_id, &user_id)
        .map_err(from_directory_error)?;
    Ok(json!({ "IdentityStoreId": store, "MembershipId": membership.membership_id }))
}

/// `UpdateUser` / `UpdateGroup` operations: `[{AttributePath, AttributeValue}]`, 1 to 100.
fn attribute_operations(input: &Value) -> Result<Vec<(&str, &Value)>, AwsError> {
    let ops = input
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            AwsError::validation(
                "1 validation error detected: Value null at 'operations' failed to satisfy constraint: Member must not be null",
            )
        })?;
    if ops.is_empty() || ops.len() > 100 {
        return Err(invalid(
            "operations",
            "Member must have length less than or equal to 100 and greater than or equal to 1",
        ));
    }
    ops.iter()
        .map(|op| {
            let path = required_str(op, "AttributePath")?;
            Ok((path, op.get("AttributeValue").unwrap_or(&Value::Null)))
        })
        .collect()
}

fn string_value<'a>(path: &str, value: &'a Value) -> Result<&'a str, AwsError> {
    value
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AwsError::validation(format!("{path} must be a non-empty string")))
}

fn update_user(d: &mut Directory, input: &Value, now: DateTime<Utc>) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let user_id = required_str(input, "UserId")?;
    let mut user = d
        .user(user_id)
        .cloned()
        .ok_or_else(|| user_not_found(user_id))?;
    for (path, value) in attribute_operations(input)? {
        match path {
            "userName" => user.user_name = string_value(path, value)?.to_string(),
            "displayName" => user.display_name = string_value(path, value)?.to_string(),
            "name.givenName" => user.given_name = string_value(path, value)?.to_string(),
            "name.familyName" => user.family_name = string_value(path, value)?.to_string(),
            "title" => user.title = value.as_str().map(str::to_string),
            "emails" => {
                let emails = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if emails.len() > 1 {
                    return Err(invalid(
                        "emails",
                        "Member must have length less than or equal to 1",
                    ));
                }
                user.email = emails
                    .first()
                    .and_then(|e| e.get("Value"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            other => {
                return Err(AwsError::validation(format!(
                    "Attribute path {other} is not supported by the sandbox's UpdateUser"
                )));
            }
        }
    }
    user.updated_at = now;
    d.replace_user(user_id, user)
        .map_err(from_directory_error)?;
    Ok(json!({}))
}

fn update_group(d: &mut Directory, input: &Value, now: DateTime<Utc>) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let group_id = required_str(input, "GroupId")?;
    let mut group = d
        .group(group_id)
        .cloned()
        .ok_or_else(|| group_not_found(group_id))?;
    for (path, value) in attribute_operations(input)? {
        match path {
            "displayName" => group.display_name = string_value(path, value)?.to_string(),
            "description" => group.description = value.as_str().map(str::to_string),
            other => {
                return Err(AwsError::validation(format!(
                    "Attribute path {other} is not supported by the sandbox's UpdateGroup"
                )));
            }
        }
    }
    group.updated_at = now;
    d.replace_group(group_id, group)
        .map_err(from_directory_error)?;
    Ok(json!({}))
}

fn delete_user(d: &mut Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let user_id = required_str(input, "UserId")?;
    d.remove_user(user_id).map_err(from_directory_error)?;
    Ok(json!({}))
}

fn delete_group(d: &mut Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let group_id = required_str(input, "GroupId")?;
    d.remove_group(group_id).map_err(from_directory_error)?;
    Ok(json!({}))
}

fn delete_group_membership(d: &mut Directory, input: &Value) -> Result<Value, AwsError> {
    check_store(d, input)?;
    let id = required_str(input, "MembershipId")?;
    d.remove_membership(id).map_err(from_directory_error)?;
    Ok(json!({}))
}
