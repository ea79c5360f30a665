//! Formatting through `bondmap fmt`'s printer: one edit replacing the whole text, none
//! when it is already formatted; `None` (no answer) while the text does not parse.

use super::documents::range;
use super::engine;
use lsp_types::TextEdit;

pub fn edits(text: &str) -> Option<Vec<TextEdit>> {
    let formatted = engine::format(text)?;
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit {
        range: range(text, 0, text.len()),
        new_text: formatted,
    }])
}
