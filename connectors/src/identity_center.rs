//! Reads IAM Identity Center into a snapshot with the official SDK clients: the instance, the seat
//! product's application (Q Developer's QDefaultProfile) and its assignments, every user, group
//! and membership.
//!
//! Calls are paced per API at the documented quotas (20 requests/s per Identity Store operation,
//! 20/s for all of SSO Admin): users, groups and assignments are listed side by side, then the
//! members of each group with several groups in flight, so the longest API (ListGroupMemberships,
//! at least one call per group) runs at its quota from start to end. Attempts that fail (throttled,
//! 5xx, dropped, timed out) are retried by the SDK (standard mode: backoff with jitter); a throttled
//! attempt also slows that API's pace. A read either returns a complete, consistent snapshot or an
//! error naming the call that failed — never a partial snapshot.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_sdk_identitystore::types::MemberId;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use domain::snapshot::{
    Assignment, Focus, Group, PrincipalKind, Snapshot, SnapshotError, User, UserStatus,
};
use futures_util::{StreamExt, TryStreamExt};
use tokio_util::sync::CancellationToken;

use crate::pace::Pace;
use crate::progress::{Progress, ProgressView};

/// The application provider of Amazon Q Developer (and the default seat product).
pub const Q_DEVELOPER_PROVIDER: &str = "arn:aws:sso::aws:applicationProvider/codewhisperer";

/// Where and how to reach Identity Center.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    /// Another endpoint than AWS's (the sandbox); None for AWS.
    pub endpoint_url: Option<String>,
    /// Fixed keys (the sandbox's); None for the standard credential chain (environment,
    /// profile, web identity, container, instance metadata).
    pub static_keys: Option<(String, String)>,
    /// Requests per second per Identity Store operation (AWS: 20).
    pub identitystore_per_second: u32,
    /// Requests per second for all of SSO Admin (AWS: 20).
    pub ssoadmin_per_second: u32,
    /// Groups whose members are read at the same time.
    pub concurrency: usize,
    /// The seat product's application provider.
    pub application_provider: String,
}

impl Settings {
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            endpoint_url: None,
            static_keys: None,
            identitystore_per_second: 20,
            ssoadmin_per_second: 20,
            concurrency: 8,
            application_provider: Q_DEVELOPER_PROVIDER.into(),
        }
    }
}

/// What a read could not do.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{operation} failed: {message}")]
    Call {
        operation: &'static str,
        message: String,
    },
    #[error(
        "no IAM Identity Center instance is visible to these credentials; check the region and that the credentials belong to the organisation's management (or delegated administrator) account"
    )]
    NoInstance,
    #[error("the read was cancelled")]
    Cancelled,
    #[error(
        "what was read does not fit together ({0}); the directory changed during the read, try again"
    )]
    Inconsistent(#[from] SnapshotError),
}

fn call_error<E>(operation: &'static str, e: E) -> ReadError
where
    E: std::error::Error,
{
    ReadError::Call {
        operation,
        message: DisplayErrorContext(&e).to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub instance_arn: String,
    pub identity_store_id: String,
    pub name: Option<String>,
    pub owner_account_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub application_arn: String,
    pub name: String,
}

/// One complete read.
#[derive(Debug, Clone)]
pub struct Read {
    pub instance: Instance,
    /// None when no application of the configured provider exists (no subscription yet).
    pub application: Option<Application>,
    pub snapshot: Snapshot,
}

/// Reads Identity Center. Implemented over HTTP by [`Reader`]; the sandbox serves the same
/// protocol, so tests use the same implementation.
pub trait IdentityCenterSource {
    fn read(
        &self,
        cancel: &CancellationToken,
    ) -> impl Future<Output = Result<Read, ReadError>> + Send;
    /// A focused read: only the seat product's assignments and its assigned groups' members,
    /// laid over `current` (see [`Snapshot::refocused`]).
    fn read_focused(
        &self,
        current: &Snapshot,
        cancel: &CancellationToken,
    ) -> impl Future<Output = Result<Read, ReadError>> + Send;
    fn progress(&self) -> ProgressView;
}

/// Sees every attempt: counts it and tells the API's pace about throttling and success.
#[derive(Debug)]
struct Observer {
    pace: Arc<Pace>,
    progress: Arc<Progress>,
}

impl Intercept for Observer {
    fn name(&self) -> &'static str {
        "tessera-pace"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (status, error_type) = match context.response() {
            Some(r) => (
                Some(r.status().as_u16()),
                r.headers()
                    .get("x-amzn-errortype")
                    .unwrap_or_default()
                    .to_string(),
            ),
            None => (None, String::new()),
        };
        let throttled = status == Some(429) || error_type.starts_with("ThrottlingException");
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        if throttled {
            self.pace.throttled();
        } else if ok {
            self.pace.succeeded();
        }
        self.progress.attempt(throttled, !ok);
        Ok(())
    }
}

/// The paced clients, one Identity Store client per operation so each has its own pace.
pub struct Reader {
    settings: Settings,
    list_users: (aws_sdk_identitystore::Client, Arc<Pace>),
    list_groups: (aws_sdk_identitystore::Client, Arc<Pace>),
    list_memberships: (aws_sdk_identitystore::Client, Arc<Pace>),
    ssoadmin: (aws_sdk_ssoadmin::Client, Arc<Pace>),
    progress: Arc<Progress>,
}

impl Reader {
    /// Resolves credentials and builds the clients (no call is made yet).
    pub async fn connect(settings: Settings) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(settings.region.clone()))
            .http_client(http)
            .retry_config(RetryConfig::standard().with_max_attempts(6));
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((key, secret)) = &settings.static_keys {
            loader = loader.credentials_provider(Credentials::from_keys(key, secret, None));
        }
        let shared = loader.load().await;
        let progress = Arc::new(Progress::default());
        let identitystore = |per_second: u32| {
            let pace = Arc::new(Pace::per_second(per_second));
            let config = aws_sdk_identitystore::config::Builder::from(&shared)
                .interceptor(Observer {
                    pace: pace.clone(),
                    progress: progress.clone(),
                })
                .build();
            (aws_sdk_identitystore::Client::from_conf(config), pace)
        };
        let list_users = identitystore(settings.identitystore_per_second);
        let list_groups = identitystore(settings.identitystore_per_second);
        let list_memberships = identitystore(settings.identitystore_per_second);
        let sso_pace = Arc::new(Pace::per_second(settings.ssoadmin_per_second));
        let sso_config = aws_sdk_ssoadmin::config::Builder::from(&shared)
            .interceptor(Observer {
                pace: sso_pace.clone(),
                progress: progress.clone(),
            })
            .build();
        Self {
            ssoadmin: (aws_sdk_ssoadmin::Client::from_conf(sso_config), sso_pace),
            list_users,
            list_groups,
            list_memberships,
            progress,
            settings,
        }
    }

    async fn instance(&self) -> Result<Instance, ReadError> {
        let (client, pace) = &self.ssoadmin;
        pace.turn().await;
        let out = client
            .list_instances()
            .send()
            .await
            .map_err(|e| call_error("ListInstances", e))?;
        self.progress.page();
        let first = out.instances().first().ok_or(ReadError::NoInstance)?;
        Ok(Instance {
            instance_arn: first.instance_arn().unwrap_or_default().to_string(),
            identity_store_id: first.identity_store_id().unwrap_or_default().to_string(),
            name: first.name().map(str::to_string),
            owner_account_id: first.owner_account_id().map(str::to_string),
        })
    }

    async fn application(&self, instance: &Instance) -> Result<Option<Application>, ReadError> {
        let (client, pace) = &self.ssoadmin;
        let mut token: Option<String> = None;
        let mut found = Vec::new();
        loop {
            pace.turn().await;
            let out = client
                .list_applications()
                .instance_arn(&instance.instance_arn)
                .filter(
                    aws_sdk_ssoadmin::types::ListApplicationsFilter::builder()
                        .application_provider(&self.settings.application_provider)
                        .build(),
                )
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("ListApplications", e))?;
            self.progress.page();
            for app in out.applications() {
                if app.application_provider_arn()
                    == Some(self.settings.application_provider.as_str())
                {
                    found.push(Application {
                        application_arn: app.application_arn().unwrap_or_default().to_string(),
                        name: app.name().unwrap_or_default().to_string(),
                    });
                }
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        // Q Developer's application is QDefaultProfile; prefer it when the provider has several.
        let preferred = found
            .iter()
            .position(|a| a.name == "QDefaultProfile")
            .unwrap_or(0);
        Ok((!found.is_empty()).then(|| found.swap_remove(preferred)))
    }

    async fn assignments(
        &self,
        application: Option<&Application>,
    ) -> Result<Vec<Assignment>, ReadError> {
        let Some(application) = application else {
            return Ok(Vec::new());
        };
        let (client, pace) = &self.ssoadmin;
        let mut token: Option<String> = None;
        let mut assignments = Vec::new();
        loop {
            pace.turn().await;
            let out = client
                .list_application_assignments()
                .application_arn(&application.application_arn)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("ListApplicationAssignments", e))?;
            self.progress.page();
            for a in out.application_assignments() {
                let kind = match a.principal_type() {
                    aws_sdk_ssoadmin::types::PrincipalType::User => PrincipalKind::User,
                    _ => PrincipalKind::Group,
                };
                assignments.push(Assignment {
                    kind,
                    principal_id: a.principal_id().to_string(),
                });
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        Ok(assignments)
    }

    async fn users(&self, store: &str) -> Result<Vec<User>, ReadError> {
        let (client, pace) = &self.list_users;
        let mut token: Option<String> = None;
        let mut users = Vec::new();
        loop {
            pace.turn().await;
            let out = client
                .list_users()
                .identity_store_id(store)
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("ListUsers", e))?;
            self.progress.page();
            self.progress.users_read(out.users().len());
            users.extend(out.users().iter().map(user_of));
            match out.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        Ok(users)
    }

    async fn groups(&self, store: &str) -> Result<Vec<Group>, ReadError> {
        let (client, pace) = &self.list_groups;
        let mut token: Option<String> = None;
        let mut groups = Vec::new();
        loop {
            pace.turn().await;
            let out = client
                .list_groups()
                .identity_store_id(store)
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("ListGroups", e))?;
            self.progress.page();
            self.progress.groups_listed(out.groups().len());
            groups.extend(out.groups().iter().map(|g| Group {
                id: g.group_id().to_string(),
                display_name: g.display_name().unwrap_or_default().to_string(),
                external_id: g.external_ids().first().map(|e| e.id().to_string()),
            }));
            match out.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        Ok(groups)
    }

    /// The members of one group, as numbers given by `interner` (each user id is kept once, not
    /// once per membership: at a million memberships the strings alone would hold 70 MB).
    async fn members(
        &self,
        store: &str,
        group: &str,
        interner: &Mutex<HashMap<String, u32>>,
    ) -> Result<Vec<u32>, ReadError> {
        let (client, pace) = &self.list_memberships;
        let mut token: Option<String> = None;
        let mut members = Vec::new();
        loop {
            pace.turn().await;
            let out = client
                .list_group_memberships()
                .identity_store_id(store)
                .group_id(group)
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("ListGroupMemberships", e))?;
            self.progress.page();
            let mut ids = interner.lock().unwrap_or_else(PoisonError::into_inner);
            for m in out.group_memberships() {
                // Members are always users in the Identity Store (no nested groups).
                if let Some(MemberId::UserId(user)) = m.member_id() {
                    let next = ids.len() as u32;
                    members.push(*ids.entry(user.clone()).or_insert(next));
                }
            }
            drop(ids);
            match out.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        self.progress.group_done(members.len());
        Ok(members)
    }

    async fn read_all(&self) -> Result<Read, ReadError> {
        self.progress.set_phase("instance");
        let instance = self.instance().await?;
        self.progress.set_phase("application");
        let application = self.application(&instance).await?;
        self.progress.set_phase("directory");
        let store = instance.identity_store_id.as_str();
        let interner = Mutex::new(HashMap::<String, u32>::new());
        let interner_ref = &interner;
        let groups_and_members = async {
            let mut groups = self.groups(store).await?;
            groups.sort_unstable_by(|a, b| a.id.cmp(&b.id));
            let ids: Vec<(u32, String)> = groups
                .iter()
                .enumerate()
                .map(|(i, g)| (i as u32, g.id.clone()))
                .collect();
            let memberships: Vec<(u32, Vec<u32>)> = futures_util::stream::iter(ids)
                .map(|(at, id)| async move {
                    let members = self.members(store, &id, interner_ref).await?;
                    Ok::<_, ReadError>((at, members))
                })
                .buffer_unordered(self.settings.concurrency.max(1))
                .try_collect()
                .await?;
            Ok::<_, ReadError>((groups, memberships))
        };
        let (users, (groups, memberships), assignments) = tokio::try_join!(
            self.users(store),
            groups_and_members,
            self.assignments(application.as_ref()),
        )?;
        self.progress.set_phase("assembling");
        let snapshot = assemble(
            users,
            groups,
            memberships,
            interner
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
            assignments,
        )?;
        self.progress.set_phase("done");
        Ok(Read {
            instance,
            application,
            snapshot,
        })
    }
}

impl Reader {
    /// A user by id, or None when Identity Center has none (deleted since it was referenced).
    async fn describe_user(&self, store: &str, id: &str) -> Result<Option<User>, ReadError> {
        // DescribeUser has its own quota; pacing it with ListUsers' keeps it under it too.
        let (client, pace) = &self.list_users;
        pace.turn().await;
        match client
            .describe_user()
            .identity_store_id(store)
            .user_id(id)
            .send()
            .await
        {
            Ok(u) => Ok(Some(user_from(UserParts {
                id: u.user_id(),
                user_name: u.user_name(),
                display_name: u.display_name(),
                name: u.name(),
                emails: u.emails(),
                status: u.user_status(),
                external_ids: u.external_ids(),
            }))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(call_error("DescribeUser", e)),
        }
    }

    /// A group by id, or None when Identity Center has none.
    async fn describe_group(&self, store: &str, id: &str) -> Result<Option<Group>, ReadError> {
        let (client, pace) = &self.list_groups;
        pace.turn().await;
        match client
            .describe_group()
            .identity_store_id(store)
            .group_id(id)
            .send()
            .await
        {
            Ok(g) => Ok(Some(Group {
                id: g.group_id().to_string(),
                display_name: g.display_name().unwrap_or_default().to_string(),
                external_id: g.external_ids().first().map(|e| e.id().to_string()),
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(call_error("DescribeGroup", e)),
        }
    }

    /// What decides seats, laid over `current`: the seat product's assignments and the members
    /// of each assigned group; users and groups met that `current` lacks are described one by
    /// one. An assigned group that no longer exists keeps its (dangling) assignment.
    async fn read_focus(&self, current: &Snapshot) -> Result<Read, ReadError> {
        self.progress.set_phase("instance");
        let instance = self.instance().await?;
        self.progress.set_phase("application");
        let application = self.application(&instance).await?;
        let store = instance.identity_store_id.as_str();
        self.progress.set_phase("assignments");
        let assignments = self.assignments(application.as_ref()).await?;
        self.progress.set_phase("seat groups");
        let concurrency = self.settings.concurrency.max(1);
        let assigned = |kind: PrincipalKind| {
            assignments
                .iter()
                .filter(move |a| a.kind == kind)
                .map(|a| a.principal_id.clone())
        };
        let mut new_groups = Vec::new();
        let mut groups = Vec::new();
        for id in assigned(PrincipalKind::Group) {
            if current.group(&id).is_some() {
                groups.push(id);
            } else if let Some(g) = self.describe_group(store, &id).await? {
                groups.push(id);
                new_groups.push(g);
            }
        }
        let interner = Mutex::new(HashMap::<String, u32>::new());
        let interner_ref = &interner;
        let read: Vec<(String, Vec<u32>)> = futures_util::stream::iter(groups)
            .map(|id| async move {
                let members = self.members(store, &id, interner_ref).await?;
                Ok::<_, ReadError>((id, members))
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let interned = interner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut names = vec![String::new(); interned.len()];
        for (id, n) in interned {
            names[n as usize] = id;
        }
        let mut unknown: Vec<String> = names
            .iter()
            .cloned()
            .chain(assigned(PrincipalKind::User))
            .filter(|id| current.user(id).is_none())
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        self.progress.set_phase("new users");
        let new_users: Vec<User> = futures_util::stream::iter(unknown)
            .map(|id| async move { self.describe_user(store, &id).await })
            .buffer_unordered(concurrency)
            .try_filter_map(|u| async move { Ok(u) })
            .try_collect()
            .await?;
        let members = read
            .into_iter()
            .map(|(g, ms)| (g, ms.iter().map(|&n| names[n as usize].clone()).collect()))
            .collect();
        self.progress.set_phase("assembling");
        let snapshot = current.refocused(Focus {
            new_users,
            new_groups,
            members,
            assignments,
        })?;
        self.progress.set_phase("done");
        Ok(Read {
            instance,
            application,
            snapshot,
        })
    }
}

/// The snapshot from what was read: groups sorted by id with memberships by group position and
/// interned member number. Every member must be among the users read.
fn assemble(
    mut users: Vec<User>,
    groups: Vec<Group>,
    memberships: Vec<(u32, Vec<u32>)>,
    interned: HashMap<String, u32>,
    assignments: Vec<Assignment>,
) -> Result<Snapshot, ReadError> {
    users.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let user_at: HashMap<&str, u32> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.as_str(), i as u32))
        .collect();
    let mut position = vec![None; interned.len()];
    let mut name = vec![""; interned.len()];
    for (id, &n) in &interned {
        position[n as usize] = user_at.get(id.as_str()).copied();
        name[n as usize] = id.as_str();
    }
    let mut pairs = Vec::with_capacity(memberships.iter().map(|(_, m)| m.len()).sum());
    for (group, members) in &memberships {
        for &member in members {
            match position[member as usize] {
                Some(user) => pairs.push((*group, user)),
                None => {
                    return Err(ReadError::Inconsistent(SnapshotError::UnknownMember {
                        group: groups[*group as usize].id.clone(),
                        user: name[member as usize].to_string(),
                    }));
                }
            }
        }
    }
    drop(user_at);
    Ok(Snapshot::from_positions(users, groups, pairs, assignments)?)
}

fn user_of(u: &aws_sdk_identitystore::types::User) -> User {
    user_from(UserParts {
        id: u.user_id(),
        user_name: u.user_name(),
        display_name: u.display_name(),
        name: u.name(),
        emails: u.emails(),
        status: u.user_status(),
        external_ids: u.external_ids(),
    })
}

/// The fields of a user as ListUsers and DescribeUser give them.
struct UserParts<'a> {
    id: &'a str,
    user_name: Option<&'a str>,
    display_name: Option<&'a str>,
    name: Option<&'a aws_sdk_identitystore::types::Name>,
    emails: &'a [aws_sdk_identitystore::types::Email],
    status: Option<&'a aws_sdk_identitystore::types::UserStatus>,
    external_ids: &'a [aws_sdk_identitystore::types::ExternalId],
}

fn user_from(u: UserParts<'_>) -> User {
    let email = u
        .emails
        .iter()
        .find(|e| e.primary())
        .or_else(|| u.emails.first())
        .and_then(|e| e.value())
        .map(str::to_string);
    User {
        id: u.id.to_string(),
        user_name: u.user_name.unwrap_or_default().to_string(),
        display_name: u.display_name.unwrap_or_default().to_string(),
        given_name: u
            .name
            .and_then(|n| n.given_name())
            .unwrap_or_default()
            .to_string(),
        family_name: u
            .name
            .and_then(|n| n.family_name())
            .unwrap_or_default()
            .to_string(),
        email,
        status: match u.status {
            Some(aws_sdk_identitystore::types::UserStatus::Disabled) => UserStatus::Disabled,
            _ => UserStatus::Enabled,
        },
        external_id: u.external_ids.first().map(|e| e.id().to_string()),
    }
}

impl Reader {
    /// Runs one read from a fresh progress until it ends or `cancel` fires.
    async fn cancellable(
        &self,
        cancel: &CancellationToken,
        read: impl Future<Output = Result<Read, ReadError>>,
    ) -> Result<Read, ReadError> {
        self.progress.reset();
        tokio::select! {
            () = cancel.cancelled() => {
                self.progress.set_phase("cancelled");
                Err(ReadError::Cancelled)
            }
            read = read => {
                if read.is_err() {
                    self.progress.set_phase("failed");
                }
                read
            }
        }
    }
}

impl IdentityCenterSource for Reader {
    async fn read(&self, cancel: &CancellationToken) -> Result<Read, ReadError> {
        self.cancellable(cancel, self.read_all()).await
    }

    async fn read_focused(
        &self,
        current: &Snapshot,
        cancel: &CancellationToken,
    ) -> Result<Read, ReadError> {
        self.cancellable(cancel, self.read_focus(current)).await
    }

    fn progress(&self) -> ProgressView {
        self.progress.view(self.list_memberships.1.rate())
    }
}
