//! `explain`: for each target field of one order, its value, the mapping line that set
//! it and the steps it came from down to the order's own fields (concrete source paths,
//! each `let` once, `out.` reads followed to the fields they read), or the rule or lookup
//! that rejected the order; as text or JSON, personal values masked.

use super::error::{Fail, RunError};
use super::eval::{field_name, run_with, Ev, Slot};
use crate::program::{BodyOp, FieldCheck, Func, Global, Loop, Node, Op, Program};
use crate::schema::Pii;
use crate::syntax::ast::BinOp;
use crate::syntax::Span;
use crate::value::Val;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// For each target field (or those under `field`), its value, the mapping line that set
/// it and every step it came from, source values included. Personal data is masked.
pub fn explain(p: &Program, doc: &Value, field: Option<&str>) -> Result<String, RunError> {
    let ex = explain_order(p, doc);
    match ex.rejected {
        Some(r) => Err(r.error),
        None => Ok(ex.text(field)),
    }
}

/// Explains one order: every target field it got, or why it was rejected.
pub fn explain_order(p: &Program, doc: &Value) -> Explained {
    let mut out = String::new();
    let mut ex = Some(Explain::default());
    let r = run_with(p, doc, &mut out, &mut ex);
    let ex = ex.unwrap_or_default();
    let order_id = p
        .order_id
        .as_ref()
        .and_then(|n| super::eval::eval_node(p, n, doc).ok())
        .and_then(|v| match v {
            Val::Str(s) => Some(s.into_owned()),
            Val::Num(a) => Some(a.value.to_string()),
            _ => None,
        });
    let rejected = r.err().map(|error| Rejected {
        error,
        trace: ex.failure.clone(),
    });
    Explained {
        order_id,
        fields: ex.fields,
        lets: ex.lets,
        rejected,
    }
}

/// One order explained ([`explain_order`]).
pub struct Explained {
    /// The order's id, when the mapping says where it is and the order has one.
    pub order_id: Option<String>,
    fields: Vec<Block>,
    lets: HashMap<String, LetBlock>,
    /// Why the order was rejected, if it was.
    pub rejected: Option<Rejected>,
}

/// A rejected order: the error (as `map` gives it) and the steps of the rule, lookup or
/// field that rejected it.
pub struct Rejected {
    pub error: RunError,
    trace: Option<Block>,
}

/// What `explain` collects while the order is evaluated.
#[derive(Default)]
pub(super) struct Explain {
    fields: Vec<Block>,
    seen: HashSet<String>,
    lets: HashMap<String, LetBlock>,
    /// The first thing that failed: the cause of a rejection (later failures follow from it).
    failure: Option<Block>,
    /// Re-evaluating for a trace: what fails there is no cause of the order's rejection.
    tracing: bool,
}

/// How one field got its value (or how a rule or field failed).
#[derive(Clone)]
struct Block {
    /// The field (`orderItemList[1].declareInfo.totalTax`) or the rule's text.
    name: String,
    value: String,
    at: String,
    steps: Vec<Step>,
    /// A rule (`require …`), not a field.
    rule: bool,
}

/// A let's derivation, kept once per let and loop item.
#[derive(Clone)]
struct LetBlock {
    def: String,
    steps: Vec<Step>,
}

/// One step of a derivation: a sub-expression and its value.
#[derive(Clone)]
struct Step {
    depth: usize,
    text: String,
    value: String,
    /// The concrete path into the order it reads (`$.detail.skuList[0]…`).
    source: Option<String>,
    more: More,
}

#[derive(Clone)]
enum More {
    None,
    /// A let: its derivation under this key of [`Explain::lets`].
    Let(String, String),
    /// An `out.` read: the fields it reads (a field path, `[*]` for any index).
    Fields(String),
}

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
pub fn under(name: &str, want: &str) -> bool {
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

/// A value for a person to read; a personal value masked by its kind ([`crate::pii::mask`]),
/// a number as well as a string (an ID number or phone may come as a JSON number).
pub(super) fn show(v: &Val, pii: Option<Pii>) -> String {
    match v {
        Val::Str(s) => match pii {
            Some(kind) => format!("{:?}", crate::pii::mask(kind, s)),
            None => format!("{s:?}"),
        },
        Val::Num(a) => {
            let n = a.value.normalize().to_string();
            let n = match pii {
                Some(kind) => crate::pii::mask(kind, &n),
                None => n,
            };
            match a.unit {
                Some(u) => format!("{n} {u}"),
                None => n,
            }
        }
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

/// The concrete path (`$.detail.skuList[0].skuDetailList[1]`) of a part of `root`, found
/// by address: loop items and lets hold parts of the order itself, not copies.
fn path_of(root: &Value, target: &Value) -> Option<String> {
    fn walk(v: &Value, t: &Value, path: &mut String) -> bool {
        if std::ptr::eq(v, t) {
            return true;
        }
        let len = path.len();
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        let _ = write!(path, ".{k}");
                    } else {
                        let _ = write!(path, "[{k:?}]");
                    }
                    if walk(x, t, path) {
                        return true;
                    }
                    path.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let _ = write!(path, "[{i}]");
                    if walk(x, t, path) {
                        return true;
                    }
                    path.truncate(len);
                }
            }
            _ => {}
        }
        false
    }
    let mut path = String::from("$");
    walk(root, target, &mut path).then_some(path)
}

/// The part of a variable path after the variable's name (`.taxPerSku` of `good.taxPerSku`).
fn tail_of(text: &str) -> &str {
    text.find(['.', '[']).map_or("", |i| &text[i..])
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

    /// Keeps how a field got its value: the mapping line, then each step with its value.
    pub(super) fn explain_field(&mut self, n: &'a Node, c: &'a FieldCheck, v: &Val<'a>) {
        let name = field_name(&c.name, &self.loop_pos);
        match &self.explain {
            Some(ex) if !ex.seen.contains(&name) => {}
            _ => return,
        }
        let pii = c.pii.or_else(|| self.personal(n));
        let value = show(v, pii);
        let b = self.block(name.clone(), value, n, pii, false);
        if let Some(ex) = &mut self.explain {
            ex.seen.insert(name);
            ex.fields.push(b);
        }
    }

    /// Keeps the steps of a field that failed, if it is the first thing that failed.
    #[cold]
    pub(super) fn explain_failed_field(&mut self, n: &'a Node, c: &'a FieldCheck, f: &Fail) {
        if !self.first_failure() {
            return;
        }
        let name = field_name(&c.name, &self.loop_pos);
        let pii = c.pii.or_else(|| self.personal(n));
        let value = format!("(fails: {})", f.message);
        let b = self.block(name, value, n, pii, false);
        if let Some(ex) = &mut self.explain {
            ex.failure = Some(b);
        }
    }

    /// Keeps the steps of a `require` that rejected the order (or failed) or of a loop's
    /// `let` that failed, if it is the first thing that failed; gives back the failure.
    #[cold]
    pub(super) fn explain_failed_rule(&mut self, cond: &'a Node, f: Box<Fail>) -> Box<Fail> {
        if self.first_failure() {
            let mut name = self.line_of(cond.span);
            if let Some(l) = self.current_loop {
                let item = field_name(&format!("{}[]", l.check.name), &self.loop_pos);
                name = format!("{item}: {name}");
            }
            let value = f.message.clone();
            let b = self.block(name, value, cond, None, true);
            if let Some(ex) = &mut self.explain {
                ex.failure = Some(b);
            }
        }
        f
    }

    /// Whether a failure now is the cause of the order's rejection (explaining, nothing
    /// failed before, not re-evaluating for a trace).
    fn first_failure(&mut self) -> bool {
        let ok = matches!(&self.explain, Some(ex) if ex.failure.is_none() && !ex.tracing);
        if ok {
            // What was being computed when it failed is computed again for the trace.
            self.unbusy();
        }
        ok
    }

    /// The value of `n` for a trace; `None` when it fails, leaving nothing half-computed
    /// (a field the order never needed must not fail later as "in a circle").
    fn traced(&mut self, n: &'a Node) -> Option<Val<'a>> {
        let v = self.eval(n);
        if v.is_err() {
            self.unbusy();
        }
        v.ok()
    }

    fn traced_global(&mut self, g: u32) -> Option<Val<'a>> {
        let v = self.global(g);
        if v.is_err() {
            self.unbusy();
        }
        v.ok()
    }

    /// Fields left half-computed by a failure are to be computed again.
    fn unbusy(&mut self) {
        for s in &mut self.slots {
            if matches!(s, Slot::Busy) {
                *s = Slot::Todo;
            }
        }
    }

    fn block(
        &mut self,
        name: String,
        value: String,
        n: &'a Node,
        pii: Option<Pii>,
        rule: bool,
    ) -> Block {
        let at = self.p.sources.locate(n.span);
        let was = self.set_tracing(true);
        let mut steps = Vec::new();
        self.explain_node(n, 1, pii, &mut steps);
        self.set_tracing(was);
        Block {
            name,
            value,
            at,
            steps,
            rule,
        }
    }

    fn set_tracing(&mut self, on: bool) -> bool {
        match &mut self.explain {
            Some(ex) => std::mem::replace(&mut ex.tracing, on),
            None => false,
        }
    }

    fn explain_node(&mut self, n: &'a Node, depth: usize, pii: Option<Pii>, steps: &mut Vec<Step>) {
        if depth > 16 {
            return;
        }
        let text = self.snippet(n.span);
        // A step's own kind first: a phone read inside a name field is masked as a phone.
        let pii = self.personal(n).or(pii);
        let value = |ev: &mut Self, node: &'a Node| match ev.eval(node) {
            Ok(v) => show(&v, pii),
            Err(f) => {
                // Computed again at the next step: its own message, not "in a circle".
                ev.unbusy();
                format!("(fails: {})", f.message)
            }
        };
        let step = |text: String, value: String, source: Option<String>, more: More| Step {
            depth,
            text,
            value,
            source,
            more,
        };
        match &n.code {
            Op::Const(_) => {}
            Op::Src(..) => {
                let v = value(self, n);
                let source = match self.traced(n) {
                    Some(Val::Json(j)) => path_of(self.doc, j),
                    _ => None,
                };
                steps.push(step(text, v, source, More::None));
            }
            Op::LocalPath(i, t) => {
                let v = value(self, n);
                let source = match &self.locals[self.base + *i as usize] {
                    Val::Json(j) => {
                        path_of(self.doc, j).map(|p| format!("{p}{}", tail_of(&t.text)))
                    }
                    _ => None,
                };
                steps.push(step(text, v, source, More::None));
            }
            Op::GlobalPath(g, t) => {
                let v = value(self, n);
                let source = match self.traced_global(*g) {
                    Some(Val::Json(j)) => {
                        path_of(self.doc, j).map(|p| format!("{p}{}", tail_of(&t.text)))
                    }
                    _ => None,
                };
                steps.push(step(text, v, source, More::None));
            }
            Op::Out(_, _, path) => {
                let v = value(self, n);
                let want = path.strip_prefix("out.").unwrap_or(path).to_string();
                steps.push(step(text, v, None, More::Fields(want)));
            }
            Op::Local(i) => {
                let v = value(self, n);
                let local = &self.locals[self.base + *i as usize];
                let source = match local {
                    Val::Json(j) => path_of(self.doc, j),
                    _ => None,
                };
                match self.let_node(*i) {
                    Some(def) => {
                        let key = self.let_key(*i);
                        self.keep_let(&key, def, pii);
                        steps.push(step(text.clone(), v, source, More::Let(key, text)));
                    }
                    None => steps.push(step(text, v, source, More::None)),
                }
            }
            Op::Global(g) => {
                let v = value(self, n);
                match self.p.globals.get(*g as usize) {
                    Some(Global::Let(def)) => {
                        let key = format!("#{g}");
                        let source = match self.traced_global(*g) {
                            Some(Val::Json(j)) => path_of(self.doc, j),
                            _ => None,
                        };
                        self.keep_let(&key, def, pii);
                        steps.push(step(text.clone(), v, source, More::Let(key, text)));
                    }
                    _ => steps.push(step(text, v, None, More::None)),
                }
            }
            Op::Lookup { key, .. } => {
                let v = value(self, n);
                steps.push(step(text, v, None, More::None));
                self.explain_node(key, depth + 1, pii, steps);
            }
            // An implicit unit (`good.taxPerSku` of a `fen` field): one step, the amount's.
            Op::Call(Func::Tag(_), args)
                if args.len() == 1 && self.snippet(args[0].span) == text =>
            {
                let v = value(self, n);
                let first = steps.len();
                self.explain_node(&args[0], depth, pii, steps);
                if let Some(s) = steps.get_mut(first) {
                    s.value = v;
                }
            }
            Op::Call(_, args) => {
                let v = value(self, n);
                steps.push(step(text, v, None, More::None));
                for a in args {
                    self.explain_node(a, depth + 1, pii, steps);
                }
            }
            Op::Unary(_, a) => self.explain_node(a, depth, pii, steps),
            Op::Binary(op, l, r) => {
                let v = value(self, n);
                steps.push(step(text, v, None, More::None));
                self.explain_node(l, depth + 1, pii, steps);
                // The right side only where it was evaluated: `??` of a present value,
                // `and`/`or` decided by the left side, never read it.
                let skip = match op {
                    BinOp::Coalesce => {
                        !matches!(self.traced(l), Some(Val::Null))
                            && !matches!(self.traced(l), Some(Val::List(x)) if x.is_empty())
                    }
                    BinOp::And => matches!(self.traced(l), Some(Val::Bool(false))),
                    BinOp::Or => matches!(self.traced(l), Some(Val::Bool(true))),
                    _ => false,
                };
                if !skip {
                    self.explain_node(r, depth + 1, pii, steps);
                }
            }
            Op::If(c, t, e) => {
                let v = value(self, n);
                steps.push(step(text, v, None, More::None));
                self.explain_node(c, depth + 1, pii, steps);
                let taken = matches!(self.traced(c), Some(Val::Bool(true)));
                self.explain_node(if taken { t } else { e }, depth + 1, pii, steps);
            }
        }
    }

    /// Keeps the derivation of a let under `key`, the first time it is met.
    fn keep_let(&mut self, key: &str, def: &'a Node, pii: Option<Pii>) {
        match &self.explain {
            Some(ex) if !ex.lets.contains_key(key) => {}
            _ => return,
        }
        let def_text = self.snippet(def.span);
        // Placeholder first: a let met again inside its own derivation is not re-expanded.
        if let Some(ex) = &mut self.explain {
            ex.lets.insert(
                key.to_string(),
                LetBlock {
                    def: def_text.clone(),
                    steps: Vec::new(),
                },
            );
        }
        let mut steps = Vec::new();
        self.explain_node(def, 1, pii, &mut steps);
        if let Some(ex) = &mut self.explain {
            ex.lets.insert(
                key.to_string(),
                LetBlock {
                    def: def_text,
                    steps,
                },
            );
        }
    }

    /// Which let a local of the current loop item is: the loop, the item, the local.
    fn let_key(&self, i: u32) -> String {
        let l = self.current_loop.map_or("", |l| &*l.check.name);
        format!("{}/{i}", field_name(&format!("{l}[]"), &self.loop_pos))
    }

    /// The mapping text from the start of `span`'s line to its end, on one line
    /// (`let rate = goods[…]`, `require qty >= 1`).
    fn line_of(&self, span: Span) -> String {
        let before = self.p.sources.snippet(Span {
            file: span.file,
            start: 0,
            end: span.start,
        });
        let start = before.rfind('\n').map_or(0, |i| i + 1) as u32;
        let whole = Span { start, ..span };
        let text = self.snippet(whole);
        match text.find(" else ") {
            Some(i) if text.starts_with("require") => text[..i].to_string(),
            _ => text,
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
