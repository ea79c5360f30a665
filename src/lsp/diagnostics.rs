//! The check's problems as LSP diagnostics, grouped by the file each points into: same
//! codes and spans as `bondmap check` (ranges in UTF-16 columns), the help in the message.

use super::documents::Lines;
use super::engine::{self, Checked, Severity};
use crate::syntax::FileId;
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Position, Range, Url,
};
use std::collections::{HashMap, HashSet};

/// Every problem of one check, by file. The checked file itself is always present (an
/// empty list clears what was shown before).
pub fn by_file(doc: &Url, checked: &Checked) -> HashMap<Url, Vec<Diagnostic>> {
    let mut out: HashMap<Url, Vec<Diagnostic>> = HashMap::new();
    out.insert(doc.clone(), Vec::new());
    // A problem reached twice (through two `use`s) shows once, as in `check`.
    let mut seen = HashSet::new();
    // Each file's line starts, found once for all its problems.
    let mut lines: HashMap<FileId, Lines> = HashMap::new();
    let mut uris: HashMap<FileId, Option<Url>> = HashMap::new();
    for d in &checked.diags {
        if !seen.insert((
            d.span.map(|s| (s.file, s.start, s.end)),
            d.code,
            d.message.clone(),
        )) {
            continue;
        }
        let located = d.span.and_then(|s| {
            let (path, text) = engine::file_of(&checked.mapping, s)?;
            let uri = if s.file == checked.mapping.root {
                doc.clone()
            } else {
                uris.entry(s.file)
                    .or_insert_with(|| {
                        let path = path.canonicalize().unwrap_or(path);
                        Url::from_file_path(&path).ok()
                    })
                    .clone()?
            };
            let lines = lines.entry(s.file).or_insert_with(|| Lines::new(text));
            Some((uri, lines.range(s.start as usize, s.end as usize)))
        });
        let (uri, at) = located.unwrap_or_else(|| {
            (
                doc.clone(),
                Range::new(Position::new(0, 0), Position::new(0, 0)),
            )
        });
        let mut message = d.message.clone();
        if !d.label.is_empty() {
            message.push_str(&format!(" ({})", d.label));
        }
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        // The used file's line of a problem the using file caused.
        let related: Vec<DiagnosticRelatedInformation> = d
            .notes
            .iter()
            .filter_map(|n| {
                let (path, text) = engine::file_of(&checked.mapping, n.span)?;
                let uri = if n.span.file == checked.mapping.root {
                    doc.clone()
                } else {
                    Url::from_file_path(path.canonicalize().unwrap_or(path)).ok()?
                };
                let lines = lines.entry(n.span.file).or_insert_with(|| Lines::new(text));
                Some(DiagnosticRelatedInformation {
                    location: Location::new(
                        uri,
                        lines.range(n.span.start as usize, n.span.end as usize),
                    ),
                    message: n.message.clone(),
                })
            })
            .collect();
        out.entry(uri).or_default().push(Diagnostic {
            range: at,
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(engine::code_of(d).to_string())),
            source: Some("bondmap".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..Diagnostic::default()
        });
    }
    out
}
