//! Entra ID's provisioning scope for the "AWS IAM Identity Center" enterprise app, read through
//! Microsoft Graph v1.0: the users and groups assigned to the app (`appRoleAssignedTo`), groups
//! expanded through their members, with the attributes the app maps. That is what Identity
//! Center should hold, so drift compares it with a snapshot.
//!
//! The app token comes from the client-credentials grant (the `oauth2` crate) and is reused
//! until five minutes before it expires. Every Graph call is retried with backoff and jitter on
//! 429, 5xx and transport errors, honouring `Retry-After` ([`crate::rest`]). Pages follow
//! `@odata.nextLink`. Only the base URLs differ for the sandbox.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use domain::connection::{IdpApp, Provisioning};
use domain::scope::{IdpScope, ScopeGroup, ScopeUser};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::rest::{AppCredentials, Failure, RestClient, str_at, str_of, strings_of};
use crate::scope::{IdpConnection, IdpScopeSource};

/// The scope of an app token for Graph.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Where and how to reach the tenant.
#[derive(Clone)]
pub struct EntraSettings {
    /// Directory (tenant) id, or a verified domain.
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// `https://login.microsoftonline.com` (the sandbox: `http://127.0.0.1:4510/login`).
    pub login_url: String,
    /// `https://graph.microsoft.com` (the sandbox: `http://127.0.0.1:4510/graph`).
    pub graph_url: String,
    /// The enterprise app's display name.
    pub app_display_name: String,
    /// Group member pages read at once.
    pub concurrency: usize,
    /// Attempts per Graph call (first try included).
    pub attempts: usize,
}

impl std::fmt::Debug for EntraSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraSettings")
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("login_url", &self.login_url)
            .field("graph_url", &self.graph_url)
            .field("app_display_name", &self.app_display_name)
            .finish_non_exhaustive()
    }
}

impl EntraSettings {
    /// Entra's public endpoints, the gallery app's name, sixteen member reads at once (with
    /// Graph's ~100 ms per call, what it takes to reach 150 calls/s; see BENCHMARKS.md).
    pub fn new(tenant: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            tenant: tenant.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            login_url: "https://login.microsoftonline.com".into(),
            graph_url: "https://graph.microsoft.com".into(),
            app_display_name: "AWS IAM Identity Center".into(),
            concurrency: 16,
            attempts: 6,
        }
    }
}

/// What went wrong, in words an admin can act on.
/// A group named by id, with its display name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupRef {
    pub id: String,
    pub display_name: String,
}

/// A person named by directory id, with the names a console shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersonRef {
    pub id: String,
    pub display_name: String,
    pub user_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EntraError {
    #[error(
        "Entra ID refused the app's credentials ({0}); check the tenant, client id and client secret (secrets expire: make a new one under Certificates & secrets)"
    )]
    Credentials(String),
    #[error(
        "Microsoft Graph refused {what}: {message}; grant the app the application permission {needs} and give admin consent"
    )]
    Permission {
        what: String,
        message: String,
        needs: &'static str,
    },
    #[error("no enterprise application named {0:?} in the tenant; set the app's display name")]
    NoApp(String),
    #[error("Microsoft Graph answered {what} with HTTP {status} {code}: {message}")]
    Call {
        what: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("Microsoft Graph did not answer {what} after {attempts} attempts: {last}")]
    Unavailable {
        what: String,
        attempts: usize,
        last: String,
    },
    #[error("Microsoft Graph sent something that is not what its reference describes ({0})")]
    Malformed(String),
    #[error("the read was cancelled")]
    Cancelled,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphErrorDetail,
}

#[derive(Deserialize)]
struct GraphErrorDetail {
    code: String,
    message: String,
}

/// Reads the provisioning scope of the Identity Center app.
pub struct EntraReader {
    settings: EntraSettings,
    rest: RestClient,
}

impl std::fmt::Debug for EntraReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraReader")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The properties read for each member (what the app's mappings use).
const USER_SELECT: &str = "id,userPrincipalName,displayName,mail,accountEnabled";

impl EntraReader {
    pub fn new(settings: EntraSettings) -> Result<Self, EntraError> {
        let credentials = AppCredentials {
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                settings.login_url.trim_end_matches('/'),
                settings.tenant
            ),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            scope: Some(GRAPH_SCOPE.into()),
        };
        Ok(Self {
            rest: RestClient::new(credentials, settings.attempts).map_err(EntraError::Malformed)?,
            settings,
        })
    }

    /// One Graph GET (absolute URL), retried; `what` and `needs` name it in errors.
    async fn get(&self, url: &str, what: &str, needs: &'static str) -> Result<Value, EntraError> {
        self.rest.get(url).await.map_err(|f| match f {
            Failure::Answered { status, body } => {
                let (code, message) = serde_json::from_str::<GraphErrorBody>(&body)
                    .map(|b| (b.error.code, b.error.message))
                    .unwrap_or_else(|_| (String::new(), body.chars().take(200).collect()));
                if status == 403 {
                    EntraError::Permission {
                        what: what.to_string(),
                        message,
                        needs,
                    }
                } else {
                    EntraError::Call {
                        what: what.to_string(),
                        status,
                        code,
                        message,
                    }
                }
            }
            Failure::Unavailable { attempts, last } => EntraError::Unavailable {
                what: what.to_string(),
                attempts,
                last,
            },
            Failure::Credentials(reason) => EntraError::Credentials(reason),
            Failure::Malformed(e) => EntraError::Malformed(format!("{what}: {e}")),
        })
    }

    /// Every item of a collection, following `@odata.nextLink`.
    async fn all(
        &self,
        first: String,
        what: &str,
        needs: &'static str,
    ) -> Result<Vec<Value>, EntraError> {
        let mut items = Vec::new();
        self.pages(first, what, needs, |values| {
            items.extend(values.iter().cloned())
        })
        .await?;
        Ok(items)
    }

    /// Each page of a collection handed to `on_page` as it arrives, following
    /// `@odata.nextLink`, so a large collection is never held whole.
    async fn pages(
        &self,
        first: String,
        what: &str,
        needs: &'static str,
        mut on_page: impl FnMut(&[Value]),
    ) -> Result<(), EntraError> {
        let mut next = Some(first);
        while let Some(url) = next {
            let page = self.get(&url, what, needs).await?;
            match page.get("value").and_then(Value::as_array) {
                Some(values) => on_page(values),
                None => {
                    return Err(EntraError::Malformed(format!(
                        "{what}: a page without value"
                    )));
                }
            }
            next = page
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        Ok(())
    }

    /// The groups a user belongs to, directly or through nested groups (id and display name):
    /// what an ID token lists in `groups`, read when it could not (Entra's groups overage).
    pub async fn groups_of(&self, user_id: &str) -> Result<Vec<GroupRef>, EntraError> {
        self.directory_groups(user_id, "transitiveMemberOf", "GroupMember.Read.All")
            .await
    }

    /// The groups a user owns (id and display name): a team lead's teams.
    pub async fn groups_owned_by(&self, user_id: &str) -> Result<Vec<GroupRef>, EntraError> {
        self.directory_groups(user_id, "ownedObjects", "User.Read.All")
            .await
    }

    /// The people who own a group (its team leads), users only: a service principal may own
    /// a group too, and is nobody's lead.
    pub async fn owners_of(&self, group_id: &str) -> Result<Vec<PersonRef>, EntraError> {
        let group: String = form_urlencoded::byte_serialize(group_id.as_bytes()).collect();
        let owners = self
            .all(
                self.graph(&format!(
                    "groups/{group}/owners?$select=id,displayName,userPrincipalName&$top=999"
                )),
                &format!("the owners of group {group_id}"),
                "GroupMember.Read.All",
            )
            .await?;
        Ok(owners
            .iter()
            .filter(|o| {
                o.get("@odata.type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "#microsoft.graph.user")
            })
            .filter_map(|o| {
                Some(PersonRef {
                    id: o.get("id")?.as_str()?.to_string(),
                    display_name: str_of(o, "displayName"),
                    user_name: str_of(o, "userPrincipalName"),
                })
            })
            .collect())
    }

    /// The groups among a user's `relation` (directory objects of any type; only groups kept,
    /// without an OData cast, which would need advanced queries).
    async fn directory_groups(
        &self,
        user_id: &str,
        relation: &str,
        needs: &'static str,
    ) -> Result<Vec<GroupRef>, EntraError> {
        let user: String = form_urlencoded::byte_serialize(user_id.as_bytes()).collect();
        let objects = self
            .all(
                self.graph(&format!(
                    "users/{user}/{relation}?$select=id,displayName&$top=999"
                )),
                &format!("the {relation} of user {user_id}"),
                needs,
            )
            .await?;
        Ok(objects
            .iter()
            .filter(|o| {
                o.get("@odata.type").and_then(Value::as_str) == Some("#microsoft.graph.group")
            })
            .filter_map(|g| {
                Some(GroupRef {
                    id: g.get("id")?.as_str()?.to_string(),
                    display_name: str_of(g, "displayName"),
                })
            })
            .collect())
    }

    fn graph(&self, path: &str) -> String {
        format!(
            "{}/v1.0/{path}",
            self.settings.graph_url.trim_end_matches('/')
        )
    }

    async fn read(&self) -> Result<IdpScope, EntraError> {
        let sp_id = self
            .service_principal()
            .await?
            .as_ref()
            .and_then(|sp| sp.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| EntraError::NoApp(self.settings.app_display_name.clone()))?
            .to_string();
        let assignments = self
            .all(
                self.graph(&format!(
                    "servicePrincipals/{sp_id}/appRoleAssignedTo?$top=999"
                )),
                "the app's assignments",
                "Application.Read.All",
            )
            .await?;
        let mut group_refs: Vec<(String, String)> = Vec::new();
        let mut direct_users: Vec<String> = Vec::new();
        for a in &assignments {
            let kind = a.get("principalType").and_then(Value::as_str);
            let id = a.get("principalId").and_then(Value::as_str);
            let name = a
                .get("principalDisplayName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match (kind, id) {
                (Some("Group"), Some(id)) => group_refs.push((id.to_string(), name.to_string())),
                (Some("User"), Some(id)) => direct_users.push(id.to_string()),
                _ => {}
            }
        }
        let concurrency = self.settings.concurrency.max(1);
        // Each page of members is reduced to ids as it arrives (a user's attributes kept once),
        // so the million member objects of a large tenant never exist at once.
        let users = Mutex::new(ScopeUsers::default());
        let users = &users;
        let scope_groups: Vec<ScopeGroup> = stream::iter(group_refs)
            .map(|(id, name)| async move {
                let mut members = Vec::new();
                self.pages(
                    self.graph(&format!(
                        "groups/{id}/members?$select={USER_SELECT}&$top=999"
                    )),
                    &format!("the members of group {name}"),
                    "GroupMember.Read.All",
                    |page| {
                        let mut users = users.lock().unwrap_or_else(PoisonError::into_inner);
                        members.extend(page.iter().filter_map(|u| users.add(u)));
                    },
                )
                .await?;
                Ok::<_, EntraError>(ScopeGroup {
                    idp_id: id,
                    display_name: name,
                    members,
                })
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let mut users = std::mem::take(&mut *users.lock().unwrap_or_else(PoisonError::into_inner));
        for id in direct_users {
            let user = self
                .get(
                    &self.graph(&format!("users/{id}?$select={USER_SELECT}")),
                    "an assigned user",
                    "User.Read.All",
                )
                .await?;
            users.add(&user);
        }
        Ok(IdpScope {
            users: users.users,
            groups: scope_groups,
        })
    }
}

impl EntraReader {
    /// The enterprise app's id for the configured display name, or None when the tenant has
    /// no such app.
    async fn service_principal(&self) -> Result<Option<Value>, EntraError> {
        let name = self.settings.app_display_name.replace('\'', "''");
        let filter: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("$filter", &format!("displayName eq '{name}'"))
            .finish();
        Ok(self
            .all(
                self.graph(&format!("servicePrincipals?{filter}")),
                "the enterprise application",
                "Application.Read.All",
            )
            .await?
            .into_iter()
            .next())
    }

    /// The connection as Entra shows it: the enterprise app (its SAML identifiers, reply URLs,
    /// signing certificate and metadata URL) and its provisioning job. Err only when the app
    /// itself could not be read; a job that cannot be read is the provisioning's own Err.
    pub async fn connection(&self) -> Result<IdpConnection, EntraError> {
        let Some(sp) = self.service_principal().await? else {
            return Ok(IdpConnection {
                app: None,
                provisioning: Err(format!(
                    "no enterprise application named {:?}",
                    self.settings.app_display_name
                )),
            });
        };
        let id = str_of(&sp, "id");
        let app_id = str_of(&sp, "appId");
        let thumbprint = sp
            .get("preferredTokenSigningKeyThumbprint")
            .and_then(Value::as_str)
            .map(str::to_string);
        let signing_not_after = sp
            .get("keyCredentials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|k| str_of(k, "usage") == "Verify" || str_of(k, "usage") == "Sign")
            .filter(|k| {
                thumbprint
                    .as_deref()
                    .is_none_or(|t| str_of(k, "customKeyIdentifier").eq_ignore_ascii_case(t))
            })
            .filter_map(|k| k.get("endDateTime")?.as_str()?.parse().ok())
            .max();
        let app = IdpApp {
            idp: "Entra ID".into(),
            name: str_of(&sp, "displayName"),
            id: id.clone(),
            enabled: sp
                .get("accountEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            identifiers: strings_of(&sp, "servicePrincipalNames")
                .into_iter()
                .filter(|n| n != &app_id)
                .collect(),
            reply_urls: strings_of(&sp, "replyUrls"),
            name_id_format: None,
            signing_thumbprint: thumbprint,
            signing_not_after,
            metadata_url: Some(format!(
                "{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={app_id}",
                self.settings.login_url.trim_end_matches('/'),
                self.settings.tenant
            )),
        };
        let provisioning = self
            .all(
                self.graph(&format!("servicePrincipals/{id}/synchronization/jobs")),
                "the app's provisioning jobs",
                "Synchronization.Read.All",
            )
            .await
            .map_err(|e| e.to_string())
            .and_then(|jobs| {
                jobs.iter()
                    .find(|j| str_of(j, "templateId").eq_ignore_ascii_case("AWSSCIM"))
                    .or(jobs.first())
                    .map(job)
                    .ok_or_else(|| {
                        "provisioning is not configured for the app (no synchronization job)"
                            .to_string()
                    })
            });
        Ok(IdpConnection {
            app: Some(app),
            provisioning,
        })
    }
}

/// A synchronization job as the checklist judges it.
fn job(j: &Value) -> Provisioning {
    let status = j.get("status").cloned().unwrap_or(Value::Null);
    let ended = |key: &str| -> Option<chrono::DateTime<chrono::Utc>> {
        status.get(key)?.get("timeEnded")?.as_str()?.parse().ok()
    };
    Provisioning::Entra {
        job_id: str_of(j, "id"),
        code: str_of(&status, "code"),
        last_successful: ended("lastSuccessfulExecution"),
        last_run: ended("lastExecution"),
        last_error: str_at(&status, "/lastExecution/error/message"),
        quarantine_reason: str_at(&status, "/quarantine/reason"),
        successive_failures: status
            .get("countSuccessiveCompleteFailures")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    }
}

/// The users of the scope, each once, as member pages arrive.
#[derive(Default)]
struct ScopeUsers {
    users: Vec<ScopeUser>,
    /// IdP id → position in `users`.
    at: HashMap<String, u32>,
}

impl ScopeUsers {
    /// Keeps a member's attributes the first time it is seen; its position among the scope's
    /// users, or `None` for members that are not users (devices, contacts, nested groups: only
    /// users are provisioned).
    fn add(&mut self, u: &Value) -> Option<u32> {
        if u.get("@odata.type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "#microsoft.graph.user")
        {
            return None;
        }
        let id = u.get("id")?.as_str()?;
        if let Some(&at) = self.at.get(id) {
            return Some(at);
        }
        let at = self.users.len() as u32;
        self.at.insert(id.to_string(), at);
        self.users.push(ScopeUser {
            idp_id: id.to_string(),
            user_name: str_of(u, "userPrincipalName"),
            display_name: Some(str_of(u, "displayName")),
            email: u.get("mail").and_then(Value::as_str).map(str::to_string),
            enabled: u
                .get("accountEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        });
        Some(at)
    }
}

impl IdpScopeSource for EntraReader {
    type Error = EntraError;

    /// The users and groups in the app's provisioning scope (assigned users, assigned groups
    /// and their user members, each user once). Cancelling stops the read where it is.
    async fn read_scope(&self, cancel: &CancellationToken) -> Result<IdpScope, EntraError> {
        tokio::select! {
            () = cancel.cancelled() => Err(EntraError::Cancelled),
            scope = self.read() => scope,
        }
    }
}
