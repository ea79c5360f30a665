//! Completion: the target fields valid at the cursor and not yet assigned in its block,
//! source paths after `$.` (and after a loop item, a let or `out.`), and in an
//! expression the functions, tables, params, lets, rounding modes and units.

use super::contract::{self, Node, Roots};
use super::cursor;
use super::engine::{Analysis, ROUNDINGS, UNITS};
use super::functions::{self, FUNCTIONS};
use crate::syntax::keywords::{self, Place};
use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};
use std::collections::HashSet;

pub fn complete(
    text: &str,
    ix: &cursor::Index,
    offset: usize,
    a: Option<&Analysis>,
) -> Vec<CompletionItem> {
    let m = &ix.masked;
    if m.in_string(offset) {
        return Vec::new();
    }
    let start = cursor::path_start(text, offset);
    let token = &text[start..offset.min(text.len())];
    let decls = super::scope::decls(text, ix, a.map(|a| &a.used));
    let decls = decls.as_ref();
    let roots = Roots {
        source: a.and_then(|a| a.source.as_ref()),
        target: a.and_then(|a| a.target.as_ref()),
        decls,
    };
    let statement = m.statement_start(start);
    let frames = cursor::frames(m, start);
    if let Some((base, _)) = token.rsplit_once('.') {
        // A dotted target field (`receiverInfo.` at a statement's start)…
        if statement {
            let Some(mut path) = cursor::target_path(&frames) else {
                return Vec::new();
            };
            path.extend(base.split('.').map(str::to_string));
            let Some(target) = roots.target else {
                return Vec::new();
            };
            return match contract::target_field(target, &path) {
                Some((n, _)) => fields(n.object(), &HashSet::new(), true),
                None => Vec::new(),
            };
        }
        // …or a path read from the order, a let, a loop item or the request.
        return match roots.resolve(base, start) {
            Some(n) if !n.list || base.ends_with(']') => fields(n.object(), &HashSet::new(), false),
            _ => Vec::new(),
        };
    }
    if token == "$" {
        return Vec::new();
    }
    if statement {
        let mut out = Vec::new();
        if let (Some(path), Some(target)) = (cursor::target_path(&frames), roots.target) {
            let node = if path.is_empty() {
                Some(Node::root(target))
            } else {
                contract::target_field(target, &path).map(|(n, _)| n.object())
            };
            let taken = ix.assigned(text, frames.last().map(|f| f.open));
            if let Some(n) = node {
                out.extend(fields(n, &taken, true));
            }
        }
        // A file's own statements at its top level; in a block, the block's.
        let top = frames.is_empty();
        let kws = keywords::at(Place::Statement)
            .chain(keywords::at(Place::TopLevel).filter(move |_| top));
        out.extend(kws.map(|k| item(k, CompletionItemKind::KEYWORD, None, None)));
        return out;
    }
    expression(text, m, offset, a, decls)
}

/// The fields of an object node, less the ones `taken`.
fn fields(n: Node, taken: &HashSet<String>, target: bool) -> Vec<CompletionItem> {
    n.fields()
        .into_iter()
        .filter(|(k, _, _)| !taken.contains(*k))
        .map(|(k, f, required)| {
            let detail = format!(
                "{}{}{}",
                f.ty(),
                f.v.get("x-unit")
                    .and_then(|u| u.as_str())
                    .map_or(String::new(), |u| format!(" ({u})")),
                match (target, required) {
                    (true, true) => ", required",
                    (false, false) => ", may be absent",
                    _ => "",
                }
            );
            item(
                k,
                CompletionItemKind::FIELD,
                Some(detail),
                f.description().map(str::to_string),
            )
        })
        .collect()
}

fn expression(
    text: &str,
    m: &cursor::Masked,
    offset: usize,
    a: Option<&Analysis>,
    decls: &[cursor::Decl],
) -> Vec<CompletionItem> {
    let call = cursor::call_at(text, m, offset);
    let modes = || {
        ROUNDINGS.iter().map(|r| {
            item(
                r,
                CompletionItemKind::ENUM_MEMBER,
                Some("rounding mode".into()),
                None,
            )
        })
    };
    let units = || {
        UNITS
            .iter()
            .map(|u| item(u, CompletionItemKind::UNIT, Some("unit".into()), None))
    };
    match call.as_deref() {
        Some("round") => return modes().collect(),
        Some("convert") => return units().chain(modes()).collect(),
        _ => {}
    }
    // After a number: its unit (`19.99 yuan`).
    let word_start = cursor::word_at(text, offset).map_or(offset, |(s, _)| s);
    let before = text[..word_start].trim_end_matches([' ', '\t']);
    if word_start > before.len() && before.ends_with(|c: char| c.is_ascii_digit()) {
        let num_start = before
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |i| i + 1);
        if cursor::word_at(text, num_start).is_some_and(|(s, _)| s == num_start) {
            return units().collect();
        }
    }
    let mut out: Vec<CompletionItem> = FUNCTIONS
        .iter()
        .map(|f| {
            item(
                f.name,
                CompletionItemKind::FUNCTION,
                Some(f.signature.into()),
                Some(functions::markdown(f)),
            )
        })
        .collect();
    if let Some(a) = a {
        out.extend(a.mapping.tables.iter().map(|t| {
            item(
                &t.decl.name.name,
                CompletionItemKind::STRUCT,
                Some("table".into()),
                None,
            )
        }));
        out.extend(a.mapping.params.iter().map(|p| {
            let ty = p.ty.map_or("param", |(t, _)| t.as_str());
            item(
                &p.name.name,
                CompletionItemKind::CONSTANT,
                Some(format!("param: {ty}")),
                None,
            )
        }));
    }
    let mut seen = Vec::new();
    for d in decls {
        if d.scope.0 <= offset && offset <= d.scope.1 && !seen.contains(&d.name) {
            seen.push(d.name.clone());
            let what = match (d.is_item, d.origin.is_some()) {
                (true, false) => "loop item",
                (false, false) => "let",
                (true, true) => "loop item of a used file",
                (false, true) => "let of a used file",
            };
            out.push(item(
                &d.name,
                CompletionItemKind::VARIABLE,
                Some(format!("{what}: {}", d.value)),
                None,
            ));
        }
    }
    out.extend(
        keywords::at(Place::Expression).map(|k| item(k, CompletionItemKind::KEYWORD, None, None)),
    );
    out
}

fn item(
    label: &str,
    kind: CompletionItemKind,
    detail: Option<String>,
    doc: Option<String>,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        documentation: doc.map(|value| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            })
        }),
        ..CompletionItem::default()
    }
}

#[cfg(test)]
mod tests {
    fn labels(text: &str) -> Vec<String> {
        // The cursor is at the `|`.
        let at = text.find('|').unwrap();
        let text = text.replace('|', "");
        super::complete(&text, &super::cursor::Index::new(&text), at, None)
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    #[test]
    fn modes_in_round_units_after_a_number_functions_elsewhere() {
        assert_eq!(labels("x = round(a, |)"), ["half_up", "half_even", "down"]);
        assert!(labels("x = convert(a, |)").contains(&"yuan".to_string()));
        assert!(labels("x = 19.99 |").contains(&"fen".to_string()));
        let expr = labels("let a = 1\nx = |");
        assert!(expr.contains(&"nonblank".to_string()), "{expr:?}");
        assert!(
            expr.contains(&"a".to_string()),
            "the let in scope: {expr:?}"
        );
        assert!(labels("x = \"in a |string\"").is_empty());
    }

    #[test]
    fn statement_keywords_come_from_the_one_list() {
        let top = labels("|");
        for k in ["let", "require", "drop", "use", "table", "route"] {
            assert!(top.contains(&k.to_string()), "{k}: {top:?}");
        }
        let inner = labels("receiverInfo {\n  |\n}");
        assert!(inner.contains(&"drop".to_string()), "{inner:?}");
        assert!(!inner.contains(&"use".to_string()), "{inner:?}");
        let expr = labels("x = |");
        assert!(expr.contains(&"else".to_string()) && expr.contains(&"null".to_string()));
        assert!(!expr.contains(&"let".to_string()), "{expr:?}");
    }
}
