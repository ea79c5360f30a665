//! The book in `docs/` (mdBook's layout) and README's short tour hold together: every
//! chapter is in `docs/SUMMARY.md` and every link of the summary, of README and of the
//! chapters to a file of this repository reaches one.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The targets of the Markdown links `[text](target)` of `text`, anchors cut off, web
/// addresses and in-page anchors left out.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        let file = target.split('#').next().unwrap_or("");
        if !file.is_empty() && !file.contains("://") && !file.contains(' ') {
            out.push(file.to_string());
        }
        rest = &rest[end..];
    }
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_chapter_is_in_the_summary_and_every_summary_link_is_a_chapter() {
    let docs = root().join("docs");
    let summary = read(&docs.join("SUMMARY.md"));
    let listed = links(&summary);
    for l in &listed {
        assert!(
            docs.join(l).is_file(),
            "SUMMARY.md links {l}, which is not a file"
        );
    }
    let mut chapters: Vec<String> = std::fs::read_dir(&docs)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") && n != "SUMMARY.md")
        .collect();
    chapters.sort();
    for c in &chapters {
        assert!(listed.contains(c), "docs/{c} is not in docs/SUMMARY.md");
    }
    assert!(
        docs.join("book.toml").is_file(),
        "mdbook needs docs/book.toml"
    );
}

#[test]
fn every_link_of_readme_and_the_chapters_reaches_a_file() {
    let mut files = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("docs")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "md") {
            files.push(e.path());
        }
    }
    for f in files {
        let dir = f.parent().unwrap().to_path_buf();
        for l in links(&read(&f)) {
            assert!(
                dir.join(&l).exists(),
                "{} links {l}, which does not exist",
                f.display()
            );
        }
    }
}

#[test]
fn readme_stays_a_short_tour() {
    let readme = read(&root().join("README.md"));
    let n = readme.lines().count();
    assert!(
        n <= 250,
        "README.md has {n} lines; the rest belongs in docs/"
    );
    // The two commands a newcomer runs, as .ci/run runs the second.
    assert!(readme.contains("cargo run --release -- demo"));
    assert!(readme.contains("cargo test --all-targets"));
}

#[test]
fn a_link_to_a_missing_file_is_found() {
    // The control of the link checks above: a made-up link is seen and does not resolve.
    let l = links("see [x](no_such_chapter.md#part) and [y](https://example.com)");
    assert_eq!(l, vec!["no_such_chapter.md".to_string()]);
    assert!(!root().join("docs").join(&l[0]).exists());
}
