//! Go to definition: a let or loop item, a param, a table (in this file or one it
//! `use`s), and the file a `use`, `target`, `source` or CSV table names.

use super::cursor;
use super::documents::{path_of, range};
use super::engine::{self, Analysis};
use crate::syntax::Span;
use lsp_types::{Location, Position, Range, Url};

pub fn definition(
    uri: &Url,
    text: &str,
    ix: &cursor::Index,
    offset: usize,
    a: Option<&Analysis>,
) -> Vec<Location> {
    find(uri, text, ix, offset, a).unwrap_or_default()
}

fn find(
    uri: &Url,
    text: &str,
    ix: &cursor::Index,
    offset: usize,
    a: Option<&Analysis>,
) -> Option<Vec<Location>> {
    let m = &ix.masked;
    if m.in_string(offset) {
        return named_file(uri, text, m, offset).map(|l| vec![l]);
    }
    let (ws, we) = cursor::word_at(text, offset)?;
    let word = &text[ws..we];
    // Only the root of a path is a name; `good.barcode`'s `barcode` is a field.
    if cursor::path_start(text, ws) != ws {
        return None;
    }
    let decls = super::scope::decls(text, ix, a.map(|a| &a.used));
    if let Some(d) = cursor::visible(&decls, word, ws) {
        return match (d.origin, a) {
            (None, _) => Some(vec![Location::new(
                uri.clone(),
                range(text, d.at.0, d.at.1),
            )]),
            // A let or loop item of a used file: where that file declares it.
            (Some(o), Some(a)) => {
                let span = Span::new(o.file, o.at.0, o.at.1);
                location(uri, a, span).map(|l| vec![l])
            }
            (Some(_), None) => None,
        };
    }
    let a = a?;
    if let Some(p) = a.mapping.params.iter().find(|p| p.name.name == word) {
        // Where it is declared, and where its value is set when another file sets it.
        let mut at = vec![p.name.span];
        if p.value
            .as_ref()
            .is_some_and(|v| v.span.file != p.name.span.file)
        {
            at.push(p.span);
        }
        return Some(at.into_iter().filter_map(|s| location(uri, a, s)).collect());
    }
    let span = a
        .mapping
        .tables
        .iter()
        .find(|t| t.decl.name.name == word)
        .map(|t| t.decl.name.span)?;
    location(uri, a, span).map(|l| vec![l])
}

/// The location of a span of the analysis' mapping: the buffer's own, a used file's on
/// disk, or a file of the bundled base set as written out to the cache for the editor.
fn location(uri: &Url, a: &Analysis, span: Span) -> Option<Location> {
    let (path, file_text) = engine::file_of(&a.mapping, span)?;
    let target = if span.file == a.mapping.root {
        uri.clone()
    } else if crate::repo::bundled::is_bundled(&path) {
        let rel = crate::repo::bundled::fold(&path);
        let rel = rel.strip_prefix(crate::repo::bundled::root()).ok()?;
        let dir = crate::repo::fs::bundled_on_disk(&cache_dir()).ok()?;
        Url::from_file_path(dir.join(rel)).ok()?
    } else {
        Url::from_file_path(path.canonicalize().unwrap_or(path)).ok()?
    };
    Some(Location::new(
        target,
        range(file_text, span.start as usize, span.end as usize),
    ))
}

/// Where the bundled set is written out for the editor: `$XDG_CACHE_HOME/bondmap`, else
/// `~/.cache/bondmap`, else the temporary folder's `bondmap`.
fn cache_dir() -> std::path::PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("bondmap")
}

/// The file a string of a `use`, `target`, `source` or `table … from` names.
fn named_file(uri: &Url, text: &str, m: &cursor::Masked, offset: usize) -> Option<Location> {
    let b = text.as_bytes();
    let mut s = offset.min(b.len());
    while s > 0 && m.in_string[s - 1] {
        s -= 1;
    }
    let mut e = offset.min(b.len());
    while e < b.len() && m.in_string[e] {
        e += 1;
    }
    let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
    let head = text[line_start..s.saturating_sub(1)].trim();
    let names_file = ["use", "target", "source"].contains(&head)
        || (head.starts_with("table ") && head.ends_with(" from"));
    if !names_file {
        return None;
    }
    let dir = path_of(uri)?.parent()?.to_path_buf();
    let name = &text[s..e];
    let file = if name.starts_with(crate::repo::BASE_SCHEME) {
        // A file of the base set: its folder's, or the bundled one written out.
        let (p, _) = crate::repo::resolve_base(&dir, name).ok()?;
        match p.strip_prefix(crate::repo::bundled::root()) {
            Ok(rel) => crate::repo::fs::bundled_on_disk(&cache_dir())
                .ok()?
                .join(rel),
            Err(_) => p,
        }
    } else {
        dir.join(name)
    };
    let file = file.canonicalize().ok()?;
    let zero = Range::new(Position::new(0, 0), Position::new(0, 0));
    Some(Location::new(Url::from_file_path(file).ok()?, zero))
}
