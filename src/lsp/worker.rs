//! Work off the server's loop: a check of a buffer takes seconds on a long one, so it
//! runs on a thread of its own and the loop goes on answering hover, completion and
//! definition from the last analysis that finished. A newer edit cancels an older check
//! by revision: the check asks between its steps whether its revision is still the
//! buffer's latest and stops when not, and a result that comes back stale is dropped.

use super::diagnostics;
use super::engine::{self, Analysis};
use lsp_types::{Diagnostic, DiagnosticSeverity, Url};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};

/// The latest revision of each open buffer (every edit, open and save makes a new one).
#[derive(Debug, Default)]
pub struct Revisions {
    latest: Mutex<HashMap<Url, u64>>,
    next: Mutex<u64>,
}

impl Revisions {
    /// A new revision of `uri`, now its latest.
    pub fn bump(&self, uri: &Url) -> u64 {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        *next += 1;
        let rev = *next;
        self.map().insert(uri.clone(), rev);
        rev
    }
    pub fn latest(&self, uri: &Url) -> Option<u64> {
        self.map().get(uri).copied()
    }
    pub fn is_latest(&self, uri: &Url, rev: u64) -> bool {
        self.latest(uri) == Some(rev)
    }
    /// A closed buffer: no revision of it is the latest.
    pub fn forget(&self, uri: &Url) {
        self.map().remove(uri);
    }
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Url, u64>> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Job<E> = Box<dyn FnOnce() -> Option<E> + Send>;

/// One thread running jobs in turn; each job's event (if any) goes to the server loop.
pub struct Worker<E> {
    jobs: Sender<Job<E>>,
}

impl<E: Send + 'static> Worker<E> {
    pub fn spawn(name: &str, events: Sender<E>) -> Worker<E> {
        let (jobs, rx) = mpsc::channel::<Job<E>>();
        let work = move || {
            for job in rx {
                // A bug in one job must not end the worker: it gives no event.
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                if let Ok(Some(e)) = done {
                    if events.send(e).is_err() {
                        return;
                    }
                }
            }
        };
        // Without the thread the jobs' receiver is dropped: a job sent is not run, and
        // the server answers what it can on its loop.
        let _ = std::thread::Builder::new().name(name.into()).spawn(work);
        Worker { jobs }
    }

    pub fn run(&self, job: impl FnOnce() -> Option<E> + Send + 'static) {
        // The worker only ends with the server.
        let _ = self.jobs.send(Box::new(job));
    }
}

/// What one check of one revision of a buffer found.
pub struct Checked {
    pub uri: Url,
    pub rev: u64,
    /// The problems by the file each is in (the buffer's own always there).
    pub found: HashMap<Url, Vec<Diagnostic>>,
    /// `None` while the text does not parse.
    pub analysis: Option<Analysis>,
}

/// Checks revision `rev` of the buffer `uri` (the file at `path`) as `bondmap check`
/// would; `None` when a newer revision came before it was done.
pub fn check(
    uri: Url,
    rev: u64,
    path: PathBuf,
    text: Arc<str>,
    revisions: &Revisions,
) -> Option<Checked> {
    let live = || revisions.is_latest(&uri, rev);
    if !live() {
        return None;
    }
    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (checked, analysis) = engine::check_and_analyse(&path, &text, &live)?;
        if !live() {
            return None;
        }
        Some((diagnostics::by_file(&uri, &checked), analysis))
    }));
    let (found, analysis) = match done {
        Ok(Some(d)) => d,
        Ok(None) => return None,
        Err(_) => {
            let mut m = HashMap::new();
            m.insert(
                uri.clone(),
                vec![Diagnostic {
                    message: "internal error while checking this file".into(),
                    severity: Some(DiagnosticSeverity::ERROR),
                    source: Some("bondmap".into()),
                    ..Diagnostic::default()
                }],
            );
            (m, None)
        }
    };
    Some(Checked {
        uri,
        rev,
        found,
        analysis,
    })
}
