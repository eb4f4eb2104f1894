//! Checks 4 and 5: the IdP's provisioning job, and users arriving in Identity Center.

use super::*;

/// The IdP's provisioning into Identity Center as its API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Provisioning {
    /// Entra's synchronization job.
    Entra {
        job_id: String,
        /// `status.code`: NotConfigured, NotRun, Active, Paused, Quarantine.
        code: String,
        last_successful: Option<DateTime<Utc>>,
        last_run: Option<DateTime<Utc>>,
        last_error: Option<String>,
        quarantine_reason: Option<String>,
        successive_failures: u64,
    },
    /// PingOne's propagation rule and its SCIM store.
    PingOne {
        rule: String,
        active: bool,
        user_filter: Option<String>,
        display_name_source: Option<String>,
        sync_state: Option<String>,
        last_sync: Option<DateTime<Utc>>,
        details: Option<String>,
    },
}

/// The user filter the seeds' PingOne setup needs on the SCIM connection.
pub const PINGONE_USER_FILTER: &str = "userName Eq \"%s\"";

/// Check 4: the IdP's provisioning job is healthy.
pub fn provisioning_check(p: Result<&Provisioning, &str>, now: DateTime<Utc>) -> Outcome {
    let check = CheckId::Provisioning;
    let p = match p {
        Err(e) => {
            return Outcome::new(
                check,
                Status::Unknown,
                "The IdP's provisioning could not be read",
            )
            .evidence(e.to_string())
            .with_fix();
        }
        Ok(p) => p,
    };
    let mut o = match p {
        Provisioning::Entra {
            job_id,
            code,
            last_successful,
            last_run,
            last_error,
            quarantine_reason,
            successive_failures,
        } => {
            let mut o = match code.as_str() {
                "Quarantine" => Outcome::new(
                    check,
                    Status::Fail,
                    format!(
                        "Entra's provisioning job is in quarantine ({})",
                        quarantine_reason.as_deref().unwrap_or("no reason given")
                    ),
                ),
                "Paused" => Outcome::new(check, Status::Fail, "Entra's provisioning job is paused"),
                "Active" => match last_successful {
                    None => Outcome::new(
                        check,
                        Status::Warn,
                        "Entra's provisioning job has not completed a cycle yet",
                    ),
                    Some(t) if now - *t > Duration::hours(PROVISIONING_STALE_HOURS) => {
                        Outcome::new(
                            check,
                            Status::Warn,
                            format!(
                                "Entra's provisioning job has not completed a cycle since {} UTC",
                                t.format("%Y-%m-%d %H:%M")
                            ),
                        )
                    }
                    Some(_) if *successive_failures > 0 => Outcome::new(
                        check,
                        Status::Warn,
                        format!(
                            "Entra's provisioning job's last {successive_failures} cycle(s) failed"
                        ),
                    ),
                    Some(_) => {
                        Outcome::new(check, Status::Pass, "Entra's provisioning job is active")
                    }
                },
                other => Outcome::new(
                    check,
                    Status::Fail,
                    format!("Entra's provisioning job is {other}: provisioning is not running"),
                ),
            };
            o = o.evidence(format!("job {job_id}: status {code}"));
            if let Some(t) = last_successful {
                o = o.evidence(format!(
                    "last successful cycle ended {} UTC",
                    t.format("%Y-%m-%d %H:%M")
                ));
            }
            if let Some(t) = last_run {
                o = o.evidence(format!(
                    "last cycle ended {} UTC",
                    t.format("%Y-%m-%d %H:%M")
                ));
            }
            if let Some(e) = last_error {
                o = o.evidence(format!("last error: {e}"));
            }
            o
        }
        Provisioning::PingOne {
            rule,
            active,
            user_filter,
            display_name_source,
            sync_state,
            last_sync,
            details,
        } => {
            let mut problems = Vec::new();
            if !active {
                problems.push(format!("the propagation rule {rule:?} is not active"));
            }
            if user_filter.as_deref() != Some(PINGONE_USER_FILTER) {
                problems.push(format!(
                    "the SCIM connection's user filter is {}, the setup needs {PINGONE_USER_FILTER}",
                    user_filter.as_deref().unwrap_or("not set")
                ));
            }
            if display_name_source.is_none() {
                problems.push(
                    "the rule maps nothing to displayName (the setup maps Username → displayName; without it Identity Center refuses users)".to_string(),
                );
            }
            if sync_state.as_deref() == Some("FAILED") {
                problems.push(format!(
                    "the last sync failed{}",
                    details
                        .as_deref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ));
            }
            let mut o = if problems.is_empty() {
                Outcome::new(
                    check,
                    Status::Pass,
                    format!(
                        "PingOne's propagation rule {rule:?} is active and set up as the seeds say"
                    ),
                )
            } else {
                Outcome::new(check, Status::Fail, capitalise(&problems.join("; ")))
            };
            o = o.evidence(format!(
                "rule {rule:?}: {}",
                if *active { "active" } else { "inactive" }
            ));
            if let Some(src) = display_name_source {
                o = o.evidence(format!("displayName mapped from {src}"));
            }
            if let Some(t) = last_sync {
                o = o.evidence(format!(
                    "last sync {} UTC ({})",
                    t.format("%Y-%m-%d %H:%M"),
                    sync_state.as_deref().unwrap_or("state unknown")
                ));
            }
            o
        }
    };
    o = o.with_fix();
    o
}

/// What the last refreshes say about arrivals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrivals {
    /// Users in the IdP's scope at the last scope read, and when it was read (None: never).
    pub scope_users: u64,
    pub scope_read_at: Option<DateTime<Utc>>,
    /// Scope users and groups missing in Identity Center (drift).
    pub missing_users: u64,
    pub missing_groups: u64,
    /// Most missing users allowed, in hundredths of a percent of the scope.
    pub max_missing_basis_points: u64,
}

/// Check 5: users and groups arrive — the scope as read recently, with few enough of its users
/// missing in Identity Center.
pub fn arrivals_check(a: &Arrivals, now: DateTime<Utc>) -> Outcome {
    let check = CheckId::Arrivals;
    let Some(read_at) = a.scope_read_at else {
        return Outcome::new(
            check,
            Status::Unknown,
            "The IdP's scope has not been read yet (it is read with each full refresh)",
        )
        .with_fix();
    };
    let allowed = a.scope_users * a.max_missing_basis_points / 10_000;
    let arrived = a.scope_users.saturating_sub(a.missing_users);
    let mut o = if a.missing_users > allowed {
        Outcome::new(
            check,
            Status::Fail,
            format!(
                "{} of {} users in the IdP's scope are missing in Identity Center (more than {}.{:02} %)",
                a.missing_users,
                a.scope_users,
                a.max_missing_basis_points / 100,
                a.max_missing_basis_points % 100
            ),
        )
    } else if now - read_at > Duration::hours(PROVISIONING_STALE_HOURS) {
        Outcome::new(
            check,
            Status::Warn,
            format!(
                "The IdP's scope was last read {} UTC: refresh to see recent changes",
                read_at.format("%Y-%m-%d %H:%M")
            ),
        )
    } else {
        Outcome::new(
            check,
            Status::Pass,
            format!(
                "{arrived} of {} users in the IdP's scope are in Identity Center",
                a.scope_users
            ),
        )
    };
    o = o.evidence(format!(
        "scope read {} UTC: {} users; missing in Identity Center: {} users, {} groups",
        read_at.format("%Y-%m-%d %H:%M"),
        a.scope_users,
        a.missing_users,
        a.missing_groups
    ));
    o.with_fix()
}
