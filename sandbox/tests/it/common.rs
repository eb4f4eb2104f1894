//! A running sandbox on the `demo` organisation, and the official AWS SDK clients pointed at it
//! exactly as production code builds them (only endpoint URL and credentials differ).

use aws_credential_types::Credentials;
use aws_sdk_identitystore::config::retry::RetryConfig;
use aws_sdk_identitystore::config::{Region, SharedHttpClient};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};

pub struct Fixture {
    pub sandbox: RunningSandbox,
    pub org: Organisation,
    pub store: String,
}

pub async fn start() -> Fixture {
    start_with(SandboxConfig::default()).await
}

pub async fn start_with(config: SandboxConfig) -> Fixture {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let store = org.identity_center.identity_store_id().to_string();
    let sandbox = RunningSandbox::start(org.identity_center.clone(), org.instance.clone(), config)
        .await
        .unwrap();
    Fixture {
        sandbox,
        org,
        store,
    }
}

pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

pub fn identitystore_with(
    endpoint: &str,
    access_key: &str,
    secret: &str,
) -> aws_sdk_identitystore::Client {
    identitystore_retrying(endpoint, access_key, secret, RetryConfig::standard())
}

/// An Identity Store client with the given retry behaviour (the SDK's standard mode by default).
pub fn identitystore_retrying(
    endpoint: &str,
    access_key: &str,
    secret: &str,
    retry: RetryConfig,
) -> aws_sdk_identitystore::Client {
    let config = aws_sdk_identitystore::Config::builder()
        .retry_config(retry)
        .behavior_version(aws_sdk_identitystore::config::BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::from_keys(access_key, secret, None))
        .endpoint_url(endpoint)
        .http_client(http_client())
        .build();
    aws_sdk_identitystore::Client::from_conf(config)
}

pub fn identitystore(f: &Fixture) -> aws_sdk_identitystore::Client {
    let creds = StaticCredentials::default();
    identitystore_with(
        &f.sandbox.aws_endpoint(),
        &creds.access_key_id,
        &creds.secret_access_key,
    )
}

pub fn ssoadmin(f: &Fixture) -> aws_sdk_ssoadmin::Client {
    let creds = StaticCredentials::default();
    let config = aws_sdk_ssoadmin::Config::builder()
        .behavior_version(aws_sdk_ssoadmin::config::BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::from_keys(
            creds.access_key_id,
            creds.secret_access_key,
            None,
        ))
        .endpoint_url(f.sandbox.aws_endpoint())
        .http_client(http_client())
        .build();
    aws_sdk_ssoadmin::Client::from_conf(config)
}
