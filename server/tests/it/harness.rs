//! The server as people reach it: the real router over a throwaway database, sign-in through
//! the sandbox's emulated Entra ID (its real login page and token endpoint), cookies carried by
//! hand so each hop can be checked.

use std::sync::Arc;

use app::state::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use http_body_util::BodyExt;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use server::config::Config;
use store::testkit::TestDb;
use tower::ServiceExt;

/// Where the test deployment says it lives (the default `server.listen`).
pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub struct Harness {
    pub app: axum::Router,
    /// Kept running for the test's length (the IdP).
    pub sandbox: RunningSandbox,
    /// Follows no redirects: each hop is checked.
    browser: reqwest::Client,
    /// Each signed-in session's CSRF token, by cookie.
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The session store the server uses.
    sessions: store::Sessions,
}

/// A response's status, `Location`, session cookie (`name=value`) and body.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookie: Option<String>,
    /// Every `Set-Cookie` header, whole (attributes included).
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Harness {
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, |_| {}, false).await
    }

    /// A harness whose sign-in configuration `tweak` changes (after the demo's), and which
    /// reads Entra's directory at sign-in when `directory` (the sandbox app's credentials).
    pub async fn start_with(
        db: &TestDb,
        tweak: impl FnOnce(&mut server::config::AuthSection),
        directory: bool,
    ) -> Self {
        Self::start_all(db, tweak, directory, false).await
    }

    /// A harness whose console can refresh: the production Identity Center reader and Entra
    /// scope reader pointed at its sandbox, behind "Refresh now".
    pub async fn start_refreshing(db: &TestDb) -> Self {
        Self::start_all(db, |_| {}, false, true).await
    }

    /// A refreshing harness whose sign-in configuration `tweak` changes (`auth.teams`).
    pub async fn start_refreshing_with(
        db: &TestDb,
        tweak: impl FnOnce(&mut server::config::AuthSection),
    ) -> Self {
        Self::start_all(db, tweak, false, true).await
    }

    async fn start_all(
        db: &TestDb,
        tweak: impl FnOnce(&mut server::config::AuthSection),
        directory: bool,
        refreshing: bool,
    ) -> Self {
        db.store.record_start("test", Utc::now()).await.unwrap();
        let org = Organisation::generate(&SeedSpec::demo()).unwrap();
        let sandbox = RunningSandbox::start_organisation(org, SandboxConfig::default())
            .await
            .unwrap();
        let entra = sandbox.entra().unwrap();
        let config = Config::default();
        let demo = server::startup::DemoSignIn {
            issuer: format!("{}/{}/v2.0", sandbox.login_base(), entra.state.tenant_id()),
            client_id: entra.app.client_id.clone(),
            client_secret: entra.app.client_secret.clone(),
        };
        let mut auth = server::startup::demo_auth(&config, &demo);
        tweak(&mut auth);
        let mut sign_in =
            server::auth::SignIn::discover(&auth, &config.server.public_origin(), db.store.clone())
                .await
                .unwrap();
        // The production Entra reader with the sandbox app's credentials.
        let entra_reader = || {
            connectors::entra::EntraReader::new(connectors::entra::EntraSettings {
                login_url: sandbox.login_base(),
                graph_url: sandbox.graph_base(),
                ..connectors::entra::EntraSettings::new(
                    &entra.state.tenant_id(),
                    &entra.app.client_id,
                    &entra.app.client_secret,
                )
            })
            .unwrap()
        };
        if directory {
            let reader = entra_reader();
            sign_in = sign_in.with_directory(reader);
        }
        let sign_in = Arc::new(sign_in);
        let refresh = if refreshing {
            let creds = sandbox::aws::sigv4::StaticCredentials::default();
            let reader = connectors::identity_center::Reader::connect(
                connectors::identity_center::Settings {
                    endpoint_url: Some(sandbox.aws_endpoint()),
                    static_keys: Some((creds.access_key_id, creds.secret_access_key)),
                    ..connectors::identity_center::Settings::new("eu-west-1")
                },
            )
            .await;
            let scope = entra_reader();
            let refresher = server::refresh::Refresher::new(
                db.store.clone(),
                reader,
                domain::fuse::FuseLimit::default(),
            )
            .with_idp(connectors::scope::IdpReader::Entra(scope));
            Some(
                Arc::new(server::refresh::RefreshHandle::new(Arc::new(refresher)))
                    as Arc<dyn app::state::RefreshControl>,
            )
        } else {
            None
        };
        let secret_key = Arc::new(
            store::secrets::SecretKey::from_base64(&store::secrets::SecretKey::generate().unwrap())
                .unwrap(),
        );
        let state = AppState {
            leptos_options: server::startup::leptos_options(&config),
            store: db.store.clone(),
            started_at: Utc::now(),
            version: "test",
            mode: "test",
            form_action: sign_in.idp_origin(),
            refresh,
            seat_price: server::startup::seat_price(&config),
            connection: Some(Arc::new(
                server::connection::ConnectionChecker::new(
                    db.store.clone(),
                    Some(connectors::scope::IdpReader::Entra(entra_reader())),
                    Some(secret_key.clone()),
                    5.0,
                )
                .unwrap(),
            ) as Arc<dyn app::state::ConnectionControl>),
            secrets: Some(secret_key),
            leads: Some(Arc::new(server::leads::GroupLeads::new(
                Some(entra_reader()),
                &auth.teams,
            )) as Arc<dyn app::state::TeamLeads>),
        };
        let sessions = db.store.sessions().await.unwrap();
        let security = server::http::Security {
            sign_in,
            sessions: sessions.clone(),
        };
        Self {
            app: server::http::router(state, security),
            sandbox,
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            tokens: std::sync::Mutex::default(),
            sessions,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let what = format!("{} {}", request.method(), request.uri());
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.app.clone().oneshot(request),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer to {what} in 10 s"))
        .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap().to_string())
            .collect();
        let cookie = set_cookies
            .iter()
            .map(|c| c.split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("tessera_session="));
        let body = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            response.into_body().collect(),
        )
        .await
        .unwrap_or_else(|_| panic!("the body of {what} did not end in 10 s"))
        .unwrap()
        .to_bytes();
        Answer {
            status,
            location,
            cookie,
            set_cookies,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// A GET with the session cookie.
    pub async fn get(&self, uri: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::get(uri);
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, c);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// A server function call (POST, form-encoded) from `origin`, carrying the session's CSRF
    /// token as the page's client does.
    pub async fn call(&self, path: &str, cookie: Option<&str>, origin: Option<&str>) -> Answer {
        let token = cookie.and_then(|c| self.tokens.lock().unwrap().get(c).cloned());
        self.call_with_token(path, cookie, origin, token.as_deref())
            .await
    }

    /// A server function call with form-encoded arguments, carrying the session's token.
    pub async fn call_with(&self, path: &str, cookie: &str, args: &str) -> Answer {
        let token = self.tokens.lock().unwrap().get(cookie).cloned().unwrap();
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(app::csrf::HEADER, token)
            .header(header::COOKIE, cookie)
            .header(header::ORIGIN, ORIGIN)
            .body(Body::from(args.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// A server function call with the given CSRF token header (or none).
    pub async fn call_with_token(
        &self,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        token: Option<&str>,
    ) -> Answer {
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(t) = token {
            request = request.header(app::csrf::HEADER, t);
        }
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, c);
        }
        if let Some(o) = origin {
            request = request.header(header::ORIGIN, o);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Signs `persona` in through the sandbox IdP's login page; answers the signed-in session
    /// cookie and the one the browser held before.
    pub async fn sign_in_with_cookies(&self, persona: &str) -> (String, String) {
        let (done, before) = self.finish_sign_in(persona).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location.as_deref(), Some("/"));
        let after = done.cookie.expect("a new session id at sign-in");
        assert_ne!(after, before, "the session id is rotated at sign-in");
        // The session's CSRF token, as the server keeps it (what its pages render into
        // `<meta name="csrf-token">`; the access tests check a page carries it).
        let token = self.stored_csrf_token(&after).await;
        self.tokens.lock().unwrap().insert(after.clone(), token);
        (after, before)
    }

    /// The CSRF token the session behind `cookie` (`tessera_session=<id>`) holds.
    pub async fn stored_csrf_token(&self, cookie: &str) -> String {
        use tower_sessions::SessionStore;
        let id: tower_sessions::session::Id = cookie
            .strip_prefix("tessera_session=")
            .unwrap()
            .parse()
            .unwrap();
        let record = self
            .sessions
            .load(&id)
            .await
            .unwrap()
            .expect("a stored session");
        record.data["tessera.user"]["csrf"]
            .as_str()
            .expect("a signed-in session's token")
            .to_string()
    }

    /// Signs `persona` in and answers Tessera's answer to the IdP's redirect, whatever it is.
    pub async fn try_sign_in(&self, persona: &str) -> Answer {
        self.finish_sign_in(persona).await.0
    }

    /// Through the IdP's login page back to Tessera's callback: its answer and the cookie the
    /// browser held before.
    async fn finish_sign_in(&self, persona: &str) -> (Answer, String) {
        let start = self.get("/auth/sign-in?next=/", None).await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        let before = start.cookie.expect("a session for the pending sign-in");
        let authorize = start.location.unwrap();
        let page = self.browser.get(&authorize).send().await.unwrap();
        let html = page.text().await.unwrap();
        let request = html
            .split("name=\"request\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the IdP's login form")
            .to_string();
        let mut form_url = reqwest::Url::parse(&authorize).unwrap();
        form_url.set_query(None);
        let back = self
            .browser
            .post(form_url.as_str())
            .form(&[("request", request.as_str()), ("persona", persona)])
            .send()
            .await
            .unwrap();
        let callback = back.headers()["location"].to_str().unwrap().to_string();
        let path = callback.strip_prefix(ORIGIN).expect("back to Tessera");
        let done = self.get(path, Some(&before)).await;
        (done, before)
    }

    pub async fn sign_in(&self, persona: &str) -> String {
        self.sign_in_with_cookies(persona).await.0
    }
}
