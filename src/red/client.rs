//! A client of RED's one-endpoint open API: a flat JSON body of the system fields, the
//! sign and the method's fields; answers `{success, error_code, error_msg, data}`.
//!
//! What may pass is retried with [`crate::backoff`] waits, a bounded number of times:
//! transport errors, HTTP 408/429/5xx, redirects (never followed: the body carries the
//! access token), unparseable or oversized answers, and RED errors that say to try again
//! (busy, rate) ([`RedError::is_passing`]). A token error is answered by one refresh of
//! the access token, then the call once more ([`super::auth`]). Other RED errors are
//! refusals, returned as RED gave them.

use super::auth::{Auth, AuthState};
use super::config::RedConfig;
pub use super::error::RedError;
use super::error::{says, RATE};
pub use super::json::kind;
use super::limit::Limiter;
use super::sign::sign;
use super::token::{TokenKeeper, Tokens};
use crate::backoff::Policy;
use crate::config::Secret;
use crate::gateway::body::{read_capped, redirect_error, retry_after};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// Usable from many threads at once (`&self` everywhere, `Sync`): they share one HTTP
/// connection pool, one [`Limiter`] and one authorization.
pub struct RedClient {
    cfg: RedConfig,
    http: reqwest::blocking::Client,
    limiter: Limiter,
    auth: Arc<Auth>,
}

enum Try {
    Done(Result<Value, RedError>),
    /// Worth another try; the wait the server asked for, if it said.
    Again(RedError, Option<Duration>),
}

impl Try {
    /// As `/metrics` counts it.
    fn outcome(&self) -> &'static str {
        match self {
            Try::Done(Ok(_)) => crate::metrics::RED_OK,
            Try::Done(Err(_)) => crate::metrics::RED_REFUSED,
            Try::Again(..) => crate::metrics::RED_RETRY,
        }
    }
}

/// The largest answer read: a page of 100 orders or 100 decrypted values is far smaller.
pub const BODY_CAP: u64 = 16 << 20;

/// Method fields that hold a secret (besides the access token): never echoed back.
const SECRET_FIELDS: &[&str] = &["refreshToken", "code"];

impl RedClient {
    pub fn new(cfg: RedConfig) -> Result<RedClient, String> {
        let http = reqwest::blocking::Client::builder()
            .timeout(cfg.timeout)
            // Every body holds the access token: it goes to the configured address only.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        let limiter = Limiter::new(cfg.max_requests_per_second);
        let auth = Arc::new(Auth::new(
            cfg.access_token.clone(),
            cfg.refresh_token.clone(),
        ));
        Ok(RedClient {
            cfg,
            http,
            limiter,
            auth,
        })
    }

    /// The settings; a changed `max_requests_per_second` takes effect in a new client.
    pub fn config_mut(&mut self) -> &mut RedConfig {
        &mut self.cfg
    }

    /// The limiter every call of this client waits on.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// The waits between tries ([`crate::backoff`]).
    pub fn backoff(&self) -> Policy {
        Policy::new(
            self.cfg.backoff_base,
            self.cfg.backoff_cap,
            self.cfg.retry_after_cap,
        )
    }

    /// Keeps the tokens in `keeper` from now on (the state file, for `sync`), starting
    /// with those it holds; an error when there is no token to call RED with.
    pub fn keep_tokens(&self, keeper: Arc<dyn TokenKeeper>) -> Result<(), String> {
        self.auth.keep_in(keeper)
    }

    /// Keeps the tokens this client is given from now on in `keeper`, without taking
    /// those it holds (`bondmap auth` replaces them).
    pub fn save_tokens_in(&self, keeper: Arc<dyn TokenKeeper>) {
        self.auth.save_in(keeper)
    }

    /// Takes `other`'s authorization (its tokens and where it keeps them): a client
    /// built anew by a reload goes on with the running tokens.
    pub fn share_auth(&mut self, other: &RedClient) {
        self.auth = other.auth.clone();
    }

    /// `Err(Unauthorized)` while RED's authorization is expired (new tokens kept in the
    /// state end it): a round starts no RED work then.
    pub fn authorized(&self) -> Result<(), RedError> {
        self.auth.check()
    }

    /// The access token's expiry (ms since the epoch) when RED has said it.
    pub fn token_expires_at(&self) -> Option<i64> {
        self.auth.expires_at()
    }

    /// Where authorization stands (health, metrics).
    pub fn auth_state(&self) -> AuthState {
        self.auth.auth_state()
    }

    /// `oauth.getAccessToken`: exchanges an authorization code for tokens, used from now
    /// on and kept (when a keeper is set).
    pub fn authorize(&self, code: &str) -> Result<Tokens, RedError> {
        const METHOD: &str = "oauth.getAccessToken";
        let data = self.call(METHOD, json!({ "code": code }))?;
        let t =
            Tokens::from_answer(&data, super::token::now_ms()).map_err(|m| RedError::Answer {
                method: METHOD.into(),
                message: m,
            })?;
        self.auth.take(&t);
        Ok(t)
    }

    /// Calls `method` with `fields`; returns its `data`. The OAuth methods go without an
    /// access token.
    pub fn call(&self, method: &str, fields: Value) -> Result<Value, RedError> {
        let oauth = method.starts_with("oauth.");
        let mut backoff = self.backoff().start();
        let mut refreshed = false;
        let mut attempt = 1;
        loop {
            let token = if oauth {
                None
            } else {
                Some(self.auth.token(&|r| self.refresh_tokens(r))?)
            };
            let tried = self.attempt(method, &fields, token.as_ref());
            crate::metrics::red_call(method, tried.outcome());
            let (e, asked) = match tried {
                Try::Done(r) => return r,
                Try::Again(e, asked) => (e, asked),
            };
            if let (Some(used), true) = (&token, e.is_token_error()) {
                // One refresh per call, then the call once more.
                if refreshed {
                    return Err(e);
                }
                refreshed = true;
                self.auth
                    .after_token_error(&|r| self.refresh_tokens(r), used)?;
                continue;
            }
            if attempt >= self.cfg.max_attempts {
                return Err(e);
            }
            attempt += 1;
            backoff.wait(asked);
        }
    }

    /// `oauth.refreshToken` (for [`Auth`]): retried as every call, without an access token.
    fn refresh_tokens(&self, refresh: &Secret) -> Result<Value, RedError> {
        self.call(
            "oauth.refreshToken",
            json!({ "refreshToken": refresh.expose() }),
        )
    }

    fn attempt(&self, method: &str, fields: &Value, token: Option<&Secret>) -> Try {
        let ts = chrono::Utc::now().timestamp().to_string();
        let mut body = Map::new();
        body.insert("appId".into(), json!(self.cfg.app_id.expose()));
        body.insert("timestamp".into(), json!(ts));
        body.insert("version".into(), json!("2.0"));
        body.insert("method".into(), json!(method));
        if let Some(t) = token {
            body.insert("accessToken".into(), json!(t.expose()));
        }
        body.insert(
            "sign".into(),
            json!(sign(
                method,
                self.cfg.app_id.expose(),
                &ts,
                "2.0",
                self.cfg.app_secret.expose()
            )),
        );
        if let Value::Object(f) = fields {
            for (k, v) in f {
                body.insert(k.clone(), v.clone());
            }
        }
        let transport = |m: String| RedError::Transport {
            method: method.into(),
            message: m,
        };
        // Every HTTP request, retries included, takes its slot.
        self.limiter.acquire();
        let resp = match self
            .http
            .post(&self.cfg.url)
            .header("Content-Type", "application/json;charset=utf-8")
            .body(Value::Object(body).to_string())
            .send()
        {
            Ok(r) => r,
            Err(e) => return Try::Again(transport(transport_error(e)), None),
        };
        let status = resp.status();
        if status.is_redirection() {
            return Try::Again(transport(redirect_error(&resp)), None);
        }
        // 408: RED timed the request out; 429: rate limited; 5xx: its fault.
        if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            if status.as_u16() == 429 {
                self.limiter.slow_down();
            }
            let asked = retry_after(&resp);
            return Try::Again(transport(format!("HTTP {status}")), asked);
        }
        let text = match read_capped(resp, BODY_CAP) {
            Ok(t) => t,
            Err(e) => return Try::Again(transport(e), None),
        };
        let unusable = |message: String| {
            Try::Again(
                RedError::Answer {
                    method: method.into(),
                    message,
                },
                None,
            )
        };
        let Ok(v) = serde_json::from_slice::<Value>(&text) else {
            return unusable(format!("unparseable answer (HTTP {status})"));
        };
        let success = match v.get("success") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            other => {
                return unusable(format!("`success` is {}, not a boolean", kind(other)));
            }
        };
        if success {
            // Some methods answer the envelope alone (order.orderDeliver): each caller
            // checks the `data` it needs.
            return Try::Done(Ok(v.get("data").cloned().unwrap_or(Value::Null)));
        }
        let code = v
            .get("error_code")
            .or_else(|| v.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_string());
        let message = v
            .get("error_msg")
            .or_else(|| v.get("msg"))
            .and_then(Value::as_str);
        // A refusal says what was refused; one without a word is no usable answer.
        let (Some(code), Some(message)) = (code, message.filter(|m| !m.trim().is_empty())) else {
            return unusable("`success` false without an error code and message".into());
        };
        let err = RedError::Api {
            method: method.into(),
            code,
            message: scrub(message, fields, token),
        };
        if err.says_try_again() || err.is_token_error() {
            if let RedError::Api { message, .. } = &err {
                if says(message, RATE) {
                    self.limiter.slow_down();
                }
            }
            return Try::Again(err, None);
        }
        Try::Done(Err(err))
    }

    pub fn order_detail(&self, order_id: &str) -> Result<Value, RedError> {
        self.call("order.getOrderDetail", json!({"orderId": order_id}))
    }

    pub fn declare_info(&self, order_id: &str) -> Result<Value, RedError> {
        self.call("order.getOrderDeclareInfo", json!({"orderId": order_id}))
    }

    pub fn receiver_info(
        &self,
        order_id: &str,
        open_address_id: &str,
        is_return: bool,
    ) -> Result<Value, RedError> {
        self.call("order.getOrderReceiverInfo", json!({"receiverQueries": [{"orderId": order_id, "openAddressId": open_address_id}], "isReturn": is_return}))
    }

    /// The receivers of many orders in one call: (orderId, openAddressId) pairs, all of
    /// the same `isReturn`.
    pub fn receiver_infos(
        &self,
        queries: &[(String, String)],
        is_return: bool,
    ) -> Result<Value, RedError> {
        let q: Vec<Value> = queries
            .iter()
            .map(|(o, a)| json!({"orderId": o, "openAddressId": a}))
            .collect();
        self.call(
            "order.getOrderReceiverInfo",
            json!({"receiverQueries": q, "isReturn": is_return}),
        )
    }

    /// Decrypts (dataTag, ciphertext) pairs, at most [`DECRYPT_BATCH`] per call. The outer
    /// error is a call that failed; each inner one is a value RED did not give back in
    /// clear, saying why (never the value nor its ciphertext).
    pub fn batch_decrypt(&self, items: &[(String, String)]) -> Result<Vec<Plain>, RedError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(DECRYPT_BATCH) {
            out.extend(self.decrypt_call(chunk)?);
        }
        Ok(out)
    }

    /// One `data.batchDecrypt` call of at most [`DECRYPT_BATCH`] values.
    pub fn decrypt_call(&self, chunk: &[(String, String)]) -> Result<Vec<Plain>, RedError> {
        const METHOD: &str = "data.batchDecrypt";
        let infos: Vec<Value> = chunk
            .iter()
            .map(|(t, c)| json!({"dataTag": t, "encryptedData": c}))
            .collect();
        let data = self.call(
            METHOD,
            json!({"baseInfos": infos, "actionType": "3", "appUserId": "bondmap"}),
        )?;
        let list = match data.get("dataInfoList") {
            Some(Value::Array(l)) => l,
            other => {
                return Err(RedError::Answer {
                    method: METHOD.into(),
                    message: format!("dataInfoList is {}, not a list", kind(other)),
                })
            }
        };
        Ok(chunk
            .iter()
            .map(|(tag, cipher)| {
                let item = list
                    .iter()
                    .find(|d| d.get("encryptedData").and_then(Value::as_str) == Some(cipher));
                match item {
                    Some(d) => decrypted(d, tag, cipher),
                    None => Err("no item in dataInfoList for this ciphertext".into()),
                }
            })
            .collect())
    }
}

/// A transport error as the log may show it: what went wrong, never the address's path.
fn transport_error(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    format!("{what}: {}", e.without_url())
}

/// RED's message with any secret of the request (the access token, a refresh token, a
/// code) it may echo replaced by `***`.
fn scrub(message: &str, fields: &Value, token: Option<&Secret>) -> String {
    let mut out = message.to_string();
    let secrets = SECRET_FIELDS
        .iter()
        .filter_map(|k| fields.get(*k).and_then(Value::as_str))
        .chain(token.map(Secret::expose));
    for s in secrets.filter(|s| s.len() >= 4) {
        out = out.replace(s, "***");
    }
    out
}

/// A value in clear, or why RED did not give it.
pub type Plain = Result<String, String>;

/// The most ciphertexts RED takes in one `data.batchDecrypt` call (its documented maximum).
pub const DECRYPT_BATCH: usize = 100;

/// Checks one `dataInfoList` item: its tag is the one asked, `errorCode` an integer and 0,
/// `decryptedData` a nonempty string.
fn decrypted(d: &Value, tag: &str, cipher: &str) -> Plain {
    if d.get("dataTag").and_then(Value::as_str) != Some(tag) {
        return Err(format!(
            "dataTag is not the order asked for ({})",
            kind(d.get("dataTag"))
        ));
    }
    let plain = d.get("decryptedData").and_then(Value::as_str);
    match d.get("errorCode") {
        Some(Value::Number(n)) if n.as_i64() == Some(0) => {}
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            let msg = d.get("errorMsg").and_then(Value::as_str).unwrap_or("");
            // RED's message is kept only when it cannot be echoing the value.
            let safe = !msg.contains('#')
                && !msg.contains(cipher)
                && plain.is_none_or(|p| p.is_empty() || !msg.contains(p));
            let msg: String = if safe {
                msg.chars().take(80).collect()
            } else {
                String::new()
            };
            return Err(format!("errorCode {n} {msg}").trim_end().to_string());
        }
        other => return Err(format!("errorCode is {}, not an integer", kind(other))),
    }
    match d.get("decryptedData") {
        Some(Value::String(p)) if !p.is_empty() => Ok(p.clone()),
        Some(Value::String(_)) => Err("decryptedData is empty".into()),
        other => Err(format!("decryptedData is {}, not a string", kind(other))),
    }
}
