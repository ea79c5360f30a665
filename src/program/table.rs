//! A lookup table as the run reads it. An inline table keeps its few rows as values; a CSV
//! table (a warehouse's goods, up to millions of rows) keeps every key and cell it uses as
//! text, one after another in one string, with the end of each in a flat array and the
//! rows in key order: a few bytes a row beside the text itself, so a table costs memory
//! proportional to its file (issue 23: a 63 MB table had cost 14 times its size as one
//! map entry and one value per cell). A cell is typed when the table is read (a bad cell
//! is a check error) and made a value when an order looks it up.

use crate::money::{parse_decimal, Amount};
use crate::value::Val;
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Debug)]
pub struct Table {
    pub name: Box<str>,
    pub source: Box<str>,
    pub columns: Vec<Box<str>>,
    pub rows: Rows,
}

#[derive(Debug)]
pub enum Rows {
    /// One column of values, and maybe a default row.
    Inline {
        rows: HashMap<Box<str>, Vec<Val<'static>>>,
        default: Option<Vec<Val<'static>>>,
    },
    Csv(CsvRows),
}

/// What a CSV column's cells are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Text,
    Decimal,
    Integer,
    Boolean,
}

impl Cell {
    /// The value of a cell's text (checked when the table was read: `None` only for text
    /// that was never a cell of this kind).
    pub fn value(self, text: &str) -> Option<Val<'_>> {
        Some(match self {
            Cell::Text => Val::Str(Cow::Borrowed(text)),
            Cell::Decimal => Val::Num(Amount::new(parse_decimal(text)?, None)),
            Cell::Integer => {
                let d = parse_decimal(text)?;
                if !d.fract().is_zero() {
                    return None;
                }
                Val::Num(Amount::new(d, None))
            }
            Cell::Boolean => match text {
                "true" | "1" => Val::Bool(true),
                "false" | "0" => Val::Bool(false),
                _ => return None,
            },
        })
    }
}

/// The high bit of a cell's end: the cell is blank in an optional column (no value).
const NONE: u32 = 1 << 31;

/// The rows of a CSV table: see the module's doc.
#[derive(Debug, Default)]
pub struct CsvRows {
    /// Each row's key, then each of its cells (of the columns the file has), one after
    /// another.
    text: String,
    /// The end in `text` of each key and cell, row by row (`stride` a row); [`NONE`] set
    /// on a cell that has no value.
    ends: Vec<u32>,
    /// For each declared column: its place after the key in a row and its kind, or `None`
    /// for an optional column the file does not have (every cell no value).
    slots: Vec<Option<(u32, Cell)>>,
    stride: u32,
    /// The rows in key order.
    order: Vec<u32>,
}

/// Largest text a CSV table keeps (the high bit of an end marks "no value").
pub const MAX_TEXT: usize = (NONE - 1) as usize;

impl CsvRows {
    /// Rows of the given declared columns (`None`: absent from the file), read from a
    /// file of `size` bytes: its text is reserved at once (the text kept is never longer
    /// than the file; what is reserved and not written takes no memory), so it is never
    /// copied to grow.
    pub fn new(slots: Vec<Option<Cell>>, size: usize) -> CsvRows {
        let mut n = 0;
        let slots = slots
            .into_iter()
            .map(|s| {
                s.map(|c| {
                    n += 1;
                    (n, c)
                })
            })
            .collect();
        // Rows of a real table are longer than 16 bytes: the ends fit too.
        let rows = size / 16 + 1;
        CsvRows {
            slots,
            stride: n + 1,
            text: String::with_capacity(size.min(MAX_TEXT)),
            ends: Vec::with_capacity(rows * (n as usize + 1)),
            order: Vec::new(),
        }
    }

    /// Adds a row: its key, then the cells of the columns the file has, in declared order
    /// (`None`: no value). `false` when the text would exceed [`MAX_TEXT`].
    pub fn push<'c>(&mut self, key: &str, cells: impl Iterator<Item = Option<&'c str>>) -> bool {
        if self.text.len() + key.len() > MAX_TEXT {
            return false;
        }
        self.text.push_str(key);
        self.ends.push(self.text.len() as u32);
        for c in cells {
            match c {
                Some(c) if self.text.len() + c.len() <= MAX_TEXT => {
                    self.text.push_str(c);
                    self.ends.push(self.text.len() as u32);
                }
                Some(_) => return false,
                None => self.ends.push(self.text.len() as u32 | NONE),
            }
        }
        true
    }

    pub fn len(&self) -> usize {
        self.ends.len() / self.stride as usize
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn start(&self, at: usize) -> usize {
        if at == 0 {
            0
        } else {
            (self.ends[at - 1] & !NONE) as usize
        }
    }

    /// The text of the key or cell at `at` in `ends`, or `None` for no value.
    fn piece(&self, at: usize) -> Option<&str> {
        let end = self.ends[at];
        if end & NONE != 0 {
            return None;
        }
        self.text.get(self.start(at)..end as usize)
    }

    pub fn key(&self, row: usize) -> &str {
        self.piece(row * self.stride as usize).unwrap_or("")
    }

    /// Sorts the rows by key, once all are in; returns the rows whose key an earlier row
    /// already has (as their positions of [`CsvRows::push`]), in that order.
    pub fn index(&mut self) -> Vec<usize> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        // Of rows of one key, the first pushed comes first (no buffer, as a stable sort
        // would take).
        order.sort_unstable_by(|a, b| {
            self.key(*a as usize)
                .cmp(self.key(*b as usize))
                .then(a.cmp(b))
        });
        let mut dups: Vec<usize> = order
            .windows(2)
            .filter(|w| self.key(w[0] as usize) == self.key(w[1] as usize))
            .map(|w| w[1] as usize)
            .collect();
        dups.sort_unstable();
        order.dedup_by(|b, a| self.key(*a as usize) == self.key(*b as usize));
        self.order = order;
        dups
    }

    /// The row of a key.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.order
            .binary_search_by(|r| self.key(*r as usize).cmp(key))
            .ok()
            .map(|i| self.order[i] as usize)
    }

    /// The value of declared column `col` of row `row` (no value for a blank optional cell
    /// or a column the file lacks).
    pub fn cell(&self, row: usize, col: usize) -> Val<'_> {
        let Some(Some((slot, kind))) = self.slots.get(col) else {
            return Val::Null;
        };
        let at = row * self.stride as usize + *slot as usize;
        self.piece(at)
            .and_then(|t| kind.value(t))
            .unwrap_or(Val::Null)
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = (&str, usize)> {
        self.order
            .iter()
            .map(|r| (self.key(*r as usize), *r as usize))
    }
}

impl Table {
    /// The value of column `col` of the row of `key` (the default row when there is none
    /// and the table has one); `None`: no row.
    pub fn lookup(&self, key: &str, col: usize) -> Option<Val<'_>> {
        match &self.rows {
            Rows::Inline { rows, default } => {
                let row = rows.get(key).or(default.as_ref())?;
                Some(row.get(col).map_or(Val::Null, borrow))
            }
            Rows::Csv(c) => c.find(key).map(|r| c.cell(r, col)),
        }
    }

    /// The keys of the rows in order (an inline table's default row has none).
    pub fn keys(&self) -> Vec<&str> {
        match &self.rows {
            Rows::Inline { rows, .. } => {
                let mut keys: Vec<&str> = rows.keys().map(|k| &**k).collect();
                keys.sort_unstable();
                keys
            }
            Rows::Csv(c) => c.keys().map(|(k, _)| k).collect(),
        }
    }

    /// Every row in key order, as values (the mapping's identity hashes them), then the
    /// default row of an inline table with the key `None`.
    pub fn each_row(&self, f: &mut dyn FnMut(Option<&str>, &[Val<'_>])) {
        match &self.rows {
            Rows::Inline { rows, default } => {
                let mut keys: Vec<&Box<str>> = rows.keys().collect();
                keys.sort();
                for k in keys {
                    f(Some(k), &rows[k]);
                }
                if let Some(d) = default {
                    f(None, d);
                }
            }
            Rows::Csv(c) => {
                let mut row = Vec::with_capacity(c.slots.len());
                for (k, r) in c.keys() {
                    row.clear();
                    row.extend((0..c.slots.len()).map(|col| c.cell(r, col)));
                    f(Some(k), &row);
                }
            }
        }
    }
}

/// A table's constant as a value borrowing it.
fn borrow<'a>(v: &'a Val<'static>) -> Val<'a> {
    match v {
        Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_found_by_key_with_their_cells_typed() {
        let mut c = CsvRows::new(vec![Some(Cell::Text), None, Some(Cell::Decimal)], 64);
        assert!(c.push("b", [Some("x"), Some("0.15")].into_iter()));
        assert!(c.push("a", [Some(""), None].into_iter()));
        assert!(c.push("b", [Some("y"), Some("1")].into_iter()));
        assert_eq!(c.index(), vec![2], "the second `b` is a repeat");
        let b = c.find("b").unwrap();
        assert!(matches!(c.cell(b, 0), Val::Str(s) if s == "x"));
        assert!(matches!(c.cell(b, 1), Val::Null), "a column the file lacks");
        assert!(matches!(c.cell(b, 2), Val::Num(a) if a.value.to_string() == "0.15"));
        let a = c.find("a").unwrap();
        assert!(
            matches!(c.cell(a, 0), Val::Str(s) if s.is_empty()),
            "an empty text is a text"
        );
        assert!(matches!(c.cell(a, 2), Val::Null), "a blank optional cell");
        assert!(c.find("c").is_none());
    }
}
