//! Calls of built-ins: a plain built-in evaluated by its table entry over its arguments
//! ([`CallArgs`], each evaluated when asked, a list walked in place), and the ones the
//! evaluator runs itself (`round`, `convert`, the unit tags).

use super::error::{Fail, RunCode, R};
use super::eval::{items, scalar, Ev};
use super::trace::Trace;
use crate::money::Amount;
use crate::path::eval_val;
use crate::program::func::args::{Args, CallError};
use crate::program::func::Make;
use crate::program::{Func, Node, Op};
use crate::syntax::Span;
use crate::value::Val;
use serde_json::Value;
use std::borrow::Cow;

impl<'a, T: Trace<'a>> Ev<'a, T> {
    #[inline(never)]
    pub(super) fn call(&mut self, f: Func, args: &'a [Node], n: &'a Node) -> R<Val<'a>> {
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

/// The arguments of a call of a plain built-in, evaluated when its [`crate::program::func::args::Apply`] asks.
struct CallArgs<'e, 'a, T> {
    ev: &'e mut Ev<'a, T>,
    args: &'a [Node],
    n: &'a Node,
    /// The error evaluating an argument raised, handed on as it is.
    raised: Option<Box<Fail>>,
}

impl<'a, T: Trace<'a>> CallArgs<'_, 'a, T> {
    fn arg(&self, i: usize) -> Result<&'a Node, CallError> {
        self.args
            .get(i)
            .ok_or(CallError::Call(RunCode::Missing, "missing argument"))
    }

    fn keep<U>(&mut self, r: R<U>) -> Result<U, CallError> {
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

impl<'a, T: Trace<'a>> Args<'a> for CallArgs<'_, 'a, T> {
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
