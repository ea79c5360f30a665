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
//!
//! By job: [`stage`] the stages and the moves between them, [`schema`] the tables and
//! their migration, [`read`] the queries, [`txn`] the changes, [`backup`] a copy of a
//! state in use, [`lock`] the one writer; for the operator's console, [`sent`] the request
//! last sent for each order (masked) and [`browse`] its reads; [`tokens`] RED's tokens (the one table
//! holding a secret).

pub mod backup;
mod browse;
mod customs;
mod filing;
mod history;
pub mod lock;
mod person;
mod read;
mod schema;
mod sent;
pub mod stage;
mod tokens;
mod txn;

pub use browse::Filter;
pub use customs::{CustomsEvent, Tell};
pub use filing::Filed;
pub use history::{Event, Kind};
pub use lock::{LockError, StateLock};
pub use sent::SentRequest;
pub use stage::{Move, Stage};
pub use tokens::KeptTokens;
pub use txn::Txn;

use rusqlite::{Connection, OpenFlags};
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
    /// The stable code of a rejection by the mapping (`bondmap::run::…`, docs/run-codes.md "Run-time
    /// error codes"); `None` for an order in any other stage.
    pub error_code: Option<String>,
    /// The class of the last customs failure (`payment_missing`, `buyer_identity`,
    /// `over_quota`, `other`): kept while the order is `customs_failed`.
    pub customs_class: Option<String>,
    /// The warehouse's reason for it, redacted with the order's personal values.
    pub customs_reason: Option<String>,
    /// Payment-record re-pushes still allowed (`None`: none was ever due).
    pub repush_left: Option<u32>,
    /// When the next re-push step is due (unix seconds); `None`: none is.
    pub repush_due_at: Option<i64>,
    /// A person asked for it to be fetched and sent again (`resolve … retry`).
    pub retry_wanted: bool,
}

/// Why a person must look at an accepted order whose RED content changed afterwards.
pub const CHANGED_AFTER_ACCEPT: &str =
    "RED content changed after Cainiao accepted it (not re-sent)";

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

/// The `meta` key of the mapping identity.
const MAPPING_KEY: &str = "mapping_identity";

impl Store {
    /// Opens (or creates) the state for writing, without the writer's lock (tests, tools).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Connection::open(path)?;
        schema::prepare_writer(&db)?;
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
        schema::prepare_reader(&db)?;
        let s = Store { db, _lock: None };
        s.check_stages()?;
        Ok(s)
    }
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
