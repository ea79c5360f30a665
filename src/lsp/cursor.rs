//! What is at the cursor, read from the text itself (not the syntax tree), so that hover
//! and completion keep working while the text being typed does not parse: the words and
//! paths around an offset, the blocks it is in, the lets and loop items in scope.

use crate::syntax::keywords;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The text with every string's content and every comment blanked (byte offsets kept),
/// and for each byte whether it is inside a string literal.
pub struct Masked {
    pub code: Vec<u8>,
    pub in_string: Vec<bool>,
}

pub fn mask(text: &str) -> Masked {
    let b = text.as_bytes();
    let mut code = b.to_vec();
    let mut in_string = vec![false; b.len()];
    let mut i = 0;
    let mut brackets = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                let q = b[i];
                let mut j = i + 1;
                while j < b.len() && b[j] != q && b[j] != b'\n' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                let end = j.min(b.len());
                for k in i + 1..end {
                    code[k] = b' ';
                    in_string[k] = true;
                }
                i = end + 1;
            }
            // `#` starts a comment, except inside a path's brackets.
            b'#' if brackets == 0 => {
                while i < b.len() && b[i] != b'\n' {
                    code[i] = b' ';
                    i += 1;
                }
            }
            b'[' => {
                brackets += 1;
                i += 1;
            }
            b']' => {
                brackets = brackets.saturating_sub(1);
                i += 1;
            }
            b'\n' => {
                brackets = 0;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Masked { code, in_string }
}

impl Masked {
    pub fn in_string(&self, offset: usize) -> bool {
        // The cursor right after the opening quote is inside too.
        offset < self.in_string.len() && self.in_string[offset]
            || offset > 0
                && offset <= self.in_string.len()
                && self.in_string[offset - 1]
                && self.code.get(offset) != Some(&b'"')
    }
    /// Whether only blanks (or a `{`) stand between the line's start and `offset`.
    pub fn statement_start(&self, offset: usize) -> bool {
        let mut i = offset.min(self.code.len());
        while i > 0 {
            match self.code[i - 1] {
                b' ' | b'\t' | b'\r' => i -= 1,
                b'\n' | b'{' => return true,
                _ => return false,
            }
        }
        true
    }
    /// The first byte after `offset` that is not a blank.
    pub fn next_char(&self, offset: usize) -> Option<u8> {
        self.code[offset.min(self.code.len())..]
            .iter()
            .copied()
            .find(|c| !matches!(c, b' ' | b'\t' | b'\r'))
    }
}

/// The identifier (or `$`) the offset is in or right after: (start, end).
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let offset = offset.min(b.len());
    let mut s = offset;
    while s > 0 && is_ident(b[s - 1]) {
        s -= 1;
    }
    let mut e = offset;
    while e < b.len() && is_ident(b[e]) {
        e += 1;
    }
    if s == e {
        return (s > 0 && b[s - 1] == b'$').then(|| (s - 1, s));
    }
    Some((s, e))
}

/// Where the path that ends at `offset` starts: back over names, `.`, `$`, `*` and whole
/// `[…]` brackets.
pub fn path_start(text: &str, offset: usize) -> usize {
    let b = text.as_bytes();
    let mut i = offset.min(b.len());
    while i > 0 {
        let c = b[i - 1];
        if is_ident(c) || c == b'.' || c == b'$' || c == b'*' {
            i -= 1;
        } else if c == b']' {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                if j == 0 {
                    return i;
                }
                j -= 1;
                match b[j] {
                    b']' => depth += 1,
                    b'[' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b'\n' => return i,
                    _ => {}
                }
            }
            i = j;
        } else {
            break;
        }
    }
    i
}

/// The path that starts at `offset` (a let's value): a name or `$`, then its segments.
pub fn path_from(text: &str, offset: usize) -> &str {
    let b = text.as_bytes();
    let mut i = offset;
    while i < b.len() {
        let c = b[i];
        if is_ident(c) || c == b'.' || c == b'$' || c == b'*' {
            i += 1;
        } else if c == b'[' {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'[' => depth += 1,
                    b']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b'\n' => return &text[offset..i],
                    _ => {}
                }
                i += 1;
            }
            i += 1;
        } else {
            break;
        }
    }
    &text[offset..i.min(b.len())]
}

/// One segment of a path after its root.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    /// `[0]`: one element.
    Index,
    /// `[*]`, `.*`, a filter or a slice: every element.
    Each,
}

/// The root (`$` or a name) and the segments of a path; `None` for what bondmap's
/// checker does not follow either (`..`).
pub fn segments(path: &str) -> Option<(&str, Vec<Seg>)> {
    let root_end = path.find(['.', '[']).unwrap_or(path.len());
    let (root, mut rest) = path.split_at(root_end);
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            if r.starts_with('.') {
                return None;
            }
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            out.push(if name == "*" {
                Seg::Each
            } else {
                Seg::Key(name.to_string())
            });
            rest = &r[end..];
        } else if rest.starts_with('[') {
            let end = rest.find(']')?;
            let inner = rest[1..end].trim();
            let seg = if inner.parse::<i64>().is_ok() {
                Seg::Index
            } else if inner.len() >= 2 && (inner.starts_with('\'') || inner.starts_with('"')) {
                Seg::Key(inner[1..inner.len() - 1].to_string())
            } else {
                Seg::Each
            };
            // A filter may hold `]` in quotes: skip to the bracket that closes it.
            let close = close_of(rest)?;
            out.push(seg);
            rest = &rest[close + 1..];
        } else {
            return None;
        }
    }
    Some((root, out))
}

fn close_of(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A block the offset is in.
#[derive(Debug, Clone)]
pub struct Frame {
    pub kind: FrameKind,
    /// Byte offset of its `{`.
    pub open: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FrameKind {
    /// `a.b { … }` or `a = for … { … }`: the target fields under `a.b`.
    Field(Vec<String>),
    /// `settings { }`, a table, anything that is no target block.
    Other,
}

/// The blocks around `offset`, outermost first.
pub fn frames(m: &Masked, offset: usize) -> Vec<Frame> {
    let mut stack = Vec::new();
    for (i, &c) in m.code.iter().enumerate().take(offset.min(m.code.len())) {
        match c {
            b'{' => stack.push(Frame {
                kind: header_kind(m, i),
                open: i,
            }),
            b'}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack
}

fn line_start(code: &[u8], at: usize) -> usize {
    code[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1)
}

/// The line before a `{` (strings blanked: a block's header has none).
fn header(m: &Masked, brace: usize) -> String {
    let s = line_start(&m.code, brace);
    String::from_utf8_lossy(&m.code[s..brace])
        .trim()
        .to_string()
}

fn header_kind(m: &Masked, brace: usize) -> FrameKind {
    let h = header(m, brace);
    let lhs = match h.split_once('=') {
        Some((l, r)) if r.trim_start().starts_with("for ") => l.trim(),
        Some(_) => return FrameKind::Other,
        None => h.as_str(),
    };
    let names: Vec<String> = lhs.split('.').map(|s| s.trim().to_string()).collect();
    let valid = names.iter().all(|n| {
        !n.is_empty()
            && n.bytes().all(is_ident)
            && !n.as_bytes()[0].is_ascii_digit()
            && !keywords::is_reserved(n)
    });
    if valid {
        FrameKind::Field(names)
    } else {
        FrameKind::Other
    }
}

/// The target path of the blocks around the offset; `None` when one of them is no
/// target block.
pub fn target_path(frames: &[Frame]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for f in frames {
        match &f.kind {
            FrameKind::Field(p) => out.extend(p.iter().cloned()),
            FrameKind::Other => return None,
        }
    }
    Some(out)
}

/// The names assigned directly in the block opened at `open` (`None`: the top level).
pub fn assigned(text: &str, m: &Masked, open: Option<usize>) -> Vec<String> {
    let start = open.map_or(0, |o| o + 1);
    let mut depth = 0usize;
    let mut out = Vec::new();
    let mut at_line_start = true;
    let mut i = start;
    while i < m.code.len() {
        let c = m.code[i];
        match c {
            b'{' => depth += 1,
            b'}' if depth == 0 => break,
            b'}' => depth -= 1,
            b'\n' => at_line_start = true,
            c if is_ident(c) && at_line_start && depth == 0 => {
                let (s, e) = word_at(text, i).unwrap_or((i, i + 1));
                let name = &text[s..e.max(s)];
                if !keywords::is_keyword(name, m.next_char(e)) {
                    out.push(name.to_string());
                }
                at_line_start = false;
                i = e.max(i + 1);
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            _ => at_line_start = false,
        }
        i += 1;
    }
    out
}

/// A `let` or a loop item.
#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    /// Byte range of the name where it is declared.
    pub at: (usize, usize),
    /// The expression it stands for (a loop item: the list it walks).
    pub value: String,
    pub is_item: bool,
    /// Where the name can be read.
    pub scope: (usize, usize),
    /// Where a name a used file brings in is declared (`at` is then a place of this text
    /// in its scope, for reading the value there).
    pub origin: Option<Origin>,
}

/// The file and byte range a decl of a used file is declared at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: crate::syntax::FileId,
    pub at: (usize, usize),
}

/// What the questions about a text's cursor read, made once per text (a hover, a
/// completion and a definition each masking and walking a buffer of megabytes again took
/// longer than an editor waits): the masked text and its lets and loop items.
pub struct Index {
    pub masked: Masked,
    pub decls: Vec<Decl>,
    /// The names assigned in each block asked about (by its `{`; `None`: the top level).
    assigned: Mutex<HashMap<Option<usize>, Arc<HashSet<String>>>>,
    /// The target blocks of the text (made when first asked: see [`Index::blocks`]).
    blocks: std::sync::OnceLock<Vec<(Vec<String>, usize, usize)>>,
}

impl Index {
    pub fn new(text: &str) -> Index {
        let masked = mask(text);
        let decls = decls(text, &masked);
        Index {
            masked,
            decls,
            assigned: Mutex::default(),
            blocks: std::sync::OnceLock::new(),
        }
    }

    /// Every target block of the text: its target path and its `{` and `}` (a block
    /// inside a block that is no target block is left out).
    pub fn blocks(&self) -> &[(Vec<String>, usize, usize)] {
        self.blocks.get_or_init(|| {
            let m = &self.masked;
            let mut stack: Vec<(FrameKind, usize)> = Vec::new();
            let mut out = Vec::new();
            for (i, &c) in m.code.iter().enumerate() {
                match c {
                    b'{' => stack.push((header_kind(m, i), i)),
                    b'}' => {
                        let path: Option<Vec<String>> = stack
                            .iter()
                            .map(|(k, _)| match k {
                                FrameKind::Field(p) => Some(p.clone()),
                                FrameKind::Other => None,
                            })
                            .collect::<Option<Vec<_>>>()
                            .map(|ps| ps.concat());
                        if let (Some(path), Some((_, open))) = (path, stack.pop()) {
                            out.push((path, open, i));
                        }
                    }
                    _ => {}
                }
            }
            out
        })
    }

    /// [`assigned`] of the block opened at `open`, found once per text.
    pub fn assigned(&self, text: &str, open: Option<usize>) -> Arc<HashSet<String>> {
        let mut cache = self.assigned.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .entry(open)
            .or_insert_with(|| Arc::new(assigned(text, &self.masked, open).into_iter().collect()))
            .clone()
    }
}

/// Every let and loop item of the text.
pub fn decls(text: &str, m: &Masked) -> Vec<Decl> {
    let mut out: Vec<Decl> = Vec::new();
    // Open blocks, with the decls made in each.
    let mut stack: Vec<Vec<usize>> = vec![Vec::new()];
    let mut line = 0usize;
    for (i, &c) in m.code.iter().enumerate() {
        if i == line {
            if let Some(d) = let_at(text, m, i) {
                if let Some(top) = stack.last_mut() {
                    top.push(out.len());
                }
                out.push(d);
            }
        }
        match c {
            b'\n' => line = i + 1,
            b'{' => {
                let mut mine = Vec::new();
                let s = line_start(&m.code, i);
                for d in items_of(text, m, s, i) {
                    mine.push(out.len());
                    out.push(d);
                }
                stack.push(mine);
            }
            b'}' if stack.len() > 1 => {
                for k in stack.pop().unwrap_or_default() {
                    out[k].scope.1 = i;
                }
            }
            _ => {}
        }
    }
    out
}

fn let_at(text: &str, m: &Masked, line: usize) -> Option<Decl> {
    // Most lines are no `let`: told from their first bytes.
    let first = m.code[line..]
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t'))
        .map_or(m.code.len(), |p| line + p);
    if !m.code[first..].starts_with(b"let ") {
        return None;
    }
    let end = m.code[line..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(m.code.len(), |p| line + p);
    let code = std::str::from_utf8(&m.code[line..end]).ok()?;
    let indent = code.len() - code.trim_start().len();
    let rest = code.trim_start().strip_prefix("let ")?;
    let name_off = line + indent + 4 + (rest.len() - rest.trim_start().len());
    let (s, e) = word_at(text, name_off)?;
    let after = text[e..end].trim_start().strip_prefix('=')?;
    let value_start = end - after.len();
    Some(Decl {
        name: text[s..e].to_string(),
        at: (s, e),
        value: text[value_start..end].trim().to_string(),
        is_item: false,
        scope: (s, text.len()),
        origin: None,
    })
}

/// The loop items of a `x = for a in P, b in Q {` header between `start` and the brace.
fn items_of(text: &str, m: &Masked, start: usize, brace: usize) -> Vec<Decl> {
    let code = String::from_utf8_lossy(&m.code[start..brace]).to_string();
    let Some(eq) = code.find('=') else {
        return Vec::new();
    };
    let Some(for_at) = code[eq + 1..].find("for ").map(|p| eq + 1 + p) else {
        return Vec::new();
    };
    if !code[eq + 1..for_at].trim().is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = start + for_at + 4;
    while i < brace {
        while i < brace && text.as_bytes()[i] == b' ' {
            i += 1;
        }
        let Some((s, e)) = word_at(text, i) else {
            break;
        };
        let after = &text[e..brace];
        let Some(rest) = after.trim_start().strip_prefix("in ") else {
            break;
        };
        let vs = brace - rest.trim_start().len();
        let value = path_from(text, vs);
        out.push(Decl {
            name: text[s..e].to_string(),
            at: (s, e),
            value: value.to_string(),
            is_item: true,
            scope: (start, text.len()),
            origin: None,
        });
        i = vs + value.len();
        while i < brace && matches!(text.as_bytes()[i], b' ' | b',') {
            i += 1;
        }
    }
    out
}

/// The decl of `name` that reads at `offset`: the innermost one in scope.
pub fn visible<'a>(decls: &'a [Decl], name: &str, offset: usize) -> Option<&'a Decl> {
    decls
        .iter()
        .filter(|d| d.name == name && d.scope.0 <= offset && offset <= d.scope.1)
        .max_by_key(|d| d.scope.0)
}

/// The function whose call's parentheses hold the offset.
pub fn call_at(text: &str, m: &Masked, offset: usize) -> Option<String> {
    let mut depth = 0usize;
    let mut i = offset.min(m.code.len());
    while i > 0 {
        i -= 1;
        match m.code[i] {
            b')' => depth += 1,
            b'(' if depth == 0 => {
                let (s, e) = word_at(text, i)?;
                return (e == i).then(|| text[s..e].to_string());
            }
            b'(' => depth -= 1,
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_called_drop_is_assigned_a_drop_statement_is_not() {
        let text = "drop = 1\ndrop require x\nroute.a = 2\nlet y = 1\n";
        let m = mask(text);
        assert_eq!(assigned(text, &m, None), ["drop", "route"]);
    }

    const TEXT: &str = "let a = $.x # c {\nitems = for s in $.list[*], g in s.goods[?(@.t == 'a')] {\n  let q = g.n\n  inner {\n    \n  }\n}\n";

    #[test]
    fn frames_lets_and_loop_items() {
        let m = mask(TEXT);
        let at = TEXT.find("    \n").unwrap() + 4;
        let f = frames(&m, at);
        assert_eq!(
            target_path(&f),
            Some(vec!["items".to_string(), "inner".to_string()])
        );
        let d = decls(TEXT, &m);
        let names: Vec<&str> = d.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "s", "g", "q"]);
        assert_eq!(d[2].value, "s.goods[?(@.t == 'a')]");
        assert!(visible(&d, "q", at).is_some());
        assert!(
            visible(&d, "q", TEXT.len()).is_none(),
            "q's block has closed"
        );
    }

    #[test]
    fn paths_split_into_segments() {
        let (root, segs) = segments("$.a[0].b[?(@.t == ']')].c[*]").unwrap();
        assert_eq!(root, "$");
        assert_eq!(
            segs,
            [
                Seg::Key("a".into()),
                Seg::Index,
                Seg::Key("b".into()),
                Seg::Each,
                Seg::Key("c".into()),
                Seg::Each
            ]
        );
        let t = "x = sku.list[0].name ";
        assert_eq!(path_start(t, t.len() - 1), 4);
    }
}
