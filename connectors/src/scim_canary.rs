//! The SCIM canary: one read-only request to Identity Center's SCIM endpoint with the stored
//! bearer token (`GET <endpoint>/Users?count=1`), to tell whether the token the IdP provisions
//! with still opens the endpoint. 429 and 5xx are retried with backoff; the answer's status is
//! what the checklist judges (`domain::connection::scim_check`). The token is never logged.

use std::time::{Duration, Instant};

use domain::connection::Canary;

/// Asks the endpoint once (retrying throttling and server errors) and reports what it got.
pub async fn canary(client: &reqwest::Client, endpoint: &str, token: &str) -> Canary {
    use backon::{ExponentialBuilder, Retryable};
    let url = format!("{}/Users?count=1", endpoint.trim_end_matches('/'));
    let started = Instant::now();
    let once = || async {
        let response = client
            .get(&url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/scim+json")
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| Retry::No(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if status == 429 || status >= 500 {
            return Err(Retry::Status(status));
        }
        Ok(status)
    };
    let answer = once
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_times(3)
                .with_jitter(),
        )
        .when(|e| matches!(e, Retry::Status(_)))
        .await;
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match answer {
        Ok(status) | Err(Retry::Status(status)) => Canary::Answered { status, millis },
        Err(Retry::No(reason)) => Canary::NoAnswer(reason),
    }
}

enum Retry {
    Status(u16),
    No(String),
}
