//! RED authorization that lasts: which access token a call carries, refreshing it before
//! it expires (and once more on a token error), keeping the newest tokens where the next
//! run finds them, and stopping new RED work, with one clear line, once RED refuses the
//! refresh token (until new tokens are kept: `bondmap auth --code`).
//!
//! **When.** With a refresh token, the access token is refreshed when less than
//! min(30 min, half its lifetime) is left, or at the first call when its expiry is not
//! known (a configured token: RED answers the same tokens while more than 30 minutes are
//! left, with their expiry). A refresh that fails in a way that may pass is tried again
//! after [`REFRESH_RETRY`] while the token still lives. Without a refresh token the access
//! token is used alone and a warning is logged from a day before it expires at the
//! latest (RED's 7 days after bondmap first used it).
//!
//! **Which tokens.** The tokens kept in the state win over the configured ones, which only
//! seed the first run; except that a configured refresh token other than the kept one is
//! taken when the kept one is dead. Before each refresh, and while authorization is
//! expired, the kept tokens are read again: `bondmap auth` run beside a `sync` hands it
//! its new tokens.

use super::error::RedError;
use super::token::{now_ms, TokenKeeper, Tokens, ACCESS_LIFETIME_MS};
use crate::config::Secret;
use chrono::{FixedOffset, Offset as _};
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The most left on an access token before it is refreshed (RED renews under 30 minutes).
const RENEW_UNDER_MS: i64 = 30 * 60 * 1000;
/// The wait after a refresh that failed in a way that may pass.
pub const REFRESH_RETRY: Duration = Duration::from_secs(30);
/// How long before its expiry an access token that is not renewed is warned about.
const WARN_BEFORE_MS: i64 = 24 * 3600 * 1000;
/// The gap between two such warnings.
const WARN_EVERY: Duration = Duration::from_secs(3600);

/// Where authorization stands, for health and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// Renewed by bondmap; the access token's expiry (ms) when RED has said it.
    Renewed { expires_at: Option<i64> },
    /// No refresh token: the access token is used until it expires, at the latest at
    /// `expires_by` (ms; `None` before the first call); `warn` from a day before.
    NotRenewed { expires_by: Option<i64>, warn: bool },
    /// RED refused or expired the authorization, or there is no token: new RED work waits
    /// for `bondmap auth --code`.
    Expired,
}

/// The tokens of one client and what is known of them.
#[derive(Default)]
struct State {
    access: Option<Secret>,
    /// ms; `None` until RED tells (a configured token).
    access_expires_at: Option<i64>,
    obtained_at: Option<i64>,
    refresh: Option<Secret>,
    refresh_expires_at: Option<i64>,
    /// The access token last read from or written to the keeper: a different one there
    /// is newer (written by `bondmap auth`).
    kept: Option<Secret>,
    /// Why authorization expired (for the log; never a token).
    expired: Option<String>,
    /// No refresh before this (one failed in a way that may pass).
    retry_refresh_at: Option<Instant>,
    /// A configured access token without a refresh token: when it was first used (ms).
    first_use: Option<i64>,
    warned_at: Option<Instant>,
}

impl State {
    /// The access token's time to be refreshed: its expiry unknown, or less than
    /// min(30 min, half its lifetime) left.
    fn due(&self, now: i64) -> bool {
        match (self.access_expires_at, self.obtained_at) {
            (Some(exp), Some(got)) => exp - now < RENEW_UNDER_MS.min((exp - got).max(0) / 2),
            (Some(exp), None) => exp - now < RENEW_UNDER_MS,
            _ => true,
        }
    }

    fn adopt(&mut self, t: &Tokens) {
        self.access = Some(t.access.clone());
        self.access_expires_at = Some(t.access_expires_at);
        self.obtained_at = Some(t.obtained_at);
        self.refresh = Some(t.refresh.clone());
        self.refresh_expires_at = Some(t.refresh_expires_at);
        self.kept = Some(t.access.clone());
        self.expired = None;
        self.retry_refresh_at = None;
        self.first_use = None;
    }

    /// The latest the access token can expire (ms): RED's word, else 7 days after its
    /// first use.
    fn expires_by(&self) -> Option<i64> {
        self.access_expires_at
            .or(self.first_use.map(|t| t + ACCESS_LIFETIME_MS))
    }
}

/// A client's authorization (shared by the clients of a reload: tokens are state, not
/// settings).
pub struct Auth {
    state: Mutex<State>,
    /// One refresh at a time; the others wait and take its tokens.
    refreshing: Mutex<()>,
    keeper: Mutex<Option<Arc<dyn TokenKeeper>>>,
}

impl Auth {
    /// From the configured tokens (either may be absent).
    pub fn new(access: Option<Secret>, refresh: Option<Secret>) -> Auth {
        Auth {
            state: Mutex::new(State {
                access,
                refresh,
                ..State::default()
            }),
            refreshing: Mutex::new(()),
            keeper: Mutex::new(None),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of plain values.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keeper(&self) -> Option<Arc<dyn TokenKeeper>> {
        self.keeper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keeps the tokens in `keeper` from now on, starting with those it holds (they win
    /// over the configured ones, see the module's doc). An error when no token is left
    /// to call RED with.
    pub fn keep_in(&self, keeper: Arc<dyn TokenKeeper>) -> Result<(), String> {
        let stored = keeper.load()?;
        *self.keeper.lock().unwrap_or_else(|e| e.into_inner()) = Some(keeper.clone());
        let now = now_ms();
        let mut st = self.state();
        match stored {
            Some(t)
                if t.refresh_expires_at <= now
                    && st.refresh.as_ref().is_some_and(|r| *r != t.refresh) =>
            {
                tracing::info!(
                    "the RED refresh token kept in the state has expired: using the configured one"
                );
            }
            Some(t) => {
                st.adopt(&t);
                tracing::info!(
                    access_token_expires_at = %shown_time(t.access_expires_at),
                    "using the RED tokens kept in the state"
                );
            }
            None => {}
        }
        if st.access.is_none() && st.refresh.is_none() {
            st.expired = Some("no RED token is configured or kept".into());
            return Err(format!(
                "no RED access token: set RED_ACCESS_TOKEN (`access_token` under [red]) or RED_REFRESH_TOKEN, or authorize the app: {}",
                AUTH_COMMAND
            ));
        }
        if st.refresh.is_none() {
            if let Some(a) = st.access.clone() {
                st.first_use = Some(keeper.first_use(&a, now)?);
            }
            tracing::warn!(
                "no RED refresh token: the access token is used alone and not renewed (RED lets it live 7 days); give RED_REFRESH_TOKEN or run {AUTH_COMMAND}"
            );
        }
        Ok(())
    }

    /// Keeps new tokens in `keeper` without reading what it holds (`bondmap auth`).
    pub fn save_in(&self, keeper: Arc<dyn TokenKeeper>) {
        *self.keeper.lock().unwrap_or_else(|e| e.into_inner()) = Some(keeper);
    }

    /// The newest tokens kept, taken when they differ from what this client last saw
    /// (another process kept them); `true` when taken.
    fn adopt_kept(&self) -> bool {
        let Some(keeper) = self.keeper() else {
            return false;
        };
        let stored = match keeper.load() {
            Ok(Some(t)) => t,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!("reading the RED tokens kept in the state: {e}");
                return false;
            }
        };
        let mut st = self.state();
        if st.kept.as_ref() == Some(&stored.access) {
            return false;
        }
        let was_expired = st.expired.is_some();
        st.adopt(&stored);
        drop(st);
        if was_expired {
            tracing::info!("new RED tokens are kept in the state: RED work goes on");
        }
        true
    }

    /// `Err(Unauthorized)` while authorization is expired (new tokens kept in the state
    /// end it); the warning of a token that is not renewed, once an hour from a day before
    /// it expires.
    pub fn check(&self) -> Result<(), RedError> {
        let expired = self.state().expired.is_some();
        if expired && !self.adopt_kept() {
            return Err(RedError::Unauthorized);
        }
        let mut st = self.state();
        if st.refresh.is_none() {
            if let Some(by) = st.expires_by() {
                let late = by - now_ms() < WARN_BEFORE_MS;
                if late && st.warned_at.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    st.warned_at = Some(Instant::now());
                    tracing::warn!(
                        expires_by = %shown_time(by),
                        "the RED access token is not renewed and expires within a day at the latest: give RED_REFRESH_TOKEN or run {AUTH_COMMAND}"
                    );
                }
            }
        }
        Ok(())
    }

    /// The access token for a call now, refreshed first when due.
    pub fn token(&self, refresh_call: &RefreshCall) -> Result<Secret, RedError> {
        let now = now_ms();
        let (due, usable) = {
            let st = self.state();
            if st.expired.is_some() {
                return Err(RedError::Unauthorized);
            }
            let waiting = st.retry_refresh_at.is_some_and(|t| Instant::now() < t);
            let due = st.refresh.is_some() && st.due(now) && !waiting;
            let usable = st
                .access
                .clone()
                .filter(|_| st.access_expires_at.is_none_or(|e| e > now));
            (due, usable)
        };
        if due {
            match self.refresh(refresh_call, None) {
                Ok(()) => {}
                Err(RedError::Unauthorized) => return Err(RedError::Unauthorized),
                // Still alive: used meanwhile, the refresh tried again later.
                Err(e) if e.is_passing() && usable.is_some() => {
                    tracing::warn!(
                        "refreshing the RED access token failed, tried again in 30 s: {e}"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        let st = self.state();
        match (&st.access, &st.expired) {
            (_, Some(_)) => Err(RedError::Unauthorized),
            (Some(a), None) => Ok(a.clone()),
            (None, None) => Err(RedError::Unauthorized),
        }
    }

    /// RED said the token `used` is not valid: refreshed once (unless another call already
    /// did), `Ok` when the call may be tried again with the new one.
    pub fn after_token_error(
        &self,
        refresh_call: &RefreshCall,
        used: &Secret,
    ) -> Result<(), RedError> {
        if self.adopt_kept() {
            return Ok(());
        }
        let no_refresh = self.state().refresh.is_none();
        if no_refresh {
            self.expire("RED refused the access token, and there is no refresh token");
            return Err(RedError::Unauthorized);
        }
        self.refresh(refresh_call, Some(used))
    }

    /// Refreshes the tokens: `failed` is the access token RED refused (a forced refresh),
    /// `None` a refresh because it is due. Another thread's refresh in between counts.
    fn refresh(&self, refresh_call: &RefreshCall, failed: Option<&Secret>) -> Result<(), RedError> {
        let _one = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        self.adopt_kept();
        let now = now_ms();
        let refresh = {
            let st = self.state();
            if st.expired.is_some() {
                return Err(RedError::Unauthorized);
            }
            let done_meanwhile = match failed {
                Some(f) => st.access.as_ref() != Some(f),
                None => !st.due(now),
            };
            if done_meanwhile {
                return Ok(());
            }
            match (&st.refresh, st.refresh_expires_at) {
                (Some(_), Some(exp)) if exp <= now => None,
                (Some(r), _) => Some(r.clone()),
                (None, _) => return Ok(()),
            }
        };
        let Some(refresh) = refresh else {
            self.expire("the RED refresh token has expired");
            return Err(RedError::Unauthorized);
        };
        let answer = refresh_call(&refresh).and_then(|data| {
            Tokens::from_answer(&data, now_ms()).map_err(|m| RedError::Answer {
                method: REFRESH.into(),
                message: m,
            })
        });
        match answer {
            Ok(t) => {
                let renewed = self.state().access.as_ref() != Some(&t.access);
                self.take(&t);
                tracing::info!(
                    renewed,
                    access_token_expires_at = %shown_time(t.access_expires_at),
                    "RED access token refreshed"
                );
                Ok(())
            }
            Err(e) if e.is_passing() => {
                self.state().retry_refresh_at = Some(Instant::now() + REFRESH_RETRY);
                Err(e)
            }
            Err(e) => {
                self.expire(&format!("RED refused the refresh token ({e})"));
                Err(RedError::Unauthorized)
            }
        }
    }

    /// New tokens: used from now on and kept (a keeper that cannot keep them is logged:
    /// the next run would start from the older ones).
    pub fn take(&self, t: &Tokens) {
        self.state().adopt(t);
        if let Some(k) = self.keeper() {
            if let Err(e) = k.save(t) {
                tracing::error!("the new RED tokens could not be kept in the state ({e}): a restart may need {AUTH_COMMAND}");
            }
        }
    }

    /// Authorization is over: the cause is logged once (the round says what to do).
    fn expire(&self, why: &str) {
        let mut st = self.state();
        if st.expired.is_none() {
            tracing::warn!("{why}: new RED work waits for new tokens");
        }
        st.expired = Some(why.to_string());
    }

    /// The access token's expiry (ms) when RED has said it.
    pub fn expires_at(&self) -> Option<i64> {
        self.state().access_expires_at
    }

    pub fn auth_state(&self) -> AuthState {
        let st = self.state();
        if st.expired.is_some() {
            return AuthState::Expired;
        }
        if st.refresh.is_some() {
            return AuthState::Renewed {
                expires_at: st.access_expires_at,
            };
        }
        let by = st.expires_by();
        AuthState::NotRenewed {
            expires_by: by,
            warn: by.is_some_and(|b| b - now_ms() < WARN_BEFORE_MS),
        }
    }
}

/// What a person runs once authorization expired.
pub const AUTH_COMMAND: &str = "`bondmap auth --code CODE`";

const REFRESH: &str = "oauth.refreshToken";

/// `oauth.refreshToken` with a refresh token (the client's call, with its retries).
pub type RefreshCall<'a> = dyn Fn(&Secret) -> Result<Value, RedError> + 'a;

/// A time in ms as the log shows it: ISO 8601 at +08:00 (RED's and the shop's zone).
pub fn shown_time(ms: i64) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Utc.fix());
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| {
            t.with_timezone(&cst)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        },
    )
}
