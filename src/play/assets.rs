//! The page and its bundle, built from `web/` (`npm ci && npm run build`) into
//! `web/dist/` and embedded here: the binary serves them with no network and no files
//! beside it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../web/dist/index.html");
const APP_JS: &str = include_str!("../../web/dist/app.js");
const APP_CSS: &str = include_str!("../../web/dist/app.css");

/// Only the page's own script and styles run; CodeMirror writes its styles into the page
/// (`style-src 'unsafe-inline'`); nothing is loaded from anywhere else, and no other
/// site may frame the page.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

pub async fn index() -> Response {
    page(INDEX, "text/html; charset=utf-8")
}

pub async fn app_js() -> Response {
    page(APP_JS, "text/javascript; charset=utf-8")
}

pub async fn app_css() -> Response {
    page(APP_CSS, "text/css; charset=utf-8")
}

fn page(body: &'static str, kind: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // A new binary serves a new bundle under the same names.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
