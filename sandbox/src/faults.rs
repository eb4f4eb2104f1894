//! Things going wrong on purpose, and time moving on demand: per-service fault plans (latency,
//! an error rate of a chosen kind, outages) and a clock that tests can advance. Set from Rust
//! through [`Faults`] and [`SandboxClock`], or over HTTP through the control API
//! (`/_sandbox/...`, see `server.rs`).

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What a failing request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The service's throttling answer (AWS: ThrottlingException; HTTP APIs: 429).
    #[default]
    Throttle,
    /// A 500 with the service's internal-error shape.
    InternalError,
    /// The connection is closed without an answer.
    DropConnection,
}

/// The faults of one service. The default plan is "healthy".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FaultPlan {
    /// Added to every answer.
    pub latency_ms: u64,
    /// Share of requests (0.0–1.0) that fail with `error`.
    pub error_rate: f64,
    pub error: FaultKind,
    /// Failing requests get a throttle, an internal error or a dropped connection, one third
    /// each (`error` is then ignored).
    pub mixed: bool,
    /// Every request fails with 503 Service Unavailable.
    pub outage: bool,
}

/// What to do with one request, decided before it is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Serve,
    Fail(FaultKind),
    Unavailable,
}

/// A plan that cannot be put in force.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultError {
    BadRate(f64),
}

impl std::error::Error for FaultError {}

impl std::fmt::Display for FaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultError::BadRate(r) => write!(f, "error_rate {r} must be between 0.0 and 1.0"),
        }
    }
}

/// The fault plans in force, by service name (`identitystore`, `sso-admin`, …).
#[derive(Debug)]
pub struct Faults {
    plans: RwLock<HashMap<String, FaultPlan>>,
    rng: Mutex<ChaCha8Rng>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            plans: RwLock::new(HashMap::new()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(0x5eed)),
        }
    }
}

impl Faults {
    /// Puts `plan` in force for `service`; a healthy plan removes the entry.
    pub fn set(&self, service: &str, plan: FaultPlan) -> Result<(), FaultError> {
        if !(0.0..=1.0).contains(&plan.error_rate) || plan.error_rate.is_nan() {
            return Err(FaultError::BadRate(plan.error_rate));
        }
        if let Ok(mut plans) = self.plans.write() {
            if plan == FaultPlan::default() {
                plans.remove(service);
            } else {
                plans.insert(service.to_string(), plan);
            }
        }
        Ok(())
    }

    /// Every service healthy again.
    pub fn clear(&self) {
        if let Ok(mut plans) = self.plans.write() {
            plans.clear();
        }
    }

    pub fn plans(&self) -> HashMap<String, FaultPlan> {
        self.plans.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// The latency to add and the verdict for one request to `service`.
    pub fn decide(&self, service: &str) -> (Duration, Verdict) {
        let Some(plan) = self.plans.read().ok().and_then(|p| p.get(service).cloned()) else {
            return (Duration::ZERO, Verdict::Serve);
        };
        let latency = Duration::from_millis(plan.latency_ms);
        if plan.outage {
            return (latency, Verdict::Unavailable);
        }
        let fails = plan.error_rate > 0.0
            && self
                .rng
                .lock()
                .map(|mut rng| rng.random_bool(plan.error_rate))
                .unwrap_or(false);
        if !fails {
            return (latency, Verdict::Serve);
        }
        let kind = if plan.mixed {
            const KINDS: [FaultKind; 3] = [
                FaultKind::Throttle,
                FaultKind::InternalError,
                FaultKind::DropConnection,
            ];
            self.rng
                .lock()
                .map(|mut rng| KINDS[rng.random_range(0..KINDS.len())])
                .unwrap_or(plan.error)
        } else {
            plan.error
        };
        (latency, Verdict::Fail(kind))
    }
}

/// The sandbox's idea of "now": real time plus an offset tests can advance (token expiry,
/// certificate countdowns). Signature checks always use real time.
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset_secs: RwLock<i64>,
}

impl SandboxClock {
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_secs.read().map(|o| *o).unwrap_or(0);
        Utc::now() + chrono::Duration::seconds(offset)
    }

    /// Moves the clock forward (a negative amount moves it back).
    pub fn advance(&self, seconds: i64) -> DateTime<Utc> {
        if let Ok(mut o) = self.offset_secs.write() {
            *o = o.saturating_add(seconds);
        }
        self.now()
    }

    pub fn offset_secs(&self) -> i64 {
        self.offset_secs.read().map(|o| *o).unwrap_or(0)
    }
}
