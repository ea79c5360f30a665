//! Many orders in flight, every store guarantee kept.
//!
//! Three kinds of thread, all from [`crate::pool`]: [`FETCHERS`] fetchers each fetch a
//! chunk of orders' documents from RED and map them (at most [`AHEAD`] chunks whose sends
//! are not all answered, so only a few chunks of documents ever exist); the gateway
//! workers send; and this thread, the only one that writes the store, hands out the
//! chunks, records each fetched chunk (`fetched`, `rejected`, `failed`, then `sending` for
//! every order about to go) in one transaction *before* any of its orders is handed to a
//! worker, and records each answer as it comes back (the answers that arrived together in
//! one transaction). A kill at any point leaves every order either settled or in a stage
//! the next round takes up again; one in `sending` is sent again with the same
//! `externalOrderCode`, which Cainiao answers as a duplicate.
//!
//! **Pace.** RED's limiter, not the round trip, should bound a round: the fetchers keep
//! enough calls in flight that one chunk's few sequential steps (its receivers, its
//! decrypts) never leave the limiter idle, and chunks are small at both ends of a round
//! (the first sends start soon, the last ones end soon).
//!
//! **Passing faults** ([`RedError::is_passing`], a gateway answer that never came): the
//! order is left where the next round takes it up again (`seen`, `sending`) with the
//! error kept, never `failed` for a person. An order re-planned from a settled stage
//! (RED changed it) keeps that stage, and the round holds its checkpoint before the
//! order's update time so the next round lists it again.

use super::progress::Progress;
use super::{hash, OrderLine, Pipeline, SyncError};
use crate::gateway::{GatewayRequest, Outcome};
use crate::pii::Redactor;
use crate::pool;
use crate::red::decrypt::fetch_documents;
use crate::red::{RedClient, RedError};
use crate::store::{Stage, StoreError, Txn};
use serde_json::Value;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};

/// Chunks handed to the fetchers whose sends are not all answered.
const AHEAD: usize = FETCHERS + 1;
/// Fetcher threads: three, so that while one is in a chunk's sequential steps (its
/// receivers, then its decrypts: few calls, each a round trip) the others keep RED's
/// limiter busy with detail and declare calls.
const FETCHERS: usize = 3;
/// The first chunk's size; chunks double from it up to the configured size, so the first
/// sends start after a short fetch; a round long enough ends with the same steps down
/// ([`chunk_sizes`]), so the last sends end soon after the last fetch.
const FIRST_CHUNK: usize = 16;

/// How `n` orders are cut into chunks of at most `chunk`: growing from [`FIRST_CHUNK`],
/// and, when there are orders enough for a whole chunk between, shrinking to it at the end.
fn chunk_sizes(n: usize, chunk: usize) -> Vec<usize> {
    let chunk = chunk.max(1);
    let mut ramp = Vec::new();
    let mut next = FIRST_CHUNK.min(chunk);
    while next < chunk {
        ramp.push(next);
        next *= 2;
    }
    let ramps: usize = ramp.iter().sum();
    let mut sizes = Vec::new();
    let mut left = n;
    let tail = if n >= 2 * ramps + chunk {
        left -= ramps;
        ramp.iter().rev().copied().collect()
    } else {
        Vec::new()
    };
    for size in ramp.iter().copied().chain(std::iter::repeat(chunk)) {
        if left == 0 {
            break;
        }
        let size = size.min(left);
        sizes.push(size);
        left -= size;
    }
    sizes.extend(tail);
    sizes
}

/// Orders recorded `seen` per transaction while planning.
const PLAN_BATCH: usize = 500;

/// What an order is fetched for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// To be mapped and sent.
    Send,
    /// Accepted, and RED says it changed since: compare, flag, send nothing.
    Check,
}

#[derive(Debug)]
struct Planned {
    id: String,
    update_time: i64,
    known_update_time: i64,
    known_hash: Option<String>,
    /// Its stage when planned: a passing fault leaves it there.
    stage: Stage,
    want: Want,
}

/// What the fetcher made of one fetched order (its document already dropped there, on the
/// thread that built it).
enum Mapped {
    /// Fetched to compare: its hash, or `None` when RED could not give it.
    Checked(Option<String>),
    /// RED did not give it: `passing` when that may pass ([`RedError::is_passing`]).
    FetchFailed { error: String, passing: bool },
    Rejected {
        hash: String,
        error: String,
        /// Its run-time error code (`bondmap::run::…`).
        code: &'static str,
    },
    Ready {
        hash: String,
        request: GatewayRequest,
        redactor: Redactor,
        /// The routed warehouse mapping (relative path), when sent through a routes file.
        warehouse: Option<String>,
    },
    /// No route takes it.
    Skipped { hash: String, reason: String },
}

struct Job {
    chunk: usize,
    id: String,
    request: GatewayRequest,
    redactor: Redactor,
}

enum Event {
    Fetched(usize, Vec<(Planned, Mapped)>),
    Sent {
        chunk: usize,
        id: String,
        outcome: Outcome,
        attempts: u32,
        redactor: Redactor,
        /// Told once the answer is recorded; the worker takes no new order before.
        recorded: SyncSender<()>,
    },
}

pub(super) fn run(
    p: &mut Pipeline,
    todo: Vec<(String, i64)>,
    force: bool,
    on_order: &mut dyn FnMut(&OrderLine),
) -> Result<Held, SyncError> {
    // An order named twice is taken once: two sends of it could both be in flight.
    let mut once = std::collections::HashSet::new();
    let todo: Vec<(String, i64)> = todo
        .into_iter()
        .filter(|(id, _)| once.insert(id.clone()))
        .collect();
    drop(once);
    let mut progress = Progress::start(todo.len(), p.options.progress);
    let mut emit = |l: OrderLine| {
        progress.order(&l);
        on_order(&l);
    };
    // Plan: record every order seen; those with nothing to do settle at once.
    let mut planned = Vec::new();
    for batch in todo.chunks(PLAN_BATCH) {
        let settled = p.store.transaction(|t| {
            let mut settled = Vec::new();
            for (id, update_time) in batch {
                let row = t.record_seen(id, *update_time)?;
                let want = match row.stage {
                    Stage::Accepted if *update_time > row.update_time => Some(Want::Check),
                    // Further on in its life (shipped, delivered, cancelled): never sent again.
                    s if s.is_final() => None,
                    // Ended without Cainiao having it (rejected, skipped, failed): taken
                    // again when RED changed it, or when forced.
                    s if !s.is_pending() && !force && *update_time <= row.update_time => None,
                    _ => Some(Want::Send),
                };
                match want {
                    Some(want) => planned.push(Planned {
                        id: id.clone(),
                        update_time: *update_time,
                        known_update_time: row.update_time,
                        known_hash: row.input_hash.clone(),
                        stage: row.stage,
                        want,
                    }),
                    None => settled.push(OrderLine::from(row)),
                }
            }
            Ok(settled)
        })?;
        for l in settled {
            emit(l);
        }
    }
    let mut held = Held::default();
    if !planned.is_empty() {
        let targets = super::route::targets(p);
        let mut flow = Flow {
            p,
            targets,
            held: Held::default(),
        };
        flow.drive(planned, &mut emit)?;
        held = flow.held;
    }
    progress.finish();
    Ok(held)
}

/// Orders a passing fault left in a settled stage, which the listing must show again.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Held {
    /// The earliest RED update time (ms) among them.
    pub since_ms: Option<i64>,
}

impl Held {
    fn hold(&mut self, update_time_ms: i64) {
        self.since_ms = Some(
            self.since_ms
                .map_or(update_time_ms, |t| t.min(update_time_ms)),
        );
    }
}

struct Flow<'p, 'a> {
    p: &'p mut Pipeline<'a>,
    targets: Vec<super::route::Target<'a>>,
    held: Held,
}

impl Flow<'_, '_> {
    fn drive(
        &mut self,
        planned: Vec<Planned>,
        emit: &mut dyn FnMut(OrderLine),
    ) -> Result<(), SyncError> {
        let (red, gateway) = (self.p.red, self.p.gateway);
        let opts = self.p.options.clone();
        let mut chunks: Vec<Vec<Planned>> = Vec::new();
        let mut rest = planned.into_iter();
        for size in chunk_sizes(rest.len(), opts.chunk) {
            chunks.push(rest.by_ref().take(size).collect());
        }
        let (ev_tx, ev_rx) = channel::<Event>();
        let router = self.p.routing.as_ref().map(|r| r.router);
        // The fetchers' own: this thread keeps `self` to write the store.
        let targets = &std::mem::take(&mut self.targets);
        std::thread::scope(|s| {
            let fetched_tx = ev_tx.clone();
            let parallel = opts.fetch_parallel;
            let fetchers = pool::feed(s, FETCHERS, move |(n, part): (usize, Vec<Planned>)| {
                let mapped = pool::guarded(|| fetch_and_map(red, &part, parallel, router, targets))
                    // A fetcher's bug loses no order: each is left for the next round.
                    .unwrap_or_else(|_| part.iter().map(|o| lost(o.want)).collect());
                let batch = part.into_iter().zip(mapped).collect();
                match fetched_tx.send(Event::Fetched(n, batch)) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                }
            });
            let sent_tx = ev_tx;
            let senders = pool::feed(s, opts.concurrency.clamp(1, 64), move |job: Job| {
                let (outcome, attempts) = gateway.send_one(&job.request);
                // A pair per answer: if the writer drops the event unrecorded (it
                // stopped), the wait below ends too.
                let (recorded, was_recorded) = sync_channel::<()>(1);
                let sent = Event::Sent {
                    chunk: job.chunk,
                    id: job.id,
                    outcome,
                    attempts,
                    redactor: job.redactor,
                    recorded,
                };
                // Waiting for the record keeps the sends a kill can leave unrecorded to
                // one per worker.
                if sent_tx.send(sent).is_err() || was_recorded.recv().is_err() {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
            // Owns the senders of jobs: returning drops them, which stops the fetchers
            // and the workers (each after what it is doing).
            self.settle(chunks, ev_rx, fetchers, senders, emit)
        })
    }

    /// The store's one writer: hands out chunks to fetch (at most [`AHEAD`] whose sends
    /// are not all answered) and orders to send, and records what comes back.
    fn settle(
        &mut self,
        chunks: Vec<Vec<Planned>>,
        events: Receiver<Event>,
        fetchers: Sender<(usize, Vec<Planned>)>,
        jobs: Sender<Job>,
        emit: &mut dyn FnMut(OrderLine),
    ) -> Result<(), SyncError> {
        let total = chunks.len();
        let mut to_fetch = chunks.into_iter().enumerate();
        let mut fetchers = Some(fetchers);
        // Hands out the next chunk, if any; the last one closes the fetchers' feed.
        let mut hand_out = |fetchers: &mut Option<Sender<(usize, Vec<Planned>)>>| {
            match to_fetch.next() {
                Some(c) => {
                    if let Some(f) = fetchers.as_ref() {
                        f.send(c).map_err(|_| {
                            SyncError::Stopped("the fetchers of the pipeline ended".into())
                        })?;
                    }
                }
                None => *fetchers = None,
            }
            Ok::<(), SyncError>(())
        };
        for _ in 0..AHEAD.min(total) {
            hand_out(&mut fetchers)?;
        }
        let mut fetched = 0;
        // Sends not yet answered, per chunk.
        let mut open: HashMap<usize, usize> = HashMap::new();
        let mut held: Option<Event> = None;
        while !(fetched == total && open.is_empty()) {
            let ev = match held.take() {
                Some(e) => e,
                None => events
                    .recv()
                    .map_err(|_| SyncError::Stopped("a worker of the pipeline ended".into()))?,
            };
            match ev {
                Event::Fetched(n, batch) => {
                    fetched += 1;
                    let (ready, settled) = self.fetched(batch)?;
                    for l in settled {
                        emit(l);
                    }
                    if ready.is_empty() {
                        hand_out(&mut fetchers)?;
                    } else {
                        open.insert(n, ready.len());
                    }
                    for mut j in ready {
                        j.chunk = n;
                        jobs.send(j)
                            .map_err(|_| SyncError::Stopped("the gateway workers ended".into()))?;
                    }
                }
                first @ Event::Sent { .. } => {
                    // The answers already here are recorded together.
                    let mut answers = vec![first];
                    loop {
                        match events.try_recv() {
                            Ok(e @ Event::Sent { .. }) => answers.push(e),
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                        }
                    }
                    let lines = self.answered(&answers)?;
                    for a in &answers {
                        if let Event::Sent {
                            chunk, recorded, ..
                        } = a
                        {
                            let _ = recorded.try_send(());
                            if let Some(left) = open.get_mut(chunk) {
                                *left -= 1;
                                if *left == 0 {
                                    open.remove(chunk);
                                    hand_out(&mut fetchers)?;
                                }
                            }
                        }
                    }
                    for l in lines {
                        emit(l);
                    }
                }
            }
        }
        Ok(())
    }

    /// One transaction for a fetched chunk: each order `fetched` then `rejected`, `failed`,
    /// flagged, or `sending`; the orders to send come back as jobs, the others as lines.
    fn fetched(
        &mut self,
        batch: Vec<(Planned, Mapped)>,
    ) -> Result<(Vec<Job>, Vec<OrderLine>), SyncError> {
        let r = self.p.store.transaction(|t| {
            let mut jobs = Vec::new();
            let mut lines = Vec::new();
            for (o, m) in batch {
                let id = o.id.as_str();
                let known = o.update_time.max(o.known_update_time);
                match m {
                    Mapped::Checked(Some(h)) if Some(&h) != o.known_hash.as_ref() => {
                        t.mark_changed_after_accept(id, o.update_time)?;
                        tracing::warn!(
                            order_id = id,
                            "changed at RED after Cainiao accepted it; not re-sent"
                        );
                    }
                    Mapped::Checked(Some(_)) => {}
                    // A failed look at RED: accepted stays as it is, looked at again later.
                    Mapped::Checked(None) => self.held.hold(o.update_time),
                    Mapped::FetchFailed {
                        error,
                        passing: true,
                    } => {
                        // Tried again next round: a pending order is taken up again; one
                        // in a settled stage keeps it (a failed one this error) and is
                        // listed again.
                        if o.stage.is_pending() || o.stage == Stage::Failed {
                            t.set_error(id, &error)?;
                        }
                        if !o.stage.is_pending() {
                            self.held.hold(o.update_time);
                        }
                        tracing::warn!(
                            order_id = id,
                            "fetching from RED failed; tried again next round"
                        );
                    }
                    Mapped::FetchFailed {
                        error,
                        passing: false,
                    } => {
                        tracing::warn!(
                            order_id = id,
                            stage = "failed",
                            "RED refused to give the order"
                        );
                        t.mark_failed(id, &error)?;
                    }
                    Mapped::Rejected { hash, error, code } => {
                        t.mark_fetched(id, &hash, known)?;
                        tracing::info!(
                            order_id = id,
                            stage = "rejected",
                            "the mapping rejected it"
                        );
                        t.mark_rejected(id, &error, Some(code))?;
                    }
                    Mapped::Skipped { hash, reason } => {
                        t.mark_fetched(id, &hash, known)?;
                        tracing::info!(order_id = id, stage = "skipped", "no route takes it");
                        t.mark_skipped(id, &reason)?;
                    }
                    Mapped::Ready {
                        hash,
                        request,
                        redactor,
                        warehouse,
                    } => {
                        t.mark_fetched(id, &hash, known)?;
                        // The test (not accepted) and the set, before any send.
                        match t.mark_sending(id) {
                            Ok(()) => {
                                // Its cancel and ship-back go through this warehouse.
                                if let Some(w) = &warehouse {
                                    t.set_warehouse(id, w)?;
                                }
                                jobs.push(Job {
                                    chunk: 0,
                                    id: o.id.clone(),
                                    request,
                                    redactor,
                                });
                                continue;
                            }
                            Err(StoreError::AlreadyAccepted(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                lines.push(line(t, id)?);
            }
            Ok((jobs, lines))
        })?;
        Ok(r)
    }

    /// One transaction for the answers that came back together.
    fn answered(&mut self, answers: &[Event]) -> Result<Vec<OrderLine>, SyncError> {
        Ok(self.p.store.transaction(|t| {
            let mut lines = Vec::with_capacity(answers.len());
            for a in answers {
                let Event::Sent {
                    id,
                    outcome,
                    attempts,
                    redactor,
                    ..
                } = a
                else {
                    continue;
                };
                record_answer(t, id, outcome, *attempts, redactor)?;
                lines.push(line(t, id)?);
            }
            Ok(lines)
        })?)
    }
}

/// Fetches a chunk's documents and maps each, on a fetcher's thread: nothing is recorded
/// here.
fn fetch_and_map(
    red: &RedClient,
    part: &[Planned],
    parallel: usize,
    router: Option<&crate::route::Router>,
    targets: &[super::route::Target],
) -> Vec<Mapped> {
    let ids: Vec<String> = part.iter().map(|o| o.id.clone()).collect();
    let docs = fetch_documents(red, &ids, parallel);
    part.iter()
        .zip(docs)
        .map(|(o, (_, doc))| map_one(o, doc, router, targets))
        .collect()
}

/// What a fetcher that failed (a bug) made of an order: nothing, and it is tried again.
fn lost(want: Want) -> Mapped {
    match want {
        Want::Check => Mapped::Checked(None),
        Want::Send => Mapped::FetchFailed {
            error: "internal error: the fetcher failed".into(),
            passing: true,
        },
    }
}

/// Maps one fetched order on the fetcher's thread: nothing is recorded here.
fn map_one(
    o: &Planned,
    doc: Result<Value, RedError>,
    router: Option<&crate::route::Router>,
    targets: &[super::route::Target],
) -> Mapped {
    let doc = match (o.want, doc) {
        (Want::Check, doc) => return Mapped::Checked(doc.ok().map(|d| hash(&d))),
        (Want::Send, Err(e)) => {
            return Mapped::FetchFailed {
                error: format!("fetching from RED: {e}"),
                passing: e.is_passing(),
            }
        }
        (Want::Send, Ok(doc)) => doc,
    };
    let hash = hash(&doc);
    // Every message kept or printed for this order goes through its redactor.
    let redactor = Redactor::from_document(&doc);
    let target = match super::route::pick(router, targets, &doc) {
        Ok(super::route::Picked::Target(t)) => t,
        Ok(super::route::Picked::Skipped(reason)) => {
            return Mapped::Skipped {
                hash,
                reason: redactor.redact(&reason),
            }
        }
        Err(e) => {
            return Mapped::Rejected {
                hash,
                error: redactor.redact(&e.to_string()),
                code: e.code.as_str(),
            }
        }
    };
    match crate::run::request(target.program, &doc) {
        Ok(written) => Mapped::Ready {
            hash,
            redactor: redactor.with_personal(&written.personal),
            request: target.envelope.request(written.text),
            warehouse: target.warehouse.clone(),
        },
        Err(e) => Mapped::Rejected {
            hash,
            error: redactor.redact(&e.to_string()),
            code: e.code.as_str(),
        },
    }
}

fn record_answer(
    t: &Txn,
    id: &str,
    outcome: &Outcome,
    attempts: u32,
    redactor: &Redactor,
) -> Result<(), StoreError> {
    match outcome {
        Outcome::Accepted {
            order_code,
            duplicate,
        } => {
            t.mark_accepted(id, order_code.as_deref())?;
            tracing::info!(order_id = id, stage = "accepted", attempts, duplicate);
        }
        Outcome::Rejected {
            error_code,
            error_msg,
        } => {
            let error_code = redactor.redact(error_code);
            let error_msg = redactor.redact(error_msg);
            t.mark_failed(id, &format!("gateway refused it: {error_code} {error_msg}"))?;
            tracing::warn!(order_id = id, stage = "failed", %error_code, "gateway refused it");
        }
        // No usable answer: left `sending`, so the next round sends it again under the same
        // `externalOrderCode` (a duplicate counts as accepted); never a person's problem.
        Outcome::Failed { error } => {
            t.set_error(
                id,
                &redactor.redact(&format!(
                    "gateway unreachable after {attempts} attempts (sent again next round): {error}"
                )),
            )?;
            tracing::warn!(
                order_id = id,
                attempts,
                "gateway unreachable; sent again next round"
            );
        }
        // Never an answer of one send (only of a batch with a repeated code).
        Outcome::SkippedDuplicate => {}
    }
    Ok(())
}

fn line(t: &Txn, id: &str) -> Result<OrderLine, StoreError> {
    t.get(id)?
        .map(OrderLine::from)
        .ok_or_else(|| StoreError::Unknown(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::chunk_sizes;

    #[test]
    fn chunks_grow_to_the_configured_size_shrink_at_the_end_of_a_long_round_and_cover_every_order()
    {
        assert_eq!(chunk_sizes(0, 128), Vec::<usize>::new());
        assert_eq!(chunk_sizes(10, 128), vec![10]);
        assert_eq!(chunk_sizes(300, 128), vec![16, 32, 64, 128, 60]);
        assert_eq!(chunk_sizes(400, 128), vec![16, 32, 64, 128, 48, 64, 32, 16]);
        assert_eq!(chunk_sizes(5, 2), vec![2, 2, 1]);
        assert_eq!(chunk_sizes(3, 0), vec![1, 1, 1]);
        for n in [1, 17, 999, 1000, 10_000] {
            let sizes = chunk_sizes(n, 128);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|s| (1..=128).contains(s)), "{sizes:?}");
            assert!(sizes[0] <= 16, "{sizes:?}");
            if n >= 352 {
                assert_eq!(sizes[sizes.len() - 3..], [64, 32, 16], "{sizes:?}");
            }
        }
    }
}
