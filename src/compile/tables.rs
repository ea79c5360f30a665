//! Lookup tables: inline rows, or a CSV file beside the mapping (swappable per run).

mod reader;

use crate::diag::{Code, Diag};
use crate::load::TableDef;
use crate::money::Amount;
use crate::program::table::Rows;
use crate::program::{key_text, Table};
use crate::repo::fs::{Roots, MAX_CSV_BYTES};
use crate::syntax::ast::{Lit, TableBody};
use crate::value::Val;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn lit_val(l: &Lit) -> Val<'static> {
    match l {
        Lit::Str(s) => Val::Str(Cow::Owned(s.clone())),
        Lit::Num(d, u) => Val::Num(Amount::new(
            *d,
            u.as_deref().and_then(crate::money::Unit::parse),
        )),
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Null => Val::Null,
    }
}

/// Builds a table; `swap` is the file given by `--table NAME=FILE` for this run (any
/// regular file: the user's own choice); the mapping's own file must be inside `root`.
pub fn build(
    def: &TableDef,
    swap: Option<&Path>,
    root: &Roots,
    diags: &mut Vec<Diag>,
) -> Option<Table> {
    let name = def.decl.name.name.as_str();
    match &def.decl.body {
        TableBody::Inline { rows, default } => {
            let mut map = HashMap::new();
            for (k, v, span) in rows {
                let key = lit_val(k);
                let Some(text) = key_text(&key) else {
                    diags.push(
                        Diag::error(
                            Code::Table,
                            *span,
                            format!("table `{name}`: a key must be a string or a whole number"),
                        )
                        .label("bad key"),
                    );
                    continue;
                };
                if map
                    .insert(text.into_owned().into_boxed_str(), vec![lit_val(v)])
                    .is_some()
                {
                    diags.push(
                        Diag::error(
                            Code::Duplicate,
                            *span,
                            format!("table `{name}` has this key twice"),
                        )
                        .label("repeated key"),
                    );
                }
            }
            Some(Table {
                name: name.into(),
                source: "inline".into(),
                rows: Rows::Inline {
                    rows: map,
                    default: default.as_ref().map(|(l, _)| vec![lit_val(l)]),
                },
                columns: vec!["value".into()],
            })
        }
        TableBody::Csv {
            file,
            file_span,
            key,
            columns,
        } => {
            let path: PathBuf = match swap {
                Some(p) => p.to_path_buf(),
                None => def.dir.join(file),
            };
            let shown = crate::repo::display_name(&path);
            let read = match swap {
                Some(_) => crate::repo::fs::open_regular(&path, MAX_CSV_BYTES).map(|f| {
                    let len = f.metadata().map_or(0, |m| m.len());
                    (Box::new(f.take(MAX_CSV_BYTES + 1)) as Box<dyn Read>, len)
                }),
                None => root.open(&path, MAX_CSV_BYTES),
            };
            let mut problems = Vec::new();
            let rows = match read {
                Ok((r, len)) => reader::read(r, len, key, columns, &mut problems),
                Err(e) => {
                    problems.push(reader::Problem::new(format!("cannot read the file: {e}")));
                    None
                }
            };
            for p in problems {
                let mut d = Diag::error(
                    Code::Table,
                    *file_span,
                    format!("table `{name}` ({shown}): {}", p.message),
                )
                .label("this table");
                if let Some(h) = p.help {
                    d = d.help(h);
                }
                diags.push(d);
            }
            Some(Table {
                name: name.into(),
                source: shown.clone().into(),
                rows: Rows::Csv(rows?),
                columns: columns
                    .iter()
                    .map(|(c, _, _)| c.name.clone().into_boxed_str())
                    .collect(),
            })
        }
    }
}
