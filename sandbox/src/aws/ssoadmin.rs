//! SSO Admin (`sso-admin`, 2020-07-20) over AWS JSON 1.1: the instance, its applications and
//! their assignments — what Tessera reads to know who is subscribed to Q Developer. Nothing here
//! creates assignments: Q subscriptions are never made through CreateApplicationAssignment.

use serde_json::{Value, json};

use super::wire::{epoch_seconds, invalid, optional_str, paged, required_str, with_token};
use super::{AwsError, AwsState};
use crate::instance::{Application, Assignment, Instance, PrincipalType};

/// `X-Amz-Target` prefix of SSO Admin.
pub const TARGET_PREFIX: &str = "SWBExternalService";

/// Largest `MaxResults`: ListApplications pages hold at most 50; the others 100.
const MAX_APPLICATIONS: usize = 50;
const MAX_PAGE: usize = 100;

pub fn call(state: &AwsState, operation: &str, input: &Value) -> Result<Value, AwsError> {
    let instance = state
        .instance
        .read()
        .map_err(|_| AwsError::internal("the instance is unavailable"))?;
    match operation {
        "ListInstances" => list_instances(&instance, input),
        "DescribeInstance" => describe_instance(&instance, input),
        "ListApplications" => list_applications(&instance, input),
        "DescribeApplication" => describe_application(&instance, input),
        "ListApplicationAssignments" => list_application_assignments(&instance, input),
        "ListApplicationAssignmentsForPrincipal" => {
            list_assignments_for_principal(&instance, input)
        }
        other => Err(AwsError::unknown_operation(&format!(
            "{TARGET_PREFIX}.{other}"
        ))),
    }
}

fn instance_json(i: &Instance) -> Value {
    json!({
        "InstanceArn": i.instance_arn,
        "IdentityStoreId": i.identity_store_id,
        "OwnerAccountId": i.owner_account_id,
        "Name": i.name,
        "CreatedDate": epoch_seconds(i.created_at),
        "Status": "ACTIVE",
    })
}

fn application_json(i: &Instance, a: &Application) -> Value {
    let mut v = json!({
        "ApplicationArn": a.application_arn,
        "ApplicationProviderArn": a.provider_arn,
        "Name": a.name,
        "ApplicationAccount": i.owner_account_id,
        "InstanceArn": i.instance_arn,
        "Status": if a.enabled { "ENABLED" } else { "DISABLED" },
        "CreatedDate": epoch_seconds(a.created_at),
        "PortalOptions": { "Visibility": "ENABLED" },
    });
    if let (Some(d), Some(map)) = (&a.description, v.as_object_mut()) {
        map.insert("Description".into(), Value::from(d.clone()));
    }
    v
}

fn assignment_json(a: &Assignment) -> Value {
    json!({
        "ApplicationArn": a.application_arn,
        "PrincipalId": a.principal_id,
        "PrincipalType": a.principal_type.as_str(),
    })
}

fn check_instance(i: &Instance, input: &Value) -> Result<(), AwsError> {
    let arn = required_str(input, "InstanceArn")?;
    if !arn.starts_with("arn:") {
        return Err(invalid(
            "instanceArn",
            "Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}",
        ));
    }
    if arn != i.instance_arn {
        // Instance-scoped operations model no ResourceNotFoundException: an instance the caller
        // cannot see is an access denial.
        return Err(AwsError::access_denied(format!(
            "User is not authorized to perform this action on resource {arn}"
        )));
    }
    Ok(())
}

fn application<'i>(i: &'i Instance, input: &Value) -> Result<&'i Application, AwsError> {
    let arn = required_str(input, "ApplicationArn")?;
    i.application(arn)
        .ok_or_else(|| AwsError::not_found_message(format!("Application {arn} does not exist")))
}

fn list_instances(i: &Instance, input: &Value) -> Result<Value, AwsError> {
    let (size, offset) = super::wire::page(input, "ListInstances", "instances", MAX_PAGE)?;
    let all = [i];
    let (range, next) = paged(&all, size, offset, "ListInstances", "instances");
    let items: Vec<Value> = range.iter().map(|&k| instance_json(all[k])).collect();
    Ok(with_token(json!({ "Instances": items }), next))
}

fn describe_instance(i: &Instance, input: &Value) -> Result<Value, AwsError> {
    check_instance(i, input)?;
    Ok(instance_json(i))
}

fn list_applications(i: &Instance, input: &Value) -> Result<Value, AwsError> {
    check_instance(i, input)?;
    let filter = input.get("Filter");
    let provider = filter
        .map(|f| optional_str(f, "ApplicationProvider"))
        .transpose()?
        .flatten();
    let account = filter
        .map(|f| optional_str(f, "ApplicationAccount"))
        .transpose()?
        .flatten();
    let matching: Vec<&Application> = i
        .applications
        .iter()
        .filter(|a| provider.is_none_or(|p| a.provider_arn == p))
        .filter(|_| account.is_none_or(|acct| acct == i.owner_account_id))
        .collect();
    let (size, offset) =
        super::wire::page(input, "ListApplications", &i.instance_arn, MAX_APPLICATIONS)?;
    let (range, next) = paged(&matching, size, offset, "ListApplications", &i.instance_arn);
    let items: Vec<Value> = range
        .iter()
        .map(|&k| application_json(i, matching[k]))
        .collect();
    Ok(with_token(json!({ "Applications": items }), next))
}

fn describe_application(i: &Instance, input: &Value) -> Result<Value, AwsError> {
    let app = application(i, input)?;
    Ok(application_json(i, app))
}

fn list_application_assignments(i: &Instance, input: &Value) -> Result<Value, AwsError> {
    let app = application(i, input)?;
    let all = i.assignments_of(&app.application_arn);
    let operation = "ListApplicationAssignments";
    let (size, offset) = super::wire::page(input, operation, &app.application_arn, MAX_PAGE)?;
    let (range, next) = paged(&all, size, offset, operation, &app.application_arn);
    let items: Vec<Value> = range.iter().map(|&k| assignment_json(all[k])).collect();
    Ok(with_token(json!({ "ApplicationAssignments": items }), next))
}

fn list_assignments_for_principal(i: &Instance, input: &Value) -> Result<Value, AwsError> {
    check_instance(i, input)?;
    let principal_id = required_str(input, "PrincipalId")?;
    let principal_type =
        PrincipalType::parse(required_str(input, "PrincipalType")?).ok_or_else(|| {
            invalid(
                "principalType",
                "Member must satisfy enum value set: [USER, GROUP]",
            )
        })?;
    let only_app = input
        .get("Filter")
        .map(|f| optional_str(f, "ApplicationArn"))
        .transpose()?
        .flatten();
    let all: Vec<&Assignment> = i
        .assignments
        .iter()
        .filter(|a| a.principal_id == principal_id && a.principal_type == principal_type)
        .filter(|a| only_app.is_none_or(|arn| a.application_arn == arn))
        .collect();
    let operation = "ListApplicationAssignmentsForPrincipal";
    let (size, offset) = super::wire::page(input, operation, principal_id, MAX_PAGE)?;
    let (range, next) = paged(&all, size, offset, operation, principal_id);
    let items: Vec<Value> = range.iter().map(|&k| assignment_json(all[k])).collect();
    Ok(with_token(json!({ "ApplicationAssignments": items }), next))
}
