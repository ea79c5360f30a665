//! The handlers of the pages: each reads the state off the server's threads
//! ([`super::data`]) and renders it ([`super::html`]); a resolve posted from a page goes
//! through [`resolve_as`], the one way the console resolves (the API's too).

use super::access::{Who, CSRF_FIELD};
use super::data;
use super::gate::forbidden;
use super::html::{self, page};
use super::shared::{form, order_href, see_other, Console};
use crate::http::Peer;
use crate::store::{Stage, Store};
use crate::sync::resolve::{apply, Action, ResolveError, Resolved};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

/// Runs `f` on the blocking pool (SQLite); a panic is an error too.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| Err("internal error: the work failed".into()))
}

fn failed(who: &Who, e: &str) -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        html::message_for(who, "The state cannot be read", e, "/"),
    )
}

pub async fn overview(State(c): State<Console>, Extension(who): Extension<Who>) -> Response {
    let c2 = c.clone();
    match blocking(move || data::overview(c2.state(), c2.health())).await {
        Ok(o) => page(StatusCode::OK, html::overview(&o, &who)),
        Err(e) => failed(&who, &e),
    }
}

/// `?stage=&q=&page=` of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub stage: Option<String>,
    pub q: Option<String>,
    pub page: Option<usize>,
}

impl ListQuery {
    /// The stage asked for (`None`: every stage), or why it is none bondmap knows.
    pub fn stage(&self) -> Result<Option<Stage>, String> {
        match self
            .stage
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(None),
            Some(s) => Stage::parse(s)
                .map(Some)
                .ok_or_else(|| "no such stage".to_string()),
        }
    }
}

pub async fn orders(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Query(q): Query<ListQuery>,
) -> Response {
    let stage = match q.stage() {
        Ok(s) => s,
        Err(e) => {
            return page(
                StatusCode::BAD_REQUEST,
                html::message_for(&who, "No such stage", &e, "/orders"),
            )
        }
    };
    let text = q.q.unwrap_or_default();
    let n = q.page.unwrap_or(1);
    match blocking(move || data::orders(c.state(), stage, &text, n)).await {
        Ok(l) => page(StatusCode::OK, html::orders(&l, &who)),
        Err(e) => failed(&who, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct OrderQuery {
    /// The action just recorded (after a resolve from a page).
    pub done: Option<String>,
}

pub async fn order(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Path(id): Path<String>,
    Query(q): Query<OrderQuery>,
) -> Response {
    let id2 = id.clone();
    match blocking(move || data::order(c.state(), &id2)).await {
        Ok(Some(v)) => {
            let done = q
                .done
                .as_deref()
                .and_then(Action::parse)
                .map(|a| (a.as_str(), a.next()));
            page(StatusCode::OK, html::order(&v, &who, done))
        }
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            html::message_for(
                &who,
                "No such order",
                &format!("order {id} is not in the state"),
                "/orders",
            ),
        ),
        Err(e) => failed(&who, &e),
    }
}

/// Why a resolve did not happen: its status and message.
pub struct NotDone(pub StatusCode, pub String);

/// Takes `action` on order `id`'s wait as `who` from `peer`: the library call of
/// `bondmap resolve`, in one transaction of the state (refused, changing nothing, when it
/// does not fit), recorded in the order's history under [`Who::user`].
pub async fn resolve_as(
    c: &Console,
    who: &Who,
    peer: Option<Peer>,
    id: String,
    action: &str,
    note: Option<String>,
) -> Result<Resolved, NotDone> {
    let Some(action) = Action::parse(action) else {
        return Err(NotDone(
            StatusCode::BAD_REQUEST,
            format!("unknown action `{action}`"),
        ));
    };
    let user = who.user(peer.map(|p| p.0.ip().to_canonical()));
    let state = c.state().to_path_buf();
    let r = tokio::task::spawn_blocking(move || {
        // Not the writer's lock (the running sync holds it): SQLite serialises the two.
        let mut store = Store::open(&state).map_err(ResolveError::Store)?;
        apply(&mut store, &id, action, note.as_deref(), &user)
    })
    .await;
    match r {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e @ ResolveError::Unknown(_))) => Err(NotDone(StatusCode::NOT_FOUND, e.to_string())),
        Ok(Err(e @ ResolveError::NoteRequired)) => Err(NotDone(
            StatusCode::BAD_REQUEST,
            format!("{e}; nothing changed"),
        )),
        Ok(Err(ResolveError::Store(e))) => Err(NotDone(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the state cannot be written: {e}"),
        )),
        Ok(Err(e)) => Err(NotDone(
            StatusCode::CONFLICT,
            format!("{e}; nothing changed"),
        )),
        Err(_) => Err(NotDone(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error: the resolve failed".into(),
        )),
    }
}

/// `POST /orders/{id}/resolve` from a page's form (`csrf`, `action`, `note`): on to the
/// order's page, which shows the resolve in its path.
pub async fn resolve(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = form(&body);
    let here = order_href(&id);
    if let Err(why) =
        c.access()
            .check_post(&who, &headers, form.get(CSRF_FIELD).map(String::as_str))
    {
        return forbidden(&here, why);
    }
    let action = form.get("action").cloned().unwrap_or_default();
    let note = form.get("note").cloned();
    match resolve_as(&c, &who, peer.map(|p| p.0), id, &action, note).await {
        Ok(r) => see_other(&format!("{here}?done={}", r.action.as_str())),
        Err(NotDone(status, msg)) => {
            page(status, html::message_for(&who, "Not resolved", &msg, &here))
        }
    }
}
