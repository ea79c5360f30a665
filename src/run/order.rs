//! One order through a program: the request written by the program's plan of writes
//! ([`super::plan`]), or built whole as one tree for a tracer that asks for it; the value
//! of one expression (a route's condition); and, when the order fails, its [`RunError`]
//! with the order's id, made in one place.

use super::error::{Fail, RunError, R};
use super::eval::{scalar, Ev};
use super::json::write_json;
use super::plan::Rendered;
use super::trace::{Quiet, Trace};
use crate::program::writes::{Comma, Write, Writes};
use crate::program::{FieldCheck, Node, OutNode, Program};
use crate::value::Val;
use serde_json::Value;
use std::sync::Arc;

/// Maps one order to its `logistics_interface` JSON text.
pub fn run(p: &Program, doc: &Value) -> Result<String, RunError> {
    let mut s = String::with_capacity(2048);
    run_into(p, doc, &mut s)?;
    Ok(s)
}

/// Maps one order. Appends the request JSON to `out`; on error `out` is left as it was.
pub fn run_into(p: &Program, doc: &Value, out: &mut String) -> Result<(), RunError> {
    run_traced(p, doc, out, Quiet).0
}

/// Maps one order as [`run_into`] does, telling `tracer` what happens; gives it back.
pub(super) fn run_traced<'a, T: Trace<'a>>(
    p: &'a Program,
    doc: &'a Value,
    out: &mut String,
    tracer: T,
) -> (Result<(), RunError>, T) {
    // The evaluator recurses once per expression level: a deep mapping gets the stack
    // it needs (an ordinary one runs on the thread's own, after one comparison).
    crate::syntax::depth::with_levels(p.depth, || {
        let mut ev = Ev::new(p, writes(p), doc, tracer);
        let start = out.len();
        let done = if T::BUILDS {
            // The tracer is told of every field, fixed ones too: the whole tree is built.
            ev.build().map(|v| write_json(out, &v))
        } else {
            ev.write_root(out)
        };
        let tracer = ev.into_tracer();
        match done {
            Ok(()) => (Ok(()), tracer),
            Err(f) => {
                out.truncate(start);
                (Err(rejection(p, doc, *f)), tracer)
            }
        }
    })
}

/// The value of one expression of `p` over an order, as a single value: a route's
/// condition and the order's values a skipped order's reason shows (`crate::route`).
pub fn eval_node<'a>(p: &'a Program, n: &'a Node, doc: &'a Value) -> Result<Val<'a>, RunError> {
    crate::syntax::depth::with_levels(p.depth, || {
        let mut ev = Ev::new(p, writes(p), doc, Quiet);
        ev.eval(n)
            .and_then(|v| scalar(v, Some(n)))
            .map_err(|f| rejection(p, doc, *f))
    })
}

/// The order's id as messages show it: the mapping's `order_id` expression over the
/// order, when it gives a string or a number.
pub fn order_id(p: &Program, doc: &Value) -> Option<String> {
    let n = p.order_id.as_ref()?;
    crate::syntax::depth::with_levels(p.depth, || {
        let v = Ev::new(p, writes(p), doc, Quiet).eval(n).ok()?;
        match scalar(v, None).ok()? {
            Val::Str(s) => Some(s.into_owned()),
            Val::Num(a) => Some(a.value.to_string()),
            _ => None,
        }
    })
}

/// The error of an order that failed with `f`: the order's id (read now, on a fresh
/// start), the field, the source path, the mapping line.
#[cold]
fn rejection(p: &Program, doc: &Value, f: Fail) -> RunError {
    RunError {
        order_id: order_id(p, doc),
        field: f.field,
        source_path: f.source,
        location: p.sources.locate(f.span),
        message: f.message,
        code: f.code,
    }
}

/// The plan of writes of `p` ([`super::plan`]), built the first time it is asked for.
pub fn writes(p: &Program) -> &Writes {
    p.writes.get_or_init(|| Writes::of(p, &fixed_field))
}

/// The value of a field that reads nothing of the order, rendered (`None` inside when it
/// is absent); `None` when it fails, so that each order fails the same way at run time.
fn fixed_field(p: &Program, n: &Node, c: &FieldCheck) -> Option<Option<Rendered>> {
    let doc = Value::Null;
    // Called while `p`'s plan is being built: a fixed field reads no global, so no slot.
    let none = Writes::default();
    let mut ev = Ev::new(p, &none, &doc, Quiet);
    let v = ev.field(n, c).ok()?;
    if v.is_null() {
        return Some(None);
    }
    let mut json = String::new();
    write_json(&mut json, &v);
    let string = match v {
        Val::Str(s) => Some(s.into_owned()),
        _ => None,
    };
    Some(Some(Rendered { json, string }))
}

impl<'a, T: Trace<'a>> Ev<'a, T> {
    /// The request as one tree of values, every field visited.
    fn build(&mut self) -> R<Val<'a>> {
        let p = self.p;
        for r in &p.requires {
            if let Err(f) = self.require(&r.cond, &r.message) {
                return Err(self.rule_failed(&r.cond, f));
            }
        }
        self.out_obj(&p.root)
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
}
