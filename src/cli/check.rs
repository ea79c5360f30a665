//! `bondmap check`: every mistake of every mapping file, before any order moves.

use super::common::stderr_is_tty;
use crate::compile::{compile, Options};
use crate::diag::{self, Diag};
use std::path::{Path, PathBuf};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Files or folders of `.map` files.
    pub paths: Vec<PathBuf>,
    /// `human` (default) or `json`.
    #[arg(long, default_value = "human")]
    pub format: String,
    /// The folder every file a mapping names must be in; default: the folder given
    /// (for a file given alone, the parent of its folder).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

pub fn run(a: &Args) -> u8 {
    check(&a.paths, &a.format, a.root.as_deref())
}

/// The mapping root of each file: `--root`; else the folder given to `check` that holds
/// it, when that is wider than the file's own default (the parent of its folder), so
/// that `check mappings/warehouses/` still lets a warehouse `use` `../cainiao/…`.
fn root_of(file: &Path, paths: &[PathBuf], root: Option<&Path>) -> Option<PathBuf> {
    if let Some(r) = root {
        return Some(r.to_path_buf());
    }
    let given = if paths.is_empty() {
        PathBuf::from("mappings")
    } else {
        paths
            .iter()
            .filter(|p| p.is_dir() && file.starts_with(p))
            .min_by_key(|p| p.components().count())?
            .clone()
    };
    let canon = |p: &Path| p.canonicalize().ok();
    let own = canon(file)?.parent()?.parent()?.to_path_buf();
    canon(&given).filter(|g| own.starts_with(g)).map(|_| given)
}

/// Checks one file (with what it uses) within the mapping root. Params may stay unset:
/// a base mapping leaves them to the files that use it. A routes file is checked with
/// every mapping it names, within the same root.
pub fn check_file_within(path: &Path, root: Option<&Path>) -> (crate::load::Mapping, Vec<Diag>) {
    if crate::route::is_routes_file(path) {
        return crate::route::check(path, root);
    }
    let (m, mut diags) = crate::load::load_within(path, root);
    if !diags.iter().any(Diag::is_error) {
        let opts = Options {
            allow_unset_params: true,
            ..Options::default()
        };
        let (_, more) = compile(&m, &opts);
        diags.extend(more);
    }
    (m, diags)
}

fn check(paths: &[PathBuf], format: &str, root: Option<&Path>) -> u8 {
    let found = match crate::repo::walk::mapping_files(paths, root) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // A file refused by the walk (a link out of the root, a FIFO, a device) is a mistake
    // of the repo: said, never read.
    for r in &found.refused {
        eprintln!("error: {r}");
    }
    for l in &found.loops {
        eprintln!(
            "note: {}: a link to a folder already walked, not walked again",
            crate::repo::display_name(l)
        );
    }
    let files = found.files;
    let tables = match table_files(paths, root) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if files.is_empty() && tables.is_empty() && found.refused.is_empty() {
        eprintln!("error: no .map files found");
        return 2;
    }
    let mut errors = found.refused.len();
    // The repo's own settings (the bondmap.toml here or above).
    let here = std::env::current_dir().unwrap_or_default();
    for p in crate::repo::config_problems(&here) {
        errors += 1;
        eprintln!("error: {p}");
    }
    let mut warnings = 0usize;
    let mut json = Vec::new();
    // A problem in a used file shows once, not once per file that uses it.
    let mut seen = std::collections::HashSet::new();
    for f in &files {
        let (m, diags) = check_file_within(f, root_of(f, paths, root).as_deref());
        let fresh: Vec<Diag> = diags
            .into_iter()
            .filter(|d| {
                let file = d.span.map(|s| m.sources.get(s.file).path.clone());
                seen.insert((
                    file,
                    d.span.map(|s| (s.start, s.end)),
                    d.code,
                    d.message.clone(),
                ))
            })
            .collect();
        errors += fresh.iter().filter(|d| d.is_error()).count();
        warnings += fresh.iter().filter(|d| !d.is_error()).count();
        let name = f.display().to_string();
        if !fresh.iter().any(Diag::is_error) {
            for row in filing_rows(&m) {
                errors += 1;
                if format == "json" {
                    json.push(plain_error(&name, "bondmap::filing_row", row));
                } else {
                    eprintln!("error: {name}: {row}");
                }
            }
        }
        if format == "json" {
            json.extend(diag::to_json(&m.sources, &fresh, &name));
        } else if !fresh.is_empty() {
            eprint!(
                "{}",
                diag::render(&diag::reports(&m.sources, &fresh, &name), stderr_is_tty())
            );
        }
    }
    // The customs tables (order_status.csv, customs_reasons.csv) found among them.
    for t in &tables {
        for e in crate::sync::customs_tables::check_file(t) {
            errors += 1;
            if format == "json" {
                let mut d = plain_error(
                    &t.display().to_string(),
                    "bondmap::customs_table",
                    e.message.clone(),
                );
                d.line = e.line.map(|l| l as usize);
                json.push(d);
            } else {
                eprintln!("error: {e}");
            }
        }
    }
    if format == "json" {
        match serde_json::to_string_pretty(&json) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    } else {
        eprintln!(
            "checked {} file(s): {errors} error(s), {warnings} warning(s)",
            files.len() + tables.len()
        );
    }
    u8::from(errors > 0)
}

/// An error of a file as a whole (no span): a table's row, a customs table's line.
fn plain_error(file: &str, code: &'static str, message: String) -> diag::JsonDiag {
    diag::JsonDiag {
        file: file.to_string(),
        line: None,
        column: None,
        span: None,
        severity: diag::Severity::Error,
        code,
        message,
        label: String::new(),
        help: None,
        related: Vec::new(),
    }
}

/// The rows of a filing mapping's goods table that `filing push` would stop on (an HS
/// code RED refuses, a quantity that is not a number), each naming its barcode: the
/// mapping run over every row, as a push does, with nothing sent. A filing mapping with a
/// param left unset (the base one) is checked through the files that set it.
fn filing_rows(m: &crate::load::Mapping) -> Vec<String> {
    use crate::sync::filing::{plan, PlanError, SOURCE_SCHEMA};
    let filing = m.source.as_ref().is_some_and(|(p, _)| {
        p.file_name()
            .is_some_and(|n| n == std::ffi::OsStr::new(SOURCE_SCHEMA))
    });
    if !filing {
        return Vec::new();
    }
    let (Some(program), _) = compile(m, &Options::default()) else {
        return Vec::new();
    };
    match plan(&program, None) {
        Ok(_) => Vec::new(),
        Err(PlanError::Rows(rows)) => rows
            .into_iter()
            .map(|r| format!("table `goods`: {r}"))
            .collect(),
        Err(e) => vec![e.to_string()],
    }
}

/// The customs tables under the given paths (default `mappings/`): every file named as
/// one, in a folder given or below it, or given itself.
fn table_files(paths: &[PathBuf], root: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    use crate::sync::customs_tables::{REASONS_FILE, STATUS_FILE};
    // Through the one walk of a mapping repo: no link out of the root, no FIFO.
    let found = crate::repo::walk::files_of(paths, root, "csv")?;
    Ok(found
        .files
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n == STATUS_FILE || n == REASONS_FILE)
        })
        .collect())
}
