//! The SCIM endpoint as IdPs drive it: bearer tokens and their life, Users and Groups, the
//! filters and paging Identity Center supports, its refusals and error shape — and what SCIM
//! writes is what the Identity Store API (the official SDK) reads.

use std::num::NonZeroU32;

use aws_sdk_identitystore::error::ProvideErrorMetadata;
use aws_sdk_identitystore::types::UserStatus;
use reqwest::{Method, StatusCode};
use sandbox::aws::limits::Limits;
use sandbox::faults::FaultPlan;
use sandbox::server::SandboxConfig;
use serde_json::{Value, json};

use crate::common::{Fixture, identitystore, start, start_with};

struct Scim {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Scim {
    async fn new(f: &Fixture) -> Self {
        let issued = f
            .sandbox
            .scim_tokens()
            .issue(f.sandbox.clock().now())
            .unwrap();
        Self {
            http: reqwest::Client::new(),
            base: f.sandbox.scim_endpoint(),
            token: issued.token,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, operations: Value) -> (StatusCode, Value) {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        });
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// `GET path?filter=...` with the filter encoded.
    async fn filter(&self, resource: &str, filter: &str) -> (StatusCode, Value) {
        let url = reqwest::Url::parse_with_params(
            &format!("{}{resource}", self.base),
            &[("filter", filter)],
        )
        .unwrap();
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

/// What Entra ID sends to create a user.
fn entra_user(user_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": "Ada Lovelace",
        "title": "Engineer",
        "emails": [{ "primary": true, "type": "work", "value": user_name }],
        "name": { "formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada" },
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Research" }
    })
}

/// Identity Center's error shape: both `schema` and `schemas`, `status` as a string.
fn assert_error(body: &Value, status: u16) {
    let error = "urn:ietf:params:scim:api:messages:2.0:Error";
    assert_eq!(body["schemas"], json!([error]), "{body}");
    assert_eq!(body["schema"], json!([error]), "{body}");
    assert_eq!(body["status"], json!(status.to_string()), "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(body["exceptionRequestId"].is_string(), "{body}");
}

#[tokio::test]
async fn tokens_are_checked_and_expire_after_a_year() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let (status, _) = scim.get("Users?count=1").await;
    assert_eq!(status, StatusCode::OK);

    // No token, a wrong token, a wrong tenant: 401 in the service's error shape.
    let response = reqwest::get(format!("{}Users", scim.base)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_error(&response.json().await.unwrap(), 401);
    let wrong = Scim {
        token: "not-a-token".into(),
        http: reqwest::Client::new(),
        base: scim.base.clone(),
    };
    assert_eq!(wrong.get("Users").await.0, StatusCode::UNAUTHORIZED);
    let other_tenant = Scim {
        token: scim.token.clone(),
        http: reqwest::Client::new(),
        base: scim.base.replace("-sandbox/", "-other/"),
    };
    assert_eq!(other_tenant.get("Users").await.0, StatusCode::UNAUTHORIZED);

    // A second token is allowed, a third is not (over the control API, as a test would).
    let control = format!("{}/_sandbox/scim/tokens", f.sandbox.aws_endpoint());
    let http = reqwest::Client::new();
    let second = http.post(&control).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    let second: Value = second.json().await.unwrap();
    let third = http.post(&control).send().await.unwrap();
    assert_eq!(third.status(), StatusCode::CONFLICT);
    let listed: Value = http
        .get(&control)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains(&scim.token),
        "the list never shows a token"
    );

    // Deleting the second token makes it fail at once.
    let revoked = Scim {
        token: second["token"].as_str().unwrap().to_string(),
        http: reqwest::Client::new(),
        base: scim.base.clone(),
    };
    assert_eq!(revoked.get("Users?count=1").await.0, StatusCode::OK);
    let id = second["id"].as_str().unwrap();
    let deleted = http.delete(format!("{control}/{id}")).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(revoked.get("Users").await.0, StatusCode::UNAUTHORIZED);

    // One year on, the first token has expired.
    f.sandbox.clock().advance(365 * 24 * 3600 + 60);
    let (status, body) = scim.get("Users").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_user_created_over_scim_is_what_the_identity_store_api_reads() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let (status, created) = scim
        .post(
            "Users",
            entra_user("ada.lovelace@example.com", "entra-oid-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with(f.store.trim_start_matches("d-")), "{id}");
    assert_eq!(created["externalId"], "entra-oid-1");
    assert_eq!(created["meta"]["resourceType"], "User");
    assert_eq!(
        created["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Research"
    );

    let described = identitystore(&f)
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.user_name(), Some("ada.lovelace@example.com"));
    assert_eq!(described.user_status(), Some(&UserStatus::Enabled));
    let external = &described.external_ids()[0];
    assert_eq!(external.id(), "entra-oid-1");
    assert_eq!(
        described.emails()[0].value(),
        Some("ada.lovelace@example.com")
    );

    // GET returns the same document.
    let (status, fetched) = scim.get(&format!("Users/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, created);

    // The same user name in another case is a duplicate.
    let (status, body) = scim
        .post(
            "Users",
            entra_user("ADA.LOVELACE@example.com", "entra-oid-2"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, 409);
    assert_eq!(
        body["detail"],
        "Refused to create a new, duplicate resource."
    );
}

#[tokio::test]
async fn what_identity_center_does_not_support_is_refused() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let before = f.sandbox.state().directory.read().unwrap().user_count();

    let mut two_emails = entra_user("two@example.com", "x-1");
    two_emails["emails"] = json!([
        { "value": "two@example.com", "primary": true },
        { "value": "two@home.example", "primary": false }
    ]);
    let mut not_primary = entra_user("np@example.com", "x-2");
    not_primary["emails"] = json!([{ "value": "np@example.com", "primary": false }]);
    let mut with_groups = entra_user("g@example.com", "x-3");
    with_groups["groups"] = json!([{ "value": "whatever" }]);
    let mut password = entra_user("p@example.com", "x-4");
    password["password"] = json!("hunter2");
    let mut nameless = entra_user("n@example.com", "x-5");
    nameless["name"] = json!({ "givenName": "Only" });
    for body in [two_emails, not_primary, with_groups, password, nameless] {
        let (status, answer) = scim.post("Users", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_error(&answer, 400);
    }
    let (status, answer) = scim.post("Users", json!("not an object")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    for path in ["Bulk", "Me", ".search", "Users/.search"] {
        let (status, body) = scim.post(path, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_error(&body, 400);
    }
    let (status, body) = scim.get("NoSuchThing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, 404);

    for filter in [
        "userName co \"a\"",
        "userName sw \"a\"",
        "userName pr",
        "userName eq \"a\" or userName eq \"b\"",
        "not (userName eq \"a\")",
        "displayName eq \"Ada\"",
        "emails[type eq \"work\"]",
        "userName eq",
    ] {
        let (status, body) = scim.filter("Users", filter).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}: {body}");
        assert_error(&body, 400);
    }
    for count in ["0", "101", "x"] {
        let (status, _) = scim.get(&format!("Users?count={count}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "count={count}");
    }
    let (status, _) = scim.get("Users?cursor=not-ours").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let after = f.sandbox.state().directory.read().unwrap().user_count();
    assert_eq!(before, after, "refused requests change nothing");
}

#[tokio::test]
async fn filters_find_users_and_groups_as_identity_center_supports() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let provisioned = f
        .org
        .provisioned_user
        .iter()
        .position(Option::is_some)
        .unwrap();
    let person = &f.org.people[provisioned];
    let q_group = f.org.q_group().unwrap();
    let q_group_id = f.org.provisioned_group[q_group].clone();

    // userName compares without case; externalId exactly.
    let (status, body) = scim
        .filter(
            "Users",
            &format!("userName eq \"{}\"", person.user_name.to_uppercase()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalResults"], 1);
    assert_eq!(body["Resources"][0]["userName"], person.user_name.as_str());
    let (_, body) = scim
        .filter("Users", &format!("externalId eq \"{}\"", person.idp_id))
        .await;
    assert_eq!(body["Resources"][0]["externalId"], person.idp_id.as_str());
    let (_, body) = scim.filter("Users", "userName eq \"nobody@nowhere\"").await;
    assert_eq!(body["totalResults"], 0);
    assert_eq!(body["Resources"], json!([]));

    // groups.value lists the members of a group.
    let members = f
        .sandbox
        .state()
        .directory
        .read()
        .unwrap()
        .memberships_of_group(&q_group_id)
        .len();
    let (_, body) = scim
        .filter("Users", &format!("groups.value eq \"{q_group_id}\""))
        .await;
    assert_eq!(body["totalResults"], members);

    // Groups by displayName; a member filter says which groups a user is in.
    let name = &f.org.groups[q_group].display_name;
    let (_, body) = scim
        .filter("Groups", &format!("displayName eq \"{name}\""))
        .await;
    assert_eq!(body["Resources"][0]["id"], q_group_id.as_str());
    assert_eq!(
        body["Resources"][0]["members"],
        json!([]),
        "members are never read back"
    );
    let member = f
        .sandbox
        .state()
        .directory
        .read()
        .unwrap()
        .memberships_of_group(&q_group_id)[0]
        .user_id
        .to_string();
    let (_, body) = scim
        .filter(
            "Groups",
            &format!("id eq \"{q_group_id}\" and members eq \"{member}\""),
        )
        .await;
    assert_eq!(body["totalResults"], 1, "{body}");
    let (status, _) = scim.filter("Groups", "members eq \"no-such-user\"").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a member filter with an unknown user"
    );
}

#[tokio::test]
async fn cursor_paging_reads_every_user_once() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (status, body) = scim.get(&format!("Users?count=100&cursor={cursor}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.get("totalResults").is_none(),
            "cursor answers carry no total"
        );
        let resources = body["Resources"].as_array().unwrap();
        assert!(resources.len() <= 100);
        assert_eq!(body["itemsPerPage"], resources.len());
        for r in resources {
            assert!(seen.insert(r["id"].as_str().unwrap().to_string()), "{r}");
        }
        pages += 1;
        match body["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), f.org.identity_center.user_count());
    assert_eq!(pages, f.org.identity_center.user_count().div_ceil(100));

    // Without a cursor: one page of at most `count`, with the total.
    let (_, body) = scim.get("Users?count=7").await;
    assert_eq!(body["Resources"].as_array().unwrap().len(), 7);
    assert_eq!(body["totalResults"], f.org.identity_center.user_count());
    assert_eq!(body["startIndex"], 1);
}

#[tokio::test]
async fn group_membership_changes_arrive_in_the_identity_store() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let users: Vec<String> = f
        .org
        .identity_center
        .users()
        .take(150)
        .map(|u| u.user_id.clone())
        .collect();
    let (status, group) = scim
        .post(
            "Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "q-developer-pilot",
                "externalId": "entra-group-1",
                "members": [{ "value": users[0] }, { "value": users[1] }]
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    assert_eq!(group["members"], json!([]));
    let id = group["id"].as_str().unwrap().to_string();
    let client = identitystore(&f);
    let members = |client: aws_sdk_identitystore::Client, store: String, id: String| async move {
        let mut all = Vec::new();
        let mut pages = client
            .list_group_memberships()
            .identity_store_id(store)
            .group_id(id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for m in page.unwrap().group_memberships() {
                all.push(m.member_id().unwrap().as_user_id().unwrap().clone());
            }
        }
        all
    };
    assert_eq!(
        members(client.clone(), f.store.clone(), id.clone()).await,
        users[..2]
    );

    // Entra's PATCH: add some, remove one by value and one by path filter.
    let add: Vec<Value> = users[2..10].iter().map(|u| json!({ "value": u })).collect();
    let (status, body) = scim
        .patch(
            &format!("Groups/{id}"),
            json!([
                { "op": "Add", "path": "members", "value": add },
                { "op": "Remove", "path": "members", "value": [{ "value": users[0] }] },
                { "op": "remove", "path": format!("members[value eq \"{}\"]", users[1]) },
                { "op": "replace", "value": { "id": id, "displayName": "q-developer-pilot-2" } }
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        members(client.clone(), f.store.clone(), id.clone()).await,
        users[2..10]
    );
    let described = client
        .describe_group()
        .identity_store_id(&f.store)
        .group_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.display_name(), Some("q-developer-pilot-2"));

    // More than 100 changes, replacing or removing all members: refused, nothing changes.
    let too_many: Vec<Value> = users[10..111]
        .iter()
        .map(|u| json!({ "value": u }))
        .collect();
    for operations in [
        json!([{ "op": "add", "path": "members", "value": too_many }]),
        json!([{ "op": "remove", "path": "members" }]),
        json!([{ "op": "replace", "path": "members", "value": [{ "value": users[0] }] }]),
        json!([
            { "op": "add", "path": "members", "value": [{ "value": users[20] }] },
            { "op": "add", "path": "members", "value": [{ "value": "no-such-user" }] }
        ]),
    ] {
        let (status, body) = scim
            .patch(&format!("Groups/{id}"), operations.clone())
            .await;
        assert!(status.is_client_error(), "{operations} → {status} {body}");
        assert_error(&body, status.as_u16());
    }
    assert_eq!(
        members(client.clone(), f.store.clone(), id.clone()).await,
        users[2..10]
    );
    let (status, _) = scim
        .call(Method::PUT, &format!("Groups/{id}"), Some(group.clone()))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "PUT on groups is not supported"
    );

    // Deleting the group removes it and its memberships.
    let (status, _) = scim
        .call(Method::DELETE, &format!("Groups/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let err = client
        .describe_group()
        .identity_store_id(&f.store)
        .group_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let (status, _) = scim.get(&format!("Groups/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn entra_style_user_patches_update_status_email_and_name() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let (_, created) = scim
        .post("Users", entra_user("grace@example.com", "entra-oid-9"))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (status, patched) = scim
        .patch(
            &format!("Users/{id}"),
            json!([
                { "op": "Replace", "path": "active", "value": "False" },
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "Grace.Hopper@example.com" },
                { "op": "Replace", "path": "name.givenName", "value": "Grace" },
                { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Navy" },
                { "op": "Replace", "value": { "displayName": "Grace Hopper", "title": "Rear Admiral" } }
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["active"], false);
    assert_eq!(
        patched["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Navy"
    );
    let user = identitystore(&f)
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status(), Some(&UserStatus::Disabled));
    assert_eq!(user.emails()[0].value(), Some("Grace.Hopper@example.com"));
    assert_eq!(user.name().unwrap().given_name(), Some("Grace"));
    assert_eq!(user.display_name(), Some("Grace Hopper"));
    assert_eq!(user.title(), Some("Rear Admiral"));

    // A refused patch (removing a required attribute) leaves the user as it was.
    let (status, body) = scim
        .patch(
            &format!("Users/{id}"),
            json!([{ "op": "remove", "path": "userName" }]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, still) = scim.get(&format!("Users/{id}")).await;
    assert_eq!(still["userName"], "grace@example.com");

    // PUT replaces; DELETE removes the user and its memberships.
    let mut replacement = entra_user("grace@example.com", "entra-oid-9");
    replacement["displayName"] = json!("Amazing Grace");
    let (status, put) = scim
        .call(Method::PUT, &format!("Users/{id}"), Some(replacement))
        .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["displayName"], "Amazing Grace");
    assert_eq!(put["meta"]["created"], created["meta"]["created"]);
    let (status, _) = scim
        .call(Method::DELETE, &format!("Users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let err = identitystore(&f)
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn discovery_describes_what_identity_center_supports() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let (status, config) = scim.get("ServiceProviderConfig").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 100);
    let (_, schemas) = scim.get("Schemas").await;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ]
    );
    let (status, user_schema) = scim
        .get("Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    assert_eq!(status, StatusCode::OK);
    let attributes: Vec<&str> = user_schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(attributes.contains(&"userName"));
    assert!(
        !attributes.contains(&"password"),
        "not supported by Identity Center"
    );
    let (_, types) = scim.get("ResourceTypes").await;
    assert_eq!(types["totalResults"], 2);
}

#[tokio::test]
async fn scim_has_its_own_quota_and_faults() {
    let two = NonZeroU32::new(2).unwrap();
    let f = start_with(SandboxConfig {
        limits: Limits {
            scim_writes: two,
            ..Limits::default()
        },
        ..SandboxConfig::default()
    })
    .await;
    let scim = Scim::new(&f).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let (status, body) = scim
            .post(
                "Users",
                entra_user(&format!("burst{i}@example.com"), &format!("b-{i}")),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_error(&body, 429);
        }
        statuses.push(status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "a burst over 2 writes/s is throttled: {statuses:?}"
    );
    // Reads have their own bucket.
    assert_eq!(scim.get("Users?count=1").await.0, StatusCode::OK);

    f.sandbox
        .faults()
        .set(
            "scim",
            FaultPlan {
                outage: true,
                ..FaultPlan::default()
            },
        )
        .unwrap();
    let (status, body) = scim.get("Users").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&body, 503);
    // The Identity Store API is not affected.
    identitystore(&f)
        .list_users()
        .identity_store_id(&f.store)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let err = identitystore(&f)
        .describe_user()
        .identity_store_id(&f.store)
        .user_id("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn attributes_only_scim_sets_show_in_describe_user() {
    let f = start().await;
    let scim = Scim::new(&f).await;
    let mut body = entra_user("linus@example.com", "entra-oid-7");
    body["nickName"] = json!("Lin");
    body["locale"] = json!("fi-FI");
    body["phoneNumbers"] = json!([{ "value": "+358 40 123", "type": "work", "primary": true }]);
    body["addresses"] = json!([{ "locality": "Helsinki", "country": "FI", "type": "work" }]);
    body["name"]["middleName"] = json!("Benedict");
    let (status, created) = scim.post("Users", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let user = identitystore(&f)
        .describe_user()
        .identity_store_id(&f.store)
        .user_id(created["id"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(user.nick_name(), Some("Lin"));
    assert_eq!(user.locale(), Some("fi-FI"));
    assert_eq!(user.phone_numbers()[0].value(), Some("+358 40 123"));
    assert_eq!(user.addresses()[0].locality(), Some("Helsinki"));
    assert_eq!(user.name().unwrap().middle_name(), Some("Benedict"));
}
