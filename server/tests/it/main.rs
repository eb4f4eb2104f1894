//! The server's integration tests, in one binary to keep link time down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod config;
mod connection;
mod console;
mod directory;
mod harness;
mod http;
mod refresh;
