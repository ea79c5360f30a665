//! Many orders in flight, every store guarantee kept.
//!
//! Three kinds of thread: [`FETCHERS`] fetchers take the orders in chunks and fetch each
//! chunk's documents from RED (at most [`AHEAD`] chunks ahead of the sends, so only a few chunks of
//! documents ever exist); a pool of gateway workers sends; and this thread, the only one
//! that writes the store, maps each fetched chunk, records it (`fetched`, `rejected`,
//! `failed`, then `sending` for every order about to go) in one transaction *before* any of
//! its orders is handed to a worker, and records each answer as it comes back (the answers
//! that arrived together in one transaction). A kill at any point leaves every order
//! either settled or in a stage the next round takes up again; one in `sending` is sent
//! again with the same `externalOrderCode`, which Cainiao answers as a duplicate.

use super::progress::Progress;
use super::{hash, OrderLine, Pipeline, SyncError};
use crate::gateway::{GatewayRequest, Outcome};
use crate::pii::Redactor;
use crate::red::decrypt::fetch_documents;
use crate::red::RedError;
use crate::store::{Stage, StoreError, Txn};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::Mutex;

/// Chunks the fetchers may be ahead of the chunks whose sends are done.
const AHEAD: usize = 2;
/// Fetcher threads: two, so that one chunk's receiver and decrypt steps (few calls, each a
/// round trip) overlap the next chunk's detail and declare calls.
const FETCHERS: usize = 2;
/// The first chunk's size; each next one doubles up to the configured size, so the first
/// sends start after a short fetch instead of a whole chunk's.
const FIRST_CHUNK: usize = 16;

/// How `n` orders are cut into chunks of at most `chunk`, the first ones smaller.
fn chunk_sizes(n: usize, chunk: usize) -> Vec<usize> {
    let chunk = chunk.max(1);
    let mut sizes = Vec::new();
    let (mut left, mut next) = (n, FIRST_CHUNK.min(chunk));
    while left > 0 {
        let size = next.min(left);
        sizes.push(size);
        left -= size;
        next = (next * 2).min(chunk);
    }
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
    want: Want,
}

/// What the fetcher made of one fetched order (its document already dropped there, on the
/// thread that built it).
enum Mapped {
    /// Fetched to compare: its hash, or `None` when RED could not give it.
    Checked(Option<String>),
    FetchFailed(String),
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
    Skipped {
        hash: String,
        reason: String,
    },
}

struct Job {
    chunk: usize,
    id: String,
    request: GatewayRequest,
    redactor: Redactor,
}

enum Event {
    Fetched(usize, Vec<(Planned, Mapped)>),
    FetchDone,
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
) -> Result<(), SyncError> {
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
                    Stage::Rejected | Stage::Failed | Stage::Skipped
                        if !force && *update_time <= row.update_time =>
                    {
                        None
                    }
                    _ => Some(Want::Send),
                };
                match want {
                    Some(want) => planned.push(Planned {
                        id: id.clone(),
                        update_time: *update_time,
                        known_update_time: row.update_time,
                        known_hash: row.input_hash.clone(),
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
    if !planned.is_empty() {
        let targets = super::route::targets(p);
        Flow { p, targets }.drive(planned, &mut emit)?;
    }
    progress.finish();
    Ok(())
}

struct Flow<'p, 'a> {
    p: &'p mut Pipeline<'a>,
    targets: Vec<super::route::Target<'a>>,
}

impl Flow<'_, '_> {
    fn drive(
        &mut self,
        planned: Vec<Planned>,
        emit: &mut dyn FnMut(OrderLine),
    ) -> Result<(), SyncError> {
        let (red, gateway) = (self.p.red, self.p.gateway);
        let opts = self.p.options.clone();
        let sizes = chunk_sizes(planned.len(), opts.chunk);
        let (ev_tx, ev_rx) = channel::<Event>();
        let (credit_tx, credit_rx) = sync_channel::<()>(AHEAD);
        let (job_tx, job_rx) = channel::<Job>();
        let job_rx = Mutex::new(job_rx);
        for _ in 0..AHEAD {
            let _ = credit_tx.try_send(());
        }
        let router = self.p.routing.as_ref().map(|r| r.router);
        // The fetchers' own: this thread keeps `self` to write the store.
        let targets = &std::mem::take(&mut self.targets);
        // The chunks still to fetch, taken in turn by the fetchers.
        let work = Mutex::new((planned.into_iter(), sizes.into_iter().enumerate()));
        let credit_rx = Mutex::new(credit_rx);
        std::thread::scope(|s| {
            let (work, credit_rx) = (&work, &credit_rx);
            for _ in 0..FETCHERS {
                let fetch_tx = ev_tx.clone();
                s.spawn(move || {
                    loop {
                        // Waits until few enough documents are in flight; gone: stop.
                        let credit = match credit_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        if credit.is_err() {
                            return;
                        }
                        let next = match work.lock() {
                            Ok(mut w) => {
                                let (planned, sizes) = &mut *w;
                                sizes.next().map(|(n, size)| {
                                    (n, planned.by_ref().take(size).collect::<Vec<Planned>>())
                                })
                            }
                            Err(_) => return,
                        };
                        let Some((n, part)) = next else { break };
                        let ids: Vec<String> = part.iter().map(|o| o.id.clone()).collect();
                        let docs = fetch_documents(red, &ids, opts.fetch_parallel);
                        let batch = part
                            .into_iter()
                            .zip(docs)
                            .map(|(o, (_, doc))| {
                                let m = map_one(&o, doc, router, targets);
                                (o, m)
                            })
                            .collect();
                        if fetch_tx.send(Event::Fetched(n, batch)).is_err() {
                            return;
                        }
                    }
                    let _ = fetch_tx.send(Event::FetchDone);
                });
            }
            for _ in 0..opts.concurrency.clamp(1, 64) {
                let tx = ev_tx.clone();
                let job_rx = &job_rx;
                s.spawn(move || {
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let (outcome, attempts) = gateway.send_one(&job.request);
                        // A pair per answer: if the writer drops the event unrecorded
                        // (it stopped), the wait below ends too.
                        let (recorded, was_recorded) = sync_channel::<()>(1);
                        let sent = Event::Sent {
                            chunk: job.chunk,
                            id: job.id,
                            outcome,
                            attempts,
                            redactor: job.redactor,
                            recorded,
                        };
                        // Waiting for the record keeps the sends a kill can leave unrecorded
                        // to one per worker.
                        if tx.send(sent).is_err() || was_recorded.recv().is_err() {
                            return;
                        }
                    }
                });
            }
            drop(ev_tx);
            // Owns the receiving and sending ends: returning drops them, which stops the
            // fetcher and the workers (each after what it is doing).
            self.settle(ev_rx, job_tx, credit_tx, emit)
        })
    }

    /// The store's one writer: records what the fetcher and the workers report.
    fn settle(
        &mut self,
        events: Receiver<Event>,
        jobs: Sender<Job>,
        credits: SyncSender<()>,
        emit: &mut dyn FnMut(OrderLine),
    ) -> Result<(), SyncError> {
        let mut fetchers_done = 0;
        // Sends not yet answered, per chunk.
        let mut open: HashMap<usize, usize> = HashMap::new();
        let mut held: Option<Event> = None;
        while !(fetchers_done == FETCHERS && open.is_empty()) {
            let ev = match held.take() {
                Some(e) => e,
                None => events
                    .recv()
                    .map_err(|_| SyncError::Stopped("a worker of the pipeline ended".into()))?,
            };
            match ev {
                Event::FetchDone => fetchers_done += 1,
                Event::Fetched(n, batch) => {
                    let (ready, settled) = self.fetched(batch)?;
                    for l in settled {
                        emit(l);
                    }
                    if ready.is_empty() {
                        let _ = credits.try_send(());
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
                                    let _ = credits.try_send(());
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
                    // Unchanged, or a failed look at RED: accepted stays as it is.
                    Mapped::Checked(_) => {}
                    Mapped::FetchFailed(e) => {
                        tracing::warn!(order_id = id, stage = "failed", "fetching from RED failed");
                        t.mark_failed(id, &e)?;
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
                                // Kept for the console, its personal values masked.
                                let masked = redactor.redact_at_rest(&request.logistics_interface);
                                t.keep_request(id, &request.msg_type, &masked)?;
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

/// Maps one fetched order on the fetcher's thread: nothing is recorded here.
fn map_one(
    o: &Planned,
    doc: Result<Value, RedError>,
    router: Option<&crate::route::Router>,
    targets: &[super::route::Target],
) -> Mapped {
    let doc = match (o.want, doc) {
        (Want::Check, doc) => return Mapped::Checked(doc.ok().map(|d| hash(&d))),
        (Want::Send, Err(e)) => return Mapped::FetchFailed(format!("fetching from RED: {e}")),
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
        Outcome::Failed { error } => {
            t.mark_failed(
                id,
                &redactor.redact(&format!(
                    "gateway unreachable after {attempts} attempts: {error}"
                )),
            )?;
            tracing::warn!(
                order_id = id,
                stage = "failed",
                attempts,
                "gateway unreachable"
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
    fn chunks_grow_to_the_configured_size_and_cover_every_order() {
        assert_eq!(chunk_sizes(0, 128), Vec::<usize>::new());
        assert_eq!(chunk_sizes(10, 128), vec![10]);
        assert_eq!(chunk_sizes(300, 128), vec![16, 32, 64, 128, 60]);
        assert_eq!(chunk_sizes(5, 2), vec![2, 2, 1]);
        assert_eq!(chunk_sizes(3, 0), vec![1, 1, 1]);
    }
}
