//! Tessera's rules, with no IO: everything here is a function of its arguments, tested without a
//! network or a database.
//!
//! - [`snapshot`]: what Identity Center held at one moment — users, groups, memberships and the
//!   Q Developer application's assignments — compactly enough for 100,000 users and 1,000,000
//!   memberships.
//! - [`changes`]: the difference between two snapshots (joiners, leavers, attribute changes,
//!   membership and assignment changes), and applying it, which is how history is stored and
//!   replayed to answer "what did Identity Center look like at time T".
//! - [`seats`]: effective Q Developer seats — users assigned directly ∪ members of assigned
//!   groups, each once, with every path that gives the seat and since when.
//! - [`scope`]: the IdP's provisioning scope (its users and groups, members as positions), as
//!   a reader assembles it from pages arriving in any order.
//! - [`drift`]: the IdP's provisioning scope against Identity Center — missing, orphaned,
//!   mismatched, membership differences — with each object's origin.
//! - [`timeline`]: one user's or group's history, each refresh's changes split by object.
//! - [`fuse`]: the mass-deletion fuse that holds back a snapshot removing too much at once.
//! - [`connection`]: the connection checklist (the seeds' setup steps) judged from evidence:
//!   SAML agreement and certificate countdown, SCIM token age, provisioning, arrivals, seats.
//! - [`access`]: roles, their mapping from IdP claims, and who may reach each page and server
//!   function.

pub mod access;
pub mod changes;
pub mod connection;
pub mod drift;
pub mod fuse;
pub mod scope;
pub mod seats;
pub mod snapshot;
pub mod timeline;
