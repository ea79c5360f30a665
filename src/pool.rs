//! The one worker pool of bondmap: a few threads share the jobs of a list or of a
//! channel, so the caller's thread keeps what only it may do (write the state, print).
//! Used for the RED calls of a chunk of orders (`red::decrypt`), the sends of a batch
//! (`gateway::client`), the fetchers and gateway workers of a round (`sync::flow`) and the
//! parts of a stream being mapped (`cli::map`).
//!
//! Scoped threads (`std::thread::scope`): workers borrow what the caller holds and are all
//! joined before the call returns. A job that panics loses its own result ([`Panicked`]),
//! never the others' or the pool's.

use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

/// A job that panicked: its result is lost (the panic was reported on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

/// `f` over every item, at most `workers` at once (on the calling thread alone when one
/// would do); each result in the order of `items`.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Result<R, Panicked>> {
    let mut out: Vec<Option<Result<R, Panicked>>> = Vec::new();
    out.resize_with(items.len(), || None);
    each(items, workers, f, |i, r| out[i] = Some(r));
    out.into_iter()
        .map(|r| r.unwrap_or(Err(Panicked)))
        .collect()
}

/// `f` over every item, at most `workers` at once; `done` sees each result with its
/// item's index on the calling thread as soon as it is ready.
pub fn each<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> R + Sync,
    mut done: impl FnMut(usize, Result<R, Panicked>),
) {
    let workers = workers.clamp(1, items.len().max(1));
    if workers == 1 {
        for (i, item) in items.iter().enumerate() {
            done(i, guarded(|| f(item)));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = channel();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (tx, next, f) = (tx.clone(), &next, &f);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if tx.send((i, guarded(|| f(item)))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            done(i, r);
        }
    });
}

/// `workers` threads of scope `s` taking jobs from the returned sender as they come,
/// each running `work` on one job at a time. A worker ends when every sender is dropped
/// (after the jobs already sent) or when `work` breaks; a job that panics is lost and its
/// worker goes on.
pub fn feed<'scope, J: Send + 'scope>(
    s: &'scope Scope<'scope, '_>,
    workers: usize,
    work: impl Fn(J) -> ControlFlow<()> + Send + Sync + 'scope,
) -> Sender<J> {
    let (tx, rx) = channel::<J>();
    let rx = Arc::new(Mutex::new(rx));
    let work = Arc::new(work);
    for _ in 0..workers.max(1) {
        let (rx, work) = (rx.clone(), work.clone());
        s.spawn(move || loop {
            let Some(job) = take(&rx) else { return };
            if let Ok(ControlFlow::Break(())) = guarded(|| work(job)) {
                return;
            }
        });
    }
    tx
}

/// The next job, `None` once the senders are gone.
fn take<J>(rx: &Mutex<Receiver<J>>) -> Option<J> {
    // A poisoned lock only means a worker panicked while waiting: the channel is whole.
    let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
    rx.recv().ok()
}

/// Runs one job on the calling thread, a panic caught (reported on stderr, the result
/// lost).
pub fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, Panicked> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| Panicked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[test]
    fn map_keeps_the_order_and_runs_at_most_the_workers_asked() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items: Vec<u64> = (0..40).collect();
        let out = map(&items, 4, |&i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
            i * 10
        });
        let want: Vec<Result<u64, Panicked>> = (0..40).map(|i| Ok(i * 10)).collect();
        assert_eq!(out, want);
        assert!(most.load(Ordering::SeqCst) <= 4);
        assert!(most.load(Ordering::SeqCst) >= 2, "ran one at a time");
    }

    #[test]
    fn a_panicking_job_loses_only_its_result() {
        let items: Vec<u32> = (0..10).collect();
        for workers in [1, 3] {
            let out = map(&items, workers, |&i| {
                if i == 4 {
                    panic!("job 4 (a test of the pool)");
                }
                i
            });
            assert_eq!(out[4], Err(Panicked));
            assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 9);
        }
    }

    #[test]
    fn each_hands_results_to_the_caller_as_they_finish() {
        let items = [30u64, 0];
        let mut order = Vec::new();
        each(
            &items,
            2,
            |&ms| std::thread::sleep(Duration::from_millis(ms)),
            |i, _| order.push(i),
        );
        assert_eq!(order, [1, 0]);
    }

    #[test]
    fn a_feed_takes_jobs_until_its_sender_is_dropped_or_work_breaks() {
        let seen = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            let jobs = feed(s, 3, |j: u32| {
                seen.lock().unwrap().push(j);
                if j == 99 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            for j in 0..20 {
                jobs.send(j).unwrap();
            }
        });
        let mut got = seen.into_inner().unwrap();
        got.sort();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
    }
}
