//! Customs in the state: the moves a customs result makes (`customs_passed`,
//! `customs_failed` with its class and reason), each customs event RED is to be told of
//! (`customs_events`, one row per status notice, keyed by the notice's identity), and the
//! payment record's re-pushes (`repush_left`, `repush_due_at` of the order).
//!
//! RED hears of each event once, as the shipment is told: the attempt is counted and
//! committed before the call ([`Txn::tell_begun`]), the answer recorded after it
//! ([`Txn::tell_ended`]); a kill in between leaves the event due, so it is told again with
//! the very same fields.

use super::history::Kind;
use super::read::{notice_row, SELECT_NOTICES};
use super::stage::{Move, Stage};
use super::txn::Txn;
use super::{NoticeRow, OrderRow, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

pub(super) const TABLE: &str = "CREATE TABLE IF NOT EXISTS customs_events (
        key TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        event TEXT NOT NULL,
        status TEXT NOT NULL,
        class TEXT,
        tell TEXT NOT NULL,
        tell_attempts INTEGER NOT NULL DEFAULT 0,
        tell_error TEXT,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)";

/// Where telling RED of a customs event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tell {
    /// Not yet told (or a passing fault: told again at the next round).
    Due,
    /// RED took it.
    Told,
    /// RED refused it (its words are the event's error): not sent again.
    Refused,
    /// The step is turned off (`[customs] tell_red = false`), or the event could not be
    /// mapped: nothing was sent.
    NotSent,
}

impl Tell {
    fn as_str(self) -> &'static str {
        match self {
            Tell::Due => "due",
            Tell::Told => "told",
            Tell::Refused => "refused",
            Tell::NotSent => "not_sent",
        }
    }

    fn parse(s: &str) -> Tell {
        match s {
            "told" => Tell::Told,
            "refused" => Tell::Refused,
            "not_sent" => Tell::NotSent,
            // An unknown value is told again rather than lost.
            _ => Tell::Due,
        }
    }
}

/// One customs result of an order, as RED is to hear of it.
#[derive(Debug, Clone, Serialize)]
pub struct CustomsEvent {
    /// The identity of the status notice it came in.
    pub key: String,
    pub order_id: String,
    /// `customs_passed` or `customs_failed`.
    pub event: Stage,
    /// The warehouse's status (`CUSTOMS_FAILED`…).
    pub status: String,
    /// The failure's class, for a failure.
    pub class: Option<String>,
    pub tell: Tell,
    /// `order.modifycustomstatus` calls begun (counted before each).
    pub tell_attempts: u32,
    /// Why it is not told yet, or RED's refusal.
    pub tell_error: Option<String>,
    pub received_at: String,
}

const SELECT_EVENTS: &str = "SELECT key, order_id, event, status, class, tell, tell_attempts, tell_error, received_at FROM customs_events";

fn event_row(r: &rusqlite::Row) -> rusqlite::Result<CustomsEvent> {
    let event: String = r.get(2)?;
    let tell: String = r.get(5)?;
    Ok(CustomsEvent {
        key: r.get(0)?,
        order_id: r.get(1)?,
        // Only the two customs stages are written here.
        event: if event == Stage::CustomsPassed.as_str() {
            Stage::CustomsPassed
        } else {
            Stage::CustomsFailed
        },
        status: r.get(3)?,
        class: r.get(4)?,
        tell: Tell::parse(&tell),
        tell_attempts: r.get(6)?,
        tell_error: r.get(7)?,
        received_at: r.get(8)?,
    })
}

impl Txn<'_> {
    /// Customs cleared it: a wait over an earlier failure is over, no re-push is due.
    pub fn mark_customs_passed(&self, order_id: &str, detail: &str) -> Result<(), StoreError> {
        let set = format!(
            "error = NULL, repush_due_at = NULL, needs_person = CASE WHEN stage = {} THEN NULL ELSE needs_person END",
            Stage::CustomsFailed.sql()
        );
        self.step(order_id, Move::CustomsPass, &set, &[], Some(detail))
    }

    /// Customs stopped it: `class` and `reason` (already redacted) replace any earlier
    /// failure's.
    pub fn mark_customs_failed(
        &self,
        order_id: &str,
        class: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let detail = match reason {
            Some(r) => format!("{class}: {r}"),
            None => class.to_string(),
        };
        self.step(
            order_id,
            Move::CustomsFail,
            "customs_class = ?3, customs_reason = ?4",
            &[&class, &reason],
            Some(&detail),
        )
    }

    /// A customs event RED is to be told of (`tell` [`Tell::Due`], or [`Tell::NotSent`]
    /// when the step is off).
    pub fn record_customs_event(
        &self,
        key: &str,
        order_id: &str,
        event: Stage,
        status: &str,
        class: Option<&str>,
        tell: Tell,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO customs_events (key, order_id, event, status, class, tell, received_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT(key) DO NOTHING",
            params![key, order_id, event.as_str(), status, class, tell.as_str(), self.now],
        )?;
        Ok(())
    }

    /// Before each `order.modifycustomstatus`: counted and committed.
    pub fn tell_begun(&self, key: &str, order_id: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE customs_events SET tell_attempts = tell_attempts + 1, updated_at = ?2 WHERE key = ?1",
            params![key, self.now],
        )?;
        self.note(
            order_id,
            Kind::Red,
            "order.modifycustomstatus",
            Some("call begun"),
        )
    }

    /// How telling RED ended (`error`: why not, or RED's refusal; already redacted).
    pub fn tell_ended(
        &self,
        key: &str,
        order_id: &str,
        tell: Tell,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE customs_events SET tell = ?2, tell_error = ?3, updated_at = ?4 WHERE key = ?1",
            params![key, tell.as_str(), error, self.now],
        )?;
        let what = match tell {
            Tell::Due => "tried again later",
            Tell::Told => "RED is told of the customs result",
            Tell::Refused => "RED refused the customs result",
            Tell::NotSent => "not sent",
        };
        let detail = match error {
            Some(e) => format!("{what}: {e}"),
            None => what.to_string(),
        };
        self.note(
            order_id,
            Kind::Red,
            "order.modifycustomstatus",
            Some(&detail),
        )
    }

    /// Sets the re-pushes left and when the next step of them is due (`None`: none is).
    pub fn schedule_repush(
        &self,
        order_id: &str,
        left: Option<u32>,
        due_at: Option<i64>,
    ) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET repush_left = ?3, repush_due_at = ?4, updated_at = ?2 WHERE order_id = ?1",
            &[&left, &due_at],
        )
    }
}

impl Store {
    /// Customs events RED is still to be told of, oldest first.
    pub fn tells_due(&self) -> Result<Vec<CustomsEvent>, StoreError> {
        self.events(
            "WHERE tell = ?1 ORDER BY received_at, key",
            params![Tell::Due.as_str()],
        )
    }

    /// Customs events RED refused, or that could not be mapped (for `status`).
    pub fn tells_not_done(&self) -> Result<Vec<CustomsEvent>, StoreError> {
        self.events(
            "WHERE tell IN (?1, ?2) AND tell_error IS NOT NULL ORDER BY received_at, key",
            params![Tell::Refused.as_str(), Tell::NotSent.as_str()],
        )
    }

    fn events(
        &self,
        tail: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<CustomsEvent>, StoreError> {
        let mut st = self.db.prepare(&format!("{SELECT_EVENTS} {tail}"))?;
        let rows = st.query_map(p, event_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every customs event of one order, oldest first.
    pub fn customs_events_of(&self, order_id: &str) -> Result<Vec<CustomsEvent>, StoreError> {
        self.events(
            "WHERE order_id = ?1 ORDER BY received_at, key",
            params![order_id],
        )
    }

    /// A notice by its identity.
    pub fn notice(&self, key: &str) -> Result<Option<NoticeRow>, StoreError> {
        Ok(self
            .db
            .query_row(
                &format!("{SELECT_NOTICES} WHERE key = ?1"),
                params![key],
                notice_row,
            )
            .optional()?)
    }

    /// The last notice of one type recorded for an order.
    pub fn last_notice(
        &self,
        order_id: &str,
        msg_type: &str,
    ) -> Result<Option<NoticeRow>, StoreError> {
        Ok(self
            .db
            .query_row(
                &format!("{SELECT_NOTICES} WHERE order_id = ?1 AND msg_type = ?2 ORDER BY received_at DESC, rowid DESC LIMIT 1"),
                params![order_id, msg_type],
                notice_row,
            )
            .optional()?)
    }

    /// Orders stopped by customs whose next re-push step is due at `now` (unix seconds),
    /// none waiting for a person.
    pub fn repushes_due(&self, now: i64) -> Result<Vec<OrderRow>, StoreError> {
        self.select(
            &format!(
                "WHERE stage = {} AND repush_due_at IS NOT NULL AND repush_due_at <= ?1 AND needs_person IS NULL ORDER BY order_id",
                Stage::CustomsFailed.sql()
            ),
            params![now],
        )
    }
}
