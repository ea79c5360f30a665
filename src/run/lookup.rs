//! Lookups: a row of a table by its key (the table's default row when it has one), a
//! column of it; a key with no row rejects the order, naming the key (masked when it is
//! personal).

use super::error::{Fail, RunCode, R};
use super::eval::{scalar, Ev};
use super::trace::Trace;
use crate::pii;
use crate::program::{key_text, Node};
use crate::value::Val;

impl<'a, T: Trace<'a>> Ev<'a, T> {
    #[inline(never)]
    pub(super) fn lookup(&mut self, table: u32, key: &'a Node, column: Option<u32>) -> R<Val<'a>> {
        let t = &self.p.tables[table as usize];
        let k = scalar(self.eval(key)?, Some(key))?;
        if k.is_null() {
            return Err(Fail::at(
                key,
                RunCode::Missing,
                format!("the key for table `{}` has no value", t.name),
            ));
        }
        let Some(text) = key_text(&k) else {
            return Err(Fail::at(
                key,
                RunCode::Type,
                format!(
                    "a key for table `{}` must be a string or a whole number, found {}",
                    t.name,
                    k.kind()
                ),
            ));
        };
        let i = column.unwrap_or(0) as usize;
        match t.lookup(text.as_ref(), i) {
            Some(v) => Ok(v),
            None => {
                // Keys are codes and barcodes; one read from a personal field is masked.
                let shown: String = if let Some(kind) = pii::kind_of(self.p, key) {
                    pii::show(&k, Some(kind))
                } else if text.chars().count() > 40 {
                    text.chars().take(40).chain("…".chars()).collect()
                } else {
                    text.to_string()
                };
                Err(Fail::at(
                    key,
                    RunCode::Lookup,
                    format!(
                        "no row for key `{shown}` in table `{}` ({})",
                        t.name, t.source
                    ),
                ))
            }
        }
    }
}
