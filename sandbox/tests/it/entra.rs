//! Emulated Entra ID, driven over HTTP the way Tessera's Graph client will: a client-credentials
//! token, Graph v1.0 reads with paging and `$select`, member writes, and the provisioning job
//! carrying changes into Identity Center through SCIM on the sandbox clock. Response shapes are
//! checked against the examples of Microsoft's Graph reference (List users, List
//! synchronization jobs, List provisioningObjectSummary, error responses).

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{PROVISIONING_TOKEN_AGE_DAYS, RunningSandbox, SandboxConfig};
use serde_json::{Value, json};

const INTERVAL_SECS: u64 = 40 * 60;

struct Entra {
    sandbox: RunningSandbox,
    org: Organisation,
    http: reqwest::Client,
    tenant: String,
    client_id: String,
    client_secret: String,
}

async fn start_with(config: SandboxConfig) -> Entra {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let sandbox = RunningSandbox::start_organisation(org.clone(), config)
        .await
        .unwrap();
    let entra = sandbox.entra().unwrap();
    let (client_id, client_secret) = (entra.app.client_id.clone(), entra.app.client_secret.clone());
    let tenant = entra.state.tenant_id();
    Entra {
        sandbox,
        org,
        http: reqwest::Client::new(),
        tenant,
        client_id,
        client_secret,
    }
}

async fn start() -> Entra {
    start_with(SandboxConfig::default()).await
}

impl Entra {
    fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.sandbox.login_base(),
            self.tenant
        )
    }

    async fn token_for(&self, client_id: &str, secret: &str) -> reqwest::Response {
        self.http
            .post(self.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
    }

    async fn token(&self) -> String {
        let r = self.token_for(&self.client_id, &self.client_secret).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1.0/{path}", self.sandbox.graph_base())
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

    /// Every page of a collection, following `@odata.nextLink`.
    async fn all(&self, path: &str) -> Vec<Value> {
        let token = self.token().await;
        let mut url = self.url(path);
        let mut items = Vec::new();
        loop {
            let (status, body) = self.get_with(&token, &url).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            items.extend(body["value"].as_array().unwrap().iter().cloned());
            match body["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return items,
            }
        }
    }

    async fn job(&self) -> Value {
        let sp = self
            .sandbox
            .entra()
            .unwrap()
            .state
            .tenant()
            .unwrap()
            .service_principal
            .id
            .clone();
        let (status, body) = self
            .get(&format!("servicePrincipals/{sp}/synchronization/jobs"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["value"][0].clone()
    }

    /// Advances the sandbox clock past the next scheduled run and waits for the scheduler to
    /// run it; returns the job afterwards.
    async fn next_cycle(&self) -> Value {
        self.cycle_after(INTERVAL_SECS as i64 + 1).await
    }

    /// Advances the sandbox clock by `seconds` (enough to pass the schedule) and waits for the
    /// run that falls due.
    async fn cycle_after(&self, seconds: i64) -> Value {
        let before = self.job().await["status"]["lastExecution"]["activityIdentifier"].clone();
        self.sandbox.clock().advance(seconds);
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let job = self.job().await;
            if job["status"]["lastExecution"]["activityIdentifier"] != before {
                return job;
            }
        }
        panic!("no provisioning cycle ran after the clock passed the schedule");
    }

    fn person(&self, idp_id: &str) -> usize {
        self.org
            .people
            .iter()
            .position(|p| p.idp_id == idp_id)
            .unwrap()
    }
}

fn keys(v: &Value) -> HashSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn graph_lists_users_like_the_reference_with_paging_and_select() {
    let e = start().await;
    let users = e.all("users?$top=70").await;
    let in_tenant = e.org.people.iter().filter(|p| !p.deleted).count();
    assert_eq!(users.len(), in_tenant);
    // The default property set of the "List users" example, nothing more.
    let expected: HashSet<String> = [
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "id",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(keys(&users[0]), expected);
    let ids: HashSet<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), in_tenant, "no user twice across pages");

    let (status, page) = e
        .get("users?$top=5&$select=id,accountEnabled,department")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        page["@odata.context"],
        json!(format!("{}/v1.0/$metadata#users", e.sandbox.graph_base()))
    );
    let next = page["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.contains("$skiptoken=") && next.contains("$select="),
        "{next}"
    );
    assert_eq!(
        keys(&page["value"][0]),
        ["id", "accountEnabled", "department"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );

    // The planted person has no surname in the tenant.
    let missing = &e.org.planted.unprovisionable_people[0];
    let (status, user) = e.get(&format!("users/{missing}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["surname"], Value::Null);
    assert!(user["givenName"].is_string());
}

#[tokio::test]
async fn graph_errors_have_the_reference_shape() {
    let e = start().await;
    let (status, body) = e.get("users?$top=1000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "Request_BadRequest");
    assert!(body["error"]["message"].as_str().unwrap().contains("999"));
    assert!(body["error"]["innerError"]["request-id"].is_string());

    let (status, body) = e.get("users?$select=favouriteColour").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("favouriteColour")
    );

    let (status, body) = e.get("groups/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");

    let (status, body) = e.get("users?$filter=startswith(displayName,'a')").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");

    // No token, a made-up token.
    let r = e.http.get(e.url("users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    let (status, _) = e.get_with("not-a-token", &e.url("users")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_token_endpoint_checks_the_client_and_tokens_expire() {
    let e = start().await;
    let r = e.token_for(&e.client_id, "wrong-secret").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );

    let r = e
        .token_for("11111111-2222-3333-4444-555555555555", "x")
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );

    // client_secret_basic, as OAuth 2 libraries send by default.
    let r = e
        .http
        .post(e.token_url())
        .basic_auth(&e.client_id, Some(&e.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap().to_string();

    // A scope without /.default, an unknown tenant.
    let r = e
        .http
        .post(e.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", e.client_id.as_str()),
            ("client_secret", e.client_secret.as_str()),
            ("scope", "User.Read.All"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let r = e
        .http
        .post(format!(
            "{}/not-a-tenant/oauth2/v2.0/token",
            e.sandbox.login_base()
        ))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let (status, _) = e.get_with(&token, &e.url("users?$top=1")).await;
    assert_eq!(status, StatusCode::OK);
    e.sandbox.clock().advance(3600);
    let (status, body) = e.get_with(&token, &e.url("users?$top=1")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn permissions_are_those_the_app_was_granted() {
    let e = start().await;
    let r = e
        .http
        .post(format!("{}/_sandbox/entra/apps", e.sandbox.aws_endpoint()))
        .json(&json!({"permissions": ["User.Read.All"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let app: Value = r.json().await.unwrap();
    let r = e
        .token_for(
            app["client_id"].as_str().unwrap(),
            app["client_secret"].as_str().unwrap(),
        )
        .await;
    let token = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = e.get_with(&token, &e.url("users?$top=1")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = e.get_with(&token, &e.url("groups")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
}

#[tokio::test]
async fn the_identity_center_app_shows_its_scope_certificate_and_job() {
    let e = start().await;
    let (status, body) = e
        .get("servicePrincipals?$filter=displayName eq 'AWS IAM Identity Center'")
        .await;
    assert_eq!(status, StatusCode::OK);
    let sps = body["value"].as_array().unwrap();
    assert_eq!(sps.len(), 1);
    let sp = &sps[0];
    let sp_id = sp["id"].as_str().unwrap();
    // The SAML signing certificate expires in 20 days (planted).
    let thumbprint = sp["preferredTokenSigningKeyThumbprint"].as_str().unwrap();
    let key = sp["keyCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["usage"] == "Verify" && k["customKeyIdentifier"] == thumbprint)
        .unwrap();
    let end = chrono::DateTime::parse_from_rfc3339(key["endDateTime"].as_str().unwrap()).unwrap();
    let days = (end.with_timezone(&chrono::Utc) - e.sandbox.clock().now()).num_days();
    assert!((19..=20).contains(&days), "{days}");

    let assigned = e
        .all(&format!(
            "servicePrincipals/{sp_id}/appRoleAssignedTo?$top=7"
        ))
        .await;
    assert_eq!(assigned.len(), e.org.groups.len());
    assert!(assigned.iter().all(|a| a["principalType"] == "Group"
        && a["resourceId"] == sp_id
        && a["principalDisplayName"].is_string()));

    // The job, shaped as in "List synchronization jobs".
    let job = e.job().await;
    let status = &job["status"];
    assert_eq!(status["code"], "Active");
    assert_eq!(job["schedule"]["interval"], "PT40M");
    for field in [
        "countSuccessiveCompleteFailures",
        "escrowsPruned",
        "synchronizedEntryCountByType",
        "lastExecution",
        "lastSuccessfulExecution",
        "lastSuccessfulExecutionWithExports",
        "steadyStateFirstAchievedTime",
        "steadyStateLastAchievedTime",
        "quarantine",
    ] {
        assert!(status.get(field).is_some(), "status.{field} missing");
    }
    let (status_code, one) = e
        .get(&format!(
            "servicePrincipals/{sp_id}/synchronization/jobs/{}",
            job["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status_code, StatusCode::OK);
    assert_eq!(one["id"], job["id"]);

    // Owners of a team are its lead.
    let team = e
        .org
        .groups
        .iter()
        .find(|g| !g.owners.is_empty() && g.display_name.starts_with("team-"))
        .unwrap();
    let owners = e.all(&format!("groups/{}/owners", team.idp_id)).await;
    assert_eq!(owners[0]["id"], e.org.people[team.owners[0]].idp_id);
    assert_eq!(owners[0]["@odata.type"], "#microsoft.graph.user");
}

#[tokio::test]
async fn a_member_added_in_entra_reaches_identity_center_after_one_cycle() {
    let e = start().await;
    let q = e.org.q_group().unwrap();
    let q_group = &e.org.groups[q];
    // Someone in scope, provisioned, not yet in the Q Developer group.
    let (p, person) = e
        .org
        .people
        .iter()
        .enumerate()
        .find(|(p, person)| {
            !person.deleted
                && person.enabled
                && !q_group.members.contains(p)
                && e.org.provisioned_user[*p].is_some()
        })
        .unwrap();
    let ic_user = e.org.provisioned_user[p].clone().unwrap();
    let ic_group = e.org.provisioned_group[q].clone();
    let store = e.org.identity_center.identity_store_id().to_string();
    let aws = crate::common::identitystore_with(
        &e.sandbox.aws_endpoint(),
        &sandbox::aws::sigv4::StaticCredentials::default().access_key_id,
        &sandbox::aws::sigv4::StaticCredentials::default().secret_access_key,
    );
    let is_member = || async {
        aws.is_member_in_groups()
            .identity_store_id(&store)
            .member_id(aws_sdk_identitystore::types::MemberId::UserId(
                ic_user.clone(),
            ))
            .group_ids(&ic_group)
            .send()
            .await
            .unwrap()
            .results()[0]
            .membership_exists()
    };
    assert!(!is_member().await);

    // The seat is granted the supported way: membership of the subscribed group, in the IdP.
    let token = e.token().await;
    let r = e
        .http
        .post(e.url(&format!("groups/{}/members/$ref", q_group.idp_id)))
        .bearer_auth(&token)
        .json(&json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", person.idp_id)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Twice is refused as Graph does.
    let r = e
        .http
        .post(e.url(&format!("groups/{}/members/$ref", q_group.idp_id)))
        .bearer_auth(&token)
        .json(&json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", person.idp_id)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!is_member().await, "nothing moves before the next cycle");

    let job = e.next_cycle().await;
    assert!(is_member().await, "the cycle carried the membership over");
    assert_eq!(job["status"]["code"], "Active");
    let last = &job["status"]["lastExecution"];
    // The planted unprovisionable person is retried and fails again: entry-level errors.
    assert_eq!(last["state"], "EntryLevelErrors");
    assert!(last["countExported"].as_u64().unwrap() >= 1);

    let events = e.all("auditLogs/provisioning").await;
    let group_update = events
        .iter()
        .find(|ev| {
            ev["sourceIdentity"]["id"] == q_group.idp_id.as_str()
                && ev["provisioningAction"] == "update"
        })
        .unwrap();
    assert_eq!(group_update["provisioningStatusInfo"]["status"], "success");
    assert_eq!(group_update["targetIdentity"]["id"], ic_group.as_str());
    assert_eq!(group_update["jobId"], job["id"]);

    // And back out: removed in Entra, gone from Identity Center after the next cycle.
    let r = e
        .http
        .delete(e.url(&format!(
            "groups/{}/members/{}/$ref",
            q_group.idp_id, person.idp_id
        )))
        .bearer_auth(e.token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    e.next_cycle().await;
    assert!(!is_member().await);
}

#[tokio::test]
async fn the_unprovisionable_person_fails_every_cycle_with_the_reason() {
    let e = start().await;
    let missing = e.org.planted.unprovisionable_people[0].clone();
    let p = e.person(&missing);
    assert!(e.org.provisioned_user[p].is_none());
    let job = e.next_cycle().await;
    let events = e.all("auditLogs/provisioning").await;
    // The seed is what the job provisioned: its first cycle has nothing else to do.
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(job["status"]["lastExecution"]["countEscrowed"], 1);
    let failure = events
        .iter()
        .find(|ev| ev["sourceIdentity"]["id"] == missing.as_str())
        .unwrap();
    assert_eq!(failure["provisioningAction"], "create");
    assert_eq!(failure["provisioningStatusInfo"]["status"], "failure");
    let reason = failure["provisioningStatusInfo"]["errorInformation"]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("400"), "{reason}");
    // Still not in Identity Center.
    let state = e.sandbox.state().directory.read().unwrap();
    assert!(state.user_by_name(&e.org.people[p].user_name).is_none());
}

#[tokio::test]
async fn an_expired_scim_token_quarantines_the_job_until_a_new_one_is_saved() {
    let e = start().await;
    // The job's token is eleven months old: a month later it has expired.
    let mut job = e
        .cycle_after((366 - PROVISIONING_TOKEN_AGE_DAYS) * 24 * 3600)
        .await;
    for run in 1..=3 {
        if run > 1 {
            job = e.next_cycle().await;
        }
        let last = &job["status"]["lastExecution"];
        assert_eq!(last["state"], "Failed", "run {run}: {job}");
        assert_eq!(job["status"]["countSuccessiveCompleteFailures"], run);
    }
    let status = &job["status"];
    assert_eq!(status["code"], "Quarantine");
    let quarantine = &status["quarantine"];
    assert_eq!(quarantine["reason"], "EncounteredQuarantineException");
    assert_eq!(
        quarantine["error"]["code"],
        "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
    );
    assert!(
        quarantine["nextAttempt"].as_str().unwrap() > quarantine["currentBegan"].as_str().unwrap()
    );

    // The admin makes a new token in Identity Center and saves it in the app.
    let fresh = e
        .sandbox
        .scim_tokens()
        .issue(e.sandbox.clock().now())
        .unwrap()
        .token;
    let r = e
        .http
        .put(format!(
            "{}/_sandbox/entra/provisioning/token",
            e.sandbox.aws_endpoint()
        ))
        .json(&json!({"token": fresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = e
        .http
        .post(format!(
            "{}/_sandbox/entra/provisioning/run",
            e.sandbox.aws_endpoint()
        ))
        .send()
        .await
        .unwrap();
    let job: Value = r.json().await.unwrap();
    assert_eq!(job["status"]["code"], "Active", "{job}");
    assert_eq!(job["status"]["quarantine"], Value::Null);
    assert_eq!(job["status"]["countSuccessiveCompleteFailures"], 0);
}

#[tokio::test]
async fn graph_throttles_with_retry_after() {
    let e = start_with(SandboxConfig {
        graph_per_second: std::num::NonZeroU32::new(3).unwrap(),
        ..SandboxConfig::default()
    })
    .await;
    let token = e.token().await;
    let mut throttled = None;
    for _ in 0..10 {
        let r = e
            .http
            .get(e.url("users?$top=1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("10 requests at once exceed 3 per second");
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");

    // The `graph` fault plan throttles on demand too.
    let e = start().await;
    e.sandbox
        .faults()
        .set(
            "graph",
            sandbox::faults::FaultPlan {
                error_rate: 1.0,
                ..Default::default()
            },
        )
        .unwrap();
    let r = e.token_for(&e.client_id, &e.client_secret).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn groups_delta_gives_every_member_first_then_only_the_changes() {
    let e = start().await;
    let token = e.token().await;
    // First round, in pages: every group with all its members.
    let mut url = e.url("groups/delta?$select=id,displayName&$top=7");
    let mut groups = Vec::new();
    let delta_link = loop {
        let (status, body) = e.get_with(&token, &url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        groups.extend(body["value"].as_array().unwrap().iter().cloned());
        if let Some(next) = body["@odata.nextLink"].as_str() {
            assert!(body.get("@odata.deltaLink").is_none());
            url = next.to_string();
        } else {
            break body["@odata.deltaLink"].as_str().unwrap().to_string();
        }
    };
    assert_eq!(groups.len(), e.org.groups.len());
    let memberships: usize = groups
        .iter()
        .map(|g| g["members@delta"].as_array().unwrap().len())
        .sum();
    let seeded: usize = e.org.groups.iter().map(|g| g.members.len()).sum();
    assert_eq!(memberships, seeded);
    assert!(delta_link.contains("$deltatoken="), "{delta_link}");

    // Nothing changed: an empty round.
    let (_, body) = e.get_with(&token, &delta_link).await;
    assert_eq!(body["value"], json!([]));

    // One member added to the Q group, one removed from a team.
    let q = &e.org.groups[e.org.q_group().unwrap()];
    let newcomer = e
        .org
        .people
        .iter()
        .enumerate()
        .find(|(p, person)| !person.deleted && !q.members.contains(p))
        .map(|(_, person)| person.idp_id.clone())
        .unwrap();
    let team = e
        .org
        .groups
        .iter()
        .find(|g| g.display_name.starts_with("team-") && g.members.len() > 1)
        .unwrap();
    let leaving = e.org.people[*team.members.last().unwrap()].idp_id.clone();
    let r = e
        .http
        .post(e.url(&format!("groups/{}/members/$ref", q.idp_id)))
        .bearer_auth(&token)
        .json(&json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{newcomer}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = e
        .http
        .delete(e.url(&format!("groups/{}/members/{leaving}/$ref", team.idp_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let (_, body) = e.get_with(&token, &delta_link).await;
    let changed = body["value"].as_array().unwrap();
    assert_eq!(changed.len(), 2, "{body}");
    let of = |id: &str| changed.iter().find(|g| g["id"] == id).unwrap()["members@delta"].clone();
    assert_eq!(
        of(&q.idp_id),
        json!([{"@odata.type": "#microsoft.graph.user", "id": newcomer}])
    );
    assert_eq!(
        of(&team.idp_id),
        json!([{"@odata.type": "#microsoft.graph.user", "id": leaving, "@removed": {"reason": "deleted"}}])
    );
    // The new delta link starts after these changes.
    let next = body["@odata.deltaLink"].as_str().unwrap();
    let (_, body) = e.get_with(&token, next).await;
    assert_eq!(body["value"], json!([]));

    // users/delta: everyone in the first round; a bad token is refused.
    let (status, body) = e.get_with(&token, &e.url("users/delta?$top=999")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["value"].as_array().unwrap().len(),
        e.org.people.iter().filter(|p| !p.deleted).count()
    );
    assert!(body["@odata.deltaLink"].is_string());
    let (status, _) = e
        .get_with(&token, &e.url("groups/delta?$deltatoken=garbage"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
