//! Every call the language server makes into bondmap's library, in one place: checking a
//! buffer as `bondmap check` would, parsing, formatting, and reading the two contracts.

use crate::compile::{compile, Options};
use crate::diag::Diag;
use crate::load::{self, Mapping};
use crate::syntax::ast;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use crate::diag::Severity;
pub use crate::syntax::Span;

/// What one check of a buffer found: the merged mapping (its sources hold the text of
/// every file the problems point into) and the problems.
pub struct Checked {
    pub mapping: Mapping,
    pub diags: Vec<Diag>,
}

/// A buffer that parses, with what hover, completion and definition read.
pub struct Analysis {
    /// The buffer's own syntax tree (spans in `mapping.root`).
    pub file: ast::File,
    pub mapping: Mapping,
    /// The target and source JSON Schemas as JSON (annotations such as `maxLength` too).
    pub target: Option<Value>,
    pub source: Option<Value>,
    /// The lets and loop items the used files bring into the buffer.
    pub used: super::scope::Used,
}

/// Checks the unsaved `text` of the mapping at `path` exactly as `bondmap check` checks
/// that file (the files it `use`s are read from disk, params may stay unset: a base
/// mapping leaves them to the files that use it), and makes the analysis hover,
/// completion and definition read (`None` while the text does not parse), of one load.
///
/// `live` is asked between the steps: once it says no (a newer edit came), the check
/// stops there and gives `None`.
pub fn check_and_analyse(
    path: &Path,
    text: &str,
    live: &dyn Fn() -> bool,
) -> Option<(Checked, Option<Analysis>)> {
    let (dir, name) = split(path);
    // Only a text with the word can hold a `route` (and is parsed for it here).
    if text.contains("route") {
        if let Ok(file) = crate::syntax::parse(text, crate::syntax::FileId(0)) {
            if file.items.iter().any(|i| matches!(i, ast::Item::Route(_))) {
                let checked = check_routes(path, text, &file);
                return Some((checked, analyse(path, text)));
            }
        }
    }
    let (mapping, mut diags, tree) = load::load_str_with_tree(&name, text, &dir, true);
    if !live() {
        return None;
    }
    if !diags.iter().any(Diag::is_error) {
        let opts = Options {
            allow_unset_params: true,
            ..Options::default()
        };
        diags.extend(compile(&mapping, &opts).1);
    }
    if !live() {
        return None;
    }
    let analysis = tree.map(|file| Analysis::of(file, mapping.clone()));
    Some((Checked { mapping, diags }, analysis))
}

/// A routes file: the check of `bondmap check` when the buffer is what is on disk (it
/// checks every mapping a route names); else the statements a routes file may not hold.
fn check_routes(path: &Path, text: &str, file: &ast::File) -> Checked {
    // Read as a mapping repo's files are: a regular file of bounded size (a FIFO named
    // like a mapping would hang the check).
    let on_disk = crate::repo::fs::read_regular_text(path, crate::repo::fs::MAX_TEXT_BYTES)
        .is_ok_and(|t| t == text);
    if on_disk && crate::route::is_routes_file(path) {
        let (mapping, diags) = crate::route::check(path, None);
        return Checked { mapping, diags };
    }
    let (dir, name) = split(path);
    let mut mapping = Mapping::default();
    mapping
        .sources
        .add(&dir.join(&name), name, std::sync::Arc::from(text));
    Checked {
        mapping,
        diags: load::routes_file_mistakes(file),
    }
}

/// The folder (made absolute, so `use` cycles are found) and the file name.
fn split(path: &Path) -> (PathBuf, String) {
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name = path.file_name().map_or_else(
        || "untitled.map".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    (dir, name)
}

/// The analysis of a buffer; `None` when it does not parse (the caller keeps the last one).
pub fn analyse(path: &Path, text: &str) -> Option<Analysis> {
    let (dir, name) = split(path);
    let (mapping, _, tree) = load::load_str_with_tree(&name, text, &dir, true);
    Some(Analysis::of(tree?, mapping))
}

impl Analysis {
    /// The analysis of a buffer's tree and its merged mapping: the two contracts read.
    fn of(file: ast::File, mapping: Mapping) -> Analysis {
        let read = |p: &Option<(PathBuf, Span)>| {
            let (p, _) = p.as_ref()?;
            let text = mapping
                .within
                .read_text(p, crate::repo::fs::MAX_TEXT_BYTES)
                .ok()?;
            serde_json::from_str::<Value>(&text).ok()
        };
        let target = read(&mapping.target);
        let source = read(&mapping.source);
        let used = super::scope::Used::of(&mapping);
        Analysis {
            file,
            mapping,
            target,
            source,
            used,
        }
    }

    /// The text the analysis was made of.
    pub fn text(&self) -> &str {
        &self.mapping.sources.get(self.mapping.root).text
    }
}

/// The text of a parse, for document symbols of a buffer that parses.
pub fn parse(text: &str) -> Option<ast::File> {
    crate::syntax::parse(text, crate::syntax::FileId(0)).ok()
}

/// `bondmap fmt`'s layout of the text; `None` when it does not parse.
pub fn format(text: &str) -> Option<String> {
    crate::syntax::print::format(text).ok()
}

/// The file a span points into and that file's text.
pub fn file_of(m: &Mapping, span: Span) -> Option<(PathBuf, &str)> {
    let f = m.sources.files.get(span.file.0 as usize)?;
    Some((f.path.clone(), &f.text))
}

pub fn code_of(d: &Diag) -> &'static str {
    d.code.as_str()
}

/// Unit names and rounding modes the language knows.
pub const UNITS: &[&str] = &["yuan", "jiao", "fen", "kg", "g"];
pub const ROUNDINGS: &[&str] = &["half_up", "half_even", "down"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_modes_are_the_engines() {
        for u in UNITS {
            assert!(crate::money::Unit::parse(u).is_some(), "{u}");
        }
        for r in ROUNDINGS {
            assert!(crate::money::Rounding::parse(r).is_some(), "{r}");
        }
    }
}
