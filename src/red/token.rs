//! RED's tokens as RED issues them (`oauth.getAccessToken`, `oauth.refreshToken`), and
//! where bondmap keeps them between runs ([`TokenKeeper`]: the state file, in `sync`).
//!
//! RED's rules (its OAuth documents, `docs/operations.md`): the access token lives 7 days,
//! the refresh token 14; a refresh while more than 30 minutes are left gives the same
//! tokens, under that (or once expired) new ones, the old access token staying valid 5
//! minutes more; the refresh token rotates (the old one is dead once used); once it has
//! expired the merchant authorizes the app again.

use crate::config::Secret;
use serde_json::Value;

/// How long RED lets an access token live (its documents): the bound of a configured
/// token whose expiry RED never told bondmap.
pub const ACCESS_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

/// Tokens RED issued, with their expiries (ms since the epoch, as RED gives them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: Secret,
    pub access_expires_at: i64,
    pub refresh: Secret,
    pub refresh_expires_at: i64,
    /// When bondmap received them (ms): with the expiry, the access token's lifetime.
    pub obtained_at: i64,
}

impl Tokens {
    /// The `data` of an `oauth.getAccessToken` or `oauth.refreshToken` answer, every
    /// field checked (a missing or mistyped one is an error naming it, never a default);
    /// `now_ms` is when it came.
    pub fn from_answer(data: &Value, now_ms: i64) -> Result<Tokens, String> {
        let text = |k: &str| match data.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() && s.trim() == s => {
                Ok(Secret::new(s.clone()))
            }
            Some(Value::String(_)) => Err(format!("{k} is blank or padded")),
            other => Err(format!("{k} is {}, not a string", super::json::kind(other))),
        };
        let ms = |k: &str| match data.get(k).and_then(Value::as_i64) {
            Some(t) if t > now_ms => Ok(t),
            Some(_) => Err(format!("{k} is not in the future")),
            None => Err(format!(
                "{k} is {}, not a time in ms",
                super::json::kind(data.get(k))
            )),
        };
        Ok(Tokens {
            access: text("accessToken")?,
            access_expires_at: ms("accessTokenExpiresAt")?,
            refresh: text("refreshToken")?,
            refresh_expires_at: ms("refreshTokenExpiresAt")?,
            obtained_at: now_ms,
        })
    }

    /// The access token's lifetime as RED gave it (ms).
    pub fn access_lifetime(&self) -> i64 {
        (self.access_expires_at - self.obtained_at).max(0)
    }
}

/// Where a client's tokens outlive the process. Every error is a sentence for the log
/// (never a token).
pub trait TokenKeeper: Send + Sync {
    /// The newest tokens kept, if any.
    fn load(&self) -> Result<Option<Tokens>, String>;
    /// Keeps `t` as the newest.
    fn save(&self, t: &Tokens) -> Result<(), String>;
    /// When the configured `access` token (run without a refresh token) was first used:
    /// recorded now (`now_ms`) the first time it is seen, kept after.
    fn first_use(&self, access: &Secret, now_ms: i64) -> Result<i64, String>;
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_gives_tokens_only_when_every_field_is_there_and_sound() {
        let ok = json!({"accessToken": "a-1", "accessTokenExpiresAt": 2_000, "refreshToken": "r-1",
            "refreshTokenExpiresAt": 3_000, "sellerId": "s", "sellerName": "n"});
        let t = Tokens::from_answer(&ok, 1_000).unwrap();
        assert_eq!(
            (t.access.expose(), t.refresh.expose(), t.access_lifetime()),
            ("a-1", "r-1", 1_000)
        );
        for (k, v, why) in [
            ("accessToken", json!(null), "accessToken is null"),
            ("accessToken", json!(""), "accessToken is blank"),
            ("refreshToken", json!(12), "refreshToken is an integer"),
            (
                "accessTokenExpiresAt",
                json!("2000"),
                "accessTokenExpiresAt is a string",
            ),
            ("refreshTokenExpiresAt", json!(999), "not in the future"),
        ] {
            let mut bad = ok.clone();
            bad[k] = v;
            let e = Tokens::from_answer(&bad, 1_000).unwrap_err();
            assert!(e.contains(why), "{k}: {e}");
            assert!(!e.contains("a-1") && !e.contains("r-1"), "{e}");
        }
    }
}
