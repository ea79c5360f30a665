//! Table lookups (`goods[key].column`): the key's type, the table and its column.

use super::{ast, suggest, Cx, Diag, Expr, Op, Ty, Val, C};

impl<'m> Cx<'m> {
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
        let Some(ti) = self.table(&table.name) else {
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
}
