//! `explain`'s output: the blocks kept for one order laid out as indented lines (text) or
//! step objects (JSON), each field and `let` in full the first time only, filtered to the
//! fields under a path.

use super::blocks::{Block, More, Step};
use super::Explained;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::fmt::Write as _;

/// One line of output (text) or one step object (JSON).
struct Line {
    depth: usize,
    text: String,
    value: Option<String>,
    source: Option<String>,
    /// A field's line: where it was set.
    set_at: Option<String>,
    field: bool,
    note: Option<&'static str>,
}

impl Explained {
    /// Whether any field is `filter` or under it (every field when `None`).
    pub fn has(&self, filter: Option<&str>) -> bool {
        self.fields.iter().any(|b| wanted(&b.name, filter))
    }

    /// The fields under `filter` as text: each field's line, then its steps indented;
    /// a rejected order: the rejection and the steps of the rule that rejected it.
    pub fn text(&self, filter: Option<&str>) -> String {
        let mut blocks = Vec::new();
        for lines in self.lines(filter) {
            let mut s = String::new();
            for l in lines {
                if !s.is_empty() {
                    s.push('\n');
                }
                s.push_str(&"  ".repeat(l.depth));
                s.push_str(l.source.as_deref().unwrap_or(&l.text));
                if let Some(v) = &l.value {
                    let _ = write!(s, " = {v}");
                }
                if let Some(at) = &l.set_at {
                    let _ = write!(s, "    (set at {at})");
                }
                if let Some(n) = l.note {
                    let _ = write!(s, "    ({n})");
                }
            }
            blocks.push(s);
        }
        blocks.join("\n\n")
    }

    /// The fields under `filter` as JSON: `{"order_id", "fields": [{"field", "value",
    /// "set_at", "steps": [{"depth", "text", "value", "source"}]}], "rejected"}`.
    pub fn json(&self, filter: Option<&str>) -> Value {
        let mut fields = Vec::new();
        let mut all = self.lines(filter);
        let trace = if self.rejected.is_some() {
            all.pop()
        } else {
            None
        };
        for lines in all {
            let mut it = lines.into_iter();
            let Some(head) = it.next() else { continue };
            fields.push(json!({
                "field": head.text,
                "value": head.value,
                "set_at": head.set_at,
                "steps": it.map(step_json).collect::<Vec<_>>(),
            }));
        }
        let mut o = json!({ "order_id": self.order_id, "fields": fields });
        if let Some(r) = &self.rejected {
            let e = &r.error;
            o["rejected"] = json!({
                "code": e.code,
                "message": e.message,
                "field": e.field,
                "source_path": e.source_path,
                "location": e.location,
                "steps": trace.map(|t| t.into_iter().map(step_json).collect::<Vec<_>>()),
            });
        }
        o
    }

    /// The blocks to show, as lines: the fields under `filter` in the order they were
    /// set (a field or let shown once in full, later only named), then a rejection's trace.
    fn lines(&self, filter: Option<&str>) -> Vec<Vec<Line>> {
        let mut r = Render {
            ex: self,
            shown: HashSet::new(),
            lets: HashSet::new(),
        };
        let mut out = Vec::new();
        if let Some(rej) = &self.rejected {
            // Only what rejected it: the fields set before are no part of any request.
            if let Some(t) = &rej.trace {
                let mut lines = Vec::new();
                r.block(t, 0, &mut lines);
                out.push(lines);
            }
            return out;
        }
        for b in self.fields.iter().filter(|b| wanted(&b.name, filter)) {
            if r.shown.contains(&b.name) {
                continue;
            }
            let mut lines = Vec::new();
            r.block(b, 0, &mut lines);
            out.push(lines);
        }
        out
    }
}

fn step_json(l: Line) -> Value {
    let mut o = json!({ "depth": l.depth, "text": l.text, "value": l.value });
    if let Some(s) = l.source {
        o["source"] = s.into();
    }
    if l.field {
        o["field"] = true.into();
        o["set_at"] = l.set_at.into();
    }
    if let Some(n) = l.note {
        o["note"] = n.into();
    }
    o
}

/// Lays blocks out as lines, each field and let in full the first time only.
struct Render<'e> {
    ex: &'e Explained,
    shown: HashSet<String>,
    lets: HashSet<String>,
}

impl Render<'_> {
    fn block(&mut self, b: &Block, depth: usize, out: &mut Vec<Line>) {
        if b.rule {
            // A rule has no value of its own: its line says where it is and what it said.
            out.push(Line {
                depth,
                text: format!("{}    (at {}): {}", b.name, b.at, b.value),
                value: None,
                source: None,
                set_at: None,
                field: false,
                note: None,
            });
            self.steps(&b.steps, depth, out);
            return;
        }
        self.shown.insert(b.name.clone());
        out.push(Line {
            depth,
            text: b.name.clone(),
            value: Some(b.value.clone()),
            source: None,
            set_at: Some(b.at.clone()),
            field: !b.rule,
            note: None,
        });
        self.steps(&b.steps, depth, out);
    }

    fn steps(&mut self, steps: &[Step], depth: usize, out: &mut Vec<Line>) {
        for s in steps {
            let d = depth + s.depth;
            let mut line = Line {
                depth: d,
                text: s.text.clone(),
                value: Some(s.value.clone()),
                source: s.source.clone(),
                set_at: None,
                field: false,
                note: None,
            };
            match &s.more {
                More::None => out.push(line),
                More::Let(key, name) => {
                    let first = self.lets.insert(key.clone());
                    match self.ex.lets.get(key) {
                        Some(l) if first => {
                            out.push(line);
                            out.push(Line {
                                depth: d + 1,
                                text: format!("let {name} = {}", l.def),
                                value: None,
                                source: None,
                                set_at: None,
                                field: false,
                                note: None,
                            });
                            self.steps(&l.steps, d + 1, out);
                        }
                        Some(_) => {
                            line.note = Some("the let shown above");
                            out.push(line);
                        }
                        None => out.push(line),
                    }
                }
                More::Fields(want) => {
                    out.push(line);
                    let ex = self.ex;
                    for b in ex.fields.iter().filter(|b| under(&b.name, want)) {
                        if self.shown.contains(&b.name) {
                            out.push(Line {
                                depth: d + 1,
                                text: b.name.clone(),
                                value: Some(b.value.clone()),
                                source: None,
                                set_at: Some(b.at.clone()),
                                field: true,
                                note: Some("shown above"),
                            });
                        } else {
                            self.block(b, d + 1, out);
                        }
                    }
                }
            }
        }
    }
}

fn wanted(name: &str, filter: Option<&str>) -> bool {
    filter.is_none_or(|w| under(name, w))
}

/// Whether the field `name` is `want` or under it; `[*]` in `want` stands for any index.
fn under(name: &str, want: &str) -> bool {
    let (mut n, mut w) = (name, want);
    loop {
        if w.is_empty() {
            return n.is_empty() || n.starts_with('.') || n.starts_with('[');
        }
        if let Some(rest) = w.strip_prefix("[*]") {
            let Some(r) = n.strip_prefix('[') else {
                return false;
            };
            let Some(end) = r.find(']') else {
                return false;
            };
            if end == 0 || !r[..end].bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            n = &r[end + 1..];
            w = rest;
            continue;
        }
        let Some(c) = w.chars().next() else {
            return false;
        };
        match n.strip_prefix(c) {
            Some(r) => {
                n = r;
                w = &w[c.len_utf8()..];
            }
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::under;

    #[test]
    fn a_field_is_under_itself_its_parents_and_their_wildcards() {
        assert!(under(
            "orderItemList[1].itemQuantity",
            "orderItemList[*].itemQuantity"
        ));
        assert!(under("orderItemList[1].itemQuantity", "orderItemList[1]"));
        assert!(under("orderItemList[1].itemQuantity", "orderItemList"));
        assert!(under("orderAmountInfo.totalTax", "orderAmountInfo"));
        assert!(!under(
            "orderAmountInfo.totalTaxes",
            "orderAmountInfo.totalTax"
        ));
        assert!(!under("orderItemList[1].itemQuantity", "orderItemList[0]"));
        assert!(!under(
            "orderItemList[1].itemId",
            "orderItemList[*].itemQuantity"
        ));
        assert!(!under("orderItemList", "orderItemList[*]"));
    }
}
