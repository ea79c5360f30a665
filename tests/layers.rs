//! The language core's arrows run one way (issue 16): `syntax → load → compile → program ← run`.
//! Reads every `crate::…` and `super::…` path of the non-test code of `src/` and fails on an
//! import cycle between the core's modules, on `run/` or `program/` reaching `compile/`, and on
//! a glob import (`use …::*`) in the core.

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
fn the_core_has_no_glob_imports() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut globs = Vec::new();
    for f in files {
        let m = module_of(&f);
        // syntax/ (the parser's `use super::ast::*`) is left to the syntax layer's owner.
        if !m
            .first()
            .is_some_and(|t| CORE.contains(&t.as_str()) && t != "syntax")
        {
            continue;
        }
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
