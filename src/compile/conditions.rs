//! Conditions that read only the order (a routes file's `when`): checked like any
//! mapping's expressions (source paths against the source contract, names, types, units)
//! and lowered to program nodes.

use super::{Cx, Diag, Expr, Mapping, Node, Options, PathBuf, Schema, Scope, Span};
use crate::syntax::{FileId, Sources};

/// The conditions of one file, lowered, with the source contract they were checked by.
#[derive(Debug)]
pub struct Conditions {
    /// One node per condition, in the order given.
    pub nodes: Vec<Node>,
    pub source: Option<Schema>,
}

/// Compiles each of `conds` (written in file `root` of `sources`) as a condition that must
/// be true or false. `source` is the contract of the order (`source "…"`), when the file
/// names one. A condition has no params, lets or tables: it reads the order and literals.
pub fn compile_conditions(
    sources: &Sources,
    root: FileId,
    source: Option<(PathBuf, Span)>,
    conds: &[&Expr],
) -> (Conditions, Vec<Diag>) {
    // Checking and lowering recurse once per expression level, as in `compile`.
    crate::syntax::depth::with_levels(
        crate::syntax::depth::MAX_EXPR_DEPTH + 2 * crate::syntax::depth::MAX_BRACKETS,
        || conditions_deep(sources, root, source, conds),
    )
}

fn conditions_deep(
    sources: &Sources,
    root: FileId,
    source: Option<(PathBuf, Span)>,
    conds: &[&Expr],
) -> (Conditions, Vec<Diag>) {
    let m = Mapping {
        sources: sources.clone(),
        root,
        source,
        // The routes file's root, as for a mapping in its place.
        within: crate::repo::fs::Roots {
            root: crate::load::default_root(&sources.get(root).path),
            base: crate::repo::base_folder(&sources.get(root).path),
        },
        ..Mapping::default()
    };
    let opts = Options::default();
    let mut cx = Cx::new(&m, &opts);
    let source = cx.source_schema();
    cx.set_source(source);
    let mut nodes = Vec::with_capacity(conds.len());
    for e in conds {
        cx.scopes.push(Scope::default());
        let (n, t) = cx.expr(e);
        cx.scopes.pop();
        cx.expect_bool(&t, e.span);
        nodes.push(n);
    }
    let source = cx.source.take();
    (Conditions { nodes, source }, cx.diags)
}
