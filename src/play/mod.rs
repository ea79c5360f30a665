//! `bondmap play`: the mapping playground, a page served by the binary. An editor for a
//! mapping file of the mapping root with the checker's problems as you type, an order
//! editor (the bundled examples, or your own), the request the mapping writes for the
//! order or its rejection, and the `explain` of any field of the request. The page and
//! its bundle are embedded ([`assets`]); its JSON API ([`api`]) runs the same loader,
//! checker and run as `check`, `map` and `explain` ([`work`]). Nothing is written unless
//! the page saves, and then only a mapping file inside the root.

mod api;
mod assets;
mod fields;
mod work;

pub use work::{Outcome, Problem, Refused, Site, MAX_ORDER_BYTES};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

/// Largest request body: a mapping and an order of a few MiB at most.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// The playground over `site`: the page at `/`, its API under `/api/`.
pub fn router(site: Site) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/app.js", get(assets::app_js))
        .route("/assets/app.css", get(assets::app_css))
        .route("/api/start", get(api::start))
        .route("/api/file", get(api::file))
        .route("/api/example", get(api::example))
        .route("/api/check", post(api::check))
        .route("/api/map", post(api::map))
        .route("/api/explain", post(api::explain))
        .route("/api/save", post(api::save))
        .with_state(api::Shared::new(site))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(known_host))
}

/// A request must name the server by an address or `localhost`: a page of another site
/// whose name was pointed at this machine (DNS rebinding) is refused, so it can neither
/// read the mappings nor save one.
async fn known_host(req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if host_is_address(host) {
        next.run(req).await
    } else {
        (
            StatusCode::MISDIRECTED_REQUEST,
            "the playground answers to its address (127.0.0.1:PORT) or localhost only\n",
        )
            .into_response()
    }
}

/// `127.0.0.1:8791`, `[::1]:8791`, `localhost:8791` (the port optional).
fn host_is_address(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => {
            return rest
                .split_once(']')
                .is_some_and(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::Ipv4Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::host_is_address;

    #[test]
    fn hosts_are_addresses_or_localhost() {
        for ok in [
            "127.0.0.1:8791",
            "127.0.0.1",
            "[::1]:80",
            "localhost:1",
            "LOCALHOST",
        ] {
            assert!(host_is_address(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example:8791",
            "127.0.0.1.evil.example",
            "[::1",
            "localhost.evil:1",
        ] {
            assert!(!host_is_address(bad), "{bad}");
        }
    }
}
