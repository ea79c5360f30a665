//! Which characters of mapping text are code, quoted text or comment: the one scanner
//! behind the nesting guard, span trimming and the formatter's comment keeping.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Code,
    /// Inside '…' or "…" (quotes included).
    Quoted,
    /// From `#` to the end of its line.
    Comment,
}

/// Calls `f(byte offset, char, region)` for every character; stops early when `f` says
/// `false`.
///
/// A `#` inside the brackets of a path (`$.l[?(@.ty#pe == 1)]`, `$ ['#']`) is part of the
/// path, as the grammar reads it, not a comment.
pub fn scan(text: &str, mut f: impl FnMut(usize, char, Region) -> bool) {
    let (mut quote, mut comment, mut escaped) = (None::<char>, false, false);
    // In a path token (`$…`, or `name.` and on), and how deep in its brackets.
    let (mut in_path, mut path_brackets, mut prev) = (false, 0usize, ' ');
    let mut blank = false;
    let path_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | '$');
    for (i, c) in text.char_indices() {
        if !comment && quote.is_none() {
            if path_brackets > 0 {
                match c {
                    '[' => path_brackets += 1,
                    ']' => path_brackets -= 1,
                    _ => {}
                }
            } else if in_path {
                if c == '[' {
                    path_brackets = 1;
                } else if matches!(c, ' ' | '\t' | '\r' | '\n') {
                    // Blank space between segments (`$ ['a#b']`) stays in the path when a
                    // segment follows it.
                    blank = true;
                } else if !path_char(c) || (blank && c != '.') {
                    in_path = false;
                }
                if !matches!(c, ' ' | '\t' | '\r' | '\n') {
                    blank = false;
                }
            } else if c == '$' || (c == '.' && (prev.is_ascii_alphanumeric() || prev == '_')) {
                in_path = true;
            }
        }
        let in_brackets = path_brackets > 0;
        prev = c;
        let region = if comment {
            comment = c != '\n';
            if comment {
                Region::Comment
            } else {
                Region::Code
            }
        } else if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q || c == '\n' {
                quote = None;
            }
            Region::Quoted
        } else {
            match c {
                '#' if !in_brackets => {
                    comment = true;
                    Region::Comment
                }
                '"' | '\'' => {
                    quote = Some(c);
                    Region::Quoted
                }
                _ => Region::Code,
            }
        };
        if !f(i, c, region) {
            return;
        }
    }
}

/// Where the first comment starts, if any.
pub fn first_comment(text: &str) -> Option<usize> {
    let mut at = None;
    scan(text, |i, _, r| {
        if r == Region::Comment {
            at = Some(i);
        }
        at.is_none()
    });
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_in_a_path_filter_is_not_a_comment() {
        assert_eq!(first_comment("a = $.l[?(@.ty#pe == 1)].v # real"), Some(27));
        assert_eq!(first_comment("a = x.l[?(@.t == '#')] # real"), Some(23));
        assert_eq!(first_comment("a = goods[b] # real"), Some(13));
    }

    #[test]
    fn hashes_in_strings_are_not_comments() {
        assert_eq!(first_comment(r#"a = "x#y" # real"#), Some(10));
        assert_eq!(first_comment(r"a = 'it\'s #' + 1"), None);
    }
}
