//! Sign-in with the organisation's IdP over OpenID Connect, as a relying party: discovery (with
//! the end-session endpoint), the authorization request with state, nonce and PKCE (S256), the
//! code exchange, and the ID token checked against the provider's JWKS (signature, issuer,
//! audience, expiry, nonce) by the `openidconnect` crate. Works with Entra ID, PingOne and any
//! standard provider by configuration alone; tests run it against the sandbox's Entra provider
//! and against panva's oidc-provider.
//!
//! The claims Tessera authorises with are read from the verified ID token: `roles`, and
//! `groups` — where Entra's overage (`_claim_names` naming `groups`) is kept as
//! [`Groups::Overage`], never as "no groups".

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IssuerUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

/// How Tessera is registered with the IdP.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer (discovery is at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// None for a public client (PKCE alone).
    pub client_secret: Option<String>,
    /// Where the IdP sends people back (`https://<tessera>/auth/callback`).
    pub redirect_url: String,
    /// Asked for besides `openid`: usually `profile` and `email`.
    pub scopes: Vec<String>,
}

/// The claims beyond the standard ones that Tessera reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorisationClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Entra's object id of the person (the same for every app, unlike `sub`): what Graph
    /// knows them by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Entra's distributed claims: present (naming `groups`) when a person is in more groups
    /// than the token can carry.
    #[serde(
        rename = "_claim_names",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub claim_names: Option<serde_json::Map<String, serde_json::Value>>,
}

impl AdditionalClaims for AuthorisationClaims {}

type TesseraIdToken = IdToken<
    AuthorisationClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What the ID token says about group membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Groups {
    /// The group ids the token lists.
    Listed(Vec<String>),
    /// Too many to list (Entra's overage): unknown, to be resolved through Graph.
    Overage,
    /// The IdP sends no groups claim.
    NotSent,
}

/// A person the IdP vouched for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub issuer: String,
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub groups: Groups,
    pub roles: Vec<String>,
    /// Entra's `oid` (the person's object id in the directory), when the IdP sends it.
    #[serde(default)]
    pub object_id: Option<String>,
    /// When the ID token expires.
    pub expires: DateTime<Utc>,
    /// The raw ID token, kept only as the end-session request's `id_token_hint`.
    pub id_token: String,
}

/// A sign-in begun and not yet finished: kept server-side (in the session) between the
/// redirect to the IdP and the callback. Holds secrets: never sent to the browser.
#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending { .. }")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(
        "cannot read the IdP's OpenID configuration from {issuer}: {detail}. Check that oidc.issuer is the issuer URL the IdP publishes and that Tessera can reach it"
    )]
    Discovery { issuer: String, detail: String },
    #[error("a setting is not a valid URL ({what}): {detail}")]
    Settings { what: &'static str, detail: String },
    #[error(
        "the sign-in answer does not belong to this browser's sign-in (its state differs): start the sign-in again"
    )]
    StateMismatch,
    #[error(
        "the sign-in answer came from another identity provider ({got}, not {expected}): start the sign-in again"
    )]
    IssuerMismatch { expected: String, got: String },
    #[error("the sign-in answer lacks its {0}: start the sign-in again")]
    Incomplete(&'static str),
    #[error("the IdP did not sign you in: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the IdP did not accept the sign-in code: {0}")]
    Exchange(String),
    #[error("the IdP answered without an ID token")]
    NoIdToken,
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
}

/// The IdP's OpenID Connect provider, discovered.
pub struct OidcProvider {
    client: Client,
    http: openidconnect::reqwest::Client,
    issuer: String,
    client_id: String,
    scopes: Vec<String>,
    end_session: Option<EndSessionUrl>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    /// Reads the provider's configuration and keys (`.well-known/openid-configuration`, JWKS).
    pub async fn discover(settings: &OidcSettings) -> Result<Self, SignInError> {
        let bad = |what: &'static str| {
            move |e: openidconnect::url::ParseError| SignInError::Settings {
                what,
                detail: e.to_string(),
            }
        };
        // No redirects: an IdP endpoint that redirects elsewhere is refused (SSRF).
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| SignInError::Discovery {
                issuer: settings.issuer.clone(),
                detail: e.to_string(),
            })?;
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(bad("oidc.issuer"))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &http)
            .await
            .map_err(|e| SignInError::Discovery {
                issuer: settings.issuer.clone(),
                detail: error_chain(&e),
            })?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(
            RedirectUrl::new(settings.redirect_url.clone()).map_err(bad("oidc.redirect_url"))?,
        );
        Ok(Self {
            client,
            http,
            issuer: settings.issuer.clone(),
            client_id: settings.client_id.clone(),
            scopes: settings.scopes.clone(),
            end_session,
        })
    }

    /// Where to send the browser, and what to keep until it comes back.
    pub fn begin(&self) -> (String, Pending) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        (
            url.to_string(),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        )
    }

    /// The redirect back from the IdP, as its query parameters: an `error` is the IdP's
    /// refusal; an `iss` (RFC 9207) must be this provider's issuer; then [`Self::finish`] with
    /// its `state` and `code`.
    pub async fn callback(
        &self,
        pending: &Pending,
        params: &std::collections::HashMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, SignInError> {
        if let Some(error) = params.get("error") {
            return Err(refused(
                error,
                params.get("error_description").map(String::as_str),
            ));
        }
        if let Some(iss) = params.get("iss")
            && iss.trim_end_matches('/') != self.issuer.trim_end_matches('/')
        {
            return Err(SignInError::IssuerMismatch {
                expected: self.issuer.clone(),
                got: iss.clone(),
            });
        }
        let state = params
            .get("state")
            .ok_or(SignInError::Incomplete("state"))?;
        let code = params.get("code").ok_or(SignInError::Incomplete("code"))?;
        self.finish(pending, state, code, now).await
    }

    /// The callback: checks `state`, redeems `code` with the PKCE verifier, verifies the ID
    /// token at `now`.
    pub async fn finish(
        &self,
        pending: &Pending,
        state: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, SignInError> {
        let raw = self.exchange(pending, state, code).await?;
        self.verify(&raw, &pending.nonce, now)
    }

    /// The code exchange alone: the raw ID token.
    pub async fn exchange(
        &self,
        pending: &Pending,
        state: &str,
        code: &str,
    ) -> Result<String, SignInError> {
        // Constant-time comparison is not needed for a value the browser already holds, but a
        // mismatch must stop here, before the code is spent.
        if state != pending.state {
            return Err(SignInError::StateMismatch);
        }
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SignInError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| SignInError::Exchange(token_error(&e)))?;
        let token = response.id_token().ok_or(SignInError::NoIdToken)?;
        Ok(token.to_string())
    }

    /// Verifies a raw ID token (signature against the JWKS, issuer, audience, expiry at `now`,
    /// `nonce`) and reads the person from it.
    pub fn verify(
        &self,
        raw: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, SignInError> {
        let token: TesseraIdToken = raw
            .parse()
            .map_err(|e: serde_json::Error| SignInError::InvalidIdToken(e.to_string()))?;
        let verifier = self.client.id_token_verifier().set_time_fn(move || now);
        let claims = token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(|e| SignInError::InvalidIdToken(e.to_string()))?;
        let extra = claims.additional_claims();
        let overage = extra
            .claim_names
            .as_ref()
            .is_some_and(|names| names.contains_key("groups"));
        let groups = match (&extra.groups, overage) {
            (_, true) => Groups::Overage,
            (Some(g), false) => Groups::Listed(g.clone()),
            (None, false) => Groups::NotSent,
        };
        Ok(SignedIn {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            email: claims.email().map(|e| e.to_string()),
            preferred_username: claims.preferred_username().map(|u| u.to_string()),
            groups,
            roles: extra.roles.clone(),
            object_id: extra.oid.clone(),
            expires: claims.expiration(),
            id_token: raw.to_string(),
        })
    }

    /// The IdP's end-session URL for `signed_in`, returning to `post_logout`; None when the
    /// provider publishes no end-session endpoint (sign-out is then local only).
    pub fn end_session_url(
        &self,
        signed_in: &SignedIn,
        post_logout: &str,
    ) -> Result<Option<String>, SignInError> {
        let Some(endpoint) = &self.end_session else {
            return Ok(None);
        };
        let hint: TesseraIdToken = signed_in
            .id_token
            .parse()
            .map_err(|e: serde_json::Error| SignInError::InvalidIdToken(e.to_string()))?;
        let url = LogoutRequest::from(endpoint.clone())
            .set_id_token_hint(&hint)
            .set_client_id(ClientId::new(self.client_id.clone()))
            .set_post_logout_redirect_uri(
                PostLogoutRedirectUrl::new(post_logout.to_string()).map_err(|e| {
                    SignInError::Settings {
                        what: "post-logout redirect",
                        detail: e.to_string(),
                    }
                })?,
            )
            .http_get_url();
        Ok(Some(url.to_string()))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// A random URL-safe token (openidconnect's CSRF-state generator: 16 random bytes, base64url),
/// for synchronizer tokens and the like.
pub fn random_token() -> String {
    CsrfToken::new_random().secret().clone()
}

/// The callback's `error`/`error_description` (the person cancelled, or the IdP refused).
pub fn refused(error: &str, description: Option<&str>) -> SignInError {
    SignInError::Refused {
        error: error.to_string(),
        description: description.map(str::to_string),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A token-endpoint error with the provider's own `error` and `error_description`.
fn token_error<RE, T>(e: &openidconnect::RequestTokenError<RE, T>) -> String
where
    RE: std::error::Error + 'static,
    T: openidconnect::ErrorResponse + 'static,
{
    match e {
        openidconnect::RequestTokenError::ServerResponse(r) => r.to_string(),
        other => error_chain(other),
    }
}
