//! The order pipeline: RED orders to ship → input documents → Cainiao requests → sent,
//! every step recorded in the [`Store`] so that a process killed at any point and started
//! again loses no order and sends none twice.
//!
//! A round lists the orders updated since the checkpoint (less an overlap, so an order at
//! a window's edge is not missed), adds the orders an earlier run left half-way, and takes
//! them through [`flow`]: many orders in flight, fetched from RED in chunks, mapped,
//! recorded `sending`, sent by a pool of gateway workers, each answer recorded as it comes.
//! Then it moves the checkpoint. An order in `sending` when a run died is sent again with
//! the same `externalOrderCode`; the gateway's "already exists" answer counts as accepted.
//! An accepted order is never sent again; if its RED content changes later (an edited
//! address) it is flagged, not re-sent.

use crate::compile::Program;
use crate::gateway::Client;
use crate::red::RedClient;
use crate::store::{OrderRow, Stage, Store, StoreError};
use md5::{Digest, Md5};
use serde::Serialize;

pub mod fetch;
mod flow;
pub mod identity;
pub mod progress;
pub use identity::mapping_identity;

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
}

impl From<OrderRow> for OrderLine {
    fn from(r: OrderRow) -> OrderLine {
        OrderLine {
            order_id: r.order_id,
            stage: r.stage,
            cainiao_order_code: r.cainiao_order_code,
            error: r.error,
            changed_after_accept: r.changed_after_accept,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundReport {
    pub from: i64,
    pub to: i64,
    pub orders: Vec<OrderLine>,
}

impl RoundReport {
    pub fn count(&self, s: Stage) -> usize {
        self.orders.iter().filter(|o| o.stage == s).count()
    }
    /// Every order of the round accepted or rejected (nothing failed or half-way).
    pub fn settled(&self) -> bool {
        self.orders
            .iter()
            .all(|o| matches!(o.stage, Stage::Accepted | Stage::Rejected))
    }
}

/// How many orders are in flight, and where.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    /// Orders fetched from RED together (their documents are the only ones held).
    pub chunk: usize,
    /// Orders fetched from RED at once.
    pub fetch_parallel: usize,
    /// Gateway workers (requests in flight).
    pub concurrency: usize,
    /// A progress bar (terminal) or log lines (otherwise).
    pub progress: bool,
}

impl Default for FlowOptions {
    fn default() -> FlowOptions {
        FlowOptions {
            chunk: 128,
            fetch_parallel: 8,
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
        }
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
        let listed = self.red.list_to_ship(from, now).map_err(SyncError::List)?;
        tracing::info!(from, to = now, listed = listed.len(), "round started");
        let mut seen = std::collections::HashSet::new();
        let mut todo: Vec<(String, i64)> = Vec::with_capacity(listed.len());
        for e in listed {
            if seen.insert(e.order_id.clone()) {
                todo.push((e.order_id, e.update_time));
            }
        }
        for p in self.store.pending()? {
            if seen.insert(p.order_id.clone()) {
                todo.push((p.order_id, p.update_time));
            }
        }
        drop(seen);
        let orders = self.orders(todo, false, on_order)?;
        self.store.set_checkpoint(now)?;
        Ok(RoundReport {
            from,
            to: now,
            orders,
        })
    }

    /// Takes many orders as far as they go, many in flight; a line per order as it
    /// settles. `force` sends failed or rejected orders again.
    pub fn orders(
        &mut self,
        todo: Vec<(String, i64)>,
        force: bool,
        on_order: &mut dyn FnMut(&OrderLine),
    ) -> Result<Vec<OrderLine>, SyncError> {
        flow::run(self, todo, force, on_order)
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
