//! Expressions: names resolved, types and units inferred, operators checked, lowered
//! to program nodes (calls, lookups and `out.…` reads have files of their own).

use super::{
    lit_ty, tables, tail_segments, Amount, BinOp, Binding, Cx, Diag, Expr, ExprKind, Func, Lit,
    Node, Op, PathCode, Span, Tail, Ty, UnOp, Unit, Val, C,
};

impl<'m> Cx<'m> {
    pub(super) fn expr(&mut self, e: &Expr) -> (Node, Ty) {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let (code, ty) = self.expr_code(e);
        self.depth -= 1;
        let origin = self.origin(&code);
        let node = Node {
            code,
            span: e.span,
            origin,
        };
        // A source value the contract gives a unit (fen, g) carries it at run time too, so
        // that what `check` assumed is what runs.
        if let (Op::Src(..) | Op::LocalPath(..) | Op::GlobalPath(..), Some(u)) =
            (&node.code, ty.unit())
        {
            let (span, origin) = (node.span, node.origin.clone());
            let code = Op::Call(Func::Tag(u), vec![node]);
            return (Node { code, span, origin }, ty);
        }
        (node, ty)
    }

    /// The first source path a value reads, looking through lets.
    pub(super) fn origin(&self, c: &Op) -> Option<Box<str>> {
        match c {
            Op::Src(_, t) | Op::Out(_, _, t) => Some(t.clone()),
            Op::LocalPath(_, t) | Op::GlobalPath(_, t) => Some(t.text.clone()),
            Op::Local(i) => self.let_origin.get(&(1, *i)).cloned(),
            Op::Global(g) => self.let_origin.get(&(0, *g)).cloned(),
            Op::Lookup { key, .. } => key.origin.clone(),
            Op::Call(_, args) => args.iter().find_map(|a| a.origin.clone()),
            Op::Unary(_, a) => a.origin.clone(),
            Op::Binary(_, l, r) => l.origin.clone().or_else(|| r.origin.clone()),
            Op::If(c, t, e) => t
                .origin
                .clone()
                .or_else(|| e.origin.clone())
                .or_else(|| c.origin.clone()),
            Op::Const(_) => None,
        }
    }

    pub(super) fn expr_code(&mut self, e: &Expr) -> (Op, Ty) {
        match &e.kind {
            ExprKind::Lit(l) => {
                if let Lit::Num(_, Some(u)) = l {
                    if Unit::parse(u).is_none() {
                        self.err(Diag::error(
                            C::BadArgument,
                            e.span,
                            format!("unknown unit `{u}`"),
                        ));
                    }
                }
                (Op::Const(tables::lit_val(l)), lit_ty(l))
            }
            ExprKind::Source(text) => match PathCode::compile(text) {
                Ok(p) => {
                    let ty = self.source_ty(text, e.span);
                    (Op::Src(p, text.as_str().into()), ty)
                }
                Err(err) => {
                    self.bad_path(&err, e.span, e.span.start as usize, text);
                    (Op::Const(Val::Null), Ty::Any)
                }
            },
            ExprKind::Var(id) => {
                if let Some((b, t)) = self.lookup_name(&id.name) {
                    return (
                        match b {
                            Binding::Local(i) => Op::Local(i),
                            Binding::Global(g) => Op::Global(g),
                        },
                        t,
                    );
                }
                if let Some(p) = self.param(&id.name) {
                    p.used = true;
                    let t = p.ty.clone();
                    return (Op::Const(p.value.clone().unwrap_or(Val::Null)), t);
                }
                if id.name == "out" {
                    self.err(Diag::error(C::UnknownName, id.span, "`out` alone is the whole request; name a field: `out.orderAmountInfo.totalTax`").label("name a field"));
                    return (Op::Const(Val::Null), Ty::Any);
                }
                self.unknown_name(id)
            }
            ExprKind::VarPath { root, tail } => {
                if root.name == "out" {
                    return self.out_ref(e, tail);
                }
                let text = format!("{}{tail}", root.name);
                // The tail as a path from `$`: held to RFC 9535 like any path.
                let path = match PathCode::compile(&format!("${tail}")) {
                    Ok(p) => p,
                    Err(err) => {
                        let base = (e.span.start as usize + root.name.len()).saturating_sub(1);
                        self.bad_path(&err, e.span, base, &text);
                        return (Op::Const(Val::Null), Ty::Any);
                    }
                };
                let t = Tail {
                    segs: tail_segments(tail),
                    path,
                    text: text.into(),
                };
                let multi = !t.path.is_single();
                match self.lookup_name(&root.name) {
                    Some((b, root_ty)) => {
                        let start = e.span.start as usize + root.name.len();
                        let ty = self.walk_ty(&root_ty, tail, start, e.span, multi);
                        match b {
                            Binding::Local(i) => (Op::LocalPath(i, Box::new(t)), ty),
                            Binding::Global(g) => (Op::GlobalPath(g, Box::new(t)), ty),
                        }
                    }
                    None => {
                        if self.param(&root.name).is_some() {
                            self.err(
                                Diag::error(
                                    C::TypeMismatch,
                                    e.span,
                                    format!(
                                        "param `{}` is a single value; it has no fields",
                                        root.name
                                    ),
                                )
                                .label("not an object"),
                            );
                            return (Op::Const(Val::Null), Ty::Any);
                        }
                        self.unknown_name(root)
                    }
                }
            }
            ExprKind::Lookup { table, key, column } => self.lookup(table, key, column.as_ref()),
            ExprKind::Call { func, args } => self.call(func, args, e.span),
            ExprKind::Unary { op, expr } => {
                let (n, t) = self.expr(expr);
                match op {
                    UnOp::Not => {
                        self.expect_bool(&t, expr.span);
                        (Op::Unary(*op, Box::new(n)), Ty::Bool)
                    }
                    UnOp::Neg => {
                        if !matches!(t, Ty::Num { .. } | Ty::Any) {
                            self.err(
                                Diag::error(
                                    C::TypeMismatch,
                                    expr.span,
                                    format!("`-` needs a number, this is {}", t.words()),
                                )
                                .label("not a number"),
                            );
                        }
                        if let Op::Const(Val::Num(a)) = &n.code {
                            return (Op::Const(Val::Num(Amount::new(-a.value, a.unit))), t);
                        }
                        (Op::Unary(*op, Box::new(n)), t)
                    }
                }
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let (l, lt) = self.expr(lhs);
                let (r, rt) = self.expr(rhs);
                let ty = self.binary_ty(*op, *op_span, &lt, &rt, lhs.span, rhs.span);
                (Op::Binary(*op, Box::new(l), Box::new(r)), ty)
            }
            ExprKind::If { cond, then, els } => {
                let (c, ct) = self.expr(cond);
                self.expect_bool(&ct, cond.span);
                let (t, tt) = self.expr(then);
                let (f, ft) = self.expr(els);
                self.branch_clash("if", then.span.to(els.span), &tt, &ft);
                (
                    Op::If(Box::new(c), Box::new(t), Box::new(f)),
                    Ty::join(tt, ft),
                )
            }
        }
    }

    pub(super) fn binary_ty(
        &mut self,
        op: BinOp,
        op_span: Span,
        lt: &Ty,
        rt: &Ty,
        ls: Span,
        rs: Span,
    ) -> Ty {
        let (lt, rt) = (lt.strip(), rt.strip());
        // "May be absent" matters only where a value is assigned; here the run rejects it.
        let (lt, rt) = (lt.strip(), rt.strip());
        let is_num = |t: &Ty| matches!(t, Ty::Num { .. } | Ty::Any | Ty::List(_));
        match op {
            BinOp::Coalesce => {
                self.branch_clash("??", op_span, lt, rt);
                Ty::join(lt.clone(), rt.clone())
            }
            BinOp::And | BinOp::Or => {
                self.expect_bool(lt, ls);
                self.expect_bool(rt, rs);
                Ty::Bool
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let clash = matches!(
                    (lt, rt),
                    (Ty::Str, Ty::Num { .. })
                        | (Ty::Num { .. }, Ty::Str)
                        | (Ty::Bool, Ty::Num { .. })
                        | (Ty::Num { .. }, Ty::Bool)
                        | (Ty::Str, Ty::Bool)
                        | (Ty::Bool, Ty::Str)
                );
                if clash {
                    self.err(
                        Diag::error(
                            C::TypeMismatch,
                            op_span,
                            format!("cannot compare {} with {}", lt.words(), rt.words()),
                        )
                        .label("different types"),
                    );
                }
                self.unit_clash(op, op_span, lt, rt);
                Ty::Bool
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                for (t, s) in [(lt, ls), (rt, rs)] {
                    if !is_num(t) {
                        self.err(
                            Diag::error(
                                C::TypeMismatch,
                                s,
                                format!("`{}` needs numbers, this is {}", op.as_str(), t.words()),
                            )
                            .label("not a number")
                            .help(if *t == Ty::Str {
                                "convert explicitly: `number(…)`; join strings with `concat(…)`"
                            } else {
                                "use a number"
                            }),
                        );
                    }
                }
                self.unit_clash(op, op_span, lt, rt);
                let (lu, ru) = (lt.unit(), rt.unit());
                let (int_l, int_r) = (lt.whole(), rt.whole());
                match op {
                    BinOp::Add | BinOp::Sub => Ty::num(lu.or(ru), int_l && int_r),
                    BinOp::Mul => Ty::num(lu.or(ru), int_l && int_r),
                    _ => Ty::num(if ru.is_some() { None } else { lu }, false),
                }
            }
        }
    }

    /// The two values an `if` or a `??` may give go into one place: when both are amounts
    /// with a unit, of one unit (`check` would otherwise pass what the run rejects for every
    /// order taking the other side). Two types are kept as [`Ty::Either`], judged where the
    /// value goes.
    pub(super) fn branch_clash(&mut self, what: &str, span: Span, a: &Ty, b: &Ty) {
        let (x, y) = (a.strip(), b.strip());
        if let (Some(u1), Some(u2)) = (x.unit(), y.unit()) {
            if u1 != u2 {
                self.err(
                    Diag::error(
                        C::UnitMismatch,
                        span,
                        format!(
                            "the two sides of this `{what}` give an amount in {u1} and an amount in {u2}"
                        ),
                    )
                    .label("units differ")
                    .help(format!("convert one side first: `convert(…, {u1})`")),
                );
            }
        }
    }

    pub(super) fn unit_clash(&mut self, op: BinOp, op_span: Span, lt: &Ty, rt: &Ty) {
        let (Some(a), Some(b)) = (lt.unit(), rt.unit()) else {
            return;
        };
        let bad = match op {
            BinOp::Mul => true,
            BinOp::Div => a != b,
            _ => a != b,
        };
        if bad {
            let help = if op == BinOp::Mul {
                "multiply an amount by a plain number (a quantity, a rate)".to_string()
            } else {
                format!("convert one side first: `convert(…, {a})`")
            };
            self.err(
                Diag::error(
                    C::UnitMismatch,
                    op_span,
                    format!("`{}` of an amount in {a} and an amount in {b}", op.as_str()),
                )
                .label("units differ")
                .help(help),
            );
        }
    }
}
