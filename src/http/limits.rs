//! The numbers the server holds every connection to, and how its own refusals read.

use axum::http::StatusCode;
use std::time::Duration;

/// How a refusal the server makes itself (408, 411, 413, 431, 503, 400) is worded: the
/// content type and the body for a status and a plain reason. The Cainiao callback
/// answers in Cainiao's JSON, since Cainiao reads `success` even from a refusal.
pub type Refusal = fn(StatusCode, &str) -> (&'static str, String);

/// What one server allows. [`Limits::default`] suits an endpoint open to the internet
/// (behind a proxy or not); [`Limits::loopback`] the simulators, which only a local
/// bondmap talks to, many requests at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once in all; one more is answered 503 and closed unread.
    pub max_connections: usize,
    /// Connections open at once from one peer address (behind a proxy: the proxy's).
    pub max_per_peer: usize,
    /// The whole request, head and body, must have arrived this long after the
    /// connection was accepted; else 408.
    pub request_deadline: Duration,
    /// The answer must be made and written this long after the request arrived; else the
    /// connection is closed without one.
    pub answer_timeout: Duration,
    /// The longest request head (request line and headers), in bytes; longer is 431.
    pub max_head: usize,
    /// The most header lines; more is 431.
    pub max_headers: usize,
    /// The longest body, in bytes; a longer `Content-Length` is 413, unread.
    pub max_body: usize,
    pub refusal: Refusal,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 256,
            max_per_peer: 32,
            request_deadline: Duration::from_secs(30),
            answer_timeout: Duration::from_secs(30),
            max_head: 16 << 10,
            max_headers: 32,
            max_body: 1 << 20,
            refusal: plain,
        }
    }
}

impl Limits {
    /// For a simulator on loopback: one peer (the bondmap under test) with as many
    /// requests in flight as it likes, bodies as large as a batch may be.
    pub fn loopback() -> Limits {
        Limits {
            max_connections: 1024,
            max_per_peer: 1024,
            max_body: 16 << 20,
            answer_timeout: Duration::from_secs(120),
            ..Limits::default()
        }
    }
}

/// The default wording: the reason as plain text.
pub fn plain(_status: StatusCode, reason: &str) -> (&'static str, String) {
    ("text/plain; charset=utf-8", format!("{reason}\n"))
}
