//! What is wrong with a path the RFC 9535 parser refused, in words, at the character where
//! it is wrong. The parser (serde_json_path) says where it stopped, not always why: the
//! common mistakes (a control character or an unknown escape in a quoted name, an index
//! with a leading zero, a sign or beyond 2^53, a name after `.` that starts with a digit,
//! a blank after `.`, a function given the wrong kind of argument) are found here first.

use super::simple::{is_blank, is_name_first};

/// A path that is not RFC 9535: the byte range of `text` at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.start)
    }
}

/// The error for `text`, which the parser refused at byte `at` with `said`.
pub(super) fn explain(text: &str, at: usize, said: &str) -> PathError {
    if let Some(e) = (Lint { text }).path() {
        return e;
    }
    let at = at.min(text.len());
    let found = text[at..].chars().next();
    let end = at + found.map_or(0, char::len_utf8);
    let message = function_mistake(text, at, said).unwrap_or_else(|| {
        let found = match found {
            None => "the path ends here".to_string(),
            Some(c) if is_blank(c) => "unexpected blank space".to_string(),
            Some(c) => format!("unexpected `{c}`"),
        };
        let said = said.trim_start_matches("in long-hand segment, ");
        match said {
            "parser error" => format!("{found}: this is not RFC 9535 JSONPath"),
            "expected closing ']'" => format!("{found}: expected `]` or `,`"),
            s => format!("{found}: {s}"),
        }
    });
    PathError {
        start: at,
        end,
        message,
    }
}

/// The function refused at `at`, in words.
fn function_mistake(text: &str, at: usize, said: &str) -> Option<String> {
    let name: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    let args = match name.as_str() {
        "count" | "length" | "value" => "1 argument",
        "match" | "search" => "2 arguments",
        _ => return None,
    };
    Some(if said.contains("incorrect return type") {
        match name.as_str() {
            "match" | "search" => format!("`{name}(…)` is a test, it cannot be compared"),
            _ => format!("`{name}(…)` gives a value: compare it (`{name}(…) == 1`)"),
        }
    } else if said.contains("args, but received") {
        format!("`{name}` takes {args}")
    } else if said.contains("converts to NodesType") {
        format!("`{name}` takes a query (`@…` or `$…`), not a literal")
    } else if said.contains("converts to ValueType") {
        format!(
            "`{name}` takes one value: a query there must reach at most one (names and indexes only)"
        )
    } else if said.contains("converts to LogicalType") {
        format!("`{name}` takes a test here")
    } else {
        return None;
    })
}

/// A walk over the path's text that finds the mistakes the parser words poorly.
struct Lint<'t> {
    text: &'t str,
}

type Found = Option<PathError>;

fn at(start: usize, len: usize, message: String) -> Found {
    Some(PathError {
        start,
        end: start + len,
        message,
    })
}

impl Lint<'_> {
    fn path(&self) -> Found {
        let t = self.text;
        let b = t.as_bytes();
        let mut i = 1;
        while i < b.len() {
            match b[i] {
                b' ' | b'\t' | b'\n' | b'\r' => i += 1,
                b'.' => {
                    let dots = if b.get(i + 1) == Some(&b'.') { 2 } else { 1 };
                    let j = i + dots;
                    let lead = if dots == 2 { "`..`" } else { "`.`" };
                    match t[j..].chars().next() {
                        Some('*') => i = j + 1,
                        Some('[') if dots == 2 => i = j,
                        Some(c) if is_blank(c) => {
                            return at(j, 1, format!("no blank space may follow {lead}"))
                        }
                        Some(c) if c.is_ascii_digit() => {
                            return at(
                                j,
                                1,
                                format!(
                                    "a name after {lead} cannot start with a digit: write `['{}']`",
                                    name_at(t, j)
                                ),
                            )
                        }
                        Some(c) if is_name_first(c) => i = j + name_at(t, j).len(),
                        Some(c) => {
                            return at(
                                j,
                                c.len_utf8(),
                                format!(
                                "`{c}` cannot start a name after {lead}: quote the name (`['…']`)"
                            ),
                            )
                        }
                        None => {
                            return at(i, dots, format!("{lead} must be followed by a name or `*`"))
                        }
                    }
                }
                b'[' => match self.bracket(i) {
                    Ok(next) => i = next,
                    Err(e) => return Some(e),
                },
                _ => return None,
            }
        }
        None
    }

    /// Checks the bracketed selection opening at `open`: the byte after its `]`, or the
    /// mistake in it.
    fn bracket(&self, open: usize) -> Result<usize, PathError> {
        let t = self.text;
        let mut i = open + 1;
        loop {
            i = skip_blank(t, i);
            let Some(c) = t[i..].chars().next() else {
                return Err(err(open, 1, "this `[` is never closed".into()));
            };
            match c {
                '\'' | '"' => i = self.string(i)?,
                '?' => i = self.filter(i + 1)?,
                '*' => i += 1,
                ']' | ',' => return Err(err(
                    i,
                    1,
                    "a selector must stand here: a name, an index, a slice, `*` or a filter (`?…`)"
                        .into(),
                )),
                '@' | '$' => {
                    return Err(err(
                        i,
                        1,
                        format!("a query in brackets is a filter: write `[?{c}…]`"),
                    ))
                }
                _ => i = self.slice_or_index(i)?,
            }
            i = skip_blank(t, i);
            match t[i..].chars().next() {
                Some(',') => i += 1,
                Some(']') => return Ok(i + 1),
                // The parser says what else is wrong.
                _ => return Ok(t.len()),
            }
        }
    }

    /// An index or a slice `start:end:step` at `i`: each integer as RFC 9535 writes one.
    fn slice_or_index(&self, mut i: usize) -> Result<usize, PathError> {
        let t = self.text;
        loop {
            i = skip_blank(t, i);
            let len = t[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')))
                .unwrap_or(t.len() - i);
            if len > 0 {
                if let Some(e) = integer_mistake(&t[i..i + len]) {
                    return Err(err(i, len, e));
                }
            }
            i = skip_blank(t, i + len);
            if t[i..].starts_with(':') {
                i += 1;
            } else {
                return Ok(i);
            }
        }
    }

    /// A quoted string at `i`; the byte after its closing quote.
    fn string(&self, i: usize) -> Result<usize, PathError> {
        let t = self.text;
        let q = t.as_bytes()[i] as char;
        let mut chars = t[i + 1..].char_indices().map(|(k, c)| (i + 1 + k, c));
        while let Some((k, c)) = chars.next() {
            match c {
                c if c == q => return Ok(k + 1),
                '\u{0}'..='\u{1f}' => {
                    let esc = match c {
                        '\u{8}' => "\\b".to_string(),
                        '\t' => "\\t".into(),
                        '\n' => "\\n".into(),
                        '\u{c}' => "\\f".into(),
                        '\r' => "\\r".into(),
                        c => format!("\\u{:04x}", c as u32),
                    };
                    return Err(err(
                        k,
                        1,
                        format!(
                            "a control character (U+{:04X}) in a quoted name: write it as `{esc}`",
                            c as u32
                        ),
                    ));
                }
                '\\' => {
                    let Some((e_at, e)) = chars.next() else {
                        break;
                    };
                    match e {
                        'b' | 'f' | 'n' | 'r' | 't' | '/' | '\\' => {}
                        e if e == q => {}
                        '\'' | '"' => {
                            return Err(err(
                                k,
                                2,
                                format!("`\\{e}` inside {}: only the quote that closes the name is escaped", if q == '"' { "double quotes" } else { "single quotes" }),
                            ))
                        }
                        'u' => {
                            let hex: String = t[e_at + 1..].chars().take(4).collect();
                            let code = (hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                                .then(|| u32::from_str_radix(&hex, 16).ok())
                                .flatten();
                            let Some(code) = code else {
                                return Err(err(k, 2 + hex.len(), "`\\u` must be followed by four hexadecimal digits".into()));
                            };
                            for _ in 0..4 {
                                chars.next();
                            }
                            if (0xDC00..0xE000).contains(&code) {
                                return Err(err(k, 6, format!("`\\u{hex}` is the second half of a surrogate pair, with no first half before it")));
                            }
                            if (0xD800..0xDC00).contains(&code) {
                                let next: String = t[e_at + 5..].chars().take(6).collect();
                                let low = next
                                    .strip_prefix("\\u")
                                    .filter(|h| h.len() == 4)
                                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                                if !low.is_some_and(|l| (0xDC00..0xE000).contains(&l)) {
                                    return Err(err(k, 6, format!("`\\u{hex}` is the first half of a surrogate pair: a `\\uDC00`…`\\uDFFF` must follow")));
                                }
                                for _ in 0..6 {
                                    chars.next();
                                }
                            }
                        }
                        e => {
                            return Err(err(
                                k,
                                1 + e.len_utf8(),
                                format!("`\\{e}` is no escape in JSONPath (there are \\b \\f \\n \\r \\t \\/ \\\\ \\' \\\" and \\uXXXX)"),
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        Err(err(i, 1, "this quote is never closed".into()))
    }

    /// A filter from `i` (after `?`) to its bracket's `]`: its quoted strings and the
    /// brackets of its queries; the byte of that `]` (the parser checks the rest).
    fn filter(&self, from: usize) -> Result<usize, PathError> {
        let end = self.filter_end(from)?;
        super::filter::filter_body(self.text, from, end)?;
        Ok(end)
    }

    fn filter_end(&self, mut i: usize) -> Result<usize, PathError> {
        let t = self.text;
        let mut parens = 0usize;
        while let Some(c) = t[i..].chars().next() {
            match c {
                '\'' | '"' => i = self.string(i)?,
                '[' => i = self.bracket(i)?,
                '(' => {
                    parens += 1;
                    i += 1
                }
                ')' => {
                    parens = parens.saturating_sub(1);
                    i += 1
                }
                ']' | ',' if parens == 0 => return Ok(i),
                '.' => {
                    // A name after `.` in a filter's query (`@.1`).
                    let j = i + if t[i + 1..].starts_with('.') { 2 } else { 1 };
                    match t[j..].chars().next() {
                        Some(d)
                            if d.is_ascii_digit()
                                && !t[..i].ends_with(|p: char| p.is_ascii_digit()) =>
                        {
                            return Err(err(
                                j,
                                1,
                                format!(
                                    "a name after `.` cannot start with a digit: write `['{}']`",
                                    name_at(t, j)
                                ),
                            ))
                        }
                        _ => i = j,
                    }
                }
                c => i += c.len_utf8(),
            }
        }
        Ok(i)
    }
}

pub(super) fn err(start: usize, len: usize, message: String) -> PathError {
    PathError {
        start,
        end: start + len,
        message,
    }
}

pub(super) fn skip_blank(t: &str, i: usize) -> usize {
    i + t[i..].len() - t[i..].trim_start_matches(is_blank).len()
}

pub(super) fn name_at(t: &str, i: usize) -> &str {
    let end = t[i..]
        .find(|c: char| !super::simple::is_name_char(c))
        .map_or(t.len(), |e| i + e);
    &t[i..end]
}

/// Why `s` (an index or a part of a slice) is not an RFC 9535 integer, if it is not.
fn integer_mistake(s: &str) -> Option<String> {
    const MAX: i64 = (1 << 53) - 1;
    let digits = s.strip_prefix('-').unwrap_or(s);
    if let Some(rest) = s.strip_prefix('+') {
        return Some(format!("`{s}`: an index has no `+` sign, write `{rest}`"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
        return Some(format!(
            "`{s}` is no index: an index is a whole number (`0`, `3`, `-1`)"
        ));
    }
    if s == "-0" {
        return Some("`-0` is no index: write `0`".into());
    }
    if digits.len() > 1 && digits.starts_with('0') {
        let minus = if s.starts_with('-') { "-" } else { "" };
        return Some(format!(
            "`{s}`: an index has no leading zero, write `{minus}{}`",
            digits.trim_start_matches('0')
        ));
    }
    match s.parse::<i64>() {
        Ok(n) if (-MAX..=MAX).contains(&n) => None,
        _ => Some(format!(
            "`{s}` is beyond the indexes JSONPath allows (-{MAX} to {MAX}, 2^53 − 1)"
        )),
    }
}
