//! The file's items: `use`, `target`, `source`, `settings`, `param`, `table`, `route`,
//! and the statements the target part is made of (in [`super::stmts`]).

use super::{Builder, Rule, R};
use crate::syntax::ast::{Item, Param, Route, Setting, Table, TableBody, TypeName};
use crate::syntax::{ParseError, Span};
use pest::iterators::Pair;

impl Builder<'_> {
    pub(super) fn item(&self, p: Pair<Rule>) -> R<Item> {
        let span = self.span(&p);
        Ok(match p.as_rule() {
            Rule::use_decl => {
                let k = self.kids(p);
                Item::Use {
                    path: self.string(&k[0])?,
                    span,
                }
            }
            Rule::target_decl => {
                let k = self.kids(p);
                Item::Target {
                    path: self.string(&k[0])?,
                    span,
                }
            }
            Rule::source_decl => {
                let k = self.kids(p);
                Item::Source {
                    path: self.string(&k[0])?,
                    span,
                }
            }
            Rule::settings => {
                let mut out = Vec::new();
                for s in self.kids(p) {
                    let mut k = self.kids(s).into_iter();
                    let (Some(name), Some(value)) = (k.next(), k.next()) else {
                        return Err(ParseError {
                            span,
                            message: "malformed setting".into(),
                            label: "here".into(),
                        });
                    };
                    out.push(Setting {
                        name: self.ident(&name),
                        value: self.expr(value)?,
                    });
                }
                Item::Settings { list: out, span }
            }
            Rule::param => {
                let mut name = None;
                let mut ty = None;
                let mut value = None;
                for k in self.kids(p) {
                    match k.as_rule() {
                        Rule::ident => name = Some(self.ident(&k)),
                        Rule::type_name => ty = Some((type_name(k.as_str()), self.span(&k))),
                        _ => value = Some(self.expr(k)?),
                    }
                }
                let name = name.ok_or_else(|| ParseError {
                    span,
                    message: "param without a name".into(),
                    label: "here".into(),
                })?;
                Item::Param(Param {
                    name,
                    ty,
                    value,
                    span,
                })
            }
            Rule::table => self.table(p)?,
            Rule::route_decl => self.route(p, span)?,
            _ => Item::Stmt(self.stmt(p)?),
        })
    }

    fn route(&self, p: Pair<Rule>, span: Span) -> R<Item> {
        let mut k = self.kids(p).into_iter();
        let Some(path) = k.next() else {
            return Err(self.bug_at(span, "route without a path"));
        };
        let when = match k.next() {
            Some(e) => Some(self.expr(e)?),
            None => None,
        };
        Ok(Item::Route(Route {
            path: self.string(&path)?,
            path_span: self.span(&path),
            when,
            span,
        }))
    }

    fn table(&self, p: Pair<Rule>) -> R<Item> {
        let span = self.span(&p);
        let mut k = self.kids(p).into_iter();
        let (Some(name), Some(body)) = (k.next(), k.next()) else {
            return Err(ParseError {
                span,
                message: "malformed table".into(),
                label: "here".into(),
            });
        };
        let name = self.ident(&name);
        let body = match body.as_rule() {
            Rule::inline_table => {
                let mut rows = Vec::new();
                let mut default = None;
                for row in self.kids(body) {
                    let rspan = self.span(&row);
                    let mut rk = self.kids(row).into_iter();
                    let (Some(key), Some(val)) = (rk.next(), rk.next()) else {
                        continue;
                    };
                    let val = self.literal(val)?;
                    if key.as_rule() == Rule::default_key {
                        default = Some((val, rspan));
                    } else {
                        rows.push((self.literal(key)?, val, rspan));
                    }
                }
                TableBody::Inline { rows, default }
            }
            _ => {
                let mut bk = self.kids(body).into_iter();
                let (Some(file), Some(key)) = (bk.next(), bk.next()) else {
                    return Err(ParseError {
                        span,
                        message: "malformed table".into(),
                        label: "here".into(),
                    });
                };
                let mut columns = Vec::new();
                for col in bk {
                    let mut ck = self.kids(col).into_iter();
                    if let (Some(n), Some(t)) = (ck.next(), ck.next()) {
                        columns.push((self.ident(&n), type_name(t.as_str()), ck.next().is_some()));
                    }
                }
                TableBody::Csv {
                    file_span: self.span(&file),
                    file: self.string(&file)?,
                    key: self.ident(&key),
                    columns,
                }
            }
        };
        Ok(Item::Table(Table { name, body, span }))
    }
}

fn type_name(s: &str) -> TypeName {
    match s {
        "integer" => TypeName::Integer,
        "decimal" => TypeName::Decimal,
        "boolean" => TypeName::Boolean,
        _ => TypeName::String,
    }
}
