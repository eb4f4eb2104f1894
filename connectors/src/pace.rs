//! Pacing one API at its documented quota: a token bucket holding nine tenths of a second of
//! calls (the service's bucket holds a second; the tenth left over absorbs the jitter between the
//! two clocks). After a pause that many calls go at once; from then on turns are spaced `1/rate`
//! apart, so a read with many calls in flight still sends at most the quota. When the service throttles anyway
//! (another client shares the quota, or the quota is lower than configured) the spacing doubles —
//! once per second at most, since the calls in flight all meet the same throttling — and each
//! success brings it back an eighth of the way towards the quota.
//!
//! Retries of failed attempts (429, 5xx, timeouts, dropped connections) are the SDK's: standard
//! mode, exponential backoff with jitter.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The slowest pace a throttled API is brought down to.
const SLOWEST: Duration = Duration::from_secs(5);
/// The bucket holds this much time's worth of calls.
const BURST_WINDOW: Duration = Duration::from_millis(900);
/// Throttling answers within this long of a slow-down count as one.
const CUT_WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Pace {
    fastest: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    interval: Duration,
    next: Option<Instant>,
    last_cut: Option<Instant>,
}

impl Pace {
    /// A pace of `per_second` calls (at least one).
    pub fn per_second(per_second: u32) -> Self {
        let fastest = Duration::from_secs(1) / per_second.max(1);
        Self {
            fastest,
            state: Mutex::new(State {
                interval: fastest,
                next: None,
                last_cut: None,
            }),
        }
    }

    /// Waits for this caller's turn.
    pub async fn turn(&self) {
        let at = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let now = Instant::now();
            // Unused turns of the last second may be taken now (the bucket's burst).
            let earliest = now
                .checked_sub(BURST_WINDOW.saturating_sub(state.interval))
                .unwrap_or(now);
            let at = state.next.map_or(earliest, |next| next.max(earliest));
            state.next = Some(at + state.interval);
            at.max(now)
        };
        tokio::time::sleep_until(at).await;
    }

    /// The service throttled a call: halve the rate, unless it was just halved.
    pub fn throttled(&self) {
        if let Ok(mut state) = self.state.lock() {
            let now = Instant::now();
            if state.last_cut.is_some_and(|at| now < at + CUT_WINDOW) {
                return;
            }
            state.last_cut = Some(now);
            state.interval = (state.interval * 2).min(SLOWEST);
        }
    }

    /// A call succeeded: move an eighth of the way back to the quota.
    pub fn succeeded(&self) {
        if let Ok(mut state) = self.state.lock()
            && state.interval > self.fastest
        {
            let gap = state.interval - self.fastest;
            state.interval -= gap / 8 + Duration::from_micros(1).min(gap);
        }
    }

    /// Calls per second at the current spacing.
    pub fn rate(&self) -> f64 {
        self.state
            .lock()
            .map(|s| 1.0 / s.interval.as_secs_f64())
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn turns_are_spaced_at_the_rate_after_a_burst_of_one_second() {
        let pace = Pace::per_second(20);
        let started = Instant::now();
        for _ in 0..18 {
            pace.turn().await;
        }
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "a full bucket: 18 at once"
        );
        for _ in 0..20 {
            pace.turn().await;
        }
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(1),
            "then 20 per second"
        );
        // After a pause the bucket has refilled, but never beyond its size.
        tokio::time::advance(Duration::from_secs(10)).await;
        let resumed = Instant::now();
        for _ in 0..19 {
            pace.turn().await;
        }
        assert_eq!(resumed.elapsed(), Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_slows_the_pace_and_successes_restore_it() {
        let pace = Pace::per_second(20);
        pace.throttled();
        pace.throttled();
        assert!(
            (pace.rate() - 10.0).abs() < 0.01,
            "one cut per second: {}",
            pace.rate()
        );
        tokio::time::advance(CUT_WINDOW).await;
        pace.throttled();
        assert!((pace.rate() - 5.0).abs() < 0.01, "{}", pace.rate());
        for _ in 0..100 {
            pace.succeeded();
        }
        assert!((pace.rate() - 20.0).abs() < 0.01, "{}", pace.rate());
        for _ in 0..20 {
            tokio::time::advance(CUT_WINDOW).await;
            pace.throttled();
        }
        assert!(
            (pace.rate() - 0.2).abs() < 0.01,
            "never slower than one call in 5 s"
        );
    }
}
