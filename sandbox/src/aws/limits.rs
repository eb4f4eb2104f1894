//! The request quotas AWS enforces, so clients meet throttling here before they meet it in
//! production: 20 requests/s per Identity Store operation (per store), 20 requests/s across all
//! of SSO Admin, 40 reads/s and 25 writes/s on the SCIM endpoint. Over quota, AWS answers
//! `ThrottlingException` with `RetryAfterSeconds` (SCIM: 429).

use std::collections::HashMap;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{AwsError, Service};

/// Requests per second allowed; bursts up to the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub identitystore_per_operation: NonZeroU32,
    pub ssoadmin_total: NonZeroU32,
    pub scim_reads: NonZeroU32,
    pub scim_writes: NonZeroU32,
}

impl Default for Limits {
    fn default() -> Self {
        let twenty = NonZeroU32::MIN.saturating_add(19);
        Self {
            identitystore_per_operation: twenty,
            ssoadmin_total: twenty,
            scim_reads: NonZeroU32::MIN.saturating_add(39),
            scim_writes: NonZeroU32::MIN.saturating_add(24),
        }
    }
}

pub struct Throttle {
    identitystore: HashMap<&'static str, DefaultDirectRateLimiter>,
    ssoadmin: DefaultDirectRateLimiter,
    scim_reads: DefaultDirectRateLimiter,
    scim_writes: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish_non_exhaustive()
    }
}

impl Throttle {
    pub fn new(limits: Limits) -> Self {
        let per_op = Quota::per_second(limits.identitystore_per_operation);
        Self {
            identitystore: super::identitystore::OPERATIONS
                .iter()
                .map(|op| (*op, RateLimiter::direct(per_op)))
                .collect(),
            ssoadmin: RateLimiter::direct(Quota::per_second(limits.ssoadmin_total)),
            scim_reads: RateLimiter::direct(Quota::per_second(limits.scim_reads)),
            scim_writes: RateLimiter::direct(Quota::per_second(limits.scim_writes)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from the bucket of `service`/`operation`, or says when to come back.
    /// Operations the service does not have are not counted (they are refused anyway). SCIM
    /// counts `"read"` (GET) and everything else as a write.
    pub fn admit(&self, service: Service, operation: &str) -> Result<(), AwsError> {
        let limiter = match service {
            Service::SsoAdmin => Some(&self.ssoadmin),
            Service::IdentityStore => self.identitystore.get(operation),
            Service::Scim if operation == "read" => Some(&self.scim_reads),
            Service::Scim => Some(&self.scim_writes),
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AwsError::throttled(wait.as_secs().max(1))
        })
    }
}
