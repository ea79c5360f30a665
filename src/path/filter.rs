//! The mistakes of a filter (`[?…]`) that the parser words poorly, found on its tokens: a
//! number RFC 9535 does not write, `True` for `true`, a comparison of a query that may reach
//! several values or with nothing on one side, a literal alone, a function's arity.

use super::error::{err, name_at, skip_blank, PathError};
use super::simple::is_blank;

/// One token of a filter, for [`filter_body`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    /// A query (`@…`, `$…`), and whether it reaches at most one value.
    Query(bool),
    Num,
    Str,
    /// `true`, `false`, `null`.
    Literal,
    /// Any other word: a function's name when `(` follows.
    Word,
    Compare,
    Other,
}

/// The mistakes of a filter's body `t[from..to]` the parser words poorly: a number RFC
/// 9535 does not write, `True` for `true`, a comparison of a query that may reach several
/// values, a literal standing alone as the test.
pub(super) fn filter_body(t: &str, from: usize, to: usize) -> Result<(), PathError> {
    let toks = filter_tokens(t, from, to);
    let compared = |k: usize| {
        (k > 0 && toks[k - 1].0 == Tok::Compare)
            || toks.get(k + 1).is_some_and(|n| n.0 == Tok::Compare)
    };
    // A function's argument (`match(@.a, 'x')`, `count(1)`, which the function's own
    // message explains) is no test of its own.
    let argument = |k: usize| {
        k > 0 && {
            let p = &t[toks[k - 1].1..toks[k - 1].2];
            p == "," || (p == "(" && k > 1 && toks[k - 2].0 == Tok::Word)
        }
    };
    for (k, &(tok, s, e)) in toks.iter().enumerate() {
        let text = &t[s..e];
        if tok == Tok::Num {
            if let Some(m) = number_mistake(text) {
                return Err(err(s, e - s, m));
            }
        }
        let operand = |x: Option<&(Tok, usize, usize)>| {
            x.is_some_and(|o| !matches!(o.0, Tok::Compare | Tok::Other) || &t[o.1..o.2] == ")")
        };
        if tok == Tok::Compare {
            let (before, after) = (k.checked_sub(1).and_then(|p| toks.get(p)), toks.get(k + 1));
            let after_ok = after.is_some_and(|o| !matches!(o.0, Tok::Compare | Tok::Other));
            if !after_ok || !operand(before) {
                let side = if after_ok { "left" } else { "right" };
                return Err(err(
                    s,
                    e - s,
                    format!("`{text}` has nothing on its {side}: a comparison takes a value or a query on each side"),
                ));
            }
        }
        if tok == Tok::Word && toks.get(k + 1).is_some_and(|n| &t[n.1..n.2] == "(") {
            let open = toks[k + 1].1;
            if open > e {
                return Err(err(
                    e,
                    open - e,
                    format!("no blank space may stand between `{text}` and its `(`"),
                ));
            }
            let close = (k + 1..toks.len()).try_fold(0i32, |depth, j| {
                let d = match &t[toks[j].1..toks[j].2] {
                    "(" => depth + 1,
                    ")" => depth - 1,
                    _ => depth,
                };
                if d == 0 {
                    Err(j)
                } else {
                    Ok(d)
                }
            });
            if let Err(close) = close {
                let args = match text {
                    "count" | "length" | "value" => "1 argument",
                    "match" | "search" => "2 arguments",
                    _ => "",
                };
                if close == k + 2 && !args.is_empty() {
                    return Err(err(s, toks[close].2 - s, format!("`{text}` takes {args}")));
                }
                let compared = toks.get(close + 1).is_some_and(|n| n.0 == Tok::Compare)
                    || (k > 0 && toks[k - 1].0 == Tok::Compare);
                if compared && matches!(text, "match" | "search") {
                    return Err(err(
                        s,
                        e - s,
                        format!("`{text}(…)` is a test, it cannot be compared"),
                    ));
                }
            }
        }
        match tok {
            Tok::Word if !toks.get(k + 1).is_some_and(|n| t[n.1..].starts_with('(')) => {
                let lower = text.to_ascii_lowercase();
                if matches!(lower.as_str(), "true" | "false" | "null") {
                    return Err(err(
                        s,
                        e - s,
                        format!("`{text}` is no literal: JSONPath writes `{lower}`"),
                    ));
                }
            }
            Tok::Query(false) if compared(k) => {
                return Err(err(
                    s,
                    e - s,
                    format!("`{text}` may reach several values: a comparison takes one on each side (a query of names and indexes only)"),
                ))
            }
            Tok::Num | Tok::Str | Tok::Literal if !compared(k) && !argument(k) => {
                return Err(err(
                    s,
                    e - s,
                    format!("a literal alone is no test: compare it (`@.a == {text}`) or test a query (`@.a`)"),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The tokens of `t[from..to]`: (kind, start, end).
fn filter_tokens(t: &str, from: usize, to: usize) -> Vec<(Tok, usize, usize)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        let c = b[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'@' | b'$' => {
                let (end, single) = query_end(t, i + 1, to);
                i = end;
                Tok::Query(single)
            }
            b'\'' | b'"' => {
                i = string_end(t, i).min(to);
                Tok::Str
            }
            b'=' | b'!' | b'<' | b'>' if matches!(b.get(i + 1), Some(b'=')) => {
                i += 2;
                Tok::Compare
            }
            b'<' | b'>' => {
                i += 1;
                Tok::Compare
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                i += 1;
                while i < to
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'.'
                        || ((b[i] == b'-' || b[i] == b'+') && matches!(b[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                Tok::Num
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < to && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if matches!(&t[start..i], "true" | "false" | "null") {
                    Tok::Literal
                } else {
                    Tok::Word
                }
            }
            _ => {
                i += t[i..].chars().next().map_or(1, char::len_utf8);
                Tok::Other
            }
        };
        out.push((tok, start, i));
    }
    out
}

/// The end of a query's segments from `i`, and whether it is singular.
fn query_end(t: &str, mut i: usize, to: usize) -> (usize, bool) {
    let b = t.as_bytes();
    let mut single = true;
    loop {
        let j = skip_blank(t, i).min(to);
        match b.get(j) {
            Some(b'.') if j < to => {
                let (k, star) = if b.get(j + 1) == Some(&b'.') {
                    single = false;
                    (j + 2, false)
                } else {
                    (j + 1, b.get(j + 1) == Some(&b'*'))
                };
                if star {
                    single = false;
                    i = k + 1;
                } else if b.get(k) == Some(&b'[') {
                    i = k;
                } else {
                    let n = name_at(t, k).len();
                    if b.get(k) == Some(&b'*') {
                        single = false;
                        i = k + 1;
                    } else if n == 0 {
                        return (j, single);
                    } else {
                        i = k + n;
                    }
                }
            }
            Some(b'[') if j < to => {
                let Some(close) = bracket_close(t, j) else {
                    return (to, false);
                };
                let inner = t[j + 1..close].trim_matches(is_blank);
                let one_name = super::quoted_name(inner).is_some();
                let one_index = !inner.is_empty()
                    && inner
                        .strip_prefix('-')
                        .unwrap_or(inner)
                        .bytes()
                        .all(|d| d.is_ascii_digit());
                single &= one_name || one_index;
                i = close + 1;
            }
            _ => return (i, single),
        }
    }
}

/// The `]` closing the bracket at `open`, skipping quoted text and inner brackets.
fn bracket_close(t: &str, open: usize) -> Option<usize> {
    let b = t.as_bytes();
    let (mut depth, mut j) = (0usize, open);
    while j < b.len() {
        match b[j] {
            b'\'' | b'"' => {
                j = string_end(t, j);
                continue;
            }
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The byte after the quoted string at `i` (or the end of the text).
fn string_end(t: &str, i: usize) -> usize {
    let b = t.as_bytes();
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// Why `s` is not an RFC 9535 number, if it is not (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)?`).
fn number_mistake(s: &str) -> Option<String> {
    if let Some(rest) = s.strip_prefix('+') {
        return Some(format!("`{s}`: a number has no `+` sign, write `{rest}`"));
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(k) => (&body[..k], Some(&body[k + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|d| d.is_ascii_digit());
    Some(if !digits(int) {
        if int.is_empty() && frac.is_some() {
            format!(
                "`{s}`: a number starts with a digit, write `{}0{}`",
                if s.starts_with('-') { "-" } else { "" },
                body
            )
        } else {
            format!("`{s}` is no number")
        }
    } else if int.len() > 1 && int.starts_with('0') {
        format!("`{s}`: a number has no leading zero")
    } else if frac.is_some_and(|f| !digits(f)) {
        format!("`{s}`: digits must follow the `.` of a number")
    } else if exp.is_some_and(|e| !digits(e.strip_prefix(['-', '+']).unwrap_or(e))) {
        format!("`{s}`: digits must follow the exponent of a number")
    } else {
        return None;
    })
}
