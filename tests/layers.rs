//! The language core's arrows run one way (issue 16): `syntax → load → compile → program ← run`.
//! Reads every `crate::…`, `super::…` and `self::…` path (and a module's own children named
//! bare) of the non-test code of `src/` and fails on an import cycle between the core's
//! modules, on an import cycle between the files of one folder (issue 27: `run/eval.rs` and
//! `run/explain.rs` imported each other), on `run/` or `program/` reaching `compile/`, and on
//! a glob import (`use …::*`) outside a test module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules of the language core, as top-level names of `src/`.
const CORE: &[&str] = &[
    "syntax", "load", "compile", "program", "run", "path", "value", "money", "schema", "diag",
];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/run/eval.rs` → `["run", "eval"]`; `src/program/mod.rs` → `["program"]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut m: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if m.last().is_some_and(|l| l == "mod" || l == "lib") {
        m.pop();
    }
    m
}

/// The text of a file up to its unit tests (`#[cfg(test)]`), comments dropped.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level modules each path in `code` names, `crate::x` or `super::…` resolved from `module`.
/// The module name a path starts with (`program::Op` → `program`), if any.
fn first_name(rest: &str) -> Option<String> {
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

fn targets(module: &[String], code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        out.extend(first_name(&code[i + "crate::".len()..]));
    }
    // `super::` inside a sub-module stays inside its top-level module, except from a
    // top-level file (`src/x.rs` has no parent but the crate).
    if module.len() == 1 && code.contains("super::") && !module[0].is_empty() {
        for (i, _) in code.match_indices("super::") {
            out.extend(first_name(&code[i + "super::".len()..]));
        }
    }
    out
}

/// Which core module imports which (top-level granularity), from the source files.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let m = module_of(&f);
        let Some(top) = m.first().cloned() else {
            continue;
        };
        if !CORE.contains(&top.as_str()) {
            continue;
        }
        let e = g.entry(top.clone()).or_default();
        for t in targets(&m, &code_of(&f)) {
            if t != top && CORE.contains(&t.as_str()) {
                e.insert(t);
            }
        }
    }
    g
}

/// A cycle of `g` as the list of its modules, if there is one.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for t in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(t, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(c) = visit(n, g, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

/// One source file of the library: its module path (`["run", "eval"]`, `["run"]` for
/// `run/mod.rs`, `[]` for `lib.rs`) and its code.
struct Unit {
    module: Vec<String>,
    code: String,
}

/// Every file of the library (`main.rs`, the binary, is a crate of its own).
fn units() -> Vec<Unit> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files
        .iter()
        .filter(|f| !f.ends_with("main.rs") || f.parent() != Some(&src()))
        .map(|f| Unit {
            module: module_of(f),
            code: code_of(f),
        })
        .collect()
}

fn ident_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

/// The paths of the use tree or path at the start of `s`, each as its segments:
/// `a::b::{c::D, e, self}` gives `a::b::c::D`, `a::b::e` and `a::b`.
fn use_tree(s: &str) -> Vec<Vec<String>> {
    let mut segs = Vec::new();
    let mut rest = s;
    loop {
        let n = ident_len(rest);
        if n == 0 {
            break;
        }
        if &rest[..n] != "self" {
            segs.push(rest[..n].to_string());
        }
        rest = &rest[n..];
        let Some(r) = rest.strip_prefix("::") else {
            return vec![segs];
        };
        rest = r;
        if let Some(inner) = rest.strip_prefix('{') {
            // Each branch of the group, up to its matching brace.
            let mut out = Vec::new();
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        branch(&inner[start..i], &segs, &mut out);
                        return out;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        branch(&inner[start..i], &segs, &mut out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return out;
        }
    }
    vec![segs]
}

fn branch(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    for tail in use_tree(text) {
        let mut p = prefix.to_vec();
        p.extend(tail);
        out.push(p);
    }
}

/// The paths into the library that `code`, the code of `module`, names, each resolved from
/// the crate root: `crate::…`, `super::…`, `self::…`, and `x::…` where `x` is a child of
/// `module` (in `run/mod.rs`, `order::run` is `run::order::run`).
fn named_paths(module: &[String], children: &BTreeSet<String>, code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let Some(c) = code[i..].chars().next() else {
            break;
        };
        let prev = code[..i].chars().last();
        let starts = (c.is_alphabetic() || c == '_')
            && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == ':');
        if !starts {
            i += c.len_utf8();
            continue;
        }
        let n = ident_len(&code[i..]);
        let word = &code[i..i + n];
        if !code[i + n..].starts_with("::") {
            i += n;
            continue;
        }
        for path in use_tree(&code[i..]) {
            let mut segs = path.into_iter().peekable();
            let mut base: Vec<String> = match word {
                "crate" => {
                    segs.next();
                    Vec::new()
                }
                "super" | "self" => module.to_vec(),
                w if children.contains(w) => module.to_vec(),
                _ => break,
            };
            while segs.peek().is_some_and(|s| s == "super") {
                segs.next();
                base.pop();
            }
            base.extend(segs);
            out.push(base);
        }
        i += n;
    }
    out
}

/// The modules just below `module` among `units`.
fn children_of(units: &[Unit], module: &[String]) -> BTreeSet<String> {
    units
        .iter()
        .filter(|u| u.module.len() > module.len() && u.module.starts_with(module))
        .map(|u| u.module[module.len()].clone())
        .collect()
}

/// The import graph inside folder `dir` (a module path): a node per file or sub-folder in
/// it, `mod` for its own `mod.rs` (or `lib.rs`), an edge where one names another (an item
/// of the folder's `mod.rs` itself, `super::Item`, is an edge to `mod`).
fn folder_graph(units: &[Unit], dir: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let inside = children_of(units, dir);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in units.iter().filter(|u| u.module.starts_with(dir)) {
        let from = u.module.get(dir.len()).cloned().unwrap_or("mod".into());
        let kids = children_of(units, &u.module);
        for path in named_paths(&u.module, &kids, &u.code) {
            if !path.starts_with(dir) {
                continue;
            }
            let to = match path.get(dir.len()) {
                Some(c) if inside.contains(c) => c.clone(),
                _ => "mod".to_string(),
            };
            if to != from {
                g.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    g
}

/// Every folder of the library as a module path (`[]` for `src/` itself).
fn folders(units: &[Unit]) -> BTreeSet<Vec<String>> {
    units
        .iter()
        .flat_map(|u| (0..u.module.len()).map(|k| u.module[..k].to_vec()))
        .filter(|d| !children_of(units, d).is_empty())
        .collect()
}

/// The groups of nodes of `g` that reach each other (its strongly connected components
/// of more than one node): the files each circle goes through.
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(n) = todo.pop() {
            for t in g.get(&n).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    todo.push(t.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> = g.keys().map(|n| (n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for (n, r) in &reaches {
        let group: Vec<String> = reaches
            .iter()
            .filter(|(m, rm)| r.contains(**m) && rm.contains(*n))
            .map(|(m, _)| (*m).clone())
            .collect();
        if group.len() > 1 && !out.contains(&group) {
            out.push(group);
        }
    }
    out
}

/// Folders whose own files import each other in a circle, each through its `mod.rs`: the
/// folder's face re-exports or calls a file that uses an item `mod.rs` defines. Owned by
/// other work (issue 27 routes them); each comes off this list when its circle is gone,
/// and the test fails until it does.
/// - `callback`: `mod.rs` re-exports `server::Receiver`; `server.rs` uses `super::{handle,
///   Answer, CallbackConfig, Sink, MAX_BODY}`.
/// - `route`: `mod.rs` re-exports `build::{check, is_routes_file}` and calls `build::load`;
///   `build.rs` uses `super::{reason, Route, Routed, Router}`.
/// - `sync`: `mod.rs` re-exports `life::`, `route::`, `identity::` and calls `flow`;
///   `flow.rs`, `life.rs`, `progress.rs`, `route.rs` use `super::{Pipeline, OrderLine,
///   SyncError, hash, mapping_identity}`.
/// - `syntax`: `ast.rs` uses `super::Span`; `mod.rs` re-exports `parser::{parse,
///   ParseError}`; `parser.rs` uses `ast`.
/// - `config`, `path`, `store`: split into folders by issue 26 and 27 work, each `mod.rs`
///   defining what its files use and re-exporting them.
const FOLDERS_LEFT: &[&str] = &[
    "callback", "compile", "config", "path", "route", "store", "sync", "syntax",
];

#[test]
fn no_import_cycle_between_the_files_of_a_folder() {
    let units = units();
    let all = folders(&units);
    assert!(all.contains(&vec!["run".to_string()]), "{all:?}");
    let mut cycles = Vec::new();
    for d in &all {
        let name = if d.is_empty() {
            "src".into()
        } else {
            d.join("/")
        };
        let g = folder_graph(&units, d);
        match (find_cycle(&g), FOLDERS_LEFT.contains(&name.as_str())) {
            (Some(_), false) => {
                let circles: Vec<String> = circles(&g).iter().map(|c| c.join(", ")).collect();
                cycles.push(format!("src/{name}: {}", circles.join("; ")))
            }
            (None, true) => cycles.push(format!(
                "src/{name} has no cycle now: take it off FOLDERS_LEFT"
            )),
            _ => {}
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles inside a folder:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_core_has_no_import_cycle() {
    let g = graph();
    assert!(g.contains_key("run") && g.contains_key("program"), "{g:?}");
    if let Some(c) = find_cycle(&g) {
        panic!("import cycle: {}", c.join(" → "));
    }
}

#[test]
fn run_and_program_never_import_the_compiler() {
    let g = graph();
    for m in ["run", "program"] {
        let to = &g[m];
        assert!(!to.contains("compile"), "{m} imports compile: {to:?}");
        assert!(!to.contains("load"), "{m} imports load: {to:?}");
    }
    assert!(!g["program"].contains("run"), "program imports run");
    assert!(!g["compile"].contains("run"), "compile imports run");
}

#[test]
fn the_run_side_files_import_one_way() {
    // Inside run/: eval uses plan and json, plan uses json; nothing points back.
    let dir = src().join("run");
    let uses = |f: &str, m: &str| {
        let code = code_of(&dir.join(f));
        code.contains(&format!("super::{m}")) || code.contains(&format!("crate::run::{m}"))
    };
    assert!(
        !uses("plan.rs", "eval"),
        "run/plan.rs reaches back into run/eval.rs"
    );
    assert!(!uses("json.rs", "eval") && !uses("json.rs", "plan"));
}

#[test]
fn no_glob_imports_outside_test_modules() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut globs = Vec::new();
    // A file of its own that is a test module (`#[cfg(test)] mod tests;` beside it) may
    // glob-import what it tests, as an inline test module does.
    let test_file = |f: &Path| {
        f.file_name().is_some_and(|n| n == "tests.rs")
            && f.parent().is_some_and(|d| {
                let face = std::fs::read_to_string(d.join("mod.rs")).unwrap_or_default();
                face.contains("#[cfg(test)]\nmod tests;")
            })
    };
    for f in files.into_iter().filter(|f| !test_file(f)) {
        for (n, line) in code_of(&f).lines().enumerate() {
            let l = line.trim();
            if (l.starts_with("use ") || l.starts_with("pub use ")) && l.contains("::*") {
                globs.push(format!("{}:{}: {l}", f.display(), n + 1));
            }
        }
    }
    assert!(globs.is_empty(), "glob imports:\n{}", globs.join("\n"));
}

/// The checker itself: a cycle made up here is found.
#[test]
fn a_made_up_cycle_is_found() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&g).map(|c| c.len()), Some(3));
    let code = "use crate::compile::{x};\nfn f() { crate::run::eval::g(); }";
    let t = targets(&["program".into(), "input".into()], code);
    assert!(t.contains("compile") && t.contains("run"), "{t:?}");
}

/// The folder check itself: two files of a made-up folder that import each other are a
/// cycle, found through use trees and `mod.rs`'s bare child paths; one way is none.
#[test]
fn a_made_up_cycle_inside_a_folder_is_found() {
    let unit = |m: &[&str], code: &str| Unit {
        module: m.iter().map(|s| s.to_string()).collect(),
        code: code.to_string(),
    };
    let units = [
        unit(&["f"], "mod a;\nmod b;\npub use a::A;"),
        unit(&["f", "a"], "use super::{c::C, b::{self, B}};"),
        unit(&["f", "b"], "fn g() { crate::f::c::h(); }"),
        unit(&["f", "c"], "use std::fmt;\nuse super::super::f::a::A;"),
    ];
    let f = ["f".to_string()];
    let g = folder_graph(&units, &f);
    let edges = |n: &str| g.get(n).cloned().unwrap_or_default();
    assert_eq!(edges("mod"), ["a".to_string()].into());
    assert_eq!(edges("a"), ["b".to_string(), "c".to_string()].into());
    assert_eq!(edges("b"), ["c".to_string()].into());
    assert_eq!(edges("c"), ["a".to_string()].into());
    let c = find_cycle(&g).expect("a → c → a");
    assert!(
        c.contains(&"a".to_string()) && c.contains(&"c".to_string()),
        "{c:?}"
    );
    // A child naming its folder's own item (`super::Item`) points at `mod`: with `mod`
    // re-exporting that child, a cycle too.
    let units = [
        unit(&["f"], "pub struct Item;\npub use a::A;"),
        unit(&["f", "a"], "use super::Item;"),
        unit(&["f", "b"], "use super::a::A;"),
    ];
    let c = find_cycle(&folder_graph(&units, &f)).expect("mod → a → mod");
    assert_eq!(c.len(), 3, "{c:?}");
    // One way only: no cycle.
    let units = [
        unit(&["f"], "pub use a::A;"),
        unit(&["f", "a"], "use super::b::B;"),
        unit(&["f", "b"], "use crate::g::G;"),
    ];
    assert_eq!(find_cycle(&folder_graph(&units, &f)), None);
}
