//! The playground's JSON API: each handler reads its request, runs the work of
//! [`super::work`] off the runtime's threads (a check is CPU work) and answers JSON.
//! A refusal is `{"error": …}` with 400 or 404.

use super::work::{Refused, Site};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The mapping the page opens with, when the root has it.
pub const OPEN_FIRST: &str = "warehouses/hangzhou_xiasha.map";

/// What the handlers share: the site and a bound on the work running at once (a typist
/// sends a check per pause; a flood waits its turn instead of taking every thread).
#[derive(Clone)]
pub struct Shared {
    pub site: Arc<Site>,
    pub busy: Arc<Semaphore>,
}

impl Shared {
    pub fn new(site: Site) -> Shared {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Shared {
            site: Arc::new(site),
            busy: Arc::new(Semaphore::new(n)),
        }
    }

    /// Runs `f` on the site on a blocking thread, once a permit is free.
    async fn work<T: Serialize + Send + 'static>(
        &self,
        f: impl FnOnce(&Site) -> Result<T, Refused> + Send + 'static,
    ) -> Response {
        let Ok(_permit) = self.busy.acquire().await else {
            return failed("the playground is stopping");
        };
        let site = self.site.clone();
        match tokio::task::spawn_blocking(move || f(&site)).await {
            Ok(Ok(v)) => Json(v).into_response(),
            Ok(Err(r)) => refused(r),
            Err(_) => failed("internal error: the work failed"),
        }
    }
}

fn refused(r: Refused) -> Response {
    let (status, msg) = match r {
        Refused::NotFound(m) => (StatusCode::NOT_FOUND, m),
        Refused::Bad(m) => (StatusCode::BAD_REQUEST, m),
    };
    (status, Json(json!({ "error": msg }))).into_response()
}

fn failed(msg: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": msg })),
    )
        .into_response()
}

/// What the page starts from: the language's keywords and units (for highlighting: the
/// one list of each, `crate::syntax::keywords`), the mapping files and examples to pick from, and which
/// of each it opens with.
pub async fn start(State(s): State<Shared>) -> Response {
    s.work(|site| {
        let files = site.files();
        let examples = site.examples();
        let file = files
            .iter()
            .find(|f| *f == OPEN_FIRST)
            .or(files.first())
            .cloned();
        let keywords: Vec<Value> = crate::syntax::KEYWORDS
            .iter()
            .map(|k| json!({ "word": k.word, "reserved": k.reserved }))
            .collect();
        Ok(json!({
            "keywords": keywords,
            // The unit tags after a number (`12 yuan`).
            "units": crate::money::Unit::ALL.map(crate::money::Unit::as_str),
            "files": files,
            "file": file,
            "examples": examples,
            "example": examples.first(),
        }))
    })
    .await
}

#[derive(Deserialize)]
pub struct FileQuery {
    path: String,
}

pub async fn file(State(s): State<Shared>, Query(q): Query<FileQuery>) -> Response {
    s.work(move |site| {
        let text = site.file(&q.path)?;
        Ok(json!({ "path": q.path, "text": text }))
    })
    .await
}

#[derive(Deserialize)]
pub struct ExampleQuery {
    name: String,
}

pub async fn example(State(s): State<Shared>, Query(q): Query<ExampleQuery>) -> Response {
    s.work(move |site| {
        let text = site.example(&q.name)?;
        Ok(json!({ "name": q.name, "text": text }))
    })
    .await
}

/// An edited mapping: the file it is (relative to the root) and its text.
#[derive(Deserialize)]
pub struct Edited {
    path: String,
    text: String,
}

pub async fn check(State(s): State<Shared>, Json(e): Json<Edited>) -> Response {
    s.work(move |site| {
        let problems = site.check(&e.path, &e.text)?;
        Ok(json!({ "problems": problems }))
    })
    .await
}

/// An edited mapping and an order (its JSON text).
#[derive(Deserialize)]
pub struct MapRequest {
    path: String,
    text: String,
    order: String,
}

pub async fn map(State(s): State<Shared>, Json(r): Json<MapRequest>) -> Response {
    s.work(move |site| site.map(&r.path, &r.text, &r.order))
        .await
}

/// [`MapRequest`] and the request field to explain (`orderItemList[0].itemQuantity`).
#[derive(Deserialize)]
pub struct ExplainRequest {
    path: String,
    text: String,
    order: String,
    field: String,
}

pub async fn explain(State(s): State<Shared>, Json(r): Json<ExplainRequest>) -> Response {
    s.work(move |site| site.explain(&r.path, &r.text, &r.order, &r.field))
        .await
}

pub async fn save(State(s): State<Shared>, Json(e): Json<Edited>) -> Response {
    s.work(move |site| {
        site.save(&e.path, &e.text)?;
        Ok(json!({ "saved": e.path }))
    })
    .await
}
