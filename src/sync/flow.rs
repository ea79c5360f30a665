//! Many orders in flight, every store guarantee kept.
//!
//! The threads, all from [`crate::pool`] but the first: the listing, which reads RED's
//! pages and hands each page's orders over as it is read ([`Source::Listing`]); the
//! [`FETCHERS`], each fetching a chunk's details and declarations (nearly every RED call);
//! the [`FINISHERS`], each fetching a chunk's receivers and decrypts (a few calls, each a
//! round trip) and mapping its orders, while the fetchers go on with the next chunks; the
//! gateway workers, which send; and this thread, the only one that writes the store. It
//! plans the orders as they come, hands out chunks (at most [`AHEAD`] whose sends are not
//! all answered, so only a few chunks of documents ever exist), records each mapped chunk
//! (`fetched`, `rejected`, `failed`, then `sending` for every order about to go) in one
//! transaction *before* any of its orders is handed to a worker, and records each answer
//! as it comes back (the answers that arrived together in one transaction). A kill at any
//! point leaves every order either settled or in a stage the next round takes up again;
//! one in `sending` is sent again with the same `externalOrderCode`, which Cainiao answers
//! as a duplicate.
//!
//! **Pace.** RED's limiter, not the round trip, bounds a round: the first orders are
//! fetched while the listing is still read, the fetchers keep enough calls in flight
//! that a chunk's sequential steps never leave the limiter idle, and chunks are small at
//! both ends of a round ([`super::chunks`]).
//!
//! **Passing faults** ([`RedError::is_passing`], a gateway answer that never came): the
//! order is left where the next round takes it up again (`seen`, `sending`) with the
//! error kept, never `failed` for a person. An order re-planned from a settled stage
//! (RED changed it) keeps that stage, and the round holds its checkpoint before the
//! order's update time so the next round lists it again.

use super::chunks::Chunker;
use super::progress::Progress;
use super::{hash, OrderLine, Pipeline, SyncError};
use super::{life, TO_SHIP};
use crate::gateway::{GatewayRequest, Outcome};
use crate::pii::Redactor;
use crate::pool;
use crate::red::decrypt::{fetch_parts, finish_documents, Parts};
use crate::red::{OrderListEntry, RedClient, RedError};
use crate::store::{Stage, StoreError, Txn};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};

/// Chunks handed out whose sends are not all answered: the fetchers' and finishers' and
/// one more, whose orders wait for the gateway workers.
const AHEAD: usize = FETCHERS + FINISHERS + 1;
/// Threads fetching chunks' details and declarations (nearly every call): two, each with
/// `fetch_parallel` calls in flight, so that the limiter stays busy while one waits for
/// the last calls of its chunk.
const FETCHERS: usize = 2;
/// Threads finishing chunks (their receivers and decrypts, a few calls each a round trip,
/// then the mapping) while the fetchers go on with the next chunks.
const FINISHERS: usize = 2;

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
    /// A page of RED's listing.
    Listed(Vec<OrderListEntry>),
    /// The listing is over: whole, or why not.
    ListDone(Result<(), RedError>),
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

/// Where a flow's orders come from.
pub(super) enum Source<'s> {
    /// All known at once (`retry`, a given list).
    Given(Vec<(String, i64)>),
    /// RED's listing, read page by page on a thread of the flow while the orders it gave
    /// are already fetched; once it is whole, the orders RED shows cancelled are noted and
    /// the ones an earlier round left half-way are added.
    Listing(&'s ListFn<'s>),
}

/// A listing: hands each page's orders to its argument (which answers whether to go on).
pub(super) type ListFn<'l> =
    dyn Fn(&mut dyn FnMut(Vec<OrderListEntry>) -> bool) -> Result<(), RedError> + Sync + 'l;

pub(super) fn run(
    p: &mut Pipeline,
    source: Source,
    force: bool,
    on_order: &mut dyn FnMut(&OrderLine),
) -> Result<Held, SyncError> {
    let given = match &source {
        Source::Given(todo) => todo.len(),
        Source::Listing(_) => 0,
    };
    let progress = RefCell::new(Progress::start(given, p.options.progress));
    let mut emit = |l: OrderLine| {
        progress.borrow_mut().order(&l);
        on_order(&l);
    };
    let targets = super::route::targets(p);
    let chunk = p.options.chunk;
    let mut flow = Flow {
        p,
        targets,
        held: Held::default(),
        force,
        seen: HashSet::new(),
        cancelled: Vec::new(),
        list_error: None,
        chunker: Chunker::new(chunk, FETCHERS),
        listed: 0,
    };
    let list = match source {
        Source::Given(todo) => {
            // An order named twice is taken once: two sends of it could both be in flight.
            let todo: Vec<(String, i64)> = todo
                .into_iter()
                .filter(|(id, _)| flow.seen.insert(id.clone()))
                .collect();
            flow.plan(&todo, &mut emit)?;
            flow.chunker.done();
            None
        }
        Source::Listing(list) => Some(list),
    };
    if list.is_some() || !flow.chunker.finished() {
        flow.drive(list, &mut emit, &mut |n| progress.borrow_mut().more(n))?;
    }
    progress.borrow().finish();
    match flow.list_error.take() {
        Some(e @ RedError::Unauthorized) => Err(SyncError::Unauthorized(e)),
        Some(e) => Err(SyncError::List(e)),
        None => Ok(flow.held),
    }
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
    /// Send failed or rejected orders again.
    force: bool,
    /// Every order met in this flow (each taken once).
    seen: HashSet<String>,
    /// Orders the listing shows cancelled.
    cancelled: Vec<String>,
    /// Why the listing is not whole (the round fails, its checkpoint kept).
    list_error: Option<RedError>,
    chunker: Chunker<Planned>,
    listed: usize,
}

impl Flow<'_, '_> {
    /// Records every order of `todo` seen; those with nothing to do settle at once (a line
    /// each), the others wait for a fetcher.
    fn plan(
        &mut self,
        todo: &[(String, i64)],
        emit: &mut dyn FnMut(OrderLine),
    ) -> Result<(), SyncError> {
        let force = self.force;
        for batch in todo.chunks(PLAN_BATCH) {
            let (planned, settled) = self.p.store.transaction(|t| {
                let (mut planned, mut settled) = (Vec::new(), Vec::new());
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
                Ok((planned, settled))
            })?;
            for l in settled {
                emit(l);
            }
            self.chunker.push(planned);
        }
        Ok(())
    }

    /// A page of the listing: the orders to ship are planned, the cancelled ones kept for
    /// when the listing is whole; any other status is no new order to send.
    fn listed(
        &mut self,
        page: Vec<OrderListEntry>,
        emit: &mut dyn FnMut(OrderLine),
    ) -> Result<usize, SyncError> {
        let mut todo = Vec::new();
        for e in page {
            if !self.seen.insert(e.order_id.clone()) {
                continue;
            }
            self.listed += 1;
            if e.order_status == life::RED_CANCELLED || e.cancel_status == Some(1) {
                self.cancelled.push(e.order_id);
            } else if e.order_status == TO_SHIP {
                todo.push((e.order_id, e.update_time));
            }
        }
        self.plan(&todo, emit)?;
        Ok(todo.len())
    }

    /// The listing is whole: the cancels it shows are noted (before the pending orders are
    /// gathered: a cancelled one is then no longer pending), and the orders an earlier
    /// round left half-way join.
    fn listing_done(&mut self, emit: &mut dyn FnMut(OrderLine)) -> Result<usize, SyncError> {
        tracing::info!(listed = self.listed, "RED's listing read");
        let cancelled = std::mem::take(&mut self.cancelled);
        life::note_cancels(self.p, &cancelled, emit)?;
        let mut todo = Vec::new();
        for row in self.p.store.pending()? {
            // Cancelled on RED while half-way: the cancel goes, the order does not.
            if !row.cancel_wanted && self.seen.insert(row.order_id.clone()) {
                todo.push((row.order_id, row.update_time));
            }
        }
        self.plan(&todo, emit)?;
        Ok(todo.len())
    }

    fn drive(
        &mut self,
        list: Option<&ListFn<'_>>,
        emit: &mut dyn FnMut(OrderLine),
        more: &mut dyn FnMut(usize),
    ) -> Result<(), SyncError> {
        let (red, gateway) = (self.p.red, self.p.gateway);
        let opts = self.p.options.clone();
        let (ev_tx, ev_rx) = channel::<Event>();
        let router = self.p.routing.as_ref().map(|r| r.router);
        // The fetchers' own: this thread keeps `self` to write the store.
        let targets = &std::mem::take(&mut self.targets);
        std::thread::scope(|s| {
            if let Some(list) = list {
                let tx = ev_tx.clone();
                s.spawn(move || {
                    let r =
                        pool::guarded(|| list(&mut |page| tx.send(Event::Listed(page)).is_ok()))
                            .unwrap_or_else(|_| {
                                Err(RedError::Answer {
                                    method: "order.getOrderList".into(),
                                    message: "internal error: the listing failed".into(),
                                })
                            });
                    let _ = tx.send(Event::ListDone(r));
                });
            }
            let parallel = opts.fetch_parallel;
            // The second step of a chunk: its receivers and decrypts, then the mapping.
            let finished_tx = ev_tx.clone();
            let finishers = pool::feed(
                s,
                FINISHERS,
                move |(n, part, parts): (usize, Vec<Planned>, Parts)| {
                    let mapped = pool::guarded(|| {
                        finish_and_map(red, &part, parts, parallel, router, targets)
                    })
                    // A bug loses no order: each is left for the next round.
                    .unwrap_or_else(|_| part.iter().map(|o| lost(o.want)).collect());
                    let batch = part.into_iter().zip(mapped).collect();
                    match finished_tx.send(Event::Fetched(n, batch)) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(_) => ControlFlow::Break(()),
                    }
                },
            );
            // The first step: the details and declarations, most of a chunk's calls.
            let lost_tx = ev_tx.clone();
            let fetchers = pool::feed(s, FETCHERS, move |(n, part): (usize, Vec<Planned>)| {
                let ids: Vec<String> = part.iter().map(|o| o.id.clone()).collect();
                let sent = match pool::guarded(|| fetch_parts(red, &ids, parallel)) {
                    Ok(parts) => finishers.send((n, part, parts)).is_ok(),
                    Err(_) => {
                        let batch = part.into_iter().map(|o| {
                            let m = lost(o.want);
                            (o, m)
                        });
                        lost_tx.send(Event::Fetched(n, batch.collect())).is_ok()
                    }
                };
                if sent {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
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
            // and the workers (each after what it is doing), and the listing.
            self.settle(ev_rx, fetchers, senders, emit, more)
        })
    }

    /// The store's one writer: plans the listing's orders as they come, hands out chunks
    /// to fetch (at most [`AHEAD`] whose sends are not all answered) and orders to send,
    /// and records what comes back.
    fn settle(
        &mut self,
        events: Receiver<Event>,
        fetchers: Sender<(usize, Vec<Planned>)>,
        jobs: Sender<Job>,
        emit: &mut dyn FnMut(OrderLine),
        more: &mut dyn FnMut(usize),
    ) -> Result<(), SyncError> {
        let stopped = |what: &str| SyncError::Stopped(format!("the {what} of the pipeline ended"));
        // Chunks handed out whose sends are not all answered, and how many there were.
        let (mut active, mut handed) = (0usize, 0usize);
        // Sends not yet answered, per chunk.
        let mut open: HashMap<usize, usize> = HashMap::new();
        let mut held: Option<Event> = None;
        loop {
            while active < AHEAD {
                let Some(part) = self.chunker.take(active == 0) else {
                    break;
                };
                fetchers
                    .send((handed, part))
                    .map_err(|_| stopped("fetchers"))?;
                handed += 1;
                active += 1;
            }
            if self.chunker.finished() && active == 0 {
                return Ok(());
            }
            let ev = match held.take() {
                Some(e) => e,
                None => events.recv().map_err(|_| stopped("workers"))?,
            };
            match ev {
                Event::Listed(page) => more(self.listed(page, emit)?),
                Event::ListDone(result) => {
                    match result {
                        Ok(()) => more(self.listing_done(emit)?),
                        // Not whole: what it gave goes on, the round fails after.
                        Err(e) => self.list_error = Some(e),
                    }
                    self.chunker.done();
                }
                Event::Fetched(n, batch) => {
                    let (ready, settled) = self.fetched(batch)?;
                    for l in settled {
                        emit(l);
                    }
                    if ready.is_empty() {
                        active -= 1;
                    } else {
                        open.insert(n, ready.len());
                    }
                    for mut j in ready {
                        j.chunk = n;
                        jobs.send(j).map_err(|_| stopped("gateway workers"))?;
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
                                    active -= 1;
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
                            stage = Stage::Failed.as_str(),
                            "RED refused to give the order"
                        );
                        t.mark_failed(id, &error)?;
                    }
                    Mapped::Rejected { hash, error, code } => {
                        t.mark_fetched(id, &hash, known)?;
                        tracing::info!(
                            order_id = id,
                            stage = Stage::Rejected.as_str(),
                            "the mapping rejected it"
                        );
                        t.mark_rejected(id, &error, Some(code))?;
                    }
                    Mapped::Skipped { hash, reason } => {
                        t.mark_fetched(id, &hash, known)?;
                        tracing::info!(
                            order_id = id,
                            stage = Stage::Skipped.as_str(),
                            "no route takes it"
                        );
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

/// Finishes a chunk's documents and maps each, on a finisher's thread: nothing is
/// recorded here.
fn finish_and_map(
    red: &RedClient,
    part: &[Planned],
    parts: Parts,
    parallel: usize,
    router: Option<&crate::route::Router>,
    targets: &[super::route::Target],
) -> Vec<Mapped> {
    let docs = finish_documents(red, parts, parallel);
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
            tracing::info!(
                order_id = id,
                stage = Stage::Accepted.as_str(),
                attempts,
                duplicate
            );
        }
        Outcome::Rejected {
            error_code,
            error_msg,
        } => {
            let error_code = redactor.redact(error_code);
            let error_msg = redactor.redact(error_msg);
            t.mark_failed(id, &format!("gateway refused it: {error_code} {error_msg}"))?;
            tracing::warn!(order_id = id, stage = Stage::Failed.as_str(), %error_code, "gateway refused it");
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
