//! Reading a CSV table in pieces into [`CsvRows`]: its header checked (no name twice, the
//! key and every declared column there, a misspelt one named), each row checked (as many
//! cells as the header has columns, no NUL, each cell of its column's type), every problem
//! said in bondmap's words with its line.

use crate::diag::closest;
use crate::program::table::{Cell, CsvRows};
use crate::syntax::ast::{Ident, TypeName};
use std::io::Read;

/// Problems of a table shown, the rest counted.
const SHOWN: usize = 5;

/// One thing wrong with a table file.
#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(message: String) -> Problem {
        Problem {
            message,
            help: None,
        }
    }
    fn help(mut self, h: String) -> Problem {
        self.help = Some(h);
        self
    }
}

fn kind(t: TypeName) -> Cell {
    match t {
        TypeName::String => Cell::Text,
        TypeName::Decimal => Cell::Decimal,
        TypeName::Integer => Cell::Integer,
        TypeName::Boolean => Cell::Boolean,
    }
}

/// The rows of the table read from `r` (a file of `len` bytes), or `None` with the
/// problems that stop it.
pub fn read(
    r: Box<dyn Read>,
    len: u64,
    key: &Ident,
    columns: &[(Ident, TypeName, bool)],
    problems: &mut Vec<Problem>,
) -> Option<CsvRows> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(r);
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h
            .iter()
            .map(|s| s.trim_start_matches('\u{feff}').trim().to_string())
            .collect(),
        Err(e) => {
            problems.push(Problem::new(format!(
                "cannot read the header row: {}",
                words(&e)
            )));
            return None;
        }
    };
    if let Some(p) = header_mistake(&header, key, columns) {
        problems.push(p);
        return None;
    }
    let at = |c: &str| header.iter().position(|h| h == c);
    let key_i = at(&key.name)?;
    // Each declared column's place in the header (an optional one may have none).
    let places: Vec<Option<usize>> = columns.iter().map(|(c, _, _)| at(&c.name)).collect();
    let mut rows = CsvRows::new(
        columns
            .iter()
            .zip(&places)
            .map(|((_, t, _), p)| p.map(|_| kind(*t)))
            .collect(),
        len as usize,
    );
    let mut errors = 0usize;
    let say = |errors: &mut usize, problems: &mut Vec<Problem>, m: String| {
        *errors += 1;
        if *errors <= SHOWN {
            problems.push(Problem::new(m));
        }
    };
    // Records with no key, skipped: the lines of the rows kept are counted past them.
    let mut skipped: Vec<usize> = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut n = 0usize;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                say(
                    &mut errors,
                    problems,
                    format!("line {}: {}", n + 2, words(&e)),
                );
                return None;
            }
        }
        let line = n + 2;
        n += 1;
        if rec.len() != header.len() {
            say(
                &mut errors,
                problems,
                format!(
                    "line {line}: the row has {} cell(s), the header {} column(s) ({})",
                    rec.len(),
                    header.len(),
                    header.join(", ")
                ),
            );
            continue;
        }
        let k = rec.get(key_i).unwrap_or("").trim();
        if k.is_empty() {
            skipped.push(n - 1);
            continue;
        }
        let mut bad = false;
        if k.contains('\0') {
            bad = true;
            say(&mut errors, problems, nul(line, &key.name));
        }
        for ((c, ty, optional), place) in columns.iter().zip(&places) {
            let Some(i) = place else { continue };
            let cell = rec.get(*i).unwrap_or("").trim();
            if cell.contains('\0') {
                bad = true;
                say(&mut errors, problems, nul(line, &c.name));
            } else if !(*optional && cell.is_empty()) && kind(*ty).value(cell).is_none() {
                bad = true;
                say(
                    &mut errors,
                    problems,
                    format!(
                        "line {line}: column `{}` is `{cell}`, not a {}",
                        c.name,
                        ty.as_str()
                    ),
                );
            }
        }
        if bad || errors > 0 {
            continue;
        }
        let cells = columns
            .iter()
            .zip(&places)
            .filter_map(|((_, _, optional), place)| {
                let cell = rec.get((*place)?).unwrap_or("").trim();
                // In an optional column a blank cell is no value, as a missing column.
                Some((!(*optional && cell.is_empty())).then_some(cell))
            });
        if !rows.push(k, cells) {
            say(
                &mut errors,
                problems,
                "the table holds more text than bondmap keeps (2 GiB)".into(),
            );
            return None;
        }
    }
    if errors == 0 {
        for pos in rows.index() {
            let k = rows.key(pos).to_string();
            say(
                &mut errors,
                problems,
                format!(
                    "line {}: key `{k}` appears twice",
                    record_of(pos, &skipped) + 2
                ),
            );
        }
    }
    if errors > SHOWN {
        problems.push(Problem::new(format!(
            "and {} more problems",
            errors - SHOWN
        )));
    }
    (errors == 0).then_some(rows)
}

/// The record a pushed row came from, counting the keyless records skipped before it.
fn record_of(pos: usize, skipped: &[usize]) -> usize {
    let mut r = pos;
    for s in skipped {
        if *s <= r {
            r += 1;
        } else {
            break;
        }
    }
    r
}

fn nul(line: usize, column: &str) -> String {
    format!("line {line}: column `{column}` holds a NUL character (\\0), which no table text may")
}

/// A header naming a column twice, or lacking the key or a declared column.
fn header_mistake(
    header: &[String],
    key: &Ident,
    columns: &[(Ident, TypeName, bool)],
) -> Option<Problem> {
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        if let Some(j) = header[..i].iter().position(|x| x == h) {
            return Some(
                Problem::new(format!(
                    "the header names `{h}` twice (columns {} and {})",
                    j + 1,
                    i + 1
                ))
                .help("a column is found by its name: rename or remove one of them".into()),
            );
        }
    }
    let declared: Vec<&str> = std::iter::once(key.name.as_str())
        .chain(columns.iter().map(|(c, _, _)| c.name.as_str()))
        .collect();
    // A header name no declared column has, close to the missing one: a misspelling.
    let misspelt = |want: &str| {
        let spare = header
            .iter()
            .map(String::as_str)
            .filter(|h| !declared.contains(h));
        closest(want, spare).map(|h| format!("the header has `{h}`: did you mean `{want}`?"))
    };
    let has = |c: &str| header.iter().any(|h| h == c);
    if !has(&key.name) {
        let p = Problem::new(format!(
            "the header has no key column `{}` (it has: {})",
            key.name,
            header.join(", ")
        ));
        return Some(match misspelt(&key.name) {
            Some(h) => p.help(h),
            None => p,
        });
    }
    for (c, ty, optional) in columns {
        if *optional || has(&c.name) {
            continue;
        }
        let missing = format!(
            "the header has no column `{}` (it has: {})",
            c.name,
            header.join(", ")
        );
        return Some(match misspelt(&c.name) {
            Some(h) => Problem::new(missing).help(h),
            None => Problem::new(format!(
                "{missing}; a column some files lack is declared optional: `{}: {}?`",
                c.name,
                ty.as_str()
            )),
        });
    }
    None
}

/// The csv crate's error in bondmap's words.
fn words(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("cell {} is not UTF-8 text", err.field() + 1)
        }
        csv::ErrorKind::Io(e) => format!("cannot read the file: {e}"),
        _ => e.to_string(),
    }
}
