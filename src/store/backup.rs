//! A copy of a state file while `sync` writes it (`bondmap backup`): SQLite's online
//! backup API copies every page inside one read transaction, so the copy is the state
//! as of one commit, whatever the writer does meanwhile (in WAL mode a reader never
//! blocks the writer). The copy is checked (`PRAGMA integrity_check`) before it is put
//! in place under its name, so a file at `out` is always a whole, good state.

use super::StoreError;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};

/// What was copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub orders: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists: give a new file (a backup never overwrites one)")]
    Exists(PathBuf),
    #[error("{0} is not a bondmap state (no orders table)")]
    NotAState(PathBuf),
    #[error("the copy failed its integrity check ({0}); nothing was written")]
    Corrupt(String),
    #[error("the state stayed busy; try again")]
    Busy,
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> BackupError {
        BackupError::Store(StoreError::Sql(e))
    }
}

/// Copies the state at `state` to the new file `out`.
pub fn backup(state: &Path, out: &Path) -> Result<BackupReport, BackupError> {
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    // Read-write at the file level (after a killed run SQLite must replay the WAL
    // first), no statement may write; never created when missing.
    let src = Connection::open_with_flags(state, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| BackupError::Io(format!("cannot open {}: {e}", state.display())))?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    src.pragma_update(None, "query_only", true)?;
    let has_orders: Option<String> = src
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'orders'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|_| BackupError::NotAState(state.to_path_buf()))?;
    if has_orders.is_none() {
        return Err(BackupError::NotAState(state.to_path_buf()));
    }
    let partial = partial_path(out);
    let _ = std::fs::remove_file(&partial);
    let r = copy(&src, &partial).and_then(|rep| {
        std::fs::rename(&partial, out)
            .map_err(|e| BackupError::Io(format!("cannot write {}: {e}", out.display())))?;
        Ok(rep)
    });
    if r.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    r
}

/// `out` with `.partial` added: the copy is made there and renamed when whole.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

fn copy(src: &Connection, to: &Path) -> Result<BackupReport, BackupError> {
    let mut dst = Connection::open(to)
        .map_err(|e| BackupError::Io(format!("cannot create {}: {e}", to.display())))?;
    {
        let b = Backup::new(src, &mut dst)?;
        // Every page in one step: one read transaction, never restarted by the
        // writer's commits. Busy only while another connection holds an exclusive
        // lock (a migration on open): tried again, a bounded number of times.
        let mut tries = 0;
        loop {
            match b.step(-1)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked if tries < 200 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                _ => return Err(BackupError::Busy),
            }
        }
    }
    let check: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(BackupError::Corrupt(check.chars().take(200).collect()));
    }
    // The copy stands alone: its pages in the one file, no -wal beside it.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    let orders: u64 = dst.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))?;
    drop(dst);
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { orders, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Stage, Store};

    #[test]
    fn a_backup_taken_while_a_writer_holds_the_state_is_whole_and_opens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let mut w = Store::open_exclusive(&p).unwrap();
        for i in 0..50 {
            let id = format!("P{i}");
            w.record_seen(&id, i).unwrap();
            w.mark_sending(&id).unwrap();
            w.mark_accepted(&id, Some("LBX")).unwrap();
        }
        let out = dir.path().join("copy.db");
        let rep = backup(&p, &out).unwrap();
        assert_eq!(rep.orders, 50);
        assert!(rep.bytes > 0);
        // The writer goes on; the copy is the state as it was.
        w.record_seen("LATER", 99).unwrap();
        let c = Store::open(&out).unwrap();
        assert_eq!(c.get("P7").unwrap().unwrap().stage, Stage::Accepted);
        assert!(c.get("LATER").unwrap().is_none());
        assert!(!partial_path(&out).exists());
        // Never over an existing file, never from a file that is no state.
        assert!(matches!(backup(&p, &out), Err(BackupError::Exists(_))));
        let junk = dir.path().join("junk.db");
        Connection::open(&junk)
            .unwrap()
            .execute_batch("CREATE TABLE x (a)")
            .unwrap();
        let out2 = dir.path().join("copy2.db");
        assert!(matches!(
            backup(&junk, &out2),
            Err(BackupError::NotAState(_))
        ));
        assert!(!out2.exists());
        assert!(matches!(
            backup(&dir.path().join("missing.db"), &out2),
            Err(BackupError::Io(_))
        ));
        assert!(!dir.path().join("missing.db").exists());
    }
}
