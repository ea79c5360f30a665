//! What the simulators count of the requests they answer: how many at once at most, and
//! the most in any one second (what a rate limit of "N calls a second" counts).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Requests being answered now and the most at any one time: the concurrency a client
/// really reached, as both simulators report it.
#[derive(Debug, Default)]
pub struct Flights {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Flights {
    /// Runs `f` counted as one request in flight.
    pub fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        let out = f();
        self.now.fetch_sub(1, Ordering::SeqCst);
        out
    }
    /// The most requests answered at one time so far.
    pub fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// The most of `times` (in any order) that fall in one window [t, t + 1 s).
pub fn most_in_any_second(times: &[Instant]) -> usize {
    let mut t = times.to_vec();
    t.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..t.len() {
        while t[end] - t[start] >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flights_count_the_most_at_once() {
        let f = Flights::default();
        f.during(|| f.during(|| ()));
        f.during(|| ());
        assert_eq!(f.most(), 2);
        assert_eq!(f.now.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_busiest_second_is_counted_over_sliding_windows() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // 3 in [0, 1 s), but 4 in [900 ms, 1.9 s).
        let times = [
            at(1850),
            at(0),
            at(500),
            at(900),
            at(1000),
            at(1200),
            at(2900),
        ];
        assert_eq!(most_in_any_second(&times), 4);
        assert_eq!(most_in_any_second(&[]), 0);
        // A window is half-open: two calls exactly a second apart are in different ones.
        assert_eq!(most_in_any_second(&[at(0), at(1000)]), 1);
    }
}
