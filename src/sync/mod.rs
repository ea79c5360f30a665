//! The order pipeline: RED orders to ship → input documents → Cainiao requests → sent,
//! every step recorded in the [`Store`] so that a process killed at any point and started
//! again loses no order and sends none twice.
//!
//! A round lists the orders updated since the checkpoint (less an overlap, so an order at
//! a window's edge is not missed), adds the orders an earlier run left half-way, and for
//! each: fetches and decrypts its three parts, maps it, records `sending`, sends, records
//! the answer. Then it moves the checkpoint. An order in `sending` when a run died is sent
//! again with the same `externalOrderCode`; the gateway's "already exists" answer counts
//! as accepted. An accepted order is never sent again; if its RED content changes later
//! (an edited address) it is flagged, not re-sent.

use crate::compile::Program;
use crate::gateway::{Client, GatewayRequest, Outcome};
use crate::pii::{Redactor, RequestPii};
use crate::red::decrypt::fetch_order_document;
use crate::red::RedClient;
use crate::store::{Stage, Store, StoreError};
use md5::{Digest, Md5};
use serde::Serialize;

pub mod identity;
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

pub struct Pipeline<'a> {
    pub red: &'a RedClient,
    pub gateway: &'a Client,
    pub program: &'a Program,
    pub store: &'a mut Store,
}

fn hash(doc: &serde_json::Value) -> String {
    let mut h = Md5::new();
    h.update(doc.to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Pipeline<'_> {
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
        let mut todo: Vec<(String, i64)> = listed
            .into_iter()
            .map(|e| (e.order_id, e.update_time))
            .collect();
        for p in self.store.pending()? {
            if !todo.iter().any(|(id, _)| *id == p.order_id) {
                todo.push((p.order_id, p.update_time));
            }
        }
        let mut report = RoundReport {
            from,
            to: now,
            orders: Vec::new(),
        };
        for (id, update_time) in todo {
            let line = self.order(&id, update_time, false)?;
            on_order(&line);
            report.orders.push(line);
        }
        self.store.set_checkpoint(now)?;
        Ok(report)
    }

    /// Takes one order as far as it goes. `force` sends a failed or rejected order again.
    pub fn order(
        &mut self,
        id: &str,
        update_time: i64,
        force: bool,
    ) -> Result<OrderLine, SyncError> {
        let row = self.store.record_seen(id, update_time)?;
        match row.stage {
            Stage::Accepted => {
                if update_time > row.update_time {
                    // RED changed it after Cainiao took it: tell a person, send nothing.
                    if let Ok(doc) = fetch_order_document(self.red, id) {
                        if Some(hash(&doc)) != row.input_hash {
                            self.store.mark_changed_after_accept(id, update_time)?;
                            tracing::warn!(
                                order_id = id,
                                "changed at RED after Cainiao accepted it; not re-sent"
                            );
                        }
                    }
                }
                return self.line(id);
            }
            Stage::Rejected | Stage::Failed if !force && update_time <= row.update_time => {
                return self.line(id)
            }
            _ => {}
        }
        let doc = match fetch_order_document(self.red, id) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(order_id = id, stage = "failed", "fetching from RED failed");
                self.store
                    .mark_failed(id, &format!("fetching from RED: {e}"))?;
                return self.line(id);
            }
        };
        self.store
            .mark_fetched(id, &hash(&doc), update_time.max(row.update_time))?;
        tracing::info!(order_id = id, stage = "fetched");
        // Every message kept or printed for this order goes through its redactor.
        let redactor = Redactor::from_document(&doc);
        let interface = match crate::run::run(self.program, &doc) {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(order_id = id, stage = "rejected", "the mapping rejected it");
                self.store
                    .mark_rejected(id, &redactor.redact(&e.to_string()))?;
                return self.line(id);
            }
        };
        let redactor = redactor.with_request(&RequestPii::of(self.program), &interface);
        let cfg = self.gateway.config();
        let req = GatewayRequest {
            logistic_provider_id: self
                .program
                .settings
                .logistic_provider_id
                .clone()
                .unwrap_or_else(|| cfg.app_key.expose().to_string()),
            msg_type: self.program.settings.msg_type.clone(),
            logistics_interface: interface,
            to_code: self.program.settings.to_code.clone(),
        };
        self.store.mark_sending(id)?;
        tracing::info!(order_id = id, stage = "sending");
        let (outcome, attempts) = self.gateway.send_one(&req);
        match outcome {
            Outcome::Accepted {
                order_code,
                duplicate,
            } => {
                self.store.mark_accepted(id, order_code.as_deref())?;
                tracing::info!(order_id = id, stage = "accepted", attempts, duplicate);
            }
            Outcome::Rejected {
                error_code,
                error_msg,
            } => {
                let error_code = redactor.redact(&error_code);
                let error_msg = redactor.redact(&error_msg);
                self.store
                    .mark_failed(id, &format!("gateway refused it: {error_code} {error_msg}"))?;
                tracing::warn!(order_id = id, stage = "failed", %error_code, "gateway refused it");
            }
            Outcome::Failed { error } => {
                self.store.mark_failed(
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
            Outcome::SkippedDuplicate => {}
        }
        self.line(id)
    }

    fn line(&self, id: &str) -> Result<OrderLine, SyncError> {
        let r = self
            .store
            .get(id)?
            .ok_or_else(|| StoreError::Sql(rusqlite::Error::QueryReturnedNoRows))?;
        Ok(OrderLine {
            order_id: r.order_id,
            stage: r.stage,
            cainiao_order_code: r.cainiao_order_code,
            error: r.error,
            changed_after_accept: r.changed_after_accept,
        })
    }
}
