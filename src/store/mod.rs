//! The state of the order pipeline, in SQLite (WAL mode, every change in a transaction).
//!
//! One row per RED order: its stage (see [`stage`]), attempts, the hash of its input
//! document, the Cainiao order code or the error, RED's update time, and when bondmap first
//! and last touched it; one checkpoint (the update time, in seconds, the next round starts
//! from); a few facts about the state itself (`meta`: the identity of the mapping it was
//! made with); the shipment notices Cainiao posted (`notices`, one row per notice, keyed by
//! its identity, so the same notice twice changes nothing).
//!
//! Later in an order's life each row also keeps the warehouse mapping it was sent with
//! (`warehouse`, a path relative to the folder of the `--mapping` file, so its cancel and
//! ship-back go through that warehouse's codes), whether a cancel is due
//! (`cancel_wanted`), the `order.orderDeliver` attempts, and, when a person must act,
//! why (`needs_person`). A state file of an earlier version gains these columns on open.
//!
//! **No personal data is kept.** A resend fetches the order from RED again, so names,
//! phones, ID numbers and addresses never reach the database; every message stored has
//! been through the order's [`crate::pii::Redactor`]. The input hash (MD5 of the document)
//! only tells whether an order changed.
//!
//! A writer (`sync`, `retry`) opens with [`Store::open_exclusive`], which holds
//! [`lock::StateLock`]; `status` opens read-only and never waits for it.

pub mod lock;
pub mod stage;

pub use lock::{LockError, StateLock};
pub use stage::Stage;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::Path;

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
    /// The warehouse mapping it was sent with, relative to the `--mapping` file's folder.
    pub warehouse: Option<String>,
    /// Why a person must act on it (`None`: nothing to do by hand).
    pub needs_person: Option<String>,
    /// RED shows it cancelled and the warehouse has not yet been told.
    pub cancel_wanted: bool,
    /// `order.orderDeliver` calls begun (counted before each call).
    pub deliver_attempts: u32,
    /// The stable code of a rejection by the mapping (`bondmap::run::…`, README "Run-time
    /// error codes"); `None` for an order in any other stage.
    pub error_code: Option<String>,
}

/// A shipment notice as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NoticeRow {
    pub key: String,
    pub msg_type: String,
    pub order_id: Option<String>,
    /// The notice's content (codes, tracking number, times: nothing personal).
    pub content: String,
    /// Why it could not be taken (unknown order, cancelled order…), for a person.
    pub problem: Option<String>,
    pub received_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("order {0} was accepted by Cainiao; it is not sent again")]
    AlreadyAccepted(String),
    #[error("order {0} is not in the state")]
    Unknown(String),
    #[error("state store: order {order_id} has stage `{stage}`, which this version of bondmap does not know (a hand-edited row, or a state written by a newer version); refusing to start")]
    UnknownStage { order_id: String, stage: String },
    #[error(transparent)]
    Lock(#[from] LockError),
}

pub struct Store {
    db: Connection,
    _lock: Option<StateLock>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS orders (
        order_id TEXT PRIMARY KEY,
        stage TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        update_time INTEGER NOT NULL DEFAULT 0,
        input_hash TEXT,
        cainiao_order_code TEXT,
        error TEXT,
        changed_after_accept INTEGER NOT NULL DEFAULT 0,
        first_seen TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        warehouse TEXT,
        needs_person TEXT,
        cancel_wanted INTEGER NOT NULL DEFAULT 0,
        deliver_attempts INTEGER NOT NULL DEFAULT 0,
        error_code TEXT);
     CREATE INDEX IF NOT EXISTS orders_stage ON orders(stage);
     CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), watermark INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS notices (
        key TEXT PRIMARY KEY,
        msg_type TEXT NOT NULL,
        order_id TEXT,
        content TEXT NOT NULL,
        problem TEXT,
        received_at TEXT NOT NULL);
     CREATE INDEX IF NOT EXISTS notices_order ON notices(order_id);";

/// Columns added after the first version: added to an older state file on open.
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("warehouse", "TEXT"),
    ("needs_person", "TEXT"),
    ("cancel_wanted", "INTEGER NOT NULL DEFAULT 0"),
    ("deliver_attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("error_code", "TEXT"),
];

/// `stage NOT IN (…)` of the stages a delivery order never leaves by a send.
fn not_final() -> String {
    format!("stage NOT IN {}", Stage::sql_list(Stage::is_final))
}

const MAPPING_KEY: &str = "mapping_identity";

impl Store {
    /// Opens (or creates) the state for writing, without the writer's lock (tests, tools).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Connection::open(path)?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        // Switching a file to WAL, or a lock upgrade while another process opens the same
        // file, can answer "busy" without waiting (SQLite's deadlock rule): tried again,
        // a bounded number of times.
        let mut tries = 0;
        loop {
            let step = (|| -> Result<(), StoreError> {
                db.pragma_update(None, "journal_mode", "WAL")?;
                db.pragma_update(None, "synchronous", "FULL")?;
                db.execute_batch(SCHEMA)?;
                migrate(&db)
            })();
            match step {
                Err(StoreError::Sql(rusqlite::Error::SqliteFailure(e, _)))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 50 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        }
        let s = Store { db, _lock: None };
        s.check_stages()?;
        Ok(s)
    }

    /// Opens the state as its one writer: fails at once, naming the holder's pid, when
    /// another process has it.
    pub fn open_exclusive(path: &Path) -> Result<Store, StoreError> {
        let lock = StateLock::acquire(path)?;
        let mut s = Store::open(path)?;
        s._lock = Some(lock);
        Ok(s)
    }

    /// Opens an existing state to read it (`status`): no lock taken, no statement may
    /// write (`query_only`), so it works while a `sync` runs. (Opened read-write at the
    /// file level all the same: after a killed run SQLite must replay the WAL first.)
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let db = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        // A state of an earlier version gains its new tables and columns first (a schema
        // change only; no order is touched).
        let mut tries = 0;
        loop {
            match db
                .execute_batch(SCHEMA)
                .map_err(StoreError::from)
                .and_then(|_| migrate(&db))
            {
                Err(StoreError::Sql(rusqlite::Error::SqliteFailure(e, _)))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 50 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        }
        db.pragma_update(None, "query_only", true)?;
        let s = Store { db, _lock: None };
        s.check_stages()?;
        Ok(s)
    }

    /// Everything about every order, by id (`status --all`).
    pub fn all(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!("{SELECT} ORDER BY order_id"))
    }

    /// Orders a person must act on: flagged, failed, rejected, or changed after acceptance.
    pub fn needing_person(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!(
            "{SELECT} WHERE needs_person IS NOT NULL OR stage IN ('failed', 'rejected') OR changed_after_accept = 1 ORDER BY order_id"
        ))
    }

    /// Orders RED shows cancelled whose cancel is not yet settled.
    pub fn cancels_due(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!(
            "{SELECT} WHERE cancel_wanted = 1 AND stage != 'cancelled' AND needs_person IS NULL ORDER BY order_id"
        ))
    }

    /// Shipped orders RED is still to be told of (none waiting for a person).
    pub fn deliveries_due(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!(
            "{SELECT} WHERE stage = 'shipped' AND needs_person IS NULL ORDER BY order_id"
        ))
    }

    /// Notices that could not be taken (an unknown order…), for `status`.
    pub fn notice_problems(&self) -> Result<Vec<NoticeRow>, StoreError> {
        let mut st = self.db.prepare(&format!(
            "{NOTICE_SELECT} WHERE problem IS NOT NULL ORDER BY received_at, key"
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
                &format!("{NOTICE_SELECT} WHERE order_id = ?1 ORDER BY received_at DESC, rowid DESC LIMIT 1"),
                params![order_id],
                notice_row,
            )
            .optional()?)
    }

    /// A row whose stage this version does not know stops everything: reading it as some
    /// other stage could send an accepted order again.
    fn check_stages(&self) -> Result<(), StoreError> {
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

    pub fn get(&self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        get(&self.db, order_id)
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

    fn select(&self, sql: &str) -> Result<Vec<OrderRow>, StoreError> {
        let mut st = self.db.prepare(sql)?;
        let rows = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Orders a crash or an earlier round left half-way (seen, fetched, sending).
    pub fn pending(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select(&format!(
            "{SELECT} WHERE stage IN {} ORDER BY order_id",
            Stage::sql_list(Stage::is_pending)
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
        self.transaction(|t| {
            t.tx.execute("INSERT INTO checkpoint (id, watermark) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET watermark = excluded.watermark", params![secs])?;
            Ok(())
        })
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
    tx: &'a rusqlite::Transaction<'a>,
    now: String,
}

impl Txn<'_> {
    pub fn get(&self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        get(self.tx, order_id)
    }

    pub fn record_seen(&self, order_id: &str, update_time: i64) -> Result<OrderRow, StoreError> {
        self.tx.execute(
            "INSERT INTO orders (order_id, stage, update_time, first_seen, updated_at) VALUES (?1, 'seen', ?2, ?3, ?3) ON CONFLICT(order_id) DO NOTHING",
            params![order_id, update_time, self.now],
        )?;
        self.get(order_id)?
            .ok_or_else(|| StoreError::Unknown(order_id.to_string()))
    }

    /// Runs an UPDATE of one order that must not touch one Cainiao has (`{guard}` in its
    /// SQL becomes `AND stage NOT IN (accepted, …)`): no row changed means it is there
    /// already, or not there at all.
    fn change(
        &self,
        order_id: &str,
        sql: &str,
        extra: &[&dyn rusqlite::ToSql],
    ) -> Result<(), StoreError> {
        let sql = sql.replace("{guard}", &not_final());
        if self.update(order_id, &sql, extra)? == 1 {
            return Ok(());
        }
        match self.get(order_id)? {
            Some(_) => Err(StoreError::AlreadyAccepted(order_id.to_string())),
            None => Err(StoreError::Unknown(order_id.to_string())),
        }
    }

    pub fn mark_fetched(
        &self,
        order_id: &str,
        input_hash: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        self.change(order_id, "UPDATE orders SET stage = 'fetched', input_hash = ?3, update_time = ?4, error = NULL, updated_at = ?2 WHERE order_id = ?1 AND {guard}", &[&input_hash, &update_time])
    }

    /// `code`: the run-time error code of a rejection by the mapping, if it has one.
    pub fn mark_rejected(
        &self,
        order_id: &str,
        error: &str,
        code: Option<&str>,
    ) -> Result<(), StoreError> {
        self.change(order_id, "UPDATE orders SET stage = 'rejected', error = ?3, error_code = ?4, updated_at = ?2 WHERE order_id = ?1 AND {guard}", &[&error, &code])
    }

    /// Before a send: the test (not accepted) and the set (`sending`, one more attempt)
    /// are one statement of one transaction.
    pub fn mark_sending(&self, order_id: &str) -> Result<(), StoreError> {
        self.change(order_id, "UPDATE orders SET stage = 'sending', attempts = attempts + 1, updated_at = ?2 WHERE order_id = ?1 AND {guard}", &[])
    }

    pub fn mark_accepted(
        &self,
        order_id: &str,
        order_code: Option<&str>,
    ) -> Result<(), StoreError> {
        // An order already further on (shipped, delivered, cancelled) stays there.
        let n = self.tx.execute("UPDATE orders SET stage = CASE WHEN stage IN ('shipped', 'delivered', 'cancelled') THEN stage ELSE 'accepted' END, cainiao_order_code = COALESCE(?3, cainiao_order_code), error = NULL, updated_at = ?2 WHERE order_id = ?1", params![order_id, self.now, order_code])?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Unknown(order_id.to_string()))
        }
    }

    /// No route takes it: never sent, the reason kept.
    pub fn mark_skipped(&self, order_id: &str, reason: &str) -> Result<(), StoreError> {
        self.change(order_id, "UPDATE orders SET stage = 'skipped', error = ?3, updated_at = ?2 WHERE order_id = ?1 AND {guard}", &[&reason])
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
        )
    }

    /// Cancelled: never sent, or the warehouse accepted the cancel. Never from shipped on.
    pub fn mark_cancelled(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(order_id, "UPDATE orders SET stage = 'cancelled', cancel_wanted = 0, error = NULL, updated_at = ?2 WHERE order_id = ?1 AND stage NOT IN ('shipped', 'delivered')", &[])
    }

    /// A person must act: `reason` says why (already redacted).
    pub fn flag_person(&self, order_id: &str, reason: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET needs_person = ?3, updated_at = ?2 WHERE order_id = ?1",
            &[&reason],
        )
    }

    /// An error kept for the next attempt (the stage stays).
    pub fn set_error(&self, order_id: &str, error: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET error = ?3, updated_at = ?2 WHERE order_id = ?1",
            &[&error],
        )
    }

    /// The warehouse shipped it (its notice is recorded): RED is to be told.
    pub fn mark_shipped(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(order_id, "UPDATE orders SET stage = 'shipped', error = NULL, updated_at = ?2 WHERE order_id = ?1 AND stage IN ('accepted', 'sending', 'failed')", &[])
    }

    /// Before each `order.orderDeliver`: counted and committed, so a kill after it leaves a
    /// trace; the order stays `shipped` until RED's answer is recorded.
    pub fn mark_delivering(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(order_id, "UPDATE orders SET deliver_attempts = deliver_attempts + 1, updated_at = ?2 WHERE order_id = ?1 AND stage = 'shipped'", &[])
    }

    pub fn mark_delivered(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(order_id, "UPDATE orders SET stage = 'delivered', error = NULL, updated_at = ?2 WHERE order_id = ?1 AND stage = 'shipped'", &[])
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
        Ok(n == 1)
    }

    /// An UPDATE of one order whose condition may not hold: no row changed is an error
    /// only when the order is not there at all.
    fn one(
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
    fn update(
        &self,
        order_id: &str,
        sql: &str,
        extra: &[&dyn rusqlite::ToSql],
    ) -> Result<usize, StoreError> {
        let mut p: Vec<&dyn rusqlite::ToSql> = vec![&order_id, &self.now];
        p.extend_from_slice(extra);
        Ok(self.tx.execute(sql, p.as_slice())?)
    }

    pub fn mark_failed(&self, order_id: &str, error: &str) -> Result<(), StoreError> {
        self.change(order_id, "UPDATE orders SET stage = 'failed', error = ?3, updated_at = ?2 WHERE order_id = ?1 AND {guard}", &[&error])
    }

    pub fn mark_changed_after_accept(
        &self,
        order_id: &str,
        update_time: i64,
    ) -> Result<(), StoreError> {
        self.tx.execute("UPDATE orders SET changed_after_accept = 1, update_time = ?3, updated_at = ?2 WHERE order_id = ?1", params![order_id, self.now, update_time])?;
        Ok(())
    }
}

fn get(db: &Connection, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
    let r = db
        .query_row(
            &format!("{SELECT} WHERE order_id = ?1"),
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

const SELECT: &str = "SELECT order_id, stage, attempts, update_time, input_hash, cainiao_order_code, error, changed_after_accept, first_seen, updated_at, warehouse, needs_person, cancel_wanted, deliver_attempts, error_code FROM orders";

const NOTICE_SELECT: &str =
    "SELECT key, msg_type, order_id, content, problem, received_at FROM notices";

fn notice_row(r: &rusqlite::Row) -> rusqlite::Result<NoticeRow> {
    Ok(NoticeRow {
        key: r.get(0)?,
        msg_type: r.get(1)?,
        order_id: r.get(2)?,
        content: r.get(3)?,
        problem: r.get(4)?,
        received_at: r.get(5)?,
    })
}

/// Adds the columns of [`ADDED_COLUMNS`] a state file of an earlier version lacks (a new
/// file has them from its CREATE). The look and the change are one IMMEDIATE
/// transaction: two processes opening an old file at once (a sync and a status) do not
/// both add a column.
fn migrate(db: &Connection) -> Result<(), StoreError> {
    let columns = |db: &Connection| -> Result<Vec<String>, StoreError> {
        let mut st = db.prepare("SELECT name FROM pragma_table_info('orders')")?;
        let names = st
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(names)
    };
    let missing = |have: &[String]| {
        ADDED_COLUMNS
            .iter()
            .any(|(n, _)| !have.iter().any(|h| h == n))
    };
    // The common case, a current file, takes no write lock.
    if !missing(&columns(db)?) {
        return Ok(());
    }
    db.execute_batch("BEGIN IMMEDIATE")?;
    let r = (|| {
        let have = columns(db)?;
        for (name, ty) in ADDED_COLUMNS {
            if !have.iter().any(|h| h == name) {
                db.execute_batch(&format!("ALTER TABLE orders ADD COLUMN {name} {ty}"))?;
            }
        }
        Ok(())
    })();
    match r {
        Ok(()) => db.execute_batch("COMMIT")?,
        Err(_) => {
            let _ = db.execute_batch("ROLLBACK");
        }
    }
    r
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

fn row(r: &rusqlite::Row) -> rusqlite::Result<OrderRow> {
    let stage: String = r.get(1)?;
    let stage = Stage::parse(&stage).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            Box::new(BadStage(stage.chars().take(40).collect())),
        )
    })?;
    Ok(OrderRow {
        order_id: r.get(0)?,
        stage,
        attempts: r.get(2)?,
        update_time: r.get(3)?,
        input_hash: r.get(4)?,
        cainiao_order_code: r.get(5)?,
        error: r.get(6)?,
        changed_after_accept: r.get::<_, i64>(7)? != 0,
        first_seen: r.get(8)?,
        updated_at: r.get(9)?,
        warehouse: r.get(10)?,
        needs_person: r.get(11)?,
        cancel_wanted: r.get::<_, i64>(12)? != 0,
        deliver_attempts: r.get(13)?,
        // Kept by `mark_rejected` only, so it speaks of the order only while it is rejected.
        error_code: if stage == Stage::Rejected {
            r.get(14)?
        } else {
            None
        },
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
            assert!(matches!(
                s.mark_failed("P1", "x"),
                Err(StoreError::AlreadyAccepted(_))
            ));
            assert!(matches!(
                s.mark_sending("NOPE"),
                Err(StoreError::Unknown(_))
            ));
            s.record_seen("P2", 11).unwrap();
            s.mark_rejected("P2", "no barcode", Some("bondmap::run::lookup"))
                .unwrap();
            s.set_checkpoint(1234).unwrap();
            s.mark_changed_after_accept("P1", 20).unwrap();
            s.set_mapping_identity("abc").unwrap();
        }
        let s = Store::open(&p).unwrap();
        let r = s.get("P1").unwrap().unwrap();
        assert_eq!(
            (r.stage, r.attempts, r.cainiao_order_code.as_deref()),
            (Stage::Accepted, 1, Some("LBX1"))
        );
        assert!(r.changed_after_accept);
        let p2 = s.get("P2").unwrap().unwrap();
        assert_eq!(
            (p2.stage, p2.error_code.as_deref()),
            (Stage::Rejected, Some("bondmap::run::lookup"))
        );
        assert_eq!(s.checkpoint().unwrap(), Some(1234));
        assert_eq!(s.mapping_identity().unwrap().as_deref(), Some("abc"));
        assert!(s.pending().unwrap().is_empty());
        let counts: std::collections::HashMap<_, _> = s.counts().unwrap().into_iter().collect();
        assert_eq!(counts[&Stage::Accepted], 1);
        assert_eq!(counts[&Stage::Rejected], 1);
        // Fetched again (the order changed at RED): the rejection's code is gone with it.
        let mut s = s;
        s.transaction(|t| t.mark_fetched("P2", "h2", 12)).unwrap();
        assert_eq!(s.get("P2").unwrap().unwrap().error_code, None);
    }

    #[test]
    fn a_stage_the_store_does_not_know_refuses_to_open_naming_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        {
            let mut s = Store::open(&p).unwrap();
            s.record_seen("P1", 10).unwrap();
            s.mark_sending("P1").unwrap();
            s.mark_accepted("P1", Some("LBX1")).unwrap();
            s.record_seen("P2", 10).unwrap();
        }
        // A future version's stage, or a hand edit.
        let db = Connection::open(&p).unwrap();
        db.execute(
            "UPDATE orders SET stage = 'returned' WHERE order_id = 'P1'",
            [],
        )
        .unwrap();
        drop(db);
        for open in [Store::open, Store::open_read_only, Store::open_exclusive] {
            match open(&p) {
                Err(e @ StoreError::UnknownStage { .. }) => {
                    let m = e.to_string();
                    assert!(m.contains("P1") && m.contains("`returned`"), "{m}");
                }
                Err(e) => panic!("{e}"),
                Ok(_) => panic!("opened a state with an unknown stage"),
            }
        }
    }

    #[test]
    fn a_state_of_the_first_version_gains_the_new_columns_and_keeps_its_orders() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.db");
        {
            let db = Connection::open(&p).unwrap();
            db.execute_batch("CREATE TABLE orders (order_id TEXT PRIMARY KEY, stage TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, update_time INTEGER NOT NULL DEFAULT 0, input_hash TEXT, cainiao_order_code TEXT, error TEXT, changed_after_accept INTEGER NOT NULL DEFAULT 0, first_seen TEXT NOT NULL, updated_at TEXT NOT NULL);
                 INSERT INTO orders (order_id, stage, attempts, first_seen, updated_at) VALUES ('P1', 'accepted', 1, 'x', 'x');").unwrap();
        }
        // status first (read-only), then a writer.
        let r = Store::open_read_only(&p).unwrap();
        let row = r.get("P1").unwrap().unwrap();
        assert_eq!(
            (row.stage, row.warehouse, row.needs_person),
            (Stage::Accepted, None, None)
        );
        drop(r);
        let mut s = Store::open(&p).unwrap();
        s.transaction(|t| t.mark_shipped("P1")).unwrap();
        assert_eq!(s.get("P1").unwrap().unwrap().stage, Stage::Shipped);
    }

    #[test]
    fn two_processes_opening_an_old_state_at_once_both_open_it() {
        for round in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join(format!("old{round}.db"));
            Connection::open(&p).unwrap().execute_batch("CREATE TABLE orders (order_id TEXT PRIMARY KEY, stage TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, update_time INTEGER NOT NULL DEFAULT 0, input_hash TEXT, cainiao_order_code TEXT, error TEXT, changed_after_accept INTEGER NOT NULL DEFAULT 0, first_seen TEXT NOT NULL, updated_at TEXT NOT NULL);").unwrap();
            let opened: Vec<_> = std::thread::scope(|s| {
                let a = s.spawn(|| Store::open(&p).map(|_| ()));
                let b = s.spawn(|| Store::open_read_only(&p).map(|_| ()));
                vec![a.join().unwrap(), b.join().unwrap()]
            });
            for (i, r) in opened.into_iter().enumerate() {
                if let Err(e) = r {
                    panic!("opener {i}: {e:?}");
                }
            }
        }
    }

    #[test]
    fn an_order_further_on_in_its_life_is_never_moved_back_to_a_send() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        for id in ["A", "B", "C"] {
            s.record_seen(id, 1).unwrap();
            s.mark_sending(id).unwrap();
            s.mark_accepted(id, Some("LBX")).unwrap();
        }
        s.transaction(|t| {
            t.mark_shipped("A")?;
            t.mark_delivering("A")?;
            t.mark_delivered("A")?;
            t.mark_shipped("B")?;
            t.mark_cancelled("C")?;
            // Cancelled only before shipment.
            t.mark_cancelled("B")
        })
        .unwrap();
        for (id, stage) in [
            ("A", Stage::Delivered),
            ("B", Stage::Shipped),
            ("C", Stage::Cancelled),
        ] {
            assert!(
                matches!(s.mark_sending(id), Err(StoreError::AlreadyAccepted(_))),
                "{id}"
            );
            assert!(
                matches!(s.mark_failed(id, "x"), Err(StoreError::AlreadyAccepted(_))),
                "{id}"
            );
            // A late "accepted" answer leaves it where it is.
            s.mark_accepted(id, None).unwrap();
            assert_eq!(s.get(id).unwrap().unwrap().stage, stage, "{id}");
        }
        assert_eq!(s.get("A").unwrap().unwrap().deliver_attempts, 1);
        // The same notice twice is recorded once.
        let once = s
            .transaction(|t| t.record_notice("k", "CONSIGN_ORDER_NOTIFY", Some("A"), "{}", None))
            .unwrap();
        let twice = s
            .transaction(|t| t.record_notice("k", "CONSIGN_ORDER_NOTIFY", Some("A"), "{}", None))
            .unwrap();
        assert!(once && !twice);
    }

    #[test]
    fn read_only_open_works_while_a_writer_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let mut w = Store::open_exclusive(&p).unwrap();
        w.record_seen("P1", 10).unwrap();
        assert!(matches!(
            Store::open_exclusive(&p),
            Err(StoreError::Lock(LockError::Busy { .. }))
        ));
        let r = Store::open_read_only(&p).unwrap();
        assert_eq!(r.get("P1").unwrap().unwrap().stage, Stage::Seen);
        assert!(
            r.db.execute("DELETE FROM orders", []).is_err(),
            "status wrote"
        );
        drop(w);
        Store::open_exclusive(&p).unwrap();
    }
}
