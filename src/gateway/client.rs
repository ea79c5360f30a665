//! Sending to the gateway: timeouts, bounded retries with backoff and jitter ([`crate::backoff`])
//! on transport errors, HTTP 5xx, HTTP 429 (throttling: `Retry-After` honoured, capped),
//! redirects (never followed) and unparseable or oversized answers; the gateway's own
//! business errors reported as it gave them, never retried.
//!
//! **Repeated `externalOrderCode`.** Cainiao keys a delivery order on its
//! `externalOrderCode`: sending one that already exists creates nothing new. Depending on
//! the warehouse the gateway answers success with the existing order code, or a business
//! error saying the order exists ("重复", "已存在", "DUPLICATE"). bondmap counts both as
//! accepted (`duplicate: true` for the second), which is what makes a retry after a
//! timeout safe: the order was either created by the lost attempt or by the retry, once.

use super::body::{read_capped, redirect_error, retry_after};
use super::config::GatewayConfig;
use super::request::GatewayRequest;
use crate::backoff::Policy;
use serde::Serialize;
use std::collections::HashSet;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Created (or already there, `duplicate`).
    Accepted {
        order_code: Option<String>,
        duplicate: bool,
    },
    /// The gateway refused the order: its code and message, as it gave them.
    Rejected {
        error_code: String,
        error_msg: String,
    },
    /// No answer that could be used, after every attempt.
    Failed { error: String },
    /// The same `externalOrderCode` earlier in this batch: not sent again.
    SkippedDuplicate,
}

#[derive(Debug, Clone)]
pub struct PreparedOrder {
    pub order_id: String,
    pub external_order_code: String,
    pub request: GatewayRequest,
}

/// One line of `bondmap send`'s output.
#[derive(Debug, Clone, Serialize)]
pub struct OrderResult {
    pub order_id: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub attempts: u32,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BatchSummary {
    pub accepted: u64,
    pub rejected: u64,
    pub failed: u64,
    pub skipped_duplicate: u64,
}

pub struct Client {
    cfg: GatewayConfig,
    http: reqwest::blocking::Client,
}

/// What one attempt gave.
enum Attempt {
    Done(Outcome),
    /// Worth another try: why, and how long the server asked us to wait.
    Retry(String, Option<Duration>),
}

impl Attempt {
    /// As `/metrics` counts it.
    fn outcome(&self) -> &'static str {
        use crate::metrics::{GW_ACCEPTED, GW_DUPLICATE, GW_REJECTED, GW_RETRY};
        match self {
            Attempt::Done(Outcome::Accepted { duplicate, .. }) => {
                if *duplicate {
                    GW_DUPLICATE
                } else {
                    GW_ACCEPTED
                }
            }
            Attempt::Done(_) => GW_REJECTED,
            Attempt::Retry(..) => GW_RETRY,
        }
    }
}

/// A gateway answer is a short JSON object; anything longer is not one.
pub const BODY_CAP: u64 = 1 << 20;

impl Client {
    pub fn new(cfg: GatewayConfig) -> Result<Client, String> {
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.read_timeout)
            // A redirect would re-post the signed form (personal data) elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(Client { cfg, http })
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.cfg
    }

    /// Sends one request, retrying what may succeed on a second try. Returns the outcome
    /// and the number of attempts.
    pub fn send_one(&self, req: &GatewayRequest) -> (Outcome, u32) {
        let body = req.form_body(&self.cfg.secret_key);
        let mut backoff = self.backoff().start();
        let mut last = String::new();
        for attempt in 1..=self.cfg.max_attempts {
            let tried = self.attempt(&body);
            crate::metrics::gateway_request(&req.msg_type, tried.outcome());
            let asked = match tried {
                Attempt::Done(o) => return (o, attempt),
                Attempt::Retry(why, asked) => {
                    last = why;
                    asked
                }
            };
            if attempt < self.cfg.max_attempts {
                backoff.wait(asked);
            }
        }
        (Outcome::Failed { error: last }, self.cfg.max_attempts)
    }

    fn attempt(&self, body: &str) -> Attempt {
        let resp = self
            .http
            .post(&self.cfg.url)
            .header(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            )
            .body(body.to_string())
            .send();
        let resp = match resp {
            Ok(r) => r,
            // The URL is ours and the error text names it, never the body or the secret.
            Err(e) => return Attempt::Retry(transport_error(e), None),
        };
        let status = resp.status();
        if status.is_redirection() {
            return Attempt::Retry(redirect_error(&resp), None);
        }
        // 408: the gateway timed the request out; 429: throttled; 5xx: its fault.
        if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            let asked = retry_after(&resp);
            return Attempt::Retry(format!("HTTP {status}"), asked);
        }
        let text = match read_capped(resp, BODY_CAP) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => return Attempt::Retry(e, None),
        };
        if !status.is_success() {
            return Attempt::Done(Outcome::Rejected {
                error_code: format!("HTTP {}", status.as_u16()),
                error_msg: excerpt(&text),
            });
        }
        match parse_answer(&text) {
            Some(o) => Attempt::Done(o),
            None => Attempt::Retry(format!("unparseable answer: {}", excerpt(&text)), None),
        }
    }

    /// The waits between tries ([`crate::backoff`]): from `backoff_base` to `backoff_cap`,
    /// `Retry-After` up to `retry_after_cap`.
    pub fn backoff(&self) -> Policy {
        Policy::new(
            self.cfg.backoff_base,
            self.cfg.backoff_cap,
            self.cfg.retry_after_cap,
        )
    }

    /// Sends a batch with at most `concurrency` orders in flight; `on_result` sees each
    /// result as it finishes. An `externalOrderCode` seen before in the batch is not sent.
    pub fn send_batch(
        &self,
        orders: Vec<PreparedOrder>,
        concurrency: usize,
        mut on_result: impl FnMut(&OrderResult),
    ) -> BatchSummary {
        let mut summary = BatchSummary::default();
        let mut seen = HashSet::new();
        let mut todo = Vec::with_capacity(orders.len());
        for o in orders {
            if seen.insert(o.external_order_code.clone()) {
                todo.push(o);
            } else {
                let r = OrderResult {
                    order_id: o.order_id,
                    outcome: Outcome::SkippedDuplicate,
                    attempts: 0,
                };
                summary.count(&r.outcome);
                on_result(&r);
            }
        }
        crate::pool::each(
            &todo,
            concurrency.clamp(1, 64),
            |o| self.send_one(&o.request),
            |i, sent| {
                let (outcome, attempts) = sent.unwrap_or_else(|_| {
                    let error = "internal error: the sending worker failed".to_string();
                    (Outcome::Failed { error }, 0)
                });
                let r = OrderResult {
                    order_id: todo[i].order_id.clone(),
                    outcome,
                    attempts,
                };
                summary.count(&r.outcome);
                on_result(&r);
            },
        );
        summary
    }
}

impl BatchSummary {
    pub fn count(&mut self, o: &Outcome) {
        match o {
            Outcome::Accepted { .. } => self.accepted += 1,
            Outcome::Rejected { .. } => self.rejected += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::SkippedDuplicate => self.skipped_duplicate += 1,
        }
    }
}

fn transport_error(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    format!("{kind}: {}", e.without_url())
}

fn excerpt(s: &str) -> String {
    let t: String = s.chars().take(200).collect();
    if s.chars().count() > 200 {
        format!("{t}…")
    } else {
        t
    }
}

/// Reads a gateway answer: `success` true/"true" with an order code, or false with
/// `errorCode`/`errorMsg`. `None` when it is not such an answer.
pub fn parse_answer(text: &str) -> Option<Outcome> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    // Some gateways wrap the answer in `response` or `data`.
    let v = v.get("response").filter(|r| r.is_object()).unwrap_or(&v);
    let success = match v.get("success")? {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => return None,
    };
    let str_of = |k: &str| -> Option<String> {
        let x = v.get(k).or_else(|| v.get("data").and_then(|d| d.get(k)))?;
        match x {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let order_code = str_of("orderCode").or_else(|| str_of("deliveryOrderCode"));
    if success {
        return Some(Outcome::Accepted {
            order_code,
            duplicate: false,
        });
    }
    let code = str_of("errorCode").unwrap_or_default();
    let msg = str_of("errorMsg").unwrap_or_default();
    let text = format!("{code} {msg}").to_uppercase();
    if text.contains("DUPLICATE") || text.contains("重复") || text.contains("已存在") {
        return Some(Outcome::Accepted {
            order_code,
            duplicate: true,
        });
    }
    Some(Outcome::Rejected {
        error_code: code,
        error_msg: msg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_their_shapes() {
        assert_eq!(
            parse_answer(r#"{"success":"true","orderCode":"LBX1"}"#),
            Some(Outcome::Accepted {
                order_code: Some("LBX1".into()),
                duplicate: false
            })
        );
        assert_eq!(
            parse_answer(r#"{"success":true,"data":{"orderCode":"LBX2"}}"#),
            Some(Outcome::Accepted {
                order_code: Some("LBX2".into()),
                duplicate: false
            })
        );
        assert_eq!(
            parse_answer(r#"{"success":"false","errorCode":"S17","errorMsg":"bad"}"#),
            Some(Outcome::Rejected {
                error_code: "S17".into(),
                error_msg: "bad".into()
            })
        );
        assert!(matches!(
            parse_answer(r#"{"success":false,"errorCode":"B01","errorMsg":"外部单号重复"}"#),
            Some(Outcome::Accepted {
                duplicate: true,
                ..
            })
        ));
        assert_eq!(parse_answer("<html>"), None);
        assert_eq!(parse_answer("{}"), None);
    }
}
