//! Changing the state: every change runs in one transaction ([`Store::transaction`]),
//! and every stage change is a [`Move`] whose SQL condition comes from
//! [`super::stage`], so the test (may it move?) and the change are one statement. Every
//! move, and every other change a person would want to see later (a call begun, a wait
//! for a person, an error kept), is written to the order's history in the same
//! transaction ([`super::history`]).

use super::history::Kind;
use super::read::get;
use super::stage::{Move, Stage};
use super::{now, OrderRow, Store, StoreError, CHANGED_AFTER_ACCEPT, MAPPING_KEY};
use rusqlite::{params, TransactionBehavior};

impl Store {
    /// Runs `f` in one transaction, taking the write lock at its start (IMMEDIATE), so a
    /// read-then-write inside it is one step for every other connection.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&Txn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let r = f(&Txn {
            tx: &tx,
            now: now(),
        })?;
        tx.commit()?;
        Ok(r)
    }

    /// Records an order seen in the list (a new one as `seen`); keeps what is known.
    pub fn record_seen(
        &mut self,
        order_id: &str,
        update_time: i64,
    ) -> Result<OrderRow, StoreError> {
        self.transaction(|t| t.record_seen(order_id, update_time))
    }

    pub fn mark_fetched(
        &mut self,
        order_id: &str,
        input_hash: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        self.transaction(|t| t.mark_fetched(order_id, input_hash, update_time))
    }

    pub fn mark_rejected(
        &mut self,
        order_id: &str,
        error: &str,
        code: Option<&str>,
    ) -> Result<(), StoreError> {
        self.transaction(|t| t.mark_rejected(order_id, error, code))
    }

    /// Before a send: counts the attempt. An accepted order is never sent again.
    pub fn mark_sending(&mut self, order_id: &str) -> Result<(), StoreError> {
        self.transaction(|t| t.mark_sending(order_id))
    }

    pub fn mark_accepted(
        &mut self,
        order_id: &str,
        order_code: Option<&str>,
    ) -> Result<(), StoreError> {
        self.transaction(|t| t.mark_accepted(order_id, order_code))
    }

    pub fn mark_failed(&mut self, order_id: &str, error: &str) -> Result<(), StoreError> {
        self.transaction(|t| t.mark_failed(order_id, error))
    }

    /// An accepted order whose RED content changed afterwards (an edited address): kept
    /// as accepted, flagged for a person, not sent again.
    pub fn mark_changed_after_accept(
        &mut self,
        order_id: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        self.transaction(|t| t.mark_changed_after_accept(order_id, update_time))
    }

    pub fn set_checkpoint(&mut self, secs: i64) -> Result<(), StoreError> {
        self.transaction(|t| {
            t.tx.execute("INSERT INTO checkpoint (id, watermark) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET watermark = excluded.watermark", params![secs])?;
            Ok(())
        })
    }

    pub fn set_mapping_identity(&mut self, identity: &str) -> Result<(), StoreError> {
        self.transaction(|t| {
            t.tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![MAPPING_KEY, identity],
            )?;
            Ok(())
        })
    }
}

/// The changes of one transaction ([`Store::transaction`]): each one refuses what would
/// move an accepted order back, in the same step as the change.
pub struct Txn<'a> {
    pub(super) tx: &'a rusqlite::Transaction<'a>,
    pub(super) now: String,
}

impl Txn<'_> {
    pub fn get(&self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        get(self.tx, order_id)
    }

    pub fn record_seen(&self, order_id: &str, update_time: i64) -> Result<OrderRow, StoreError> {
        let new = self.tx.execute(
            "INSERT INTO orders (order_id, stage, update_time, first_seen, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(order_id) DO NOTHING",
            params![order_id, Stage::Seen.as_str(), update_time, self.now],
        )?;
        if new == 1 {
            self.appeared(order_id, Stage::Seen, Some("listed by RED"))?;
        }
        self.get(order_id)?
            .ok_or_else(|| StoreError::Unknown(order_id.to_string()))
    }

    /// Runs move `m` of one order: `set` are the columns it changes besides the stage
    /// (`?1` is the order id, `?2` now, `extra` from `?3`). A move the order's stage
    /// does not allow is an error when [`Move::refusal_is_error`] says so, else nothing
    /// changes; an order not there at all is an error.
    pub(super) fn step(
        &self,
        order_id: &str,
        m: Move,
        set: &str,
        extra: &[&dyn rusqlite::ToSql],
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let sep = if set.is_empty() { "" } else { ", " };
        let sql = format!(
            "UPDATE orders SET stage = {}{sep}{set}, updated_at = ?2 WHERE order_id = ?1 AND {}",
            m.to().sql(),
            m.sql_from()
        );
        self.moving(order_id, &m.sql_from(), m.to(), detail)?;
        if self.update(order_id, &sql, extra)? == 1 {
            return Ok(());
        }
        match self.get(order_id)? {
            Some(_) if m.refusal_is_error() => {
                Err(StoreError::AlreadyAccepted(order_id.to_string()))
            }
            Some(_) => Ok(()),
            None => Err(StoreError::Unknown(order_id.to_string())),
        }
    }

    pub fn mark_fetched(
        &self,
        order_id: &str,
        input_hash: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        self.step(
            order_id,
            Move::Fetch,
            "input_hash = ?3, update_time = ?4, error = NULL",
            &[&input_hash, &update_time],
            Some("fetched from RED"),
        )
    }

    /// `code`: the run-time error code of a rejection by the mapping, if it has one.
    pub fn mark_rejected(
        &self,
        order_id: &str,
        error: &str,
        code: Option<&str>,
    ) -> Result<(), StoreError> {
        self.step(
            order_id,
            Move::Reject,
            "error = ?3, error_code = ?4",
            &[&error, &code],
            Some(error),
        )
    }

    /// Before a send: the test (not accepted) and the set (`sending`, one more attempt)
    /// are one statement of one transaction.
    pub fn mark_sending(&self, order_id: &str) -> Result<(), StoreError> {
        self.step(
            order_id,
            Move::Send,
            "attempts = attempts + 1",
            &[],
            Some("the delivery order is sent to Cainiao"),
        )
    }

    pub fn mark_accepted(
        &self,
        order_id: &str,
        order_code: Option<&str>,
    ) -> Result<(), StoreError> {
        // An order already further on (shipped, delivered, cancelled) stays there; its
        // code and error are updated all the same.
        let sql = format!(
            "UPDATE orders SET stage = CASE WHEN {} THEN {} ELSE stage END, cainiao_order_code = COALESCE(?3, cainiao_order_code), error = NULL, updated_at = ?2 WHERE order_id = ?1",
            Move::Accept.sql_from(),
            Move::Accept.to().sql()
        );
        // A move only from another stage: a second "accepted" answer is no event.
        let detail = order_code.map(|c| format!("Cainiao order {c}"));
        let from = format!(
            "stage IN {}",
            Stage::sql_list(|s| Move::Accept.from(s) && s != Stage::Accepted)
        );
        self.moving(order_id, &from, Stage::Accepted, detail.as_deref())?;
        if self.update(order_id, &sql, &[&order_code])? != 1 {
            return Err(StoreError::Unknown(order_id.to_string()));
        }
        Ok(())
    }

    pub fn mark_failed(&self, order_id: &str, error: &str) -> Result<(), StoreError> {
        self.step(order_id, Move::Fail, "error = ?3", &[&error], Some(error))
    }

    /// No route takes it: never sent, the reason kept.
    pub fn mark_skipped(&self, order_id: &str, reason: &str) -> Result<(), StoreError> {
        self.step(order_id, Move::Skip, "error = ?3", &[&reason], Some(reason))
    }

    /// Cancelled: never sent, or the warehouse accepted the cancel. Never from shipped on.
    pub fn mark_cancelled(&self, order_id: &str) -> Result<(), StoreError> {
        self.step(
            order_id,
            Move::Cancel,
            "cancel_wanted = 0, error = NULL, needs_person = NULL, repush_due_at = NULL",
            &[],
            None,
        )
    }

    /// The warehouse shipped it (its notice is recorded): RED is to be told.
    pub fn mark_shipped(&self, order_id: &str) -> Result<(), StoreError> {
        // Shipped after customs stopped it: customs cleared it after all, so a wait over
        // that failure is over too.
        let set = format!(
            "error = NULL, repush_due_at = NULL, needs_person = CASE WHEN stage = {} THEN NULL ELSE needs_person END",
            Stage::CustomsFailed.sql()
        );
        self.step(order_id, Move::Ship, &set, &[], None)
    }

    /// Before each `order.orderDeliver`: counted and committed, so a kill after it leaves a
    /// trace; the order stays `shipped` until RED's answer is recorded.
    pub fn mark_delivering(&self, order_id: &str) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE orders SET deliver_attempts = deliver_attempts + 1, updated_at = ?2 WHERE order_id = ?1 AND {}",
            Move::Deliver.sql_from()
        );
        if self.update(order_id, &sql, &[])? == 1 {
            return self.note(
                order_id,
                Kind::Red,
                "order.orderDeliver",
                Some("call begun"),
            );
        }
        self.one(order_id, &sql, &[])
    }

    pub fn mark_delivered(&self, order_id: &str) -> Result<(), StoreError> {
        self.step(
            order_id,
            Move::Deliver,
            "error = NULL",
            &[],
            Some("RED is told of the shipment"),
        )
    }

    /// The warehouse mapping the order is sent with (set with `sending`).
    pub fn set_warehouse(&self, order_id: &str, warehouse: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET warehouse = ?3, updated_at = ?2 WHERE order_id = ?1",
            &[&warehouse],
        )
    }

    /// RED shows the order cancelled: its cancel is due (settled by the round).
    pub fn want_cancel(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET cancel_wanted = 1, updated_at = ?2 WHERE order_id = ?1",
            &[],
        )?;
        self.note(
            order_id,
            Kind::Cainiao,
            "cancel due",
            Some("RED shows it cancelled: the warehouse is to be told"),
        )
    }

    /// A person must act: `reason` says why (already redacted).
    pub fn flag_person(&self, order_id: &str, reason: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET needs_person = ?3, updated_at = ?2 WHERE order_id = ?1",
            &[&reason],
        )?;
        self.note(order_id, Kind::Person, "waits for a person", Some(reason))
    }

    /// An error kept for the next attempt (the stage stays).
    pub fn set_error(&self, order_id: &str, error: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET error = ?3, updated_at = ?2 WHERE order_id = ?1",
            &[&error],
        )?;
        self.note(order_id, Kind::Error, "tried again later", Some(error))
    }

    pub fn mark_changed_after_accept(
        &self,
        order_id: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        let n = self.tx.execute("UPDATE orders SET changed_after_accept = 1, update_time = ?3, updated_at = ?2 WHERE order_id = ?1 AND changed_after_accept = 0", params![order_id, self.now, update_time])?;
        if n == 0 {
            // Flagged already: only RED's update time moves on.
            self.tx.execute(
                "UPDATE orders SET update_time = ?3, updated_at = ?2 WHERE order_id = ?1",
                params![order_id, self.now, update_time],
            )?;
            return Ok(());
        }
        self.note(
            order_id,
            Kind::Person,
            "waits for a person",
            Some(CHANGED_AFTER_ACCEPT),
        )
    }

    /// Records a notice under its identity `key`; `false` when it was recorded already
    /// (nothing changes then).
    pub fn record_notice(
        &self,
        key: &str,
        msg_type: &str,
        order_id: Option<&str>,
        content: &str,
        problem: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = self.tx.execute(
            "INSERT INTO notices (key, msg_type, order_id, content, problem, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key) DO NOTHING",
            params![key, msg_type, order_id, content, problem, self.now],
        )?;
        if let (1, Some(id)) = (n, order_id) {
            let detail = match problem {
                Some(p) => format!("{content} ({p})"),
                None => content.to_string(),
            };
            self.note(id, Kind::Notice, msg_type, Some(&detail))?;
        }
        Ok(n == 1)
    }

    /// An UPDATE of one order (no stage change) whose condition may not hold: no row
    /// changed is an error only when the order is not there at all.
    pub(super) fn one(
        &self,
        order_id: &str,
        sql: &str,
        extra: &[&dyn rusqlite::ToSql],
    ) -> Result<(), StoreError> {
        if self.update(order_id, sql, extra)? == 1 || self.get(order_id)?.is_some() {
            return Ok(());
        }
        Err(StoreError::Unknown(order_id.to_string()))
    }

    /// Runs an UPDATE of one order: `?1` is the order id, `?2` now, `extra` from `?3`.
    /// Returns how many rows changed.
    pub(super) fn update(
        &self,
        order_id: &str,
        sql: &str,
        extra: &[&dyn rusqlite::ToSql],
    ) -> Result<usize, StoreError> {
        let mut p: Vec<&dyn rusqlite::ToSql> = vec![&order_id, &self.now];
        p.extend_from_slice(extra);
        // The same few statements run for every order of a round: prepared once each.
        Ok(self.tx.prepare_cached(sql)?.execute(p.as_slice())?)
    }
}
