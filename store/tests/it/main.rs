//! The store's behaviour, asserted identically on SQLite and PostgreSQL (one binary).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browse;
mod connection;
mod deployment;
mod history;
mod kept;
mod leases;
mod search;
mod sessions;
