//! A file's text as miette reads it, a window at a time: miette's own `SourceCode` for a
//! string counts lines from the top of the file for every problem it draws, and each
//! problem held its own copy of the text, so 40,000 problems of one file took time and
//! memory in the square of its length. Here the file is shared, its line ends found once,
//! and miette reads only the lines around a span, getting exactly what it would have.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::sync::Arc;

/// Where each line ends, as miette counts lines: at a `\n`, a lone `\r`, or the `\n` of
/// a `\r\n`.
pub fn line_ends(text: &str) -> Arc<[usize]> {
    let b = text.as_bytes();
    let mut ends = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                ends.push(i + 1);
                i += 2;
                continue;
            }
            b'\r' | b'\n' => ends.push(i),
            _ => {}
        }
        i += 1;
    }
    ends.into()
}

/// One file of a report: its shown name, its text and its line ends (shared by every
/// problem in it).
#[derive(Debug, Clone)]
pub struct Window {
    pub name: String,
    text: Arc<str>,
    ends: Arc<[usize]>,
}

impl Window {
    pub fn new(name: String, text: Arc<str>, ends: Arc<[usize]>) -> Window {
        Window { name, text, ends }
    }
    /// A file with nothing to show (a problem of no place, or one on a line too long to draw).
    pub fn empty(name: String) -> Window {
        Window::new(name, Arc::from(""), Arc::from(Vec::new()))
    }
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // The lines wholly before the span, and the first of those miette shows; and the
        // line of the span's last byte, where miette stops (for an empty span at a line's
        // start, the line before: the window must hold it too).
        let before = self.ends.partition_point(|&e| e < span.offset());
        let last = (span.offset() + span.len()).saturating_sub(1);
        let skipped = (before - before.min(context_lines_before))
            .min(self.ends.partition_point(|&e| e < last));
        let from = match skipped {
            0 => 0,
            n => self.ends[n - 1] + 1,
        };
        // miette's reading of the text from `from` on is its reading of the whole text,
        // moved by `from` bytes and `skipped` lines (it starts at a line's start).
        let inner = SourceSpan::new((span.offset() - from).into(), span.len());
        let bytes: &'a [u8] = &self.text.as_bytes()[from..];
        let c = bytes.read_span(&inner, context_lines_before, context_lines_after)?;
        let at = SourceSpan::new((c.span().offset() + from).into(), c.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            at,
            c.line() + skipped,
            c.column(),
            c.line_count() + skipped,
        )))
    }
}

/// 1-based line and column (in characters) of a byte offset, as
/// [`crate::syntax::SourceFile::line_col`] counts them, with the file's `\n`s found once.
pub fn line_col(text: &str, newlines: &[usize], offset: u32) -> (usize, usize) {
    let offset = (offset as usize).min(text.len());
    let line = newlines.partition_point(|&n| n < offset);
    let start = if line == 0 { 0 } else { newlines[line - 1] + 1 };
    (line + 1, text[start..offset].chars().count() + 1)
}

/// Where each `\n` is.
pub fn newlines(text: &str) -> Vec<usize> {
    text.bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::NamedSource;

    /// Every span of texts with every kind of line end reads as miette reads the whole text.
    #[test]
    fn a_window_reads_what_the_whole_text_gives() {
        let texts = [
            "a = 1\nb = 2\nc = 3\nd = 4\n",
            "a\r\nbb\r\nccc\r\n\r\ndddd",
            "one\rtwo\n\nthree\r\n四 = \"五\"\nsix",
            "",
            "\n\n\n",
        ];
        for text in texts {
            let whole = NamedSource::new("f.map", text.to_string());
            let win = Window::new("f.map".into(), Arc::from(text), line_ends(text));
            for start in 0..=text.len() {
                for len in 0..=(text.len() - start).min(6) {
                    for ctx in [0, 1, 2] {
                        let span = SourceSpan::new(start.into(), len);
                        let a = whole.read_span(&span, ctx, ctx);
                        let b = win.read_span(&span, ctx, ctx);
                        match (a, b) {
                            (Ok(a), Ok(b)) => {
                                let what = format!("{text:?} {start}+{len} ctx {ctx}");
                                assert_eq!(a.data(), b.data(), "{what}");
                                assert_eq!(a.span(), b.span(), "{what}");
                                assert_eq!(a.line(), b.line(), "{what}");
                                assert_eq!(a.column(), b.column(), "{what}");
                                assert_eq!(a.line_count(), b.line_count(), "{what}");
                                assert_eq!(a.name(), b.name(), "{what}");
                            }
                            (Err(_), Err(_)) => {}
                            (a, b) => {
                                panic!("{text:?} {start}+{len}: {:?} {:?}", a.is_ok(), b.is_ok())
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn line_and_column_as_the_source_file_counts_them() {
        let text = "a = 1\n仓库 = 2\n\nx";
        let file = crate::syntax::SourceFile {
            path: "f.map".into(),
            name: "f.map".into(),
            text: Arc::from(text),
        };
        let nl = newlines(text);
        for off in 0..=text.len() as u32 + 2 {
            if text.is_char_boundary((off as usize).min(text.len())) {
                assert_eq!(line_col(text, &nl, off), file.line_col(off), "{off}");
            }
        }
    }
}
