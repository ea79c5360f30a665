//! Each order's history: every stage move, every notice Cainiao posted for it, every call
//! made to RED or Cainiao, every wait for a person and every resolve, one row each in the
//! order they happened (`bondmap history ORDER_ID`, and the operator's console later).
//!
//! The rows are written by the same transaction as the change they record ([`super::Txn`]
//! writes a move's row itself), so the history never disagrees with the state. Nothing
//! personal is written: a detail is a message that went through the order's redactor
//! (as the order's own `error` and `needs_person` are), a notice's kept code fields, or a
//! person's note masked as [`crate::pii::mask_digits`] masks one.

use super::stage::Stage;
use super::txn::Txn;
use super::{Store, StoreError};
use rusqlite::params;
use serde::Serialize;

pub(super) const TABLE: &str = "CREATE TABLE IF NOT EXISTS history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        what TEXT NOT NULL,
        from_stage TEXT,
        to_stage TEXT,
        detail TEXT,
        user TEXT)";
pub(super) const INDEX: &str = "CREATE INDEX IF NOT EXISTS history_order ON history(order_id, id)";

/// What an event of the history is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A stage move (`from` → `to`).
    Stage,
    /// A notice Cainiao posted (shipment, customs status…).
    Notice,
    /// A call to RED (its method, and how it ended).
    Red,
    /// A call to Cainiao's gateway other than the delivery order (whose calls are the
    /// `sending` moves): a cancel.
    Cainiao,
    /// The order now waits for a person, and why.
    Person,
    /// A person's resolve: the action, the note, the OS user.
    Resolve,
    /// An error kept for the next attempt (the stage stays).
    Error,
}

impl Event {
    /// The kind's name as the history shows it.
    pub fn kind_name(&self) -> &'static str {
        self.kind.as_str()
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stage => "stage",
            Kind::Notice => "notice",
            Kind::Red => "red",
            Kind::Cainiao => "cainiao",
            Kind::Person => "person",
            Kind::Resolve => "resolve",
            Kind::Error => "error",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Stage,
            Kind::Notice,
            Kind::Red,
            Kind::Cainiao,
            Kind::Person,
            Kind::Resolve,
            Kind::Error,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One event of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// When it was recorded (RFC 3339, UTC).
    pub at: String,
    pub kind: Kind,
    /// What happened, in a few words (a stage, a notice's `msg_type`, a RED method, a
    /// resolve action…).
    pub what: String,
    /// The stage it left (stage moves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The stage it reached (stage moves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// More about it: an error, a reason, a note, a notice's codes (nothing personal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The OS user of a resolve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Txn<'_> {
    /// Adds an event to an order's history.
    pub fn note(
        &self,
        order_id: &str,
        kind: Kind,
        what: &str,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.insert_event(order_id, kind, what, None, None, detail, None)
    }

    /// Adds to the history an order's first stage (it came from nowhere).
    pub(super) fn appeared(
        &self,
        order_id: &str,
        to: Stage,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.insert_event(
            order_id,
            Kind::Stage,
            to.as_str(),
            None,
            Some(to.as_str()),
            detail,
            None,
        )
    }

    /// Adds to the history the move of an order to `to`, from the stage it is in, when
    /// that stage meets `from` (an SQL condition on `stage`, the move's own): run just
    /// before the UPDATE that makes the move, with the same condition, in the same
    /// transaction, so the row is written exactly when the move is made.
    pub(super) fn moving(
        &self,
        order_id: &str,
        from: &str,
        to: Stage,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO history (order_id, at, kind, what, from_stage, to_stage, detail) SELECT order_id, ?2, ?3, ?4, stage, ?4, ?5 FROM orders WHERE order_id = ?1 AND {from}"
        );
        self.tx.prepare_cached(&sql)?.execute(params![
            order_id,
            self.now,
            Kind::Stage.as_str(),
            to.as_str(),
            detail
        ])?;
        Ok(())
    }

    /// Adds a person's resolve to an order's history.
    pub fn note_resolve(
        &self,
        order_id: &str,
        action: &str,
        note: Option<&str>,
        user: &str,
    ) -> Result<(), StoreError> {
        self.insert_event(
            order_id,
            Kind::Resolve,
            action,
            None,
            None,
            note,
            Some(user),
        )
    }

    #[allow(clippy::too_many_arguments)] // one row's columns
    fn insert_event(
        &self,
        order_id: &str,
        kind: Kind,
        what: &str,
        from: Option<&str>,
        to: Option<&str>,
        detail: Option<&str>,
        user: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("INSERT INTO history (order_id, at, kind, what, from_stage, to_stage, detail, user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?
            .execute(params![order_id, self.now, kind.as_str(), what, from, to, detail, user])?;
        Ok(())
    }
}

impl Store {
    /// The history of one order, oldest first (empty for an order never seen).
    pub fn history(&self, order_id: &str) -> Result<Vec<Event>, StoreError> {
        let mut st = self.db.prepare(
            "SELECT at, kind, what, from_stage, to_stage, detail, user FROM history WHERE order_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map(params![order_id], |r| {
                let kind: String = r.get(1)?;
                Ok(Event {
                    at: r.get(0)?,
                    // A kind of a newer version reads as an error event, never dropped.
                    kind: Kind::parse(&kind).unwrap_or(Kind::Error),
                    what: r.get(2)?,
                    from: r.get(3)?,
                    to: r.get(4)?,
                    detail: r.get(5)?,
                    user: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_move_notice_call_wait_and_resolve_is_in_the_history_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        s.record_seen("P1", 10).unwrap();
        s.mark_fetched("P1", "h", 10).unwrap();
        s.mark_sending("P1").unwrap();
        s.mark_accepted("P1", Some("LBX1")).unwrap();
        // A second "accepted" (a duplicate answer) is no move.
        s.mark_accepted("P1", Some("LBX1")).unwrap();
        s.transaction(|t| {
            t.record_notice("k1", "WMS_ORDER_STATUS_UPLOAD", Some("P1"), "{}", None)?;
            t.mark_customs_failed("P1", "buyer_identity", Some("订购人身份信息不符"))?;
            t.flag_person("P1", "customs stopped it")?;
            t.note_resolve("P1", "close", Some("refunded"), "ops")?;
            t.close("P1", "refunded")
        })
        .unwrap();
        let h = s.history("P1").unwrap();
        let seen: Vec<(Kind, &str)> = h.iter().map(|e| (e.kind, e.what.as_str())).collect();
        assert_eq!(
            seen,
            [
                (Kind::Stage, "seen"),
                (Kind::Stage, "fetched"),
                (Kind::Stage, "sending"),
                (Kind::Stage, "accepted"),
                (Kind::Notice, "WMS_ORDER_STATUS_UPLOAD"),
                (Kind::Stage, "customs_failed"),
                (Kind::Person, "waits for a person"),
                (Kind::Resolve, "close"),
                (Kind::Stage, "closed"),
            ]
        );
        let failed = &h[5];
        assert_eq!(failed.from.as_deref(), Some("accepted"));
        assert_eq!(
            failed.detail.as_deref(),
            Some("buyer_identity: 订购人身份信息不符")
        );
        assert_eq!(h[3].detail.as_deref(), Some("Cainiao order LBX1"));
        assert_eq!(h[7].user.as_deref(), Some("ops"));
        let row = s.get("P1").unwrap().unwrap();
        assert_eq!((row.stage, row.needs_person), (Stage::Closed, None));
        assert!(s.history("NOPE").unwrap().is_empty());
        let json = serde_json::to_value(&h[7]).unwrap();
        assert_eq!(json["kind"], "resolve");
        assert!(json.get("from").is_none());
    }
}
