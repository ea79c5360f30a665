//! The pace of RED calls: one limiter over every call of a `RedClient` (retries included),
//! shared by all its threads, so that no one-second window ever holds more calls than
//! the configured rate; a rate-limit answer from RED halves the pace (at most once a
//! second), which then recovers linearly to the configured rate over ten seconds.
//!
//! RED counts calls when they arrive. A call that waits a little longer on its way can
//! arrive next to one booked a second after it, so the limiter books at most `rate` calls
//! in any window of 1 s plus a margin, spaced evenly, and counts a call whose thread woke
//! late from the instant it really started: the calls booked after it keep their distance
//! from that instant. The margin, left for the way to RED, follows how late the threads
//! wake (a busy machine is slow on the way too): [`MARGIN`] on a quiet machine, twice the
//! recent lateness more on a busy one, at most [`MAX_MARGIN`]. The cost is pace: 80 a
//! second configured is 76.9 a second booked at the least margin.
//!
//! Written here rather than taken from `governor`: governor's rate is fixed when it is
//! built (slowing down on RED's answer would mean swapping limiters under the threads),
//! its waiting is async, and what RED counts is calls per second, which a spacing of
//! 1/rate between calls plus a log of the last second's calls guarantees directly.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The least room for calls that take different times to reach RED.
pub const MARGIN: Duration = Duration::from_millis(40);
/// The most.
pub const MAX_MARGIN: Duration = Duration::from_millis(200);
/// The window the rate is kept in, at the least margin.
const WINDOW: Duration = Duration::from_millis(1000 + MARGIN.as_millis() as u64);
/// How much of the recent lateness is remembered at each call: half of it after about
/// 140 calls (two seconds at 80 a second).
const LATE_MEMORY: f64 = 0.995;

/// Time from halving the pace back to the full rate.
const RECOVERY: Duration = Duration::from_secs(10);

pub struct Limiter {
    max: u32,
    state: Mutex<State>,
}

struct State {
    /// The earliest instant the next call may go.
    next: Instant,
    /// The calls of the last window: each booked instant, replaced by the instant the call
    /// really started when its thread woke late ([`Limiter::acquire`]).
    recent: VecDeque<(u64, Instant)>,
    /// The id of the last call booked.
    seq: u64,
    /// How late the threads woke lately (a decaying maximum).
    late: Duration,
    /// The pace right after the last slow-down, and when it happened.
    slowed: Option<(f64, Instant)>,
}

impl Limiter {
    /// At most `per_second` calls in any one-second window (at least 1).
    pub fn new(per_second: u32) -> Limiter {
        let now = Instant::now();
        Limiter {
            max: per_second.max(1),
            state: Mutex::new(State {
                next: now,
                recent: VecDeque::new(),
                seq: 0,
                late: Duration::ZERO,
                slowed: None,
            }),
        }
    }

    /// The configured rate.
    pub fn max_per_second(&self) -> u32 {
        self.max
    }

    /// Blocks until this call may go.
    pub fn acquire(&self) {
        let (id, at) = self.book(Instant::now());
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        // A thread that woke late starts its call late: the calls booked after this
        // are kept a window away from when it really went.
        self.started(id, Instant::now());
    }

    /// Books the next slot at or after `now` and returns it: a window/rate after the
    /// previous one, and never more than `max` calls in any window.
    pub fn reserve(&self, now: Instant) -> Instant {
        self.book(now).1
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update: the state is
        // still a valid schedule.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn book(&self, now: Instant) -> (u64, Instant) {
        let mut s = self.lock();
        let rate = s.rate(self.max, now);
        let mut at = s.next.max(now);
        let window = s.window();
        s.recent.retain(|(_, t)| *t + window > at);
        let max = self.max as usize;
        if s.recent.len() >= max {
            // The window ending at the new call holds at most `max - 1` others.
            let mut times: Vec<Instant> = s.recent.iter().map(|(_, t)| *t).collect();
            times.sort_unstable();
            at = at.max(times[times.len() - max] + window);
        }
        s.seq += 1;
        let id = s.seq;
        s.recent.push_back((id, at));
        s.next = at + window.div_f64(rate);
        (id, at)
    }

    /// Call `id` really started at `at` (later than booked, when its thread woke late).
    fn started(&self, id: u64, at: Instant) {
        let mut s = self.lock();
        let mut late = Duration::ZERO;
        if let Some((_, t)) = s.recent.iter_mut().rev().find(|(i, _)| *i == id) {
            late = at.saturating_duration_since(*t);
            *t = (*t).max(at);
        }
        s.late = late.max(s.late.mul_f64(LATE_MEMORY));
    }

    /// RED said the app is over its limit: halve the current pace (at least one call a
    /// second).
    pub fn slow_down(&self) {
        self.slow_down_at(Instant::now());
    }

    pub fn slow_down_at(&self, now: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // The calls in flight when RED started refusing all come back refused together:
        // that is one signal, so the pace halves at most once a second.
        if s.slowed
            .is_some_and(|(_, at)| now.saturating_duration_since(at) < Duration::from_secs(1))
        {
            return;
        }
        let rate = (s.rate(self.max, now) / 2.0).max(1.0);
        s.slowed = Some((rate, now));
        // Calls already booked at the old pace keep their slots; the next one waits.
        s.next = s.next.max(now) + s.window().div_f64(rate);
    }

    /// The pace now, in calls a second.
    pub fn rate_at(&self, now: Instant) -> f64 {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.rate(self.max, now)
    }
}

impl State {
    /// The window the rate is kept in now: 1 s and the margin the recent lateness asks
    /// (twice it: a thread that wakes late is on a machine slow on the way to RED too).
    fn window(&self) -> Duration {
        (WINDOW + self.late * 2).min(Duration::from_secs(1) + MAX_MARGIN.max(MARGIN))
    }

    fn rate(&self, max: u32, now: Instant) -> f64 {
        let max = f64::from(max);
        match self.slowed {
            None => max,
            Some((low, at)) => {
                let gone = now.saturating_duration_since(at).as_secs_f64() / RECOVERY.as_secs_f64();
                (low + (max - low) * gone).min(max)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most slots of `slots` in any window [t, t + 1 s).
    fn most_in_a_second(slots: &[Instant]) -> usize {
        let mut best = 0;
        for (i, a) in slots.iter().enumerate() {
            let n = slots[i..]
                .iter()
                .take_while(|b| **b < *a + Duration::from_secs(1))
                .count();
            best = best.max(n);
        }
        best
    }

    #[test]
    fn slots_are_spaced_and_no_second_holds_more_than_the_rate() {
        let l = Limiter::new(10);
        let t0 = Instant::now();
        // Forty callers at the same instant.
        let slots: Vec<Instant> = (0..40).map(|_| l.reserve(t0)).collect();
        assert_eq!(slots[0], t0);
        assert!(slots
            .windows(2)
            .all(|w| w[1] - w[0] >= Duration::from_millis(99)));
        assert_eq!(most_in_a_second(&slots), 10);
        // The last of forty goes at 3.9 s, not before.
        assert!(slots[39] - t0 >= Duration::from_millis(3890));
    }

    #[test]
    fn a_rate_limit_answer_halves_the_pace_which_then_recovers() {
        let l = Limiter::new(80);
        let t0 = Instant::now();
        assert_eq!(l.rate_at(t0), 80.0);
        l.slow_down_at(t0);
        assert_eq!(l.rate_at(t0), 40.0);
        // Sixteen refusals of calls that were in flight together: one halving.
        for _ in 0..16 {
            l.slow_down_at(t0 + Duration::from_millis(300));
        }
        assert_eq!(l.rate_at(t0), 40.0);
        // A refusal a second later halves again, from the pace recovered by then.
        let t1 = t0 + Duration::from_secs(1);
        let before = l.rate_at(t1);
        assert!(before > 40.0 && before < 80.0, "{before}");
        l.slow_down_at(t1);
        assert_eq!(l.rate_at(t1), before / 2.0);
        let half = l.rate_at(t1 + RECOVERY / 2);
        assert!(half > before / 2.0 && half < 80.0, "{half}");
        assert_eq!(l.rate_at(t1 + RECOVERY), 80.0);
        // Slots booked right after the slow-down are spaced at the slower pace.
        let a = l.reserve(t1);
        let b = l.reserve(t1);
        let spacing = WINDOW.div_f64(before / 2.0);
        assert!(b - a >= spacing - Duration::from_millis(1), "{:?}", b - a);
    }

    #[test]
    fn a_call_that_started_late_keeps_the_calls_after_it_a_window_away() {
        let l = Limiter::new(2);
        let t0 = Instant::now();
        let (a, at_a) = l.book(t0);
        let (_, at_b) = l.book(t0);
        assert_eq!(at_b - at_a, WINDOW / 2);
        // The first call's thread woke 400 ms late: the third call keeps a window (widened
        // by the lateness, to the most margin) from when the first really went.
        let late = at_a + Duration::from_millis(400);
        l.started(a, late);
        let (_, at_c) = l.book(t0);
        assert_eq!(at_c, late + Duration::from_secs(1) + MAX_MARGIN);
        // Without the late start it would have gone a window after the first's slot.
        let m = Limiter::new(2);
        let (_, first) = m.book(t0);
        m.book(t0);
        assert_eq!(m.book(t0).1, first + WINDOW);
    }

    #[test]
    fn late_threads_widen_the_margin_which_narrows_again_when_they_are_on_time() {
        let l = Limiter::new(10);
        let t0 = Instant::now();
        let (a, at_a) = l.book(t0);
        let (_, at_b) = l.book(t0);
        assert_eq!(at_b - at_a, WINDOW / 10);
        // A thread 30 ms late: the margin is the least and twice that.
        l.started(a, at_a + Duration::from_millis(30));
        let wide = WINDOW + Duration::from_millis(60);
        assert_eq!(l.lock().window(), wide);
        let (_, at_c) = l.book(t0);
        let (_, at_d) = l.book(t0);
        assert_eq!(at_d - at_c, wide / 10);
        // Very late: never more than the most margin.
        l.started(a, at_a + Duration::from_secs(5));
        assert_eq!(l.lock().window(), Duration::from_secs(1) + MAX_MARGIN);
        // Calls on time: the lateness fades and the margin comes back to the least.
        for _ in 0..3000 {
            let (id, at) = l.book(t0);
            l.started(id, at);
        }
        assert!(l.lock().window() < WINDOW + Duration::from_millis(1));
    }

    #[test]
    fn the_pace_never_drops_below_one_call_a_second() {
        let l = Limiter::new(2);
        let t0 = Instant::now();
        for i in 0..10 {
            l.slow_down_at(t0 + Duration::from_secs(i));
        }
        assert_eq!(l.rate_at(t0 + Duration::from_secs(9)), 1.0);
    }
}
