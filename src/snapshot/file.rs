//! Snapshot files in insta's `.snap` format: a YAML header between `---` lines, then the body.
//!
//! What insta (1.x) writes and reads: `---`, `source: …` (what made the snapshot; here the
//! mapping), optional `expression:`, `input_file: …` (here the example order), `---`, the
//! body with trailing whitespace trimmed, one `\n`. A pending change sits beside it as
//! `NAME.snap.new`, which `cargo insta review` and `cargo insta accept` pick up.

use std::io;
use std::path::{Path, PathBuf};

/// The header fields bondmap writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The mapping that made the body.
    pub source: String,
    /// The example order it was made from.
    pub input_file: Option<String>,
}

/// The body as insta compares it: trailing whitespace trimmed, CRLF read as LF.
pub fn normalize(body: &str) -> String {
    body.trim_end().replace("\r\n", "\n")
}

/// Largest snapshot read.
const MAX_SNAPSHOT: u64 = crate::repo::fs::MAX_TEXT_BYTES;

/// The stored body of `path`, normalized; `None` when there is no such file. A symlink,
/// a FIFO or a device is refused, never read.
pub fn read(path: &Path) -> Result<Option<String>, String> {
    Ok(crate::repo::fs::read_own(path, MAX_SNAPSHOT)?.map(|t| body_of(&t)))
}

/// The body of a snapshot file's text (after the YAML header; insta's legacy format ends
/// its header at the first blank line).
pub fn body_of(text: &str) -> String {
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() == "---" {
        for l in lines.by_ref() {
            if l.trim_end() == "---" {
                break;
            }
        }
    } else {
        // Legacy: `key: value` lines up to a blank one; the first line was one of them.
        if !first.trim_end().is_empty() {
            for l in lines.by_ref() {
                if l.trim_end().is_empty() {
                    break;
                }
            }
        }
    }
    normalize(&lines.collect::<Vec<_>>().join("\n"))
}

/// The whole text of a snapshot file.
pub fn render(meta: &Meta, body: &str) -> String {
    let mut s = String::from("---\n");
    s.push_str(&format!("source: {}\n", yaml_scalar(&meta.source)));
    if let Some(i) = &meta.input_file {
        s.push_str(&format!("input_file: {}\n", yaml_scalar(i)));
    }
    s.push_str("---\n");
    s.push_str(&normalize(body));
    s.push('\n');
    s
}

/// Writes the snapshot into `path`'s folder, made as real folders below `top` (the
/// snapshots folder's parent), never through a symlink: one standing on the way or at
/// `path` is refused.
pub fn write(top: &Path, path: &Path, meta: &Meta, body: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        crate::repo::fs::own_dirs(top, dir)?;
    }
    crate::repo::fs::write_own(path, render(meta, body).as_bytes())
}

/// Where a pending (not yet accepted) snapshot goes: `NAME.snap.new`, as insta names it.
pub fn pending_path(path: &Path) -> PathBuf {
    path.with_extension("snap.new")
}

/// Removes a pending snapshot if there is one (a symlink there is removed, not followed).
pub fn remove_pending(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(pending_path(path)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// A YAML scalar: plain when it is a plain path-like word, else double-quoted.
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '@'))
        && !s.starts_with(['-', '.', '@'])
        && s.parse::<f64>().is_err()
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        );
    if plain {
        return s.to_string();
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c if c.is_control() => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        let meta = Meta {
            source: "mappings/warehouses/a b.map".into(),
            input_file: Some("examples/orders/01.json".into()),
        };
        let text = render(&meta, "{\n  \"a\": 1\n}\n\n");
        assert_eq!(
            text,
            "---\nsource: \"mappings/warehouses/a b.map\"\ninput_file: examples/orders/01.json\n---\n{\n  \"a\": 1\n}\n"
        );
        assert_eq!(body_of(&text), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn a_body_line_of_dashes_stays_in_the_body() {
        let text = "---\nsource: tests/mappings.rs\n---\nREJECTED\n---\nx\r\n";
        assert_eq!(body_of(text), "REJECTED\n---\nx");
    }

    #[test]
    fn legacy_header_ends_at_a_blank_line() {
        assert_eq!(body_of("Created: x\nSource: y\n\nbody\n"), "body");
    }
}
