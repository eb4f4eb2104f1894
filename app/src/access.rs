//! What each page and server function requires of its caller, declared in one place and
//! enforced by the server before a request reaches the page or function. A server function
//! missing here is refused for everyone (and the access test fails), so a new one cannot ship
//! without a decision.

use domain::access::{Access, Caller, Role};

/// Pages (the app's routes).
pub const PAGES: &[(&str, Access)] = &[("/", Access::SignedIn)];

/// Deployment internals (database, schema, version): for those who run or audit Tessera.
pub const OPERATORS: &[Role] = &[Role::SecurityAdmin, Role::Auditor];

/// Actions on the deployment's security (ending everyone's sessions): security admins only.
pub const ADMINS: &[Role] = &[Role::SecurityAdmin];

/// Server functions, by path.
pub const SERVER_FNS: &[(&str, Access)] = &[
    ("/api/end_all_sessions", Access::AnyOf(ADMINS)),
    ("/api/system_status", Access::AnyOf(OPERATORS)),
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
            .find(|(p, _)| *p == path)
            .map(|(_, a)| *a)
            .unwrap_or(Access::Public),
    )
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
