//! Lookup tables: inline rows, or a CSV file beside the mapping (swappable per run).

use crate::diag::{Code, Diag};
use crate::load::TableDef;
use crate::money::{parse_decimal, Amount};
use crate::program::{key_text, Table};
use crate::syntax::ast::{Lit, TableBody, TypeName};
use crate::value::Val;
use std::borrow::Cow;
use std::collections::HashMap;
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
    root: &Path,
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
                rows: map,
                columns: vec!["value".into()],
                default: default.as_ref().map(|(l, _)| vec![lit_val(l)]),
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
            let shown = crate::load::display_name(&path);
            let fail = |diags: &mut Vec<Diag>, msg: String| {
                diags.push(
                    Diag::error(
                        Code::Table,
                        *file_span,
                        format!("table `{name}` ({shown}): {msg}"),
                    )
                    .label("this table"),
                );
            };
            let read = match swap {
                Some(_) => crate::load::read_regular(&path, crate::load::MAX_CSV_BYTES),
                None => crate::load::read_inside(root, &path, crate::load::MAX_CSV_BYTES),
            };
            let bytes = match read {
                Ok(b) => b,
                Err(e) => {
                    fail(diags, format!("cannot read the file: {e}"));
                    return None;
                }
            };
            let mut rdr = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(bytes.as_slice());
            let header: Vec<String> = match rdr.headers() {
                Ok(h) => h
                    .iter()
                    .map(|s| s.trim_start_matches('\u{feff}').trim().to_string())
                    .collect(),
                Err(e) => {
                    fail(diags, format!("cannot read the header row: {e}"));
                    return None;
                }
            };
            let col_index = |c: &str| header.iter().position(|h| h == c);
            let Some(key_i) = col_index(&key.name) else {
                fail(
                    diags,
                    format!(
                        "the header has no key column `{}` (it has: {})",
                        key.name,
                        header.join(", ")
                    ),
                );
                return None;
            };
            // Each column's place in the header; an optional column may have none.
            let mut idx = Vec::new();
            for (c, ty, optional) in columns {
                match col_index(&c.name) {
                    Some(i) => idx.push((Some(i), *ty, *optional, c.name.as_str())),
                    None if *optional => idx.push((None, *ty, true, c.name.as_str())),
                    None => {
                        fail(
                            diags,
                            format!(
                                "the header has no column `{}` (it has: {}); a column some files lack is declared optional: `{}: {}?`",
                                c.name,
                                header.join(", "),
                                c.name,
                                ty.as_str()
                            ),
                        );
                        return None;
                    }
                }
            }
            let mut rows = HashMap::new();
            let mut errors = 0;
            for (n, rec) in rdr.records().enumerate() {
                let line = n + 2;
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        fail(diags, format!("line {line}: {e}"));
                        return None;
                    }
                };
                let k = rec.get(key_i).unwrap_or("").trim();
                if k.is_empty() {
                    continue;
                }
                let mut vals = Vec::with_capacity(idx.len());
                for (i, ty, optional, cname) in &idx {
                    // An optional column the file does not have: every cell is no value.
                    let Some(i) = i else {
                        vals.push(Val::Null);
                        continue;
                    };
                    // Every row has the header's length (the reader is not flexible).
                    let cell = rec.get(*i).unwrap_or("").trim();
                    // In an optional column a blank cell is no value, as a missing column.
                    if *optional && cell.is_empty() {
                        vals.push(Val::Null);
                        continue;
                    }
                    match typed_cell(cell, *ty) {
                        Some(v) => vals.push(v),
                        None => {
                            errors += 1;
                            if errors <= 5 {
                                fail(
                                    diags,
                                    format!(
                                        "line {line}: column `{cname}` is `{cell}`, not a {}",
                                        ty.as_str()
                                    ),
                                );
                            }
                        }
                    }
                }
                if rows.insert(k.to_string().into_boxed_str(), vals).is_some() {
                    errors += 1;
                    if errors <= 5 {
                        fail(diags, format!("line {line}: key `{k}` appears twice"));
                    }
                }
            }
            if errors > 5 {
                fail(diags, format!("and {} more problems", errors - 5));
            }
            if errors > 0 {
                return None;
            }
            Some(Table {
                name: name.into(),
                source: shown.clone().into(),
                rows,
                columns: columns
                    .iter()
                    .map(|(c, _, _)| c.name.clone().into_boxed_str())
                    .collect(),
                default: None,
            })
        }
    }
}

fn typed_cell(cell: &str, ty: TypeName) -> Option<Val<'static>> {
    Some(match ty {
        TypeName::String => Val::Str(Cow::Owned(cell.to_string())),
        TypeName::Decimal => Val::Num(Amount::new(parse_decimal(cell)?, None)),
        TypeName::Integer => {
            let d = parse_decimal(cell)?;
            if !d.fract().is_zero() {
                return None;
            }
            Val::Num(Amount::new(d, None))
        }
        TypeName::Boolean => match cell {
            "true" | "1" => Val::Bool(true),
            "false" | "0" => Val::Bool(false),
            _ => return None,
        },
    })
}
