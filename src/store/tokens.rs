//! RED's tokens in the state file (`red_tokens`), so that a restart uses the newest ones:
//! the configured tokens only seed the first run (`crate::red::auth`; the RED client
//! reaches this table through `crate::sync::tokens`, so the store knows nothing of RED).
//!
//! Two rows at most: `issued`, the newest tokens RED gave (`bondmap auth`, a refresh),
//! with their expiries; `configured`, a configured access token used without a refresh
//! token and when it was first used (RED lets it live 7 days, so it expires by then).
//! This table is the only place of the state a token is written; the state file (and its
//! backups) must be kept private for it.

use super::{now, Store, StoreError};
use crate::config::Secret;
use rusqlite::{params, OptionalExtension};

/// The newest tokens RED issued, as kept: every part present (a row missing one is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptTokens {
    pub access: Secret,
    pub access_expires_at: i64,
    pub refresh: Secret,
    pub refresh_expires_at: i64,
    /// When bondmap received them (ms).
    pub obtained_at: i64,
}

/// The table, created with the others ([`super::schema`]).
pub(super) const TABLE: &str = "CREATE TABLE IF NOT EXISTS red_tokens (
    kind TEXT PRIMARY KEY CHECK (kind IN ('issued', 'configured')),
    access_token TEXT NOT NULL,
    access_expires_at INTEGER,
    refresh_token TEXT,
    refresh_expires_at INTEGER,
    obtained_at INTEGER NOT NULL,
    updated_at TEXT NOT NULL)";

impl Store {
    /// The newest tokens RED issued, if any were kept.
    pub fn red_tokens(&self) -> Result<Option<KeptTokens>, StoreError> {
        let row = self
            .db
            .query_row(
                "SELECT access_token, access_expires_at, refresh_token, refresh_expires_at, obtained_at FROM red_tokens WHERE kind = 'issued'",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()?;
        // A row missing a part (a hand edit) is no tokens: never a half token.
        Ok(row.and_then(|(a, ae, r, re, got)| {
            Some(KeptTokens {
                access: Secret::new(a),
                access_expires_at: ae?,
                refresh: Secret::new(r?),
                refresh_expires_at: re?,
                obtained_at: got,
            })
        }))
    }

    /// Keeps `t` as the newest tokens.
    pub fn save_red_tokens(&mut self, t: &KeptTokens) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO red_tokens (kind, access_token, access_expires_at, refresh_token, refresh_expires_at, obtained_at, updated_at)
             VALUES ('issued', ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(kind) DO UPDATE SET access_token = excluded.access_token, access_expires_at = excluded.access_expires_at,
               refresh_token = excluded.refresh_token, refresh_expires_at = excluded.refresh_expires_at,
               obtained_at = excluded.obtained_at, updated_at = excluded.updated_at",
            params![
                t.access.expose(),
                t.access_expires_at,
                t.refresh.expose(),
                t.refresh_expires_at,
                t.obtained_at,
                now()
            ],
        )?;
        Ok(())
    }

    /// When the configured `access` token was first used: `now_ms` the first time it is
    /// seen (another configured token starts again).
    pub fn red_token_first_use(&mut self, access: &Secret, now_ms: i64) -> Result<i64, StoreError> {
        let known: Option<(String, i64)> = self
            .db
            .query_row(
                "SELECT access_token, obtained_at FROM red_tokens WHERE kind = 'configured'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((_, at)) = known.filter(|(a, _)| a == access.expose()) {
            return Ok(at);
        }
        self.db.execute(
            "INSERT INTO red_tokens (kind, access_token, obtained_at, updated_at) VALUES ('configured', ?1, ?2, ?3)
             ON CONFLICT(kind) DO UPDATE SET access_token = excluded.access_token, obtained_at = excluded.obtained_at, updated_at = excluded.updated_at",
            params![access.expose(), now_ms, now()],
        )?;
        Ok(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_tokens_outlive_the_connection_and_a_configured_token_keeps_its_first_use() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let t = |n: &str, at: i64| KeptTokens {
            access: Secret::new(format!("acc-{n}")),
            access_expires_at: at + 10,
            refresh: Secret::new(format!("ref-{n}")),
            refresh_expires_at: at + 20,
            obtained_at: at,
        };
        {
            let mut k = Store::open(&p).unwrap();
            assert_eq!(k.red_tokens().unwrap(), None);
            k.save_red_tokens(&t("1", 100)).unwrap();
            k.save_red_tokens(&t("2", 200)).unwrap();
            let a = Secret::new("conf-a");
            assert_eq!(k.red_token_first_use(&a, 5).unwrap(), 5);
            assert_eq!(k.red_token_first_use(&a, 9).unwrap(), 5);
        }
        let mut k = Store::open(&p).unwrap();
        assert_eq!(k.red_tokens().unwrap(), Some(t("2", 200)));
        assert_eq!(
            k.red_token_first_use(&Secret::new("conf-a"), 50).unwrap(),
            5
        );
        // Another configured token is another first use.
        assert_eq!(
            k.red_token_first_use(&Secret::new("conf-b"), 60).unwrap(),
            60
        );
        assert_eq!(k.red_tokens().unwrap(), Some(t("2", 200)));
    }
}
