//! Hover: a target field's schema description, type, unit and length; a source path's
//! type, unit, whether it may be absent and its description; a function's doc; a
//! table's columns; a param's type.

use super::contract::{self, Roots};
use super::cursor;
use super::engine::Analysis;
use super::functions;
use crate::syntax::ast::{Lit, TableBody};
use crate::syntax::keywords;

pub fn hover(
    text: &str,
    ix: &cursor::Index,
    offset: usize,
    a: Option<&Analysis>,
) -> Option<String> {
    let m = &ix.masked;
    if m.in_string(offset) {
        return None;
    }
    let (ws, we) = cursor::word_at(text, offset)?;
    let word = &text[ws..we];
    let next = m.next_char(we);
    if next == Some(b'(') {
        if let Some(f) = functions::find(word) {
            return Some(functions::markdown(f));
        }
    }
    let start = cursor::path_start(text, ws);
    let token = &text[start..we];
    if keywords::is_keyword(word, next) && token == word {
        return None;
    }
    let a = a?;
    // A target field: the first thing of a statement, before `=`, `{` or `.`.
    if m.statement_start(start) && matches!(next, Some(b'=' | b'{' | b'.')) {
        let frames = cursor::frames(m, start);
        let mut path = cursor::target_path(&frames)?;
        path.extend(token.split('.').map(str::to_string));
        let (n, required) = contract::target_field(a.target.as_ref()?, &path)?;
        return Some(contract::describe_target(&path.join("."), n, required));
    }
    let root = token.split(['.', '[']).next().unwrap_or(token);
    if token == word {
        if let Some(t) = a.mapping.tables.iter().find(|t| t.decl.name.name == word) {
            return Some(table(&t.decl));
        }
        if let Some(p) = a.mapping.params.iter().find(|p| p.name.name == word) {
            let ty =
                p.ty.map_or("(type from the file that declares it)", |(t, _)| t.as_str());
            let mut s = format!("**`{word}`**: param, `{ty}`");
            let files = &a.mapping.sources;
            let declared = files.get(p.name.span.file).name.clone();
            s.push_str(&format!("\n\ndeclared in `{declared}`"));
            if let Some(v) = &p.value {
                let set = files.get(v.span.file).name.clone();
                s.push_str(&format!(", set to `{}` in `{set}`", files.snippet(v.span)));
            }
            return Some(s);
        }
    }
    let decls = super::scope::decls(text, ix, Some(&a.used));
    let decls = decls.as_ref();
    let roots = Roots {
        source: a.source.as_ref(),
        target: a.target.as_ref(),
        decls,
    };
    let Some(n) = roots.resolve(token, ws) else {
        // A let of no path (`let tax = good.taxPerSku * qty`): what it stands for.
        let d = cursor::visible(decls, root, ws).filter(|_| token == root)?;
        return Some(describe_decl(d, a));
    };
    let mut s = contract::describe_source(token, n);
    if token == root {
        if let Some(d) = cursor::visible(decls, root, ws) {
            s = format!("{}\n\n{s}", describe_decl(d, a));
        }
    }
    Some(s)
}

/// "`good` loop item in `sku.skuDetailList[*]` (from `bonded_whs.map`)".
fn describe_decl(d: &cursor::Decl, a: &Analysis) -> String {
    let what = if d.is_item { "loop item in" } else { "let =" };
    let from = d.origin.map_or(String::new(), |o| {
        format!(" (from `{}`)", a.mapping.sources.get(o.file).name)
    });
    format!("`{}` {what} `{}`{from}", d.name, d.value)
}

fn table(t: &crate::syntax::ast::Table) -> String {
    match &t.body {
        TableBody::Csv {
            file, key, columns, ..
        } => {
            let mut s = format!(
                "**`{}`**: table from `{file}`, key `{}`\n\n| column | type |\n|---|---|\n",
                t.name.name, key.name
            );
            for (c, ty, optional) in columns {
                let mark = if *optional { " (may be missing)" } else { "" };
                s.push_str(&format!("| `{}` | {}{mark} |\n", c.name, ty.as_str()));
            }
            s
        }
        TableBody::Inline { rows, default } => {
            let mut s = format!(
                "**`{}`**: inline table, {} row(s)\n\n",
                t.name.name,
                rows.len()
            );
            for (k, v, _) in rows.iter().take(12) {
                s.push_str(&format!("- `{}` → `{}`\n", lit(k), lit(v)));
            }
            if let Some((d, _)) = default {
                s.push_str(&format!("- otherwise `{}`\n", lit(d)));
            }
            s
        }
    }
}

fn lit(l: &Lit) -> String {
    match l {
        Lit::Str(s) => format!("{s:?}"),
        Lit::Num(n, u) => u.as_ref().map_or(n.to_string(), |u| format!("{n} {u}")),
        Lit::Bool(b) => b.to_string(),
        Lit::Null => "null".into(),
    }
}
