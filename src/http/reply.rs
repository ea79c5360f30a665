//! A whole answer as plain data, for handlers written as plain functions (the
//! simulators, the callback), and the way such a function runs off the server's threads.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A status, a content type, extra headers and a text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// `200` and a JSON body.
    pub fn json(body: impl Into<String>) -> Reply {
        Reply::new(200, "application/json;charset=utf-8", body)
    }

    /// The same with one more header (`Retry-After`, `Location`…).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, self.body).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        for (k, v) in self.headers {
            // A header this process made up itself: one that is not valid is left out.
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                h.append(k, v);
            }
        }
        r
    }
}

/// Runs `f` on tokio's blocking pool (SQLite, a simulator's sleep), so the server's two
/// worker threads stay free to accept and read; a panic in `f` is a 500.
pub async fn blocking(f: impl FnOnce() -> Reply + Send + 'static) -> Reply {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Reply::new(
            500,
            "text/plain; charset=utf-8",
            "the handler failed; see the log\n",
        )
    })
}

/// A router answering every method and path with `f` of the body and the time it
/// arrived, on the blocking pool: the simulators, written as plain functions.
pub fn every_path(
    f: impl Fn(&[u8], std::time::Instant) -> Reply + Send + Sync + 'static,
) -> axum::Router {
    let f = std::sync::Arc::new(f);
    axum::Router::new().fallback(
        move |arrived: Option<axum::Extension<super::conn::Arrived>>, body: axum::body::Bytes| {
            let f = f.clone();
            let at = arrived.map_or_else(std::time::Instant::now, |a| a.0 .0);
            async move { blocking(move || f(&body, at)).await }
        },
    )
}
