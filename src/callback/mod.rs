//! The Cainiao callback: what a notice Cainiao posts to bondmap is, how it is checked
//! (form fields, digest, message type) and answered. [`server`] serves it over HTTP.
//!
//! Two messages are taken: the shipment notice ([`CONSIGN_ORDER_NOTIFY`]) and the
//! warehouse's status upload ([`WMS_ORDER_STATUS_UPLOAD`], customs results).
//!
//! Cainiao posts a form (`logistic_provider_id`, `msg_type`, `logistics_interface`,
//! `data_digest`), signed as requests are: `data_digest = base64(MD5(logistics_interface +
//! secretKey))`. A notice that passes is handed to a [`Sink`], which records it durably;
//! only once it has, the answer is success. Anything else is a failure answer and nothing
//! is recorded, so Cainiao sends it again.
//!
//! The error codes are the ones Cainiao's logistics callbacks are commonly answered with
//! (S01 bad JSON, S02 bad digest, S04 unknown message type, S05 bad content, S07 system
//! error, send again): an assumption to confirm against the merchant's Cainiao contract;
//! what Cainiao reads for certain is `success`.

pub mod server;

pub use server::Receiver;

use crate::gateway::{data_digest, Secret};
use crate::swap::Swap;
use serde_json::Value;
use std::sync::Arc;

/// Largest body accepted (1 MiB); a longer one is refused before it is read.
pub const MAX_BODY: usize = 1 << 20;

/// The message type of the shipment notice.
pub const CONSIGN_ORDER_NOTIFY: &str = "CONSIGN_ORDER_NOTIFY";

/// The message type of the warehouse's status upload (customs results among them).
pub const WMS_ORDER_STATUS_UPLOAD: &str = "WMS_ORDER_STATUS_UPLOAD";

/// One notice whose digest was right.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub msg_type: String,
    pub logistic_provider_id: String,
    /// The exact text that was signed.
    pub logistics_interface: String,
    /// That text parsed (always a JSON object).
    pub content: Value,
    /// The digest as sent: a notice sent again carries the same one.
    pub data_digest: String,
}

impl Notice {
    /// `orderCode` of the content: our `externalOrderCode`, the RED order id.
    pub fn order_code(&self) -> Option<&str> {
        self.content.get("orderCode").and_then(Value::as_str)
    }

    /// The notice's identity: MD5 of its `msg_type` and its exact `logistics_interface`,
    /// so the same notice sent again has the same one.
    pub fn identity(&self) -> String {
        use md5::{Digest, Md5};
        let mut h = Md5::new();
        h.update(self.msg_type.as_bytes());
        h.update([0]);
        h.update(self.logistics_interface.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Where checked notices go. `record` must have stored the notice durably when it returns
/// `Ok`; the same notice twice must change nothing the second time (Cainiao sends again
/// whenever it did not read a success). An `Err` is answered as a failure.
pub trait Sink: Send + Sync {
    fn record(&self, notice: &Notice) -> Result<(), String>;
}

/// The Cainiao secret key notices are checked with. A clone is a handle on the same key:
/// `sync` keeps one to put in the key a SIGHUP reloaded, for the notices after it.
#[derive(Debug, Clone)]
pub struct CallbackKey(Swap<Secret>);

impl CallbackKey {
    pub fn new(secret: Secret) -> CallbackKey {
        CallbackKey(Swap::new(secret))
    }

    /// The key now.
    pub fn current(&self) -> Arc<Secret> {
        self.0.load()
    }

    /// Checks the notices from now on with `secret`.
    pub fn set(&self, secret: Secret) {
        self.0.store(secret)
    }
}

/// What the receiver needs to check notices.
#[derive(Debug, Clone)]
pub struct CallbackConfig {
    /// The Cainiao secret key (the gateway's).
    pub secret_key: CallbackKey,
    /// The `msg_type`s accepted; any other is refused with S04.
    pub msg_types: Vec<String>,
    /// Connections served at once; more are answered 503 (Cainiao sends again).
    pub max_connections: usize,
    /// The longest one request may take to arrive whole: a client trickling bytes is cut
    /// off (408) instead of holding a connection for hours.
    pub request_deadline: std::time::Duration,
}

impl CallbackConfig {
    pub fn new(secret_key: Secret) -> CallbackConfig {
        CallbackConfig::with_key(CallbackKey::new(secret_key))
    }

    /// Checking notices with `secret_key`, which its holder may change while it runs.
    pub fn with_key(secret_key: CallbackKey) -> CallbackConfig {
        CallbackConfig {
            secret_key,
            msg_types: vec![
                CONSIGN_ORDER_NOTIFY.to_string(),
                WMS_ORDER_STATUS_UPLOAD.to_string(),
            ],
            max_connections: 256,
            request_deadline: std::time::Duration::from_secs(30),
        }
    }
}

/// The answer to one post: `{"success","errorCode","errorMsg"}`, all strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub success: bool,
    pub error_code: &'static str,
    pub error_msg: String,
}

impl Answer {
    pub fn ok() -> Answer {
        Answer {
            success: true,
            error_code: "",
            error_msg: String::new(),
        }
    }

    pub fn fail(code: &'static str, msg: impl Into<String>) -> Answer {
        Answer {
            success: false,
            error_code: code,
            error_msg: msg.into(),
        }
    }

    pub fn to_json(&self) -> String {
        // Written by hand to keep the documented field order.
        let text = |s: &str| Value::String(s.to_string()).to_string();
        format!(
            r#"{{"success":"{}","errorCode":{},"errorMsg":{}}}"#,
            self.success,
            text(self.error_code),
            text(&self.error_msg)
        )
    }
}

/// Checks a form body and, when it is a good notice, records it through `sink`.
pub fn handle(body: &[u8], cfg: &CallbackConfig, sink: &dyn Sink) -> Answer {
    let notice = match check(body, cfg) {
        Ok(n) => n,
        Err(a) => {
            tracing::warn!(error_code = a.error_code, error = %a.error_msg, "callback refused");
            return a;
        }
    };
    match sink.record(&notice) {
        Ok(()) => {
            tracing::info!(
                msg_type = %notice.msg_type,
                order_id = notice.order_code().unwrap_or("<none>"),
                "callback recorded"
            );
            Answer::ok()
        }
        Err(e) => {
            tracing::warn!(msg_type = %notice.msg_type, error = %e, "callback not recorded");
            Answer::fail("S07", "the notice could not be recorded: send it again")
        }
    }
}

/// The notice in a form body, or the failure answer saying why not.
pub fn check(body: &[u8], cfg: &CallbackConfig) -> Result<Notice, Answer> {
    let fields = form_fields(body)?;
    let get = |name: &str| -> Result<String, Answer> {
        let mut values = fields.iter().filter(|(k, _)| k == name);
        match (values.next(), values.next()) {
            (Some((_, v)), None) => Ok(v.clone()),
            (Some(_), Some(_)) => Err(Answer::fail("S01", format!("`{name}` is given twice"))),
            (None, _) => Err(Answer::fail("S01", format!("`{name}` is missing"))),
        }
    };
    let logistics_interface = get("logistics_interface")?;
    let digest = get("data_digest")?;
    // The digest first: nothing of an unsigned body is believed, not even its msg_type.
    let want = data_digest(&logistics_interface, cfg.secret_key.current().expose());
    if !same(want.as_bytes(), digest.as_bytes()) {
        return Err(Answer::fail(
            "S02",
            "data_digest does not match logistics_interface and the secret key",
        ));
    }
    let msg_type = get("msg_type")?;
    if !cfg.msg_types.contains(&msg_type) {
        return Err(Answer::fail(
            "S04",
            format!(
                "msg_type `{}` is not handled here (handled: {})",
                printable(&msg_type),
                cfg.msg_types.join(", ")
            ),
        ));
    }
    let logistic_provider_id = get("logistic_provider_id")?;
    let content: Value = serde_json::from_str(&logistics_interface)
        .map_err(|e| Answer::fail("S01", format!("logistics_interface is not JSON: {e}")))?;
    if !content.is_object() {
        return Err(Answer::fail(
            "S05",
            "logistics_interface is not a JSON object",
        ));
    }
    Ok(Notice {
        msg_type,
        logistic_provider_id,
        logistics_interface,
        content,
        data_digest: digest,
    })
}

/// The fields of an urlencoded form; a body that is not UTF-8 once decoded is refused.
fn form_fields(body: &[u8]) -> Result<Vec<(String, String)>, Answer> {
    if std::str::from_utf8(body).is_err() {
        return Err(Answer::fail("S01", "the body is not a UTF-8 form"));
    }
    let mut out = Vec::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut parsed = form_urlencoded::parse(pair);
        let Some((k, v)) = parsed.next() else {
            continue;
        };
        // parse() replaces bad UTF-8 after decoding with U+FFFD: that would change the
        // signed text, so it is refused rather than guessed at.
        let raw = percent_decoded(pair);
        if raw.iter().any(|r| std::str::from_utf8(r).is_err()) {
            return Err(Answer::fail("S01", "a form field is not UTF-8"));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

/// The key and value of one `k=v` pair, percent- and plus-decoded, as bytes.
fn percent_decoded(pair: &[u8]) -> Vec<Vec<u8>> {
    let (k, v) = match pair.iter().position(|b| *b == b'=') {
        Some(i) => (&pair[..i], &pair[i + 1..]),
        None => (pair, &[][..]),
    };
    [k, v]
        .iter()
        .map(|part| {
            let plus: Vec<u8> = part
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect();
            percent_encoding_decode(&plus)
        })
        .collect()
}

fn percent_encoding_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Compares two digests in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A value from outside, cut short and without control characters, for a message.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(li: &str, digest: &str, msg_type: &str) -> Vec<u8> {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("logistic_provider_id", "CP_TEST")
            .append_pair("msg_type", msg_type)
            .append_pair("logistics_interface", li)
            .append_pair("data_digest", digest)
            .finish()
            .into_bytes()
    }

    fn cfg() -> CallbackConfig {
        CallbackConfig::new(Secret::new("k3y"))
    }

    #[test]
    fn a_signed_notice_is_read_and_a_forged_one_refused() {
        let li = r#"{"orderCode":"P1","mailNo":"加1 2&3=4%"}"#;
        let good = form(li, &data_digest(li, "k3y"), CONSIGN_ORDER_NOTIFY);
        let n = check(&good, &cfg()).unwrap();
        assert_eq!(n.logistics_interface, li);
        assert_eq!(n.order_code(), Some("P1"));
        let bad = form(li, &data_digest(li, "other"), CONSIGN_ORDER_NOTIFY);
        assert_eq!(check(&bad, &cfg()).unwrap_err().error_code, "S02");
    }

    #[test]
    fn missing_twice_given_unknown_type_and_non_objects_are_refused() {
        let li = r#"{"orderCode":"P1"}"#;
        let d = data_digest(li, "k3y");
        let code = |b: &[u8]| check(b, &cfg()).unwrap_err().error_code;
        assert_eq!(code(b"msg_type=CONSIGN_ORDER_NOTIFY"), "S01");
        let mut twice = form(li, &d, CONSIGN_ORDER_NOTIFY);
        twice.extend_from_slice(b"&data_digest=x");
        assert_eq!(code(&twice), "S01");
        assert_eq!(code(&form(li, &d, "CN_WMS_SOMETHING")), "S04");
        let arr = "[1]";
        assert_eq!(
            code(&form(arr, &data_digest(arr, "k3y"), CONSIGN_ORDER_NOTIFY)),
            "S05"
        );
        let junk = "{not json";
        assert_eq!(
            code(&form(junk, &data_digest(junk, "k3y"), CONSIGN_ORDER_NOTIFY)),
            "S01"
        );
        assert_eq!(code(b"logistics_interface=%FF&data_digest=x"), "S01");
        assert_eq!(code(&[0xff, 0xfe]), "S01");
    }

    #[test]
    fn answers_are_the_documented_json() {
        assert_eq!(
            Answer::ok().to_json(),
            r#"{"success":"true","errorCode":"","errorMsg":""}"#
        );
        let v: Value = serde_json::from_str(&Answer::fail("S02", "bad").to_json()).unwrap();
        assert_eq!(v["success"], "false");
        assert_eq!(v["errorCode"], "S02");
    }

    #[test]
    fn digests_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
