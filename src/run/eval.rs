//! The evaluator over one order ([`Ev`]): lazily evaluated top-level slots for the values
//! read back (`out.…`, lets), fields held to their target field, loops with their own
//! frame of locals, and the dispatch of an expression to its kind (operators in
//! [`super::ops`], calls in [`super::call`], lookups in [`super::lookup`]). It tells its
//! tracer ([`super::trace`]) what it does and knows nothing else of it.

use super::error::{Fail, RunCode, R};
use super::fields::fit;
use super::trace::{Scope, Trace};
use crate::path::eval_val;
use crate::program::writes::Writes;
use crate::program::{BodyOp, FieldCheck, Global, ItemNode, Loop, Node, Op, Program, Tail};
use crate::syntax::Span;
use crate::value::Val;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

/// A top-level value some expression reads, computed when first read.
enum Slot<'a> {
    Todo,
    Busy,
    Done(Val<'a>),
}

pub(super) struct Ev<'a, T> {
    tracer: T,
    pub(super) current_loop: Option<&'a Loop>,
    pub(super) p: &'a Program,
    /// The plan of writes of `p`, and where read-back globals are kept.
    pub(super) w: &'a Writes,
    pub(super) doc: &'a Value,
    slots: Vec<Slot<'a>>,
    pub(super) locals: Vec<Val<'a>>,
    pub(super) base: usize,
    loop_pos: Vec<usize>,
}

impl<'a, T: Trace<'a>> Ev<'a, T> {
    /// An evaluator of `p` over `doc` by `w`, a plan of `p` (while planning: one with no
    /// slots), told to `tracer`.
    pub(super) fn new(p: &'a Program, w: &'a Writes, doc: &'a Value, tracer: T) -> Ev<'a, T> {
        Ev {
            tracer,
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

    /// The tracer, with what it was told.
    pub(super) fn into_tracer(self) -> T {
        self.tracer
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
    pub(super) fn field(&mut self, n: &'a Node, c: &'a FieldCheck) -> R<Val<'a>> {
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
        T::field_done(self, n, c, &v);
        Ok(v)
    }

    /// A field that failed: told to the tracer, named in the error.
    #[cold]
    fn failed(&mut self, f: Box<Fail>, n: &'a Node, c: &'a FieldCheck) -> Box<Fail> {
        if T::FAILURES {
            self.unbusy();
            T::field_failed(self, n, c, &f);
        }
        self.named(f, c)
    }

    /// A rule (or a loop's `let`) that failed: told to the tracer, given back.
    #[cold]
    pub(super) fn rule_failed(&mut self, cond: &'a Node, f: Box<Fail>) -> Box<Fail> {
        if T::FAILURES {
            self.unbusy();
            T::rule_failed(self, cond, &f);
        }
        f
    }

    /// Fields left half-computed by a failure are to be computed again.
    fn unbusy(&mut self) {
        for s in &mut self.slots {
            if matches!(s, Slot::Busy) {
                *s = Slot::Todo;
            }
        }
    }

    /// Names the field an error happened in, unless a deeper field already did.
    #[cold]
    fn named(&self, mut f: Box<Fail>, c: &FieldCheck) -> Box<Fail> {
        if f.field.is_none() {
            f.field = Some(field_name(&c.name, &self.loop_pos));
        }
        f
    }

    /// `require cond else message`: the order is rejected unless `cond` is true.
    pub(super) fn require(&mut self, cond: &'a Node, message: &str) -> R<()> {
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
    pub(super) fn order_path<'n>(
        &self,
        n: &'n Node,
    ) -> Option<(&'n crate::path::PathCode, &'a Value)> {
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
                        Err(f) => return Err(self.rule_failed(n, f)),
                    };
                    self.locals[self.base + *i as usize] = v;
                }
                BodyOp::Require(n, msg) => {
                    if let Err(f) = self.require(n, msg) {
                        return Err(self.rule_failed(n, f));
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
}

impl<'a, T: Trace<'a>> Scope<'a, T> for Ev<'a, T> {
    fn tracer(&mut self) -> &mut T {
        &mut self.tracer
    }
    fn program(&self) -> &'a Program {
        self.p
    }
    fn doc(&self) -> &'a Value {
        self.doc
    }
    fn local(&self, i: u32) -> &Val<'a> {
        &self.locals[self.base + i as usize]
    }
    fn current_loop(&self) -> Option<&'a Loop> {
        self.current_loop
    }
    fn field_name(&self, display: &str) -> String {
        field_name(display, &self.loop_pos)
    }
    fn probe(&mut self, n: &'a Node) -> R<Val<'a>> {
        let v = self.eval(n);
        if v.is_err() {
            self.unbusy();
        }
        v
    }
    fn probe_global(&mut self, g: u32) -> R<Val<'a>> {
        let v = self.global(g);
        if v.is_err() {
            self.unbusy();
        }
        v
    }
}

pub(super) fn borrow_const<'a>(v: &'a Val<'static>) -> Val<'a> {
    match v {
        Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
        other => other.clone(),
    }
}

/// A single value where one is expected: one match of a list is that match.
pub(super) fn scalar<'a>(v: Val<'a>, n: Option<&Node>) -> R<Val<'a>> {
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

/// The items of a list value (absent: none); anything else is an error at `n`.
pub(super) fn items<'a>(v: Val<'a>, n: &Node) -> R<Vec<Val<'a>>> {
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

/// A field's display name (`a[].b[].c`) at loop positions `pos` (`a[2].b[0].c`).
fn field_name(name: &str, pos: &[usize]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_get_loop_indexes() {
        assert_eq!(field_name("a[].b[].c", &[2, 0]), "a[2].b[0].c");
        assert_eq!(field_name("x.y", &[]), "x.y");
    }
}
