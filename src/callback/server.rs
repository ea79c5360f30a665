//! The HTTP side of the callback: `POST /cainiao/callback` as an [`axum::Router`] served by
//! [`crate::http::Server`], which bounds the connections, the head, the body and the time
//! a request may take (see there). What is left here: only POST on the one path, the
//! body handed to [`handle`] off the server's threads (the sink writes SQLite), and every
//! answer, refusals included, in Cainiao's JSON. The body is never logged.

use super::{handle, Answer, CallbackConfig, Sink, MAX_BODY};
use crate::http::{self, Limits, Reply};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::routing::any;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

/// The path Cainiao is told to post to.
pub const PATH: &str = "/cainiao/callback";

const JSON: &str = "application/json;charset=utf-8";

/// `PATH` answered by `cfg` and `sink`; no fallback (the caller adds one, or merges this
/// with other routes).
pub fn router(cfg: CallbackConfig, sink: Arc<dyn Sink>) -> Router {
    let shared = Arc::new((cfg, sink));
    Router::new().route(
        PATH,
        any(move |method: Method, body: Bytes| {
            let shared = shared.clone();
            async move {
                if method != Method::POST {
                    let a = Answer::fail("S01", format!("{PATH} takes POST only"));
                    return answer(405, &a);
                }
                http::blocking(move || answer(200, &handle(&body, &shared.0, shared.1.as_ref())))
                    .await
            }
        }),
    )
}

/// The answer to a path that is not the callback's.
pub async fn not_found() -> Reply {
    answer(
        404,
        &Answer::fail("S01", format!("no such path: post to {PATH}")),
    )
}

fn answer(status: u16, a: &Answer) -> Reply {
    Reply::new(status, JSON, a.to_json())
}

/// The server's own refusals in Cainiao's words: S05 for a body too large, S07 (send it
/// again) for busy, S01 for the rest.
pub fn refusal(status: StatusCode, reason: &str) -> (&'static str, String) {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "S05",
        StatusCode::SERVICE_UNAVAILABLE => "S07",
        _ => "S01",
    };
    (JSON, Answer::fail(code, reason).to_json())
}

/// The limits the callback is served within: `cfg`'s connections and deadline, bodies
/// up to [`MAX_BODY`], refusals in Cainiao's JSON.
pub fn limits(cfg: &CallbackConfig) -> Limits {
    let d = Limits::default();
    Limits {
        max_connections: cfg.max_connections.max(1),
        max_per_peer: d.max_per_peer.min(cfg.max_connections).max(1),
        request_deadline: cfg.request_deadline,
        max_body: MAX_BODY,
        refusal,
        ..d
    }
}

/// The callback alone on its own server (the demo, tests); `sync --listen` serves it
/// beside `/healthz` and `/metrics` instead.
pub struct Receiver {
    server: http::Server,
}

impl Receiver {
    /// Listens on `addr` (port 0: any free port) and serves until stopped.
    pub fn start(
        addr: SocketAddr,
        cfg: CallbackConfig,
        sink: Arc<dyn Sink>,
    ) -> std::io::Result<Receiver> {
        let limits = limits(&cfg);
        let app = router(cfg, sink).fallback(not_found);
        let server = http::Server::start(addr, app, limits)?;
        tracing::info!(addr = %server.addr(), path = PATH, "callback receiver listening");
        Ok(Receiver { server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The URL to register with Cainiao (as seen from this machine).
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.server.addr())
    }

    /// Stops serving.
    pub fn stop(&mut self) {
        self.server.stop();
    }
}
