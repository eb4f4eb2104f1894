//! Sign-in through the emulated Entra ID's and PingOne's OpenID Connect providers, driven by the openidconnect
//! crate (the relying-party library Tessera signs people in with): discovery, authorization
//! code + PKCE + nonce, ID token checked against the JWKS, userinfo, end session; and what a
//! careful client must refuse (replayed code, wrong verifier, wrong nonce, tampered or expired
//! token, unregistered redirect URI).

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use sandbox::entra::oidc::EntraIdToken;
use sandbox::entra::tenant::{ROLE_AUDITOR, ROLE_SECURITY_ADMIN, ROLE_TEAM_LEAD};
use sandbox::pingone::oidc::{PingOneIdToken, SIGN_ON_POLICY};
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{IdpKind, RunningSandbox, SandboxConfig};

const REDIRECT: &str = "http://127.0.0.1:3000/auth/callback";

struct Provider {
    sandbox: RunningSandbox,
    org: Organisation,
    idp: IdpKind,
    issuer: String,
    end_session: String,
    client_id: String,
    client_secret: String,
    /// Follows no redirects: each hop is checked.
    browser: reqwest::Client,
    http: openidconnect::reqwest::Client,
}

async fn start() -> Provider {
    start_idp(IdpKind::Entra).await
}

async fn start_idp(idp: IdpKind) -> Provider {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let config = SandboxConfig {
        idp,
        ..SandboxConfig::default()
    };
    let sandbox = RunningSandbox::start_organisation(org.clone(), config)
        .await
        .unwrap();
    let (issuer, end_session, app) = match idp {
        IdpKind::Entra => {
            let entra = sandbox.entra().unwrap();
            let tenant = entra.state.tenant_id();
            (
                format!("{}/{tenant}/v2.0", sandbox.login_base()),
                format!("{}/{tenant}/oauth2/v2.0/logout", sandbox.login_base()),
                entra.app.clone(),
            )
        }
        IdpKind::PingOne => {
            let pingone = sandbox.pingone().unwrap();
            let issuer = format!(
                "{}/{}/as",
                sandbox.pingone_auth_base(),
                pingone.state.environment_id()
            );
            (
                issuer.clone(),
                format!("{issuer}/signoff"),
                pingone.sign_in.clone(),
            )
        }
    };
    Provider {
        sandbox,
        org,
        idp,
        issuer,
        end_session,
        client_id: app.client_id,
        client_secret: app.client_secret,
        browser: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        http: openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

type Client = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// What one sign-in leaves the client with.
struct SignedIn {
    client: Client,
    code: String,
    verifier: openidconnect::PkceCodeVerifier,
    nonce: Nonce,
}

impl Provider {
    /// Redeems `code` at the token endpoint with `verifier`; an error comes back as its debug
    /// text.
    async fn redeem(
        &self,
        client: &Client,
        code: &str,
        verifier: openidconnect::PkceCodeVerifier,
    ) -> Result<openidconnect::core::CoreTokenResponse, String> {
        client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| format!("{e:?}"))?
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| format!("{e:?}"))
    }

    async fn client(&self) -> Client {
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(self.issuer.clone()).unwrap(),
            &self.http,
        )
        .await
        .unwrap();
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.to_string()).unwrap())
    }

    /// Starts a sign-in, picks `persona` on the login page, returns the code it sends back.
    async fn sign_in(&self, persona: &str) -> SignedIn {
        let client = self.client().await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let page = self.browser.get(url.as_str()).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let html = page.text().await.unwrap();
        for key in ["security-admin", "team-lead", "auditor", "developer"] {
            assert!(
                html.contains(&format!("data-persona=\"{key}\"")),
                "{key} offered"
            );
        }
        // Only Entra cuts the groups claim short.
        assert_eq!(
            html.contains("data-persona=\"many-groups\""),
            self.idp == IdpKind::Entra
        );
        let request = html
            .split("name=\"request\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let mut form_url = url.clone();
        form_url.set_query(None);
        let back = self
            .browser
            .post(form_url.as_str())
            .form(&[("request", request), ("persona", persona)])
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        let location = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
        assert!(location.as_str().starts_with(REDIRECT), "{location}");
        let pairs: std::collections::HashMap<String, String> =
            location.query_pairs().into_owned().collect();
        assert_eq!(pairs["state"], *csrf.secret(), "state comes back unchanged");
        SignedIn {
            client,
            code: pairs["code"].clone(),
            verifier,
            nonce,
        }
    }
}

#[tokio::test]
async fn a_security_admin_signs_in_with_code_pkce_and_nonce() {
    let p = start().await;
    let s = p.sign_in("security-admin").await;
    let response = p.redeem(&s.client, &s.code, s.verifier).await.unwrap();
    let id_token = response.id_token().unwrap();
    let verifier = s.client.id_token_verifier();
    let claims = id_token.claims(&verifier, &s.nonce).unwrap();
    let username = claims.preferred_username().unwrap().as_str().to_string();
    assert!(
        username.ends_with(&format!("@{}", p.org.spec.domain)),
        "{username}"
    );

    // Entra's own claims, read with the same verification.
    let entra: EntraIdToken = id_token.to_string().parse().unwrap();
    let extra = entra
        .claims(&verifier, &s.nonce)
        .unwrap()
        .additional_claims();
    assert_eq!(extra.roles, vec![ROLE_SECURITY_ADMIN.to_string()]);
    assert_eq!(extra.ver, "2.0");
    let person = p.org.people.iter().find(|x| x.idp_id == extra.oid).unwrap();
    assert_eq!(person.user_name, username);
    let groups = extra.groups.clone().unwrap();
    let expected: Vec<&str> = p
        .org
        .groups
        .iter()
        .filter(|g| {
            g.members
                .iter()
                .any(|&m| p.org.people[m].idp_id == extra.oid)
        })
        .map(|g| g.idp_id.as_str())
        .collect();
    assert_eq!(groups.len(), expected.len());
    assert!(groups.iter().all(|g| expected.contains(&g.as_str())));
    assert_ne!(
        claims.subject().as_str(),
        extra.oid,
        "sub is pairwise, not the object id"
    );

    // Userinfo answers for the same subject.
    let info: CoreUserInfoClaims = s
        .client
        .user_info(
            response.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&p.http)
        .await
        .unwrap();
    assert_eq!(info.email().unwrap().as_str(), person.email);

    // The code was redeemed once; a second time is refused.
    let again = p
        .redeem(&s.client, &s.code, PkceCodeChallenge::new_random_sha256().1)
        .await;
    assert!(again.is_err());

    // Sign-out goes back to a registered address with the state.
    let end_session = p.end_session.clone();
    let r = p
        .browser
        .get(&end_session)
        .query(&[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:3000/"),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "http://127.0.0.1:3000/?state=bye");
    // An unregistered address gets the signed-out page, not a redirect.
    let r = p
        .browser
        .get(&end_session)
        .query(&[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_persona_carries_its_roles_and_the_overage_hides_the_groups() {
    let p = start().await;
    for (persona, roles, overage) in [
        ("auditor", vec![ROLE_AUDITOR.to_string()], false),
        ("team-lead", vec![ROLE_TEAM_LEAD.to_string()], false),
        ("developer", vec![], false),
        ("many-groups", vec![], true),
    ] {
        let s = p.sign_in(persona).await;
        let response = p.redeem(&s.client, &s.code, s.verifier).await.unwrap();
        let entra: EntraIdToken = response.id_token().unwrap().to_string().parse().unwrap();
        let extra = entra
            .claims(&s.client.id_token_verifier(), &s.nonce)
            .unwrap()
            .additional_claims()
            .clone();
        assert_eq!(extra.roles, roles, "{persona}");
        if overage {
            assert!(extra.groups.is_none(), "overage: no groups claim");
            assert_eq!(extra.claim_names.unwrap()["groups"], "src1");
            let endpoint = extra.claim_sources.unwrap()["src1"]["endpoint"].clone();
            assert!(endpoint.as_str().unwrap().contains(&extra.oid));
        } else {
            assert!(!extra.groups.unwrap().is_empty(), "{persona} has groups");
        }
    }
}

#[tokio::test]
async fn the_client_refuses_a_wrong_verifier_a_wrong_nonce_a_tampered_or_expired_token() {
    let p = start().await;
    // Wrong PKCE verifier: the provider refuses the code.
    let s = p.sign_in("developer").await;
    let refused = p
        .redeem(&s.client, &s.code, PkceCodeChallenge::new_random_sha256().1)
        .await;
    let message = format!("{:?}", refused.unwrap_err());
    assert!(
        message.contains("invalid_grant") && message.contains("501481"),
        "{message}"
    );

    let s = p.sign_in("developer").await;
    let response = p.redeem(&s.client, &s.code, s.verifier).await.unwrap();
    let id_token = response.id_token().unwrap();
    let verifier = s.client.id_token_verifier();
    assert!(id_token.claims(&verifier, &s.nonce).is_ok());
    // Another sign-in's nonce.
    assert!(
        id_token
            .claims(&verifier, &Nonce::new("not-the-nonce".into()))
            .is_err()
    );
    // A payload changed after signing.
    let raw = id_token.to_string();
    let mut parts: Vec<String> = raw.split('.').map(str::to_string).collect();
    let payload = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[1])
            .unwrap(),
    )
    .unwrap()
    .replace("\"roles\":[]", "\"roles\":[\"Tessera.SecurityAdmin\"]");
    parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload);
    let tampered: openidconnect::core::CoreIdToken = parts.join(".").parse().unwrap();
    assert!(tampered.claims(&verifier, &s.nonce).is_err());

    // A token issued two hours ago (the sandbox clock set back) has expired.
    p.sandbox.clock().advance(-2 * 3600);
    let s = p.sign_in("developer").await;
    let response = p.redeem(&s.client, &s.code, s.verifier).await.unwrap();
    let expired = response
        .id_token()
        .unwrap()
        .claims(&s.client.id_token_verifier(), &s.nonce);
    assert!(format!("{:?}", expired.unwrap_err()).contains("xpired"));
}

#[tokio::test]
async fn bad_authorization_requests_are_refused_where_they_should_be() {
    let p = start().await;
    let client = p.client().await;
    let authorize = |redirect: &str, pkce: bool| {
        let c = client
            .clone()
            .set_redirect_uri(RedirectUrl::new(redirect.to_string()).unwrap());
        let mut request = c.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        if pkce {
            request = request.set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0);
        }
        request.url().0
    };
    // An unregistered redirect URI: an error page, never a redirect.
    let r = p
        .browser
        .get(authorize("https://evil.example/cb", true).as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("AADSTS50011"));
    // No PKCE: back to the client with invalid_request.
    let r = p
        .browser
        .get(authorize(REDIRECT, false).as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.contains("error=invalid_request"), "{location}");
    // A login form for a request that does not exist.
    let r = p
        .browser
        .post(format!(
            "{}/{}/oauth2/v2.0/authorize",
            p.sandbox.login_base(),
            p.sandbox.entra().unwrap().state.tenant_id()
        ))
        .form(&[("request", "made-up"), ("persona", "security-admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pingone_signs_a_security_admin_in_with_its_core_and_mapped_claims() {
    let p = start_idp(IdpKind::PingOne).await;
    let s = p.sign_in("security-admin").await;
    let response = p.redeem(&s.client, &s.code, s.verifier).await.unwrap();
    let id_token = response.id_token().unwrap();
    let verifier = s.client.id_token_verifier();
    let claims = id_token.claims(&verifier, &s.nonce).unwrap();
    // PingOne's subject is the user id; its core claims name the environment.
    let person = p
        .org
        .people
        .iter()
        .find(|x| x.idp_id == claims.subject().as_str())
        .expect("sub is the PingOne user id");
    assert_eq!(
        claims.preferred_username().unwrap().as_str(),
        person.user_name
    );
    assert_eq!(claims.auth_context_ref().unwrap().as_str(), SIGN_ON_POLICY);
    let pingone: PingOneIdToken = id_token.to_string().parse().unwrap();
    let extra = pingone
        .claims(&verifier, &s.nonce)
        .unwrap()
        .additional_claims()
        .clone();
    let env = p.sandbox.pingone().unwrap().state.environment_id();
    assert_eq!(extra.env, env);
    assert!(!extra.org.is_empty() && extra.org != env);
    assert_eq!(extra.roles, vec![ROLE_SECURITY_ADMIN.to_string()]);
    // The mapped groups claim: the person's group names.
    let mut expected: Vec<String> = p
        .org
        .groups
        .iter()
        .filter(|g| {
            g.members
                .iter()
                .any(|&m| p.org.people[m].idp_id == person.idp_id)
        })
        .map(|g| g.display_name.clone())
        .collect();
    let mut groups = extra.groups.clone();
    expected.sort();
    groups.sort();
    assert!(!groups.is_empty());
    assert_eq!(groups, expected);

    // Userinfo for the same subject.
    let info: CoreUserInfoClaims = s
        .client
        .user_info(
            response.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&p.http)
        .await
        .unwrap();
    assert_eq!(info.email().unwrap().as_str(), person.email);

    // Code spent; sign-off back to a registered address.
    let again = p
        .redeem(&s.client, &s.code, PkceCodeChallenge::new_random_sha256().1)
        .await;
    assert!(again.unwrap_err().contains("already used"));
    let r = p
        .browser
        .get(&p.end_session)
        .query(&[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:3000/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "http://127.0.0.1:3000/");
}

#[tokio::test]
async fn pingone_refuses_bad_requests_and_a_wrong_verifier_in_its_own_words() {
    let p = start_idp(IdpKind::PingOne).await;
    // The auditor's role, and a developer with none.
    for (persona, roles) in [
        ("auditor", vec![ROLE_AUDITOR.to_string()]),
        ("developer", vec![]),
    ] {
        let s = p.sign_in(persona).await;
        let response = p.redeem(&s.client, &s.code, s.verifier).await.unwrap();
        let token: PingOneIdToken = response.id_token().unwrap().to_string().parse().unwrap();
        let extra = token
            .claims(&s.client.id_token_verifier(), &s.nonce)
            .unwrap()
            .additional_claims()
            .clone();
        assert_eq!(extra.roles, roles, "{persona}");
    }
    let s = p.sign_in("developer").await;
    let refused = p
        .redeem(&s.client, &s.code, PkceCodeChallenge::new_random_sha256().1)
        .await
        .unwrap_err();
    assert!(
        refused.contains("invalid_grant") && refused.contains("code_verifier"),
        "{refused}"
    );
    let client = p.client().await;
    let unregistered = client
        .clone()
        .set_redirect_uri(RedirectUrl::new("https://evil.example/cb".into()).unwrap())
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url()
        .0;
    let r = p.browser.get(unregistered.as_str()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("Redirect URI mismatch"));
    let no_pkce = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url()
        .0;
    let r = p.browser.get(no_pkce.as_str()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("error=invalid_request") && location.contains("PKCE"),
        "{location}"
    );
}
