//! The sandbox's SSO Admin, driven by the official `aws-sdk-ssoadmin` client: the instance, the
//! Q Developer application found by its provider, and who is assigned to it.

use aws_sdk_ssoadmin::types::{
    ApplicationStatus, ListApplicationAssignmentsFilter, ListApplicationsFilter, PrincipalType,
};
use sandbox::instance::{Q_DEVELOPER_APPLICATION, Q_DEVELOPER_PROVIDER};

use crate::common::{ssoadmin, start};

#[tokio::test]
async fn the_instance_names_its_identity_store() {
    let f = start().await;
    let c = ssoadmin(&f);
    let instances = c.list_instances().send().await.unwrap();
    let instance = &instances.instances()[0];
    assert_eq!(instance.identity_store_id(), Some(f.store.as_str()));
    let arn = instance.instance_arn().unwrap();
    assert!(arn.starts_with("arn:aws:sso:::instance/ssoins-"), "{arn}");
    let described = c
        .describe_instance()
        .instance_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.owner_account_id(),
        Some(f.org.instance.owner_account_id.as_str())
    );
}

#[tokio::test]
async fn q_developer_is_found_by_its_provider_and_lists_its_subscribers() {
    let f = start().await;
    let c = ssoadmin(&f);
    let instance_arn = &f.org.instance.instance_arn;
    let all = c
        .list_applications()
        .instance_arn(instance_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(all.applications().len(), 3);
    let q = c
        .list_applications()
        .instance_arn(instance_arn)
        .filter(
            ListApplicationsFilter::builder()
                .application_provider(Q_DEVELOPER_PROVIDER)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let [app] = q.applications() else {
        panic!("one Q Developer application, got {:?}", q.applications());
    };
    assert_eq!(app.name(), Some(Q_DEVELOPER_APPLICATION));
    assert_eq!(app.status(), Some(&ApplicationStatus::Enabled));
    let q_arn = app.application_arn().unwrap();

    let assignments = c
        .list_application_assignments()
        .application_arn(q_arn)
        .send()
        .await
        .unwrap();
    let got: Vec<(String, PrincipalType)> = assignments
        .application_assignments()
        .iter()
        .map(|a| (a.principal_id().to_string(), a.principal_type().clone()))
        .collect();
    let expected: Vec<(String, PrincipalType)> = f
        .org
        .instance
        .assignments_of(q_arn)
        .iter()
        .map(|a| {
            let t = match a.principal_type {
                sandbox::instance::PrincipalType::User => PrincipalType::User,
                sandbox::instance::PrincipalType::Group => PrincipalType::Group,
            };
            (a.principal_id.clone(), t)
        })
        .collect();
    assert_eq!(got, expected);
    assert!(got.iter().any(|(_, t)| *t == PrincipalType::Group));
    assert!(got.iter().any(|(_, t)| *t == PrincipalType::User));

    // The same assignment seen from the principal's side.
    let (group_id, _) = got
        .iter()
        .find(|(_, t)| *t == PrincipalType::Group)
        .unwrap();
    let for_group = c
        .list_application_assignments_for_principal()
        .instance_arn(instance_arn)
        .principal_id(group_id)
        .principal_type(PrincipalType::Group)
        .filter(
            ListApplicationAssignmentsFilter::builder()
                .application_arn(q_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(for_group.application_assignments().len(), 1);
}

#[tokio::test]
async fn unknown_instances_are_denied_and_unknown_applications_not_found() {
    let f = start().await;
    let c = ssoadmin(&f);
    let err = c
        .describe_instance()
        .instance_arn("arn:aws:sso:::instance/ssoins-0000000000000000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_access_denied_exception(), "{err:?}");
    let err = c
        .list_application_assignments()
        .application_arn(
            "arn:aws:sso::123456789012:application/ssoins-0000000000000000/apl-0000000000000000",
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = c
        .list_applications()
        .instance_arn(&f.org.instance.instance_arn)
        .max_results(51)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
}
