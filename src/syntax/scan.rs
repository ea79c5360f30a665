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
pub fn scan(text: &str, mut f: impl FnMut(usize, char, Region) -> bool) {
    let (mut quote, mut comment, mut escaped) = (None::<char>, false, false);
    for (i, c) in text.char_indices() {
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
                '#' => {
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
    fn hashes_in_strings_are_not_comments() {
        assert_eq!(first_comment(r#"a = "x#y" # real"#), Some(10));
        assert_eq!(first_comment(r"a = 'it\'s #' + 1"), None);
    }
}
