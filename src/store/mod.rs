//! The state of the order pipeline, in SQLite (WAL mode, every change in a transaction).
//!
//! One row per RED order: its stage (`seen`, `fetched`, `rejected`, `sending`,
//! `accepted`, `failed`), attempts, the hash of its input document, the Cainiao order
//! code or the error, RED's update time, and when bondmap first and last touched it; one
//! checkpoint (the update time, in seconds, the next round starts from).
//!
//! **No personal data is kept.** A resend fetches the order from RED again, so names,
//! phones, ID numbers and addresses never reach the database; errors are bondmap's own
//! messages, which name fields and paths, not values. The input hash (MD5 of the document)
//! only tells whether an order changed.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Seen,
    Fetched,
    Rejected,
    Sending,
    Accepted,
    Failed,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Seen,
        Stage::Fetched,
        Stage::Rejected,
        Stage::Sending,
        Stage::Accepted,
        Stage::Failed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Seen => "seen",
            Stage::Fetched => "fetched",
            Stage::Rejected => "rejected",
            Stage::Sending => "sending",
            Stage::Accepted => "accepted",
            Stage::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Stage {
        Stage::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .unwrap_or(Stage::Seen)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderRow {
    pub order_id: String,
    pub stage: Stage,
    pub attempts: u32,
    pub update_time: i64,
    pub input_hash: Option<String>,
    pub cainiao_order_code: Option<String>,
    pub error: Option<String>,
    pub changed_after_accept: bool,
    pub first_seen: String,
    pub updated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("order {0} was accepted by Cainiao; it is not sent again")]
    AlreadyAccepted(String),
}

pub struct Store {
    db: Connection,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Connection::open(path)?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS orders (
                order_id TEXT PRIMARY KEY,
                stage TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                update_time INTEGER NOT NULL DEFAULT 0,
                input_hash TEXT,
                cainiao_order_code TEXT,
                error TEXT,
                changed_after_accept INTEGER NOT NULL DEFAULT 0,
                first_seen TEXT NOT NULL,
                updated_at TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS orders_stage ON orders(stage);
             CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), watermark INTEGER NOT NULL);",
        )?;
        Ok(Store { db })
    }

    fn tx<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.db.transaction()?;
        let r = f(&tx)?;
        tx.commit()?;
        Ok(r)
    }

    /// Records an order seen in the list (a new one as `seen`); keeps what is known.
    pub fn record_seen(
        &mut self,
        order_id: &str,
        update_time: i64,
    ) -> Result<OrderRow, StoreError> {
        let t = now();
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO orders (order_id, stage, update_time, first_seen, updated_at) VALUES (?1, 'seen', ?2, ?3, ?3) ON CONFLICT(order_id) DO NOTHING",
                params![order_id, update_time, t],
            )?;
            Ok(())
        })?;
        self.get(order_id)?
            .ok_or_else(|| StoreError::Sql(rusqlite::Error::QueryReturnedNoRows))
    }

    pub fn get(&self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        Ok(self
            .db
            .query_row(
                "SELECT order_id, stage, attempts, update_time, input_hash, cainiao_order_code, error, changed_after_accept, first_seen, updated_at FROM orders WHERE order_id = ?1",
                params![order_id],
                row,
            )
            .optional()?)
    }

    fn set(
        &mut self,
        order_id: &str,
        sql: &str,
        extra: &[&dyn rusqlite::ToSql],
    ) -> Result<(), StoreError> {
        let t = now();
        self.tx(|tx| {
            let mut p: Vec<&dyn rusqlite::ToSql> = vec![&order_id, &t];
            p.extend_from_slice(extra);
            tx.execute(sql, p.as_slice())?;
            Ok(())
        })
    }

    pub fn mark_fetched(
        &mut self,
        order_id: &str,
        input_hash: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        self.refuse_if_accepted(order_id)?;
        self.set(order_id, "UPDATE orders SET stage = 'fetched', input_hash = ?3, update_time = ?4, error = NULL, updated_at = ?2 WHERE order_id = ?1", &[&input_hash, &update_time])
    }

    pub fn mark_rejected(&mut self, order_id: &str, error: &str) -> Result<(), StoreError> {
        self.refuse_if_accepted(order_id)?;
        self.set(
            order_id,
            "UPDATE orders SET stage = 'rejected', error = ?3, updated_at = ?2 WHERE order_id = ?1",
            &[&error],
        )
    }

    /// Before a send: counts the attempt. An accepted order is never sent again.
    pub fn mark_sending(&mut self, order_id: &str) -> Result<(), StoreError> {
        self.refuse_if_accepted(order_id)?;
        self.set(order_id, "UPDATE orders SET stage = 'sending', attempts = attempts + 1, updated_at = ?2 WHERE order_id = ?1", &[])
    }

    pub fn mark_accepted(
        &mut self,
        order_id: &str,
        order_code: Option<&str>,
    ) -> Result<(), StoreError> {
        self.set(order_id, "UPDATE orders SET stage = 'accepted', cainiao_order_code = COALESCE(?3, cainiao_order_code), error = NULL, updated_at = ?2 WHERE order_id = ?1", &[&order_code])
    }

    pub fn mark_failed(&mut self, order_id: &str, error: &str) -> Result<(), StoreError> {
        self.refuse_if_accepted(order_id)?;
        self.set(
            order_id,
            "UPDATE orders SET stage = 'failed', error = ?3, updated_at = ?2 WHERE order_id = ?1",
            &[&error],
        )
    }

    /// An accepted order whose RED content changed afterwards (an edited address): kept
    /// as accepted, flagged for a person, not sent again.
    pub fn mark_changed_after_accept(
        &mut self,
        order_id: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        self.set(order_id, "UPDATE orders SET changed_after_accept = 1, update_time = ?3, updated_at = ?2 WHERE order_id = ?1", &[&update_time])
    }

    fn refuse_if_accepted(&self, order_id: &str) -> Result<(), StoreError> {
        match self.get(order_id)? {
            Some(r) if r.stage == Stage::Accepted => {
                Err(StoreError::AlreadyAccepted(order_id.to_string()))
            }
            _ => Ok(()),
        }
    }

    fn select(&self, sql: &str) -> Result<Vec<OrderRow>, StoreError> {
        let mut st = self.db.prepare(sql)?;
        let rows = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Orders a crash or an earlier round left half-way (seen, fetched, sending).
    pub fn pending(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!(
            "{SELECT} WHERE stage IN ('seen', 'fetched', 'sending') ORDER BY order_id"
        ))
    }

    pub fn with_stage(&self, stage: Stage) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!(
            "{SELECT} WHERE stage = '{}' ORDER BY order_id",
            stage.as_str()
        ))
    }

    pub fn changed_after_accept(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!(
            "{SELECT} WHERE changed_after_accept = 1 ORDER BY order_id"
        ))
    }

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

    pub fn set_checkpoint(&mut self, secs: i64) -> Result<(), StoreError> {
        self.tx(|tx| {
            tx.execute("INSERT INTO checkpoint (id, watermark) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET watermark = excluded.watermark", params![secs])?;
            Ok(())
        })
    }
}

const SELECT: &str = "SELECT order_id, stage, attempts, update_time, input_hash, cainiao_order_code, error, changed_after_accept, first_seen, updated_at FROM orders";

fn row(r: &rusqlite::Row) -> rusqlite::Result<OrderRow> {
    Ok(OrderRow {
        order_id: r.get(0)?,
        stage: Stage::parse(&r.get::<_, String>(1)?),
        attempts: r.get(2)?,
        update_time: r.get(3)?,
        input_hash: r.get(4)?,
        cainiao_order_code: r.get(5)?,
        error: r.get(6)?,
        changed_after_accept: r.get::<_, i64>(7)? != 0,
        first_seen: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_persist_and_accepted_is_final() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        {
            let mut s = Store::open(&p).unwrap();
            s.record_seen("P1", 10).unwrap();
            s.mark_fetched("P1", "h1", 10).unwrap();
            s.mark_sending("P1").unwrap();
            s.mark_accepted("P1", Some("LBX1")).unwrap();
            assert!(matches!(
                s.mark_sending("P1"),
                Err(StoreError::AlreadyAccepted(_))
            ));
            s.record_seen("P2", 11).unwrap();
            s.mark_rejected("P2", "no barcode").unwrap();
            s.set_checkpoint(1234).unwrap();
            s.mark_changed_after_accept("P1", 20).unwrap();
        }
        let s = Store::open(&p).unwrap();
        let r = s.get("P1").unwrap().unwrap();
        assert_eq!(
            (r.stage, r.attempts, r.cainiao_order_code.as_deref()),
            (Stage::Accepted, 1, Some("LBX1"))
        );
        assert!(r.changed_after_accept);
        assert_eq!(s.get("P2").unwrap().unwrap().stage, Stage::Rejected);
        assert_eq!(s.checkpoint().unwrap(), Some(1234));
        assert!(s.pending().unwrap().is_empty());
        let counts: std::collections::HashMap<_, _> = s.counts().unwrap().into_iter().collect();
        assert_eq!(counts[&Stage::Accepted], 1);
        assert_eq!(counts[&Stage::Rejected], 1);
    }
}
