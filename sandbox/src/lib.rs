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
//! Next (see ARCHITECTURE.md): the AWS JSON 1.1 endpoints (identitystore, sso-admin) with SigV4,
//! the SCIM endpoint, rate limits, faults and a controllable clock.

pub mod directory;
pub mod seed;
