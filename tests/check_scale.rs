//! `check` on generated mappings of thousands of statements, one shape each (issue 27:
//! `check` was quadratic in statements): each checks with exactly the diagnostics of its
//! shape, and the reports of small ones are reviewed snapshots (made before the checker
//! was made linear, unchanged by it). How fast is measured in `benches/compile.rs`.

#[path = "scale/shapes.rs"]
mod shapes;

use bondmap::compile::{compile, Options};
use bondmap::diag::{Code, Diag, Severity};
use bondmap::load::load_within;
use std::path::Path;
use std::process::Command;

fn check(path: &Path, root: &Path) -> (bondmap::load::Mapping, Vec<Diag>) {
    let (m, mut diags) = load_within(path, Some(root));
    if !diags.iter().any(Diag::is_error) {
        let opts = Options {
            allow_unset_params: true,
            ..Options::default()
        };
        diags.extend(compile(&m, &opts).1);
    }
    (m, diags)
}

#[test]
fn every_shape_of_many_statements_checks_as_its_shape_says() {
    const N: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let files = shapes::write(dir.path(), N);
    let root = dir.path().join("mappings");
    for (name, path) in files {
        let (m, diags) = check(&path, &root);
        let line = |d: &Diag| {
            let s = d.span.expect("a place");
            m.sources.get(s.file).line_col(s.start).0
        };
        let said: Vec<(Severity, Code, String)> = diags
            .iter()
            .map(|d| (d.severity, d.code, d.message.clone()))
            .collect();
        match name {
            // Each let is read by no one: one warning each, on its own line (the file's
            // first seven lines are the warehouse's header).
            "lets" => {
                assert_eq!(diags.len(), N, "{name}");
                let mut by_line: Vec<(usize, &str)> = diags
                    .iter()
                    .map(|d| (line(d), d.message.as_str()))
                    .collect();
                by_line.sort();
                for (i, (l, msg)) in by_line.into_iter().enumerate() {
                    assert_eq!((l, msg), (8 + i, format!("`l{i}` is never read").as_str()));
                }
                assert!(diags
                    .iter()
                    .all(|d| d.code == Code::Unused && !d.is_error()));
            }
            "loop_fields" => assert!(said.is_empty(), "{name}: {said:?}"),
            "unknown_fields" => {
                assert_eq!(diags.len(), N, "{name}");
                for (i, d) in diags.iter().enumerate() {
                    assert_eq!(d.code, Code::UnknownField);
                    assert_eq!(d.message, format!("the target has no field `zz{i}`"));
                    assert_eq!(line(d), 4 + i);
                }
            }
            // The second assignment of each key, said where it is.
            "twice" => {
                assert_eq!(diags.len(), N, "{name}");
                for (i, d) in diags.iter().enumerate() {
                    assert_eq!(d.code, Code::Duplicate);
                    assert_eq!(
                        d.message,
                        format!("field `k{i}` is assigned twice in this file")
                    );
                    assert!(d.help.is_some());
                    assert_eq!(line(d), 4 + N + i);
                }
            }
            _ => assert!(said.is_empty(), "{name}: {said:?}"),
        }
    }
}

/// What an override over a base of many statements leaves: every other key replaced,
/// the rest dropped; every other rule replaced, the rest dropped.
#[test]
fn an_override_of_many_statements_replaces_and_drops_each_in_place() {
    const N: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let files = shapes::write(dir.path(), N);
    let root = dir.path().join("mappings");
    let over = &files.iter().find(|(n, _)| *n == "over").unwrap().1;
    let (m, diags) = check(over, &root);
    assert!(diags.is_empty(), "{diags:?}");
    let free = m
        .body
        .iter()
        .find_map(|s| match s {
            bondmap::syntax::ast::Stmt::Field(f) if f.path[0].name == "free" => Some(f),
            _ => None,
        })
        .expect("free");
    let bondmap::syntax::ast::FieldValue::Block(keys) = &free.value else {
        panic!("a block")
    };
    let names: Vec<&str> = keys
        .iter()
        .filter_map(|s| match s {
            bondmap::syntax::ast::Stmt::Field(f) => Some(f.path[0].name.as_str()),
            _ => None,
        })
        .collect();
    let want: Vec<String> = (0..N).step_by(2).map(|i| format!("k{i}")).collect();
    assert_eq!(names, want);
    let rules: Vec<(&str, u32)> = m
        .body
        .iter()
        .filter_map(|s| match s {
            bondmap::syntax::ast::Stmt::Require {
                name: Some(n),
                span,
                ..
            } => Some((n.name.as_str(), span.file.0)),
            _ => None,
        })
        .collect();
    assert_eq!(rules.len(), N / 2);
    for (k, (name, file)) in rules.into_iter().enumerate() {
        assert_eq!(name, format!("r{}", 2 * k));
        // Replaced in place by the using file's rule.
        assert_eq!(file, m.root.0);
    }
}

/// `bondmap check`'s reports (human and JSON) of small files of each shape that has
/// diagnostics: the snapshots were made with the binary from before the checker was made
/// linear.
#[test]
fn the_reports_of_generated_files_are_what_they_were() {
    let dir = tempfile::tempdir().unwrap();
    shapes::write(dir.path(), 12);
    let root = dir.path().join("mappings");
    for file in [
        "warehouses/lets.map",
        "shapes/unknown_fields.map",
        "shapes/twice.map",
        "shapes/over.map",
    ] {
        for format in ["human", "json"] {
            let out = Command::new(env!("CARGO_BIN_EXE_bondmap"))
                .args(["check", "--format", format, file])
                .current_dir(&root)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let text = format!(
                "exit {:?}\n--- stdout\n{}--- stderr\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let name = format!("{}_{format}", file.replace(['/', '.'], "_"));
            insta::assert_snapshot!(name, text);
        }
    }
}
