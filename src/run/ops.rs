//! The operators: `not` and `-`, `if … then … else`, `??`, `and`/`or`, comparisons and
//! arithmetic on exact amounts (the common shapes of numbers taken without a `Val` for
//! each step), and the arguments of a kind the built-ins ask for.

use super::error::{describe, Fail, RunCode, R};
use super::eval::{scalar, Ev};
use super::trace::Trace;
use crate::money::Amount;
use crate::program::arith::{arith, ArithError, Operand};
use crate::program::{Func, Node, Op};
use crate::syntax::ast::{BinOp, UnOp};
use crate::value::Val;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

impl<'a, T: Trace<'a>> Ev<'a, T> {
    #[inline(never)]
    pub(super) fn unary(&mut self, op: UnOp, e: &'a Node) -> R<Val<'a>> {
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
    pub(super) fn cond(&mut self, c: &'a Node, t: &'a Node, e: &'a Node) -> R<Val<'a>> {
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

    /// A number for arithmetic. The common shapes (constants, locals, amounts read from
    /// the order, arithmetic on those) are taken directly, without a `Val` for each step;
    /// anything else, and every error, goes the general way, so results and messages are
    /// the same.
    pub(super) fn eval_num(&mut self, n: &'a Node) -> R<Amount> {
        match &n.code {
            Op::Const(Val::Num(a)) => Ok(*a),
            Op::Local(i) => match &self.locals[self.base + *i as usize] {
                Val::Num(a) => Ok(*a),
                _ => self.num(n),
            },
            Op::Binary(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), l, r) => {
                let a = self.eval_num(l)?;
                let b = self.eval_num(r)?;
                arith(*op, a, b).map_err(|e| arith_fail(e, l, r))
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

    pub(super) fn num(&mut self, n: &'a Node) -> R<Amount> {
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
    pub(super) fn binary(&mut self, op: BinOp, l: &'a Node, r: &'a Node) -> R<Val<'a>> {
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
                    .map_err(|e| arith_fail(e, l, r))
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

    pub(super) fn str_arg(&mut self, n: &'a Node) -> R<Option<Cow<'a, str>>> {
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

    pub(super) fn int_arg(&mut self, n: &'a Node) -> R<i64> {
        let a = self.num(n)?;
        if !a.value.fract().is_zero() {
            return Err(Fail::at(n, RunCode::Type, "expected a whole number"));
        }
        i64::try_from(a.value).map_err(|_| overflow(n))
    }
}

/// An arithmetic error at the operand it blames.
#[cold]
fn arith_fail(e: ArithError, l: &Node, r: &Node) -> Box<Fail> {
    let at = match e.blames() {
        Operand::Left => l,
        Operand::Right => r,
    };
    Fail::at(at, e.code(), e.to_string())
}

fn overflow(n: &Node) -> Box<Fail> {
    Fail::at(n, RunCode::Arithmetic, "the number is too large")
}
