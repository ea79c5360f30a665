//! The open buffers (full text sync) and positions: LSP counts columns in UTF-16 code
//! units, bondmap's spans in bytes.

use lsp_types::{Position, Range, Url};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Document {
    /// Shared with the checks made of it (a buffer of megabytes is not copied per check).
    pub text: Arc<str>,
    pub version: i32,
}

#[derive(Debug, Default)]
pub struct Documents {
    open: HashMap<Url, Document>,
}

impl Documents {
    pub fn open(&mut self, uri: Url, text: String, version: i32) {
        let text = Arc::from(text);
        self.open.insert(uri, Document { text, version });
    }
    /// Replaces the text; a change for a file that is not open opens it.
    pub fn change(&mut self, uri: Url, text: String, version: i32) {
        self.open(uri, text, version);
    }
    pub fn close(&mut self, uri: &Url) {
        self.open.remove(uri);
    }
    pub fn get(&self, uri: &Url) -> Option<&Document> {
        self.open.get(uri)
    }
    pub fn uris(&self) -> Vec<Url> {
        self.open.keys().cloned().collect()
    }
}

/// The file a `file:` URI names; `None` for any other scheme.
pub fn path_of(uri: &Url) -> Option<PathBuf> {
    if uri.scheme() != "file" {
        return None;
    }
    uri.to_file_path().ok()
}

/// The LSP position of a byte offset (clamped to the text, and to a char boundary).
pub fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    Position::new(line as u32, character as u32)
}

pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end))
}

/// Where each line of a text starts, for the positions of many offsets of it (each
/// [`position`] counts from the top of the text: many of them over a long text were
/// quadratic).
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Lines<'t> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    /// [`position`], in the time of one line.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let character: usize = self.text[self.starts[line]..offset]
            .chars()
            .map(char::len_utf16)
            .sum();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }
}

/// The byte offset of an LSP position; a column past the line's end is its end, a line
/// past the text's end is the end of the text.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0u32;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= pos.character {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        let text = "a = \"仓库\" # 𝄞x\nb";
        let x = text.find('x').unwrap();
        let p = position(text, x);
        // 仓 and 库 are one UTF-16 unit each (three bytes), 𝄞 two (four bytes).
        assert_eq!(p, Position::new(0, 13));
        assert_eq!(offset(text, p), x);
        assert_eq!(position(text, text.len()), Position::new(1, 1));
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
        assert_eq!(
            offset(text, Position::new(0, 999)),
            text.find('\n').unwrap()
        );
    }

    #[test]
    fn lines_give_the_positions_position_gives() {
        let text = "a = \"仓库\" # 𝄞x\nb\n\n\r\nc";
        let lines = Lines::new(text);
        for at in 0..=text.len() + 3 {
            assert_eq!(lines.position(at), position(text, at), "{at}");
        }
    }
}
