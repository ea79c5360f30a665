//! Target statements: `let`, `require`, blocks, assignments (with `for`), `drop`.

use super::{Builder, Rule, R};
use crate::syntax::ast::{Drop, DropWhat, Field, FieldValue, Ident, Stmt};
use pest::iterators::Pair;

impl Builder<'_> {
    fn stmts<'i>(&self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> R<Vec<Stmt>> {
        pairs.map(|p| self.stmt(p)).collect()
    }

    pub(super) fn stmt(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::let_stmt => {
                let mut k = self.kids(p).into_iter();
                let (Some(n), Some(v)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "let"));
                };
                Ok(Stmt::Let {
                    name: self.ident(&n),
                    value: self.expr(v)?,
                    span,
                })
            }
            Rule::require_stmt => {
                let mut k = self.kids(p).into_iter().peekable();
                let name = match k.peek() {
                    Some(n) if n.as_rule() == Rule::rule_name => {
                        k.next().map(|n| self.rule_name(n))
                    }
                    _ => None,
                };
                let (Some(c), Some(m)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "require"));
                };
                Ok(Stmt::Require {
                    name,
                    cond: self.expr(c)?,
                    message: self.string(&m)?,
                    span,
                })
            }
            Rule::block => {
                let mut k = self.kids(p).into_iter();
                let Some(path) = k.next() else {
                    return Err(self.bug_at(span, "block"));
                };
                Ok(Stmt::Field(Field {
                    path: self.field_path(path),
                    value: FieldValue::Block(self.stmts(k)?),
                    span,
                }))
            }
            Rule::assign => {
                let mut k = self.kids(p).into_iter();
                let (Some(path), Some(v)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "assignment"));
                };
                let value = if v.as_rule() == Rule::for_expr {
                    let mut bindings = Vec::new();
                    let mut body = Vec::new();
                    for c in self.kids(v) {
                        if c.as_rule() == Rule::binding {
                            let mut bk = self.kids(c).into_iter();
                            if let (Some(n), Some(e)) = (bk.next(), bk.next()) {
                                bindings.push((self.ident(&n), self.expr(e)?));
                            }
                        } else {
                            body.push(self.stmt(c)?);
                        }
                    }
                    FieldValue::For { bindings, body }
                } else {
                    FieldValue::Expr(self.expr(v)?)
                };
                Ok(Stmt::Field(Field {
                    path: self.field_path(path),
                    value,
                    span,
                }))
            }
            Rule::drop_stmt => {
                let Some(k) = self.kids(p).into_iter().next() else {
                    return Err(self.bug_at(span, "drop"));
                };
                let what = if k.as_rule() == Rule::rule_name {
                    DropWhat::Rule(self.rule_name(k))
                } else {
                    DropWhat::Field(self.field_path(k))
                };
                Ok(Stmt::Drop(Drop { what, span }))
            }
            _ => Err(self.bug(&p, "unexpected statement")),
        }
    }

    /// The name of a `rule_name` pair: its text is its one `ident`.
    fn rule_name(&self, p: Pair<Rule>) -> Ident {
        self.ident(&p)
    }

    pub(super) fn field_path(&self, p: Pair<Rule>) -> Vec<Ident> {
        p.into_inner().map(|i| self.ident(&i)).collect()
    }
}
