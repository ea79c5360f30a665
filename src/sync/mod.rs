//! The order pipeline: RED orders to ship → input documents → Cainiao requests → sent,
//! every step recorded in the [`Store`] so that a process killed at any point and started
//! again loses no order and sends none twice.
//!
//! A round lists the orders updated since the checkpoint (less an overlap, so an order at
//! a window's edge is not missed), adds the orders an earlier run left half-way, and takes
//! them through [`flow`]: many orders in flight, fetched from RED in chunks as the
//! listing's pages come, mapped, recorded `sending`, sent by a pool of gateway workers,
//! each answer recorded as it comes. Then it moves the checkpoint. An order in `sending` when a run died is sent again with
//! the same `externalOrderCode`; the gateway's "already exists" answer counts as accepted.
//! An accepted order is never sent again; if its RED content changes later (an edited
//! address) it is flagged, not re-sent.
//!
//! The listing covers every status, so the round also sees the orders RED now shows
//! cancelled ([`life`]: never sent, or cancelled at their warehouse), and it tells RED of
//! the orders the warehouse shipped (their notices recorded by the callback receiver,
//! [`life::StoreSink`]). Only orders RED shows to ship (status 4) are new orders to send.

use crate::gateway::Client;
use crate::program::Program;
use crate::red::RedClient;
use crate::store::{OrderRow, Stage, Store, StoreError};
use md5::{Digest, Md5};
use serde::Serialize;

mod chunks;
pub mod customs;
pub mod customs_config;
pub mod customs_tables;
pub mod filing;
mod flow;
pub mod identity;
pub mod life;
mod programs;
pub mod progress;
pub mod reload;
pub mod resolve;
pub mod route;
pub mod tokens;
pub use identity::mapping_identity;
pub use life::{Life, StoreSink};
pub use route::Routing;

/// RED's order status of an order to ship (待发货).
pub const TO_SHIP: i64 = 4;

/// Seconds each round reaches back before the checkpoint.
pub const OVERLAP_SECS: i64 = 300;
/// How far back the very first round looks.
pub const FIRST_LOOKBACK_SECS: i64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("listing orders from RED failed, checkpoint kept: {0}")]
    List(crate::red::RedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the order pipeline stopped: {0}")]
    Stopped(String),
    /// RED's authorization expired: the round made no RED call; nothing is lost.
    #[error("{0}; no order is lost, the rounds go on once it is authorized")]
    Unauthorized(crate::red::RedError),
}

/// What became of one order in a round.
#[derive(Debug, Clone, Serialize)]
pub struct OrderLine {
    pub order_id: String,
    pub stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cainiao_order_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub changed_after_accept: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_person: Option<String>,
}

impl From<OrderRow> for OrderLine {
    fn from(r: OrderRow) -> OrderLine {
        OrderLine {
            order_id: r.order_id,
            stage: r.stage,
            cainiao_order_code: r.cainiao_order_code,
            error: r.error,
            changed_after_accept: r.changed_after_accept,
            warehouse: r.warehouse,
            needs_person: r.needs_person,
        }
    }
}

/// What a round did: how many orders ended in each stage. Counts, not the lines: each
/// line went to the round's callback as it settled, so a round of any size holds no line
/// of its orders.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundReport {
    pub from: i64,
    pub to: i64,
    /// Order lines of the round (an order met twice, e.g. cancelled and then sent, twice).
    pub lines: usize,
    stages: std::collections::HashMap<Stage, usize>,
}

impl RoundReport {
    fn add(&mut self, l: &OrderLine) {
        self.lines += 1;
        *self.stages.entry(l.stage).or_default() += 1;
    }
    pub fn count(&self, s: Stage) -> usize {
        self.stages.get(&s).copied().unwrap_or(0)
    }
    /// Every order of the round settled ([`Stage::is_settled`]: nothing failed or half-way).
    pub fn settled(&self) -> bool {
        let done: usize = self
            .stages
            .iter()
            .filter(|(s, _)| s.is_settled())
            .map(|(_, n)| n)
            .sum();
        done == self.lines
    }
}

/// How many orders are in flight, and where.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    /// The most orders fetched from RED together (their documents are the only ones
    /// held); 64 keeps each chunk's receivers in one call and its decrypts in few, and
    /// chunks coming often enough that the gateway workers never wait long.
    pub chunk: usize,
    /// RED calls each fetcher keeps in flight (two fetchers: at 12, enough to keep the
    /// limiter's 76 calls a second busy at a 200 ms round trip).
    pub fetch_parallel: usize,
    /// Gateway workers (requests in flight).
    pub concurrency: usize,
    /// A progress bar (terminal) or log lines (otherwise).
    pub progress: bool,
}

impl Default for FlowOptions {
    fn default() -> FlowOptions {
        FlowOptions {
            chunk: 64,
            fetch_parallel: 12,
            concurrency: 8,
            progress: false,
        }
    }
}

pub struct Pipeline<'a> {
    pub red: &'a RedClient,
    pub gateway: &'a Client,
    pub program: &'a Program,
    pub store: &'a mut Store,
    pub options: FlowOptions,
    /// A routes file: each order's warehouse mapping is picked by it (`program` is then
    /// its first mapping). `None`: every order goes through `program`.
    pub routing: Option<Routing<'a>>,
    /// The cancel and ship-back mappings; `None`: cancels of sent orders wait (recorded as
    /// due) and RED is not told of shipments.
    pub life: Option<Life>,
}

fn hash(doc: &serde_json::Value) -> String {
    let mut h = Md5::new();
    h.update(doc.to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl<'a> Pipeline<'a> {
    pub fn new(
        red: &'a RedClient,
        gateway: &'a Client,
        program: &'a Program,
        store: &'a mut Store,
    ) -> Pipeline<'a> {
        Pipeline {
            red,
            gateway,
            program,
            store,
            options: FlowOptions {
                // `[cainiao] concurrency`.
                concurrency: gateway.config().concurrency,
                ..FlowOptions::default()
            },
            routing: None,
            life: None,
        }
    }

    /// A pipeline whose orders are routed by `routing` (a routes file or a plain mapping
    /// loaded as one).
    pub fn routed(
        red: &'a RedClient,
        gateway: &'a Client,
        routing: Routing<'a>,
        store: &'a mut Store,
    ) -> Option<Pipeline<'a>> {
        let (_, program) = routing.router.mapping(0)?;
        let mut p = Pipeline::new(red, gateway, program, store);
        p.routing = Some(routing);
        Some(p)
    }

    /// One round from `since` (seconds; default: the checkpoint less the overlap, or a day
    /// back) to `now`.
    pub fn round(
        &mut self,
        since: Option<i64>,
        now: i64,
        on_order: &mut dyn FnMut(&OrderLine),
    ) -> Result<RoundReport, SyncError> {
        let from = match since {
            Some(s) => s,
            None => self
                .store
                .checkpoint()?
                .map_or(now - FIRST_LOOKBACK_SECS, |c| c - OVERLAP_SECS),
        };
        let mut report = RoundReport {
            from,
            to: now,
            ..RoundReport::default()
        };
        // No RED work while authorization is expired (new tokens kept end it).
        self.red.authorized().map_err(SyncError::Unauthorized)?;
        let mut out = |l: OrderLine| {
            on_order(&l);
            report.add(&l);
        };
        // Shipments recorded since the last round are told to RED first.
        life::deliver_due(self, &mut out)?;
        tracing::info!(
            from = %crate::logs::iso_secs(from),
            to = %crate::logs::iso_secs(now),
            "round started"
        );
        // Every status: a cancel is an update of an order bondmap may know. The orders are
        // fetched as the listing's pages come ([`flow`]).
        let red = self.red;
        let list = move |each: &mut dyn FnMut(Vec<crate::red::OrderListEntry>) -> bool| {
            red.list_orders_paged(from, now, None, each)
        };
        let held = flow::run(self, flow::Source::Listing(&list), false, &mut |l| {
            out(l.clone())
        })?;
        // Orders a person asked to be sent again (`resolve … retry`), after the listing's
        // cancels are noted.
        resolve::retries_due(self, &mut out)?;
        life::cancel_due(self, &mut out)?;
        life::deliver_due(self, &mut out)?;
        // An order a passing fault left where no later listing would show it again keeps
        // the checkpoint before its update time: the next round lists it again.
        let checkpoint = held.since_ms.map_or(now, |ms| now.min(ms.div_euclid(1000)));
        self.store.set_checkpoint(checkpoint)?;
        Ok(report)
    }

    /// Takes many orders as far as they go, many in flight; a line per order as it
    /// settles. `force` sends failed or rejected orders again.
    pub fn orders(
        &mut self,
        todo: Vec<(String, i64)>,
        force: bool,
        on_order: &mut dyn FnMut(&OrderLine),
    ) -> Result<Vec<OrderLine>, SyncError> {
        let mut lines = Vec::new();
        flow::run(self, flow::Source::Given(todo), force, &mut |l| {
            on_order(l);
            lines.push(l.clone());
        })?;
        Ok(lines)
    }

    /// Takes one order as far as it goes. `force` sends a failed or rejected order again.
    pub fn order(
        &mut self,
        id: &str,
        update_time: i64,
        force: bool,
    ) -> Result<OrderLine, SyncError> {
        let mut lines = self.orders(vec![(id.to_string(), update_time)], force, &mut |_| {})?;
        lines
            .pop()
            .ok_or_else(|| SyncError::Stopped(format!("order {id} was not settled")))
    }
}
