//! Expressions: operators by precedence (a Pratt parser over pest's flat list), literals,
//! paths, lookups, calls and `if`, each level held to the nesting limit.

use super::errors::nesting_error;
use super::{is_binary_operator, Builder, Rule, R};
use crate::syntax::ast::{BinOp, Expr, ExprKind, Ident, Lit, UnOp};
use crate::syntax::depth::MAX_EXPR_DEPTH;
use crate::syntax::{ParseError, Span};
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::OnceLock;

fn is_operator(r: Rule) -> bool {
    is_binary_operator(r) || matches!(r, Rule::op_not | Rule::op_neg)
}

fn pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_coalesce, Assoc::Right))
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
            .op(Op::prefix(Rule::op_not) | Op::prefix(Rule::op_neg))
    })
}

impl Builder<'_> {
    pub(super) fn literal(&self, p: Pair<Rule>) -> R<Lit> {
        Ok(match p.as_rule() {
            Rule::string => Lit::Str(self.string(&p)?),
            Rule::boolean => Lit::Bool(p.as_str() == "true"),
            Rule::null => Lit::Null,
            Rule::number => {
                let span = self.span(&p);
                let mut digits = "";
                let mut unit = None;
                for k in p.into_inner() {
                    match k.as_rule() {
                        Rule::digits => digits = k.as_str(),
                        Rule::unit => unit = Some(k.as_str().to_string()),
                        _ => {}
                    }
                }
                let d = Decimal::from_str(digits).map_err(|_| ParseError {
                    span,
                    message: format!("number `{digits}` is out of range"),
                    label: "out of range".into(),
                })?;
                Lit::Num(d, unit)
            }
            _ => return Err(self.bug(&p, "expected a literal")),
        })
    }

    pub(super) fn expr(&self, p: Pair<Rule>) -> R<Expr> {
        let file = self.file;
        // The operators of one expression come flat from pest; each may be a level of
        // the tree (and of the Pratt parser's recursion): refuse before building.
        let parts: Vec<Pair<Rule>> = p.into_inner().collect();
        let outer = self.depth.get();
        let mut depth = outer + 1;
        for k in &parts {
            if is_operator(k.as_rule()) {
                depth += 1;
                if depth > MAX_EXPR_DEPTH {
                    return Err(nesting_error(file, k.as_span().start(), MAX_EXPR_DEPTH));
                }
            }
        }
        if depth > MAX_EXPR_DEPTH {
            let at = parts.first().map_or(0, |k| k.as_span().start());
            return Err(nesting_error(file, at, MAX_EXPR_DEPTH));
        }
        self.depth.set(depth);
        let built = self.pratt_expr(parts);
        self.depth.set(outer);
        built
    }

    fn pratt_expr(&self, parts: Vec<Pair<Rule>>) -> R<Expr> {
        let file = self.file;
        let parsed = pratt()
            .map_primary(|prim| self.primary(prim))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let s = op.as_span();
                Ok(Expr {
                    span: Span::new(file, s.start(), rhs.span.end as usize),
                    kind: ExprKind::Unary {
                        op: if op.as_rule() == Rule::op_not {
                            UnOp::Not
                        } else {
                            UnOp::Neg
                        },
                        expr: Box::new(rhs),
                    },
                })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let s = op.as_span();
                let bop = match op.as_rule() {
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                Ok(Expr {
                    span: lhs.span.to(rhs.span),
                    kind: ExprKind::Binary {
                        op: bop,
                        op_span: Span::new(file, s.start(), s.end()),
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                })
            })
            .parse(parts.into_iter());
        parsed
    }

    fn primary(&self, p: Pair<Rule>) -> R<Expr> {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::expr => return self.expr(p),
            Rule::paren => {
                // The parentheses belong to the span: messages quote the whole of it.
                let inner = p
                    .into_inner()
                    .next()
                    .ok_or_else(|| self.bug_at(span, "parentheses"))?;
                let mut e = self.expr(inner)?;
                e.span = span;
                return Ok(e);
            }
            Rule::number | Rule::string | Rule::boolean | Rule::null => {
                ExprKind::Lit(self.literal(p)?)
            }
            Rule::source_path => ExprKind::Source(p.as_str().to_string()),
            Rule::var_path => {
                let text = p.as_str();
                let cut = text.find(['.', '[']).unwrap_or(text.len());
                ExprKind::VarPath {
                    root: Ident {
                        name: text[..cut].to_string(),
                        span: Span::new(self.file, span.start as usize, span.start as usize + cut),
                    },
                    tail: text[cut..].to_string(),
                }
            }
            Rule::var => {
                let k = p.into_inner().next();
                match k {
                    Some(i) => ExprKind::Var(self.ident(&i)),
                    None => return Err(self.bug_at(span, "name")),
                }
            }
            Rule::lookup => {
                let mut k = self.kids(p).into_iter();
                let (Some(t), Some(key)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "lookup"));
                };
                ExprKind::Lookup {
                    table: self.ident(&t),
                    key: Box::new(self.expr(key)?),
                    column: k.next().map(|c| self.ident(&c)),
                }
            }
            Rule::call => {
                let mut k = self.kids(p).into_iter();
                let Some(f) = k.next() else {
                    return Err(self.bug_at(span, "call"));
                };
                ExprKind::Call {
                    func: self.ident(&f),
                    args: k.map(|a| self.expr(a)).collect::<R<_>>()?,
                }
            }
            Rule::if_expr => {
                let mut k = self.kids(p).into_iter();
                let (Some(c), Some(t), Some(e)) = (k.next(), k.next(), k.next()) else {
                    return Err(self.bug_at(span, "if"));
                };
                ExprKind::If {
                    cond: Box::new(self.expr(c)?),
                    then: Box::new(self.expr(t)?),
                    els: Box::new(self.expr(e)?),
                }
            }
            _ => return Err(self.bug(&p, "unexpected expression")),
        };
        Ok(Expr { kind, span })
    }
}
