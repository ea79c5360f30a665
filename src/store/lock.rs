//! One writer per state file: an OS lock on `<state>.lock` beside it, held for the whole
//! run and released by the kernel when the process exits or dies (SIGKILL too), so a
//! second `sync` or `retry` on the same state stops at once instead of sending twice.

use fs4::FileExt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock, held while this value lives.
#[derive(Debug)]
pub struct StateLock {
    // Kept open: closing the file releases the lock.
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("state {state} is in use by process {pid} (lock {lock}); wait for it to finish")]
    Busy {
        state: String,
        lock: String,
        pid: String,
    },
    #[error("cannot lock the state: {lock}: {source}")]
    Io {
        lock: String,
        source: std::io::Error,
    },
}

/// `state.db` → `state.db.lock`.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut s = state.as_os_str().to_os_string();
    s.push(".lock");
    PathBuf::from(s)
}

impl StateLock {
    /// Takes the lock of `state` without waiting, and writes this process's id into the
    /// lock file for the next one to name.
    pub fn acquire(state: &Path) -> Result<StateLock, LockError> {
        let path = lock_path(state);
        let io = |source| LockError::Io {
            lock: path.display().to_string(),
            source,
        };
        // Never truncated on open: the holder's pid stays readable until we hold the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(LockError::Busy {
                    state: state.display().to_string(),
                    lock: path.display().to_string(),
                    pid: if pid.is_empty() {
                        "(unknown)".into()
                    } else {
                        pid.chars().take(20).collect()
                    },
                });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(StateLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.db");
        let first = StateLock::acquire(&state).unwrap();
        match StateLock::acquire(&state) {
            Err(LockError::Busy { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("{other:?}"),
        }
        drop(first);
        StateLock::acquire(&state).unwrap();
    }
}
