//! The simple subset of paths, read from their text: `$`, then names (`.name`,
//! `['name']`), indexes (`[3]`, `[-1]`), wildcards (`.*`, `[*]`) and the common filter
//! `[?(@.key == 'text')]`, with blanks between segments and inside brackets as RFC 9535
//! allows. These become direct lookups; anything else gives `None` and goes to the RFC 9535
//! engine. The text is one the engine accepted (or a tail of one), so this reads only
//! well-formed paths: where it would read a path differently from the RFC it says `None`.

use super::Seg;

/// The segments of a path from `$` (`$.a.b`, `$[0]`, `$ ['a']`).
pub fn simple_segments(text: &str) -> Option<Vec<Seg>> {
    tail_segments(text.strip_prefix('$')?)
}

/// The same for a tail such as `.barcode` or `[0].name`.
pub fn tail_segments(mut rest: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    loop {
        rest = rest.trim_start_matches(is_blank);
        if rest.is_empty() {
            return Some(segs);
        }
        if let Some(r) = rest.strip_prefix('.') {
            if let Some(r2) = r.strip_prefix('*') {
                segs.push(Seg::Wildcard);
                rest = r2;
                continue;
            }
            let end = r.find(|c: char| !is_name_char(c)).unwrap_or(r.len());
            let name = &r[..end];
            if !name.chars().next().is_some_and(is_name_first) {
                return None;
            }
            segs.push(Seg::Key(name.into()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = bracket_end(r)?;
            let inner = r[..end].trim_matches(is_blank);
            rest = &r[end + 1..];
            if inner == "*" {
                segs.push(Seg::Wildcard);
            } else if let Some(f) = key_is(inner) {
                segs.push(f);
            } else if let Some(i) = index(inner) {
                segs.push(Seg::Index(i));
            } else {
                let (name, after) = quoted(inner)?;
                if !after.is_empty() {
                    return None;
                }
                segs.push(Seg::Key(name.into()));
            }
        } else {
            return None;
        }
    }
}

/// RFC 9535's blank space (`B`): space, tab, line feed, carriage return.
pub(super) fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// A first character of a name after `.` (`name-first`).
pub(super) fn is_name_first(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (c as u32) >= 0x80
}

pub(super) fn is_name_char(c: char) -> bool {
    is_name_first(c) || c.is_ascii_digit()
}

/// An index as RFC 9535 writes one: `0`, `7`, `-1`, no leading zero, no `-0`.
fn index(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    canonical.then(|| s.parse().ok()).flatten()
}

/// The closing `]` of a bracket, skipping quoted text; `None` for a nested bracket.
fn bracket_end(r: &str) -> Option<usize> {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in r.char_indices() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == ']' => return Some(i),
            None if c == '[' => return None,
            None => {}
        }
    }
    None
}

/// A quoted string at the start of `s` (`'it\'s'`, `"a"`), decoded, and what follows it.
pub(super) fn quoted(s: &str) -> Option<(String, &str)> {
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == q => return Some((out, &s[1 + i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '/' | '\\' | '\'' | '"' => e,
                    'u' => {
                        let hi = hex4(&mut chars)?;
                        let code = if (0xD800..0xDC00).contains(&hi) {
                            let (_, b) = chars.next()?;
                            let (_, u) = chars.next()?;
                            if b != '\\' || u != 'u' {
                                return None;
                            }
                            let lo = hex4(&mut chars)?;
                            0x10000 + ((hi - 0xD800) << 10) + lo.checked_sub(0xDC00)?
                        } else {
                            hi
                        };
                        char::from_u32(code)?
                    }
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

fn hex4(chars: &mut std::str::CharIndices) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.1.to_digit(16)?;
    }
    Some(v)
}

/// `?(@.name == 'text')` or `?@.name == "text"` (a string compared for equality).
fn key_is(inner: &str) -> Option<Seg> {
    let body = inner.strip_prefix('?')?.trim_matches(is_blank);
    let body = body
        .strip_prefix('(')
        .and_then(|b| b.strip_suffix(')'))
        .unwrap_or(body)
        .trim_matches(is_blank);
    let rest = body.strip_prefix("@.")?;
    let end = rest.find(|c: char| !is_name_char(c))?;
    let (name, rest) = rest.split_at(end);
    if !name.chars().next().is_some_and(is_name_first) {
        return None;
    }
    let value = rest
        .trim_start_matches(is_blank)
        .strip_prefix("==")?
        .trim_start_matches(is_blank);
    let (text, after) = quoted(value)?;
    if !after.trim_matches(is_blank).is_empty() {
        return None;
    }
    Some(Seg::KeyIs(name.into(), text.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_indexes_and_blanks_read_as_rfc_9535_reads_them() {
        let k = |s: &str| Seg::Key(s.into());
        assert_eq!(
            simple_segments("$ .a\n['b c'] [ -1 ]"),
            Some(vec![k("a"), k("b c"), Seg::Index(-1)])
        );
        assert_eq!(
            simple_segments(r#"$['it\'s']["\u00e9\ud834\udd1e\n"]"#),
            Some(vec![k("it's"), k("é𝄞\n")])
        );
        assert_eq!(
            simple_segments("$.l[?@.t == 'x'].v"),
            Some(vec![k("l"), Seg::KeyIs("t".into(), "x".into()), k("v")])
        );
        // Not simple: other selectors, or a filter that is more than one comparison.
        for p in [
            "$..a",
            "$[0,1]",
            "$[1:2]",
            "$[?@.t == 'x' || @.t == 'y']",
            "$[?(@.t == 'x') && (@.u == 'y')]",
            "$[?@.n > 1]",
            "$[01]",
            "$[-0]",
            "$.1",
        ] {
            assert_eq!(simple_segments(p), None, "{p}");
        }
    }
}
