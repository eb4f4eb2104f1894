//! What each page and server function requires of its caller, declared in one place and
//! enforced by the server before a request reaches the page or function. A server function
//! missing here is refused for everyone (and the access test fails), so a new one cannot ship
//! without a decision.

use domain::access::{Access, Caller, Role};

/// Pages (the app's routes).
/// A path ending in `/*` stands for that prefix and one more segment (an object's page).
pub const PAGES: &[(&str, Access)] = &[
    ("/", Access::SignedIn),
    ("/connection", Access::AnyOf(OPERATORS)),
    ("/users", Access::AnyOf(OPERATORS)),
    ("/users/*", Access::AnyOf(OPERATORS)),
    ("/groups", Access::AnyOf(OPERATORS)),
    ("/groups/*", Access::AnyOf(OPERATORS)),
    ("/drift", Access::AnyOf(OPERATORS)),
    ("/seats", Access::AnyOf(OPERATORS)),
    ("/history", Access::AnyOf(OPERATORS)),
];

/// Deployment internals (database, schema, version): for those who run or audit Tessera.
pub const OPERATORS: &[Role] = &[Role::SecurityAdmin, Role::Auditor];

/// Actions on the deployment's security (ending everyone's sessions): security admins only.
pub const ADMINS: &[Role] = &[Role::SecurityAdmin];

/// Server functions, by path. The directory, drift, seats and history are for those who run
/// or audit the connection; changing anything (refreshing, deciding a held refresh) is for
/// security admins.
pub const SERVER_FNS: &[(&str, Access)] = &[
    ("/api/attest", Access::AnyOf(ADMINS)),
    ("/api/connection_page", Access::AnyOf(OPERATORS)),
    ("/api/connection_strip", Access::AnyOf(OPERATORS)),
    ("/api/decide_held", Access::AnyOf(ADMINS)),
    ("/api/drift_page", Access::AnyOf(OPERATORS)),
    ("/api/end_all_sessions", Access::AnyOf(ADMINS)),
    ("/api/group_leads", Access::AnyOf(OPERATORS)),
    ("/api/group_page", Access::AnyOf(OPERATORS)),
    ("/api/list_groups", Access::AnyOf(OPERATORS)),
    ("/api/list_users", Access::AnyOf(OPERATORS)),
    ("/api/overview", Access::AnyOf(OPERATORS)),
    ("/api/refresh_history", Access::AnyOf(OPERATORS)),
    ("/api/refresh_now", Access::AnyOf(ADMINS)),
    ("/api/refresh_progress", Access::AnyOf(OPERATORS)),
    ("/api/seats_page", Access::AnyOf(OPERATORS)),
    ("/api/set_scim", Access::AnyOf(ADMINS)),
    ("/api/system_status", Access::AnyOf(OPERATORS)),
    ("/api/upload_metadata", Access::AnyOf(ADMINS)),
    ("/api/user_page", Access::AnyOf(OPERATORS)),
    ("/api/verify_connection", Access::AnyOf(ADMINS)),
    ("/api/whoami", Access::SignedIn),
];

/// What a path requires: a page or server function as declared, `None` for a server function
/// nobody declared (refused), and `Public` for everything else (assets, probes, sign-in).
pub fn requirement(path: &str) -> Option<Access> {
    if path.starts_with("/api/") {
        return SERVER_FNS.iter().find(|(p, _)| *p == path).map(|(_, a)| *a);
    }
    Some(
        PAGES
            .iter()
            .find(|(p, _)| page_matches(p, path))
            .map(|(_, a)| *a)
            .unwrap_or(Access::Public),
    )
}

/// Whether `path` is the page `pattern` declares (`/users/*`: `/users/<one segment>`).
fn page_matches(pattern: &str, path: &str) -> bool {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    match pattern.strip_suffix("/*") {
        Some(prefix) => path
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|segment| !segment.is_empty() && !segment.contains('/')),
        None => pattern == path,
    }
}

/// The caller of the current server function or page render (provided by the server).
pub fn caller() -> Caller {
    use leptos::prelude::use_context;
    use_context::<Caller>()
        .or_else(|| {
            use_context::<axum::http::request::Parts>()
                .and_then(|p| p.extensions.get::<Caller>().cloned())
        })
        .unwrap_or(Caller::Anonymous)
}

/// The session's CSRF token for the current request, if signed in.
pub fn csrf_token() -> Option<String> {
    use leptos::prelude::use_context;
    use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<CsrfToken>().cloned())
        .map(|t| t.0)
}

/// The current session's CSRF token (provided by the server), for forms that post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(pub String);

/// A team lead's teams (the IdP groups they own), by name (provided by the server).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Teams(pub Vec<String>);

/// The current caller's teams, if a team lead with any.
pub fn teams() -> Vec<String> {
    use leptos::prelude::use_context;
    use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<Teams>().cloned())
        .map(|t| t.0)
        .unwrap_or_default()
}

/// Refuses the current caller unless `SERVER_FNS` allows them `/api/<endpoint>`. The guard
/// checks every HTTP call before it reaches a server function; this checks the calls a page
/// makes while it is rendered on the server, which do not pass the guard.
pub fn check(endpoint: &str) -> Result<(), leptos::prelude::ServerFnError> {
    use domain::access::Decision;
    let path = format!("/api/{endpoint}");
    let access = requirement(&path).ok_or_else(|| {
        leptos::prelude::ServerFnError::new(format!("{path} declares no access rule"))
    })?;
    match caller().decide(access) {
        Decision::Allow => Ok(()),
        Decision::SignInFirst => Err(crate::state::refuse(
            crate::state::Refused::SignIn,
            "Sign in first.",
        )),
        Decision::Forbidden => Err(crate::state::refuse(
            crate::state::Refused::Role,
            "Your role does not allow this: ask a security admin.",
        )),
    }
}
