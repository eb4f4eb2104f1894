//! The sandbox's integration tests, in one binary to keep link time down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod activity;
mod common;
mod contract;
mod entra;
mod faults;
mod identitystore;
mod limits;
mod oidc;
mod pingone;
mod saml;
mod scim;
mod scim_tester;
mod seed;
mod ssoadmin;
