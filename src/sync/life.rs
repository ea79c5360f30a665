//! The order's life after its delivery order: cancels RED shows, and the warehouse's
//! shipments told to RED.
//!
//! **Cancels.** An order RED shows cancelled (`orderStatus` 9 or `cancelStatus` 1) that was
//! never sent is `cancelled` at once, and never sent. One Cainiao may have (accepted, or
//! sent at least once) is marked as due (`cancel_wanted`, committed first, so a kill
//! loses no cancel), then `mappings/cainiao/cancel.map` compiled with the params of the
//! warehouse it was sent with builds the cancel, sent through the gateway client: success
//! → `cancelled`; a refusal (the parcel has left) → a person must act, it is a return; the
//! gateway unreachable → still due, tried again next round. Cancelled after shipment → a
//! person.
//!
//! **Shipments.** The callback receiver hands each good notice to [`StoreSink`], which
//! records it (keyed by its identity: the same notice twice changes nothing) and moves
//! the order `accepted` → `shipped` in one transaction before Cainiao is answered. Then
//! [`deliver_due`] maps the notice by `mappings/red/order_deliver.map` of the order's
//! warehouse and calls `order.orderDeliver`: the attempt is counted and committed before
//! the call, and the order stays `shipped` until RED's answer is recorded. A kill in
//! between leaves it `shipped`, so it is told again, and RED's "already shipped" answer
//! counts as done: RED hears of each shipment once. A notice that cannot be mapped (an
//! unknown carrier) makes the order wait for a person, and nothing is sent.

use super::route::warehouse_of;
use super::{OrderLine, Pipeline, SyncError};
use crate::callback::{Notice, Sink, CONSIGN_ORDER_NOTIFY};
use crate::compile::Options;
use crate::gateway::request::Envelope;
use crate::gateway::Outcome;
use crate::pii::Redactor;
use crate::program::Program;
use crate::red::RedError;
use crate::store::{OrderRow, Stage, Store, StoreError};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::Mutex;

/// RED's order status of a cancelled order.
pub const RED_CANCELLED: i64 = 9;

/// What a person reads when the warehouse refuses a cancel.
pub const CANCEL_REFUSED: &str = "cancel refused: a return, not a cancel";
/// Cancelled on RED after the warehouse shipped it.
pub const CANCELLED_AFTER_SHIPMENT: &str =
    "cancelled on RED after the warehouse shipped it: a return, not a cancel";
/// A shipment notice for an order bondmap cancelled.
pub const SHIPPED_AFTER_CANCEL: &str =
    "the warehouse reports it shipped, but it is cancelled: RED not told (a return, not a cancel)";
/// A shipment notice for an order bondmap does not know.
pub const UNKNOWN_ORDER_NOTICE: &str =
    "a shipment notice for an order bondmap does not know: RED not told";

/// The fields of a shipment notice that are kept (codes, tracking number, time): any other
/// field a notice carries is dropped before anything is stored.
const NOTICE_FIELDS: &[&str] = &[
    "orderCode",
    "lgOrderCode",
    "storeCode",
    "mailNo",
    "logisticsCode",
    "consignTime",
];

/// The mappings of the order's later messages, compiled per warehouse when first needed.
pub struct Life {
    pub cancel_map: PathBuf,
    pub deliver_map: PathBuf,
    /// The warehouse of an order the state does not say (sent by an earlier version, or
    /// without routing): the plain `--mapping`, when it is one.
    pub fallback_warehouse: Option<PathBuf>,
    /// `--param`s of the run, given to these mappings too (those they declare).
    pub options: Options,
    programs: super::programs::Programs,
    /// The customs steps' settings and mappings (beside the ship-back mapping).
    pub customs: super::customs::Setup,
}

impl Life {
    pub fn new(cancel_map: PathBuf, deliver_map: PathBuf) -> Life {
        let customs = super::customs::Setup::beside(&deliver_map);
        Life {
            cancel_map,
            deliver_map,
            fallback_warehouse: None,
            options: Options::default(),
            programs: Default::default(),
            customs,
        }
    }

    /// The cancel (`cancel` true) or ship-back mapping of a warehouse.
    fn program(&mut self, cancel: bool, warehouse: &Path) -> Result<&Program, String> {
        let message = if cancel {
            &self.cancel_map
        } else {
            &self.deliver_map
        };
        self.programs.get(message, warehouse, &self.options)
    }
}

fn line(p: &Pipeline, id: &str) -> Result<Option<OrderLine>, StoreError> {
    Ok(p.store.get(id)?.map(OrderLine::from))
}

/// Records what RED's listing says of the orders it shows cancelled (those bondmap knows).
pub fn note_cancels(
    p: &mut Pipeline,
    ids: &[String],
    out: &mut dyn FnMut(OrderLine),
) -> Result<(), SyncError> {
    let changed = p.store.transaction(|t| {
        let mut changed = Vec::new();
        for id in ids {
            // An order bondmap never saw is nothing to it.
            let Some(row) = t.get(id)? else { continue };
            match row.stage {
                // Ended by a person: nothing more is done with it.
                Stage::Cancelled | Stage::Closed => continue,
                Stage::Seen | Stage::Fetched | Stage::Rejected | Stage::Skipped => {
                    t.mark_cancelled(id)?;
                    tracing::info!(order_id = %id, stage = Stage::Cancelled.as_str(), "cancelled on RED before it was sent");
                }
                // Never sent (a RED fetch failed before any send).
                Stage::Failed if row.attempts == 0 => {
                    t.mark_cancelled(id)?;
                    tracing::info!(order_id = %id, stage = Stage::Cancelled.as_str(), "cancelled on RED before it was sent");
                }
                Stage::Failed
                | Stage::Sending
                | Stage::Accepted
                | Stage::CustomsPassed
                | Stage::CustomsFailed => {
                    if row.cancel_wanted {
                        continue;
                    }
                    t.want_cancel(id)?;
                    tracing::info!(order_id = %id, "cancelled on RED: the warehouse is to be told");
                }
                Stage::Shipped | Stage::Delivered => {
                    if row.needs_person.is_some() {
                        continue;
                    }
                    t.flag_person(id, CANCELLED_AFTER_SHIPMENT)?;
                    tracing::warn!(order_id = %id, "cancelled on RED after shipment: a person must act");
                }
            }
            changed.push(id.clone());
        }
        Ok(changed)
    })?;
    for id in changed {
        if let Some(l) = line(p, &id)? {
            out(l);
        }
    }
    Ok(())
}

/// Sends the cancels due to the warehouses (each order's own).
pub fn cancel_due(p: &mut Pipeline, out: &mut dyn FnMut(OrderLine)) -> Result<(), SyncError> {
    if p.life.is_none() {
        return Ok(());
    }
    for row in p.store.cancels_due()? {
        if !row.stage.at_warehouse() {
            continue;
        }
        let id = row.order_id.clone();
        let result = cancel_one(p, &row);
        p.store.transaction(|t| match &result {
            CancelResult::Done => t.mark_cancelled(&id),
            CancelResult::Person(why) => t.flag_person(&id, why),
            CancelResult::Later(e) => t.set_error(&id, e),
        })?;
        match &result {
            CancelResult::Done => {
                tracing::info!(order_id = %id, stage = Stage::Cancelled.as_str(), "cancelled at the warehouse")
            }
            CancelResult::Person(_) => {
                tracing::warn!(order_id = %id, "the cancel needs a person")
            }
            CancelResult::Later(_) => {
                tracing::warn!(order_id = %id, "the cancel did not get through; tried again next round")
            }
        }
        if let Some(l) = line(p, &id)? {
            out(l);
        }
    }
    Ok(())
}

enum CancelResult {
    Done,
    Person(String),
    Later(String),
}

fn cancel_one(p: &mut Pipeline, row: &OrderRow) -> CancelResult {
    let id = &row.order_id;
    let Some(warehouse) = warehouse_of(p, row) else {
        return CancelResult::Person(
            "cancelled on RED, but the warehouse it was sent to is not known: cancel it by hand"
                .into(),
        );
    };
    // The order as RED shows it now: only `detail` is read (nothing personal).
    let detail = match p.red.order_detail(id) {
        Ok(d) => d,
        Err(e) => return CancelResult::Later(format!("reading the cancelled order from RED: {e}")),
    };
    let doc = serde_json::json!({ "detail": detail });
    let redactor = Redactor::from_document(&doc);
    let Some(life) = p.life.as_mut() else {
        return CancelResult::Later("no cancel mapping".into());
    };
    let program = match life.program(true, &warehouse) {
        Ok(prog) => prog,
        Err(e) => {
            return CancelResult::Person(redactor.redact(&format!(
                "the cancel mapping for {} does not compile: {e}",
                warehouse.display()
            )))
        }
    };
    let interface = match crate::run::run(program, &doc) {
        Ok(i) => i,
        Err(e) => {
            return CancelResult::Person(
                redactor.redact(&format!("the cancel could not be built: {e}")),
            )
        }
    };
    let request = Envelope::of(&program.settings, p.gateway.config()).request(interface);
    match p.gateway.send_one(&request).0 {
        Outcome::Accepted { .. } => CancelResult::Done,
        Outcome::Rejected {
            error_code,
            error_msg,
        } => CancelResult::Person(redactor.redact(&format!(
            "{CANCEL_REFUSED} (the warehouse answered {error_code} {error_msg})"
        ))),
        Outcome::Failed { error } => CancelResult::Later(
            redactor.redact(&format!("the cancel did not reach the gateway: {error}")),
        ),
        Outcome::SkippedDuplicate => CancelResult::Later("the cancel was not sent".into()),
    }
}

/// Tells RED of every shipped order not yet told (and none waiting for a person).
pub fn deliver_due(p: &mut Pipeline, out: &mut dyn FnMut(OrderLine)) -> Result<(), SyncError> {
    // No RED work while authorization is expired: the shipments wait, nothing counted.
    if p.life.is_none() || p.red.authorized().is_err() {
        return Ok(());
    }
    // Customs results recorded since are acted on first (RED told, a payment record
    // pushed again): every place that tells RED of shipments tells it of these too.
    super::customs::due(p, out)?;
    for row in p.store.deliveries_due()? {
        let id = row.order_id.clone();
        let fields = match delivery_fields(p, &row) {
            Ok(f) => f,
            Err(why) => {
                p.store.transaction(|t| t.flag_person(&id, &why))?;
                tracing::warn!(order_id = %id, "the shipment cannot be told to RED: a person must act");
                if let Some(l) = line(p, &id)? {
                    out(l);
                }
                continue;
            }
        };
        // Counted and committed before the call: RED may hear of it even if we die now.
        p.store.transaction(|t| t.mark_delivering(&id))?;
        let answer = p.red.order_deliver(&fields);
        let redactor = Redactor::from_document(&fields);
        p.store.transaction(|t| match &answer {
            Ok(_) => t.mark_delivered(&id),
            // A fault that may pass (no usable answer, busy, a token error…): told again
            // next round, never a person's problem.
            Err(e) if e.is_passing() => t.set_error(
                &id,
                &redactor.redact(&format!(
                    "telling RED of the shipment failed (tried again next round): {e}"
                )),
            ),
            // RED's refusal (the order cancelled there…), in RED's words: sending it again
            // would be refused again.
            Err(e @ RedError::Api { .. }) => t.flag_person(
                &id,
                &redactor.redact(&format!("RED refused the shipment: {e}")),
            ),
            // RED shows it shipped under another number, or the request could not be
            // built whole: not sent, a person decides.
            Err(e) => t.flag_person(&id, &redactor.redact(&e.to_string())),
        })?;
        match &answer {
            Ok(d) => {
                tracing::info!(order_id = %id, stage = Stage::Delivered.as_str(), answer = ?d, "RED told of the shipment")
            }
            Err(_) => tracing::warn!(order_id = %id, "telling RED of the shipment failed"),
        }
        if let Some(l) = line(p, &id)? {
            out(l);
        }
    }
    Ok(())
}

/// The `order.orderDeliver` fields of a shipped order, or why a person must act.
fn delivery_fields(p: &mut Pipeline, row: &OrderRow) -> Result<Value, String> {
    // The shipment notice: the order's status uploads (customs results) are notices too.
    let notice = p
        .store
        .last_notice(&row.order_id, CONSIGN_ORDER_NOTIFY)
        .map_err(|e| e.to_string())?
        .ok_or("shipped, but its notice is not in the state")?;
    let content: Value = serde_json::from_str(&notice.content)
        .map_err(|e| format!("the recorded notice is not JSON: {e}"))?;
    let warehouse = warehouse_of(p, row)
        .ok_or("shipped, but the warehouse it was sent to is not known: tell RED by hand")?;
    let life = p.life.as_mut().ok_or("no ship-back mapping")?;
    let program = life.program(false, &warehouse).map_err(|e| {
        format!(
            "the ship-back mapping for {} does not compile: {e}",
            warehouse.display()
        )
    })?;
    let json = crate::run::run(program, &content)
        .map_err(|e| format!("the shipment cannot be told to RED, nothing sent: {e}"))?;
    serde_json::from_str(&json).map_err(|e| format!("the ship-back mapping wrote no JSON: {e}"))
}

/// The identity of a notice: the same notice sent again has the same one.
pub fn notice_key(notice: &Notice) -> String {
    notice.identity()
}

/// The kept fields of a notice's content, as JSON text.
fn kept_content(notice: &Notice) -> String {
    let mut m = Map::new();
    for k in NOTICE_FIELDS {
        if let Some(v) = notice.content.get(*k) {
            m.insert((*k).to_string(), v.clone());
        }
    }
    Value::Object(m).to_string()
}

/// The callback's sink: notices recorded in the state (its own connection to the file the
/// rounds write; SQLite serialises the two writers).
pub struct StoreSink {
    store: Mutex<Store>,
    /// Told after a shipment is recorded, so RED is told without waiting for a round.
    wake: Mutex<Option<Sender<()>>>,
    /// What a warehouse status upload means and how its reason is checked for personal
    /// data ([`super::customs`]); `None`: status uploads are not taken (send again).
    customs: Option<super::customs::Intake>,
}

impl StoreSink {
    pub fn open(state: &Path, wake: Option<Sender<()>>) -> Result<StoreSink, StoreError> {
        Ok(StoreSink {
            store: Mutex::new(Store::open(state)?),
            wake: Mutex::new(wake),
            customs: None,
        })
    }

    /// Takes the warehouse's status uploads (customs results) too.
    pub fn with_customs(mut self, intake: super::customs::Intake) -> StoreSink {
        self.customs = Some(intake);
        self
    }

    /// Records a status upload (`WMS_ORDER_STATUS_UPLOAD`); `true` when it was new.
    pub fn take_status(&self, notice: &Notice) -> Result<bool, String> {
        let new = super::customs::take(&self.store, self.customs.as_ref(), notice)?;
        if new {
            self.wake_up();
        }
        Ok(new)
    }

    fn wake_up(&self) {
        if let Ok(w) = self.wake.lock() {
            if let Some(w) = w.as_ref() {
                let _ = w.send(());
            }
        }
    }

    /// Records a notice; `true` when it was new.
    pub fn take(&self, notice: &Notice) -> Result<bool, StoreError> {
        let key = notice_key(notice);
        let content = kept_content(notice);
        let order_id = notice.order_code().map(str::to_string);
        let shipment = notice.msg_type == CONSIGN_ORDER_NOTIFY;
        let mut store = self
            .store
            .lock()
            .map_err(|_| StoreError::Unknown("the notice store".into()))?;
        let (new, shipped) = store.transaction(|t| {
            let row = match &order_id {
                Some(id) => t.get(id)?,
                None => None,
            };
            let problem: Option<String> = match (&row, shipment) {
                (_, false) => None,
                (None, true) => Some(UNKNOWN_ORDER_NOTICE.into()),
                (Some(r), true) => match r.stage {
                    Stage::Cancelled => Some(SHIPPED_AFTER_CANCEL.into()),
                    s if s.at_warehouse() => None,
                    // Closed by a person: recorded, RED not told, no one asked again.
                    Stage::Shipped | Stage::Delivered | Stage::Closed => None,
                    other => Some(format!(
                        "a shipment notice for an order bondmap never sent (stage {}): RED not told",
                        other.as_str()
                    )),
                },
            };
            let new = t.record_notice(
                &key,
                &notice.msg_type,
                order_id.as_deref(),
                &content,
                problem.as_deref(),
            )?;
            let mut shipped = false;
            if let (true, true, Some(r)) = (new, shipment, &row) {
                match &problem {
                    Some(why) => t.flag_person(&r.order_id, why)?,
                    None if r.stage.at_warehouse() => {
                        t.mark_shipped(&r.order_id)?;
                        shipped = true;
                    }
                    None => {}
                }
            }
            Ok((new, shipped))
        })?;
        drop(store);
        if shipped {
            self.wake_up();
        }
        Ok(new)
    }
}

impl Sink for StoreSink {
    fn record(&self, notice: &Notice) -> Result<(), String> {
        if notice.msg_type == super::customs::STATUS_UPLOAD {
            return self.take_status(notice).map(|_| ());
        }
        self.take(notice).map(|_| ()).map_err(|e| e.to_string())
    }
}
