//! The RED client's tokens kept in the state file: the store's `red_tokens` table
//! ([`crate::store::KeptTokens`]) behind the client's [`TokenKeeper`], here where the
//! pipeline wires the two, so that neither the store nor the client knows the other.

use crate::config::Secret;
use crate::red::token::{TokenKeeper, Tokens};
use crate::store::{KeptTokens, Store, StoreError};
use std::path::Path;
use std::sync::Mutex;

/// A RED client's tokens kept in the state file, through a connection of its own (the
/// round's store is another; SQLite orders the two writers).
pub struct StateTokens {
    store: Mutex<Store>,
}

impl StateTokens {
    pub fn open(state: &Path) -> Result<StateTokens, StoreError> {
        Ok(StateTokens {
            store: Mutex::new(Store::open(state)?),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Store) -> Result<R, StoreError>) -> Result<R, String> {
        // A poisoned lock only means a thread panicked between two statements.
        let mut s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s).map_err(|e| e.to_string())
    }
}

impl TokenKeeper for StateTokens {
    fn load(&self) -> Result<Option<Tokens>, String> {
        Ok(self.with(|s| s.red_tokens())?.map(|k| Tokens {
            access: k.access,
            access_expires_at: k.access_expires_at,
            refresh: k.refresh,
            refresh_expires_at: k.refresh_expires_at,
            obtained_at: k.obtained_at,
        }))
    }

    fn save(&self, t: &Tokens) -> Result<(), String> {
        let kept = KeptTokens {
            access: t.access.clone(),
            access_expires_at: t.access_expires_at,
            refresh: t.refresh.clone(),
            refresh_expires_at: t.refresh_expires_at,
            obtained_at: t.obtained_at,
        };
        self.with(|s| s.save_red_tokens(&kept))
    }

    fn first_use(&self, access: &Secret, now_ms: i64) -> Result<i64, String> {
        self.with(|s| s.red_token_first_use(access, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keeper_gives_back_the_newest_tokens_it_kept_across_connections() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let t = |n: &str, at: i64| Tokens {
            access: Secret::new(format!("acc-{n}")),
            access_expires_at: at + 10,
            refresh: Secret::new(format!("ref-{n}")),
            refresh_expires_at: at + 20,
            obtained_at: at,
        };
        {
            let k = StateTokens::open(&p).unwrap();
            assert_eq!(k.load().unwrap(), None);
            k.save(&t("1", 100)).unwrap();
            k.save(&t("2", 200)).unwrap();
            assert_eq!(k.first_use(&Secret::new("conf-a"), 5).unwrap(), 5);
        }
        let k = StateTokens::open(&p).unwrap();
        assert_eq!(k.load().unwrap(), Some(t("2", 200)));
        assert_eq!(k.first_use(&Secret::new("conf-a"), 9).unwrap(), 5);
    }
}
