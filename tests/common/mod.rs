//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files with extension `ext` directly in `dir`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Every shipped mapping file.
pub fn mappings() -> Vec<PathBuf> {
    let mut v = files(&root().join("mappings/cainiao"), "map");
    v.extend(files(&root().join("mappings/warehouses"), "map"));
    v
}

pub fn examples() -> Vec<PathBuf> {
    files(&root().join("examples/orders"), "json")
}

/// The library's indenter (the one `bondmap test` and `map --pretty` use).
#[allow(unused_imports)] // not every test file that shares this module indents JSON
pub use bondmap::snapshot::pretty;
