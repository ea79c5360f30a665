//! Diagnostics: one stable code per kind of mistake, a span, a label and a help line.
//! Rendered as miette reports (one per file, every problem of the file in it) or as JSON.

pub(crate) mod window;

use crate::syntax::{FileId, Sources, Span};
use miette::{Diagnostic, LabeledSpan, SourceSpan};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use window::Window;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($($variant:ident => $name:literal : $doc:literal,)*) => {
        /// Every kind of mistake `check` reports. The names are stable: docs and tests use them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $(#[doc = $doc] $variant,)* }
        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => concat!("bondmap::", $name),)* }
            }
            pub fn doc(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    Parse => "parse": "The text is not valid mapping syntax.",
    Io => "io": "A file named by the mapping cannot be read.",
    UseCycle => "use_cycle": "Files `use` each other in a circle.",
    NoTarget => "no_target": "No `target` schema is declared in the file or a file it uses.",
    Schema => "schema": "The target schema file is not a usable JSON Schema.",
    UnknownField => "unknown_field": "The target schema has no field of that name.",
    UnknownSource => "unknown_source": "A source path the RED order cannot have (by the source contract).",
    MaybeAbsent => "maybe_absent": "A required target field takes a source value that may be absent, with no default.",
    MissingField => "missing_field": "A field the target schema requires is never assigned.",
    Duplicate => "duplicate": "The same field, let, param, table or named rule is defined twice in one file.",
    Override => "override": "A file replaces or drops a named rule, or drops a field, that the files it uses do not have there.",
    ShapeMismatch => "shape_mismatch": "An object or array field is assigned a value, or a value field a block.",
    TypeMismatch => "type_mismatch": "The value's type does not fit where it is used.",
    UnitMismatch => "unit_mismatch": "An amount in one unit goes where another unit is counted.",
    FixedValue => "fixed_value": "The target schema fixes this field to one value and the mapping gives another.",
    UnknownName => "unknown_name": "A name that is no loop item, let or param.",
    UnknownFunction => "unknown_function": "No function of that name.",
    UnknownTable => "unknown_table": "No table of that name.",
    UnknownColumn => "unknown_column": "The table has no column of that name.",
    Arity => "arity": "A function is given the wrong number of arguments.",
    BadArgument => "bad_argument": "A unit or rounding mode argument is not one bondmap knows.",
    BadPath => "bad_path": "A JSONPath that cannot be compiled.",
    TargetCycle => "target_cycle": "Target fields read each other back in a circle.",
    Table => "table": "A table cannot be loaded: missing file or column, a bad cell, a repeated key.",
    UnknownParam => "unknown_param": "A param is given a value but never declared with a type.",
    UnsetParam => "unset_param": "A param has no value (set it in a mapping that uses this one, or with --param).",
    UnknownSetting => "unknown_setting": "A setting bondmap does not know.",
    Unused => "unused": "A let, param or table that nothing reads.",
    Routes => "routes": "A routes file holds a statement other than `source` and `route`, a route names a mapping that does not check or reads another `source`, or a routes file is used as a mapping.",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Diag {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub span: Option<Span>,
    pub label: String,
    pub help: Option<String>,
    /// Other places the problem involves (the used file's line, when the primary span is
    /// in the using file that caused it), each with what it is.
    pub notes: Vec<Note>,
}

/// A place a problem involves beside its own span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub span: Span,
    pub message: String,
}

impl Diag {
    pub fn error(code: Code, span: impl Into<Option<Span>>, message: impl Into<String>) -> Diag {
        let message = message.into();
        Diag {
            severity: Severity::Error,
            code,
            label: String::new(),
            span: span.into(),
            message,
            help: None,
            notes: Vec::new(),
        }
    }
    pub fn warning(code: Code, span: impl Into<Option<Span>>, message: impl Into<String>) -> Diag {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, span, message)
        }
    }
    pub fn label(mut self, l: impl Into<String>) -> Diag {
        self.label = l.into();
        self
    }
    pub fn help(mut self, h: impl Into<String>) -> Diag {
        self.help = Some(h.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    pub fn note(mut self, span: Span, message: impl Into<String>) -> Diag {
        self.notes.push(Note {
            span,
            message: message.into(),
        });
        self
    }
}

/// The candidate closest to `name`, if any is close enough to be a likely misspelling.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase());
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// "did you mean …?" from the closest of `candidates`.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// One problem inside a [`FileReport`] (or a note of one: an advice with its place).
#[derive(Debug)]
struct Problem {
    diag: Diag,
    src: Window,
    span: Option<SourceSpan>,
    notes: Vec<Problem>,
    /// A note of another problem: an advice, its message saying what the place is.
    is_note: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}
impl std::error::Error for Problem {}
impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.is_note {
            return None;
        }
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            _ if self.is_note => miette::Severity::Advice,
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.notes.is_empty() {
            return None;
        }
        Some(Box::new(self.notes.iter().map(|p| p as &dyn Diagnostic)))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span.map(|_| &self.src as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = (!self.diag.label.is_empty()).then(|| self.diag.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label, span,
        ))))
    }
}

/// Every problem found in one file, as one report.
#[derive(Debug)]
pub struct FileReport {
    name: String,
    errors: usize,
    warnings: usize,
    problems: Vec<Problem>,
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} error(s), {} warning(s)",
            self.name, self.errors, self.warnings
        )
    }
}
impl std::error::Error for FileReport {}
impl Diagnostic for FileReport {
    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.errors > 0 {
            miette::Severity::Error
        } else {
            miette::Severity::Warning
        })
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// Groups diagnostics by the file their span is in (diagnostics with no span go under
/// `default_file`), sorted by position, one report per file.
pub fn reports(sources: &Sources, diags: &[Diag], default_file: &str) -> Vec<FileReport> {
    let mut by_file: Vec<(String, Vec<Problem>)> = Vec::new();
    // Each file's line ends, found once for all its problems.
    let mut ends: HashMap<FileId, Arc<[usize]>> = HashMap::new();
    let mut sorted: Vec<&Diag> = diags.iter().collect();
    sorted.sort_by_key(|d| (d.span.map(|s| (s.file, s.start)), d.severity));
    for d in sorted {
        let mut d = d.clone();
        let (name, src, span) = match d.span {
            // miette cannot draw a line this long (its column widths are 16-bit): the
            // report names the place instead of showing it.
            Some(s) if (s.file.0 as usize) < sources.files.len() && too_long_line(sources, s) => {
                d.message = format!("{} (at {})", d.message, sources.locate(s));
                let name = sources.get(s.file).name.clone();
                (name.clone(), Window::empty(name), None)
            }
            Some(s) if (s.file.0 as usize) < sources.files.len() => {
                let f = sources.get(s.file);
                let lines = ends
                    .entry(s.file)
                    .or_insert_with(|| window::line_ends(&f.text))
                    .clone();
                (
                    f.name.clone(),
                    Window::new(f.name.clone(), f.text.clone(), lines),
                    Some(SourceSpan::new((s.start as usize).into(), s.len())),
                )
            }
            _ => (
                default_file.to_string(),
                Window::empty(default_file.to_string()),
                None,
            ),
        };
        let notes = d
            .notes
            .iter()
            .filter(|n| (n.span.file.0 as usize) < sources.files.len())
            .map(|n| {
                let f = sources.get(n.span.file);
                let lines = ends
                    .entry(n.span.file)
                    .or_insert_with(|| window::line_ends(&f.text))
                    .clone();
                Problem {
                    diag: Diag::error(d.code, n.span, n.message.clone()),
                    src: Window::new(f.name.clone(), f.text.clone(), lines),
                    span: Some(SourceSpan::new(
                        (n.span.start as usize).into(),
                        n.span.len(),
                    )),
                    notes: Vec::new(),
                    is_note: true,
                }
            })
            .collect();
        let problem = Problem {
            diag: d,
            src,
            span,
            notes,
            is_note: false,
        };
        match by_file.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(problem),
            None => by_file.push((name, vec![problem])),
        }
    }
    by_file
        .into_iter()
        .map(|(name, problems)| FileReport {
            errors: problems.iter().filter(|p| p.diag.is_error()).count(),
            warnings: problems.iter().filter(|p| !p.diag.is_error()).count(),
            name,
            problems,
        })
        .collect()
}

/// Whether the line a span starts on is longer than miette can draw.
fn too_long_line(sources: &Sources, s: crate::syntax::Span) -> bool {
    const MAX_LINE: usize = 60_000;
    let text = &sources.get(s.file).text;
    let at = (s.start as usize).min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    end - start > MAX_LINE
}

/// Renders reports as text (`color` for a terminal).
pub fn render(reports: &[FileReport], color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for r in reports {
        if handler.render_report(&mut out, r).is_err() {
            out.push_str(&r.to_string());
        }
        out.push('\n');
    }
    out
}

/// The machine-readable form: one object per diagnostic.
#[derive(Debug, Serialize)]
pub struct JsonDiag {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub span: Option<[u32; 2]>,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    /// The other places the problem involves (see [`Diag::notes`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<JsonNote>,
}

#[derive(Debug, Serialize)]
pub struct JsonNote {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub span: [u32; 2],
    pub message: String,
}

/// In source order (file, then position; a diagnostic of no place first), whatever order
/// the checks found them in, so a tool reading them walks the file top to bottom.
pub fn to_json(sources: &Sources, diags: &[Diag], default_file: &str) -> Vec<JsonDiag> {
    let mut ordered: Vec<&Diag> = diags.iter().collect();
    ordered.sort_by_key(|d| d.span.map(|s| (s.file.0, s.start)));
    // Each file's `\n`s, found once for all its problems.
    let mut newlines: HashMap<FileId, Vec<usize>> = HashMap::new();
    ordered
        .into_iter()
        .map(|d| {
            let (file, line, column, span) = match d.span {
                Some(s) if (s.file.0 as usize) < sources.files.len() => {
                    let f = sources.get(s.file);
                    let nl = newlines
                        .entry(s.file)
                        .or_insert_with(|| window::newlines(&f.text));
                    let (l, c) = window::line_col(&f.text, nl, s.start);
                    (f.name.clone(), Some(l), Some(c), Some([s.start, s.end]))
                }
                _ => (default_file.to_string(), None, None, None),
            };
            JsonDiag {
                file,
                line,
                column,
                span,
                severity: d.severity,
                code: d.code.as_str(),
                message: d.message.clone(),
                label: d.label.clone(),
                help: d.help.clone(),
                related: d
                    .notes
                    .iter()
                    .filter(|n| (n.span.file.0 as usize) < sources.files.len())
                    .map(|n| {
                        let f = sources.get(n.span.file);
                        let nl = newlines
                            .entry(n.span.file)
                            .or_insert_with(|| window::newlines(&f.text));
                        let (line, column) = window::line_col(&f.text, nl, n.span.start);
                        JsonNote {
                            file: f.name.clone(),
                            line,
                            column,
                            span: [n.span.start, n.span.end],
                            message: n.message.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{Sources, Span};
    use std::path::Path;

    #[test]
    fn json_diagnostics_come_in_source_order_whatever_order_they_were_found_in() {
        let mut sources = Sources::default();
        let f = sources.add(
            Path::new("x.map"),
            "x.map".into(),
            "a = 1\nb = 2\nc = 3\n".into(),
        );
        let at = |start: usize| Some(Span::new(f, start, start + 1));
        let found = vec![
            Diag::error(Code::UnknownField, at(12), "third line"),
            Diag::error(Code::UnknownField, at(0), "first line"),
            Diag::error(Code::UnknownParam, None, "no place"),
            Diag::error(Code::UnknownField, at(6), "second line"),
        ];
        let json = to_json(&sources, &found, "x.map");
        let order: Vec<(&str, Option<usize>)> =
            json.iter().map(|d| (d.message.as_str(), d.line)).collect();
        assert_eq!(
            order,
            [
                ("no place", None),
                ("first line", Some(1)),
                ("second line", Some(2)),
                ("third line", Some(3))
            ]
        );
    }
}
