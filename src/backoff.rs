//! The one retry pace of bondmap's clients (the RED open API and the Cainiao gateway):
//! waits that grow from `base` up to `cap` with decorrelated jitter, and a server's
//! `Retry-After` honoured up to `retry_after_cap`.
//!
//! Decorrelated jitter (each wait drawn between `base` and three times the last one, then
//! capped) spreads the retries of many threads that failed together, so they do not come
//! back in one burst, and never waits less than `base`:
//!
//! ```
//! # use bondmap::backoff::Policy;
//! # use std::time::Duration;
//! let p = Policy::new(Duration::from_millis(100), Duration::from_secs(2), Duration::from_secs(60));
//! let mut b = p.start();
//! let first = b.next_wait(None);
//! assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(300));
//! // The server asked for 5 s: waited, whatever the draw.
//! assert!(b.next_wait(Some(Duration::from_secs(5))) >= Duration::from_secs(5));
//! ```

use std::time::Duration;

/// How a client waits between tries of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The shortest wait, and the first one's scale.
    pub base: Duration,
    /// The longest wait the policy itself chooses.
    pub cap: Duration,
    /// The longest a server's `Retry-After` is waited for (a huge one is not obeyed).
    pub retry_after_cap: Duration,
}

impl Policy {
    pub fn new(base: Duration, cap: Duration, retry_after_cap: Duration) -> Policy {
        Policy {
            base,
            cap,
            retry_after_cap,
        }
    }

    /// The waits of one call's retries, from the first.
    pub fn start(&self) -> Backoff {
        Backoff {
            policy: *self,
            last: self.base,
        }
    }
}

/// The waits of one call: each [`Backoff::next_wait`] is the wait before the next try.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: Policy,
    last: Duration,
}

impl Backoff {
    /// The wait before the next try: drawn between `base` and three times the last wait,
    /// at most `cap`; at least what the server `asked` (its `Retry-After`, capped).
    pub fn next_wait(&mut self, asked: Option<Duration>) -> Duration {
        let p = self.policy;
        let low = p.base.min(p.cap);
        let high = self.last.saturating_mul(3).clamp(low, p.cap.max(low));
        let drawn = draw(low, high);
        self.last = drawn;
        let asked = asked.map_or(Duration::ZERO, |a| a.min(p.retry_after_cap));
        drawn.max(asked)
    }

    /// Sleeps [`Backoff::next_wait`].
    pub fn wait(&mut self, asked: Option<Duration>) {
        std::thread::sleep(self.next_wait(asked));
    }
}

/// A duration drawn evenly from `[low, high]`.
fn draw(low: Duration, high: Duration) -> Duration {
    let (lo, hi) = (nanos(low), nanos(high));
    if hi <= lo {
        return low;
    }
    Duration::from_nanos(fastrand::u64(lo..=hi))
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn waits_stay_between_base_and_cap_and_grow_on_average() {
        let p = Policy::new(10 * MS, 200 * MS, 60_000 * MS);
        let mut firsts = std::collections::HashSet::new();
        let mut late_sum = Duration::ZERO;
        for _ in 0..200 {
            let mut b = p.start();
            let first = b.next_wait(None);
            assert!((10 * MS..=30 * MS).contains(&first), "{first:?}");
            firsts.insert(first);
            let mut w = first;
            for _ in 0..8 {
                w = b.next_wait(None);
                assert!((10 * MS..=200 * MS).contains(&w), "{w:?}");
            }
            late_sum += w;
        }
        // Jittered: the first waits of 200 calls are not one value.
        assert!(firsts.len() > 50, "{}", firsts.len());
        // After nine tries the waits sit well above the base, near the cap.
        assert!(late_sum / 200 > 60 * MS, "{:?}", late_sum / 200);
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_cap() {
        let p = Policy::new(MS, 5 * MS, 2_000 * MS);
        let mut b = p.start();
        assert_eq!(
            b.next_wait(Some(1_500 * MS)),
            1_500 * MS,
            "the server's wait, longer than any draw"
        );
        assert_eq!(b.next_wait(Some(3_600_000 * MS)), 2_000 * MS);
        assert!(b.next_wait(Some(Duration::ZERO)) <= 5 * MS);
    }

    #[test]
    fn a_zero_or_inverted_policy_never_panics() {
        let mut b = Policy::new(Duration::ZERO, Duration::ZERO, Duration::ZERO).start();
        assert_eq!(b.next_wait(None), Duration::ZERO);
        let mut b = Policy::new(50 * MS, 10 * MS, Duration::ZERO).start();
        assert_eq!(b.next_wait(None), 10 * MS);
    }
}
