//! PingOne's provisioning ("propagation") scope for AWS IAM Identity Center, read through the
//! PingOne Platform API with a worker app's token: the propagation rule whose target is a SCIM
//! store, the users of the rule's populations and the rule's groups with their members, each
//! user's attributes as the rule's mappings send them. That is what Identity Center should hold.
//!
//! Calls go through [`crate::rest`] (token from `/{envId}/as/token`, retries with backoff and
//! jitter, `Retry-After` honoured). Collections are followed by `_links.next.href` at `limit=200`,
//! PingOne's largest page. Only the base URLs differ for the sandbox.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Mutex, PoisonError};

use domain::connection::{IdpApp, Provisioning};
use domain::scope::{IdpScope, ScopeBuilder, ScopeUser};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::rest::{AppCredentials, Failure, RestClient, str_at, str_of, strings_of};
use crate::scope::{IdpConnection, IdpScopeSource};

/// Where and how to reach the environment.
#[derive(Clone)]
pub struct PingOneSettings {
    pub environment_id: String,
    /// The worker app's client id and secret.
    pub client_id: String,
    pub client_secret: String,
    /// `https://auth.pingone.com` (or `.eu`, `.ca`, `.asia`; the sandbox:
    /// `http://127.0.0.1:4510/pingone/auth`).
    pub auth_url: String,
    /// `https://api.pingone.com/v1` (the docs' `{{apiPath}}`; the sandbox:
    /// `http://127.0.0.1:4510/pingone/api/v1`).
    pub api_url: String,
    /// The propagation rule to read, when the environment has several SCIM rules.
    pub rule_id: Option<String>,
    /// Group member collections read at once.
    pub concurrency: usize,
    /// Attempts per call (first try included).
    pub attempts: usize,
}

impl std::fmt::Debug for PingOneSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PingOneSettings")
            .field("environment_id", &self.environment_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("auth_url", &self.auth_url)
            .field("api_url", &self.api_url)
            .field("rule_id", &self.rule_id)
            .finish_non_exhaustive()
    }
}

impl PingOneSettings {
    /// PingOne's North America endpoints, eight member reads at once.
    pub fn new(environment_id: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            environment_id: environment_id.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            auth_url: "https://auth.pingone.com".into(),
            api_url: "https://api.pingone.com/v1".into(),
            rule_id: None,
            concurrency: 8,
            attempts: 6,
        }
    }
}

/// The worker role each read needs.
const READ_ROLE: &str = "Identity Data Read Only";
const PROPAGATION_ROLE: &str = "Environment Admin";

/// What went wrong, in words an admin can act on.
#[derive(Debug, thiserror::Error)]
pub enum PingOneError {
    #[error(
        "PingOne refused the worker app's credentials ({0}); check the environment id, client id and client secret of the worker application"
    )]
    Credentials(String),
    #[error(
        "PingOne refused {what}: {message}; give the worker application the {needs} role on this environment"
    )]
    Permission {
        what: String,
        message: String,
        needs: &'static str,
    },
    #[error(
        "no active propagation rule sends users to a SCIM store in this PingOne environment; set up provisioning to AWS IAM Identity Center (the seeds' step 5) or name the rule in pingone.rule_id"
    )]
    NoRule,
    #[error(
        "several propagation rules send users to SCIM stores ({0}); name the one for AWS IAM Identity Center in pingone.rule_id"
    )]
    SeveralRules(String),
    #[error("PingOne answered {what} with HTTP {status} {code}: {message}")]
    Call {
        what: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("PingOne did not answer {what} after {attempts} attempts: {last}")]
    Unavailable {
        what: String,
        attempts: usize,
        last: String,
    },
    #[error("PingOne sent something that is not what its reference describes ({0})")]
    Malformed(String),
    #[error("the read was cancelled")]
    Cancelled,
}

/// Reads the propagation scope of the Identity Center rule.
pub struct PingOneReader {
    settings: PingOneSettings,
    rest: RestClient,
}

impl std::fmt::Debug for PingOneReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PingOneReader")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A rule's mappings: target (SCIM attribute) → source (PingOne attribute path).
struct Mappings(HashMap<String, String>);

impl Mappings {
    /// The value the mapping to `target` sends for `user`, if the rule maps it. Sources are
    /// attribute paths (`username`, `name.given`), or expressions of the form `${user.…}`.
    fn value(&self, user: &Value, target: &str) -> Option<String> {
        let source = self.0.get(target)?;
        let path = source
            .strip_prefix("${user.")
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or(source);
        let mut v = user;
        for key in path.split('.') {
            v = v.get(key)?;
        }
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

impl Mappings {
    /// A user of the rule's populations with the attributes the rule sends; `None` for an
    /// entry without an id.
    fn user(&self, u: &Value) -> Option<ScopeUser> {
        let id = str_of(u, "id");
        if id.is_empty() {
            return None;
        }
        Some(ScopeUser {
            idp_id: id,
            user_name: self.value(u, "userName").unwrap_or_default(),
            display_name: self.value(u, "displayName"),
            email: ["emails[type eq \"work\"].value", "emails", "email"]
                .iter()
                .find_map(|target| self.value(u, target)),
            enabled: u.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        })
    }
}

impl PingOneReader {
    pub fn new(settings: PingOneSettings) -> Result<Self, PingOneError> {
        let credentials = AppCredentials {
            token_url: format!(
                "{}/{}/as/token",
                settings.auth_url.trim_end_matches('/'),
                settings.environment_id
            ),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            scope: None,
        };
        Ok(Self {
            rest: RestClient::new(credentials, settings.attempts)
                .map_err(PingOneError::Malformed)?,
            settings,
        })
    }

    fn api(&self, path: &str) -> String {
        format!(
            "{}/environments/{}/{path}",
            self.settings.api_url.trim_end_matches('/'),
            self.settings.environment_id
        )
    }

    /// One GET, retried; `what` and `needs` name it in errors.
    async fn get(&self, url: &str, what: &str, needs: &'static str) -> Result<Value, PingOneError> {
        self.rest.get(url).await.map_err(|f| match f {
            Failure::Answered { status, body } => {
                let parsed = serde_json::from_str::<Value>(&body).ok();
                let code = parsed
                    .as_ref()
                    .map(|b| str_of(b, "code"))
                    .unwrap_or_default();
                let mut message = parsed
                    .as_ref()
                    .map(|b| str_of(b, "message"))
                    .unwrap_or_else(|| body.chars().take(200).collect());
                // PingOne puts the specifics (which role, which filter) in `details`.
                if let Some(detail) = parsed
                    .as_ref()
                    .and_then(|b| b.pointer("/details/0/message"))
                    .and_then(Value::as_str)
                {
                    message = format!("{message} {detail}");
                }
                if status == 403 {
                    PingOneError::Permission {
                        what: what.to_string(),
                        message,
                        needs,
                    }
                } else {
                    PingOneError::Call {
                        what: what.to_string(),
                        status,
                        code,
                        message,
                    }
                }
            }
            Failure::Unavailable { attempts, last } => PingOneError::Unavailable {
                what: what.to_string(),
                attempts,
                last,
            },
            Failure::Credentials(reason) => PingOneError::Credentials(reason),
            Failure::Malformed(e) => PingOneError::Malformed(format!("{what}: {e}")),
        })
    }

    /// Every item of a collection (`_embedded.<key>`), following `_links.next.href`.
    async fn all(
        &self,
        first: String,
        key: &str,
        what: &str,
        needs: &'static str,
    ) -> Result<Vec<Value>, PingOneError> {
        let mut items = Vec::new();
        self.pages(first, key, what, needs, |page, _| {
            items.extend(page.iter().cloned());
            ControlFlow::Continue(())
        })
        .await?;
        Ok(items)
    }

    /// Each page of a collection handed to `on_page` as it arrives, with the collection's
    /// `count` when PingOne gives it, so a large collection is reduced to what is needed of it
    /// page by page instead of held whole. `on_page` may break off the read.
    async fn pages(
        &self,
        first: String,
        key: &str,
        what: &str,
        needs: &'static str,
        mut on_page: impl FnMut(&[Value], Option<u64>) -> ControlFlow<()>,
    ) -> Result<(), PingOneError> {
        let mut next = Some(first);
        while let Some(url) = next {
            let page = self.get(&url, what, needs).await?;
            let count = page.get("count").and_then(Value::as_u64);
            match page.get("_embedded").and_then(|e| e.get(key)) {
                Some(Value::Array(values)) => {
                    if on_page(values, count).is_break() {
                        return Ok(());
                    }
                }
                _ => {
                    return Err(PingOneError::Malformed(format!(
                        "{what}: a page without _embedded.{key}"
                    )));
                }
            }
            let href = page
                .pointer("/_links/next/href")
                .and_then(Value::as_str)
                .map(str::to_string);
            // A next link that points back at this page would loop forever.
            if href.as_deref() == Some(url.as_str()) {
                return Err(PingOneError::Malformed(format!(
                    "{what}: the next page is the same page"
                )));
            }
            next = href;
        }
        Ok(())
    }

    /// The propagation rule that provisions Identity Center: the configured one, or the only
    /// active rule whose target is a SCIM store.
    async fn rule(&self) -> Result<Value, PingOneError> {
        let what = "the propagation rules";
        let rules = self
            .all(
                self.api("propagation/rules"),
                "rules",
                what,
                PROPAGATION_ROLE,
            )
            .await?;
        if let Some(id) = &self.settings.rule_id {
            return rules
                .into_iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str()))
                .ok_or(PingOneError::NoRule);
        }
        let stores = self
            .all(
                self.api("propagation/stores"),
                "stores",
                "the propagation stores",
                PROPAGATION_ROLE,
            )
            .await?;
        let scim: HashSet<String> = stores
            .iter()
            .filter(|s| str_of(s, "type").eq_ignore_ascii_case("scim"))
            .map(|s| str_of(s, "id"))
            .collect();
        let mut candidates: Vec<Value> = rules
            .into_iter()
            .filter(|r| r.get("active").and_then(Value::as_bool).unwrap_or(false))
            .filter(|r| {
                r.pointer("/targetStore/id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| scim.contains(id))
            })
            .collect();
        match candidates.len() {
            0 => Err(PingOneError::NoRule),
            1 => Ok(candidates.remove(0)),
            _ => Err(PingOneError::SeveralRules(
                candidates
                    .iter()
                    .map(|r| format!("{} ({})", str_of(r, "name"), str_of(r, "id")))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        }
    }

    fn ids(rule: &Value, key: &str) -> Vec<String> {
        rule.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|x| str_of(x, "id")).collect())
            .unwrap_or_default()
    }

    /// The names of the rule's groups by id, from the environment's group list (a thousand a
    /// page) when that takes fewer calls than reading the rule's groups one by one: a rule
    /// naming 10,000 of 10,000 groups costs 10 calls instead of 10,000. The first page's
    /// `count` says which; a rule naming a few of many groups gets an empty map and its groups
    /// are read one by one. A rule group the list lacks is read on its own (PingOne's answer
    /// then says what is wrong with it).
    async fn group_names(
        &self,
        wanted: &[String],
    ) -> Result<HashMap<String, String>, PingOneError> {
        const PER_PAGE: u64 = 1000;
        let mut names = HashMap::new();
        if wanted.len() < 2 {
            return Ok(names);
        }
        let wanted_ids: HashSet<&str> = wanted.iter().map(String::as_str).collect();
        let mut first = true;
        self.pages(
            self.api(&format!("groups?limit={PER_PAGE}")),
            "groups",
            "the environment's groups",
            READ_ROLE,
            |page, count| {
                let list_pages = count.unwrap_or(u64::MAX).div_ceil(PER_PAGE);
                if std::mem::take(&mut first) && list_pages >= wanted.len() as u64 {
                    return ControlFlow::Break(());
                }
                for g in page {
                    let id = str_of(g, "id");
                    if wanted_ids.contains(id.as_str()) {
                        names.insert(id, str_of(g, "name"));
                    }
                }
                ControlFlow::Continue(())
            },
        )
        .await?;
        Ok(names)
    }

    async fn read(&self) -> Result<IdpScope, PingOneError> {
        let rule = self.rule().await?;
        let rule_id = str_of(&rule, "id");
        let mappings = Mappings(
            self.all(
                self.api(&format!("propagation/rules/{rule_id}/mappings")),
                "mappings",
                "the rule's attribute mappings",
                PROPAGATION_ROLE,
            )
            .await?
            .iter()
            .map(|m| (str_of(m, "targetAttribute"), str_of(m, "sourceAttribute")))
            .collect(),
        );
        let concurrency = self.settings.concurrency.max(1);
        let filter = |expr: String| -> String {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("filter", &expr)
                .append_pair("limit", "200")
                .finish()
        };
        // The populations' users and the groups' members are read side by side, each page
        // reduced as it arrives: users to their mapped attributes, members to their slots in
        // one `ScopeBuilder`, so no member id is held twice. The lock is only ever taken
        // between awaits, never across one.
        let mappings = &mappings;
        let scope = &Mutex::new(ScopeBuilder::default());
        let populations = Self::ids(&rule, "populations");
        let users = stream::iter(populations)
            .map(|p| {
                let url = self.api(&format!(
                    "users?{}",
                    filter(format!("population.id eq \"{p}\""))
                ));
                self.pages(
                    url,
                    "users",
                    "the users of the rule's population",
                    READ_ROLE,
                    move |page, _| {
                        let mut scope = scope.lock().unwrap_or_else(PoisonError::into_inner);
                        for u in page.iter().filter_map(|u| mappings.user(u)) {
                            scope.user(u);
                        }
                        ControlFlow::Continue(())
                    },
                )
            })
            .buffer_unordered(concurrency)
            .try_collect::<()>();
        let rule_groups = Self::ids(&rule, "groups");
        let names = &self.group_names(&rule_groups).await?;
        let groups = stream::iter(rule_groups)
            .map(|g| {
                let group_url = self.api(&format!("groups/{g}"));
                let members_url = self.api(&format!(
                    "users?{}",
                    filter(format!("memberOfGroups[id eq \"{g}\"]"))
                ));
                async move {
                    let name = match names.get(&g) {
                        Some(name) => name.clone(),
                        None => str_of(
                            &self
                                .get(&group_url, "a group of the rule", READ_ROLE)
                                .await?,
                            "name",
                        ),
                    };
                    let mut members = Vec::new();
                    self.pages(
                        members_url,
                        "users",
                        &format!("the members of group {name}"),
                        READ_ROLE,
                        |page, _| {
                            let mut scope = scope.lock().unwrap_or_else(PoisonError::into_inner);
                            members.extend(page.iter().map(|m| scope.member(&str_of(m, "id"))));
                            ControlFlow::Continue(())
                        },
                    )
                    .await?;
                    Ok::<_, PingOneError>((g, name, members))
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<Vec<_>>();
        let ((), groups) = tokio::try_join!(users, groups)?;
        // Members outside the rule's populations are not provisioned: `finish` leaves them
        // out.
        let mut scope = scope.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::take(&mut *scope).finish(groups))
    }
}

impl PingOneReader {
    /// The connection as PingOne shows it: the SAML application for Identity Center (the one
    /// whose SP entity id is an Identity Center sign-in URL), its signing key's expiry and
    /// metadata URL, and the propagation rule with its SCIM store and mappings. Err only when
    /// the applications could not be listed.
    pub async fn connection(&self) -> Result<IdpConnection, PingOneError> {
        let apps = self
            .all(
                self.api("applications"),
                "applications",
                "the applications",
                PROPAGATION_ROLE,
            )
            .await?;
        let app = apps.iter().find(|a| {
            str_of(a, "protocol").eq_ignore_ascii_case("SAML")
                && str_of(a, "spEntityId").contains("signin.aws.amazon.com")
        });
        let app = match app {
            None => None,
            Some(a) => {
                let id = str_of(a, "id");
                let key = match a.pointer("/idpSigning/key/id").and_then(Value::as_str) {
                    Some(key) => Some(
                        self.get(
                            &self.api(&format!("keys/{key}")),
                            "the application's signing key",
                            PROPAGATION_ROLE,
                        )
                        .await?,
                    ),
                    None => None,
                };
                Some(IdpApp {
                    idp: "PingOne".into(),
                    name: str_of(a, "name"),
                    id: id.clone(),
                    enabled: a.get("enabled").and_then(Value::as_bool).unwrap_or(true),
                    identifiers: strings_of(a, "spEntityId"),
                    reply_urls: strings_of(a, "acsUrls"),
                    name_id_format: a
                        .get("nameIdFormat")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    signing_thumbprint: None,
                    signing_not_after: key
                        .as_ref()
                        .and_then(|k| k.get("expiresAt")?.as_str()?.parse().ok()),
                    metadata_url: Some(format!(
                        "{}/{}/saml20/metadata/{id}",
                        self.settings.auth_url.trim_end_matches('/'),
                        self.settings.environment_id
                    )),
                })
            }
        };
        let provisioning = self.propagation().await.map_err(|e| e.to_string());
        Ok(IdpConnection { app, provisioning })
    }

    /// The propagation rule, its SCIM store's user filter and sync state, and what it maps to
    /// displayName.
    async fn propagation(&self) -> Result<Provisioning, PingOneError> {
        let rule = self.rule().await?;
        let rule_id = str_of(&rule, "id");
        let mappings = self
            .all(
                self.api(&format!("propagation/rules/{rule_id}/mappings")),
                "mappings",
                "the rule's attribute mappings",
                PROPAGATION_ROLE,
            )
            .await?;
        let store = match rule.pointer("/targetStore/id").and_then(Value::as_str) {
            Some(id) => Some(
                self.get(
                    &self.api(&format!("propagation/stores/{id}")),
                    "the rule's SCIM store",
                    PROPAGATION_ROLE,
                )
                .await?,
            ),
            None => None,
        };
        let store = store.unwrap_or(Value::Null);
        Ok(Provisioning::PingOne {
            rule: str_of(&rule, "name"),
            active: rule.get("active").and_then(Value::as_bool).unwrap_or(false),
            user_filter: str_at(&store, "/configuration/USER_FILTER"),
            display_name_source: mappings
                .iter()
                .find(|m| str_of(m, "targetAttribute") == "displayName")
                .map(|m| str_of(m, "sourceAttribute")),
            sync_state: str_at(&store, "/syncStatus/syncState"),
            last_sync: store
                .pointer("/syncStatus/lastSyncAt")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok()),
            details: str_at(&store, "/syncStatus/details"),
        })
    }
}

impl IdpScopeSource for PingOneReader {
    type Error = PingOneError;

    /// The users and groups the Identity Center rule provisions. Cancelling stops the read
    /// where it is.
    async fn read_scope(&self, cancel: &CancellationToken) -> Result<IdpScope, PingOneError> {
        tokio::select! {
            () = cancel.cancelled() => Err(PingOneError::Cancelled),
            scope = self.read() => scope,
        }
    }
}
