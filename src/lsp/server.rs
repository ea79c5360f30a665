//! The server loop: initialize, the open buffers, requests answered, checks started and
//! their results published. Nothing slow runs here: a buffer is checked on the check
//! worker ([`worker`]) some time after its last change, formatting and document symbols
//! (which parse the whole buffer) on the answer worker, and hover, completion and
//! definition read the text and the last analysis that finished. A request it cannot
//! read gets an error answer; nothing an editor sends ends the loop but `exit` or the
//! end of input.

use super::documents::{self, path_of, Documents};
use super::engine::{self, Analysis};
use super::message::{self, code, Message, Notification, Request};
use super::transport::{self, Incoming};
use super::worker::{self, Revisions, Worker};
use super::{completion, cursor, definition, formatting, hover, symbols};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, Diagnostic,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DocumentFormattingParams, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, HoverProviderCapability,
    InitializeResult, MarkupContent, MarkupKind, OneOf, Position, PublishDiagnosticsParams,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Url,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How long after the last change a buffer is checked: typing is not interrupted by a
/// check per key, and a pause shows the problems at once.
const DEBOUNCE: Duration = Duration::from_millis(200);

type Failure = (i32, String);

/// What the loop waits for.
enum Event {
    Incoming(Incoming),
    /// The reader is done (end of input).
    End,
    Checked(Box<worker::Checked>),
    /// An answer made on the answer worker, ready to send.
    Answer(Value),
}

struct State {
    docs: Documents,
    /// When each changed buffer is due to be checked.
    pending: HashMap<Url, Instant>,
    /// What the last check of each open buffer found, by the file each problem is in.
    found: HashMap<Url, HashMap<Url, Vec<Diagnostic>>>,
    /// The last analysis of each buffer that parsed.
    analyses: HashMap<Url, Arc<Analysis>>,
    /// What hover, completion and definition read of each buffer's text, made once per
    /// text (the text it is made of beside it): on the answer worker as soon as the text
    /// comes, or by the first question that cannot wait for it.
    cursors: HashMap<Url, (Arc<str>, Arc<OnceLock<cursor::Index>>)>,
    revisions: Arc<Revisions>,
    checks: Worker<Event>,
    answers: Worker<Event>,
    out: Option<transport::Writer>,
    /// The editor is gone (the writer ended).
    gone: bool,
    initialized: bool,
    shut_down: bool,
}

pub fn serve(input: impl BufRead + Send + 'static, out: impl Write + Send + 'static) -> u8 {
    let (tx, rx) = mpsc::channel();
    transport::spawn_reader(input, tx.clone(), Event::Incoming, Event::End);
    let mut st = State {
        docs: Documents::default(),
        pending: HashMap::new(),
        found: HashMap::new(),
        analyses: HashMap::new(),
        cursors: HashMap::new(),
        revisions: Arc::new(Revisions::default()),
        checks: Worker::spawn("lsp-check", tx.clone()),
        answers: Worker::spawn("lsp-answer", tx),
        out: Some(transport::Writer::spawn(out)),
        gone: false,
        initialized: false,
        shut_down: false,
    };
    let code = serve_loop(&mut st, &rx);
    if let Some(w) = st.out.take() {
        w.finish();
    }
    code
}

fn serve_loop(st: &mut State, rx: &Receiver<Event>) -> u8 {
    loop {
        let next = st.pending.values().min().copied();
        let got = match next {
            Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match got {
            Ok(Event::Incoming(Incoming::Message(Message::Request(r)))) => st.request(r),
            Ok(Event::Incoming(Incoming::Message(Message::Notification(n)))) => {
                if n.method == note::Exit::METHOD {
                    return u8::from(!st.shut_down);
                }
                st.notification(n);
            }
            // Answers to requests this server never sends.
            Ok(Event::Incoming(Incoming::Message(Message::Response))) => {}
            Ok(Event::Incoming(Incoming::Malformed(why))) => st.send(message::err(
                &Value::Null,
                code::PARSE_ERROR,
                format!("cannot read the message: {why}"),
            )),
            Ok(Event::Checked(c)) => st.checked(*c),
            Ok(Event::Answer(v)) => st.send(v),
            Err(RecvTimeoutError::Timeout) => st.start_due_checks(),
            Ok(Event::End) | Err(RecvTimeoutError::Disconnected) => return u8::from(!st.shut_down),
        }
        if st.gone {
            return 1;
        }
    }
}

fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, Failure> {
    serde_json::from_value(v).map_err(|e| (code::INVALID_PARAMS, e.to_string()))
}

fn json(v: Result<Value, serde_json::Error>) -> Result<Value, Failure> {
    v.map_err(|e| (code::INTERNAL_ERROR, e.to_string()))
}

fn answer_of(id: &Value, a: Result<Value, Failure>) -> Value {
    match a {
        Ok(v) => message::ok(id, v),
        Err((c, msg)) => message::err(id, c, msg),
    }
}

impl State {
    fn send(&mut self, v: Value) {
        if !self.out.as_ref().is_some_and(|w| w.send(v)) {
            self.gone = true;
        }
    }

    /// Starts making what the cursor questions read of the buffer's new text, on the
    /// answer worker (unless a newer text comes first).
    fn prepare(&mut self, uri: &Url) -> Option<Arc<OnceLock<cursor::Index>>> {
        let text = self.docs.get(uri)?.text.clone();
        let cell = Arc::new(OnceLock::new());
        let old = self
            .cursors
            .insert(uri.clone(), (text.clone(), cell.clone()));
        self.drop_later(old);
        let (job_cell, rev, revisions) = (
            cell.clone(),
            self.revisions.latest(uri),
            self.revisions.clone(),
        );
        let uri = uri.clone();
        self.answers.run(move || {
            if rev.is_some_and(|r| revisions.is_latest(&uri, r)) {
                let ix = job_cell.get_or_init(|| cursor::Index::new(&text));
                // Completion at the top level reads what is assigned there.
                ix.assigned(&text, None);
            }
            None
        });
        Some(cell)
    }

    /// Frees `x` on the answer worker: the tree of a long buffer takes a while to free.
    fn drop_later(&self, x: impl Send + 'static) {
        self.answers.run(move || {
            drop(x);
            None
        });
    }

    fn request(&mut self, r: Request) {
        let id = r.id.clone();
        if r.method == req::Initialize::METHOD {
            self.initialized = true;
            let v = json(serde_json::to_value(initialize_result()));
            return self.send(answer_of(&id, v));
        }
        if !self.initialized {
            return self.send(message::err(
                &id,
                code::SERVER_NOT_INITIALIZED,
                "initialize first",
            ));
        }
        if r.method == req::Shutdown::METHOD {
            self.shut_down = true;
            return self.send(message::ok(&id, Value::Null));
        }
        if self.shut_down {
            return self.send(message::err(
                &id,
                code::INVALID_REQUEST,
                "the server is shut down",
            ));
        }
        // A bug in one answer must not end the session: it becomes an error answer.
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.answer(&id, &r.method, r.params)
        }))
        .unwrap_or_else(|_| {
            Some(Err((
                code::INTERNAL_ERROR,
                format!("internal error answering {}", r.method),
            )))
        });
        // `None`: answered on the answer worker.
        if let Some(a) = answer {
            self.send(answer_of(&id, a));
        }
    }

    fn answer(&mut self, id: &Value, method: &str, p: Value) -> Option<Result<Value, Failure>> {
        Some(match method {
            req::HoverRequest::METHOD => self.hover(p),
            req::Completion::METHOD => self.completion(p),
            req::GotoDefinition::METHOD => self.definition(p),
            req::Formatting::METHOD => return self.formatting(id, p),
            req::DocumentSymbolRequest::METHOD => return self.symbols(id, p),
            _ => Err((
                code::METHOD_NOT_FOUND,
                format!("bondmap lsp does not answer {method}"),
            )),
        })
    }

    fn hover(&mut self, p: Value) -> Result<Value, Failure> {
        let p: HoverParams = params(p)?;
        let pos = p.text_document_position_params;
        let Some(at) = self.at(&pos.text_document.uri, pos.position) else {
            return Ok(Value::Null);
        };
        let h =
            hover::hover(&at.text, at.ix(), at.offset, at.analysis.as_deref()).map(|value| Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                }),
                range: None,
            });
        json(serde_json::to_value(h))
    }

    fn completion(&mut self, p: Value) -> Result<Value, Failure> {
        let p: CompletionParams = params(p)?;
        let pos = p.text_document_position;
        let Some(at) = self.at(&pos.text_document.uri, pos.position) else {
            return Ok(Value::Null);
        };
        let items = completion::complete(&at.text, at.ix(), at.offset, at.analysis.as_deref());
        json(serde_json::to_value(CompletionResponse::Array(items)))
    }

    fn definition(&mut self, p: Value) -> Result<Value, Failure> {
        let p: GotoDefinitionParams = params(p)?;
        let pos = p.text_document_position_params;
        let uri = pos.text_document.uri.clone();
        let Some(at) = self.at(&uri, pos.position) else {
            return Ok(Value::Null);
        };
        let mut locs =
            definition::definition(&uri, &at.text, at.ix(), at.offset, at.analysis.as_deref());
        json(serde_json::to_value(match locs.len() {
            0 => None,
            1 => locs.pop().map(GotoDefinitionResponse::Scalar),
            _ => Some(GotoDefinitionResponse::Array(locs)),
        }))
    }

    /// Formats the buffer's text as it is now, on the answer worker.
    fn formatting(&mut self, id: &Value, p: Value) -> Option<Result<Value, Failure>> {
        let p: DocumentFormattingParams = match params(p) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let Some(doc) = self.docs.get(&p.text_document.uri) else {
            return Some(Ok(Value::Null));
        };
        let (id, text) = (id.clone(), doc.text.clone());
        self.answers.run(move || {
            let edits = json(serde_json::to_value(formatting::edits(&text)));
            Some(Event::Answer(answer_of(&id, edits)))
        });
        None
    }

    /// The symbols of the buffer's text as it is now (of the last analysis while it does
    /// not parse), on the answer worker.
    fn symbols(&mut self, id: &Value, p: Value) -> Option<Result<Value, Failure>> {
        let p: DocumentSymbolParams = match params(p) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let uri = p.text_document.uri;
        let Some(doc) = self.docs.get(&uri) else {
            return Some(Ok(Value::Null));
        };
        let (id, text) = (id.clone(), doc.text.clone());
        let last = self.analyses.get(&uri).cloned();
        self.answers.run(move || {
            let syms = match engine::parse(&text) {
                Some(f) => symbols::symbols(&text, &f),
                None => last.map_or_else(Vec::new, |a| symbols::symbols(a.text(), &a.file)),
            };
            let v = json(serde_json::to_value(DocumentSymbolResponse::Nested(syms)));
            Some(Event::Answer(answer_of(&id, v)))
        });
        None
    }

    /// What a question about a position of an open buffer reads.
    fn at(&mut self, uri: &Url, pos: Position) -> Option<At> {
        let text = self.docs.get(uri)?.text.clone();
        let ix = match self.cursors.get(uri) {
            Some((t, ix)) if Arc::ptr_eq(t, &text) => ix.clone(),
            _ => self.prepare(uri)?,
        };
        Some(At {
            offset: documents::offset(&text, pos),
            text,
            ix,
            analysis: self.analyses.get(uri).cloned(),
        })
    }

    fn notification(&mut self, n: Notification) {
        if !self.initialized {
            return;
        }
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let uri = p.text_document.uri;
                self.docs
                    .open(uri.clone(), p.text_document.text, p.text_document.version);
                self.revisions.bump(&uri);
                self.prepare(&uri);
                self.pending.remove(&uri);
                self.start_check(&uri);
            }
            note::DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                // Full sync: the last change holds the whole text.
                if let Some(c) = p.content_changes.into_iter().last() {
                    let uri = p.text_document.uri;
                    self.docs
                        .change(uri.clone(), c.text, p.text_document.version);
                    // A check of the text before is stale from now on.
                    self.revisions.bump(&uri);
                    self.prepare(&uri);
                    self.pending.insert(uri, Instant::now() + DEBOUNCE);
                }
            }
            note::DidSaveTextDocument::METHOD => {
                // A saved file may be one the others `use`: check them all again.
                let due = Instant::now() + DEBOUNCE;
                for uri in self.docs.uris() {
                    self.revisions.bump(&uri);
                    self.pending.insert(uri, due);
                }
            }
            note::DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                let uri = p.text_document.uri;
                self.docs.close(&uri);
                self.revisions.forget(&uri);
                self.pending.remove(&uri);
                let old = (self.analyses.remove(&uri), self.cursors.remove(&uri));
                self.drop_later(old);
                let mut touched: HashSet<Url> = self
                    .found
                    .remove(&uri)
                    .map(|m| m.into_keys().collect())
                    .unwrap_or_default();
                touched.insert(uri);
                for u in touched {
                    self.publish(&u);
                }
            }
            _ => {}
        }
    }

    fn start_due_checks(&mut self) {
        let now = Instant::now();
        let due: Vec<Url> = self
            .pending
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(u, _)| u.clone())
            .collect();
        for uri in due {
            self.pending.remove(&uri);
            self.start_check(&uri);
        }
    }

    /// Checks the buffer's latest revision on the check worker.
    fn start_check(&mut self, uri: &Url) {
        let (Some(doc), Some(path), Some(rev)) =
            (self.docs.get(uri), path_of(uri), self.revisions.latest(uri))
        else {
            return;
        };
        let (uri, text, revisions) = (uri.clone(), doc.text.clone(), self.revisions.clone());
        self.checks.run(move || {
            worker::check(uri, rev, path, text, &revisions).map(|c| Event::Checked(Box::new(c)))
        });
    }

    /// A check's result: published when it is of the buffer's latest revision, else
    /// dropped (a newer check is on its way).
    fn checked(&mut self, c: worker::Checked) {
        if !self.revisions.is_latest(&c.uri, c.rev) || self.docs.get(&c.uri).is_none() {
            return;
        }
        if let Some(a) = c.analysis {
            let old = self.analyses.insert(c.uri.clone(), Arc::new(a));
            self.drop_later(old);
        }
        let mut touched: HashSet<Url> = c.found.keys().cloned().collect();
        if let Some(old) = self.found.insert(c.uri, c.found) {
            touched.extend(old.into_keys());
        }
        for u in touched {
            self.publish(&u);
        }
    }

    /// The problems of one file: its own check's when it is open, else what the checks
    /// of the open files that use it found in it.
    fn publish(&mut self, uri: &Url) {
        let diagnostics: Vec<Diagnostic> = if self.docs.get(uri).is_some() {
            self.found
                .get(uri)
                .and_then(|m| m.get(uri))
                .cloned()
                .unwrap_or_default()
        } else {
            let mut seen = HashSet::new();
            self.found
                .values()
                .filter_map(|m| m.get(uri))
                .flatten()
                .filter(|d| {
                    seen.insert((format!("{:?}", d.range), d.code.clone(), d.message.clone()))
                })
                .cloned()
                .collect()
        };
        let version = self.docs.get(uri).map(|d| d.version);
        let params = PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version,
        };
        match serde_json::to_value(params) {
            Ok(p) => self.send(message::notification(note::PublishDiagnostics::METHOD, p)),
            Err(_) => self.gone = true,
        }
    }
}

/// The text of an open buffer, what its cursor questions read, the byte offset of a
/// position in it and its last analysis.
struct At {
    text: Arc<str>,
    ix: Arc<OnceLock<cursor::Index>>,
    offset: usize,
    analysis: Option<Arc<Analysis>>,
}

impl At {
    /// Made on the answer worker, or here if that has not begun (waiting for it if it has).
    fn ix(&self) -> &cursor::Index {
        self.ix.get_or_init(|| cursor::Index::new(&self.text))
    }
}

fn initialize_result() -> InitializeResult {
    InitializeResult {
        capabilities: ServerCapabilities {
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::FULL),
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![".".into(), "$".into()]),
                ..CompletionOptions::default()
            }),
            definition_provider: Some(OneOf::Left(true)),
            document_formatting_provider: Some(OneOf::Left(true)),
            document_symbol_provider: Some(OneOf::Left(true)),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo {
            name: "bondmap".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    }
}
