//! Reading AWS JSON 1.1 inputs and paging outputs, shared by the emulated services: required and
//! optional members with AWS's validation wording, `MaxResults`/`NextToken` paging with opaque
//! tokens bound to the operation and its scope.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::AwsError;

/// AWS's wording for a member that failed validation.
pub fn invalid(member: &str, constraint: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

pub fn required_str<'a>(input: &'a Value, key: &str) -> Result<&'a str, AwsError> {
    match input.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(invalid(
            &lower_first(key),
            "Member must have length greater than or equal to 1",
        )),
        Some(_) => Err(AwsError::serialization(format!("{key} must be a string"))),
        None => Err(AwsError::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(key)
        ))),
    }
}

pub fn optional_str<'a>(input: &'a Value, key: &str) -> Result<Option<&'a str>, AwsError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AwsError::serialization(format!("{key} must be a string"))),
    }
}

/// `nickName` → `NickName`: a SCIM attribute as the Identity Store API spells it.
pub fn upper_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `MaxResults` (1 to `max`, `max` when absent — the references do not give a default) and the
/// offset carried by `NextToken`. Tokens are bound to the operation and `scope` (the store or
/// the parent resource), so a token from elsewhere is refused.
pub fn page(
    input: &Value,
    operation: &str,
    scope: &str,
    max: usize,
) -> Result<(usize, usize), AwsError> {
    let size = match input.get("MaxResults") {
        None | Some(Value::Null) => max,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) if (1..=max as u64).contains(&n) => n as usize,
            _ => {
                return Err(invalid(
                    "maxResults",
                    &format!(
                        "Member must have value less than or equal to {max} and greater than or equal to 1"
                    ),
                ));
            }
        },
        Some(_) => return Err(AwsError::serialization("MaxResults must be an integer")),
    };
    let offset = match optional_str(input, "NextToken")? {
        None => 0,
        Some(token) => decode_token(token, operation, scope)
            .ok_or_else(|| AwsError::validation("The NextToken is not valid."))?,
    };
    Ok((size, offset))
}

fn encode_token(operation: &str, store: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1|{operation}|{store}|{offset}"))
}

fn decode_token(token: &str, operation: &str, store: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.split('|');
    (parts.next()? == "v1" && parts.next()? == operation && parts.next()? == store).then_some(())?;
    parts.next()?.parse().ok()
}

/// One page of `items` from `offset`, with the token for the next page when there is one.
pub fn paged<T>(
    items: &[T],
    size: usize,
    offset: usize,
    operation: &str,
    store: &str,
) -> (Vec<usize>, Option<String>) {
    let end = (offset + size).min(items.len());
    let range: Vec<usize> = (offset.min(end)..end).collect();
    let next = (end < items.len()).then(|| encode_token(operation, store, end));
    (range, next)
}

/// One page of the live entries of `slots` (removed objects leave `None`), from slot `offset`.
/// The token carries the slot after the last one read, so objects removed or added meanwhile do
/// not shift later pages.
pub fn paged_slots<T>(
    slots: &[Option<T>],
    size: usize,
    offset: usize,
    operation: &str,
    store: &str,
) -> (Vec<usize>, Option<String>) {
    let mut taken = Vec::with_capacity(size.min(slots.len()));
    let mut at = offset.min(slots.len());
    while at < slots.len() && taken.len() < size {
        if slots[at].is_some() {
            taken.push(at);
        }
        at += 1;
    }
    let more = slots[at..].iter().any(Option::is_some);
    (taken, more.then(|| encode_token(operation, store, at)))
}

pub fn with_token(mut body: Value, next: Option<String>) -> Value {
    if let (Some(token), Some(map)) = (next, body.as_object_mut()) {
        map.insert("NextToken".into(), Value::from(token));
    }
    body
}

/// A timestamp as AWS JSON 1.1 sends it: seconds since the epoch, with milliseconds.
pub fn epoch_seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}
