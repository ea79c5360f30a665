//! The RED simulator's authorization ([`super::sim`]): tokens that expire, and
//! `oauth.getAccessToken` and `oauth.refreshToken` with RED's rules, so tests can prove
//! that bondmap's authorization lasts.
//!
//! RED's rules (its OAuth documents): an access token lives 7 days, a refresh token 14; a
//! refresh while more than 30 minutes are left answers the same tokens; under that (or
//! once expired) new ones, the old access token valid 5 minutes more; the refresh token
//! rotates (the old one is dead at once) and expires; a code lives 10 minutes, and the
//! same code again soon gives the same tokens. With a shorter access lifetime `L` (tests)
//! the 30 and 5 minutes scale down to at most `L/2` and `L/8`.
//!
//! The wording of RED's token error is the one its documents quote
//! ("根据accessToken和appId获取mercuryUser失败：accessToken expired"); its error codes are not
//! published, so the codes here are the simulator's own.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// The simulator's tokens.
#[derive(Debug, Clone, Default)]
pub struct SimAuthOptions {
    /// The refresh token issued with the configured access token (`""`: none).
    pub refresh_token: String,
    /// The access tokens' lifetime (`None`: RED's 7 days).
    pub access_lifetime: Option<Duration>,
    /// The refresh tokens' lifetime (`None`: twice the access lifetime, RED's 14 days).
    pub refresh_lifetime: Option<Duration>,
    /// Authorization codes `oauth.getAccessToken` takes, each for 10 minutes from start.
    pub codes: Vec<String>,
}

const DAY_MS: i64 = 24 * 3600 * 1000;
const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// RED's token error, as its documents quote it.
pub const EXPIRED_TOKEN: &str = "根据accessToken和appId获取mercuryUser失败：accessToken expired";

/// The tokens the simulator has issued.
#[derive(Debug, Default)]
pub struct Registry {
    started: bool,
    access_ms: i64,
    refresh_ms: i64,
    /// Every access token issued, with the time it stops being valid (ms).
    access: HashMap<String, i64>,
    /// The access token issued last, with the refresh token that goes with it.
    current: String,
    /// The one live refresh token and its expiry (ms).
    refresh: Option<(String, i64)>,
    /// Every refresh token issued.
    refreshes_issued: Vec<String>,
    /// Codes: valid until (ms), and the tokens a use of each gave.
    codes: HashMap<String, (i64, Option<Value>)>,
    seq: u64,
    /// `oauth.refreshToken` calls answered with tokens (new or the same).
    pub refreshes: u32,
    /// Of those, the ones that gave new tokens.
    pub renewals: u32,
    /// Calls refused for an expired access token.
    pub token_errors: u32,
    /// Calls refused for an unknown access token.
    pub bad_tokens: u32,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn err(code: i64, msg: &str) -> Value {
    json!({"success": false, "error_code": code, "error_msg": msg, "data": null})
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl Registry {
    /// The configured tokens issued at the first call.
    fn start(&mut self, a: &SimAuthOptions, access_token: &str) {
        if self.started {
            return;
        }
        self.started = true;
        self.access_ms = a.access_lifetime.map_or(7 * DAY_MS, ms).max(1);
        self.refresh_ms = a.refresh_lifetime.map_or(2 * self.access_ms, ms).max(1);
        let now = now_ms();
        self.current = access_token.to_string();
        self.access
            .insert(access_token.to_string(), now + self.access_ms);
        if !a.refresh_token.is_empty() {
            self.refresh = Some((a.refresh_token.clone(), now + self.refresh_ms));
            self.refreshes_issued.push(a.refresh_token.clone());
        }
        for c in &a.codes {
            self.codes.insert(c.clone(), (now + CODE_LIFETIME_MS, None));
        }
    }

    /// Under this much left, a refresh gives new tokens (RED: 30 minutes).
    fn renew_under(&self) -> i64 {
        (30 * 60 * 1000).min(self.access_ms / 2)
    }

    /// How long a replaced access token stays valid (RED: 5 minutes).
    fn grace(&self) -> i64 {
        (5 * 60 * 1000).min(self.access_ms / 8)
    }

    fn token(&mut self, kind: &str) -> String {
        self.seq += 1;
        format!("sim-{kind}-{}-{:016x}", self.seq, fastrand::u64(..))
    }

    /// New tokens: the current access token keeps at most `grace` more, the refresh token
    /// before is dead.
    fn issue(&mut self, now: i64) -> Value {
        let grace = self.grace();
        if let Some(t) = self.access.get_mut(&self.current) {
            *t = (*t).min(now + grace);
        }
        let (access, refresh) = (self.token("access"), self.token("refresh"));
        self.access.insert(access.clone(), now + self.access_ms);
        self.current = access;
        self.refreshes_issued.push(refresh.clone());
        self.refresh = Some((refresh, now + self.refresh_ms));
        self.answer()
    }

    /// The current tokens as RED answers them.
    fn answer(&self) -> Value {
        let (refresh, refresh_at) = self.refresh.clone().unwrap_or_default();
        json!({"success": true, "error_code": 0, "error_msg": "", "data": {
            "accessToken": self.current,
            "accessTokenExpiresAt": self.access.get(&self.current).copied().unwrap_or(0),
            "refreshToken": refresh,
            "refreshTokenExpiresAt": refresh_at,
            "sellerId": "sim-seller",
            "sellerName": "bondmap simulated shop",
        }})
    }

    fn refresh_token(&mut self, given: &str, now: i64) -> Value {
        match &self.refresh {
            Some((r, until)) if r == given && *until > now => {}
            _ => {
                return err(
                    -103,
                    "refreshToken 无效或已过期，请重新授权 (refresh token expired)",
                )
            }
        }
        self.refreshes += 1;
        let left = self.access.get(&self.current).map_or(0, |t| t - now);
        if left > self.renew_under() {
            return self.answer();
        }
        self.renewals += 1;
        self.issue(now)
    }

    fn access_token(&mut self, code: &str, now: i64) -> Value {
        match self.codes.get(code).cloned() {
            Some((until, _)) if until <= now => err(-102, "授权码已过期 (code expired)"),
            // The same code again soon: the same tokens.
            Some((_, Some(given))) => given,
            Some((until, None)) => {
                let answer = self.issue(now);
                self.codes
                    .insert(code.into(), (until, Some(answer.clone())));
                answer
            }
            None => err(-102, "授权码无效 (unknown code)"),
        }
    }

    /// `None` when `token` may call now, else RED's refusal.
    fn check(&mut self, token: &str, now: i64) -> Option<Value> {
        match self.access.get(token) {
            Some(until) if *until > now => None,
            Some(_) => {
                self.token_errors += 1;
                Some(err(-1, EXPIRED_TOKEN))
            }
            None => {
                self.bad_tokens += 1;
                Some(err(-101, "accessToken 无效 (bad access token)"))
            }
        }
    }

    /// A code `oauth.getAccessToken` takes for 10 minutes (a merchant authorizing now).
    pub fn new_code(&mut self) -> String {
        let code = self.token("code");
        self.codes
            .insert(code.clone(), (now_ms() + CODE_LIFETIME_MS, None));
        code
    }

    /// The refresh token expires now (the shop was away two weeks).
    pub fn expire_refresh_token(&mut self) {
        if let Some((_, until)) = &mut self.refresh {
            *until = now_ms();
        }
    }
}

/// The simulator's answer to an OAuth call, or its refusal of another call's access
/// token; `None`: the call goes on. `access_token`: the configured one, issued first.
pub fn answer(
    method: &str,
    req: &Value,
    reg: &mut Registry,
    opts: &SimAuthOptions,
    access_token: &str,
) -> Option<Value> {
    reg.start(opts, access_token);
    let now = now_ms();
    let field = |k: &str| req[k].as_str().unwrap_or("");
    match method {
        "oauth.refreshToken" => Some(reg.refresh_token(field("refreshToken"), now)),
        "oauth.getAccessToken" => Some(reg.access_token(field("code"), now)),
        _ => reg.check(field("accessToken"), now),
    }
}

impl Registry {
    /// (`oauth.refreshToken` answered with tokens, of which new ones, calls refused for
    /// an expired access token).
    pub fn counts(&self) -> (u32, u32, u32) {
        (self.refreshes, self.renewals, self.token_errors)
    }

    /// Every token issued (access and refresh, the configured ones included).
    pub fn issued(&self) -> Vec<String> {
        let mut all: Vec<String> = self.access.keys().cloned().collect();
        all.extend(self.refreshes_issued.iter().cloned());
        all
    }
}
