//! The sandbox: everything Tessera talks to, emulated on loopback so the demo, the end-to-end
//! tests and the benchmarks run with no cloud account.
//!
//! This crate grows in layers. Present now:
//! - [`directory`]: the Identity Store's data (users, groups, memberships) with the indexes its
//!   API needs (by id, by user name, by external id, memberships both ways).
//! - [`seed`]: deterministic seeded organisations (`demo`, `large`) — the IdP's people, teams and
//!   owners, the Identity Center directory provisioned from them, the Q Developer assignments and
//!   the planted problems Tessera must find.
//!
//! - [`aws`]: the AWS JSON 1.1 protocol with SigV4 checking; the Identity Store operations.
//! - [`faults`]: per-service latency, error rates, dropped connections and outages; a clock tests
//!   can advance.
//! - [`server`]: runs the endpoints on loopback, with a control API under `/_sandbox/`.
//!
//! - [`scim`]: Identity Center's SCIM endpoint over the same directory, with its bearer tokens.
//!
//! - [`entra`]: Entra ID — the token endpoint for apps, Microsoft Graph over the organisation's
//!   IdP side, the provisioning job that carries it into Identity Center through SCIM, and
//!   OpenID Connect sign-in.
//!
//! - [`activity`] and [`s3`]: Q Developer's daily user activity reports, served by a minimal S3.
//!
//! - [`pingone`]: PingOne — the worker token endpoint, the Platform API (directory, SAML app and
//!   key, propagation) and propagation into Identity Center through SCIM.
//! - [`saml`] and [`certs`]: IdP SAML metadata with real X.509 signing certificates.

pub mod activity;
pub mod aws;
pub mod bearer;
pub mod certs;
pub mod control;
pub mod directory;
pub mod entra;
pub mod expect;
pub mod faults;
pub mod idp_index;
pub mod instance;
pub mod oidc;
pub mod pingone;
pub mod s3;
pub mod saml;
pub mod scim;
pub mod seed;
pub mod server;
