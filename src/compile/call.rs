//! Calls of built-in functions: arity, rounding modes and units given by name, the
//! value arguments' types, and the type of what the call gives.

use super::{
    ast, suggest, Cx, Diag, Expr, ExprKind, Func, Lit, Op, Rounding, Span, Ty, Unit, Val, C,
};
use crate::program::func::{self, Arg, Builtin, Gives, Make};
use crate::schema::FieldType;

impl<'m> Cx<'m> {
    pub(super) fn call(&mut self, func: &ast::Ident, args: &[Expr], span: Span) -> (Op, Ty) {
        let name = func.name.as_str();
        let arity = |cx: &mut Self, lo: usize, hi: usize| -> bool {
            if args.len() < lo || args.len() > hi {
                let want = if lo == hi {
                    format!("{lo}")
                } else if hi == usize::MAX {
                    format!("at least {lo}")
                } else {
                    format!("{lo} to {hi}")
                };
                cx.err(
                    Diag::error(
                        C::Arity,
                        span,
                        format!("`{name}` takes {want} argument(s), given {}", args.len()),
                    )
                    .label("wrong number of arguments"),
                );
                false
            } else {
                true
            }
        };
        let bare = |e: &Expr| match &e.kind {
            ExprKind::Var(id) => Some(id.name.clone()),
            _ => None,
        };
        let mode_arg = |cx: &mut Self, e: &Expr| -> Option<Rounding> {
            match bare(e).as_deref().and_then(Rounding::parse) {
                Some(m) => Some(m),
                None => {
                    cx.err(
                        Diag::error(C::BadArgument, e.span, "expected a rounding mode")
                            .label("not a rounding mode")
                            .help(format!("one of: {}", Rounding::NAMES.join(", "))),
                    );
                    None
                }
            }
        };
        let Some(b) = func::find(name) else {
            let help = if self.table(name).is_some() {
                format!("`{name}` is a table: look up with `{name}[key]`")
            } else {
                let names = || func::BUILTINS.iter().map(|b| b.name);
                suggest(name, names()).unwrap_or_else(|| {
                    format!("functions: {}", names().collect::<Vec<_>>().join(", "))
                })
            };
            // Its arguments are not looked at: their errors would only follow from this one.
            self.err(
                Diag::error(
                    C::UnknownFunction,
                    func.span,
                    format!("unknown function `{name}`"),
                )
                .label("no such function")
                .help(help),
            );
            return (Op::Const(Val::Null), Ty::Any);
        };
        if !arity(self, b.args.0, b.args.1) {
            return (Op::Const(Val::Null), Ty::Any);
        }
        let (f, value_args): (Func, &[Expr]) = match b.make {
            Make::Round => {
                let mode = mode_arg(self, &args[args.len() - 1]).unwrap_or(Rounding::HalfUp);
                let dp = if args.len() == 3 {
                    match &args[1].kind {
                        ExprKind::Lit(Lit::Num(d, None))
                            if d.fract().is_zero() && *d >= 0.into() && *d <= 28.into() =>
                        {
                            d.mantissa() as u32
                        }
                        _ => {
                            self.err(
                                Diag::error(
                                    C::BadArgument,
                                    args[1].span,
                                    "decimal places must be a whole number from 0 to 28",
                                )
                                .label("bad places"),
                            );
                            0
                        }
                    }
                } else {
                    0
                };
                (Func::Round(dp, mode), &args[..1])
            }
            Make::Convert => {
                let unit = match bare(&args[1]).as_deref().and_then(Unit::parse) {
                    Some(u) => u,
                    None => {
                        self.err(
                            Diag::error(C::BadArgument, args[1].span, "expected a unit")
                                .label("not a unit")
                                .help("one of: yuan, jiao, fen, kg, g"),
                        );
                        Unit::Fen
                    }
                };
                let mode = if args.len() == 3 {
                    mode_arg(self, &args[2])
                } else {
                    None
                };
                (Func::Convert(unit, mode), &args[..1])
            }
            Make::Tag(u) => (Func::Tag(u), args),
            Make::Eval(_) => (Func::Own(b), args),
        };
        let mut nodes = Vec::with_capacity(value_args.len());
        let mut tys = Vec::new();
        for a in value_args {
            let (n, t) = self.expr(a);
            nodes.push(n);
            tys.push((t, a.span));
        }
        let mut ty = self.check_call_args(b, f, &tys);
        if let (Func::Tag(u), Some(Op::Const(Val::Num(a)))) = (f, nodes.first().map(|n| &n.code)) {
            // `yuan(0.01)` is a whole fen, though 0.01 is no whole number.
            ty = Ty::num(Some(u), Ty::whole_of(a.value, Some(u)));
        }
        (Op::Call(f, nodes), ty)
    }

    /// Checks the value arguments of a call of `b` (made into `f`) against the table, and
    /// types what it gives.
    pub(super) fn check_call_args(&mut self, b: &Builtin, f: Func, tys: &[(Ty, Span)]) -> Ty {
        let want_str = b.first_arg == Arg::Str;
        let want_num = b.first_arg == Arg::Num;
        let want_nums = b.first_arg == Arg::Nums;
        if let Some((t, s)) = tys.first() {
            let t = t.strip();
            // A list the source contract describes says what its elements are; a wildcard
            // read of the request is typed as its field.
            let of_text = match t {
                Ty::List(Some(items)) => match items.ty {
                    FieldType::String => Some("a list of strings".to_string()),
                    FieldType::Boolean => Some("a list of booleans".to_string()),
                    _ => None,
                },
                Ty::Str | Ty::Bool => Some(t.words()),
                _ => None,
            };
            if let (true, Some(this)) = (want_nums, of_text) {
                self.err(
                    Diag::error(
                        C::TypeMismatch,
                        *s,
                        format!("this function adds or compares numbers, this is {this}"),
                    )
                    .label("not numbers")
                    .help("give it a list of numbers (amounts, quantities); `count(…)` counts a list of anything"),
                );
            }
            if want_str && matches!(t, Ty::Num { .. } | Ty::Bool) {
                self.err(
                    Diag::error(
                        C::TypeMismatch,
                        *s,
                        format!("this function takes a string, this is {}", t.words()),
                    )
                    .label("not a string")
                    .help("convert explicitly: `string(…)`"),
                );
            }
            if want_num && matches!(t, Ty::Str | Ty::Bool) {
                self.err(
                    Diag::error(
                        C::TypeMismatch,
                        *s,
                        format!("this function takes a number, this is {}", t.words()),
                    )
                    .label("not a number")
                    .help("convert explicitly: `number(…)`"),
                );
            }
            if let Func::Tag(u) = f {
                if let Some(had) = t.unit() {
                    if had != u {
                        self.err(
                            Diag::error(
                                C::UnitMismatch,
                                *s,
                                format!("this amount is already in {had}"),
                            )
                            .label(format!("in {had}"))
                            .help(format!("to change units write `convert(…, {u})`")),
                        );
                    }
                }
            }
        }
        let first_unit = tys.first().and_then(|(t, _)| t.unit());
        let first_whole = tys.first().is_some_and(|(t, _)| t.whole());
        if let (Func::Convert(to, None), Some((t, s))) = (f, tys.first()) {
            // Into fen or grams without a mode, a fraction fails the order at run time.
            if to.scale() == 1 && t.all(&|t| matches!(t, Ty::Num { .. })) && !t.whole() {
                self.err(
                    Diag::error(
                        C::TypeMismatch,
                        *s,
                        format!("this amount may not be a whole number of {to}"),
                    )
                    .label("may have a fraction")
                    .help(format!(
                        "give a rounding mode: `convert(…, {to}, half_up)` (or `half_even`, `down`)"
                    )),
                );
            }
        }
        if let (Func::Convert(to, _), Some(from), Some((_, s))) = (f, first_unit, tys.first()) {
            if from.dimension() != to.dimension() {
                self.err(
                    Diag::error(
                        C::UnitMismatch,
                        *s,
                        format!("cannot convert {from} to {to}"),
                    )
                    .label(format!("in {from}"))
                    .help("money converts between yuan, jiao and fen; weight between kg and g"),
                );
            }
        }
        match b.gives {
            Gives::Str => Ty::Str,
            Gives::Num => Ty::num(None, false),
            Gives::Whole => Ty::num(None, true),
            // A sum, least, most or absolute value counts in its values' unit, and is
            // whole when they are.
            Gives::ArgUnit => match tys.first().map(|(t, _)| t.strip()) {
                Some(Ty::List(Some(elem))) => {
                    let t = Ty::of_node(elem);
                    Ty::num(t.unit(), t.whole())
                }
                // Values no contract describes are judged at run time, as Any.
                Some(Ty::List(None)) => Ty::num(None, true),
                Some(t) => Ty::num(first_unit, t.whole()),
                None => Ty::num(None, false),
            },
            Gives::Element => match tys.first().map(|(t, _)| t.strip()) {
                Some(Ty::List(Some(elem))) => Ty::of_node(elem),
                Some(Ty::List(None)) | None => Ty::Any,
                Some(t) => t.clone(),
            },
            Gives::OrAbsent => match tys.first() {
                Some((t, _)) => Ty::Opt(Box::new(t.strip().clone())),
                None => Ty::Any,
            },
            Gives::FromCall => match f {
                // The unit is the argument's.
                Func::Round(dp, _) => Ty::num(first_unit, Ty::whole_at(dp, first_unit)),
                // A mode rounds to a whole `unit`; an exact conversion keeps the value.
                Func::Convert(unit, mode) => Ty::num(Some(unit), mode.is_some() || first_whole),
                Func::Tag(u) => Ty::num(Some(u), first_whole),
                _ => Ty::Any,
            },
        }
    }
}
