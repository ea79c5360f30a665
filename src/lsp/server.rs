//! The server loop: initialize, the open buffers, debounced checks published per file,
//! requests answered in order. A request it cannot read gets an error answer; nothing an
//! editor sends ends the loop but `exit` or the end of input.

use super::documents::{self, path_of, Documents};
use super::engine::{self, Analysis};
use super::transport::{self, Incoming};
use super::{completion, definition, diagnostics, formatting, hover, symbols};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// How long after the last change a buffer is checked: typing is not interrupted by a
/// check per key, and a pause shows the problems at once.
const DEBOUNCE: Duration = Duration::from_millis(200);

type Failure = (i32, String);

#[derive(Default)]
struct State {
    docs: Documents,
    /// When each changed buffer is due to be checked.
    pending: HashMap<Url, Instant>,
    /// What the last check of each open buffer found, by the file each problem is in.
    found: HashMap<Url, HashMap<Url, Vec<Diagnostic>>>,
    /// The last analysis of each buffer that parsed, with the version it was made of.
    analyses: HashMap<Url, (i32, Analysis)>,
    initialized: bool,
    shut_down: bool,
}

pub fn serve(input: impl BufRead + Send + 'static, mut out: impl Write) -> u8 {
    let rx = transport::spawn_reader(input);
    let mut st = State::default();
    loop {
        let next = st.pending.values().min().copied();
        let got = match next {
            Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let sent = match got {
            Ok(Incoming::Message(Message::Request(r))) => {
                let resp = st.request(r);
                transport::write(&mut out, &Message::Response(resp))
            }
            Ok(Incoming::Message(Message::Notification(n))) => {
                if n.method == note::Exit::METHOD {
                    return u8::from(!st.shut_down);
                }
                let msgs = st.notification(n);
                write_all(&mut out, msgs)
            }
            // Answers to requests this server never sends.
            Ok(Incoming::Message(Message::Response(_))) => Ok(()),
            Ok(Incoming::Malformed(why)) => transport::write_parse_error(&mut out, &why),
            Err(RecvTimeoutError::Timeout) => {
                let msgs = st.run_due_checks();
                write_all(&mut out, msgs)
            }
            Err(RecvTimeoutError::Disconnected) => return u8::from(!st.shut_down),
        };
        if sent.is_err() {
            // The editor is gone.
            return 1;
        }
    }
}

fn write_all(out: &mut impl Write, msgs: Vec<Message>) -> std::io::Result<()> {
    msgs.iter().try_for_each(|m| transport::write(out, m))
}

fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, Failure> {
    serde_json::from_value(v).map_err(|e| (ErrorCode::InvalidParams as i32, e.to_string()))
}

impl State {
    fn request(&mut self, r: Request) -> Response {
        let id: RequestId = r.id.clone();
        if r.method == req::Initialize::METHOD {
            self.initialized = true;
            return Response::new_ok(id, initialize_result());
        }
        if !self.initialized {
            return Response::new_err(
                id,
                ErrorCode::ServerNotInitialized as i32,
                "initialize first".into(),
            );
        }
        if r.method == req::Shutdown::METHOD {
            self.shut_down = true;
            return Response::new_ok(id, Value::Null);
        }
        if self.shut_down {
            return Response::new_err(
                id,
                ErrorCode::InvalidRequest as i32,
                "the server is shut down".into(),
            );
        }
        // A bug in one answer must not end the session: it becomes an error answer.
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.answer(&r.method, r.params)
        }))
        .unwrap_or_else(|_| {
            Err((
                ErrorCode::InternalError as i32,
                format!("internal error answering {}", r.method),
            ))
        });
        match answer {
            Ok(v) => Response::new_ok(id, v),
            Err((code, msg)) => Response::new_err(id, code, msg),
        }
    }

    fn answer(&mut self, method: &str, p: Value) -> Result<Value, Failure> {
        let json = |v: Result<Value, serde_json::Error>| {
            v.map_err(|e| (ErrorCode::InternalError as i32, e.to_string()))
        };
        match method {
            req::HoverRequest::METHOD => {
                let p: HoverParams = params(p)?;
                let pos = p.text_document_position_params;
                let Some((text, offset, analysis)) = self.at(&pos.text_document.uri, pos.position)
                else {
                    return Ok(Value::Null);
                };
                let h = hover::hover(&text, offset, analysis).map(|value| Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value,
                    }),
                    range: None,
                });
                json(serde_json::to_value(h))
            }
            req::Completion::METHOD => {
                let p: CompletionParams = params(p)?;
                let pos = p.text_document_position;
                let Some((text, offset, analysis)) = self.at(&pos.text_document.uri, pos.position)
                else {
                    return Ok(Value::Null);
                };
                let items = completion::complete(&text, offset, analysis);
                json(serde_json::to_value(CompletionResponse::Array(items)))
            }
            req::GotoDefinition::METHOD => {
                let p: GotoDefinitionParams = params(p)?;
                let pos = p.text_document_position_params;
                let uri = pos.text_document.uri.clone();
                let Some((text, offset, analysis)) = self.at(&uri, pos.position) else {
                    return Ok(Value::Null);
                };
                let loc = definition::definition(&uri, &text, offset, analysis);
                json(serde_json::to_value(
                    loc.map(GotoDefinitionResponse::Scalar),
                ))
            }
            req::Formatting::METHOD => {
                let p: DocumentFormattingParams = params(p)?;
                let Some(doc) = self.docs.get(&p.text_document.uri) else {
                    return Ok(Value::Null);
                };
                json(serde_json::to_value(formatting::edits(&doc.text)))
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: DocumentSymbolParams = params(p)?;
                let Some(doc) = self.docs.get(&p.text_document.uri) else {
                    return Ok(Value::Null);
                };
                let text = doc.text.clone();
                let file = match engine::parse(&text) {
                    Some(f) => Some(f),
                    None => self.analysis(&p.text_document.uri).map(|a| a.file.clone()),
                };
                let syms = file
                    .map(|f| symbols::symbols(&text, &f))
                    .unwrap_or_default();
                json(serde_json::to_value(DocumentSymbolResponse::Nested(syms)))
            }
            _ => Err((
                ErrorCode::MethodNotFound as i32,
                format!("bondmap lsp does not answer {method}"),
            )),
        }
    }

    /// The text, the byte offset of a position and the analysis of an open buffer.
    fn at(&mut self, uri: &Url, pos: Position) -> Option<(String, usize, Option<&Analysis>)> {
        let text = self.docs.get(uri)?.text.clone();
        let offset = documents::offset(&text, pos);
        Some((text, offset, self.analysis(uri)))
    }

    /// The analysis of the buffer's text; the last one that parsed while it does not.
    fn analysis(&mut self, uri: &Url) -> Option<&Analysis> {
        let doc = self.docs.get(uri)?;
        let fresh = self
            .analyses
            .get(uri)
            .is_some_and(|(v, _)| *v == doc.version);
        if !fresh {
            let path = path_of(uri)?;
            if let Some(a) = engine::analyse(&path, &doc.text) {
                self.analyses.insert(uri.clone(), (doc.version, a));
            }
        }
        self.analyses.get(uri).map(|(_, a)| a)
    }

    fn notification(&mut self, n: Notification) -> Vec<Message> {
        if !self.initialized {
            return Vec::new();
        }
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                self.docs
                    .open(uri.clone(), p.text_document.text, p.text_document.version);
                self.pending.remove(&uri);
                self.check(&uri)
            }
            note::DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                // Full sync: the last change holds the whole text.
                if let Some(c) = p.content_changes.into_iter().last() {
                    let uri = p.text_document.uri;
                    self.docs
                        .change(uri.clone(), c.text, p.text_document.version);
                    self.pending.insert(uri, Instant::now() + DEBOUNCE);
                }
                Vec::new()
            }
            note::DidSaveTextDocument::METHOD => {
                // A saved file may be one the others `use`: check them all again.
                let due = Instant::now() + DEBOUNCE;
                for uri in self.docs.uris() {
                    self.pending.insert(uri, due);
                }
                Vec::new()
            }
            note::DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                self.docs.close(&uri);
                self.pending.remove(&uri);
                self.analyses.remove(&uri);
                let mut touched: HashSet<Url> = self
                    .found
                    .remove(&uri)
                    .map(|m| m.into_keys().collect())
                    .unwrap_or_default();
                touched.insert(uri);
                touched.into_iter().map(|u| self.publish(&u)).collect()
            }
            _ => Vec::new(),
        }
    }

    fn run_due_checks(&mut self) -> Vec<Message> {
        let now = Instant::now();
        let due: Vec<Url> = self
            .pending
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(u, _)| u.clone())
            .collect();
        let mut out = Vec::new();
        for uri in due {
            self.pending.remove(&uri);
            out.extend(self.check(&uri));
        }
        out
    }

    /// Checks one buffer and publishes every file whose problems changed.
    fn check(&mut self, uri: &Url) -> Vec<Message> {
        let (Some(doc), Some(path)) = (self.docs.get(uri), path_of(uri)) else {
            return Vec::new();
        };
        let text = doc.text.clone();
        let found = std::panic::catch_unwind(|| {
            let checked = engine::check(&path, &text);
            diagnostics::by_file(uri, &checked)
        });
        let found = found.unwrap_or_else(|_| {
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
            m
        });
        let mut touched: HashSet<Url> = found.keys().cloned().collect();
        if let Some(old) = self.found.insert(uri.clone(), found) {
            touched.extend(old.into_keys());
        }
        touched.into_iter().map(|u| self.publish(&u)).collect()
    }

    /// The problems of one file: its own check's when it is open, else what the checks
    /// of the open files that use it found in it.
    fn publish(&self, uri: &Url) -> Message {
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
        Message::Notification(Notification::new(
            note::PublishDiagnostics::METHOD.into(),
            PublishDiagnosticsParams {
                uri: uri.clone(),
                diagnostics,
                version,
            },
        ))
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
