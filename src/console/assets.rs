//! The console's style sheet and script, built from `web/` (`npm run build`) into
//! `web/dist/` and embedded: served with no network and no files beside the binary.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../web/dist/console.css");
const JS: &str = include_str!("../../web/dist/console.js");

pub async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

pub async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A new binary serves a new bundle under the same names.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
