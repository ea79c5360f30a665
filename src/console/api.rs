//! The console's JSON API: the same data the pages show ([`super::data`]), and a resolve.
//! A refusal is `{"error": …}` with its status (400, 401, 403, 404, 409, 503).

use super::access::{Who, CSRF_HEADER};
use super::data;
use super::gate::forbidden;
use super::pages::{blocking, resolve_as, ListQuery, NotDone};
use super::shared::{json_error as error, secure_headers, Console};
use crate::http::Peer;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

fn with_headers(mut r: Response) -> Response {
    secure_headers(r.headers_mut());
    r
}

fn answer<T: Serialize>(r: Result<T, String>) -> Response {
    match r {
        Ok(v) => with_headers(Json(v).into_response()),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

/// `GET /api/overview`: counts by stage, what waits for a person, health and figures
/// (what the first page's script polls).
pub async fn overview(State(c): State<Console>) -> Response {
    answer(blocking(move || data::overview(c.state(), c.health())).await)
}

/// `GET /api/orders?stage=&q=&page=`.
pub async fn orders(State(c): State<Console>, Query(q): Query<ListQuery>) -> Response {
    let stage = match q.stage() {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let text = q.q.unwrap_or_default();
    let n = q.page.unwrap_or(1);
    answer(blocking(move || data::orders(c.state(), stage, &text, n)).await)
}

/// `GET /api/orders/{id}`: the order, its wait, history, request sent (`null`: not
/// kept) and notices.
pub async fn order(State(c): State<Console>, Path(id): Path<String>) -> Response {
    let id2 = id.clone();
    match blocking(move || data::order(c.state(), &id2)).await {
        Ok(Some(v)) => with_headers(Json(v).into_response()),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            &format!("order {id} is not in the state"),
        ),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

/// A resolve's body.
#[derive(Debug, Deserialize)]
pub struct ResolveBody {
    pub action: String,
    pub note: Option<String>,
}

/// `POST /api/orders/{id}/resolve` `{"action", "note"}`: what `bondmap resolve --format
/// json` prints; a session must send its CSRF token as `X-CSRF-Token`.
pub async fn resolve(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/api/orders/{id}/resolve");
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if let Err(why) = c.access().check_post(&who, &headers, sent) {
        return forbidden(&path, why);
    }
    let b: ResolveBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the body must be {{\"action\": …, \"note\": …}}: {e}"),
            )
        }
    };
    match resolve_as(&c, &who, peer.map(|p| p.0), id, &b.action, b.note).await {
        Ok(r) => with_headers(Json(r).into_response()),
        Err(NotDone(status, msg)) => error(status, &msg),
    }
}
