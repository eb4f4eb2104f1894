//! Every page and every server function, against an anonymous caller and each persona signed in
//! through the sandbox IdP: each must be declared in `app::access` and answer as its rule says,
//! so a new server function without a rule fails here. Also: cross-site posts are refused, the
//! cookie from before sign-in is worth nothing after it, server functions and sign-out need the
//! session's token, and sign-in attempts are limited per client address.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::access::{Access, Caller, Decision, Role};
use store::testkit::TestDb;

use crate::harness::{Harness, ORIGIN};

store::backend_tests!(
    every_server_function_and_page_answers_each_role_as_declared,
    cross_site_posts_and_old_cookies_are_refused,
    sign_out_needs_the_session_token_and_ends_the_session,
    sign_in_attempts_are_limited_per_address,
    sign_out_everywhere_ends_every_session_of_that_person_only,
    an_admin_ends_every_session,
    a_session_in_use_outlives_its_idle_timeout,
);

/// The personas and the roles the demo mapping gives them.
const PERSONAS: &[(&str, &[Role])] = &[
    ("security-admin", &[Role::SecurityAdmin]),
    ("team-lead", &[Role::TeamLead]),
    ("auditor", &[Role::Auditor]),
    ("developer", &[]),
];

fn caller(roles: &[Role]) -> Caller {
    Caller::Person {
        subject: "s".into(),
        name: "n".into(),
        roles: roles.to_vec(),
    }
}

/// A page declared with `*` at an example address.
fn example_page(page: &str) -> String {
    page.replace('*', "nobody")
}

/// Arguments each server function is called with, and the status and words an allowed caller
/// is refused with when those arguments name nothing (None: answered 200). The harness does not read Identity Center.
fn example_call(path: &str) -> (&'static str, Option<(StatusCode, &'static str)>) {
    match path {
        "/api/list_users" | "/api/list_groups" => ("params[page]=1", None),
        "/api/drift_page" => ("kind=", None),
        "/api/seats_page" => ("page=1", None),
        "/api/user_page" => ("id=nobody", None),
        "/api/group_page" => ("id=nobody&page=1", None),
        "/api/group_leads" => ("id=nobody", None),
        "/api/refresh_now" => (
            "focused=false",
            Some((StatusCode::CONFLICT, "does not read Identity Center")),
        ),
        "/api/decide_held" => (
            "id=nope&confirm=false",
            Some((StatusCode::CONFLICT, "is not held")),
        ),
        "/api/attest" => (
            "check=saml&on=2026-01-01&note=",
            Some((StatusCode::BAD_REQUEST, "not a check to attest")),
        ),
        "/api/set_scim" => (
            "endpoint=ftp%3A%2F%2Fx&token=t&created_on=2026-01-01",
            Some((StatusCode::BAD_REQUEST, "is not a SCIM endpoint")),
        ),
        "/api/upload_metadata" => (
            "side=sp&xml=%3Cx%2F%3E",
            Some((StatusCode::BAD_REQUEST, "not SAML metadata")),
        ),
        _ => ("", None),
    }
}

async fn every_server_function_and_page_answers_each_role_as_declared(db: &TestDb) {
    let h = Harness::start(db).await;
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    assert!(!registered.is_empty());
    for path in &registered {
        assert!(
            app::access::SERVER_FNS.iter().any(|(p, _)| p == path),
            "server function {path} declares no access rule in app::access::SERVER_FNS"
        );
    }
    // Route parameters (`:id`, `{id}`) are declared as `*`.
    let pages: Vec<String> = server::http::routes()
        .iter()
        .map(|r| {
            r.path()
                .split('/')
                .map(|seg| {
                    if seg.starts_with(':') || seg.starts_with('{') {
                        "*"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .map(|p| if p.is_empty() { "/".to_string() } else { p })
        .collect();
    for page in &pages {
        assert!(
            app::access::PAGES.iter().any(|(p, _)| p == page),
            "page {page} declares no access rule in app::access::PAGES"
        );
    }

    // Anonymous: server functions 401, pages send to sign-in.
    for (path, access) in app::access::SERVER_FNS {
        let a = h.call(path, None, Some(ORIGIN)).await;
        let expected = if *access == Access::Public {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(a.status, expected, "anonymous {path}: {}", a.body);
    }
    for (page, _) in app::access::PAGES {
        let page = &example_page(page);
        let a = h.get(page, None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "anonymous {page}");
        assert!(a.location.unwrap().starts_with("/auth/sign-in?next="));
    }

    // Each persona: allowed → answered, not allowed → 403.
    for (persona, roles) in PERSONAS {
        let mut cookie = h.sign_in(persona).await;
        for (path, access) in app::access::SERVER_FNS {
            let (args, refusal) = example_call(path);
            let a = h.call_with(path, &cookie, args).await;
            match caller(roles).decide(*access) {
                Decision::Allow => {
                    match refusal {
                        None => {
                            assert_eq!(a.status, StatusCode::OK, "{persona} {path}: {}", a.body)
                        }
                        // Let through, then refused for what the arguments name.
                        Some((status, text)) => {
                            assert_eq!(a.status, status, "{persona} {path}");
                            assert!(a.body.contains(text), "{persona} {path}: {}", a.body);
                        }
                    }
                    if *path == "/api/end_all_sessions" {
                        // It ended this session too.
                        let after = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
                        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
                        cookie = h.sign_in(persona).await;
                    }
                }
                _ => assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{persona} {path}: {}",
                    a.body
                ),
            }
        }
        for (page, access) in app::access::PAGES {
            let object_page = page.ends_with("/*");
            let page = &example_page(page);
            let a = h.get(page, Some(&cookie)).await;
            match caller(roles).decide(*access) {
                Decision::Allow => {
                    // An object's page for an object that does not exist: rendered, 404.
                    let expected = if object_page {
                        StatusCode::NOT_FOUND
                    } else {
                        StatusCode::OK
                    };
                    assert_eq!(a.status, expected, "{persona} {page}");
                    // No caching of personal pages; scripts only with this response's nonce.
                    assert!(a.body.contains("nonce="), "{persona} {page}");
                    // The page carries the session's CSRF token for its server function calls.
                    let token = h.stored_csrf_token(&cookie).await;
                    assert!(
                        a.body
                            .contains(&format!("name=\"csrf-token\" content=\"{token}\"")),
                        "{persona} {page}"
                    );
                }
                _ => assert_eq!(a.status, StatusCode::FORBIDDEN, "{persona} {page}"),
            }
        }
        // The header shows who is signed in, with their roles.
        let me = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
        let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
        let labels: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        assert_eq!(me["roles"], serde_json::json!(labels), "{persona}");
    }

    // A page's headers: CSP with a nonce and no inline scripts otherwise, no framing, no cache.
    let cookie = h.sign_in("developer").await;
    let response = tower::ServiceExt::oneshot(
        h.app.clone(),
        Request::get("/")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let headers = response.headers();
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
}

async fn cross_site_posts_and_old_cookies_are_refused(db: &TestDb) {
    let h = Harness::start(db).await;
    let (cookie, before) = h.sign_in_with_cookies("security-admin").await;
    let ok = h
        .call("/api/system_status", Some(&cookie), Some(ORIGIN))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    // Another site's form, or no Origin at all: refused before the function runs.
    for origin in [Some("https://evil.example"), None] {
        let a = h.call("/api/system_status", Some(&cookie), origin).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin:?}");
        assert!(a.body.contains("did not come from Tessera"));
    }
    // From this site's origin but without the session's token (a request forged where the
    // Origin check alone would not catch it), or with another session's: refused.
    let other = h.sign_in("auditor").await;
    let other_token = h.stored_csrf_token(&other).await;
    for token in [None, Some(""), Some(other_token.as_str())] {
        let a = h
            .call_with_token("/api/system_status", Some(&cookie), Some(ORIGIN), token)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(a.body.contains("CSRF token"), "{}", a.body);
    }
    // The cookie the browser held before sign-in is not a signed-in session.
    let old = h
        .call("/api/system_status", Some(&before), Some(ORIGIN))
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    // The session cookie is HttpOnly and SameSite=Lax.
    let start = tower::ServiceExt::oneshot(
        h.app.clone(),
        Request::get("/auth/sign-in").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    let set = start.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    // A sign-in answer that does not belong to this browser is refused, with what to do.
    let stray = h.get("/auth/callback?code=x&state=y", None).await;
    assert_eq!(stray.status, StatusCode::BAD_REQUEST);
    assert!(stray.body.contains("Start again"));
    // Only local paths are places to return to after sign-in.
    let away = h.get("/auth/sign-in?next=//evil.example/", None).await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
}

async fn sign_out_needs_the_session_token_and_ends_the_session(db: &TestDb) {
    let h = Harness::start(db).await;
    let cookie = h.sign_in("team-lead").await;
    let me = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    let csrf = me["csrf"].as_str().unwrap().to_string();
    let sign_out = |token: String| form_post("/auth/sign-out", &cookie, &token);
    let refused = h.send(sign_out("forged".into())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let still = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "a refused sign-out changes nothing"
    );
    let done = h.send(sign_out(csrf)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let to = done.location.unwrap();
    assert!(
        to.contains("/oauth2/v2.0/logout") && to.contains("id_token_hint="),
        "the IdP's end-session endpoint: {to}"
    );
    let gone = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}

async fn sign_in_attempts_are_limited_per_address(db: &TestDb) {
    use axum::extract::ConnectInfo;
    let h = Harness::start(db).await;
    let from = |ip: &str| {
        Request::get("/auth/sign-in")
            .extension(ConnectInfo(std::net::SocketAddr::new(
                ip.parse().unwrap(),
                50_000,
            )))
            .body(Body::empty())
            .unwrap()
    };
    // The default allows 30 a minute from one address (a person retrying is never near it).
    let limit = server::config::Config::default().auth.sign_in_per_minute;
    for n in 0..limit {
        let a = h.send(from("203.0.113.7")).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "attempt {n}");
    }
    let refused = h.send(from("203.0.113.7")).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.body.contains("Too many sign-in attempts") && refused.body.contains("seconds"),
        "{}",
        refused.body
    );
    // The IdP's answers count too; other addresses are not affected.
    let callback = Request::get("/auth/callback?state=x&code=y")
        .extension(ConnectInfo(std::net::SocketAddr::new(
            "203.0.113.7".parse().unwrap(),
            50_001,
        )))
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(callback).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        h.send(from("198.51.100.2")).await.status,
        StatusCode::SEE_OTHER
    );
}

/// A form posted from Tessera's page with the session's cookie and the token in `csrf`.
fn form_post(path: &str, cookie: &str, token: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={token}")))
        .unwrap()
}

/// The session's CSRF token, as its page carries it.
async fn token_of(h: &Harness, cookie: &str) -> String {
    let me = h.call("/api/whoami", Some(cookie), Some(ORIGIN)).await;
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    me["csrf"].as_str().unwrap().to_string()
}

async fn sign_out_everywhere_ends_every_session_of_that_person_only(db: &TestDb) {
    let h = Harness::start(db).await;
    // The same person in two browsers, and someone else.
    let laptop = h.sign_in("team-lead").await;
    let phone = h.sign_in("team-lead").await;
    let other = h.sign_in("auditor").await;
    let everywhere = |token: &str| form_post("/auth/sign-out-everywhere", &phone, token);
    let refused = h.send(everywhere("forged")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let still = h.call("/api/whoami", Some(&laptop), Some(ORIGIN)).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "a refused request ends nothing"
    );

    let done = h.send(everywhere(&token_of(&h, &phone).await)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(done.location.unwrap().contains("/oauth2/v2.0/logout"));
    for cookie in [&laptop, &phone] {
        let gone = h.call("/api/whoami", Some(cookie), Some(ORIGIN)).await;
        assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
        let page = h.get("/", Some(cookie)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "pages send to sign-in");
    }
    let kept = h.call("/api/whoami", Some(&other), Some(ORIGIN)).await;
    assert_eq!(
        kept.status,
        StatusCode::OK,
        "another person's session stays"
    );
    // Signing in again works: only sessions from before count as ended.
    let again = h.sign_in("team-lead").await;
    assert_eq!(
        h.call("/api/whoami", Some(&again), Some(ORIGIN))
            .await
            .status,
        StatusCode::OK
    );
}

async fn an_admin_ends_every_session(db: &TestDb) {
    let h = Harness::start(db).await;
    let lead = h.sign_in("team-lead").await;
    let auditor = h.sign_in("auditor").await;
    let admin = h.sign_in("security-admin").await;
    // Not theirs to do: refused, nothing ended.
    let refused = h
        .call("/api/end_all_sessions", Some(&lead), Some(ORIGIN))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.call("/api/whoami", Some(&auditor), Some(ORIGIN))
            .await
            .status,
        StatusCode::OK
    );
    let done = h
        .call("/api/end_all_sessions", Some(&admin), Some(ORIGIN))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Every session"), "{}", done.body);
    for cookie in [&lead, &auditor, &admin] {
        assert_eq!(
            h.call("/api/whoami", Some(cookie), Some(ORIGIN))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

/// The idle timeout counts from the last use, not from sign-in: a session used every 21 s with
/// a one-minute idle timeout still answers 63 s after sign-in, and each use that moved its
/// expiry sent the browser a fresh cookie.
async fn a_session_in_use_outlives_its_idle_timeout(db: &TestDb) {
    let h = Harness::start_with(db, |auth| auth.idle_timeout_mins = 1, false).await;
    let cookie = h.sign_in("auditor").await;
    let mut refreshed = 0;
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_secs(21)).await;
        let a = h.call("/api/whoami", Some(&cookie), Some(ORIGIN)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        refreshed += usize::from(
            a.set_cookies
                .iter()
                .any(|c| c.starts_with(&format!("{cookie};")) && c.contains("Max-Age=60")),
        );
    }
    assert_eq!(
        refreshed, 3,
        "each use a quarter timeout after the last moved the expiry"
    );
}
