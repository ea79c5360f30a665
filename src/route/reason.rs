//! Why no route takes an order: the values of the order the routes read, in words
//! ("no route takes it: logisticsMode 3, whcode \"SHPD\""). Codes and numbers are shown;
//! personal data never is.

use crate::path::{simple_segments, Seg};
use crate::program::{Node, Op, Program};
use crate::run::eval_node;
use crate::schema::{PiiPaths, Schema, SchemaNode};
use crate::value::Val;

/// One value of the order a condition reads.
#[derive(Debug)]
pub(super) struct Shown {
    label: String,
    node: Node,
    personal: bool,
}

/// Every source path the conditions read, once each, in the order written.
pub(super) fn shown<'a>(
    conds: impl Iterator<Item = &'a Node>,
    source: Option<&Schema>,
) -> Vec<Shown> {
    let mut paths: Vec<(Box<str>, Node)> = Vec::new();
    fn walk(n: &Node, out: &mut Vec<(Box<str>, Node)>) {
        if let Op::Src(_, text) = &n.code {
            if !out.iter().any(|(t, _)| t == text) {
                out.push((text.clone(), n.clone()));
            }
        }
        n.each_child(&mut |c| walk(c, out));
    }
    for c in conds {
        walk(c, &mut paths);
    }
    let last = |t: &str| -> String {
        match simple_segments(t).as_deref().and_then(|s| s.last()) {
            Some(Seg::Key(k)) => k.to_string(),
            _ => t.to_string(),
        }
    };
    let labels: Vec<String> = paths.iter().map(|(t, _)| last(t)).collect();
    paths
        .into_iter()
        .zip(&labels)
        .map(|((text, node), label)| {
            // Two paths ending in the same name are told apart by their whole text.
            let clash = labels.iter().filter(|l| *l == label).count() > 1;
            Shown {
                label: if clash {
                    text.trim_start_matches("$.").to_string()
                } else {
                    label.clone()
                },
                personal: personal(&text, source),
                node,
            }
        })
        .collect()
}

/// Whether a path reads personal data: by the routes' source contract's `x-pii`, by the
/// `x-pii` of the RED order schema bondmap ships (a routes file may name no source), and
/// for a path the checker cannot follow, always.
fn personal(text: &str, source: Option<&Schema>) -> bool {
    let Some(segs) = simple_segments(text) else {
        return true;
    };
    let red = PiiPaths::red();
    if segs
        .iter()
        .any(|s| matches!(s, Seg::Key(k) if red.kind_of_name(k).is_some()))
    {
        return true;
    }
    let Some(schema) = source else {
        return false;
    };
    let mut node: &SchemaNode = &schema.root;
    for s in &segs {
        let next = match s {
            Seg::Key(k) => node.property(k),
            Seg::Index(_) | Seg::Wildcard | Seg::KeyIs(..) => node.items.as_deref(),
        };
        match next {
            Some(n) if n.pii.is_some() => return true,
            Some(n) => node = n,
            None => return false,
        }
    }
    false
}

/// The reason a skipped order is given.
pub(super) fn reason(p: &Program, shown: &[Shown], doc: &serde_json::Value) -> String {
    let parts: Vec<String> = shown
        .iter()
        .map(|s| format!("{} {}", s.label, value(p, s, doc)))
        .collect();
    if parts.is_empty() {
        "no route takes it".to_string()
    } else {
        format!("no route takes it: {}", parts.join(", "))
    }
}

fn value(p: &Program, s: &Shown, doc: &serde_json::Value) -> String {
    let v = match eval_node(p, &s.node, doc) {
        Ok(v) => v,
        Err(_) => return "(several values)".into(),
    };
    match v {
        Val::Null => "absent".into(),
        // A personal value is hidden whatever its JSON type: a phone may come as a number.
        _ if s.personal => "(personal data, not shown)".into(),
        Val::Bool(b) => b.to_string(),
        Val::Num(a) => a.value.normalize().to_string(),
        Val::Str(t) if is_code(&t) => format!("\"{t}\""),
        // A code with blanks or invisible characters around it (" HZXS", "\u{200b}HZXS"):
        // shown, those characters written out, for they are why no route takes it.
        Val::Str(t) if is_code(t.trim_matches(invisible)) => shown_code(&t),
        Val::Str(t) => format!("(a text of {} characters, not shown)", t.chars().count()),
        Val::List(_) | Val::Json(serde_json::Value::Array(_)) => "(a list)".into(),
        Val::Json(_) | Val::Obj(_) => "(an object)".into(),
    }
}

/// Blank space and characters that show nothing (zero-width spaces and joiners, the byte
/// order mark, the soft hyphen).
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}')
}

/// A code quoted with every invisible character as `\u{…}` and a blank as itself,
/// and a word on what surrounds it.
fn shown_code(t: &str) -> String {
    let mut s = String::from("\"");
    for c in t.chars() {
        match c {
            ' ' => s.push(' '),
            c if invisible(c) => s.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    let start = t.starts_with(invisible);
    let end = t.ends_with(invisible);
    let what = match (start, end) {
        (true, true) => "invisible characters or blanks before and after it",
        (true, false) => "an invisible character or blank before it",
        (false, true) => "an invisible character or blank after it",
        (false, false) => "invisible characters or blanks in it",
    };
    format!("{s} ({what})")
}

/// A short code (a warehouse or port code), safe and useful to show.
fn is_code(t: &str) -> bool {
    !t.is_empty()
        && t.chars().count() <= 32
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}
