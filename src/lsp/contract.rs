//! The two contracts under the cursor: a target field or a source path followed through
//! its JSON Schema (as JSON, so every annotation is there), and what hover says of it.

use super::cursor::{self, Decl, Seg};
use serde_json::Value;

/// A schema node reached by a path.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    pub v: &'a Value,
    /// A field on the way is not in its object's `required`.
    pub optional: bool,
    /// A `[*]` or a filter on the way: the path gives a list of these.
    pub list: bool,
}

impl<'a> Node<'a> {
    pub fn root(v: &'a Value) -> Node<'a> {
        Node {
            v,
            optional: false,
            list: false,
        }
    }
    pub fn ty(&self) -> String {
        match self.v.get("type") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" | "),
            _ => "any".into(),
        }
    }
    /// The object its fields are in: itself, or an array's items.
    pub fn object(self) -> Node<'a> {
        match self.v.get("items") {
            Some(items) if self.ty() == "array" => Node { v: items, ..self },
            _ => self,
        }
    }
    /// Its fields, in schema order, with whether each is required.
    pub fn fields(&self) -> Vec<(&'a str, Node<'a>, bool)> {
        let required = |k: &str| {
            self.v
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(k)))
        };
        self.v
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.as_str(), Node::root(v), required(k)))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn field(self, name: &str) -> Option<Node<'a>> {
        let (_, n, req) = self.fields().into_iter().find(|(k, _, _)| *k == name)?;
        Some(Node {
            v: n.v,
            optional: self.optional || !req,
            list: self.list,
        })
    }
    pub fn walk(self, segs: &[Seg]) -> Option<Node<'a>> {
        let mut n = self;
        for s in segs {
            n = match s {
                Seg::Key(k) => n.field(k)?,
                Seg::Index | Seg::Each => Node {
                    v: n.v.get("items")?,
                    list: n.list || *s == Seg::Each,
                    ..n
                },
            };
        }
        Some(n)
    }
    pub fn description(&self) -> Option<&'a str> {
        self.v
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
    }
}

/// The target field at `path` (blocks and loops step into arrays' items).
pub fn target_field<'a>(target: &'a Value, path: &[String]) -> Option<(Node<'a>, bool)> {
    let mut n = Node::root(target);
    let mut required = true;
    for (i, name) in path.iter().enumerate() {
        let obj = n.object();
        let (_, f, req) = obj.fields().into_iter().find(|(k, _, _)| k == name)?;
        if i + 1 == path.len() {
            required = req;
        }
        n = f;
    }
    Some((n, required))
}

/// Markdown for a target field.
pub fn describe_target(name: &str, n: Node, required: bool) -> String {
    let mut s = format!("**`{name}`**: target field\n\n");
    if let Some(d) = n.description() {
        s.push_str(&format!("{d}\n\n"));
    }
    s.push_str(&format!("- type: `{}`\n", n.ty()));
    s.push_str(if required {
        "- required\n"
    } else {
        "- optional\n"
    });
    facts(&mut s, n.v);
    s
}

/// Markdown for a source path.
pub fn describe_source(path: &str, n: Node) -> String {
    let mut s = format!("**`{path}`**: source\n\n");
    if let Some(d) = n.description() {
        s.push_str(&format!("{d}\n\n"));
    }
    let ty = if n.list {
        format!("list of `{}`", n.ty())
    } else {
        format!("`{}`", n.ty())
    };
    s.push_str(&format!("- type: {ty}\n"));
    s.push_str(if n.optional {
        "- may be absent (give a default with `??`)\n"
    } else {
        "- always present\n"
    });
    facts(&mut s, n.v);
    s
}

fn facts(s: &mut String, v: &Value) {
    if let Some(u) = v.get("x-unit").and_then(Value::as_str) {
        s.push_str(&format!("- unit: {u}\n"));
    }
    if let Some(l) = v.get("maxLength") {
        s.push_str(&format!("- maxLength: {l}\n"));
    }
    if let Some(c) = v.get("const") {
        s.push_str(&format!("- fixed: `{c}`\n"));
    }
    if let Some(Value::Array(e)) = v.get("enum") {
        let list: Vec<String> = e.iter().map(|x| format!("`{x}`")).collect();
        s.push_str(&format!("- one of: {}\n", list.join(", ")));
    }
    if let Some(m) = v.get("minimum") {
        s.push_str(&format!("- minimum: {m}\n"));
    }
    if v.get("x-pii").is_some() {
        s.push_str("- personal data: masked in every message\n");
    }
}

/// What reading a path gives, from the contracts: `$…` from the source, `out…` from the
/// target, a let or loop item through the path it stands for.
pub struct Roots<'a> {
    pub source: Option<&'a Value>,
    pub target: Option<&'a Value>,
    pub decls: &'a [Decl],
}

impl<'a> Roots<'a> {
    pub fn resolve(&self, path: &str, offset: usize) -> Option<Node<'a>> {
        self.resolve_depth(path, offset, 8)
    }

    fn resolve_depth(&self, path: &str, offset: usize, depth: usize) -> Option<Node<'a>> {
        let (root, segs) = cursor::segments(path)?;
        let start = match root {
            "$" => Node::root(self.source?),
            "out" => Node::root(self.target?),
            name if depth > 0 => {
                let d = cursor::visible(self.decls, name, offset)?;
                self.of_decl(d, depth - 1)?
            }
            _ => return None,
        };
        start.walk(&segs)
    }

    /// The node a let or loop item stands for: a path, `first(path)`/`last(path)`, or
    /// either followed by `?? …`; a loop item or a first/last is one element.
    pub fn of_decl(&self, d: &Decl, depth: usize) -> Option<Node<'a>> {
        let v = d.value.trim();
        let (inner, element) = match v.strip_prefix("first(").or_else(|| v.strip_prefix("last(")) {
            Some(rest) => (rest, true),
            None => (v, d.is_item),
        };
        let path = cursor::path_from(inner, 0);
        if path.is_empty() {
            return None;
        }
        let n = self.resolve_depth(path, d.at.0, depth)?;
        Some(if element {
            Node { list: false, ..n }
        } else {
            n
        })
    }
}
