//! What the playground's API does, without HTTP: the mapping files and example orders it
//! offers, the check of an edited mapping (the same loader and checker as `bondmap
//! check`, with the file's real path inside the mapping root), the request it writes for
//! an order (the same run as `bondmap map`), a field's `explain`, and saving. Personal
//! data leaves masked: the request through the order's [`Redactor`], explain as always.

use crate::compile::{compile, Options};
use crate::diag::{Diag, Severity};
use crate::load::{self, Mapping};
use crate::pii::Redactor;
use crate::program::Program;
use crate::repo::fs::{read_regular, Roots, MAX_TEXT_BYTES};
use serde::Serialize;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

/// Largest order the playground maps (a RED order is a few KiB).
pub const MAX_ORDER_BYTES: usize = 2 << 20;

/// Where the playground reads from: the mapping root (every mapping file it reads or
/// saves is below it) and the folder of example orders.
#[derive(Debug, Clone)]
pub struct Site {
    /// Canonical.
    pub root: PathBuf,
    pub examples: PathBuf,
}

/// A request the playground refuses, with its reason for the page.
#[derive(Debug)]
pub enum Refused {
    /// Not a mapping file or example the playground offers (404).
    NotFound(String),
    /// A path or text it does not take (400).
    Bad(String),
}

impl Site {
    /// The site over `root`, which must be a folder.
    pub fn new(root: &Path, examples: &Path) -> Result<Site, String> {
        let root = root
            .canonicalize()
            .map_err(|e| format!("mapping root {}: {e}", root.display()))?;
        if !root.is_dir() {
            return Err(format!("mapping root {} is not a folder", root.display()));
        }
        Ok(Site {
            root,
            examples: examples.to_path_buf(),
        })
    }

    /// The order mappings below the root, as `/`-separated paths relative to it, sorted
    /// (routes files are left out: the playground maps one order with one mapping).
    pub fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.root, &self.root, 0, &mut out);
        out.retain(|rel| !crate::route::is_routes_file(&self.root.join(rel)));
        out.sort();
        out
    }

    /// The example orders (`*.json` file names), sorted; none when the folder is missing.
    pub fn examples(&self) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(&self.examples) else {
            return Vec::new();
        };
        let mut v: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json"))
            .collect();
        v.sort();
        v
    }

    /// The path below the root that `rel` names: relative, plain names only (no `..`,
    /// no root, no `.`), a `.map` file. Symlinks are for the reader to judge.
    pub fn path_of(&self, rel: &str) -> Result<PathBuf, Refused> {
        let p = Path::new(rel);
        let plain = !rel.is_empty()
            && p.components().all(|c| matches!(c, Component::Normal(_)))
            && p.extension().is_some_and(|x| x == "map");
        if !plain {
            return Err(Refused::Bad(format!(
                "`{rel}` is not a mapping file below the mapping root (a relative path of a .map file, without `..`)"
            )));
        }
        Ok(self.root.join(p))
    }

    /// The text of the mapping file `rel`, read as the loader reads it (inside the root).
    pub fn file(&self, rel: &str) -> Result<String, Refused> {
        let path = self.path_of(rel)?;
        Roots::of(self.root.clone())
            .read_text(&path, MAX_TEXT_BYTES)
            .map_err(|e| Refused::NotFound(format!("cannot read {rel}: {e}")))
    }

    /// The text of the example order `name` (a file name of [`Site::examples`]).
    pub fn example(&self, name: &str) -> Result<String, Refused> {
        if !self.examples().iter().any(|n| n == name) {
            return Err(Refused::NotFound(format!("no example order `{name}`")));
        }
        let path = self.examples.join(name);
        let bytes = read_regular(&path, MAX_ORDER_BYTES as u64)
            .map_err(|e| Refused::NotFound(format!("cannot read {name}: {e}")))?;
        String::from_utf8(bytes).map_err(|_| Refused::Bad(format!("{name} is not UTF-8 text")))
    }

    /// Every problem of the edited `text` of mapping `rel`, as `bondmap check` finds
    /// them in that file (params may stay unset, as for a base mapping).
    pub fn check(&self, rel: &str, text: &str) -> Result<Vec<Problem>, Refused> {
        let (m, diags) = self.load(rel, text)?;
        let mut diags = diags;
        if !diags.iter().any(Diag::is_error) {
            let opts = Options {
                allow_unset_params: true,
                root: Some(self.root.clone()),
                ..Options::default()
            };
            diags.extend(compile(&m, &opts).1);
        }
        Ok(problems(&m, &diags))
    }

    /// The request the edited mapping writes for `order` (the run of `bondmap map`),
    /// personal values masked; or why there is none.
    pub fn map(&self, rel: &str, text: &str, order: &str) -> Result<Outcome, Refused> {
        let (prog, doc) = match self.program_and_order(rel, text, order)? {
            Ok(both) => both,
            Err(o) => return Ok(o),
        };
        let redactor = Redactor::from_document(&doc);
        Ok(match crate::run::request(&prog, &doc) {
            Ok(w) => {
                let masked = redactor.with_personal(&w.personal).redact(&w.text);
                let request = crate::snapshot::pretty(&masked);
                Outcome::Mapped {
                    order_id: crate::run::order_id(&prog, &doc),
                    fields: super::fields::of_lines(&request),
                    request,
                }
            }
            Err(e) => {
                let ex = crate::run::explain::explain_order(&prog, &doc);
                Outcome::Rejected {
                    order_id: e.order_id.clone(),
                    code: e.code.as_str(),
                    message: redactor.redact(&e.to_string()),
                    explain: ex.text(None),
                }
            }
        })
    }

    /// `bondmap explain --field FIELD` of the order with the edited mapping: the text,
    /// personal values masked.
    pub fn explain(
        &self,
        rel: &str,
        text: &str,
        order: &str,
        field: &str,
    ) -> Result<Explanation, Refused> {
        let (prog, doc) = match self.program_and_order(rel, text, order)? {
            Ok(both) => both,
            Err(o) => return Ok(Explanation::Not(o)),
        };
        let ex = crate::run::explain::explain_order(&prog, &doc);
        if ex.rejected.is_none() && !ex.has(Some(field)) {
            return Err(Refused::NotFound(format!(
                "no target field matches `{field}`"
            )));
        }
        Ok(Explanation::Explained {
            field: field.to_string(),
            text: ex.text(Some(field)),
        })
    }

    /// Writes `text` to the mapping file `rel`: only inside the root, never through a
    /// symlink (not the file, not a folder on the way), and whole or not at all (a
    /// temporary file beside it, renamed over it).
    pub fn save(&self, rel: &str, text: &str) -> Result<(), Refused> {
        let path = self.path_of(rel)?;
        let Some(dir) = path.parent() else {
            return Err(Refused::Bad(format!("`{rel}` has no folder")));
        };
        // Every folder from the root to the file is a real folder of that name.
        let mut at = self.root.clone();
        for c in Path::new(rel)
            .parent()
            .into_iter()
            .flat_map(Path::components)
        {
            at.push(c);
            let real = std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir());
            if !real {
                return Err(Refused::Bad(format!(
                    "{} is not a folder of the mapping root (a symlink or missing): not saved",
                    display(&self.root, &at)
                )));
            }
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if !m.is_file() => {
                return Err(Refused::Bad(format!(
                    "{rel} is not a regular file (a symlink?): not saved"
                )))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Refused::Bad(format!("{rel}: {e}"))),
        }
        if text.len() as u64 > MAX_TEXT_BYTES {
            return Err(Refused::Bad(too_long()));
        }
        let fail = |e: std::io::Error| Refused::Bad(format!("{rel}: {e}"));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        use std::io::Write;
        tmp.write_all(text.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(fail)?;
        // A rename replaces the name itself: a symlink put there meanwhile is replaced,
        // not followed.
        tmp.persist(&path).map_err(|e| fail(e.error))?;
        Ok(())
    }

    /// The edited text loaded as the file `rel` of the root.
    fn load(&self, rel: &str, text: &str) -> Result<(Mapping, Vec<Diag>), Refused> {
        let path = self.path_of(rel)?;
        if text.len() as u64 > MAX_TEXT_BYTES {
            return Err(Refused::Bad(too_long()));
        }
        Ok(load::load_text_within(&path, text, &self.root))
    }

    /// The program of the edited mapping and the order, or the outcome that stops there
    /// (the mapping's errors, an order that is not JSON).
    fn program_and_order(
        &self,
        rel: &str,
        text: &str,
        order: &str,
    ) -> Result<Result<(Program, Value), Outcome>, Refused> {
        if order.len() > MAX_ORDER_BYTES {
            return Err(Refused::Bad(format!(
                "the order is larger than {} MiB",
                MAX_ORDER_BYTES >> 20
            )));
        }
        let (m, mut diags) = self.load(rel, text)?;
        let mut prog = None;
        if !diags.iter().any(Diag::is_error) {
            let opts = Options {
                root: Some(self.root.clone()),
                ..Options::default()
            };
            let (p, more) = compile(&m, &opts);
            diags.extend(more);
            prog = p;
        }
        let prog = match prog {
            Some(p) if !diags.iter().any(Diag::is_error) => p,
            _ => {
                return Ok(Err(Outcome::MappingErrors {
                    problems: problems(&m, &diags),
                }))
            }
        };
        // Editors on Windows start a file with a byte order mark; it is not part of the JSON.
        match serde_json::from_str(order.trim_start_matches('\u{feff}')) {
            Ok(doc) => Ok(Ok((prog, doc))),
            Err(e) => Ok(Err(Outcome::BadOrder {
                message: format!("the order is not valid JSON: {e}"),
            })),
        }
    }
}

fn too_long() -> String {
    format!("the mapping is larger than {} MiB", MAX_TEXT_BYTES >> 20)
}

/// `at` shown relative to the root.
fn display(root: &Path, at: &Path) -> String {
    at.strip_prefix(root).unwrap_or(at).display().to_string()
}

/// Folders deeper than this are not searched for mapping files.
const MAX_DEPTH: usize = 8;

/// The `.map` files below `dir` (symlinks not followed), relative to `root`.
fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let Ok(t) = e.file_type() else { continue };
        let p = e.path();
        if t.is_dir() && depth < MAX_DEPTH {
            walk(root, &p, depth + 1, out);
        } else if t.is_file() && p.extension().is_some_and(|x| x == "map") {
            if let Some(rel) = p.strip_prefix(root).ok().and_then(Path::to_str) {
                out.push(rel.replace('\\', "/"));
            }
        }
    }
}

/// One problem of a check, for the page: where it is (in the edited text: `from`/`to`
/// in UTF-16 units, as the editor counts; else only the file, line and column), its
/// code, message, label and help.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Whether it points into the edited text.
    pub here: bool,
    /// Its span in the edited text, in UTF-16 units.
    pub from: Option<usize>,
    pub to: Option<usize>,
    /// Its span in its file, in bytes (as `bondmap check --format json` gives it).
    pub span: Option<[u32; 2]>,
}

/// Each problem once (a problem of a used file reached twice shows once, as in `check`),
/// in file and span order.
fn problems(m: &Mapping, diags: &[Diag]) -> Vec<Problem> {
    let mut seen = std::collections::HashSet::new();
    let mut ordered: Vec<&Diag> = diags
        .iter()
        .filter(|d| {
            seen.insert((
                d.span.map(|s| (s.file, s.start, s.end)),
                d.code,
                d.message.clone(),
            ))
        })
        .collect();
    ordered.sort_by_key(|d| d.span.map(|s| (s.file != m.root, s.file.0, s.start)));
    let root_name = m
        .sources
        .files
        .get(m.root.0 as usize)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    ordered
        .into_iter()
        .map(|d| {
            let at = d
                .span
                .and_then(|s| Some((s, m.sources.files.get(s.file.0 as usize)?)));
            let (file, line, column, here, from, to, span) = match at {
                Some((s, f)) => {
                    let (line, column) = line_col(&f.text, s.start as usize);
                    let here = s.file == m.root;
                    let utf16 = |b: u32| here.then(|| utf16_at(&f.text, b as usize));
                    (
                        f.name.clone(),
                        Some(line),
                        Some(column),
                        here,
                        utf16(s.start),
                        utf16(s.end),
                        Some([s.start, s.end]),
                    )
                }
                None => (root_name.clone(), None, None, true, None, None, None),
            };
            Problem {
                code: d.code.as_str(),
                severity: match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                message: d.message.clone(),
                label: d.label.clone(),
                help: d.help.clone(),
                file,
                line,
                column,
                here,
                from,
                to,
                span,
            }
        })
        .collect()
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// Byte `at` of `text` in UTF-16 units (the editor's positions); past the end, the end.
fn utf16_at(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].encode_utf16().count()
}

/// What became of an order with the edited mapping.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The request (`logistics_interface`) as `map --pretty` prints it, personal values
    /// masked, and the field each of its lines holds.
    Mapped {
        order_id: Option<String>,
        request: String,
        fields: Vec<Option<String>>,
    },
    /// Rejected by the run, with its code (`bondmap::run::…`), its message as `map`
    /// gives it and explain's trace of what rejected it.
    Rejected {
        order_id: Option<String>,
        code: &'static str,
        message: String,
        explain: String,
    },
    /// The mapping does not compile: its problems (as the check gives them).
    MappingErrors { problems: Vec<Problem> },
    /// The order is not JSON.
    BadOrder { message: String },
}

/// A field's explanation, or the outcome that left nothing to explain.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Explanation {
    Explained { field: String, text: String },
    Not(Outcome),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let t = "a\n杭州𝄞x";
        assert_eq!(line_col(t, 2), (2, 1));
        assert_eq!(line_col(t, 2 + 6), (2, 3));
        // 𝄞 is two UTF-16 units.
        assert_eq!(utf16_at(t, 2 + 6 + 4), 2 + 2 + 2);
        assert_eq!(utf16_at(t, 3), 2, "inside a character: its start");
    }

    #[test]
    fn only_plain_relative_map_paths() {
        let site = Site::new(Path::new("mappings"), Path::new("examples/orders")).unwrap();
        for bad in [
            "../x.map",
            "/etc/passwd.map",
            "warehouses/../x.map",
            "./x.map",
            "x.txt",
            "",
        ] {
            assert!(matches!(site.path_of(bad), Err(Refused::Bad(_))), "{bad}");
        }
        assert!(site.path_of("warehouses/hangzhou_xiasha.map").is_ok());
    }
}
