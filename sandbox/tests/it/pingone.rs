//! Emulated PingOne, driven over HTTP the way Tessera's PingOne client will: a worker token,
//! Platform API reads with cursor paging and the `memberOfGroups` filter, membership writes,
//! the propagation setup the seeds' Steps 5–6 make (store user filter, rule, mappings), the SAML
//! app's metadata and signing key, and propagation carrying a change into Identity Center within
//! seconds on the sandbox clock.

use std::time::Duration;

use reqwest::StatusCode;
use sandbox::expect::{pingone_scope_of, snapshot_of};
use sandbox::pingone::environment::SEEDS_USER_FILTER;
use sandbox::seed::{IdpGroupKind, Organisation, SeedSpec};
use sandbox::server::{IdpKind, RunningSandbox, SandboxConfig};
use serde_json::{Value, json};

struct PingOne {
    sandbox: RunningSandbox,
    org: Organisation,
    http: reqwest::Client,
    env: String,
}

async fn start_with(spec: SeedSpec, config: SandboxConfig) -> PingOne {
    let org = Organisation::generate(&spec).unwrap();
    let sandbox = RunningSandbox::start_organisation(
        org.clone(),
        SandboxConfig {
            idp: IdpKind::PingOne,
            ..config
        },
    )
    .await
    .unwrap();
    assert!(sandbox.entra().is_none(), "one identity source at a time");
    let env = sandbox.pingone().unwrap().state.environment_id();
    PingOne {
        sandbox,
        org,
        http: reqwest::Client::new(),
        env,
    }
}

async fn start() -> PingOne {
    start_with(SeedSpec::demo(), SandboxConfig::default()).await
}

impl PingOne {
    async fn token_for(&self, client_id: &str, secret: &str) -> reqwest::Response {
        // Worker apps authenticate with client_secret_basic by default.
        self.http
            .post(format!(
                "{}/{}/as/token",
                self.sandbox.pingone_auth_base(),
                self.env
            ))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
    }

    async fn token(&self) -> String {
        let worker = &self.sandbox.pingone().unwrap().worker;
        let r = self
            .token_for(&worker.client_id, &worker.client_secret)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        body["access_token"].as_str().unwrap().to_string()
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/environments/{}/{path}",
            self.sandbox.pingone_api_base(),
            self.env
        )
    }

    async fn get_with(&self, token: &str, url: &str) -> (StatusCode, Value) {
        let r = self.http.get(url).bearer_auth(token).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let token = self.token().await;
        self.get_with(&token, &self.url(path)).await
    }

    /// Every page of a collection, following `_links.next.href`; also the page count.
    async fn all(&self, path: &str, key: &str) -> (Vec<Value>, usize) {
        let token = self.token().await;
        let mut url = self.url(path);
        let (mut items, mut pages) = (Vec::new(), 0);
        loop {
            let (status, body) = self.get_with(&token, &url).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            items.extend(body["_embedded"][key].as_array().unwrap().iter().cloned());
            match body["_links"]["next"]["href"].as_str() {
                Some(next) => url = next.to_string(),
                None => return (items, pages),
            }
        }
    }

    /// Advances the sandbox clock past propagation's interval and waits for the run.
    async fn propagate(&self) {
        let state = &self.sandbox.pingone().unwrap().state;
        let before = state.propagation.last_execution().map(|e| e.id);
        self.sandbox.clock().advance(6);
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if state.propagation.last_execution().map(|e| e.id) != before {
                return;
            }
        }
        panic!("no propagation ran after the clock passed its interval");
    }

    fn q_group(&self) -> &sandbox::seed::IdpGroup {
        self.org
            .groups
            .iter()
            .find(|g| g.kind == IdpGroupKind::QDeveloper)
            .unwrap()
    }
}

#[tokio::test]
async fn a_worker_token_reads_users_and_groups_page_by_cursor() {
    let p = start().await;
    let (users, pages) = p.all("users?limit=50", "users").await;
    let people: Vec<_> = p.org.people.iter().filter(|x| !x.deleted).collect();
    assert_eq!(users.len(), people.len());
    assert!(pages > 1, "50 a page over {} users", users.len());
    let first = &users[0];
    for field in [
        "id",
        "username",
        "email",
        "enabled",
        "name",
        "population",
        "environment",
        "createdAt",
        "lifecycle",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert_eq!(first["environment"]["id"], p.env.as_str());
    assert_eq!(first["username"], people[0].user_name.as_str());
    assert_eq!(first["name"]["given"], people[0].given_name.as_str());

    // A limit above the page maximum gets fewer, as PingOne may return.
    let (status, body) = p.get("users?limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["size"], 200);
    assert_eq!(body["count"], users.len());

    let (groups, _) = p.all("groups", "groups").await;
    assert_eq!(groups.len(), p.org.groups.len());

    // Members of the Q Developer group, by the documented filter.
    let q = p.q_group();
    let (members, _) = p
        .all(
            &format!(
                "users?filter={}",
                urlencode(&format!("memberOfGroups[id eq \"{}\"]", q.idp_id))
            ),
            "users",
        )
        .await;
    let mut got: Vec<&str> = members.iter().map(|u| u["id"].as_str().unwrap()).collect();
    let mut want: Vec<&str> = q
        .members
        .iter()
        .map(|&m| p.org.people[m].idp_id.as_str())
        .collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);

    // A member's groups.
    let member = &p.org.people[q.members[0]];
    let (status, body) = p
        .get(&format!("users/{}/memberOfGroups", member.idp_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    let memberships = body["_embedded"]["groupMemberships"].as_array().unwrap();
    assert!(
        memberships
            .iter()
            .any(|m| m["id"] == q.idp_id.as_str() && m["type"] == "DIRECT")
    );
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn bad_credentials_tokens_filters_and_paging_get_pingones_errors() {
    let p = start().await;
    let worker = &p.sandbox.pingone().unwrap().worker;
    let r = p.token_for(&worker.client_id, "not-the-secret").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(!body.to_string().contains(&worker.client_secret));

    let (status, body) = p.get_with("not-a-token", &p.url("users")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "ACCESS_FAILED");
    assert!(body["id"].is_string());

    let (status, body) = p.get("users?filter=department%20sw%20%22Eng%22").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "INVALID_REQUEST");
    assert_eq!(body["details"][0]["code"], "INVALID_FILTER");

    let (status, body) = p.get("users?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["details"][0]["target"], "limit");
    let (status, _) = p.get("users?cursor=forged").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = p.get("users/no-such-user").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NOT_FOUND");

    // Another environment's id is not this one.
    let r = p
        .http
        .get(format!(
            "{}/environments/{}/users",
            p.sandbox.pingone_api_base(),
            uuid::Uuid::new_v4()
        ))
        .bearer_auth(p.token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_limit_what_a_worker_can_do() {
    let p = start().await;
    let r = p
        .http
        .post(format!(
            "http://{}/_sandbox/pingone/workers",
            p.sandbox.addr()
        ))
        .json(&json!({"roles": ["Identity Data Read Only"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let reader: Value = r.json().await.unwrap();
    let r = p
        .token_for(
            reader["client_id"].as_str().unwrap(),
            reader["client_secret"].as_str().unwrap(),
        )
        .await;
    let token: Value = r.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap();

    let (status, _) = p.get_with(token, &p.url("users")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = p.get_with(token, &p.url("propagation/rules")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ACCESS_FAILED");
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Environment Admin")
    );
    let person = &p.org.people[0];
    let r = p
        .http
        .post(p.url(&format!("users/{}/memberOfGroups", person.idp_id)))
        .bearer_auth(token)
        .json(&json!({"id": p.q_group().idp_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_membership_added_in_pingone_reaches_identity_center_within_seconds() {
    let p = start().await;
    let q = p.q_group().clone();
    let g = p
        .org
        .groups
        .iter()
        .position(|g| g.idp_id == q.idp_id)
        .unwrap();
    let ic_group = p.org.provisioned_group[g].clone();
    let (pi, person) = p
        .org
        .people
        .iter()
        .enumerate()
        .find(|(i, x)| {
            !x.deleted
                && x.enabled
                && !q.members.contains(i)
                && p.org.provisioned_user[*i].is_some()
        })
        .unwrap();
    let ic_user = p.org.provisioned_user[pi].clone().unwrap();
    let is_member = || {
        p.sandbox
            .state()
            .directory
            .read()
            .unwrap()
            .is_member(&ic_group, &ic_user)
    };
    assert!(!is_member());

    let token = p.token().await;
    let add = || async {
        p.http
            .post(p.url(&format!("users/{}/memberOfGroups", person.idp_id)))
            .bearer_auth(&token)
            .json(&json!({"id": q.idp_id}))
            .send()
            .await
            .unwrap()
    };
    let r = add().await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], q.idp_id.as_str());
    let r = add().await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "twice is refused");

    p.propagate().await;
    assert!(is_member(), "propagation carried the membership over");

    let rule = p
        .sandbox
        .pingone()
        .unwrap()
        .state
        .environment()
        .unwrap()
        .propagation
        .rule
        .id
        .clone();
    let (status, synced) = p
        .get(&format!("users/{}/syncedRules/{rule}", person.idp_id))
        .await;
    assert_eq!(status, StatusCode::OK, "{synced}");
    assert_eq!(synced["state"], "SUCCESS");
    assert_eq!(synced["targetUserId"], ic_user.as_str());

    let r = p
        .http
        .delete(p.url(&format!(
            "users/{}/memberOfGroups/{}",
            person.idp_id, q.idp_id
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    p.propagate().await;
    assert!(!is_member());
}

#[tokio::test]
async fn the_propagation_setup_shows_the_seeds_settings_and_the_planted_missing_mapping() {
    let p = start().await;
    let (status, stores) = p.get("propagation/stores").await;
    assert_eq!(status, StatusCode::OK);
    let store = &stores["_embedded"]["stores"][0];
    assert_eq!(store["type"], "scim");
    assert_eq!(store["configuration"]["USER_FILTER"], SEEDS_USER_FILTER);
    assert_eq!(
        store["configuration"]["SCIM_URL"],
        p.sandbox.scim_endpoint().as_str()
    );
    // The token the connection holds never comes back.
    assert!(store["configuration"].get("OAUTH_ACCESS_TOKEN").is_none());

    let (_, plans) = p.get("propagation/plans").await;
    let plan = plans["_embedded"]["plans"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, rules) = p.get(&format!("propagation/plans/{plan}/rules")).await;
    let rule = &rules["_embedded"]["rules"][0];
    assert_eq!(rule["active"], true);
    assert_eq!(rule["targetStore"]["id"], store["id"]);
    let rule_id = rule["id"].as_str().unwrap();
    let (_, mappings) = p
        .get(&format!("propagation/rules/{rule_id}/mappings"))
        .await;
    let targets: Vec<&str> = mappings["_embedded"]["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["targetAttribute"].as_str().unwrap())
        .collect();
    assert!(targets.contains(&"userName"));
    assert!(
        !targets.contains(&"displayName"),
        "the demo plants the missing Username → displayName mapping"
    );

    // Without it Identity Center refuses the users PingOne creates: the planted person's
    // synced rule fails, with Identity Center's answer.
    p.propagate().await;
    let missing = &p.org.planted.unprovisionable_people[0];
    let (status, synced) = p
        .get(&format!("users/{missing}/syncedRules/{rule_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{synced}");
    assert_eq!(synced["state"], "FAILED");
    assert!(
        synced["details"].as_str().unwrap().contains("400"),
        "{synced}"
    );
    let (_, store) = p
        .get(&format!(
            "propagation/stores/{}",
            store["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(store["syncStatus"]["failedCount"], 1);

    // A seed without the planted problem has the mapping.
    let mut spec = SeedSpec::demo();
    spec.name = "demo-mapped".into();
    let q = start_with(spec, SandboxConfig::default()).await;
    let state = &q.sandbox.pingone().unwrap().state;
    let env = state.environment().unwrap();
    assert!(
        env.propagation
            .rule
            .mappings
            .iter()
            .any(|m| m.source == "username" && m.target == "displayName")
    );
    // And Identity Center holds what that rule sent: the user name as display name. Only the
    // planted problems drift, none of them on display name.
    let directory = q.sandbox.state().directory.read().unwrap();
    let snapshot = snapshot_of(&directory, Vec::new()).unwrap();
    let (ann, ic_id) = q
        .org
        .people
        .iter()
        .zip(&q.org.provisioned_user)
        .find_map(|(p, ic)| Some((p, ic.as_ref()?)))
        .unwrap();
    assert_eq!(directory.user(ic_id).unwrap().display_name, ann.user_name);
    let drift = domain::drift::drift(&snapshot, &pingone_scope_of(&env));
    assert!(!drift.is_empty(), "the planted problems drift");
    let on_display_name = drift
        .iter()
        .filter(|d| {
            matches!(
                d,
                domain::drift::Drift::UserMismatch {
                    attribute: domain::drift::Attribute::DisplayName,
                    ..
                }
            )
        })
        .count();
    assert_eq!(on_display_name, 0, "{drift:?}");
}

#[tokio::test]
async fn the_saml_app_metadata_and_signing_key_show_the_expiring_certificate() {
    let p = start().await;
    let (status, apps) = p.get("applications").await;
    assert_eq!(status, StatusCode::OK);
    let app = &apps["_embedded"]["applications"][0];
    assert_eq!(app["name"], "AWS Single Sign-On");
    assert_eq!(app["protocol"], "SAML");
    let key_id = app["idpSigning"]["key"]["id"].as_str().unwrap();
    let (status, key) = p.get(&format!("keys/{key_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let expires = chrono::DateTime::parse_from_rfc3339(key["expiresAt"].as_str().unwrap()).unwrap();
    let left = expires.with_timezone(&chrono::Utc) - p.sandbox.clock().now();
    assert!(
        (19..=20).contains(&left.num_days()),
        "planted: expires in 20 days, {left}"
    );

    let app_id = app["id"].as_str().unwrap();
    let r = p
        .http
        .get(format!(
            "{}/{}/saml20/metadata/{app_id}",
            p.sandbox.pingone_auth_base(),
            p.env
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let xml = r.text().await.unwrap();
    assert!(xml.contains(&format!("entityID=\"https://auth.pingone.com/{}\"", p.env)));
    let der = crate::saml::certificate_in(&xml);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    // The certificate in the metadata is the key the API describes.
    assert_eq!(cert.validity().not_after.timestamp(), expires.timestamp());
    assert_eq!(
        cert.subject().to_string(),
        key["subjectDN"].as_str().unwrap()
    );
    // Signed with that key; a changed SSO address breaks the signature.
    crate::saml::xmlsec1_verify(&xml, &der).unwrap();
    let tampered = xml.replace("/saml20/idp/sso", "/attacker/sso");
    assert!(crate::saml::xmlsec1_verify(&tampered, &der).is_err());
}

#[tokio::test]
async fn an_expired_scim_token_fails_propagation_until_a_new_one_is_saved() {
    let p = start().await;
    // The connection's token is eleven months old: a month on, it has expired.
    p.sandbox.clock().advance(31 * 24 * 3600);
    p.propagate().await;
    let state = &p.sandbox.pingone().unwrap().state;
    let last = state.propagation.last_execution().unwrap();
    assert!(last.error.is_some(), "{last:?}");
    let (_, stores) = p.get("propagation/stores").await;
    let status = &stores["_embedded"]["stores"][0]["syncStatus"];
    assert_eq!(status["syncState"], "FAILED");
    assert!(
        status["details"].as_str().unwrap().contains("401"),
        "{status}"
    );
    // PingOne keeps trying (no quarantine) and recovers once a new token is saved.
    p.propagate().await;
    assert_eq!(
        state.propagation.code(),
        sandbox::entra::provisioning::JobCode::Active
    );
    let fresh = p
        .sandbox
        .scim_tokens()
        .issue(p.sandbox.clock().now())
        .unwrap();
    let r = p
        .http
        .put(format!(
            "http://{}/_sandbox/pingone/propagation/token",
            p.sandbox.addr()
        ))
        .json(&json!({"token": fresh.token}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    p.propagate().await;
    let last = state.propagation.last_execution().unwrap();
    assert!(last.error.is_none(), "{last:?}");
}

#[tokio::test]
async fn too_many_requests_get_429_with_retry_after() {
    let p = start_with(
        SeedSpec::demo(),
        SandboxConfig {
            pingone_per_second: std::num::NonZeroU32::new(2).unwrap(),
            ..SandboxConfig::default()
        },
    )
    .await;
    let token = p.token().await;
    let mut throttled = None;
    for _ in 0..20 {
        let r = p
            .http
            .get(p.url("groups"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("a burst beyond the rate is throttled");
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "REQUEST_LIMITED");
}
