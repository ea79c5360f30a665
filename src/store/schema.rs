//! The tables of the state file, and bringing a file of an earlier version up to date
//! when it is opened.
//!
//! Adding a column to `orders`: one [`Column`] at the end of [`ORDER_COLUMNS`] (with
//! `added: true`, so an older file gains it on open), its field in
//! [`super::OrderRow`] and its line in [`super::read`]'s row reader. Adding a table: its
//! `CREATE TABLE IF NOT EXISTS` in [`TABLES`] (a new file of the store may keep its own
//! statement and list it here).

use super::StoreError;
use rusqlite::Connection;
use std::sync::LazyLock;

/// One column of `orders`.
pub(super) struct Column {
    pub name: &'static str,
    /// Its SQL type and constraints.
    pub ty: &'static str,
    /// Added after the first version: a state file without it gains it on open (so it
    /// needs a default or to allow NULL).
    pub added: bool,
}

const fn col(name: &'static str, ty: &'static str, added: bool) -> Column {
    Column { name, ty, added }
}

/// The columns of `orders`, in order: the CREATE, the SELECT and the migration are all
/// built from this list.
pub(super) const ORDER_COLUMNS: &[Column] = &[
    col("order_id", "TEXT PRIMARY KEY", false),
    col("stage", "TEXT NOT NULL", false),
    col("attempts", "INTEGER NOT NULL DEFAULT 0", false),
    col("update_time", "INTEGER NOT NULL DEFAULT 0", false),
    col("input_hash", "TEXT", false),
    col("cainiao_order_code", "TEXT", false),
    col("error", "TEXT", false),
    col("changed_after_accept", "INTEGER NOT NULL DEFAULT 0", false),
    col("first_seen", "TEXT NOT NULL", false),
    col("updated_at", "TEXT NOT NULL", false),
    col("warehouse", "TEXT", true),
    col("needs_person", "TEXT", true),
    col("cancel_wanted", "INTEGER NOT NULL DEFAULT 0", true),
    col("deliver_attempts", "INTEGER NOT NULL DEFAULT 0", true),
    col("error_code", "TEXT", true),
    // Customs (issue 25): the class and reason of the last customs failure, the
    // payment-record re-pushes left and when the next step of them is due (unix
    // seconds), and a retry a person asked for (`resolve … retry`).
    col("customs_class", "TEXT", true),
    col("customs_reason", "TEXT", true),
    col("repush_left", "INTEGER", true),
    col("repush_due_at", "INTEGER", true),
    col("retry_wanted", "INTEGER NOT NULL DEFAULT 0", true),
];

/// The tables besides `orders` and the indexes, each created when missing.
const TABLES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS orders_stage ON orders(stage)",
    "CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), watermark INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS notices (
        key TEXT PRIMARY KEY,
        msg_type TEXT NOT NULL,
        order_id TEXT,
        content TEXT NOT NULL,
        problem TEXT,
        received_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS notices_order ON notices(order_id)",
    super::history::TABLE,
    super::history::INDEX,
    super::customs::TABLE,
    super::filing::TABLE,
    super::sent::TABLE,
    super::browse::INDEX,
    super::tokens::TABLE,
];

/// Every statement that makes a new state file.
static SCHEMA: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<String> = ORDER_COLUMNS
        .iter()
        .map(|c| format!("{} {}", c.name, c.ty))
        .collect();
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS orders ({});\n",
        columns.join(", ")
    );
    for t in TABLES {
        sql.push_str(t);
        sql.push_str(";\n");
    }
    sql
});

/// `SELECT <every column> FROM orders`.
pub(super) static SELECT_ORDERS: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = ORDER_COLUMNS.iter().map(|c| c.name).collect();
    format!("SELECT {} FROM orders", names.join(", "))
});

/// Runs `step` again while SQLite answers "busy" without waiting: switching a file to
/// WAL, or a lock upgrade while another process opens the same file, can (SQLite's
/// deadlock rule); a bounded number of times.
fn retry_busy(mut step: impl FnMut() -> Result<(), StoreError>) -> Result<(), StoreError> {
    let mut tries = 0;
    loop {
        match step() {
            Err(StoreError::Sql(rusqlite::Error::SqliteFailure(e, _)))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 50 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// A writer's connection: WAL, every commit on disk, the tables made or brought up to date.
pub(super) fn prepare_writer(db: &Connection) -> Result<(), StoreError> {
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    retry_busy(|| {
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(&SCHEMA)?;
        migrate(db)
    })
}

/// A reader's connection (`status`): a state of an earlier version gains its new tables
/// and columns first (a schema change only; no order is touched), then no statement may
/// write.
pub(super) fn prepare_reader(db: &Connection) -> Result<(), StoreError> {
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    retry_busy(|| {
        db.execute_batch(&SCHEMA)?;
        migrate(db)
    })?;
    db.pragma_update(None, "query_only", true)?;
    Ok(())
}

/// Adds the columns marked `added` a state file of an earlier version lacks (a new file
/// has them from its CREATE). The look and the change are one IMMEDIATE transaction: two
/// processes opening an old file at once (a sync and a status) do not both add a column.
fn migrate(db: &Connection) -> Result<(), StoreError> {
    let columns = |db: &Connection| -> Result<Vec<String>, StoreError> {
        let mut st = db.prepare("SELECT name FROM pragma_table_info('orders')")?;
        let names = st
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(names)
    };
    let added = || ORDER_COLUMNS.iter().filter(|c| c.added);
    let missing = |have: &[String]| added().any(|c| !have.iter().any(|h| h == c.name));
    // The common case, a current file, takes no write lock.
    if !missing(&columns(db)?) {
        return Ok(());
    }
    db.execute_batch("BEGIN IMMEDIATE")?;
    let r = (|| {
        let have = columns(db)?;
        for c in added() {
            if !have.iter().any(|h| h == c.name) {
                db.execute_batch(&format!(
                    "ALTER TABLE orders ADD COLUMN {} {}",
                    c.name, c.ty
                ))?;
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
