//! The connection checklist: the seeds' setup steps, each verified from evidence gathered by the
//! connectors (or attested by an admin where no API shows it), as an [`Outcome`] with a status,
//! what was seen, and what to do when it fails — in the words of the setup steps.
//!
//! Every rule here is a function of facts and a moment; nothing is read or fetched. The IdP
//! application and SAML checks live in `saml`, the SCIM check in `scim`, provisioning and
//! arrivals in `provisioning`; the checklist's vocabulary and the rest here.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A certificate or token closer to its end than this many days is a warning.
pub const WARN_DAYS: i64 = 60;
/// … and closer than this many days (or past it) a failure.
pub const FAIL_DAYS: i64 = 14;
/// A SCIM access token lives one year from its creation in the Identity Center console.
pub const SCIM_TOKEN_LIFE_DAYS: i64 = 365;
/// An attestation older than this is asked again.
pub const ATTESTATION_LIFE_DAYS: i64 = 365;
/// A provisioning job with no successful cycle for this long is a warning.
pub const PROVISIONING_STALE_HOURS: i64 = 24;

/// How a check stands. Ordered from best to worst ([`Status::severity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Verified from evidence.
    Pass,
    /// Confirmed by an admin (no API shows it): attested, not verified.
    Attested,
    /// Not verified: not configured yet, or the evidence could not be read.
    Unknown,
    /// Works today, needs action soon.
    Warn,
    /// Broken, or about to break.
    Fail,
}

impl Status {
    /// Higher is worse.
    pub fn severity(self) -> u8 {
        match self {
            Status::Pass => 0,
            Status::Attested => 1,
            Status::Unknown => 2,
            Status::Warn => 3,
            Status::Fail => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Attested => "attested",
            Status::Unknown => "unknown",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Pass,
            Status::Attested,
            Status::Unknown,
            Status::Warn,
            Status::Fail,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// The worse of two.
    pub fn worst(self, other: Status) -> Status {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

/// The checklist's items, in the order of the seeds' steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    IdpApp,
    Saml,
    Scim,
    Provisioning,
    Arrivals,
    SeatAssignment,
    IdentitySource,
    ConsoleSessions,
}

impl CheckId {
    pub const ALL: [CheckId; 8] = [
        CheckId::IdpApp,
        CheckId::Saml,
        CheckId::Scim,
        CheckId::Provisioning,
        CheckId::Arrivals,
        CheckId::SeatAssignment,
        CheckId::IdentitySource,
        CheckId::ConsoleSessions,
    ];

    /// The checks no API can verify, confirmed by an admin instead.
    pub const ATTESTED: [CheckId; 2] = [CheckId::IdentitySource, CheckId::ConsoleSessions];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::IdpApp => "idp_app",
            CheckId::Saml => "saml",
            CheckId::Scim => "scim",
            CheckId::Provisioning => "provisioning",
            CheckId::Arrivals => "arrivals",
            CheckId::SeatAssignment => "seat_assignment",
            CheckId::IdentitySource => "identity_source",
            CheckId::ConsoleSessions => "console_sessions",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn is_attested(self) -> bool {
        Self::ATTESTED.contains(&self)
    }

    /// The check's name on the checklist.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::IdpApp => "IdP application for AWS IAM Identity Center",
            CheckId::Saml => "SAML metadata and signing certificate",
            CheckId::Scim => "SCIM endpoint and access token",
            CheckId::Provisioning => "IdP provisioning job",
            CheckId::Arrivals => "Users and groups arrive in Identity Center",
            CheckId::SeatAssignment => "A group assigned to Q Developer",
            CheckId::IdentitySource => "Identity source is the external IdP",
            CheckId::ConsoleSessions => "Identity-aware console sessions",
        }
    }

    /// What to do when the check does not pass, in the words of the setup steps.
    pub fn fix(self) -> &'static str {
        match self {
            CheckId::IdpApp => {
                "In the IdP's admin console add the \"AWS IAM Identity Center\" application from the gallery (Entra: Enterprise applications → New application; PingOne: Applications → Application catalog), then assign the users and groups to provision."
            }
            CheckId::Saml => {
                "In IAM Identity Center: Settings → Identity source → Actions → Change identity source → External identity provider → Download metadata file, and upload it to the IdP application's single sign-on settings. Then download the IdP's metadata (Entra: SAML Certificates → Federation Metadata XML) and upload it under \"IdP SAML metadata\" in Identity Center. Before a certificate expires, create a new one in the IdP, make it active, and upload the new IdP metadata in Identity Center."
            }
            CheckId::Scim => SCIM_ROTATION,
            CheckId::Provisioning => {
                "Entra: Enterprise applications → AWS IAM Identity Center → Provisioning: fix what the quarantine or error names (usually the secret token: paste a current one and Test Connection), then Restart provisioning. PingOne: Integrations → Provisioning: make the rule active, set the user filter to userName Eq \"%s\" and map Username → displayName."
            }
            CheckId::Arrivals => {
                "Open Drift for the users and groups that did not arrive and their likely causes; check the IdP's provisioning logs for those objects, fix them, and provision them on demand or wait for the next cycle."
            }
            CheckId::SeatAssignment => {
                "In the Amazon Q Developer console: Subscriptions → Subscribe → Groups, and choose the Identity Center group whose members should hold seats (a group synchronised from the IdP, so membership is managed there)."
            }
            CheckId::IdentitySource => {
                "In IAM Identity Center: Settings → Identity source should read \"External identity provider\" with provisioning method SCIM. Confirm it there, then attest it here with the date you looked."
            }
            CheckId::ConsoleSessions => {
                "In IAM Identity Center: Settings → enable identity-aware console sessions (needed for Q Developer in the AWS console). Confirm it there, then attest it here with the date you looked."
            }
        }
    }
}

/// The two-token rotation of Identity Center's SCIM access token.
pub const SCIM_ROTATION: &str = "Rotate the token without a gap (Identity Center holds at most two): 1. IAM Identity Center → Settings → Identity source → Automatic provisioning → Generate token, and copy it. 2. Paste it in the IdP's provisioning settings (Entra: Provisioning → Admin credentials → Secret token → Test Connection → Save; PingOne: the SCIM connection's bearer token). 3. Enter it here with today's date. 4. After the next successful provisioning cycle, delete the old token in Identity Center.";

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub check: CheckId,
    pub status: Status,
    /// One line: what was found.
    pub summary: String,
    /// What it was found from.
    pub evidence: Vec<String>,
    /// What to do (None when the check passes).
    pub fix: Option<String>,
}

impl Outcome {
    fn new(check: CheckId, status: Status, summary: impl Into<String>) -> Self {
        Self {
            check,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    /// The check's own fix when it does not pass.
    fn with_fix(mut self) -> Self {
        if !matches!(self.status, Status::Pass | Status::Attested) && self.fix.is_none() {
            self.fix = Some(self.check.fix().to_string());
        }
        self
    }
}

/// The worst status of a checklist (Pass for an empty one).
pub fn overall(outcomes: &[Outcome]) -> Status {
    outcomes.iter().fold(Status::Pass, |s, o| s.worst(o.status))
}

/// Whole days from `now` to `end` (negative once past).
pub fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (end - now).num_days()
}

/// A certificate's or token's standing: failing within [`FAIL_DAYS`] of its end (or past it),
/// warning within [`WARN_DAYS`].
pub fn expiry(end: DateTime<Utc>, now: DateTime<Utc>) -> Status {
    let left = days_left(end, now);
    if end <= now || left < FAIL_DAYS {
        Status::Fail
    } else if left < WARN_DAYS {
        Status::Warn
    } else {
        Status::Pass
    }
}

fn countdown(end: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = days_left(end, now);
    if end <= now {
        format!("expired {} days ago", -left)
    } else if left == 0 {
        "expires within a day".to_string()
    } else {
        format!("{left} days left")
    }
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn none_if_empty(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Check 6: at least one group is assigned to the Q Developer application. `assignments` is
/// (groups, users) assigned, None before the first successful refresh.
pub fn seat_assignment_check(assignments: Option<(u64, u64)>) -> Outcome {
    let check = CheckId::SeatAssignment;
    match assignments {
        None => Outcome::new(
            check,
            Status::Unknown,
            "Identity Center has not been read yet",
        ),
        Some((0, users)) => Outcome::new(
            check,
            Status::Fail,
            "No group is assigned to the Q Developer application",
        )
        .evidence(format!("{users} users assigned directly")),
        Some((groups, users)) => Outcome::new(
            check,
            Status::Pass,
            format!("{groups} group(s) assigned to the Q Developer application"),
        )
        .evidence(format!("{users} users assigned directly")),
    }
    .with_fix()
}

/// An admin's confirmation of something no API shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    pub by: String,
    /// The day they looked.
    pub on: NaiveDate,
    pub note: String,
}

/// Checks 7: attested by an admin with a date — shown as attested, never as verified; asked
/// again after [`ATTESTATION_LIFE_DAYS`].
pub fn attested_check(check: CheckId, a: Option<&Attestation>, today: NaiveDate) -> Outcome {
    match a {
        None => Outcome::new(
            check,
            Status::Unknown,
            "Not attested: no API shows this; an admin confirms it in the console",
        ),
        Some(a) if (today - a.on).num_days() > ATTESTATION_LIFE_DAYS => Outcome::new(
            check,
            Status::Warn,
            format!(
                "Attested by {} on {}, more than a year ago: look again",
                a.by, a.on
            ),
        ),
        Some(a) => {
            let mut o = Outcome::new(
                check,
                Status::Attested,
                format!("Attested by {} on {} (not verified)", a.by, a.on),
            );
            if !a.note.is_empty() {
                o = o.evidence(format!("note: {}", a.note));
            }
            o
        }
    }
    .with_fix()
}

mod provisioning;
mod saml;
mod scim;

pub use provisioning::*;
pub use saml::*;
pub use scim::*;

#[cfg(test)]
mod tests;
