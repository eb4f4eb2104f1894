//! Tessera's connections to the systems it reads and writes. One module per system, each behind
//! a trait, each doing one job; tests reach the sandbox through these same production clients
//! over HTTP, never through an in-process fake.
//!
//! - [`identity_center`]: reads IAM Identity Center (instance, the seat product's application and
//!   its assignments, users, groups, memberships) into a [`domain::snapshot::Snapshot`] with the
//!   official aws-sdk-identitystore and aws-sdk-ssoadmin clients, at the speed the API quotas
//!   allow.
//! - [`entra`]: reads Entra ID's provisioning scope for the Identity Center app (Microsoft
//!   Graph over reqwest, app token from the client-credentials grant) into a
//!   [`domain::scope::IdpScope`].
//! - [`pingone`]: reads PingOne's propagation scope for Identity Center (the rule's
//!   populations and groups, attributes through the rule's mappings) over the Platform API.
//! - [`scope`]: the trait both IdP readers implement, and the deployment's reader; each
//!   reader also reports the IdP's side of the connection (its app, its provisioning).
//! - [`saml_metadata`]: SAML metadata of both sides, parsed safely (size cap, no DTD), and
//!   fetched from the IdP's published URL.
//! - [`scim_canary`]: one read with the stored token against Identity Center's SCIM endpoint.
//! - [`rest`]: what the IdP readers share: the app token and retried JSON GETs.
//! - [`oidc`]: signs people in with the organisation's IdP (OpenID Connect relying party).
//! - [`pace`]: keeps one API at its quota, slowing down when the service throttles.
//! - [`progress`]: what a read has done so far, for a progress bar.

pub mod entra;
pub mod identity_center;
pub mod oidc;
pub mod pace;
pub mod pingone;
pub mod progress;
pub mod rest;
pub mod saml_metadata;
pub mod scim_canary;
pub mod scope;
