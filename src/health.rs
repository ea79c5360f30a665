//! `/healthz`: whether `sync` is doing its job, for a container's health check, a load
//! balancer or a monitor.
//!
//! 200 while the last round that succeeded ended within three intervals, the RED
//! authorization holds and the state could be written; else 503 with the reason (RED
//! unreachable, RED authorization expired, the state unwritable). Both answers are JSON:
//! `last_round_ok_at` and `token_expires_at` (ISO 8601 at +08:00, or null while unknown)
//! and `needs_person` (orders and notices waiting for a person, read from the state).
//!
//! The sync loop sets what it learns ([`Health::round_ok`], [`Health::round_failed`],
//! [`Health::set_token`]); the handler reads it with the state's figures.

use crate::http::{blocking, Reply};
use crate::logs::iso_ms;
use crate::metrics::StateFigures;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The path health is asked on.
pub const PATH: &str = "/healthz";

/// Why a round failed, as health tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// RED did not answer usably (down, overloaded, answering garbage).
    Red(String),
    /// RED answered with an error of its own.
    RedError(String),
    /// The state could not be written (disk full, locked, read-only).
    State(String),
    /// Anything else that stopped the round.
    Other(String),
}

impl Failure {
    fn reason(&self) -> String {
        match self {
            Failure::Red(e) => format!("RED unreachable: {e}"),
            Failure::RedError(e) => format!("RED answered with an error: {e}"),
            Failure::State(e) => format!("the state cannot be written: {e}"),
            Failure::Other(e) => format!("the last round failed: {e}"),
        }
    }
}

/// What the sync loop has told health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// When the last round that succeeded ended (ms).
    pub last_round_ok_at: Option<i64>,
    /// Why the last round failed, when it did (cleared by a success).
    pub last_failure: Option<Failure>,
    /// When the RED access token expires (ms); `None` while it is not known.
    pub token_expires_at: Option<i64>,
    /// RED refused the refresh token: a person must authorize the app again.
    pub authorization_expired: bool,
    /// A warning that does not make the process unhealthy yet (an access token without a
    /// refresh token, a day before it expires).
    pub token_warning: Option<String>,
}

/// Shared between the sync loop and the server.
#[derive(Debug)]
pub struct Health {
    status: Mutex<Status>,
    /// The state file, read for `needs_person`.
    state: PathBuf,
    /// `sync --interval`; `None` (one round): the age of the last success is not judged.
    interval: Option<Duration>,
}

impl Health {
    pub fn new(state: PathBuf, interval: Option<Duration>) -> Arc<Health> {
        Arc::new(Health {
            status: Mutex::new(Status::default()),
            state,
            interval,
        })
    }

    fn with(&self, f: impl FnOnce(&mut Status)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    /// A round succeeded, ending at `at_ms`.
    pub fn round_ok(&self, at_ms: i64) {
        self.with(|s| {
            s.last_round_ok_at = Some(at_ms);
            s.last_failure = None;
        });
    }

    pub fn round_failed(&self, why: Failure) {
        self.with(|s| s.last_failure = Some(why));
    }

    /// The RED token as the client knows it: its expiry (ms) if known, and whether the
    /// authorization has expired for good.
    pub fn set_token(
        &self,
        expires_at: Option<i64>,
        authorization_expired: bool,
        warning: Option<String>,
    ) {
        self.with(|s| {
            s.token_expires_at = expires_at;
            s.authorization_expired = authorization_expired;
            s.token_warning = warning;
        });
    }

    pub fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The answer at `now_ms`, with `needs_person` as read from the state.
    pub fn verdict(&self, now_ms: i64, needs_person: Result<u64, String>) -> (u16, Value) {
        verdict(&self.status(), self.interval, now_ms, needs_person)
    }
}

/// Why the process is unhealthy at `now_ms`, if it is.
fn trouble(
    s: &Status,
    interval: Option<Duration>,
    now_ms: i64,
    needs_person: &Result<u64, String>,
) -> Option<String> {
    if s.authorization_expired {
        return Some(
            "RED authorization expired: authorize the app again, then `bondmap auth --code …`"
                .into(),
        );
    }
    if let Some(t) = s.token_expires_at.filter(|t| *t <= now_ms) {
        return Some(format!("the RED access token expired at {}", iso_ms(t)));
    }
    if let Some(f @ Failure::State(_)) = &s.last_failure {
        return Some(f.reason());
    }
    if let Err(e) = needs_person {
        return Some(format!("the state cannot be read: {e}"));
    }
    let late = |ok: i64| {
        interval.is_some_and(|i| {
            let window = i64::try_from(i.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
            now_ms.saturating_sub(ok) > window
        })
    };
    match (s.last_round_ok_at, &s.last_failure) {
        (Some(ok), _) if !late(ok) => None,
        (_, Some(f)) => Some(f.reason()),
        (None, None) => Some("no round has finished yet".into()),
        (Some(ok), None) => Some(format!(
            "no round has succeeded since {} (more than three intervals)",
            iso_ms(ok)
        )),
    }
}

fn verdict(
    s: &Status,
    interval: Option<Duration>,
    now_ms: i64,
    needs_person: Result<u64, String>,
) -> (u16, Value) {
    let mut body = json!({
        "status": "ok",
        "last_round_ok_at": s.last_round_ok_at.map(iso_ms),
        "token_expires_at": s.token_expires_at.map(iso_ms),
        "needs_person": needs_person.as_ref().ok(),
    });
    if let Some(w) = &s.token_warning {
        body["warning"] = w.clone().into();
    }
    match trouble(s, interval, now_ms, &needs_person) {
        None => (200, body),
        Some(reason) => {
            body["status"] = "unhealthy".into();
            body["reason"] = reason.into();
            (503, body)
        }
    }
}

/// `GET /healthz`.
pub fn router(health: Arc<Health>) -> axum::Router {
    axum::Router::new().route(
        PATH,
        axum::routing::get(move || {
            let h = health.clone();
            async move { blocking(move || answer(&h)).await }
        }),
    )
}

fn answer(h: &Health) -> Reply {
    let needs_person = StateFigures::read(&h.state).map(|f| f.needs_person);
    let (status, body) = h.verdict(chrono::Utc::now().timestamp_millis(), needs_person);
    let mut r = Reply::json(body.to_string());
    r.status = status;
    r.with_header("Cache-Control", "no-store")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn at(s: &Status, now: i64) -> (u16, Value) {
        verdict(s, Some(Duration::from_secs(60)), now, Ok(2))
    }

    #[test]
    fn healthy_while_a_round_succeeded_within_three_intervals() {
        let mut s = Status::default();
        let (code, v) = at(&s, 0);
        assert_eq!(code, 503);
        assert_eq!(v["reason"], "no round has finished yet");
        s.last_round_ok_at = Some(1_764_000_000_000);
        let (code, v) = at(&s, 1_764_000_000_000 + 3 * MIN);
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["last_round_ok_at"], "2025-11-25T00:00:00.000+08:00");
        assert_eq!(v["token_expires_at"], Value::Null);
        assert_eq!(v["needs_person"], 2);
        // A failed round inside the window is a passing fault...
        s.last_failure = Some(Failure::Red("cannot connect".into()));
        assert_eq!(at(&s, 1_764_000_000_000 + 2 * MIN).0, 200);
        // ...until three intervals pass without a success.
        let (code, v) = at(&s, 1_764_000_000_000 + 3 * MIN + 1);
        assert_eq!(code, 503);
        assert_eq!(v["reason"], "RED unreachable: cannot connect");
        assert_eq!(v["status"], "unhealthy");
    }

    #[test]
    fn an_unwritable_state_or_expired_authorization_is_unhealthy_at_once() {
        let ok = Status {
            last_round_ok_at: Some(0),
            ..Status::default()
        };
        let s = Status {
            last_failure: Some(Failure::State("database or disk is full".into())),
            ..ok.clone()
        };
        let (code, v) = at(&s, 1);
        assert_eq!(code, 503);
        assert_eq!(
            v["reason"],
            "the state cannot be written: database or disk is full"
        );
        let s = Status {
            authorization_expired: true,
            ..ok.clone()
        };
        assert!(at(&s, 1).1["reason"]
            .as_str()
            .unwrap()
            .starts_with("RED authorization expired"));
        let s = Status {
            token_expires_at: Some(1000),
            ..ok.clone()
        };
        assert_eq!(at(&s, 999).0, 200);
        assert_eq!(at(&s, 1000).0, 503);
        let (code, v) = verdict(&ok, None, 1, Err("no such file".into()));
        assert_eq!(code, 503);
        assert_eq!(v["needs_person"], Value::Null);
        // One round (no interval): the age of the success is not judged.
        assert_eq!(verdict(&ok, None, i64::MAX, Ok(0)).0, 200);
    }
}
