//! The sandbox's Identity Store, driven by the official `aws-sdk-identitystore` client over HTTP:
//! only the endpoint URL and the credentials differ from production.

use std::collections::HashSet;

use aws_sdk_identitystore::error::ProvideErrorMetadata;
use aws_sdk_identitystore::types::{
    AlternateIdentifier, ExternalId as SdkExternalId, MemberId, UniqueAttribute, UserStatus,
};
use sandbox::aws::sigv4::StaticCredentials;

use crate::common::{identitystore as client, identitystore_with as client_with, start};

#[tokio::test]
async fn list_users_pages_to_completion_with_every_user_once() {
    let f = start().await;
    let pages: Vec<_> = client(&f)
        .list_users()
        .identity_store_id(&f.store)
        .max_results(37)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert!(pages.len() > 1, "several pages");
    let mut seen = HashSet::new();
    for page in pages {
        let page = page.unwrap();
        assert!(page.users().len() <= 37);
        for user in page.users() {
            assert!(seen.insert(user.user_id().to_string()), "no duplicates");
        }
    }
    assert_eq!(seen.len(), f.org.identity_center.user_count());
}

#[tokio::test]
async fn describe_user_returns_what_the_directory_holds() {
    let f = start().await;
    let disabled = &f.org.planted.disabled_seat_holders[0];
    let expected = f.org.identity_center.user(disabled).unwrap();
    let out = client(&f)
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(disabled)
        .send()
        .await
        .unwrap();
    assert_eq!(out.user_id(), disabled);
    assert_eq!(out.user_name(), Some(expected.user_name.as_str()));
    assert_eq!(out.user_status(), Some(&UserStatus::Disabled));
    assert_eq!(
        out.emails()[0].value(),
        expected.email.as_deref(),
        "one work email"
    );
    assert_eq!(out.external_ids()[0].id(), expected.external_ids[0].id);
    assert_eq!(
        out.created_at().map(|t| t.secs()),
        Some(expected.created_at.timestamp())
    );
    assert_eq!(out.identity_store_id(), f.store);
}

#[tokio::test]
async fn group_memberships_page_both_ways_and_agree() {
    let f = start().await;
    let c = client(&f);
    let q = f.org.q_group().unwrap();
    let q_group = &f.org.provisioned_group[q];
    let mut members = Vec::new();
    let mut pages = c
        .list_group_memberships()
        .identity_store_id(&f.store)
        .group_id(q_group)
        .max_results(10)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for m in page.unwrap().group_memberships() {
            assert_eq!(m.group_id(), Some(q_group.as_str()));
            match m.member_id() {
                Some(MemberId::UserId(u)) => members.push(u.clone()),
                other => panic!("unexpected member {other:?}"),
            }
        }
    }
    assert_eq!(members.len(), f.org.groups[q].members.len());

    let someone = &members[0];
    let theirs = c
        .list_group_memberships_for_member()
        .identity_store_id(&f.store)
        .member_id(MemberId::UserId(someone.clone()))
        .send()
        .await
        .unwrap();
    assert!(
        theirs
            .group_memberships()
            .iter()
            .any(|m| m.group_id() == Some(q_group.as_str()))
    );

    let check = c
        .is_member_in_groups()
        .identity_store_id(&f.store)
        .member_id(MemberId::UserId(someone.clone()))
        .group_ids(q_group)
        .group_ids(&f.org.provisioned_group[0])
        .send()
        .await
        .unwrap();
    let results = check.results();
    assert_eq!(results.len(), 2);
    assert!(results[0].membership_exists());
    assert_eq!(
        results[1].membership_exists(),
        f.org
            .identity_center
            .is_member(&f.org.provisioned_group[0], someone)
    );
}

fn unique(path: &str, value: &str) -> AlternateIdentifier {
    AlternateIdentifier::UniqueAttribute(
        UniqueAttribute::builder()
            .attribute_path(path)
            .attribute_value(aws_smithy_types::Document::String(value.to_string()))
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn ids_are_found_by_user_name_external_id_and_display_name() {
    let f = start().await;
    let c = client(&f);
    let user = f.org.identity_center.users().nth(3).unwrap();
    let by_name = c
        .get_user_id()
        .identity_store_id(&f.store)
        .alternate_identifier(unique("userName", &user.user_name.to_uppercase()))
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.user_id(), user.user_id, "user names ignore case");

    let external = &user.external_ids[0];
    let by_external = c
        .get_user_id()
        .identity_store_id(&f.store)
        .alternate_identifier(AlternateIdentifier::ExternalId(
            SdkExternalId::builder()
                .issuer(&external.issuer)
                .id(&external.id)
                .build()
                .unwrap(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(by_external.user_id(), user.user_id);

    let group = f.org.identity_center.groups().next().unwrap();
    let by_display = c
        .get_group_id()
        .identity_store_id(&f.store)
        .alternate_identifier(unique("displayName", &group.display_name))
        .send()
        .await
        .unwrap();
    assert_eq!(by_display.group_id(), group.group_id);
}

#[tokio::test]
async fn unknown_ids_and_bad_input_get_aws_errors() {
    let f = start().await;
    let c = client(&f);
    let prefix = f.org.identity_center.id_prefix().to_string();
    let missing = format!("{prefix}-00000000-0000-4000-8000-000000000000");
    let err = c
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(&missing)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let err = c
        .list_users()
        .identity_store_id(&f.store)
        .max_results(101)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");

    let err = c
        .list_users()
        .identity_store_id(&f.store)
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");

    let err = c
        .list_groups()
        .identity_store_id("d-0000000000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let err = c
        .list_group_memberships()
        .identity_store_id(&f.store)
        .group_id(&missing)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn a_wrong_secret_or_an_unknown_key_is_refused() {
    let f = start().await;
    let creds = StaticCredentials::default();
    let wrong_secret = client_with(
        &f.sandbox.aws_endpoint(),
        &creds.access_key_id,
        "not-the-secret",
    );
    let err = wrong_secret
        .list_users()
        .identity_store_id(&f.store)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidSignatureException"), "{err:?}");

    let unknown_key = client_with(
        &f.sandbox.aws_endpoint(),
        "AKIAUNKNOWN000000000",
        &creds.secret_access_key,
    );
    let err = unknown_key
        .list_users()
        .identity_store_id(&f.store)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("UnrecognizedClientException"), "{err:?}");
}

/// Posts `body` to the sandbox with `target` and, if given, an Authorization header, without the
/// SDK (so nothing is signed); returns the status and the `__type` of the answer.
async fn raw_post(
    url: &str,
    target: &str,
    authorization: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string());
    if let Some(auth) = authorization {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let json: serde_json::Value = response.json().await.unwrap();
    (
        status,
        json["__type"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn unsigned_and_malformed_requests_get_aws_errors_not_panics() {
    let f = start().await;
    let url = f.sandbox.aws_endpoint();
    let list_users = "AWSIdentityStore.ListUsers";
    assert_eq!(
        raw_post(&url, list_users, None, "{}").await,
        (403, "MissingAuthenticationTokenException".into())
    );
    assert_eq!(
        raw_post(&url, list_users, Some("Bearer nonsense"), "{").await,
        (400, "IncompleteSignatureException".into())
    );
    // Authentication comes before the operation, as on AWS: unsigned is refused whatever it asks.
    assert_eq!(
        raw_post(&url, "AWSIdentityStore.DeleteEverything", None, "{}").await,
        (403, "MissingAuthenticationTokenException".into())
    );
    assert_eq!(
        raw_post(&url, "NoSuchService_20200101.ListThings", None, "{}").await,
        (400, "UnknownOperationException".into())
    );
    // A forged signature over a well-formed scope is checked, not trusted.
    let forged = "AWS4-HMAC-SHA256 Credential=AKIASANDBOXTESSERA01/20260101/eu-west-1/identitystore/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
    assert_eq!(
        raw_post(&url, list_users, Some(forged), "{}").await,
        (400, "IncompleteSignatureException".into()),
        "no X-Amz-Date"
    );
}

#[tokio::test]
async fn created_users_groups_and_memberships_are_listed() {
    let f = start().await;
    let c = client(&f);
    let user = c
        .create_user()
        .identity_store_id(&f.store)
        .user_name("new.hire@northwind.example")
        .display_name("New Hire")
        .name(
            aws_sdk_identitystore::types::Name::builder()
                .given_name("New")
                .family_name("Hire")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let group = c
        .create_group()
        .identity_store_id(&f.store)
        .display_name("hand-made-group")
        .send()
        .await
        .unwrap();
    c.create_group_membership()
        .identity_store_id(&f.store)
        .group_id(group.group_id())
        .member_id(MemberId::UserId(user.user_id().to_string()))
        .send()
        .await
        .unwrap();
    let described = c
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(user.user_id())
        .send()
        .await
        .unwrap();
    assert!(
        described.external_ids().is_empty(),
        "made through the API, not SCIM"
    );
    let members = c
        .list_group_memberships()
        .identity_store_id(&f.store)
        .group_id(group.group_id())
        .send()
        .await
        .unwrap();
    assert_eq!(members.group_memberships().len(), 1);

    let duplicate = c
        .create_user()
        .identity_store_id(&f.store)
        .user_name("NEW.HIRE@northwind.example")
        .display_name("Again")
        .name(
            aws_sdk_identitystore::types::Name::builder()
                .given_name("A")
                .family_name("B")
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(duplicate.is_conflict_exception(), "{duplicate:?}");
    f.sandbox.stop().await;
}

#[tokio::test]
async fn update_user_and_group_change_what_describe_returns() {
    use aws_sdk_identitystore::types::AttributeOperation;
    use aws_smithy_types::Document;
    let f = start().await;
    let c = client(&f);
    let user = f
        .org
        .identity_center
        .users()
        .nth(5)
        .unwrap()
        .user_id
        .clone();
    let op = |path: &str, value: Document| {
        AttributeOperation::builder()
            .attribute_path(path)
            .attribute_value(value)
            .build()
            .unwrap()
    };
    c.update_user()
        .identity_store_id(&f.store)
        .user_id(&user)
        .operations(op("displayName", Document::String("Renamed Person".into())))
        .operations(op("name.givenName", Document::String("Renamed".into())))
        .send()
        .await
        .unwrap();
    let described = c
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(described.display_name(), Some("Renamed Person"));
    assert_eq!(described.name().unwrap().given_name(), Some("Renamed"));

    // Taking another user's name is a conflict; an unknown path is a validation error.
    let other = f
        .org
        .identity_center
        .users()
        .nth(6)
        .unwrap()
        .user_name
        .clone();
    let err = c
        .update_user()
        .identity_store_id(&f.store)
        .user_id(&user)
        .operations(op("userName", Document::String(other)))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ConflictException"));
    let err = c
        .update_user()
        .identity_store_id(&f.store)
        .user_id(&user)
        .operations(op("password", Document::String("x".into())))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));

    let group = f
        .org
        .identity_center
        .groups()
        .next()
        .unwrap()
        .group_id
        .clone();
    c.update_group()
        .identity_store_id(&f.store)
        .group_id(&group)
        .operations(op("description", Document::String("renamed team".into())))
        .send()
        .await
        .unwrap();
    let described = c
        .describe_group()
        .identity_store_id(&f.store)
        .group_id(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(described.description(), Some("renamed team"));
}
