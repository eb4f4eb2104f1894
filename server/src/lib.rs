//! The Tessera server: configuration, startup, HTTP routes and the command line.
//! `main.rs` only parses arguments and calls [`cli::run`]; tests start the same router in-process.

pub mod auth;
pub mod cli;
pub mod config;
pub mod connection;
pub mod http;
pub mod leads;
pub mod refresh;
pub mod startup;
