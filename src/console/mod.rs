//! The operator's console: pages and a JSON API served by `sync --listen` at `/`, beside
//! the Cainiao callback, `/healthz` and `/metrics` (which stay open: the console's
//! token guards only its own routes). It shows the orders by stage (searchable by id),
//! one order's path, the request sent (masked) and its notices; what waits for a person,
//! with a button per action of `resolve` (the same library call as the command line,
//! recorded as `console from ADDRESS (session …)`); and health with the figures of
//! `/metrics`, refreshed by a small script that polls `/api/overview`.
//!
//! By job: [`config`] the `[console]` settings, [`access`] the token, sessions and CSRF,
//! [`data`] what is read from the state, [`figures`] health and the metrics, [`html`] the
//! pages, [`pages`] and [`api`] their handlers, [`assets`] the style sheet and script.

pub mod access;
mod api;
mod assets;
pub mod config;
pub mod data;
pub mod figures;
mod html;
mod pages;

use crate::config::Secret;
use crate::health::Health;
use crate::store::Stage;
use access::Access;
use axum::handler::Handler;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
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

/// One route of the console, as [`routes`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// Answered without the token: only the login and the style sheet (no data).
    pub public: bool,
}

/// The routes as they are added: each goes into the router and into the list, so the
/// list is the router's (the tests ask every route listed for a 401).
struct Routes {
    open: Router<Console>,
    guarded: Router<Console>,
    list: Vec<Route>,
}

impl Routes {
    fn add<H, T>(mut self, method: &'static str, path: &'static str, public: bool, h: H) -> Routes
    where
        H: Handler<T, Console>,
        T: 'static,
    {
        let filter = if method == "POST" {
            MethodFilter::POST
        } else {
            MethodFilter::GET
        };
        if public {
            self.open = self.open.route(path, on(filter, h));
        } else {
            self.guarded = self.guarded.route(path, on(filter, h));
        }
        self.list.push(Route {
            method,
            path,
            public,
        });
        self
    }
}

fn table() -> Routes {
    Routes {
        open: Router::new(),
        guarded: Router::new(),
        list: Vec::new(),
    }
    .add("POST", "/login", true, access::login)
    .add("GET", "/assets/console.css", true, assets::css)
    .add("GET", "/assets/console.js", false, assets::js)
    .add("POST", "/logout", false, access::logout)
    .add("GET", "/", false, pages::overview)
    .add("GET", "/orders", false, pages::orders)
    .add("GET", "/orders/{id}", false, pages::order)
    .add("POST", "/orders/{id}/resolve", false, pages::resolve)
    .add("GET", "/api/overview", false, api::overview)
    .add("GET", "/api/orders", false, api::orders)
    .add("GET", "/api/orders/{id}", false, api::order)
    .add("POST", "/api/orders/{id}/resolve", false, api::resolve)
}

/// Every route of the console.
pub fn routes() -> Vec<Route> {
    table().list
}

/// The console's router, to merge beside the other routes of `sync --listen` (before
/// their fallback): every route but the login and the style sheet behind the token.
pub fn router(console: Console) -> Router {
    let t = table();
    let guarded = t.guarded.route_layer(axum::middleware::from_fn_with_state(
        console.clone(),
        access::require,
    ));
    t.open.merge(guarded).with_state(console)
}

/// A form body's fields (the last of a name wins).
pub(crate) fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// A path of this console to go on to after the login: `/…`, never `//host` or a
/// scheme (no open redirect), nothing a header could not carry.
pub(crate) fn is_own_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && p.chars().all(|c| c.is_ascii_graphic())
}

/// `303 See Other` to `to` (a path of the console).
pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let to = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    r.headers_mut().insert(header::LOCATION, to);
    html::secure_headers(r.headers_mut());
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
pub(crate) fn order_href(id: &str) -> String {
    format!("/orders/{}", segment(id))
}

/// A page of the list.
pub(crate) fn orders_href(stage: Option<Stage>, q: &str, page: usize) -> String {
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
        let paths: Vec<&str> = routes().iter().map(|r| r.path).collect();
        assert!(paths.contains(&"/") && paths.contains(&"/api/overview"));
        let public: Vec<&str> = routes()
            .iter()
            .filter(|r| r.public)
            .map(|r| r.path)
            .collect();
        assert_eq!(public, ["/login", "/assets/console.css"]);
    }
}
