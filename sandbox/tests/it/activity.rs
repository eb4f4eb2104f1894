//! Q Developer's activity reports, read the way Tessera will read them: aws-sdk-s3 against the
//! sandbox's S3 endpoint (path-style, SigV4), keys in the documented layout, CSVs with the
//! documented columns, one row per seat holder active that day.

use std::collections::{HashMap, HashSet};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use chrono::{Duration, NaiveDate};
use sandbox::activity::{DAYS, Usage};
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};

use crate::common::http_client;

fn s3(endpoint: &str, secret: &str) -> aws_sdk_s3::Client {
    let creds = StaticCredentials::default();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::from_keys(creds.access_key_id, secret, None))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .http_client(http_client())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test]
async fn activity_reports_are_listed_and_read_with_aws_sdk_s3() {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let sandbox = RunningSandbox::start_organisation(org.clone(), SandboxConfig::default())
        .await
        .unwrap();
    let reports = sandbox.activity().unwrap();
    let client = s3(
        &sandbox.s3_endpoint().unwrap(),
        &StaticCredentials::default().secret_access_key,
    );
    let prefix = format!(
        "{}/AWSLogs/{}/QDeveloperLogs/by_user_analytic/",
        reports.prefix, reports.account
    );
    // Every page, seven keys at a time.
    let mut keys: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(&reports.bucket)
            .prefix(&prefix)
            .max_keys(7)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        keys.extend(page.contents().iter().map(|o| o.key().unwrap().to_string()));
        if page.is_truncated() == Some(true) {
            token = page.next_continuation_token().map(str::to_string);
        } else {
            break;
        }
    }
    // Fewer than 1,000 holders: one file a day.
    assert_eq!(keys.len(), DAYS as usize);
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "keys come in order");
    let today = sandbox.clock().now().date_naive();
    let yesterday = today - Duration::days(1);
    let folder = format!(
        "{prefix}{}/{}/00/",
        reports.region,
        yesterday.format("%Y/%m/%d")
    );
    let key = keys.iter().find(|k| k.starts_with(&folder)).unwrap();
    let file = key.rsplit('/').next().unwrap();
    assert!(
        file.starts_with(&format!("{}_by_user_analytic_", reports.account))
            && file.ends_with(".csv"),
        "{file}"
    );

    // Read every day's file; who was active when.
    let holders: HashMap<&str, Usage> = reports
        .holders
        .iter()
        .map(|h| (h.user_id.as_str(), h.usage))
        .collect();
    let mut last_seen: HashMap<String, NaiveDate> = HashMap::new();
    for key in &keys {
        let object = client
            .get_object()
            .bucket(&reports.bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(object.content_type(), Some("text/csv"));
        let bytes = object.body.collect().await.unwrap().into_bytes();
        let mut csv = csv::Reader::from_reader(&bytes[..]);
        let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(&header[..2], ["UserId", "Date"]);
        for metric in [
            "Chat_MessagesSent",
            "Inline_AcceptanceCount",
            "Inline_SuggestionsCount",
        ] {
            assert!(header.iter().any(|h| h == metric), "{metric}");
        }
        for row in csv.records() {
            let row = row.unwrap();
            let user = row.get(0).unwrap();
            assert!(
                holders.contains_key(user),
                "only seat holders have rows: {user}"
            );
            let day = NaiveDate::parse_from_str(row.get(1).unwrap(), "%Y-%m-%d").unwrap();
            assert!(row.iter().skip(2).all(|v| v.parse::<u32>().is_ok()));
            let seen = last_seen.entry(user.to_string()).or_insert(day);
            *seen = (*seen).max(day);
        }
    }
    // Never-used seats have no row at all; idle ones none after they stopped, three weeks or
    // more before today (the stop day itself may still have a row).
    assert!(!reports.never_used().is_empty());
    for user in reports.never_used() {
        assert!(!last_seen.contains_key(user), "{user} never used the seat");
    }
    assert!(!reports.idle().is_empty());
    for (user, stopped) in reports.idle() {
        let last = last_seen.get(user).copied().unwrap();
        assert!(
            last <= stopped && today - last >= Duration::days(21),
            "{user}: {last}"
        );
    }
    // Regular users were mostly active in the last week.
    let regular: Vec<&str> = holders
        .iter()
        .filter(|(_, u)| matches!(u, Usage::Regular(_)))
        .map(|(id, _)| *id)
        .collect();
    let recent = regular
        .iter()
        .filter(|id| {
            last_seen
                .get(**id)
                .is_some_and(|d| yesterday - *d < Duration::days(7))
        })
        .count();
    assert!(
        recent * 10 >= regular.len() * 8,
        "{recent} of {}",
        regular.len()
    );
    // The direct and group seat holders are there.
    let q = org.q_group().unwrap();
    let members: HashSet<&str> = org.groups[q]
        .members
        .iter()
        .filter_map(|&p| org.provisioned_user[p].as_deref())
        .collect();
    assert!(members.iter().all(|m| holders.contains_key(m)));
}

#[tokio::test]
async fn s3_refuses_a_bad_signature_an_unknown_key_and_an_unknown_bucket() {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let sandbox = RunningSandbox::start_organisation(org, SandboxConfig::default())
        .await
        .unwrap();
    let reports = sandbox.activity().unwrap();
    let endpoint = sandbox.s3_endpoint().unwrap();
    let wrong = s3(&endpoint, "not-the-secret");
    let err = wrong
        .list_objects_v2()
        .bucket(&reports.bucket)
        .send()
        .await
        .unwrap_err();
    let message = format!("{:?}", err.into_service_error());
    assert!(message.contains("SignatureDoesNotMatch"), "{message}");

    let client = s3(&endpoint, &StaticCredentials::default().secret_access_key);
    let err = client
        .get_object()
        .bucket(&reports.bucket)
        .key("q-user-activity/no/such/file.csv")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_no_such_key());
    let err = client
        .list_objects_v2()
        .bucket("someone-elses-bucket")
        .send()
        .await
        .unwrap_err();
    let message = format!("{:?}", err.into_service_error());
    assert!(message.contains("NoSuchBucket"), "{message}");
}
