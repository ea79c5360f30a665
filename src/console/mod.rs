//! The operator's console: pages and a JSON API served by `sync --listen` at `/`, beside
//! the Cainiao callback, `/healthz` and `/metrics` (which stay open: the console's
//! token guards only its own routes). It shows the orders by stage (searchable by id),
//! one order's path, the request sent (masked) and its notices; what waits for a person,
//! with a button per action of `resolve` (the same library call as the command line,
//! recorded as `console from ADDRESS (session …)`); and health with the figures of
//! `/metrics`, refreshed by a small script that polls `/api/overview`.
//!
//! By job: [`config`] the `[console]` settings, [`access`] the token, sessions and CSRF,
//! [`gate`] the door (401, login, logout), [`data`] what is read from the state,
//! [`figures`] health and the metrics, [`html`] the pages, [`pages`] and [`api`] their
//! handlers, [`assets`] the style sheet and script, [`shared`] what they all use.

pub mod access;
mod api;
mod assets;
pub mod config;
pub mod data;
pub mod figures;
mod gate;
mod html;
mod pages;
mod shared;

pub use shared::Console;

use axum::handler::Handler;
use axum::routing::{on, MethodFilter};
use axum::Router;

/// One route of the console, as [`routes`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// Answered without the token: only the login form and the style sheet (no data).
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
    .add("GET", "/login", true, gate::login_form)
    .add("POST", "/login", true, gate::login)
    .add("GET", "/assets/console.css", true, assets::css)
    .add("GET", "/assets/console.js", false, assets::js)
    .add("POST", "/logout", false, gate::logout)
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
        gate::require,
    ));
    t.open.merge(guarded).with_state(console)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_routers_and_only_the_login_and_the_style_sheet_are_open() {
        let paths: Vec<&str> = routes().iter().map(|r| r.path).collect();
        assert!(paths.contains(&"/") && paths.contains(&"/api/overview"));
        let public: Vec<&str> = routes()
            .iter()
            .filter(|r| r.public)
            .map(|r| r.path)
            .collect();
        assert_eq!(public, ["/login", "/login", "/assets/console.css"]);
    }
}
