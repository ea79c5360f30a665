//! Reading the state: the orders by what a round, `status` or `retry` asks of them, the
//! notices, the checkpoint and the facts about the state itself. Nothing here writes.

use super::schema::SELECT_ORDERS;
use super::stage::{Move, Stage};
use super::{NoticeRow, OrderRow, Store, StoreError, MAPPING_KEY};
use rusqlite::{params, Connection, OptionalExtension};

pub(super) const SELECT_NOTICES: &str =
    "SELECT key, msg_type, order_id, content, problem, received_at FROM notices";

impl Store {
    /// Everything about every order, by id (`status --all`).
    pub fn all(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select("ORDER BY order_id", [])
    }

    /// Orders a person must act on: flagged, failed, rejected, or changed after acceptance.
    pub fn needing_person(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(
            &format!(
                "WHERE needs_person IS NOT NULL OR stage IN {} OR changed_after_accept = 1 ORDER BY order_id",
                Stage::sql_list(Stage::is_problem)
            ),
            [],
        )
    }

    /// Orders RED shows cancelled whose cancel is not yet settled.
    pub fn cancels_due(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(
            "WHERE cancel_wanted = 1 AND stage != ?1 AND needs_person IS NULL ORDER BY order_id",
            params![Stage::Cancelled.as_str()],
        )
    }

    /// Shipped orders RED is still to be told of (none waiting for a person).
    pub fn deliveries_due(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(
            &format!(
                "WHERE {} AND needs_person IS NULL ORDER BY order_id",
                Move::Deliver.sql_from()
            ),
            [],
        )
    }

    /// Orders a crash or an earlier round left half-way (seen, fetched, sending).
    pub fn pending(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(
            &format!(
                "WHERE stage IN {} ORDER BY order_id",
                Stage::sql_list(Stage::is_pending)
            ),
            [],
        )
    }

    pub fn with_stage(&self, stage: Stage) -> Result<Vec<OrderRow>, StoreError> {
        self.select(
            "WHERE stage = ?1 ORDER BY order_id",
            params![stage.as_str()],
        )
    }

    pub fn changed_after_accept(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select("WHERE changed_after_accept = 1 ORDER BY order_id", [])
    }

    pub fn get(&self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        get(&self.db, order_id)
    }

    /// How many orders are in each stage, every stage listed.
    pub fn counts(&self) -> Result<Vec<(Stage, u64)>, StoreError> {
        let mut out = Vec::new();
        for s in Stage::ALL {
            let n: u64 = self.db.query_row(
                "SELECT COUNT(*) FROM orders WHERE stage = ?1",
                params![s.as_str()],
                |r| r.get(0),
            )?;
            out.push((s, n));
        }
        Ok(out)
    }

    pub fn checkpoint(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .db
            .query_row("SELECT watermark FROM checkpoint WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The identity of the mapping this state was made with (`None` before the first run
    /// that recorded one).
    pub fn mapping_identity(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![MAPPING_KEY],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Notices that could not be taken (an unknown order…), for `status`.
    pub fn notice_problems(&self) -> Result<Vec<NoticeRow>, StoreError> {
        let mut st = self.db.prepare(&format!(
            "{SELECT_NOTICES} WHERE problem IS NOT NULL ORDER BY received_at, key"
        ))?;
        let rows = st
            .query_map([], notice_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The last notice recorded for an order.
    pub fn notice_of(&self, order_id: &str) -> Result<Option<NoticeRow>, StoreError> {
        Ok(self
            .db
            .query_row(
                &format!("{SELECT_NOTICES} WHERE order_id = ?1 ORDER BY received_at DESC, rowid DESC LIMIT 1"),
                params![order_id],
                notice_row,
            )
            .optional()?)
    }

    /// A row whose stage this version does not know stops everything: reading it as some
    /// other stage could send an accepted order again.
    pub(super) fn check_stages(&self) -> Result<(), StoreError> {
        let known = Stage::sql_list(|_| true);
        let bad: Option<(String, String)> = self
            .db
            .query_row(
                &format!(
                    "SELECT order_id, stage FROM orders WHERE stage NOT IN {known} ORDER BY order_id LIMIT 1"
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match bad {
            Some((order_id, stage)) => Err(StoreError::UnknownStage {
                order_id,
                stage: stage.chars().take(40).collect(),
            }),
            None => Ok(()),
        }
    }

    /// The orders of `SELECT … FROM orders <tail>`.
    pub(super) fn select(
        &self,
        tail: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<OrderRow>, StoreError> {
        let mut st = self.db.prepare(&format!("{} {tail}", *SELECT_ORDERS))?;
        let rows = st.query_map(p, row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// One order by id, on the store's connection or inside a transaction.
pub(super) fn get(db: &Connection, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
    let r = db
        .query_row(
            &format!("{} WHERE order_id = ?1", *SELECT_ORDERS),
            params![order_id],
            row,
        )
        .optional();
    match r {
        Ok(r) => Ok(r),
        Err(rusqlite::Error::FromSqlConversionFailure(_, _, e)) => Err(StoreError::UnknownStage {
            order_id: order_id.to_string(),
            stage: e.to_string(),
        }),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn notice_row(r: &rusqlite::Row) -> rusqlite::Result<NoticeRow> {
    Ok(NoticeRow {
        key: r.get(0)?,
        msg_type: r.get(1)?,
        order_id: r.get(2)?,
        content: r.get(3)?,
        problem: r.get(4)?,
        received_at: r.get(5)?,
    })
}

/// The stage a row names, or a conversion error carrying that name.
#[derive(Debug)]
struct BadStage(String);
impl std::fmt::Display for BadStage {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadStage {}

/// An order as [`SELECT_ORDERS`] reads it (columns by name, so their order is free).
fn row(r: &rusqlite::Row) -> rusqlite::Result<OrderRow> {
    let stage: String = r.get("stage")?;
    let stage = Stage::parse(&stage).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            Box::new(BadStage(stage.chars().take(40).collect())),
        )
    })?;
    Ok(OrderRow {
        order_id: r.get("order_id")?,
        stage,
        attempts: r.get("attempts")?,
        update_time: r.get("update_time")?,
        input_hash: r.get("input_hash")?,
        cainiao_order_code: r.get("cainiao_order_code")?,
        error: r.get("error")?,
        changed_after_accept: r.get::<_, i64>("changed_after_accept")? != 0,
        first_seen: r.get("first_seen")?,
        updated_at: r.get("updated_at")?,
        warehouse: r.get("warehouse")?,
        needs_person: r.get("needs_person")?,
        cancel_wanted: r.get::<_, i64>("cancel_wanted")? != 0,
        deliver_attempts: r.get("deliver_attempts")?,
        // Kept by `mark_rejected` only, so it speaks of the order only while it is rejected.
        error_code: if stage == Stage::Rejected {
            r.get("error_code")?
        } else {
            None
        },
        customs_class: r.get("customs_class")?,
        customs_reason: r.get("customs_reason")?,
        repush_left: r.get("repush_left")?,
        repush_due_at: r.get("repush_due_at")?,
        retry_wanted: r.get::<_, i64>("retry_wanted")? != 0,
    })
}
