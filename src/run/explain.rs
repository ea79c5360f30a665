//! `explain`: for each target field of one order, its value, the mapping line that set
//! it and the steps it came from, personal values masked.

use super::error::RunError;
use super::eval::{field_name, run_with, Ev};
use crate::program::{BodyOp, FieldCheck, Global, Loop, Node, Op, Program};
use crate::schema::Pii;
use crate::syntax::Span;
use crate::value::Val;
use serde_json::Value;

/// For each target field (or those under `field`), its value, the mapping line that set
/// it and every step it came from, source values included. Personal data is masked.
pub fn explain(p: &Program, doc: &Value, field: Option<&str>) -> Result<String, RunError> {
    let mut out = String::new();
    let ex = Explain {
        filter: field.map(str::to_string),
        out: Vec::new(),
    };
    let lines = run_with(p, doc, &mut out, Some(ex))?;
    Ok(lines.join("\n\n"))
}

/// A value for a person to read; a personal string masked by its kind ([`crate::pii::mask`]).
pub(super) fn show(v: &Val, pii: Option<Pii>) -> String {
    match v {
        Val::Str(s) => match pii {
            Some(kind) => format!("{:?}", crate::pii::mask(kind, s)),
            None => format!("{s:?}"),
        },
        Val::Num(a) => match a.unit {
            Some(u) => format!("{} {u}", a.value.normalize()),
            None => a.value.normalize().to_string(),
        },
        Val::Null => "absent".into(),
        Val::Bool(b) => b.to_string(),
        Val::List(l) => {
            let mut parts: Vec<String> = l.iter().take(6).map(|x| show(x, pii)).collect();
            if l.len() > 6 {
                parts.push("…".into());
            }
            format!("[{}]", parts.join(", "))
        }
        Val::Json(Value::Array(a)) => format!("[{} items]", a.len()),
        Val::Json(_) | Val::Obj(_) => "{…}".into(),
    }
}

/// What `explain` collects: one block of lines per field.
pub(super) struct Explain {
    pub(super) filter: Option<String>,
    pub(super) out: Vec<String>,
}

impl<'a> Ev<'a> {
    /// The kind of personal data `n`'s value comes from, if any: a field of the order its
    /// source schema marks `x-pii`, or a personal target field read back through `out.`.
    pub(super) fn personal(&self, n: &Node) -> Option<Pii> {
        let o = n.origin.as_deref()?;
        if let Some(k) = self.p.source_pii.kind_of_path(o) {
            return Some(k);
        }
        if self.p.personal_out.iter().any(|t| **t == *o) {
            // The target field is `x-pii`; a name it shares with none is masked as a name.
            let kind = crate::pii::RequestPii::of(self.p).kind_of_path(o);
            return Some(kind.unwrap_or(Pii::Name));
        }
        None
    }

    /// Appends how a field got its value: the mapping line, then each step with its value.
    pub(super) fn explain_field(&mut self, n: &'a Node, c: &'a FieldCheck, v: &Val<'a>) {
        let name = field_name(&c.name, &self.loop_pos);
        let Some(ex) = &self.explain else { return };
        if let Some(want) = &ex.filter {
            if !(name == *want
                || name.starts_with(&format!("{want}."))
                || name.starts_with(&format!("{want}[")))
            {
                return;
            }
        }
        let pii = c.pii.or_else(|| self.personal(n));
        let mut lines = vec![format!(
            "{name} = {}    (set at {})",
            show(v, pii),
            self.p.sources.locate(n.span)
        )];
        self.explain_node(n, 1, pii, &mut lines);
        if let Some(ex) = &mut self.explain {
            ex.out.push(lines.join("\n"));
        }
    }

    fn explain_node(
        &mut self,
        n: &'a Node,
        depth: usize,
        pii: Option<Pii>,
        lines: &mut Vec<String>,
    ) {
        if depth > 16 {
            return;
        }
        let pad = "  ".repeat(depth);
        let text = self.snippet(n.span);
        // A step's own kind first: a phone read inside a name field is masked as a phone.
        let pii = self.personal(n).or(pii);
        let mut line = |ev: &mut Self, label: String, node: &'a Node| {
            let v = ev
                .eval(node)
                .map(|v| show(&v, pii))
                .unwrap_or_else(|_| "(error)".into());
            lines.push(format!("{pad}{label} = {v}"));
        };
        match &n.code {
            Op::Const(_) => {}
            Op::Src(..) | Op::LocalPath(..) | Op::GlobalPath(..) | Op::Out(..) => {
                line(self, text, n)
            }
            Op::Local(i) => {
                line(self, text, n);
                if let Some(def) = self.let_node(*i) {
                    lines.push(format!(
                        "{pad}  let {} = {}",
                        self.snippet(n.span),
                        self.snippet(def.span)
                    ));
                    self.explain_node(def, depth + 2, pii, lines);
                }
            }
            Op::Global(g) => {
                line(self, text, n);
                if let Some(Global::Let(def)) = self.p.globals.get(*g as usize) {
                    lines.push(format!(
                        "{pad}  let {} = {}",
                        self.snippet(n.span),
                        self.snippet(def.span)
                    ));
                    self.explain_node(def, depth + 2, pii, lines);
                }
            }
            Op::Lookup { key, .. } => {
                line(self, text, n);
                self.explain_node(key, depth + 1, pii, lines);
            }
            Op::Call(_, args) => {
                line(self, text, n);
                for a in args {
                    self.explain_node(a, depth + 1, pii, lines);
                }
            }
            Op::Unary(_, a) => self.explain_node(a, depth, pii, lines),
            Op::Binary(_, l, r) => {
                line(self, text, n);
                self.explain_node(l, depth + 1, pii, lines);
                self.explain_node(r, depth + 1, pii, lines);
            }
            Op::If(c, t, e) => {
                line(self, text, n);
                self.explain_node(c, depth + 1, pii, lines);
                let taken = matches!(self.eval(c), Ok(Val::Bool(true)));
                self.explain_node(if taken { t } else { e }, depth + 1, pii, lines);
            }
        }
    }

    /// Mapping text of a span on one line.
    fn snippet(&self, span: Span) -> String {
        self.p
            .sources
            .snippet(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `let` of the current loop that fills local `i`.
    fn let_node(&self, i: u32) -> Option<&'a Node> {
        fn find(l: &Loop, i: u32) -> Option<&Node> {
            l.body.iter().find_map(|op| match op {
                BodyOp::Let(j, n) if *j == i => Some(n),
                BodyOp::Loop(_, inner) => find(inner, i),
                _ => None,
            })
        }
        self.current_loop.and_then(|l| find(l, i))
    }
}
