//! Expressions: names resolved, types and units inferred, functions and tables checked,
//! lowered to program nodes.

use super::{
    ast, lit_ty, suggest, tables, tail_segments, Amount, BinOp, Binding, Cx, Diag, Expr, ExprKind,
    Func, Lit, Node, Op, PathCode, Plan, Rounding, Span, Tail, Ty, UnOp, Unit, Val, C,
};
use crate::program::func::{self, Arg, Builtin, Gives, Make};
use crate::schema::{FieldType, SchemaNode};

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

    pub(super) fn lookup_name(&mut self, name: &str) -> Option<(Binding, Ty)> {
        for s in self.scopes.iter().rev() {
            if let Some((_, b, _, t)) = s.names.iter().find(|(n, ..)| n == name) {
                let key = match b {
                    Binding::Global(g) => (0, *g),
                    Binding::Local(l) => (1, *l),
                };
                let (b, t) = (*b, t.clone());
                self.used_lets.insert(key, true);
                match b {
                    Binding::Global(g) => self.note_global(g),
                    Binding::Local(l) => self.local_deps.push(l),
                }
                return Some((b, t));
            }
        }
        None
    }

    pub(super) fn unknown_name(&mut self, id: &ast::Ident) -> (Op, Ty) {
        let mut names: Vec<String> = self
            .scopes
            .iter()
            .flat_map(|s| s.names.iter().map(|n| n.0.clone()))
            .collect();
        names.extend(self.params.iter().map(|p| p.name.clone()));
        let help = suggest(&id.name, names.iter().map(String::as_str)).unwrap_or_else(|| {
            "names are loop items (`for x in …`), lets, and params; paths into the order start with `$`".to_string()
        });
        self.err(
            Diag::error(
                C::UnknownName,
                id.span,
                format!("unknown name `{}`", id.name),
            )
            .label("not defined")
            .help(help),
        );
        (Op::Const(Val::Null), Ty::Any)
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
                Err(msg) => {
                    self.err(
                        Diag::error(C::BadPath, e.span, format!("bad JSONPath `{text}`: {msg}"))
                            .label("cannot compile"),
                    );
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
                if let Some(p) = self.params.iter_mut().find(|p| p.name == id.name) {
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
                let t = match tail_segments(tail) {
                    Some(segs) => {
                        let multi = segs.iter().any(crate::path::Seg::is_multi);
                        let path = if multi {
                            PathCode::Multi(segs.clone())
                        } else {
                            PathCode::Single(segs.clone())
                        };
                        Tail {
                            segs: Some(segs),
                            path,
                            text: format!("{}{}", root.name, tail).into(),
                        }
                    }
                    None => match PathCode::compile(&format!("${tail}")) {
                        Ok(p) => Tail {
                            segs: None,
                            path: p,
                            text: format!("{}{}", root.name, tail).into(),
                        },
                        Err(msg) => {
                            self.err(
                                Diag::error(
                                    C::BadPath,
                                    e.span,
                                    format!("bad path `{}{tail}`: {msg}", root.name),
                                )
                                .label("cannot compile"),
                            );
                            return (Op::Const(Val::Null), Ty::Any);
                        }
                    },
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
                        if self.params.iter().any(|p| p.name == root.name) {
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
    fn branch_clash(&mut self, what: &str, span: Span, a: &Ty, b: &Ty) {
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

    /// The contract's node of a target field named `out.a.b` (through no list).
    fn target_field(&self, walked: &str) -> Option<&crate::schema::SchemaNode> {
        let mut node = self.target_root.as_ref()?;
        for k in walked.strip_prefix("out.")?.split('.') {
            node = node.object().field(k)?;
        }
        Some(node)
    }

    /// A field that takes whole numbers (an integer; fen; yuan to 2 places by its
    /// `x-decimal`) gets a value that may have a fraction: the run would reject the order.
    pub(super) fn check_whole(
        &mut self,
        t: &Ty,
        n: &Node,
        prop: &SchemaNode,
        full: &str,
        span: Span,
    ) {
        let places = match (prop.ty, prop.unit, prop.limits.decimal) {
            // A whole yuan is not known from a whole fen: left to the run.
            (FieldType::Integer, u, _) if u.is_none_or(|u| u.scale() == 1) => 0,
            (FieldType::Number, Some(u), Some(p))
                if 10i64.checked_pow(p.scale) == Some(u.scale()) =>
            {
                p.scale
            }
            _ => return,
        };
        // A constant into an integer is judged on its value (block.rs); Any at run time.
        let judged = matches!(n.code, Op::Const(_)) && prop.ty == FieldType::Integer;
        if judged || !t.all(&|t| matches!(t, Ty::Num { .. })) || t.whole() {
            return;
        }
        let round = if places == 0 {
            "`round(…, half_up)`".to_string()
        } else {
            format!("`round(…, {places}, half_up)`")
        };
        let takes = match prop.unit {
            Some(u) if places > 0 => format!("takes whole fen ({places} places of {u})"),
            Some(u) => format!("takes a whole number of {u}"),
            None => "is an integer".to_string(),
        };
        self.err(
            Diag::error(
                C::TypeMismatch,
                span,
                format!("`{full}` {takes} but this may have a fraction"),
            )
            .label("may have a fraction")
            .help(format!("round it: {round} (or `half_even`, `down`)")),
        );
    }

    pub(super) fn out_ref(&mut self, e: &Expr, tail: &str) -> (Op, Ty) {
        let Some(segs) = tail_segments(tail) else {
            self.err(
                Diag::error(
                    C::BadPath,
                    e.span,
                    "a path into `out` may use only names, indexes and `[*]`",
                )
                .label("unsupported path"),
            );
            return (Op::Const(Val::Null), Ty::Any);
        };
        let mut level: &Vec<(String, Plan)> = &self.out_plan;
        let mut walked = String::from("out");
        for (i, s) in segs.iter().enumerate() {
            let crate::path::Seg::Key(k) = s else {
                break;
            };
            walked.push('.');
            walked.push_str(k);
            match level.iter().find(|(n, _)| n == &**k) {
                Some((_, Plan::Slot(g))) => {
                    let g = *g;
                    self.note_global(g);
                    let rest = segs[i + 1..].to_vec();
                    let ty = if !rest.is_empty() {
                        // Into a list the field fills (`out.orderItemList[*].declareInfo.vat`):
                        // its scalar fields' contract, so a sum of them keeps their unit.
                        let leaf = self.target_field(&walked).and_then(|mut n| {
                            for s in &rest {
                                if let crate::path::Seg::Key(k) = s {
                                    n = n.object().property(k)?;
                                }
                            }
                            Some(n)
                        });
                        let leaf = leaf.filter(|n| {
                            matches!(Ty::of_node(n), Ty::Str | Ty::Num { .. } | Ty::Bool)
                        });
                        match leaf {
                            Some(n) if rest.iter().any(crate::path::Seg::is_multi) => {
                                Ty::List(Some(Box::new(n.clone())))
                            }
                            Some(n) => Ty::of_node(n),
                            None if rest.iter().any(crate::path::Seg::is_multi) => Ty::List(None),
                            None => Ty::Any,
                        }
                    } else {
                        // A field read back: the type and unit its contract gives, so
                        // `out.orderAmountInfo.postFee == yuan(3)` is a unit mismatch.
                        self.target_field(&walked)
                            .map_or(Ty::Any, |n| match Ty::of_node(n) {
                                t @ (Ty::Str | Ty::Num { .. } | Ty::Bool) => t,
                                _ => Ty::Any,
                            })
                    };
                    return (Op::Out(g, rest, format!("out{tail}").into()), ty);
                }
                Some((_, Plan::Obj(sub))) => level = sub,
                None => {
                    let help = suggest(k, level.iter().map(|(n, _)| n.as_str()))
                        .unwrap_or_else(|| "`out` reads back fields this mapping assigns".into());
                    self.err(
                        Diag::error(
                            C::UnknownField,
                            e.span,
                            format!("`{walked}` is not assigned by this mapping"),
                        )
                        .label("no such field")
                        .help(help),
                    );
                    return (Op::Const(Val::Null), Ty::Any);
                }
            }
        }
        self.err(
            Diag::error(
                C::BadPath,
                e.span,
                format!("`out{tail}` is a block; name one of its fields"),
            )
            .label("a block, not a field"),
        );
        (Op::Const(Val::Null), Ty::Any)
    }

    pub(super) fn lookup(
        &mut self,
        table: &ast::Ident,
        key: &Expr,
        column: Option<&ast::Ident>,
    ) -> (Op, Ty) {
        let (k, kt) = self.expr(key);
        if !kt.all(&|t| matches!(t, Ty::Str | Ty::Num { .. } | Ty::Any)) {
            self.err(
                Diag::error(
                    C::TypeMismatch,
                    key.span,
                    format!(
                        "a table key must be a string or a whole number, this is {}",
                        kt.words()
                    ),
                )
                .label("bad key"),
            );
        }
        let Some(ti) = self.table_info.iter().position(|t| t.name == table.name) else {
            let help = suggest(&table.name, self.table_info.iter().map(|t| t.name.as_str()))
                .unwrap_or_else(|| "declare it: `table name { key => value … }`".into());
            self.err(
                Diag::error(
                    C::UnknownTable,
                    table.span,
                    format!("unknown table `{}`", table.name),
                )
                .label("no such table")
                .help(help),
            );
            return (Op::Const(Val::Null), Ty::Any);
        };
        self.table_info[ti].used = true;
        let info = &self.table_info[ti];
        let (col, ty) = match (info.csv, column) {
            (false, None) => (None, info.columns[0].1.clone()),
            (false, Some(c)) => {
                let d = Diag::error(
                    C::UnknownColumn,
                    c.span,
                    format!("table `{}` has one value per key, no columns", table.name),
                )
                .label("no columns");
                self.err(d);
                return (Op::Const(Val::Null), Ty::Any);
            }
            (true, Some(c)) => match info.columns.iter().position(|(n, _)| *n == c.name) {
                Some(i) => (Some(i as u32), info.columns[i].1.clone()),
                None => {
                    let help = suggest(&c.name, info.columns.iter().map(|(n, _)| n.as_str()))
                        .unwrap_or_else(|| {
                            let cols: Vec<&str> =
                                info.columns.iter().map(|(n, _)| n.as_str()).collect();
                            format!("declared columns: {}", cols.join(", "))
                        });
                    self.err(
                        Diag::error(
                            C::UnknownColumn,
                            c.span,
                            format!("table `{}` has no column `{}`", table.name, c.name),
                        )
                        .label("no such column")
                        .help(help),
                    );
                    return (Op::Const(Val::Null), Ty::Any);
                }
            },
            (true, None) => {
                let cols: Vec<&str> = info.columns.iter().map(|(n, _)| n.as_str()).collect();
                let d = Diag::error(
                    C::UnknownColumn,
                    table.span,
                    format!("name a column of table `{}`", table.name),
                )
                .label("which column?")
                .help(format!(
                    "write `{}[…].{}`",
                    table.name,
                    cols.first().copied().unwrap_or("column")
                ));
                self.err(d);
                return (Op::Const(Val::Null), Ty::Any);
            }
        };
        (
            Op::Lookup {
                table: ti as u32,
                key: Box::new(k),
                column: col,
            },
            ty,
        )
    }

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
            let help = if self.table_info.iter().any(|t| t.name == name) {
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
