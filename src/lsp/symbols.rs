//! Document symbols: the target tree the file builds (fields, blocks, loops), with its
//! params, tables, lets and named rules.

use super::documents::Lines;
use crate::syntax::ast::{FieldValue, File, Item, Stmt};
use lsp_types::{DocumentSymbol, SymbolKind};

pub fn symbols(text: &str, file: &File) -> Vec<DocumentSymbol> {
    let text = &Lines::new(text);
    let mut out = Vec::new();
    for item in &file.items {
        match item {
            Item::Param(p) => out.push(symbol(
                text,
                &p.name.name,
                "param",
                SymbolKind::CONSTANT,
                p.span,
                p.name.span,
                Vec::new(),
            )),
            Item::Table(t) => out.push(symbol(
                text,
                &t.name.name,
                "table",
                SymbolKind::STRUCT,
                t.span,
                t.name.span,
                Vec::new(),
            )),
            Item::Stmt(s) => out.extend(stmt(text, s)),
            _ => {}
        }
    }
    out
}

fn stmt(text: &Lines, s: &Stmt) -> Option<DocumentSymbol> {
    match s {
        Stmt::Let { name, span, .. } => Some(symbol(
            text,
            &name.name,
            "let",
            SymbolKind::VARIABLE,
            *span,
            name.span,
            Vec::new(),
        )),
        // A named rule is something a using file refers to (to replace or drop it).
        Stmt::Require {
            name: Some(name),
            span,
            ..
        } => Some(symbol(
            text,
            &name.name,
            "rule",
            SymbolKind::EVENT,
            *span,
            name.span,
            Vec::new(),
        )),
        Stmt::Require { name: None, .. } | Stmt::Drop(_) => None,
        Stmt::Field(f) => {
            let name: Vec<&str> = f.path.iter().map(|i| i.name.as_str()).collect();
            let sel = match (f.path.first(), f.path.last()) {
                (Some(a), Some(b)) => a.span.to(b.span),
                _ => f.span,
            };
            let (kind, detail, body) = match &f.value {
                FieldValue::Expr(_) => (SymbolKind::FIELD, "field", None),
                FieldValue::Block(b) => (SymbolKind::OBJECT, "object", Some(b)),
                FieldValue::For { body, .. } => (SymbolKind::ARRAY, "for each", Some(body)),
            };
            let children = body
                .map(|b| b.iter().filter_map(|s| stmt(text, s)).collect())
                .unwrap_or_default();
            Some(symbol(
                text,
                &name.join("."),
                detail,
                kind,
                f.span,
                sel,
                children,
            ))
        }
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the struct.
fn symbol(
    text: &Lines,
    name: &str,
    detail: &str,
    kind: SymbolKind,
    span: crate::syntax::Span,
    sel: crate::syntax::Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    let full = text.range(span.start as usize, span.end as usize);
    let mut selection = text.range(sel.start as usize, sel.end as usize);
    // The protocol wants the selection inside the full range.
    if selection.start < full.start || selection.end > full.end {
        selection = full;
    }
    DocumentSymbol {
        name: if name.is_empty() {
            "?".into()
        } else {
            name.to_string()
        },
        detail: Some(detail.into()),
        kind,
        tags: None,
        deprecated: None,
        range: full,
        selection_range: selection,
        children: (!children.is_empty()).then_some(children),
    }
}
