//! Runs a compiled [`Program`] over one order: the request written by the program's
//! plan of writes ([`super::plan`]), lazily evaluated top-level slots for the values
//! read back (`out.…`, lets), loops with their own frame of locals.

use super::error::{describe, Fail, RunCode, RunError, R};
use super::explain::{show, Explain};
use super::fields::fit;
use super::json::write_json;
use crate::money::Amount;
use crate::path::eval_val;
use crate::program::arith::{arith, arith_code};
use crate::program::func::{Args, CallError, Make};
use crate::program::writes::{Comma, Write, Writes};
use crate::program::{
    key_text, BodyOp, FieldCheck, Func, Global, ItemNode, Loop, Node, Op, OutNode, Program, Tail,
};
use crate::syntax::ast::{BinOp, UnOp};
use crate::syntax::Span;
use crate::value::Val;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;

pub(super) enum Slot<'a> {
    Todo,
    Busy,
    Done(Val<'a>),
}

/// Maps one order. Appends the request JSON to `out`; on error `out` is left as it was.
pub fn run_into(p: &Program, doc: &Value, out: &mut String) -> Result<(), RunError> {
    run_with(p, doc, out, &mut None)
}

pub(super) fn run_with(
    p: &Program,
    doc: &Value,
    out: &mut String,
    explain: &mut Option<Explain>,
) -> Result<(), RunError> {
    // The evaluator recurses once per expression level: a deep mapping gets the stack
    // it needs (an ordinary one runs on the thread's own, after one comparison).
    crate::syntax::depth::with_levels(p.depth, || run_deep(p, doc, out, explain))
}

fn run_deep(
    p: &Program,
    doc: &Value,
    out: &mut String,
    explain: &mut Option<Explain>,
) -> Result<(), RunError> {
    let mut ev = Ev::new(p, doc, explain.take());
    let start = out.len();
    let done = if ev.explain.is_some() {
        // Explaining visits every field, fixed ones too: the whole tree is built.
        ev.build().map(|v| write_json(out, &v))
    } else {
        ev.write_root(out)
    };
    *explain = ev.explain.take();
    match done {
        Ok(()) => Ok(()),
        Err(f) => {
            out.truncate(start);
            Err(RunError {
                order_id: order_id(p, doc),
                field: f.field,
                source_path: f.source,
                location: p.sources.locate(f.span),
                message: f.message,
                code: f.code,
            })
        }
    }
}

/// The order's id for a message (read only when an order fails, on a fresh start).
fn order_id(p: &Program, doc: &Value) -> Option<String> {
    let n = p.order_id.as_ref()?;
    let v = Ev::new(p, doc, None).eval(n).ok()?;
    match scalar(v, None).ok()? {
        Val::Str(s) => Some(s.into_owned()),
        Val::Num(a) => Some(a.value.to_string()),
        _ => None,
    }
}

/// The value of a field that reads nothing of the order, as JSON text (`None` inside when
/// it is absent); `None` when it fails, so that each order fails the same way at run time.
/// The plan of writes of `p` ([`plan`]), built the first time it is asked for.
pub fn writes(p: &Program) -> &Writes {
    p.writes.get_or_init(|| Writes::of(p, &fixed_field))
}

fn fixed_field(p: &Program, n: &Node, c: &FieldCheck) -> Option<Option<String>> {
    let doc = Value::Null;
    // Called while `p`'s plan is being built: a fixed field reads no global, so no slot.
    let none = Writes::default();
    let mut ev = Ev::with_plan(p, &none, &doc, None);
    let v = ev.field(n, c).ok()?;
    if v.is_null() {
        return Some(None);
    }
    let mut s = String::new();
    write_json(&mut s, &v);
    Some(Some(s))
}

/// Maps one order to its `logistics_interface` JSON text.
pub fn run(p: &Program, doc: &Value) -> Result<String, RunError> {
    let mut s = String::with_capacity(2048);
    run_into(p, doc, &mut s)?;
    Ok(s)
}

/// The value of one expression of `p` over an order, as a single value: a route's
/// condition and the order's values a skipped order's reason shows (`crate::route`).
pub fn eval_node<'a>(p: &'a Program, n: &'a Node, doc: &'a Value) -> Result<Val<'a>, RunError> {
    let v = crate::syntax::depth::with_levels(p.depth, || {
        let mut ev = Ev::new(p, doc, None);
        ev.eval(n).and_then(|v| scalar(v, Some(n)))
    });
    v.map_err(|f| RunError {
        order_id: order_id(p, doc),
        field: f.field,
        source_path: f.source,
        location: p.sources.locate(f.span),
        message: f.message,
        code: f.code,
    })
}

pub(super) struct Ev<'a> {
    pub(super) explain: Option<Explain>,
    pub(super) current_loop: Option<&'a Loop>,
    pub(super) p: &'a Program,
    /// The plan of writes of `p`, and where read-back globals are kept.
    w: &'a Writes,
    pub(super) doc: &'a Value,
    pub(super) slots: Vec<Slot<'a>>,
    pub(super) locals: Vec<Val<'a>>,
    pub(super) base: usize,
    pub(super) loop_pos: Vec<usize>,
}

impl<'a> Ev<'a> {
    fn new(p: &'a Program, doc: &'a Value, explain: Option<Explain>) -> Ev<'a> {
        Ev::with_plan(p, writes(p), doc, explain)
    }

    /// An evaluator over `w`, a plan of `p` (while planning: one with no slots).
    fn with_plan(
        p: &'a Program,
        w: &'a Writes,
        doc: &'a Value,
        explain: Option<Explain>,
    ) -> Ev<'a> {
        Ev {
            explain,
            current_loop: None,
            p,
            w,
            doc,
            slots: (0..w.slots).map(|_| Slot::Todo).collect(),
            locals: Vec::new(),
            base: 0,
            loop_pos: Vec::new(),
        }
    }
}

fn borrow_const<'a>(v: &'a Val<'static>) -> Val<'a> {
    match v {
        Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
        other => other.clone(),
    }
}

/// A single value where one is expected: one match of a list is that match.
fn scalar<'a>(v: Val<'a>, n: Option<&Node>) -> R<Val<'a>> {
    // Almost every value is already single: that case must cost nothing.
    match v {
        Val::List(l) => scalar_of_list(l, n),
        other => Ok(other),
    }
}

#[cold]
fn scalar_of_list<'a>(l: Arc<Vec<Val<'a>>>, n: Option<&Node>) -> R<Val<'a>> {
    match l.len() {
        0 => Ok(Val::Null),
        1 => Ok(l[0].clone()),
        k => Err(match n {
            Some(n) => Fail::at(n, RunCode::Many, format!("the path gives {k} values where one is expected (use first(…), sum(…) or a filter)")),
            None => Fail::new(Span::default(), RunCode::Many, format!("{k} values where one is expected")),
        }),
    }
}

fn items<'a>(v: Val<'a>, n: &Node) -> R<Vec<Val<'a>>> {
    match v {
        Val::Null => Ok(Vec::new()),
        Val::List(l) => Ok(Arc::try_unwrap(l).unwrap_or_else(|shared| (*shared).clone())),
        Val::Json(Value::Array(a)) => a
            .iter()
            .map(|x| {
                Val::from_json(x).map_err(|b| {
                    Fail::at(
                        n,
                        RunCode::Path,
                        format!("number `{}` is out of range", b.0),
                    )
                })
            })
            .collect(),
        other => Err(Fail::at(
            n,
            RunCode::Type,
            format!("expected a list, found {}", other.kind()),
        )),
    }
}

pub(super) fn field_name(name: &str, pos: &[usize]) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut it = pos.iter();
    let mut rest = name;
    while let Some(i) = rest.find("[]") {
        out.push_str(&rest[..i]);
        match it.next() {
            Some(p) => {
                let _ = write!(out, "[{p}]");
            }
            None => out.push_str("[]"),
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

fn overflow(n: &Node) -> Box<Fail> {
    Fail::at(n, RunCode::Arithmetic, "the number is too large")
}

impl<'a> Ev<'a> {
    fn build(&mut self) -> R<Val<'a>> {
        let p = self.p;
        for r in &p.requires {
            if let Err(f) = self.require(&r.cond, &r.message) {
                return Err(self.explain_failed_rule(&r.cond, f));
            }
        }
        self.out_obj(&p.root)
    }

    fn require(&mut self, cond: &'a Node, message: &str) -> R<()> {
        match scalar(self.eval(cond)?, Some(cond))? {
            Val::Bool(true) => Ok(()),
            Val::Bool(false) | Val::Null => Err(Fail::at(
                cond,
                RunCode::Require,
                format!("rejected: {message}"),
            )),
            other => Err(Fail::at(
                cond,
                RunCode::Type,
                format!("a condition must be true or false, found {}", other.kind()),
            )),
        }
    }

    /// Writes the request by the program's plan of writes (see [`super::plan`]).
    fn write_root(&mut self, out: &mut String) -> R<()> {
        let p = self.p;
        for r in &p.requires {
            self.require(&r.cond, &r.message)?;
        }
        // Whether the innermost open object holds something yet (for `Comma::IfWrote`).
        let mut wrote = false;
        let comma = |out: &mut String, c: Comma, wrote: bool| {
            if c == Comma::Yes || (c == Comma::IfWrote && wrote) {
                out.push(',');
            }
        };
        let w = self.w;
        for op in &w.ops {
            match op {
                Write::Text {
                    comma: c,
                    text,
                    opens,
                } => {
                    comma(out, *c, wrote);
                    out.push_str(text);
                    wrote = !opens;
                }
                Write::Field {
                    comma: c,
                    key,
                    global,
                } => {
                    let v = self.global(*global)?;
                    if !v.is_null() {
                        comma(out, *c, wrote);
                        out.push_str(key);
                        write_json(out, &v);
                        wrote = true;
                    }
                }
            }
        }
        Ok(())
    }

    fn out_obj(&mut self, fields: &'a [(Box<str>, OutNode)]) -> R<Val<'a>> {
        let mut out = Vec::with_capacity(fields.len());
        for (k, n) in fields {
            let v = match n {
                OutNode::Global(g) => self.global(*g)?,
                OutNode::Obj(sub) => self.out_obj(sub)?,
            };
            out.push((&**k, v));
        }
        Ok(Val::Obj(Arc::new(out)))
    }

    pub(super) fn global(&mut self, g: u32) -> R<Val<'a>> {
        let gi = g as usize;
        let Some(&Some(si)) = self.w.slot.get(gi) else {
            // Only the request reads it, once: no slot to keep it in.
            return self.compute(gi);
        };
        let si = si as usize;
        match &self.slots[si] {
            Slot::Done(v) => return Ok(v.clone()),
            Slot::Busy => {
                return Err(Fail::new(
                    Span::default(),
                    RunCode::Cycle,
                    "fields read each other in a circle",
                ))
            }
            Slot::Todo => {}
        }
        self.slots[si] = Slot::Busy;
        let v = self.compute(gi)?;
        self.slots[si] = Slot::Done(v.clone());
        Ok(v)
    }

    // Inlined, with `field`, into `global`: one copy of each field's value fewer.
    #[inline(always)]
    fn compute(&mut self, gi: usize) -> R<Val<'a>> {
        let saved_pos = std::mem::take(&mut self.loop_pos);
        let p = self.p;
        let r = match &p.globals[gi] {
            Global::Let(n) => self.eval(n),
            Global::Field(n, c) => self.field(n, c),
            Global::Loop(l) => {
                let saved_base = self.base;
                self.base = self.locals.len();
                self.locals.resize(self.base + l.frame, Val::Null);
                let r = self.run_loop(l);
                self.locals.truncate(self.base);
                self.base = saved_base;
                r
            }
        };
        self.loop_pos = saved_pos;
        r
    }

    #[inline(always)]
    fn field(&mut self, n: &'a Node, c: &'a FieldCheck) -> R<Val<'a>> {
        // The value is checked in place: every field of every order comes through here.
        let mut v = match self.eval(n) {
            Ok(v) => v,
            Err(f) => return Err(self.failed(f, n, c)),
        };
        if let Val::List(_) = v {
            v = match scalar(v, Some(n)) {
                Ok(v) => v,
                Err(f) => return Err(self.named(f, c)),
            };
        }
        if let Err(f) = fit(&mut v, n, c) {
            return Err(self.failed(f, n, c));
        }
        if self.explain.is_some() {
            self.explain_field(n, c, &v);
        }
        Ok(v)
    }

    /// A field that failed: kept for `explain`, named in the error.
    #[cold]
    fn failed(&mut self, f: Box<Fail>, n: &'a Node, c: &'a FieldCheck) -> Box<Fail> {
        if self.explain.is_some() {
            self.explain_failed_field(n, c, &f);
        }
        self.named(f, c)
    }

    /// Names the field an error happened in, unless a deeper field already did.
    #[cold]
    fn named(&self, mut f: Box<Fail>, c: &FieldCheck) -> Box<Fail> {
        if f.field.is_none() {
            f.field = Some(field_name(&c.name, &self.loop_pos));
        }
        f
    }

    fn run_loop(&mut self, l: &'a Loop) -> R<Val<'a>> {
        let mut out = Vec::new();
        self.loop_level(l, 0, &mut out)?;
        Ok(Val::List(Arc::new(out)))
    }

    fn loop_level(&mut self, l: &'a Loop, b: usize, out: &mut Vec<Val<'a>>) -> R<()> {
        let Some((slot, src)) = l.bindings.get(b) else {
            // All bindings set: one item.
            self.loop_pos.push(out.len());
            let r = self.loop_body(l).map_err(|mut f| {
                if f.field.is_none() {
                    f.field = Some(field_name(&format!("{}[]", l.check.name), &self.loop_pos));
                }
                f
            });
            self.loop_pos.pop();
            out.push(r?);
            return Ok(());
        };
        // `for x in a.b[*]` over an array of the order walks it in place, with no list
        // built in between.
        let elements = self.order_path(src).and_then(|(p, root)| p.elements(root));
        if let Some(elements) = elements {
            for x in elements {
                // Never fails: `elements` holds no numbers.
                self.locals[self.base + *slot as usize] = Val::from_json(x).unwrap_or(Val::Null);
                self.loop_level(l, b + 1, out)?;
            }
            return Ok(());
        }
        let list = self.eval(src)?;
        for item in items(list, src)? {
            self.locals[self.base + *slot as usize] = item;
            self.loop_level(l, b + 1, out)?;
        }
        Ok(())
    }

    /// The compiled path and the part of the order it starts from, when `n` is a path
    /// into the order (from its root, or below a local holding a part of it).
    fn order_path<'n>(&self, n: &'n Node) -> Option<(&'n crate::path::PathCode, &'a Value)> {
        match &n.code {
            Op::Src(p, _) => Some((p, self.doc)),
            Op::LocalPath(i, t) => match &self.locals[self.base + *i as usize] {
                Val::Json(j) => Some((&t.path, *j)),
                _ => None,
            },
            _ => None,
        }
    }

    fn loop_body(&mut self, l: &'a Loop) -> R<Val<'a>> {
        let outer = self.current_loop.replace(l);
        let r = self.loop_ops(l);
        self.current_loop = outer;
        r
    }

    fn loop_ops(&mut self, l: &'a Loop) -> R<Val<'a>> {
        for op in &l.body {
            match op {
                BodyOp::Let(i, n) => {
                    let v = match self.eval(n) {
                        Ok(v) => v,
                        Err(f) => return Err(self.explain_failed_rule(n, f)),
                    };
                    self.locals[self.base + *i as usize] = v;
                }
                BodyOp::Require(n, msg) => {
                    if let Err(f) = self.require(n, msg) {
                        return Err(self.explain_failed_rule(n, f));
                    }
                }
                BodyOp::Field(i, n, c) => {
                    let v = self.field(n, c)?;
                    self.locals[self.base + *i as usize] = v;
                }
                BodyOp::Loop(i, inner) => {
                    let v = self.run_loop(inner)?;
                    self.locals[self.base + *i as usize] = v;
                }
            }
        }
        Ok(self.item(&l.item))
    }

    fn item(&self, fields: &'a [(Box<str>, ItemNode)]) -> Val<'a> {
        Val::Obj(Arc::new(
            fields
                .iter()
                .map(|(k, n)| {
                    let v = match n {
                        ItemNode::Local(i) => self.locals[self.base + *i as usize].clone(),
                        ItemNode::Obj(sub) => self.item(sub),
                    };
                    (&**k, v)
                })
                .collect(),
        ))
    }

    fn tail(&self, v: Val<'a>, t: &Tail, n: &Node) -> R<Val<'a>> {
        match v {
            Val::Json(j) => t.path.eval(j).map_err(|m| Fail::at(n, RunCode::Path, m)),
            v @ (Val::Obj(_) | Val::List(_)) => match &t.segs {
                Some(segs) => eval_val(&v, segs).map_err(|m| Fail::at(n, RunCode::Path, m)),
                None => Err(Fail::at(
                    n,
                    RunCode::Path,
                    "filters work on the order's data, not on values the mapping built",
                )),
            },
            _ => Ok(Val::Null),
        }
    }

    pub(super) fn eval(&mut self, n: &'a Node) -> R<Val<'a>> {
        match &n.code {
            Op::Const(v) => Ok(borrow_const(v)),
            Op::Src(p, _) => p.eval(self.doc).map_err(|m| Fail::at(n, RunCode::Path, m)),
            Op::Local(i) => Ok(self.locals[self.base + *i as usize].clone()),
            Op::Global(g) => self.global(*g),
            Op::LocalPath(i, t) => {
                let v = self.locals[self.base + *i as usize].clone();
                self.tail(v, t, n)
            }
            Op::GlobalPath(g, t) => {
                let v = self.global(*g)?;
                self.tail(v, t, n)
            }
            Op::Out(g, segs, _) => {
                let v = self.global(*g)?;
                eval_val(&v, segs).map_err(|m| Fail::at(n, RunCode::Path, m))
            }
            Op::Lookup { table, key, column } => self.lookup(*table, key, *column),
            Op::Call(f, args) => self.call(*f, args, n),
            Op::Unary(op, e) => self.unary(*op, e),
            Op::Binary(op, l, r) => self.binary(*op, l, r),
            Op::If(c, t, e) => self.cond(c, t, e),
        }
    }

    #[inline(never)]
    fn unary(&mut self, op: UnOp, e: &'a Node) -> R<Val<'a>> {
        let v = scalar(self.eval(e)?, Some(e))?;
        match (op, v) {
            (UnOp::Not, Val::Bool(b)) => Ok(Val::Bool(!b)),
            (UnOp::Neg, Val::Num(a)) => Ok(Val::Num(Amount::new(-a.value, a.unit))),
            (_, Val::Null) => Err(Fail::at(e, RunCode::Missing, "the value is absent")),
            (UnOp::Not, v) => Err(Fail::at(
                e,
                RunCode::Type,
                format!("`not` needs true or false, found {}", v.kind()),
            )),
            (UnOp::Neg, v) => Err(Fail::at(
                e,
                RunCode::Type,
                format!("`-` needs a number, found {}", v.kind()),
            )),
        }
    }

    #[inline(never)]
    fn cond(&mut self, c: &'a Node, t: &'a Node, e: &'a Node) -> R<Val<'a>> {
        match scalar(self.eval(c)?, Some(c))? {
            Val::Bool(true) => self.eval(t),
            Val::Bool(false) => self.eval(e),
            Val::Null => Err(Fail::at(c, RunCode::Missing, "the condition has no value")),
            v => Err(Fail::at(
                c,
                RunCode::Type,
                format!("a condition must be true or false, found {}", v.kind()),
            )),
        }
    }

    #[inline(never)]
    fn lookup(&mut self, table: u32, key: &'a Node, column: Option<u32>) -> R<Val<'a>> {
        let t = &self.p.tables[table as usize];
        let k = scalar(self.eval(key)?, Some(key))?;
        if k.is_null() {
            return Err(Fail::at(
                key,
                RunCode::Missing,
                format!("the key for table `{}` has no value", t.name),
            ));
        }
        let Some(text) = key_text(&k) else {
            return Err(Fail::at(
                key,
                RunCode::Type,
                format!(
                    "a key for table `{}` must be a string or a whole number, found {}",
                    t.name,
                    k.kind()
                ),
            ));
        };
        let row = match t.rows.get(text.as_ref()).or(t.default.as_ref()) {
            Some(r) => r,
            None => {
                // Keys are codes and barcodes; one read from a personal field is masked.
                let shown: String = if let Some(kind) = self.personal(key) {
                    show(&k, Some(kind))
                } else if text.chars().count() > 40 {
                    text.chars().take(40).chain("…".chars()).collect()
                } else {
                    text.to_string()
                };
                return Err(Fail::at(
                    key,
                    RunCode::Lookup,
                    format!(
                        "no row for key `{shown}` in table `{}` ({})",
                        t.name, t.source
                    ),
                ));
            }
        };
        let i = column.unwrap_or(0) as usize;
        Ok(row.get(i).map(borrow_const).unwrap_or(Val::Null))
    }

    /// A number for arithmetic. The common shapes (constants, locals, amounts read from
    /// the order, arithmetic on those) are taken directly, without a `Val` for each step;
    /// anything else, and every error, goes the general way, so results and messages are
    /// the same.
    fn eval_num(&mut self, n: &'a Node) -> R<Amount> {
        match &n.code {
            Op::Const(Val::Num(a)) => Ok(*a),
            Op::Local(i) => match &self.locals[self.base + *i as usize] {
                Val::Num(a) => Ok(*a),
                _ => self.num(n),
            },
            Op::Binary(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), l, r) => {
                let a = self.eval_num(l)?;
                let b = self.eval_num(r)?;
                arith(*op, a, b).map_err(|m| {
                    Fail::at(if m.contains("zero") { r } else { l }, arith_code(&m), m)
                })
            }
            Op::Call(Func::Tag(unit), args) => match args.first().and_then(|a| self.read_num(a)) {
                Some(a) => Ok(Amount::new(a.value, Some(*unit))),
                None => self.num(n),
            },
            _ => match self.read_num(n) {
                Some(a) => Ok(a),
                None => self.num(n),
            },
        }
    }

    /// A number read straight from the order by a single path, when that is what `n` is.
    fn read_num(&self, n: &Node) -> Option<Amount> {
        let (path, root) = self.order_path(n)?;
        match path.single(root)? {
            Value::Number(x) => {
                crate::money::parse_decimal(x.as_str()).map(|d| Amount::new(d, None))
            }
            _ => None,
        }
    }

    fn num(&mut self, n: &'a Node) -> R<Amount> {
        match scalar(self.eval(n)?, Some(n))? {
            Val::Num(a) => Ok(a),
            Val::Null => Err(Fail::at(n, RunCode::Missing, "the value is absent")),
            v => Err(Fail::at(
                n,
                RunCode::Type,
                format!("expected a number, found {}", v.kind()),
            )),
        }
    }

    #[inline(never)]
    fn binary(&mut self, op: BinOp, l: &'a Node, r: &'a Node) -> R<Val<'a>> {
        match op {
            BinOp::Coalesce => {
                let v = scalar(self.eval(l)?, Some(l))?;
                if v.is_null() {
                    self.eval(r)
                } else {
                    Ok(v)
                }
            }
            BinOp::And | BinOp::Or => {
                let a = self.boolean(l)?;
                if (op == BinOp::And && !a) || (op == BinOp::Or && a) {
                    return Ok(Val::Bool(a));
                }
                Ok(Val::Bool(self.boolean(r)?))
            }
            BinOp::Eq | BinOp::Ne => {
                let a = scalar(self.eval(l)?, Some(l))?;
                let b = scalar(self.eval(r)?, Some(r))?;
                let eq = match (&a, &b) {
                    (Val::Null, Val::Null) => true,
                    (Val::Null, _) | (_, Val::Null) => false,
                    _ => self.compare(&a, &b, l, r)? == Ordering::Equal,
                };
                Ok(Val::Bool(eq == (op == BinOp::Eq)))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let a = scalar(self.eval(l)?, Some(l))?;
                let b = scalar(self.eval(r)?, Some(r))?;
                if a.is_null() {
                    return Err(Fail::at(l, RunCode::Missing, "the value is absent"));
                }
                if b.is_null() {
                    return Err(Fail::at(r, RunCode::Missing, "the value is absent"));
                }
                let o = self.compare(&a, &b, l, r)?;
                Ok(Val::Bool(match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Le => o != Ordering::Greater,
                    BinOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let a = self.eval_num(l)?;
                let b = self.eval_num(r)?;
                arith(op, a, b)
                    .map_err(|m| {
                        Fail::at(if m.contains("zero") { r } else { l }, arith_code(&m), m)
                    })
                    .map(Val::Num)
            }
        }
    }

    fn boolean(&mut self, n: &'a Node) -> R<bool> {
        match scalar(self.eval(n)?, Some(n))? {
            Val::Bool(b) => Ok(b),
            Val::Null => Err(Fail::at(n, RunCode::Missing, "the value is absent")),
            v => Err(Fail::at(
                n,
                RunCode::Type,
                format!("expected true or false, found {}", v.kind()),
            )),
        }
    }

    fn compare(&self, a: &Val, b: &Val, l: &Node, r: &Node) -> R<Ordering> {
        match (a, b) {
            (Val::Num(x), Val::Num(y)) => {
                if let (Some(u), Some(v)) = (x.unit, y.unit) {
                    if u != v {
                        return Err(Fail::at(
                            l,
                            RunCode::Unit,
                            format!("comparing an amount in {u} with one in {v}"),
                        ));
                    }
                }
                Ok(x.value.cmp(&y.value))
            }
            (Val::Str(x), Val::Str(y)) => Ok(x.cmp(y)),
            (Val::Bool(x), Val::Bool(y)) => Ok(x.cmp(y)),
            _ => Err(Fail::at(
                if describe(l).is_some() { l } else { r },
                RunCode::Type,
                format!("cannot compare {} with {}", a.kind(), b.kind()),
            )),
        }
    }

    fn str_arg(&mut self, n: &'a Node) -> R<Option<Cow<'a, str>>> {
        match scalar(self.eval(n)?, Some(n))? {
            Val::Str(s) => Ok(Some(s)),
            Val::Null => Ok(None),
            v => Err(Fail::at(
                n,
                RunCode::Type,
                format!(
                    "expected a string, found {} (write string(…) to convert)",
                    v.kind()
                ),
            )),
        }
    }

    fn int_arg(&mut self, n: &'a Node) -> R<i64> {
        let a = self.num(n)?;
        if !a.value.fract().is_zero() {
            return Err(Fail::at(n, RunCode::Type, "expected a whole number"));
        }
        i64::try_from(a.value).map_err(|_| overflow(n))
    }

    #[inline(never)]
    fn call(&mut self, f: Func, args: &'a [Node], n: &'a Node) -> R<Val<'a>> {
        let a0 = || {
            args.first()
                .ok_or_else(|| Fail::new(n.span, RunCode::Missing, "missing argument"))
        };
        Ok(match f {
            Func::Own(b) => {
                let Make::Eval(apply) = b.make else {
                    return Err(Fail::new(
                        n.span,
                        RunCode::Missing,
                        format!("`{}` has no evaluation", b.name),
                    ));
                };
                let mut a = CallArgs {
                    ev: self,
                    args,
                    n,
                    raised: None,
                };
                match apply(&mut a) {
                    Ok(v) => v,
                    Err(e) => return Err(a.fail(e)),
                }
            }
            Func::Round(dp, mode) => {
                let a = self.eval_num(a0()?)?;
                Val::Num(Amount::new(crate::money::round(a.value, dp, mode), a.unit))
            }
            Func::Convert(unit, mode) => {
                let a = self.num(a0()?)?;
                if a.unit.is_none() {
                    return Err(Fail::at(a0()?, RunCode::Unit, format!("this number has no unit to convert from; say which it is, e.g. `convert(yuan(…), {unit})`")));
                }
                Val::Num(
                    a.convert(unit, mode)
                        .map_err(|e| Fail::at(a0().unwrap_or(n), money_code(&e), e.to_string()))?,
                )
            }
            Func::Tag(unit) => {
                let arg = a0()?;
                match scalar(self.eval(arg)?, Some(arg))? {
                    Val::Null => Val::Null,
                    Val::Num(a) => match a.unit {
                        Some(u) if u != unit => {
                            return Err(Fail::at(
                                arg,
                                RunCode::Unit,
                                format!("the amount is already in {u}; write convert(…, {unit})"),
                            ))
                        }
                        _ => Val::Num(Amount::new(a.value, Some(unit))),
                    },
                    v => {
                        return Err(Fail::at(
                            arg,
                            RunCode::Type,
                            format!("expected a number, found {}", v.kind()),
                        ))
                    }
                }
            }
        })
    }
}

/// Calls `f` on each value a simple path reaches in a built value (a missing step gives
/// nothing, which `f` sees as `Null`).
fn visit<'a>(
    v: &Val<'a>,
    segs: &[crate::path::Seg],
    f: &mut dyn FnMut(&Val<'a>) -> R<()>,
) -> R<()> {
    use crate::path::Seg;
    let Some((first, rest)) = segs.split_first() else {
        return f(v);
    };
    match (v, first) {
        (Val::Obj(o), Seg::Key(k)) => match o.iter().find(|(n, _)| *n == &**k) {
            Some((_, x)) => visit(x, rest, f),
            None => f(&Val::Null),
        },
        (Val::List(l), Seg::Wildcard) => l.iter().try_for_each(|x| visit(x, rest, f)),
        (Val::List(l), Seg::Index(i)) => {
            let i = if *i < 0 { l.len() as i64 + i } else { *i };
            match usize::try_from(i).ok().and_then(|i| l.get(i)) {
                Some(x) => visit(x, rest, f),
                None => f(&Val::Null),
            }
        }
        _ => match eval_val(v, segs) {
            Ok(Val::List(l)) => l.iter().try_for_each(&mut *f),
            Ok(x) => f(&x),
            Err(m) => Err(Fail::new(Span::default(), RunCode::Path, m)),
        },
    }
}

/// The arguments of a call of a plain built-in, evaluated when its [`crate::program::func::Apply`] asks.
struct CallArgs<'e, 'a> {
    ev: &'e mut Ev<'a>,
    args: &'a [Node],
    n: &'a Node,
    /// The error evaluating an argument raised, handed on as it is.
    raised: Option<Box<Fail>>,
}

impl<'a> CallArgs<'_, 'a> {
    fn arg(&self, i: usize) -> Result<&'a Node, CallError> {
        self.args
            .get(i)
            .ok_or(CallError::Call(RunCode::Missing, "missing argument"))
    }

    fn keep<T>(&mut self, r: R<T>) -> Result<T, CallError> {
        r.map_err(|f| {
            self.raised = Some(f);
            CallError::Raised
        })
    }

    /// The evaluator's error of a call: at the argument it names, else at the call.
    #[cold]
    fn fail(&mut self, e: CallError) -> Box<Fail> {
        match e {
            CallError::At(i, c, m) => match self.args.get(i) {
                Some(a) => Fail::at(a, c, m),
                None => Fail::new(self.n.span, c, m),
            },
            CallError::Call(c, m) => Fail::new(self.n.span, c, m),
            CallError::Raised => self.raised.take().unwrap_or_else(|| {
                Fail::new(self.n.span, RunCode::Missing, "an argument has no value")
            }),
        }
    }
}

impl<'a> Args<'a> for CallArgs<'_, 'a> {
    fn count(&self) -> usize {
        self.args.len()
    }
    fn val(&mut self, i: usize) -> Result<Val<'a>, CallError> {
        let a = self.arg(i)?;
        let v = self.ev.eval(a).and_then(|v| scalar(v, Some(a)));
        self.keep(v)
    }
    fn str(&mut self, i: usize) -> Result<Option<Cow<'a, str>>, CallError> {
        let a = self.arg(i)?;
        let v = self.ev.str_arg(a);
        self.keep(v)
    }
    fn num(&mut self, i: usize) -> Result<Amount, CallError> {
        let a = self.arg(i)?;
        let v = self.ev.num(a);
        self.keep(v)
    }
    fn int(&mut self, i: usize) -> Result<i64, CallError> {
        let a = self.arg(i)?;
        let v = self.ev.int_arg(a);
        self.keep(v)
    }
    fn whole(&mut self, i: usize) -> Result<Val<'a>, CallError> {
        let a = self.arg(i)?;
        let v = self.ev.eval(a);
        self.keep(v)
    }
    fn items(
        &mut self,
        i: usize,
        v: Val<'a>,
        f: &mut dyn FnMut(&Val<'a>) -> Result<(), CallError>,
    ) -> Result<(), CallError> {
        let a = self.arg(i)?;
        let list = items(v, a);
        for x in self.keep(list)? {
            f(&x)?;
        }
        Ok(())
    }
    fn each(
        &mut self,
        i: usize,
        f: &mut dyn FnMut(&Val<'a>) -> Result<(), CallError>,
    ) -> Result<(), CallError> {
        let a = self.arg(i)?;
        let Op::Out(g, segs, _) = &a.code else {
            let v = self.whole(i)?;
            return self.items(i, v, f);
        };
        // Over what the mapping built: walk it in place, no list in between. `f`'s own
        // error is kept aside while the walk unwinds.
        let root = self.ev.global(*g);
        let root = self.keep(root)?;
        let mut own = None;
        let walked = visit(&root, segs, &mut |x| {
            f(x).map_err(|e| {
                own = Some(e);
                Fail::new(a.span, RunCode::Missing, "")
            })
        });
        match (own, walked) {
            (Some(e), _) => Err(e),
            (None, r) => self.keep(r),
        }
    }
    fn first(&mut self, i: usize) -> Result<Val<'a>, CallError> {
        let a = self.arg(i)?;
        // A wildcard path of the order stops at its first value.
        if let Some(r) = self.ev.order_path(a).and_then(|(p, root)| p.first(root)) {
            return r.map_err(|m| CallError::At(i, RunCode::Path, m));
        }
        match self.whole(i)? {
            v @ (Val::List(_) | Val::Json(Value::Array(_))) => {
                let list = items(v, a);
                Ok(self.keep(list)?.into_iter().next().unwrap_or(Val::Null))
            }
            other => Ok(other),
        }
    }
    fn count_items(&mut self, i: usize) -> Result<usize, CallError> {
        let a = self.arg(i)?;
        // A wildcard path of the order is counted, not listed.
        if let Some(r) = self.ev.order_path(a).and_then(|(p, root)| p.count(root)) {
            return r.map_err(|m| CallError::At(i, RunCode::Path, m));
        }
        let v = self.whole(i)?;
        let list = items(v, a);
        Ok(self.keep(list)?.len())
    }
}

/// The code of a conversion's error.
fn money_code(e: &crate::money::MoneyError) -> RunCode {
    match e {
        crate::money::MoneyError::Dimension { .. } => RunCode::Unit,
        crate::money::MoneyError::Fraction { .. } => RunCode::Rounding,
        _ => RunCode::Arithmetic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_get_loop_indexes() {
        assert_eq!(field_name("a[].b[].c", &[2, 0]), "a[2].b[0].c");
        assert_eq!(field_name("x.y", &[]), "x.y");
    }
}
