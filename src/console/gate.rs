//! The door of the console: [`require`] in front of every guarded route, the login and
//! logout forms, and how a refusal is answered (401, 403) by a page or by the API. Who
//! may pass is [`super::access`]'s to say.

use super::access::{Who, CSRF_FIELD};
use super::shared::{form, is_own_path, json_error, see_other, Console};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Lets a request in when the token or a session came with it (its [`Who`] an extension
/// for the handler); else 401 with nothing of the orders: the login form for a page,
/// `{"error": …}` for the API.
pub async fn require(State(c): State<Console>, mut req: Request, next: Next) -> Response {
    match c.access().who(req.headers()) {
        Some(who) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        None => {
            let path = req.uri().path().to_string();
            unauthorized(&path, None)
        }
    }
}

/// The 401 of `path`: JSON under `/api/`, else the login form (with `why`, after a
/// wrong token).
pub fn unauthorized(path: &str, why: Option<&str>) -> Response {
    let mut r = if path.starts_with("/api/") {
        json_error(
            StatusCode::UNAUTHORIZED,
            "the console needs its token: send `Authorization: Bearer TOKEN`, or log in at /",
        )
    } else {
        super::html::page(StatusCode::UNAUTHORIZED, super::html::login(path, why))
    };
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"bondmap console\""),
    );
    r
}

/// A refused POST: 403 with the reason, as the API or a page answers it.
pub fn forbidden(path: &str, why: &str) -> Response {
    if path.starts_with("/api/") {
        json_error(StatusCode::FORBIDDEN, why)
    } else {
        super::html::page(
            StatusCode::FORBIDDEN,
            super::html::message("Refused", why, "/"),
        )
    }
}

/// `GET /login`: the login form (401, as every page without the token).
pub async fn login_form() -> Response {
    unauthorized("/", None)
}

/// `POST /login` (`token`, `next`): the token opens a session and goes on to `next` (a
/// path of the console); a wrong one is the login form again, 401. The form must come
/// from the console's own origin (a page of another site cannot log a browser in).
pub async fn login(
    State(c): State<Console>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = form(&body);
    let next = form
        .get("next")
        .map(String::as_str)
        .filter(|n| is_own_path(n))
        .unwrap_or("/")
        .to_string();
    let access = c.access();
    if !access.same_origin(&headers) {
        return forbidden(
            "/login",
            "refused: the login form did not come from the console's own page (Origin/Referer)",
        );
    }
    let token = form.get("token").map(String::as_str).unwrap_or("");
    if !access.is_token(token) {
        return unauthorized(&next, Some("That is not the console's token."));
    }
    let Some(cookie) = access.open_session() else {
        return super::html::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            super::html::message("Error", "no randomness for a session id", "/"),
        );
    };
    let mut r = see_other(&next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /logout` (`csrf`): ends the session.
pub async fn logout(
    State(c): State<Console>,
    axum::Extension(who): axum::Extension<Who>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = form(&body);
    let access = c.access();
    if let Err(why) = access.check_post(&who, &headers, form.get(CSRF_FIELD).map(String::as_str)) {
        return forbidden("/logout", why);
    }
    let mut r = see_other("/");
    if let Ok(v) = HeaderValue::from_str(&access.close_session(who.csrf())) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.into_response()
}
