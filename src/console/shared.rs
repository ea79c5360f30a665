//! What every part of the console shares: the [`Console`] its handlers are given, the
//! console's own paths (an order's, a list's) and the headers and redirects every answer
//! carries.

use super::access::Access;
use crate::config::Secret;
use crate::health::Health;
use crate::store::Stage;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    state: PathBuf,
    health: Arc<Health>,
    access: Access,
}

impl Console {
    /// The console over the state at `state`, opened by `token`; `behind_tls`: the
    /// operator reaches it through TLS.
    pub fn new(state: PathBuf, health: Arc<Health>, token: Secret, behind_tls: bool) -> Console {
        Console {
            inner: Arc::new(Inner {
                state,
                health,
                access: Access::new(token, behind_tls),
            }),
        }
    }

    pub fn access(&self) -> &Access {
        &self.inner.access
    }

    pub fn state(&self) -> &std::path::Path {
        &self.inner.state
    }

    pub fn health(&self) -> &Health {
        &self.inner.health
    }
}

/// A form body's fields (the last of a name wins).
pub fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// A path of this console to go on to after the login: `/…`, never `//host` or a
/// scheme (no open redirect), nothing a header could not carry.
pub fn is_own_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && p.chars().all(|c| c.is_ascii_graphic())
}

/// `303 See Other` to `to` (a path of the console).
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let to = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    r.headers_mut().insert(header::LOCATION, to);
    secure_headers(r.headers_mut());
    r
}

/// A path segment with everything but unreserved characters percent-encoded.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page of an order.
pub fn order_href(id: &str) -> String {
    format!("/orders/{}", segment(id))
}

/// A page of the list.
pub fn orders_href(stage: Option<Stage>, q: &str, page: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if let Some(st) = stage {
        s.append_pair("stage", st.as_str());
    }
    if !q.is_empty() {
        s.append_pair("q", q);
    }
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    let q = s.finish();
    if q.is_empty() {
        "/orders".into()
    } else {
        format!("/orders?{q}")
    }
}

/// The headers every answer of the console carries: only its own script and style sheet
/// ([`CSP`]), never cached (it shows the state now, and it may be a 401), never sniffed,
/// its referrer kept to the console.
pub fn secure_headers(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// The page's own style sheet and script only; no inline script or style, nothing from
/// elsewhere, forms posted to the console only, no framing by another site.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `{"error": msg}` with `status` and the console's headers.
pub fn json_error(status: StatusCode, msg: &str) -> Response {
    let mut r = (status, Json(serde_json::json!({ "error": msg }))).into_response();
    secure_headers(r.headers_mut());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_hostile_ids_stay_one_segment_and_only_own_paths_are_followed() {
        assert_eq!(order_href("P1"), "/orders/P1");
        assert_eq!(
            order_href("<script>/../x y"),
            "/orders/%3Cscript%3E%2F..%2Fx%20y"
        );
        assert_eq!(
            orders_href(Some(Stage::Accepted), "P 1&x", 2),
            "/orders?stage=accepted&q=P+1%26x&page=2"
        );
        for ok in ["/", "/orders/P1?done=close"] {
            assert!(is_own_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil",
            "",
            "/a\nb",
            "/é",
        ] {
            assert!(!is_own_path(bad), "{bad}");
        }
    }
}
