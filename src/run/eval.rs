//! Runs a compiled [`Program`] over one order: the request written by the program's
//! plan of writes ([`super::plan`]), lazily evaluated top-level slots for the values
//! read back (`out.…`, lets), loops with their own frame of locals.

use super::error::{describe, Fail, RunError, R};
use super::explain::{show, Explain};
use super::json::write_json;
use crate::money::{Amount, Unit};
use crate::path::eval_val;
use crate::program::writes::{Comma, Write, Writes};
use crate::program::{
    key_text, BodyOp, FieldCheck, Func, Global, ItemNode, Loop, Node, Op, OutNode, Program, Tail,
};
use crate::schema::FieldType;
use crate::syntax::ast::{BinOp, UnOp};
use crate::syntax::Span;
use crate::value::Val;
use rust_decimal::Decimal;
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
                source_path: f.source.map(String::from),
                location: p.sources.locate(f.span),
                message: f.message,
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
        source_path: f.source.map(String::from),
        location: p.sources.locate(f.span),
        message: f.message,
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
            Some(n) => Fail::at(n, format!("the path gives {k} values where one is expected (use first(…), sum(…) or a filter)")),
            None => Fail::new(Span::default(), format!("{k} values where one is expected")),
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
                Val::from_json(x)
                    .map_err(|b| Fail::at(n, format!("number `{}` is out of range", b.0)))
            })
            .collect(),
        other => Err(Fail::at(
            n,
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
    Fail::at(n, "the number is too large")
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
            Val::Bool(false) | Val::Null => Err(Fail::at(cond, format!("rejected: {message}"))),
            other => Err(Fail::at(
                cond,
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
            Val::Json(j) => t.path.eval(j).map_err(|m| Fail::at(n, m)),
            v @ (Val::Obj(_) | Val::List(_)) => match &t.segs {
                Some(segs) => eval_val(&v, segs).map_err(|m| Fail::at(n, m)),
                None => Err(Fail::at(
                    n,
                    "filters work on the order's data, not on values the mapping built",
                )),
            },
            _ => Ok(Val::Null),
        }
    }

    pub(super) fn eval(&mut self, n: &'a Node) -> R<Val<'a>> {
        match &n.code {
            Op::Const(v) => Ok(borrow_const(v)),
            Op::Src(p, _) => p.eval(self.doc).map_err(|m| Fail::at(n, m)),
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
                eval_val(&v, segs).map_err(|m| Fail::at(n, m))
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
            (_, Val::Null) => Err(Fail::at(e, "the value is absent")),
            (UnOp::Not, v) => Err(Fail::at(
                e,
                format!("`not` needs true or false, found {}", v.kind()),
            )),
            (UnOp::Neg, v) => Err(Fail::at(
                e,
                format!("`-` needs a number, found {}", v.kind()),
            )),
        }
    }

    #[inline(never)]
    fn cond(&mut self, c: &'a Node, t: &'a Node, e: &'a Node) -> R<Val<'a>> {
        match scalar(self.eval(c)?, Some(c))? {
            Val::Bool(true) => self.eval(t),
            Val::Bool(false) => self.eval(e),
            Val::Null => Err(Fail::at(c, "the condition has no value")),
            v => Err(Fail::at(
                c,
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
                format!("the key for table `{}` has no value", t.name),
            ));
        }
        let Some(text) = key_text(&k) else {
            return Err(Fail::at(
                key,
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
                arith(*op, a, b).map_err(|m| Fail::at(if m.contains("zero") { r } else { l }, m))
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
            Val::Null => Err(Fail::at(n, "the value is absent")),
            v => Err(Fail::at(
                n,
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
                    return Err(Fail::at(l, "the value is absent"));
                }
                if b.is_null() {
                    return Err(Fail::at(r, "the value is absent"));
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
                    .map_err(|m| Fail::at(if m.contains("zero") { r } else { l }, m))
                    .map(Val::Num)
            }
        }
    }

    fn boolean(&mut self, n: &'a Node) -> R<bool> {
        match scalar(self.eval(n)?, Some(n))? {
            Val::Bool(b) => Ok(b),
            Val::Null => Err(Fail::at(n, "the value is absent")),
            v => Err(Fail::at(
                n,
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
            return Err(Fail::at(n, "expected a whole number"));
        }
        i64::try_from(a.value).map_err(|_| overflow(n))
    }

    #[inline(never)]
    fn call(&mut self, f: Func, args: &'a [Node], n: &'a Node) -> R<Val<'a>> {
        let a0 = || {
            args.first()
                .ok_or_else(|| Fail::new(n.span, "missing argument"))
        };
        Ok(match f {
            Func::First | Func::Last => {
                let a = a0()?;
                if f == Func::First {
                    // A wildcard path of the order stops at its first value.
                    if let Some(r) = self.order_path(a).and_then(|(p, root)| p.first(root)) {
                        return r.map_err(|m| Fail::at(a, m));
                    }
                }
                let v = self.eval(a)?;
                let mut list = match v {
                    Val::List(_) | Val::Json(Value::Array(_)) => items(v, a)?,
                    other => return Ok(other),
                };
                if f == Func::First {
                    list.into_iter().next().unwrap_or(Val::Null)
                } else {
                    list.pop().unwrap_or(Val::Null)
                }
            }
            Func::Count => {
                let a = a0()?;
                // A wildcard path of the order is counted, not listed.
                if let Some(r) = self.order_path(a).and_then(|(p, root)| p.count(root)) {
                    let k = r.map_err(|m| Fail::at(a, m))?;
                    return Ok(Val::Num(Amount::new(Decimal::from(k), None)));
                }
                let v = self.eval(a)?;
                Val::Num(Amount::new(Decimal::from(items(v, a)?.len()), None))
            }
            Func::Sum | Func::Min | Func::Max => {
                let a = a0()?;
                let mut acc: Option<Amount> = None;
                let mut i = 0usize;
                let mut fold = |x: &Val| -> R<()> {
                    let x = match x {
                        Val::Num(x) => *x,
                        Val::Null => return Err(Fail::at(a, format!("item {i} has no value"))),
                        other => {
                            return Err(Fail::at(
                                a,
                                format!("item {i} is {}, not a number", other.kind()),
                            ))
                        }
                    };
                    i += 1;
                    acc = Some(match acc {
                        None => x,
                        Some(s) => match f {
                            Func::Sum => arith(BinOp::Add, s, x).map_err(|m| Fail::at(a, m))?,
                            Func::Min if x.value < s.value => x,
                            Func::Max if x.value > s.value => x,
                            _ => s,
                        },
                    });
                    Ok(())
                };
                if let Op::Out(g, segs, _) = &a.code {
                    // Over what the mapping built: walk it in place, no list in between.
                    let root = self.global(*g)?;
                    visit(&root, segs, &mut fold)?;
                } else {
                    let v = self.eval(a)?;
                    for x in items(v, a)? {
                        fold(&x)?;
                    }
                }
                match (f, acc) {
                    (Func::Sum, None) => Val::Num(Amount::new(Decimal::ZERO, None)),
                    (_, None) => Val::Null,
                    (_, Some(s)) => Val::Num(s),
                }
            }
            Func::Trim | Func::Upper | Func::Lower => match self.str_arg(a0()?)? {
                None => Val::Null,
                Some(s) => Val::Str(Cow::Owned(match f {
                    Func::Trim => s.trim().to_string(),
                    Func::Upper => s.to_uppercase(),
                    _ => s.to_lowercase(),
                })),
            },
            Func::Concat => {
                // An absent part is an error, not an empty string: a half address must
                // not be shipped to. Write `part ?? ""` where a part may be missing.
                let mut out = String::new();
                for a in args {
                    match self.str_arg(a)? {
                        Some(s) => out.push_str(&s),
                        None => return Err(Fail::at(a, "a part of concat(…) has no value (write `… ?? \"\"` if it may be missing)")),
                    }
                }
                Val::Str(Cow::Owned(out))
            }
            Func::Len => {
                let a = a0()?;
                // A list (even of one) is counted; a string's characters are.
                match self.eval(a)? {
                    Val::List(l) => Val::Num(Amount::new(Decimal::from(l.len()), None)),
                    Val::Str(s) => Val::Num(Amount::new(Decimal::from(s.chars().count()), None)),
                    Val::Null => Val::Null,
                    v => Val::Num(Amount::new(Decimal::from(items(v, a)?.len()), None)),
                }
            }
            Func::Substr => {
                let Some(s) = self.str_arg(a0()?)? else {
                    return Ok(Val::Null);
                };
                let start = match args.get(1) {
                    Some(x) => self.int_arg(x)?.max(0) as usize,
                    None => 0,
                };
                let len = match args.get(2) {
                    Some(x) => self.int_arg(x)?.max(0) as usize,
                    None => usize::MAX,
                };
                Val::Str(Cow::Owned(s.chars().skip(start).take(len).collect()))
            }
            Func::Replace => {
                let Some(s) = self.str_arg(a0()?)? else {
                    return Ok(Val::Null);
                };
                let from = args
                    .get(1)
                    .map(|x| self.str_arg(x))
                    .transpose()?
                    .flatten()
                    .unwrap_or_default();
                let to = args
                    .get(2)
                    .map(|x| self.str_arg(x))
                    .transpose()?
                    .flatten()
                    .unwrap_or_default();
                if from.is_empty() {
                    Val::Str(s)
                } else {
                    Val::Str(Cow::Owned(s.replace(from.as_ref(), &to)))
                }
            }
            Func::Round(dp, mode) => {
                let a = self.eval_num(a0()?)?;
                Val::Num(Amount::new(crate::money::round(a.value, dp, mode), a.unit))
            }
            Func::Convert(unit, mode) => {
                let a = self.num(a0()?)?;
                if a.unit.is_none() {
                    return Err(Fail::at(a0()?, format!("this number has no unit to convert from; say which it is, e.g. `convert(yuan(…), {unit})`")));
                }
                Val::Num(
                    a.convert(unit, mode)
                        .map_err(|e| Fail::at(a0().unwrap_or(n), e.to_string()))?,
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
                                format!("the amount is already in {u}; write convert(…, {unit})"),
                            ))
                        }
                        _ => Val::Num(Amount::new(a.value, Some(unit))),
                    },
                    v => {
                        return Err(Fail::at(
                            arg,
                            format!("expected a number, found {}", v.kind()),
                        ))
                    }
                }
            }
            Func::Str => {
                let arg = a0()?;
                match scalar(self.eval(arg)?, Some(arg))? {
                    Val::Num(a) => Val::Str(Cow::Owned(a.value.normalize().to_string())),
                    Val::Bool(b) => Val::Str(Cow::Borrowed(if b { "true" } else { "false" })),
                    v @ (Val::Str(_) | Val::Null) => v,
                    v => {
                        return Err(Fail::at(
                            arg,
                            format!("cannot make a string of {}", v.kind()),
                        ))
                    }
                }
            }
            Func::Number => {
                let arg = a0()?;
                match scalar(self.eval(arg)?, Some(arg))? {
                    Val::Str(s) => match crate::money::parse_decimal(s.trim()) {
                        Some(d) => Val::Num(Amount::new(d, None)),
                        None => return Err(Fail::at(arg, "the string is not a number")),
                    },
                    v @ (Val::Num(_) | Val::Null) => v,
                    v => {
                        return Err(Fail::at(
                            arg,
                            format!("cannot make a number of {}", v.kind()),
                        ))
                    }
                }
            }
            Func::Nonblank => {
                let arg = a0()?;
                match scalar(self.eval(arg)?, Some(arg))? {
                    Val::Str(s) if s.trim().is_empty() => Val::Null,
                    v => v,
                }
            }
            Func::Abs => {
                let a = self.num(a0()?)?;
                Val::Num(Amount::new(a.value.abs(), a.unit))
            }
            Func::FormatTime => {
                let arg = a0()?;
                let ms = match scalar(self.eval(arg)?, Some(arg))? {
                    Val::Null => return Ok(Val::Null),
                    Val::Num(a) => i64::try_from(a.value.trunc()).map_err(|_| overflow(arg))?,
                    v => {
                        return Err(Fail::at(
                            arg,
                            format!("expected milliseconds since 1970, found {}", v.kind()),
                        ))
                    }
                };
                let fmt_node = args
                    .get(1)
                    .ok_or_else(|| Fail::new(n.span, "missing format"))?;
                let fmt = self.str_arg(fmt_node)?.unwrap_or_default();
                Val::Str(Cow::Owned(
                    format_time(ms, &fmt).map_err(|m| Fail::at(fmt_node, m))?,
                ))
            }
            Func::ParseTime => {
                let arg = a0()?;
                let Some(text) = self.str_arg(arg)? else {
                    return Ok(Val::Null);
                };
                let fmt_node = args
                    .get(1)
                    .ok_or_else(|| Fail::new(n.span, "missing format"))?;
                let fmt = self.str_arg(fmt_node)?.unwrap_or_default();
                let ms = parse_time(&text, &fmt).map_err(|m| Fail::at(arg, m))?;
                Val::Num(Amount::new(Decimal::from(ms), None))
            }
        })
    }
}

/// Holds a value to its target field's contract; an amount takes the field's unit.
fn fit(v: &mut Val, n: &Node, c: &FieldCheck) -> R<()> {
    if let Val::List(_) = v {
        *v = scalar(std::mem::replace(v, Val::Null), Some(n))?;
    }
    match (c.ty, &mut *v) {
        (_, Val::Null) => {
            if c.required {
                return Err(Fail::at(n, "required field has no value"));
            }
            return Ok(());
        }
        (FieldType::String, Val::Str(_)) | (FieldType::Boolean, Val::Bool(_)) => {}
        (FieldType::Integer | FieldType::Number, Val::Num(a)) => {
            if let (Some(want), Some(have)) = (c.unit, a.unit) {
                if want != have {
                    return Err(Fail::at(n, format!("the field counts {want} but the amount is in {have}; write convert(…, {want}, half_up)")));
                }
            }
            if c.ty == FieldType::Integer && a.value.scale() != 0 && !a.value.fract().is_zero() {
                return Err(Fail::at(
                    n,
                    format!(
                        "{} has a fraction but the field takes a whole number; round it explicitly",
                        a.value
                    ),
                ));
            }
            if let Some(min) = c.minimum {
                if a.value < min {
                    return Err(Fail::at(
                        n,
                        format!("{} is below the minimum {min}", a.value),
                    ));
                }
            }
            // Not normalised here: the writer prints a decimal without trailing zeros.
            if c.unit.is_some() {
                a.unit = c.unit;
            }
        }
        (want, v) => return Err(mistyped(want, v, n)),
    }
    if let Some(want) = &c.constant {
        if !same_as_json(v, want) {
            return Err(Fail::at(n, format!("the field must be {want}")));
        }
    }
    if !c.limits.is_empty() {
        c.limits.check(v).map_err(|m| Fail::at(n, m))?;
    }
    if let Some(allowed) = &c.allowed {
        if !allowed.iter().any(|j| same_as_json(v, j)) {
            let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            return Err(Fail::at(
                n,
                format!("the value is not one of {}", list.join(", ")),
            ));
        }
    }
    Ok(())
}

#[cold]
fn mistyped(want: FieldType, v: &Val, n: &Node) -> Box<Fail> {
    let hint = match (want, v) {
        (FieldType::String, Val::Num(_)) => " (write string(…) to convert)",
        (FieldType::Integer | FieldType::Number, Val::Str(_)) => " (write number(…) to convert)",
        _ => "",
    };
    Fail::at(
        n,
        format!(
            "the field is {} but the value is {}{hint}",
            want.as_str(),
            v.kind()
        ),
    )
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
            Err(m) => Err(Fail::new(Span::default(), m)),
        },
    }
}

/// Whether a value equals a schema constant (no allocation: this runs for every field
/// with a fixed value of every order).
fn same_as_json(v: &Val, j: &Value) -> bool {
    match (v, j) {
        (Val::Str(a), Value::String(b)) => a == b,
        (Val::Bool(a), Value::Bool(b)) => a == b,
        (Val::Num(a), Value::Number(b)) => crate::money::parse_decimal(b.as_str()) == Some(a.value),
        (Val::Null, Value::Null) => true,
        _ => false,
    }
}

/// Arithmetic on exact decimals with unit rules: amounts add only to amounts of the same
/// unit, multiply only by plain numbers.
fn arith(op: BinOp, a: Amount, b: Amount) -> Result<Amount, String> {
    let unit_err =
        |u: Unit, v: Unit| format!("`{}` of an amount in {u} and an amount in {v}", op.as_str());
    let (value, unit) = match op {
        BinOp::Add | BinOp::Sub => {
            if let (Some(u), Some(v)) = (a.unit, b.unit) {
                if u != v {
                    return Err(unit_err(u, v));
                }
            }
            let v = if op == BinOp::Add {
                a.value.checked_add(b.value)
            } else {
                a.value.checked_sub(b.value)
            };
            (v, a.unit.or(b.unit))
        }
        BinOp::Mul => {
            if let (Some(u), Some(v)) = (a.unit, b.unit) {
                return Err(unit_err(u, v));
            }
            (a.value.checked_mul(b.value), a.unit.or(b.unit))
        }
        _ => {
            if b.value.is_zero() {
                return Err("division by zero".into());
            }
            let unit = match (a.unit, b.unit) {
                (Some(u), Some(v)) if u == v => None,
                (Some(u), Some(v)) => return Err(unit_err(u, v)),
                (u, _) => u,
            };
            (a.value.checked_div(b.value), unit)
        }
    };
    value
        .map(|v| Amount::new(v, unit))
        .ok_or_else(|| "the number is too large".to_string())
}

/// Formats a RED time (ms since 1970) in China Standard Time (UTC+8), strftime-style.
fn format_time(ms: i64, fmt: &str) -> Result<String, String> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item> = StrftimeItems::new(fmt).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(format!("bad time format `{fmt}`"));
    }
    let tz = chrono::FixedOffset::east_opt(8 * 3600).ok_or("bad offset")?;
    let t = chrono::DateTime::from_timestamp_millis(ms)
        .ok_or("time out of range")?
        .with_timezone(&tz);
    let mut s = String::new();
    write!(s, "{}", t.format_with_items(items.into_iter()))
        .map_err(|_| format!("bad time format `{fmt}`"))?;
    Ok(s)
}

/// Reads a China Standard Time (UTC+8) text of the strftime-style `fmt` as ms since 1970:
/// the inverse of [`format_time`]. A date without a time of day is its midnight.
fn parse_time(text: &str, fmt: &str) -> Result<i64, String> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    let tz = chrono::FixedOffset::east_opt(8 * 3600).ok_or("bad offset")?;
    let local = NaiveDateTime::parse_from_str(text, fmt)
        .or_else(|e| {
            NaiveDate::parse_from_str(text, fmt)
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
                .map_err(|_| e)
        })
        .map_err(|e| format!("`{text}` is not a time of the form `{fmt}`: {e}"))?;
    tz.from_local_datetime(&local)
        .single()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("`{text}` is not a time in China Standard Time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_get_loop_indexes() {
        assert_eq!(field_name("a[].b[].c", &[2, 0]), "a[2].b[0].c");
        assert_eq!(field_name("x.y", &[]), "x.y");
    }

    #[test]
    fn time_is_china_standard_time() {
        // 2026-11-21 02:00:00 UTC is 10:00 in Beijing.
        assert_eq!(
            format_time(1_795_226_400_000, "%Y-%m-%d %H:%M:%S").unwrap(),
            "2026-11-21 10:00:00"
        );
        assert!(format_time(0, "%Q").is_err());
    }

    #[test]
    fn parse_time_is_the_inverse_of_format_time() {
        let f = "%Y-%m-%d %H:%M:%S";
        assert_eq!(
            parse_time("2026-11-21 10:00:00", f).unwrap(),
            1_795_226_400_000
        );
        for ms in [0, 1_795_226_400_000, 1_612_341_639_000] {
            assert_eq!(parse_time(&format_time(ms, f).unwrap(), f).unwrap(), ms);
        }
        assert_eq!(
            parse_time("2026-11-21", "%Y-%m-%d").unwrap(),
            1_795_190_400_000
        );
        let e = parse_time("2026-13-01 10:00:00", f).unwrap_err();
        assert!(e.contains("2026-13-01 10:00:00"), "{e}");
        assert!(parse_time("22/11/2026", f).is_err());
        assert!(parse_time("", f).is_err());
    }
}
