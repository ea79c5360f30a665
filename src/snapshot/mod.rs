//! Snapshot tests of a mapping repo (`bondmap test`, and the repo's own tests/mappings.rs):
//! every mapping that maps RED orders × every example order, its output (the request,
//! pretty-printed, or `REJECTED` and the message) compared with a reviewed snapshot.
//!
//! Which mappings are tested: every `.map` file under the mappings folder whose `source`
//! schema is the RED order (`$id` [`RED_ORDER_SCHEMA_ID`]) and that checks clean with its
//! params set (a warehouse file). A base file whose only mistakes are params left unset
//! is skipped (the files that use it are tested), and so is a mapping of another message
//! (its source is another schema: the example orders are not its input). A routes file
//! (`route "…" when …`) is tested too: each order through the mapping that takes it, or
//! `SKIPPED` and the reason. Any other mistake stops the run, reported as `check` reports it.
//!
//! Snapshots: `SNAPSHOTS/mappings/<mapping stem>__<example stem>.snap`.

pub mod diff;
pub mod file;
mod pretty;

pub use pretty::pretty;

use crate::compile::{compile, Options};
use crate::diag::{Code, Diag};
use crate::engine::MappingErrors;
use crate::load::load_within;
use crate::program::Program;
use crate::repo::display_name;
use crate::route::{is_routes_file, Pick, Router};
use crate::schema::Schema;
use crate::syntax::Span;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `$id` of the RED order schema: a mapping reading it maps orders.
pub const RED_ORDER_SCHEMA_ID: &str = "bondmap:red.cross_border_order";

/// Largest example order read.
const MAX_EXAMPLE: u64 = crate::repo::fs::MAX_TEXT_BYTES;

/// Where a repo keeps what `bondmap test` reads and writes.
#[derive(Debug, Clone)]
pub struct Layout {
    pub mappings: PathBuf,
    pub examples: PathBuf,
    /// The snapshots folder; mapping snapshots go to its `mappings/` subfolder.
    pub snapshots: PathBuf,
    /// Mappings tested over a folder of their own (`--examples-for MAPPING=DIR`): a
    /// mapping of another message (its source is not a RED order) is tested this way.
    pub examples_for: Vec<(PathBuf, PathBuf)>,
    /// Only the mappings of `examples_for` are tested (`bondmap.toml` lists them).
    pub listed_only: bool,
    /// Examples folders where no example is "nothing to test", not a mistake.
    pub may_be_empty: Vec<PathBuf>,
    /// The mapping root every mapping reads within (`--root`); `None`: each its default.
    pub root: Option<PathBuf>,
}

impl Layout {
    /// `mappings/`, `examples/orders/` and `snapshots/` under `root`.
    pub fn under(root: &Path) -> Layout {
        Layout {
            mappings: root.join("mappings"),
            examples: root.join("examples/orders"),
            snapshots: root.join("snapshots"),
            examples_for: Vec::new(),
            listed_only: false,
            may_be_empty: Vec::new(),
            root: None,
        }
    }

    /// The folder that holds the snapshots folder: snapshots are written below it only.
    fn top(&self) -> PathBuf {
        self.snapshots
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// Why a run could not be made (exit 2).
#[derive(Debug)]
pub enum Problem {
    /// A folder or file that cannot be read, or a layout that cannot be tested.
    Io(String),
    /// A mapping that does not check.
    Mapping(Box<MappingErrors>),
}

impl Problem {
    pub fn render(&self, color: bool) -> String {
        match self {
            Problem::Io(m) => format!("error: {m}\n"),
            Problem::Mapping(e) => e.render(color),
        }
    }
}

/// A mapping file left out of the run, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub mapping: String,
    pub reason: String,
}

/// One mapping × one example: what it gives now and what is stored.
#[derive(Debug, Clone)]
pub struct Case {
    /// The mapping file as shown (relative to the current folder when under it).
    pub mapping: String,
    /// The example order file as shown.
    pub example: String,
    /// `<mapping stem>__<example stem>`.
    pub name: String,
    /// The `.snap` file.
    pub path: PathBuf,
    /// The output now (normalized as insta compares it).
    pub body: String,
    /// The stored body, if there is a snapshot.
    pub stored: Option<String>,
    /// The mapping's target schema, to keep personal fields out of a diff.
    pub target: Option<Arc<Schema>>,
    /// The folder snapshot folders are made in (never through a symlink).
    pub top: PathBuf,
}

/// How a case compares with its snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    New,
    Changed,
}

impl Case {
    pub fn outcome(&self) -> Outcome {
        match &self.stored {
            None => Outcome::New,
            Some(s) if *s == self.body => Outcome::Passed,
            Some(_) => Outcome::Changed,
        }
    }

    fn meta(&self) -> file::Meta {
        file::Meta {
            source: self.mapping.clone(),
            input_file: Some(self.example.clone()),
        }
    }

    /// Stores the output as the snapshot and drops a pending one.
    pub fn accept(&self) -> Result<(), String> {
        file::write(&self.top, &self.path, &self.meta(), &self.body)?;
        file::remove_pending(&self.path)
    }

    /// Leaves the output as `NAME.snap.new` for `--review`, `--accept` or `cargo insta review`.
    pub fn leave_pending(&self) -> Result<PathBuf, String> {
        let p = file::pending_path(&self.path);
        file::write(&self.top, &p, &self.meta(), &self.body)?;
        Ok(p)
    }

    /// Drops a pending snapshot left by an earlier failed run.
    pub fn clear_pending(&self) -> Result<(), String> {
        file::remove_pending(&self.path)
    }

    /// A reviewer's account of a failed case: which mapping, which example, each change
    /// (or, for a new one, `with_body`: every field it would store). Empty when it passed.
    pub fn report(&self, with_body: bool) -> String {
        let target = self.target.as_deref().map(|s| &s.root);
        let shown = display_name(&self.path);
        let (head, lines) = match (self.outcome(), &self.stored) {
            (Outcome::Passed, _) => return String::new(),
            (Outcome::Changed, Some(old)) => {
                let mut lines = diff::changes(old, &self.body, target);
                if lines.is_empty() {
                    // Equal JSON written another way (a hand-edited snapshot).
                    lines.push("the same fields and values, laid out differently".into());
                }
                (
                    format!("changed: {} × {} ({shown})", self.mapping, self.example),
                    lines,
                )
            }
            _ => (
                format!(
                    "new: {} × {} (no snapshot {shown} yet)",
                    self.mapping, self.example
                ),
                if with_body {
                    diff::leaves(&self.body, target)
                } else {
                    Vec::new()
                },
            ),
        };
        let mut s = head;
        s.push('\n');
        for l in lines {
            s.push_str("  ");
            s.push_str(&l);
            s.push('\n');
        }
        s
    }
}

/// What a run covers: every case, and the mapping files it left out.
#[derive(Debug)]
pub struct Suite {
    pub cases: Vec<Case>,
    pub skipped: Vec<Skipped>,
    /// Snapshots of a tested mapping for an example that is gone (`--accept` removes them).
    pub unused: Vec<PathBuf>,
}

impl Suite {
    pub fn failed(&self) -> impl Iterator<Item = &Case> {
        self.cases.iter().filter(|c| c.outcome() != Outcome::Passed)
    }
}

/// Maps every example through every order mapping of `layout` and reads the stored
/// snapshots. Every problem that stops the run is returned, not only the first.
pub fn collect(layout: &Layout) -> Result<Suite, Vec<Problem>> {
    own_folder(&layout.snapshots).map_err(|e| vec![e])?;
    // The folders read must not lead out of the repo through a symlink.
    let top = layout.top();
    let folders = [&layout.mappings, &layout.examples]
        .into_iter()
        .chain(layout.examples_for.iter().map(|(_, d)| d));
    for d in folders {
        no_link_out(d, &top).map_err(|e| vec![e])?;
    }
    let walk_root = layout.root.as_deref().unwrap_or(&layout.mappings);
    let maps = files(&layout.mappings, walk_root, "map", true).map_err(|e| vec![e])?;
    if maps.is_empty() {
        return Err(vec![Problem::Io(format!(
            "no .map files under {}",
            display_name(&layout.mappings)
        ))]);
    }
    let mut problems = Vec::new();
    let declared = declared_dirs(layout, &maps, &mut problems);
    let mut tested: Vec<(PathBuf, Runner, Option<Arc<Schema>>)> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut skipped = Vec::new();
    let users = users(&maps, layout.root.as_deref());
    for ((m, own), used_by) in maps.iter().zip(&declared).zip(&users) {
        if layout.listed_only && own.is_none() {
            continue;
        }
        match classify(m, own.is_some(), used_by, layout.root.as_deref()) {
            Ok(Role::Tested(p, t)) => {
                tested.push((m.clone(), p, t));
                dirs.push(own.clone().unwrap_or_else(|| layout.examples.clone()));
            }
            Ok(Role::Skipped(reason)) => skipped.push(Skipped {
                mapping: display_name(m),
                reason,
            }),
            Err(e) => problems.push(e),
        }
    }
    // Each examples folder read once, whatever number of mappings it serves.
    let mut docs: Vec<(PathBuf, Vec<(PathBuf, serde_json::Value)>)> = Vec::new();
    for d in &dirs {
        if !docs.iter().any(|(x, _)| x == d) {
            let empty_ok = layout.may_be_empty.contains(d);
            docs.push((d.clone(), read_examples(d, empty_ok, &mut problems)));
        }
    }
    // A mapping whose examples folder may be empty and is: nothing to test, said so.
    let mut k = 0;
    while k < tested.len() {
        let none = docs
            .iter()
            .any(|(x, e)| *x == dirs[k] && e.is_empty() && layout.may_be_empty.contains(x));
        if none {
            skipped.push(Skipped {
                mapping: display_name(&tested[k].0),
                reason: format!(
                    "no examples (*.json) in {}, nothing to test",
                    display_name(&dirs[k])
                ),
            });
            tested.remove(k);
            dirs.remove(k);
        } else {
            k += 1;
        }
    }
    // Two tested mappings of one stem would write the same snapshot files.
    for (i, (a, ..)) in tested.iter().enumerate() {
        if let Some((b, ..)) = tested[..i].iter().find(|(b, ..)| stem(b) == stem(a)) {
            problems.push(Problem::Io(format!(
                "{} and {} are both named `{}`: their snapshots would share names; rename one",
                display_name(b),
                display_name(a),
                stem(a)
            )));
        }
    }
    if tested.is_empty()
        && problems.is_empty()
        && skipped.iter().all(|s| !s.reason.starts_with("no examples"))
    {
        problems.push(Problem::Io(format!(
            "no mapping under {} maps RED orders with its params set (every file was skipped)",
            display_name(&layout.mappings)
        )));
    }
    if !problems.is_empty() {
        return Err(once_each(problems));
    }
    let dir = layout.snapshots.join("mappings");
    let mut cases = Vec::new();
    for ((m, prog, target), d) in tested.iter().zip(&dirs) {
        let examples = docs
            .iter()
            .find(|(x, _)| x == d)
            .map(|(_, e)| e.as_slice())
            .unwrap_or_default();
        for (ex, doc) in examples {
            let name = format!("{}__{}", stem(m), stem(ex));
            let path = dir.join(format!("{name}.snap"));
            let stored = file::read(&path).map_err(|e| {
                vec![Problem::Io(format!(
                    "cannot read {}: {e}",
                    display_name(&path)
                ))]
            })?;
            // A pending snapshot is replaced or removed later: a link there is refused now,
            // before anything is written.
            let pending = file::pending_path(&path);
            if std::fs::symlink_metadata(&pending).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(vec![Problem::Io(format!(
                    "{} is a symlink: bondmap reads and writes no snapshot through one",
                    display_name(&pending)
                ))]);
            }
            cases.push(Case {
                mapping: storage_name(m),
                example: storage_name(ex),
                name,
                path,
                body: prog.output(doc),
                stored,
                target: target.clone(),
                top: layout.top(),
            });
        }
    }
    let unused = unused(&dir, &tested, &cases).map_err(|e| vec![e])?;
    Ok(Suite {
        cases,
        skipped,
        unused,
    })
}

/// `.snap` files named after a tested mapping that no case produces: their example was
/// removed or renamed. Snapshots of other names (another tool's) are left alone.
fn unused(
    dir: &Path,
    tested: &[(PathBuf, Runner, Option<Arc<Schema>>)],
    cases: &[Case],
) -> Result<Vec<PathBuf>, Problem> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let stems: Vec<String> = tested.iter().map(|(m, ..)| stem(m)).collect();
    let mut out = Vec::new();
    for p in files(dir, dir, "snap", false)? {
        let name = stem(&p);
        let ours = name
            .split_once("__")
            .is_some_and(|(m, _)| stems.iter().any(|s| s == m));
        if ours && !cases.iter().any(|c| c.name == name) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The snapshot body of one order: the request pretty-printed, or `REJECTED` and why.
pub fn output(prog: &Program, doc: &serde_json::Value) -> String {
    file::normalize(&match crate::run::run(prog, doc) {
        Ok(json) => pretty(&json),
        Err(e) => format!("{}\n{e}", diff::REJECTED),
    })
}

/// The snapshot body of one order through a routes file: the request of the mapping that
/// takes it, `SKIPPED` and the reason when no route does, or `REJECTED` and why.
pub fn routed_output(router: &Router, doc: &serde_json::Value) -> String {
    match router.pick(doc) {
        Ok(Pick::Mapping { program, .. }) => output(program, doc),
        Ok(Pick::Skipped { reason }) => file::normalize(&format!("{}\n{reason}", diff::SKIPPED)),
        Err(e) => file::normalize(&format!("{}\n{e}", diff::REJECTED)),
    }
}

/// What maps a tested file's orders.
enum Runner {
    Mapping(Box<Program>),
    Routes(Box<Router>),
}

impl Runner {
    fn output(&self, doc: &serde_json::Value) -> String {
        match self {
            Runner::Mapping(p) => output(p, doc),
            Runner::Routes(r) => routed_output(r, doc),
        }
    }
}

enum Role {
    Tested(Runner, Option<Arc<Schema>>),
    Skipped(String),
}

/// A routes file is tested as a whole: each order through the mapping that takes it. Its
/// mappings' target (for keeping personal fields out of a diff) is the first one's.
fn classify_routes(path: &Path, root: Option<&Path>) -> Result<Role, Problem> {
    let opts = Options {
        root: root.map(Path::to_path_buf),
        ..Options::default()
    };
    let router = Router::load(path, &opts).map_err(Problem::Mapping)?;
    let target = router
        .programs()
        .next()
        .map(|(p, _)| load_within(p, root).0)
        .and_then(|m| contract(&m, m.target.as_ref()))
        .map(Arc::new);
    Ok(Role::Tested(Runner::Routes(Box::new(router)), target))
}

/// A mistake in a used file shows once, not once per file that uses it (as `check` does).
fn once_each(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for p in problems {
        match p {
            Problem::Mapping(mut e) => {
                let sources = &e.mapping.sources;
                let fresh: Vec<Diag> = e
                    .diags
                    .iter()
                    .filter(|d| {
                        let file = d.span.map(|s| sources.get(s.file).path.clone());
                        seen.insert((
                            file,
                            d.span.map(|s| (s.start, s.end)),
                            d.code,
                            d.message.clone(),
                        ))
                    })
                    .cloned()
                    .collect();
                if fresh.iter().any(Diag::is_error) {
                    e.diags = fresh;
                    out.push(Problem::Mapping(e));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// For each mapping file, the examples folder declared for it, if any. A declaration
/// naming no file under the mappings folder is a problem: a typo must not test nothing.
fn declared_dirs(
    layout: &Layout,
    maps: &[PathBuf],
    problems: &mut Vec<Problem>,
) -> Vec<Option<PathBuf>> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let keys: Vec<Option<PathBuf>> = maps.iter().map(|m| canon(m)).collect();
    let mut out = vec![None; maps.len()];
    for (m, d) in &layout.examples_for {
        let at = canon(m).and_then(|c| keys.iter().position(|k| k.as_ref() == Some(&c)));
        match at {
            Some(i) => out[i] = Some(d.clone()),
            None => problems.push(Problem::Io(format!(
                "--examples-for names {}, which is not a .map file under {}",
                display_name(m),
                display_name(&layout.mappings)
            ))),
        }
    }
    out
}

/// The `*.json` documents of an examples folder, in name order; an unreadable or invalid
/// one is a problem (an example that cannot be read tests nothing).
fn read_examples(
    dir: &Path,
    empty_ok: bool,
    problems: &mut Vec<Problem>,
) -> Vec<(PathBuf, serde_json::Value)> {
    let examples = match files(dir, dir, "json", false) {
        Ok(e) => e,
        Err(e) => {
            problems.push(e);
            return Vec::new();
        }
    };
    if examples.is_empty() && !empty_ok {
        problems.push(Problem::Io(format!(
            "no examples (*.json) in {}",
            display_name(dir)
        )));
    }
    let mut docs = Vec::new();
    for ex in examples {
        let read = crate::repo::fs::read_regular_text(&ex, MAX_EXAMPLE)
            .map_err(|e| format!("cannot read {}: {e}", display_name(&ex)))
            .and_then(|t| {
                serde_json::from_str::<serde_json::Value>(&t)
                    .map_err(|e| format!("{} is not valid JSON: {e}", display_name(&ex)))
            });
        match read {
            Ok(d) => docs.push((ex, d)),
            Err(e) => problems.push(Problem::Io(e)),
        }
    }
    docs
}

/// Whether a mapping file is tested, skipped, or stops the run. A mapping with its own
/// examples folder (`declared`) is tested whatever its source.
fn classify(
    path: &Path,
    declared: bool,
    used_by: &[String],
    root: Option<&Path>,
) -> Result<Role, Problem> {
    if is_routes_file(path) {
        return classify_routes(path, root);
    }
    let name = display_name(path);
    let (mapping, diags) = load_within(path, root);
    let fail = |mapping, diags| {
        Problem::Mapping(Box::new(MappingErrors {
            mapping,
            diags,
            name: name.clone(),
        }))
    };
    if diags.iter().any(Diag::is_error) {
        return Err(fail(mapping, diags));
    }
    if let Some((src, _)) = mapping.source.as_ref().filter(|_| !declared) {
        // An unreadable source schema is compile's to report, below.
        if let Some(s) = contract(&mapping, Some(&(src.clone(), Span::default()))) {
            if s.id.as_deref() != Some(RED_ORDER_SCHEMA_ID) {
                return Ok(Role::Skipped(format!(
                    "its source is {} ({}), not a RED order (--examples-for gives it examples)",
                    display_name(src),
                    s.id.as_deref().unwrap_or("no $id")
                )));
            }
        }
    }
    let opts = Options {
        root: root.map(Path::to_path_buf),
        ..Options::default()
    };
    let (prog, errs) = compile(&mapping, &opts);
    if let Some(p) = prog.filter(|_| !errs.iter().any(Diag::is_error)) {
        let target = contract(&mapping, mapping.target.as_ref()).map(Arc::new);
        return Ok(Role::Tested(Runner::Mapping(Box::new(p)), target));
    }
    // Its own params left unset aside (a base file's), does it check? A param it inherits
    // and leaves unset is still a mistake here, as in `check`.
    let base = Options {
        allow_unset_params: true,
        ..opts
    };
    let (_, more) = compile(&mapping, &base);
    if more.iter().any(Diag::is_error) {
        return Err(fail(mapping, more));
    }
    let names: Vec<String> = errs
        .iter()
        .filter(|d| d.is_error() && d.code == Code::UnsetParam)
        .filter_map(|d| d.span)
        .map(|s| format!("`{}`", mapping.sources.snippet(s)))
        .collect();
    if names.is_empty() {
        return Err(fail(mapping, errs));
    }
    let names = names.join(", ");
    Ok(Role::Skipped(if used_by.is_empty() {
        // Its own params unset, nobody here sets them: it runs with params given at run
        // time (--param, or a warehouse's, as cancel.map does).
        format!(
            "params {names} unset and no mapping here uses it: it runs with params given at run time"
        )
    } else {
        format!(
            "a base mapping (params {names} unset), tested through {}",
            used_by.join(", ")
        )
    }))
}

/// For each mapping file, the files under the mappings folder that `use` it (directly or
/// not), by file name.
fn users(maps: &[PathBuf], root: Option<&Path>) -> Vec<Vec<String>> {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let reads: Vec<Vec<PathBuf>> = maps
        .iter()
        .map(|m| {
            if is_routes_file(m) {
                return Vec::new();
            }
            let (mapping, _) = load_within(m, root);
            let mut files = mapping.sources.files.iter().map(|f| canon(&f.path));
            files.next(); // the file itself
            files.collect()
        })
        .collect();
    maps.iter()
        .map(|m| {
            let me = canon(m);
            maps.iter()
                .zip(&reads)
                .filter(|(_, r)| r.contains(&me))
                .map(|(u, _)| {
                    u.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A path as written into a snapshot header: relative to the current folder, with `/`.
fn storage_name(p: &Path) -> String {
    display_name(p).replace('\\', "/")
}

/// Files ending in `.ext` in `dir` (and its subfolders when `deep`), sorted, walked
/// within `root`: a symlink out of it, a FIFO or a device is a problem, never read.
fn files(dir: &Path, root: &Path, ext: &str, deep: bool) -> Result<Vec<PathBuf>, Problem> {
    let found = crate::repo::walk::walk(dir, root, ext, deep).map_err(Problem::Io)?;
    if let Some(r) = found.refused.first() {
        return Err(Problem::Io(r.to_string()));
    }
    Ok(found.files)
}

/// A contract a mapping names, read as the mapping reads it (within its roots, or from
/// the bundled set).
fn contract(m: &crate::load::Mapping, at: Option<&(PathBuf, Span)>) -> Option<Schema> {
    let (p, _) = at?;
    let text = m
        .within
        .read_text(p, crate::repo::fs::MAX_TEXT_BYTES)
        .ok()?;
    Schema::from_text(p, &text).ok()
}

/// A folder of the repo that is a symlink must lead to a place inside `top`.
fn no_link_out(dir: &Path, top: &Path) -> Result<(), Problem> {
    let link = std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
    let inside = |d: &Path| {
        let top = top.canonicalize().unwrap_or_else(|_| top.to_path_buf());
        d.canonicalize().is_ok_and(|c| c.starts_with(top))
    };
    if link && !inside(dir) {
        return Err(Problem::Io(format!(
            "{} is a symlink to a place outside {}: not read",
            display_name(dir),
            display_name(top)
        )));
    }
    Ok(())
}

/// The snapshots folder must not be a symlink (nor its `mappings/`): its snapshots would
/// be read from and written to another place.
fn own_folder(snapshots: &Path) -> Result<(), Problem> {
    for p in [snapshots.to_path_buf(), snapshots.join("mappings")] {
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Problem::Io(format!(
                "{} is a symlink: bondmap reads and writes no snapshot through one",
                display_name(&p)
            )));
        }
    }
    Ok(())
}
