//! The connectors' integration tests, in one binary: each drives a production client over HTTP
//! against the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod connection;
mod entra;
mod identity_center;
mod oidc;
mod pingone;
