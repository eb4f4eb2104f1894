//! What the IdP readers share: an app token from the OAuth 2 client-credentials grant (the
//! `oauth2` crate), reused until five minutes before it expires, and JSON GETs retried with
//! exponential backoff and jitter (`backon`) on 429, 5xx and transport errors, waiting
//! `Retry-After` when the service gives one. A 401 drops the cached token and tries again. Each
//! reader words the answers that are final (403, 404, …) in its own service's terms.

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::Value;

/// How a GET ended when it did not return JSON.
#[derive(Debug)]
pub enum Failure {
    /// The service answered with a status no retry will change (4xx but 401/429); the reader
    /// words it from the body.
    Answered { status: u16, body: String },
    /// No usable answer after every attempt; `last` is what the last one met.
    Unavailable { attempts: usize, last: String },
    /// The token endpoint refused the app's credentials (an OAuth error), in its words.
    Credentials(String),
    /// A success whose body is not JSON.
    Malformed(String),
}

/// One failed attempt, before the retry policy decides.
#[derive(Debug)]
enum Attempt {
    Throttled {
        retry_after: Option<Duration>,
        detail: String,
    },
    Transient(String),
    Final(Failure),
}

impl Attempt {
    fn retryable(&self) -> bool {
        !matches!(self, Attempt::Final(_))
    }
}

/// Where and how to get an app token.
#[derive(Clone)]
pub struct AppCredentials {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The scope to ask for (Graph's `.default`), or none (PingOne's worker token).
    pub scope: Option<String>,
}

/// An HTTP client for one service's JSON API with an app token.
pub struct RestClient {
    http: reqwest::Client,
    oauth: oauth2::reqwest::Client,
    credentials: AppCredentials,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
    attempts: usize,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("token_url", &self.credentials.token_url)
            .field("client_id", &self.credentials.client_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// `attempts` per call, the first included. Redirects are never followed.
    pub fn new(credentials: AppCredentials, attempts: usize) -> Result<Self, String> {
        let build = |b: reqwest::ClientBuilder| {
            b.timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
        };
        Ok(Self {
            http: build(reqwest::Client::builder())?,
            oauth: build(oauth2::reqwest::Client::builder())?,
            credentials,
            token: tokio::sync::Mutex::new(None),
            attempts: attempts.max(1),
        })
    }

    pub fn attempts(&self) -> usize {
        self.attempts
    }

    /// An app token, fetched again five minutes before it expires. An OAuth error from the
    /// token endpoint is final (`Credentials`); no answer, or not an OAuth one, is transient.
    async fn token(&self) -> Result<String, Attempt> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() + Duration::from_secs(300) < *until
        {
            return Ok(token.clone());
        }
        let c = &self.credentials;
        let client = BasicClient::new(ClientId::new(c.client_id.clone()))
            .set_client_secret(ClientSecret::new(c.client_secret.clone()))
            .set_token_uri(
                TokenUrl::new(c.token_url.clone())
                    .map_err(|e| Attempt::Final(Failure::Credentials(e.to_string())))?,
            );
        let mut request = client.exchange_client_credentials();
        if let Some(scope) = &c.scope {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let response = request
            .request_async(&self.oauth)
            .await
            .map_err(|e| match e {
                oauth2::RequestTokenError::ServerResponse(_) => {
                    Attempt::Final(Failure::Credentials(oauth_error(&e)))
                }
                other => Attempt::Transient(format!("the token endpoint: {other}")),
            })?;
        let secret = response.access_token().secret().clone();
        let lifetime = response.expires_in().unwrap_or(Duration::from_secs(3599));
        *cached = Some((secret.clone(), Instant::now() + lifetime));
        Ok(secret)
    }

    /// One GET of an absolute URL, retried; the body parsed as JSON.
    pub async fn get(&self, url: &str) -> Result<Value, Failure> {
        let attempt = || async {
            let token = self.token().await?;
            let response = self
                .http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| Attempt::Transient(e.to_string()))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response
                .text()
                .await
                .map_err(|e| Attempt::Transient(e.to_string()))?;
            if status.is_success() {
                return serde_json::from_str::<Value>(&body)
                    .map_err(|e| Attempt::Final(Failure::Malformed(e.to_string())));
            }
            let short: String = body.chars().take(200).collect();
            Err(match status.as_u16() {
                429 | 503 | 504 => Attempt::Throttled {
                    retry_after,
                    detail: format!("HTTP {status}: {short}"),
                },
                500..=599 => Attempt::Transient(format!("HTTP {status}: {short}")),
                401 => {
                    // A token the service no longer accepts: drop it so the next try gets another.
                    self.token.lock().await.take();
                    Attempt::Transient(format!("HTTP 401: {short}"))
                }
                s => Attempt::Final(Failure::Answered { status: s, body }),
            })
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(30))
                    .with_max_times(self.attempts - 1)
                    .with_jitter(),
            )
            .sleep(tokio::time::sleep)
            .when(Attempt::retryable)
            .adjust(|e, backoff| match e {
                Attempt::Throttled {
                    retry_after: Some(wait),
                    ..
                } => Some(*wait),
                _ => backoff,
            })
            .await
            .map_err(|e| match e {
                Attempt::Final(f) => f,
                Attempt::Throttled { detail: last, .. } | Attempt::Transient(last) => {
                    Failure::Unavailable {
                        attempts: self.attempts,
                        last,
                    }
                }
            })
    }
}

/// The token endpoint's words for a refused request (the first line of its description).
fn oauth_error<RE: std::error::Error + 'static>(
    e: &oauth2::RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => format!(
            "{}{}",
            r.error(),
            r.error_description()
                .map(|d| format!(": {}", d.lines().next().unwrap_or_default()))
                .unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

/// A string field, or empty.
pub fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The string at a JSON pointer, if there is one.
pub fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The strings of `key`: an array's strings, or a lone string as one.
pub fn strings_of(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}
