//! Customs results from the warehouse, and what follows them.
//!
//! **Intake** ([`take`], through the callback's [`super::StoreSink`]). The warehouse posts a
//! status upload (`WMS_ORDER_STATUS_UPLOAD`) for an order; `order_status.csv` says what its
//! status means (customs passed, customs failed, or noted only), `customs_reasons.csv` the
//! class of a failure's reason. A failure's reason is the warehouse's text: before it is
//! stored it goes through the order's [`Redactor`] (its personal values fetched from RED,
//! as a send fetches them, and dropped after) and [`crate::pii::mask_digits`]; when RED
//! cannot be reached the notice is answered "send again" and nothing is stored. In one
//! transaction: the notice recorded under its identity (the same notice twice changes
//! nothing), the order moved (`customs_passed`; `customs_failed` with the class and reason
//! kept), each customs event queued for RED, and, by the class, a re-push of the payment
//! record due at once or a wait for a person.
//!
//! **Due steps** ([`due`], at every round and whenever the callback records something):
//! - each customs event goes to RED (`order.modifycustomstatus`, by
//!   `mappings/red/customs_status.map` of the order's warehouse): the attempt counted and
//!   committed before the call, so a kill leaves it due and it is told again with the same
//!   fields; RED's refusal is kept in RED's words, a fault that may pass is tried at the
//!   next round; `[customs] tell_red = false` sends none;
//! - a missing payment record is pushed again (`order.resendBondedPaymentRecord`, by
//!   `mappings/red/resend_payment.map`): at once, once more at least `repush_after_secs`
//!   later if customs has not cleared the order by then, and after as long again a person
//!   is asked. Customs passing in between moves the order on as usual.

use super::customs_config::{CustomsConfig, REPUSHES};
use super::customs_tables::{Class, Event, Tables};
use super::route::warehouse_of;
use super::{OrderLine, Pipeline, SyncError};
use crate::callback::Notice;
use crate::compile::Options;
use crate::pii::{mask_digits, Redactor};
use crate::program::Program;
use crate::red::customs::RESEND_PAYMENT;
use crate::red::RedClient;
use crate::red::RedError;
use crate::store::{Kind, Move, OrderRow, Stage, Store, StoreError, Tell};
use crate::swap::Swap;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The message type of the warehouse's status upload.
pub const STATUS_UPLOAD: &str = crate::callback::WMS_ORDER_STATUS_UPLOAD;

/// The code fields of a status upload that are kept (the reason, `content`, is kept only
/// masked, and only for a failure; `customsInfo` only its three codes).
const KEPT: &[&str] = &[
    "orderCode",
    "lgOrderCode",
    "storeCode",
    "orderType",
    "status",
    "operateTime",
];
const CUSTOMS_INFO: &[&str] = &["declarationOrderNo", "customsCode", "customsName"];

/// A status upload for an order bondmap does not know.
pub const UNKNOWN_ORDER_STATUS: &str =
    "a customs status for an order bondmap does not know: nothing done";

/// What the callback needs to take status uploads: the tables, and a RED client to fetch
/// an order's personal values so that a failure's reason is stored masked. A clone is a
/// handle on the same parts: `sync` keeps one to put in what a SIGHUP reloaded.
#[derive(Clone)]
pub struct Intake(Swap<IntakeParts>);

struct IntakeParts {
    tables: Tables,
    red: Arc<RedClient>,
}

impl Intake {
    pub fn new(tables: Tables, red: impl Into<Arc<RedClient>>) -> Intake {
        Intake(Swap::new(IntakeParts {
            tables,
            red: red.into(),
        }))
    }

    /// The tables of folder `dir` (`mappings/cainiao/`), every mistake in one message.
    pub fn load(dir: &Path, red: impl Into<Arc<RedClient>>) -> Result<Intake, String> {
        Ok(Intake::new(load_tables(dir)?, red))
    }

    /// Takes the tables of `dir` as they are now, and `red` (a reloaded set's client),
    /// for the uploads that come from now on; on a mistake the running ones go on.
    pub fn replace(&self, dir: &Path, red: Arc<RedClient>) -> Result<(), String> {
        let tables = load_tables(dir)?;
        self.0.store(IntakeParts { tables, red });
        Ok(())
    }
}

/// The customs tables of `dir`, every mistake in one message.
fn load_tables(dir: &Path) -> Result<Tables, String> {
    Tables::load(dir).map_err(|e| {
        e.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The folder of the customs tables for a cancel mapping (they sit beside it).
pub fn tables_dir(cancel_map: &Path) -> PathBuf {
    cancel_map
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A text field of a notice's content.
fn text<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// The kept fields of a status upload, `reason` (already masked) as its `content`.
fn kept(content: &Value, reason: Option<&str>) -> String {
    let mut m = Map::new();
    for k in KEPT {
        if let Some(v) = content.get(*k).filter(|v| v.is_string()) {
            m.insert((*k).to_string(), v.clone());
        }
    }
    if let Some(r) = reason {
        m.insert("content".into(), Value::String(r.to_string()));
    }
    if let Some(info) = content.get("customsInfo") {
        let mut i = Map::new();
        for k in CUSTOMS_INFO {
            if let Some(v) = info.get(*k).filter(|v| v.is_string()) {
                i.insert((*k).to_string(), v.clone());
            }
        }
        m.insert("customsInfo".into(), Value::Object(i));
    }
    Value::Object(m).to_string()
}

/// Records a status upload (the callback's sink): `true` when it was new. An `Err` is
/// answered "send again" and nothing is recorded.
pub fn take(
    store: &Mutex<Store>,
    intake: Option<&Intake>,
    notice: &Notice,
) -> Result<bool, String> {
    // The parts now: an upload being taken keeps the ones it started with.
    let intake = intake
        .ok_or("status uploads are not taken by this receiver")?
        .0
        .load();
    let key = notice.identity();
    let c = &notice.content;
    let (order_id, status) = match (text(c, "orderCode"), text(c, "status")) {
        (Some(o), Some(s)) if !o.trim().is_empty() && !s.trim().is_empty() => (o, s),
        _ => {
            // Sending it again cannot mend it: recorded for a person, answered success.
            let mut s = store.lock().map_err(|_| "the notice store".to_string())?;
            return s
                .transaction(|t| {
                    t.record_notice(
                        &key,
                        STATUS_UPLOAD,
                        text(c, "orderCode"),
                        &kept(c, None),
                        Some("a status upload without orderCode or status: nothing done"),
                    )
                })
                .map_err(|e| e.to_string());
        }
    };
    let event = intake.tables.event(status);
    let raw = text(c, "content").map(str::trim).filter(|r| !r.is_empty());
    let class = (event == Event::Failed).then(|| intake.tables.class(raw.unwrap_or("")));
    let row = {
        let s = store.lock().map_err(|_| "the notice store".to_string())?;
        s.get(order_id).map_err(|e| e.to_string())?
    };
    let sent = row.as_ref().is_some_and(|r| {
        r.stage.at_warehouse() || matches!(r.stage, Stage::Shipped | Stage::Delivered)
    });
    // The reason of a failure, masked with the order's own personal values (fetched now,
    // outside the store's lock; never stored).
    let reason = match (event, raw, sent) {
        (Event::Failed, Some(raw), true) => {
            let doc =
                crate::red::decrypt::fetch_order_document(&intake.red, order_id).map_err(|e| {
                    format!(
                        "cannot check the customs reason for personal data (send it again): {e}"
                    )
                })?;
            Some(mask_digits(&Redactor::from_document(&doc).redact(raw)))
        }
        _ => None,
    };
    let problem = match &row {
        None => Some(UNKNOWN_ORDER_STATUS.to_string()),
        Some(r) if !sent && !matches!(r.stage, Stage::Cancelled | Stage::Closed) => Some(format!(
            "a customs status for an order bondmap never sent (stage {}): nothing done",
            r.stage.as_str()
        )),
        _ => None,
    };
    let content = kept(c, reason.as_deref());
    let now = chrono::Utc::now().timestamp();
    let mut s = store.lock().map_err(|_| "the notice store".to_string())?;
    s.transaction(|t| {
        let new = t.record_notice(
            &key,
            STATUS_UPLOAD,
            row.as_ref().map(|r| r.order_id.as_str()),
            &content,
            problem.as_deref(),
        )?;
        if !new || !sent || event == Event::Noted {
            return Ok(new);
        }
        // Read again inside the transaction: the round may have moved it meanwhile.
        let Some(r) = t.get(order_id)? else {
            return Ok(new);
        };
        match (event, class) {
            (Event::Passed, _) => {
                if Move::CustomsPass.from(r.stage) {
                    t.mark_customs_passed(
                        order_id,
                        &format!("{status} at {}", text(c, "operateTime").unwrap_or("?")),
                    )?;
                }
                t.record_customs_event(
                    &key,
                    order_id,
                    Stage::CustomsPassed,
                    status,
                    None,
                    Tell::Due,
                )?;
            }
            (_, Some(class)) => {
                if Move::CustomsFail.from(r.stage) {
                    t.mark_customs_failed(order_id, class.as_str(), reason.as_deref())?;
                    if class == Class::PaymentMissing {
                        // At once the first time; a failure while re-pushes are under way
                        // keeps their schedule.
                        let left = r.repush_left.unwrap_or(REPUSHES);
                        t.schedule_repush(
                            order_id,
                            Some(left),
                            Some(r.repush_due_at.unwrap_or(now)),
                        )?;
                    } else {
                        t.schedule_repush(order_id, r.repush_left, None)?;
                        t.flag_person(order_id, &failure_words(class, reason.as_deref()))?;
                    }
                }
                t.record_customs_event(
                    &key,
                    order_id,
                    Stage::CustomsFailed,
                    status,
                    Some(class.as_str()),
                    Tell::Due,
                )?;
            }
            _ => {}
        }
        Ok(new)
    })
    .map_err(|e| e.to_string())
}

/// What a person reads of a customs failure.
fn failure_words(class: Class, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!(
            "customs stopped it ({}): {}: {r}",
            class.as_str(),
            class.words()
        ),
        None => format!("customs stopped it ({}): {}", class.as_str(), class.words()),
    }
}

/// The customs steps' settings and their mappings, compiled per warehouse when first
/// needed (kept across rounds in the running set's [`super::Life`]).
pub struct Setup {
    pub config: CustomsConfig,
    /// `order.modifycustomstatus` (default `customs_status.map` beside the ship-back one).
    pub status_map: PathBuf,
    /// `order.resendBondedPaymentRecord` (default `resend_payment.map` beside it).
    pub resend_map: PathBuf,
    programs: super::programs::Programs,
}

impl Setup {
    /// The default mappings beside the ship-back mapping (`mappings/red/`).
    pub fn beside(deliver_map: &Path) -> Setup {
        let dir = deliver_map
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Setup {
            config: CustomsConfig::default(),
            status_map: dir.join("customs_status.map"),
            resend_map: dir.join("resend_payment.map"),
            programs: Default::default(),
        }
    }

    /// The status (`status` true) or re-push mapping of a warehouse.
    fn program(
        &mut self,
        status: bool,
        warehouse: &Path,
        opts: &Options,
    ) -> Result<&Program, String> {
        let message = if status {
            &self.status_map
        } else {
            &self.resend_map
        };
        self.programs.get(message, warehouse, opts)
    }

    /// Both mappings compiled for `warehouse`: what does not compile, rendered.
    pub fn problems(&self, warehouse: &Path) -> Vec<Box<crate::engine::MappingErrors>> {
        [&self.status_map, &self.resend_map]
            .into_iter()
            .filter_map(|m| {
                crate::warehouse::load_for_warehouse(m, warehouse, &Options::default()).err()
            })
            .collect()
    }
}

/// Runs a customs mapping of the order's warehouse over a recorded notice's content.
fn build(p: &mut Pipeline, status: bool, row: &OrderRow, content: &str) -> Result<Value, String> {
    let warehouse =
        warehouse_of(p, row).ok_or("the warehouse the order was sent to is not known")?;
    let input: Value = serde_json::from_str(content)
        .map_err(|e| format!("the recorded status upload is not JSON: {e}"))?;
    let life = p.life.as_mut().ok_or("no customs mappings")?;
    let opts = life.options.clone();
    let program = life.customs.program(status, &warehouse, &opts)?;
    let json = crate::run::run(program, &input).map_err(|e| e.to_string())?;
    serde_json::from_str(&json).map_err(|e| format!("the mapping wrote no JSON: {e}"))
}

fn line(p: &Pipeline, id: &str) -> Result<Option<OrderLine>, StoreError> {
    Ok(p.store.get(id)?.map(OrderLine::from))
}

/// The customs steps that are due: RED told of each customs event, payment records
/// pushed again, waits begun when re-pushes ran out.
pub fn due(p: &mut Pipeline, out: &mut dyn FnMut(OrderLine)) -> Result<(), SyncError> {
    if p.life.is_none() {
        return Ok(());
    }
    tell_due(p, out)?;
    repush_due(p, out)
}

/// Tells RED of every customs event not yet told.
fn tell_due(p: &mut Pipeline, out: &mut dyn FnMut(OrderLine)) -> Result<(), SyncError> {
    let tell = p.life.as_ref().is_some_and(|l| l.customs.config.tell_red);
    for ev in p.store.tells_due()? {
        let (key, id) = (ev.key.clone(), ev.order_id.clone());
        if !tell {
            p.store
                .transaction(|t| t.tell_ended(&key, &id, Tell::NotSent, None))?;
            continue;
        }
        let Some(row) = p.store.get(&id)? else {
            continue;
        };
        let content = p.store.notice(&key)?.map(|n| n.content);
        let fields = match content {
            Some(c) => build(p, true, &row, &c),
            None => Err("its status upload is not in the state".into()),
        };
        let fields = match fields {
            Ok(f) => f,
            Err(why) => {
                // Nothing half-built is sent; the order's life goes on.
                tracing::warn!(order_id = %id, "a customs result cannot be told to RED: {why}");
                let why = format!("not sent: {why}");
                p.store
                    .transaction(|t| t.tell_ended(&key, &id, Tell::NotSent, Some(&why)))?;
                continue;
            }
        };
        // Counted and committed before the call: RED may hear of it even if we die now.
        p.store.transaction(|t| t.tell_begun(&key, &id))?;
        let answer = p.red.modify_customs_status(&fields);
        let (tell, error) = match &answer {
            Ok(()) => (Tell::Told, None),
            // RED's refusal (or a request bondmap could not build), in its words.
            Err(e) if !e.is_passing() => (Tell::Refused, Some(e.to_string())),
            Err(e) => (
                Tell::Due,
                Some(format!("{e} (tried again at the next round)")),
            ),
        };
        p.store
            .transaction(|t| t.tell_ended(&key, &id, tell, error.as_deref()))?;
        match tell {
            Tell::Told => {
                tracing::info!(order_id = %id, status = %ev.status, "RED told of the customs result")
            }
            _ => {
                tracing::warn!(order_id = %id, status = %ev.status, "telling RED of the customs result failed")
            }
        }
        if let Some(l) = line(p, &id)? {
            out(l);
        }
    }
    Ok(())
}

/// Pushes again the payment records that are due, or hands the order to a person.
fn repush_due(p: &mut Pipeline, out: &mut dyn FnMut(OrderLine)) -> Result<(), SyncError> {
    let now = chrono::Utc::now().timestamp();
    let after = p
        .life
        .as_ref()
        .map_or(CustomsConfig::default().repush_after, |l| {
            l.customs.config.repush_after
        })
        .as_secs() as i64;
    for row in p.store.repushes_due(now)? {
        let id = row.order_id.clone();
        let class = row.customs_class.as_deref().and_then(Class::parse);
        if class != Some(Class::PaymentMissing) {
            p.store
                .transaction(|t| t.schedule_repush(&id, row.repush_left, None))?;
            continue;
        }
        let left = row.repush_left.unwrap_or(0);
        if left == 0 {
            let why = format!(
                "customs still lacks the payment record after {REPUSHES} re-pushes of it{}",
                row.customs_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
            p.store.transaction(|t| {
                t.schedule_repush(&id, Some(0), None)?;
                t.flag_person(&id, &why)
            })?;
            tracing::warn!(order_id = %id, "the payment record was pushed again twice: a person must act");
            if let Some(l) = line(p, &id)? {
                out(l);
            }
            continue;
        }
        let notice = p.store.last_notice(&id, STATUS_UPLOAD)?.map(|n| n.content);
        let fields = match notice {
            Some(c) => build(p, false, &row, &c),
            None => Err("its status upload is not in the state".into()),
        };
        let fields = match fields {
            Ok(f) => f,
            Err(why) => {
                let why = format!("the payment record cannot be pushed again, nothing sent: {why}");
                p.store.transaction(|t| {
                    t.schedule_repush(&id, Some(left), None)?;
                    t.flag_person(&id, &why)
                })?;
                if let Some(l) = line(p, &id)? {
                    out(l);
                }
                continue;
            }
        };
        // Counted and committed before the call: a kill never re-pushes more often.
        p.store.transaction(|t| {
            t.schedule_repush(&id, Some(left - 1), Some(now + after))?;
            t.note(&id, Kind::Red, RESEND_PAYMENT, Some("call begun"))
        })?;
        let answer = p.red.resend_payment_record(&fields);
        p.store.transaction(|t| match &answer {
            Ok(()) => t.note(
                &id,
                Kind::Red,
                RESEND_PAYMENT,
                Some(&format!(
                    "RED asks the payment company to push the payment record again ({} re-push{} left)",
                    left - 1,
                    if left - 1 == 1 { "" } else { "es" }
                )),
            ),
            Err(e) if !e.is_passing() => {
                t.schedule_repush(&id, Some(left - 1), None)?;
                let why = match e {
                    RedError::Api { .. } => {
                        format!("RED refused to push the payment record again: {e}")
                    }
                    _ => format!("the payment record was not pushed again: {e}"),
                };
                t.flag_person(&id, &why)
            }
            // Not known to have reached RED: the re-push is due again at the next round.
            Err(e) => {
                t.schedule_repush(&id, Some(left), Some(now))?;
                t.set_error(&id, &format!("pushing the payment record again failed (tried again at the next round): {e}"))
            }
        })?;
        match &answer {
            Ok(()) => tracing::info!(order_id = %id, "the payment record is pushed again"),
            Err(_) => tracing::warn!(order_id = %id, "pushing the payment record again failed"),
        }
        if let Some(l) = line(p, &id)? {
            out(l);
        }
    }
    Ok(())
}
