//! Tessera's sign-in client ([`connectors::oidc`]) against three OpenID Providers with the same
//! code: the sandbox's emulated Entra ID and PingOne, and panva's oidc-provider (npm, a
//! certified implementation) run by Node on a loopback port. All complete an authorization-code + PKCE
//! sign-in; all refuse what a careful client must refuse — a wrong PKCE verifier, a tampered
//! ID token, a wrong nonce, an expired token, an answer for another sign-in.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{Duration, Utc};
use connectors::oidc::{Groups, OidcProvider, OidcSettings, Pending, SignInError};
use reqwest::StatusCode;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{IdpKind, RunningSandbox, SandboxConfig};
use tokio::io::AsyncBufReadExt;

const REDIRECT: &str = "http://127.0.0.1:3000/auth/callback";
const AFTER_LOGOUT: &str = "http://127.0.0.1:3000/";

/// A browser that follows no redirect on its own and keeps cookies by name.
struct Browser {
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Mutex::new(HashMap::new()),
        }
    }

    fn keep(&self, r: &reqwest::Response) {
        let mut jar = self.cookies.lock().unwrap();
        for c in r.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                jar.insert(k.to_string(), v.to_string());
            }
        }
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        let r = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }

    /// Follows redirects by hand until one leaves for `REDIRECT`; answers its query.
    async fn follow_to_callback(&self, mut url: String) -> HashMap<String, String> {
        for _ in 0..10 {
            if url.starts_with(REDIRECT) {
                let parsed = reqwest::Url::parse(&url).unwrap();
                return parsed.query_pairs().into_owned().collect();
            }
            let r = self.get(&url).await;
            assert!(r.status().is_redirection(), "{url}: {}", r.status());
            let location = r.headers()["location"].to_str().unwrap();
            url = reqwest::Url::parse(&url)
                .unwrap()
                .join(location)
                .unwrap()
                .to_string();
        }
        panic!("no redirect back to Tessera");
    }
}

/// An OpenID Provider under test.
enum Peer {
    Sandbox {
        _sandbox: Box<RunningSandbox>,
        idp: IdpKind,
        settings: OidcSettings,
    },
    Panva {
        _node: tokio::process::Child,
        settings: OidcSettings,
    },
}

async fn sandbox_peer(idp: IdpKind) -> Peer {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let config = SandboxConfig {
        idp,
        ..SandboxConfig::default()
    };
    let sandbox = RunningSandbox::start_organisation(org, config)
        .await
        .unwrap();
    let (issuer, app) = match idp {
        IdpKind::Entra => {
            let entra = sandbox.entra().unwrap();
            (
                format!("{}/{}/v2.0", sandbox.login_base(), entra.state.tenant_id()),
                entra.app.clone(),
            )
        }
        IdpKind::PingOne => {
            let pingone = sandbox.pingone().unwrap();
            (
                format!(
                    "{}/{}/as",
                    sandbox.pingone_auth_base(),
                    pingone.state.environment_id()
                ),
                pingone.sign_in.clone(),
            )
        }
    };
    let settings = OidcSettings {
        issuer,
        client_id: app.client_id,
        client_secret: Some(app.client_secret),
        redirect_url: REDIRECT.into(),
        scopes: vec!["profile".into(), "email".into()],
    };
    Peer::Sandbox {
        _sandbox: Box::new(sandbox),
        idp,
        settings,
    }
}

/// Every provider the sign-in client is tested against.
async fn peers() -> [Peer; 3] {
    [
        sandbox_peer(IdpKind::Entra).await,
        sandbox_peer(IdpKind::PingOne).await,
        panva_peer().await,
    ]
}

async fn panva_peer() -> Peer {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("node_modules/oidc-provider").exists(),
        "panva's oidc-provider is not installed: run `cargo xtask setup` (npm install)"
    );
    // A test-only secret for a provider that lives as long as the test.
    let secret = format!("peer-secret-{}", std::process::id());
    let mut node = tokio::process::Command::new("node")
        .arg(root.join("connectors/tests/peers/oidc-provider.mjs"))
        .args(["tessera-test", &secret, REDIRECT, AFTER_LOGOUT])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (Debian's nodejs)");
    let stdout = node.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("oidc-provider starts within 30 s")
        .unwrap()
        .expect("oidc-provider prints its issuer");
    // Keep reading, so the provider never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let issuer: serde_json::Value = serde_json::from_str(&first).unwrap();
    let settings = OidcSettings {
        issuer: issuer["issuer"].as_str().unwrap().to_string(),
        client_id: "tessera-test".into(),
        client_secret: Some(secret),
        redirect_url: REDIRECT.into(),
        scopes: vec!["profile".into(), "email".into()],
    };
    Peer::Panva {
        _node: node,
        settings,
    }
}

impl Peer {
    fn settings(&self) -> &OidcSettings {
        match self {
            Peer::Sandbox { settings, .. } | Peer::Panva { settings, .. } => settings,
        }
    }

    /// Signs `who` in through the provider's pages; answers the pending sign-in and the
    /// callback's query.
    async fn sign_in(
        &self,
        client: &OidcProvider,
        who: &str,
    ) -> (Pending, HashMap<String, String>) {
        let (url, pending) = client.begin();
        let browser = Browser::new();
        let callback = match self {
            Peer::Sandbox { .. } => {
                // The sandbox's login page lists personas; the form posts one.
                let page = browser.get(&url).await;
                assert_eq!(page.status(), StatusCode::OK);
                let html = page.text().await.unwrap();
                let request = html
                    .split("name=\"request\" value=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap()
                    .to_string();
                let mut form = reqwest::Url::parse(&url).unwrap();
                form.set_query(None);
                let back = browser
                    .http
                    .post(form.as_str())
                    .form(&[("request", request.as_str()), ("persona", who)])
                    .send()
                    .await
                    .unwrap();
                let location = back.headers()["location"].to_str().unwrap().to_string();
                browser.follow_to_callback(location).await
            }
            Peer::Panva { .. } => {
                // The first hop goes to the interaction, which finishes for `who`.
                let r = browser.get(&url).await;
                let location = r.headers()["location"].to_str().unwrap();
                let interaction = reqwest::Url::parse(&url)
                    .unwrap()
                    .join(&format!("{location}?account={who}"))
                    .unwrap();
                browser.follow_to_callback(interaction.to_string()).await
            }
        };
        (pending, callback)
    }

    fn admin(&self) -> &'static str {
        match self {
            Peer::Sandbox { .. } => "security-admin",
            Peer::Panva { .. } => "alice",
        }
    }
}

#[tokio::test]
async fn the_same_sign_in_code_works_against_the_sandbox_and_panva() {
    for peer in peers().await {
        let client = OidcProvider::discover(peer.settings()).await.unwrap();
        let (pending, callback) = peer.sign_in(&client, peer.admin()).await;
        let who = client
            .callback(&pending, &callback, Utc::now())
            .await
            .unwrap();
        assert!(
            who.roles.contains(&"Tessera.SecurityAdmin".to_string()),
            "{who:?}"
        );
        assert!(
            matches!(&who.groups, Groups::Listed(g) if !g.is_empty()),
            "{who:?}"
        );
        assert!(who.preferred_username.is_some(), "{who:?}");
        assert!(!who.subject.is_empty());
        assert!(who.expires > Utc::now());
        // Sign-out goes through the IdP's end-session endpoint with the ID token as hint.
        let logout = client.end_session_url(&who, AFTER_LOGOUT).unwrap().unwrap();
        assert!(logout.contains("id_token_hint="), "{logout}");
        // The code was spent.
        let again = client
            .finish(&pending, &callback["state"], &callback["code"], Utc::now())
            .await;
        assert!(matches!(again, Err(SignInError::Exchange(_))), "{again:?}");
        if let Peer::Sandbox {
            idp: IdpKind::Entra,
            ..
        } = &peer
        {
            // Entra's overage: unknown groups, never "no groups".
            let (pending, callback) = peer.sign_in(&client, "many-groups").await;
            let many = client
                .finish(&pending, &callback["state"], &callback["code"], Utc::now())
                .await
                .unwrap();
            assert_eq!(many.groups, Groups::Overage);
        }
    }
}

#[tokio::test]
async fn both_providers_refuse_what_a_careful_client_must_refuse() {
    for peer in peers().await {
        let issuer = peer.settings().issuer.clone();
        let client = OidcProvider::discover(peer.settings()).await.unwrap();

        // PKCE enforced: the wrong verifier does not redeem the code.
        let (mut pending, callback) = peer.sign_in(&client, peer.admin()).await;
        pending.pkce_verifier = "a-verifier-of-another-sign-in-0123456789abcdefghijklmno".into();
        let wrong = client
            .exchange(&pending, &callback["state"], &callback["code"])
            .await;
        assert!(
            matches!(&wrong, Err(SignInError::Exchange(e)) if e.contains("invalid_grant")),
            "{issuer}: {wrong:?}"
        );

        // An answer for another sign-in (state differs) is refused before the code is spent.
        let (pending, callback) = peer.sign_in(&client, peer.admin()).await;
        let other = client
            .exchange(&pending, "someone-elses-state", &callback["code"])
            .await;
        assert!(
            matches!(other, Err(SignInError::StateMismatch)),
            "{other:?}"
        );

        let raw = client
            .exchange(&pending, &callback["state"], &callback["code"])
            .await
            .unwrap();
        let now = Utc::now();
        assert!(client.verify(&raw, &pending.nonce, now).is_ok());

        // A tampered payload breaks the signature.
        let mut parts: Vec<String> = raw.split('.').map(str::to_string).collect();
        let mut payload: Vec<u8> = base64url_decode(&parts[1]);
        let text = String::from_utf8(payload.clone()).unwrap();
        let forged = text.replacen("\"sub\":\"", "\"sub\":\"x", 1);
        assert_ne!(forged, text);
        payload = forged.into_bytes();
        parts[1] = base64url_encode(&payload);
        let tampered = parts.join(".");
        let r = client.verify(&tampered, &pending.nonce, now);
        assert!(
            matches!(r, Err(SignInError::InvalidIdToken(_))),
            "{issuer}: {r:?}"
        );

        // Another sign-in's nonce.
        let r = client.verify(&raw, "not-the-nonce", now);
        assert!(
            matches!(r, Err(SignInError::InvalidIdToken(_))),
            "{issuer}: {r:?}"
        );

        // Expired: the same token two hours later.
        let r = client.verify(&raw, &pending.nonce, now + Duration::hours(2));
        assert!(
            matches!(r, Err(SignInError::InvalidIdToken(_))),
            "{issuer}: {r:?}"
        );
    }
}

#[tokio::test]
async fn a_refusal_or_an_answer_from_another_issuer_is_not_a_sign_in() {
    for peer in peers().await {
        let client = OidcProvider::discover(peer.settings()).await.unwrap();
        let (pending, mut callback) = peer.sign_in(&client, peer.admin()).await;
        // A mix-up: the answer names another issuer (RFC 9207).
        callback.insert("iss".into(), "https://attacker.example".into());
        let r = client.callback(&pending, &callback, Utc::now()).await;
        assert!(
            matches!(r, Err(SignInError::IssuerMismatch { .. })),
            "{r:?}"
        );
        // The IdP's refusal comes through with its reason.
        let refusal: HashMap<String, String> = [
            ("error".to_string(), "access_denied".to_string()),
            (
                "error_description".to_string(),
                "the user cancelled".to_string(),
            ),
            ("state".to_string(), pending.state.clone()),
        ]
        .into();
        let r = client.callback(&pending, &refusal, Utc::now()).await;
        let text = r.unwrap_err().to_string();
        assert!(
            text.contains("access_denied") && text.contains("cancelled"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn panva_refuses_an_authorization_request_without_pkce() {
    let peer = panva_peer().await;
    let settings = peer.settings();
    let browser = Browser::new();
    let url = format!(
        "{}/auth?client_id={}&response_type=code&scope=openid&redirect_uri={}&state=s1&nonce=n1",
        settings.issuer,
        settings.client_id,
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let callback = browser.follow_to_callback(url).await;
    assert_eq!(callback["error"], "invalid_request", "{callback:?}");
    assert!(
        callback["error_description"].contains("PKCE"),
        "{callback:?}"
    );
}

#[tokio::test]
async fn an_unreachable_issuer_says_what_to_check() {
    let settings = OidcSettings {
        issuer: "http://127.0.0.1:9/nowhere".into(),
        client_id: "x".into(),
        client_secret: None,
        redirect_url: REDIRECT.into(),
        scopes: vec![],
    };
    let e = OidcProvider::discover(&settings).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("oidc.issuer"), "{text}");
    assert!(text.contains("127.0.0.1:9"), "{text}");
}

fn base64url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn base64url_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
