//! What changed between a stored snapshot body and a new one, in words a reviewer reads:
//! one line per changed field (`orderAmountInfo.totalTax: 17064 → 17065`), or the old and
//! new rejection message.

use crate::schema::SchemaNode;
use serde_json::Value;

/// The first line of the body of a rejected order; the message follows it.
pub const REJECTED: &str = "REJECTED";
/// The first line of the body of an order no route takes; the reason follows it.
pub const SKIPPED: &str = "SKIPPED";

/// What a body holds.
enum Body {
    Request(Value),
    /// Rejected or skipped (the first line), and the message.
    Message(&'static str, String),
    /// Neither (a hand-edited snapshot): compared as text.
    Text(String),
}

fn parse(body: &str) -> Body {
    for kind in [REJECTED, SKIPPED] {
        if let Some(msg) = body.strip_prefix(kind) {
            if msg.is_empty() || msg.starts_with('\n') {
                return Body::Message(kind, msg.trim_start_matches('\n').to_string());
            }
        }
    }
    match serde_json::from_str(body) {
        Ok(v) => Body::Request(v),
        Err(_) => Body::Text(body.to_string()),
    }
}

/// The changes from `old` to `new`, one line each (empty when they are equal). Values of
/// fields the target schema marks as personal (`x-pii`) are never shown.
pub fn changes(old: &str, new: &str, target: Option<&SchemaNode>) -> Vec<String> {
    let mut out = Vec::new();
    match (parse(old), parse(new)) {
        (Body::Request(a), Body::Request(b)) => {
            fields(&a, &b, target, &mut String::new(), &mut out)
        }
        (Body::Message(k, a), Body::Message(l, b)) => {
            if k == l && a != b {
                out.push(format!("{} message changed:", word(k)));
            } else if k != l {
                out.push(format!("was {}, now {}:", word(k), word(l)));
            }
            if k != l || a != b {
                lines(&a, "  old: ", &mut out);
                lines(&b, "  new: ", &mut out);
            }
        }
        (Body::Message(k, a), Body::Request(_)) => {
            out.push(format!(
                "was {}, now mapped to a request; the old message:",
                word(k)
            ));
            lines(&a, "  old: ", &mut out);
        }
        (Body::Request(_), Body::Message(k, b)) => {
            out.push(format!("was mapped to a request, now {}:", word(k)));
            lines(&b, "  new: ", &mut out);
        }
        (a, b) => {
            let (a, b) = (text(a), text(b));
            if a != b {
                lines(&a, "old: ", &mut out);
                lines(&b, "new: ", &mut out);
            }
        }
    }
    out
}

fn word(kind: &str) -> &'static str {
    if kind == SKIPPED {
        "skipped"
    } else {
        "rejected"
    }
}

fn text(b: Body) -> String {
    match b {
        Body::Request(v) => v.to_string(),
        Body::Message(k, m) => format!("{k}\n{m}"),
        Body::Text(t) => t,
    }
}

fn lines(text: &str, prefix: &str, out: &mut Vec<String>) {
    for l in text.lines() {
        out.push(format!("{prefix}{l}"));
    }
}

/// Every leaf of `v` (for a body with no stored snapshot), one `path: value` line each.
pub fn leaves(body: &str, target: Option<&SchemaNode>) -> Vec<String> {
    let mut out = Vec::new();
    match parse(body) {
        Body::Request(v) => {
            let mut path = String::new();
            each_leaf(&v, target, &mut path, &mut |p, v, pii| {
                out.push(format!("{p}: {}", shown(v, pii)));
            });
        }
        Body::Message(k, m) => {
            out.push(format!("{}:", word(k)));
            lines(&m, "  ", &mut out);
        }
        Body::Text(t) => lines(&t, "", &mut out),
    }
    out
}

/// Compares two requests field by field; a field on one side only is shown as `(absent)`
/// on the other, leaf by leaf.
fn fields(
    a: &Value,
    b: &Value,
    schema: Option<&SchemaNode>,
    path: &mut String,
    out: &mut Vec<String>,
) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            // Keys of the old body (serde_json orders them by name), then the new ones.
            let mut keys: Vec<&String> = x.keys().collect();
            keys.extend(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                let mark = path.len();
                push_key(path, k);
                let sub = schema.and_then(|s| s.object().property(k));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => fields(p, q, sub, path, out),
                    (Some(p), None) => one_side(p, sub, path, out, true),
                    (None, Some(q)) => one_side(q, sub, path, out, false),
                    (None, None) => {}
                }
                path.truncate(mark);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let items = schema.and_then(|s| s.items.as_deref());
            for i in 0..x.len().max(y.len()) {
                let mark = path.len();
                path.push_str(&format!("[{i}]"));
                match (x.get(i), y.get(i)) {
                    (Some(p), Some(q)) => fields(p, q, items, path, out),
                    (Some(p), None) => one_side(p, items, path, out, true),
                    (None, Some(q)) => one_side(q, items, path, out, false),
                    (None, None) => {}
                }
                path.truncate(mark);
            }
        }
        _ if a == b => {}
        _ => {
            let pii = schema.is_some_and(|s| s.pii.is_some());
            if pii {
                out.push(format!("{}: (personal data) changed", show_path(path)));
            } else {
                out.push(format!(
                    "{}: {} → {}",
                    show_path(path),
                    shown(a, false),
                    shown(b, false)
                ));
            }
        }
    }
}

fn one_side(
    v: &Value,
    schema: Option<&SchemaNode>,
    path: &mut String,
    out: &mut Vec<String>,
    old: bool,
) {
    each_leaf(v, schema, path, &mut |p, v, pii| {
        let v = shown(v, pii);
        out.push(if old {
            format!("{p}: {v} → (absent)")
        } else {
            format!("{p}: (absent) → {v}")
        });
    });
}

fn each_leaf(
    v: &Value,
    schema: Option<&SchemaNode>,
    path: &mut String,
    f: &mut dyn FnMut(&str, &Value, bool),
) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let mark = path.len();
                push_key(path, k);
                each_leaf(x, schema.and_then(|s| s.object().property(k)), path, f);
                path.truncate(mark);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                let mark = path.len();
                path.push_str(&format!("[{i}]"));
                each_leaf(x, schema.and_then(|s| s.items.as_deref()), path, f);
                path.truncate(mark);
            }
        }
        _ => f(&show_path(path), v, schema.is_some_and(|s| s.pii.is_some())),
    }
}

fn shown(v: &Value, pii: bool) -> String {
    if pii {
        "(personal data)".into()
    } else {
        v.to_string()
    }
}

fn show_path(p: &str) -> String {
    if p.is_empty() {
        "(the whole body)".into()
    } else {
        p.to_string()
    }
}

/// `a.b`, or `a["odd key"]` for a key that is not a plain name.
fn push_key(path: &mut String, k: &str) {
    let plain = !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(k);
    } else {
        path.push_str(&format!("[{}]", Value::String(k.to_string())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn schema() -> Schema {
        let v: Value = serde_json::from_str(
            r#"{"type":"object","properties":{
                "a":{"type":"object","properties":{"n":{"type":"integer"}}},
                "who":{"type":"string","x-pii":"name"},
                "items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"}}}}}}"#,
        )
        .unwrap();
        Schema::from_value(&v).unwrap()
    }

    #[test]
    fn names_each_changed_field_old_to_new() {
        let s = schema();
        let got = changes(
            r#"{"a":{"n":17064},"who":"李四","items":[{"id":"x"}]}"#,
            r#"{"a":{"n":17065},"who":"王五","items":[{"id":"x"},{"id":"y"}]}"#,
            Some(&s.root),
        );
        assert_eq!(
            got,
            [
                "a.n: 17064 → 17065",
                "items[1].id: (absent) → \"y\"",
                "who: (personal data) changed",
            ]
        );
    }

    #[test]
    fn equal_bodies_have_no_changes() {
        assert!(changes("{\"a\": 1}", "{\n  \"a\": 1\n}", None).is_empty());
        assert!(changes("REJECTED\nx", "REJECTED\nx", None).is_empty());
    }

    #[test]
    fn a_rejection_shows_old_and_new_lines() {
        let got = changes("REJECTED\nno barcode", "REJECTED\nno good", None);
        assert_eq!(
            got,
            [
                "rejected message changed:",
                "  old: no barcode",
                "  new: no good"
            ]
        );
        let got = changes("{\"a\":1}", "REJECTED\nno good", None);
        assert_eq!(
            got,
            ["was mapped to a request, now rejected:", "  new: no good"]
        );
        let got = changes("SKIPPED\nno route", "REJECTED\nno good", None);
        assert_eq!(
            got,
            [
                "was skipped, now rejected:",
                "  old: no route",
                "  new: no good"
            ]
        );
    }

    #[test]
    fn personal_values_are_not_listed_for_a_new_body() {
        let s = schema();
        let got = leaves(r#"{"who":"李四","a":{"n":1}}"#, Some(&s.root));
        // serde_json's map is ordered by key here.
        assert_eq!(got, ["a.n: 1", "who: (personal data)"]);
    }
}
