//! What a mapping declares before its statements: the two contracts, params (with
//! `--param` values), tables (with `--table` files) and settings.

use super::{
    ast, lit_ty, suggest, tables, ty_of_name, Amount, Cow, Cx, Diag, ExprKind, Op, ParamInfo,
    Schema, Scope, Settings, Span, TableInfo, Ty, TypeName, Val, C,
};

const SETTINGS: &[&str] = &["msg_type", "logistic_provider_id", "to_code", "order_id"];

impl<'m> Cx<'m> {
    pub(super) fn schema(&mut self) -> Option<Schema> {
        let Some((path, span)) = &self.m.target else {
            let d = Diag::error(
                C::NoTarget,
                Span::new(self.m.root, 0, 0),
                "no target schema: the mapping does not say what it builds",
            )
            .label("here")
            .help("add `target \"../schemas/cainiao_deliveryorder_create.schema.json\"`, or `use` a mapping that has one");
            self.err(d);
            return None;
        };
        self.read_schema(path, *span)
    }

    /// A schema the mapping names, read within the mapping root.
    pub(super) fn read_schema(&mut self, path: &std::path::Path, span: Span) -> Option<Schema> {
        let read = self
            .m
            .within
            .read_text(path, crate::repo::fs::MAX_TEXT_BYTES)
            .map_err(|e| {
                let shown = crate::repo::display_name(path);
                format!("cannot read schema {shown}: {e}")
            })
            .and_then(|text| Schema::from_text(path, &text).map_err(|e| e.to_string()));
        match read {
            Ok(s) => Some(s),
            Err(e) => {
                self.err(Diag::error(C::Schema, span, e).label("this schema"));
                None
            }
        }
    }

    pub(super) fn source_schema(&mut self) -> Option<Schema> {
        let (path, span) = self.m.source.as_ref()?;
        self.read_schema(path, *span)
    }

    pub(super) fn params(&mut self) {
        for p in &self.m.params {
            let cli = self
                .opts
                .params
                .iter()
                .rev()
                .find(|(n, _)| *n == p.name.name);
            let Some((ty_name, _)) = p.ty else {
                self.err(
                    Diag::error(
                        C::UnknownParam,
                        p.name.span,
                        format!(
                            "param `{}` is given a value but never declared",
                            p.name.name
                        ),
                    )
                    .label("no such param")
                    .help(
                        suggest(
                            &p.name.name,
                            self.m
                                .params
                                .iter()
                                .filter(|q| q.ty.is_some())
                                .map(|q| q.name.name.as_str()),
                        )
                        .unwrap_or_else(|| {
                            format!("declare it with a type: `param {}: string`", p.name.name)
                        }),
                    ),
                );
                continue;
            };
            let ty = ty_of_name(ty_name);
            // A bad `--param` is said at the param's name: it is not also said unset.
            let mut said_at_name = false;
            let value = if let Some((_, text)) = cli {
                match param_from_text(text, ty_name) {
                    Some(v) => Some(v),
                    None => {
                        said_at_name = true;
                        self.err(
                            Diag::error(
                                C::TypeMismatch,
                                p.name.span,
                                format!(
                                    "--param {}={text}: not a {}",
                                    p.name.name,
                                    ty_name.as_str()
                                ),
                            )
                            .label("declared here"),
                        );
                        None
                    }
                }
            } else if let Some(e) = &p.value {
                match &e.kind {
                    ExprKind::Lit(l) => {
                        let lt = lit_ty(l);
                        if !param_fits(&lt, ty_name) {
                            self.err(
                                Diag::error(
                                    C::TypeMismatch,
                                    e.span,
                                    format!(
                                        "param `{}` is {} but is given {}",
                                        p.name.name,
                                        ty_name.as_str(),
                                        lt.words()
                                    ),
                                )
                                .label("wrong type"),
                            );
                        }
                        Some(tables::lit_val(l))
                    }
                    _ => {
                        self.err(
                            Diag::error(
                                C::TypeMismatch,
                                e.span,
                                "a param's value must be a literal",
                            )
                            .label("not a literal"),
                        );
                        None
                    }
                }
            } else {
                None
            };
            if value.is_none()
                && !(self.opts.allow_unset_params && p.name.span.file == self.m.root)
                && !said_at_name
            {
                let d = Diag::error(
                    C::UnsetParam,
                    p.name.span,
                    format!("param `{}` has no value", p.name.name),
                )
                .label("never set")
                .help(format!(
                    "set it in a mapping that uses this one (`param {} = …`) or with --param {}=…",
                    p.name.name, p.name.name
                ));
                let d = self.blame_use(d, &p.name.name);
                self.err(d);
            }
            self.param_at
                .entry(p.name.name.clone())
                .or_insert(self.params.len());
            self.params.push(ParamInfo {
                name: p.name.name.clone(),
                value,
                ty,
                span: p.name.span,
                used: false,
            });
        }
        for (n, _) in &self.opts.params {
            if !self.m.params.iter().any(|p| p.name.name == *n) {
                let mut d = Diag::error(
                    C::UnknownParam,
                    None,
                    format!("--param {n}: the mapping declares no such param"),
                );
                if let Some(hint) =
                    crate::diag::suggest(n, self.m.params.iter().map(|p| p.name.name.as_str()))
                {
                    d = d.help(hint);
                }
                self.err(d);
            }
        }
    }

    pub(super) fn tables(&mut self) {
        for def in &self.m.tables {
            let name = &def.decl.name.name;
            let swap = self
                .opts
                .tables
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, p)| p.as_path());
            let (csv, columns) = match &def.decl.body {
                ast::TableBody::Inline { rows, default } => {
                    let mut t = rows.first().map(|(_, v, _)| lit_ty(v)).unwrap_or(Ty::Any);
                    for (_, v, _) in rows.iter().skip(1) {
                        t = Ty::join(t, lit_ty(v));
                    }
                    if let Some((d, _)) = default {
                        t = Ty::join(t, lit_ty(d));
                    }
                    (false, vec![("value".to_string(), t)])
                }
                ast::TableBody::Csv { columns, .. } => (
                    true,
                    columns
                        .iter()
                        .map(|(c, t, optional)| {
                            // An optional column may be missing: each of its cells may be absent.
                            let ty = ty_of_name(*t);
                            let ty = if *optional { Ty::Opt(Box::new(ty)) } else { ty };
                            (c.name.clone(), ty)
                        })
                        .collect(),
                ),
            };
            self.tables
                .push(tables::build(def, swap, &self.m.within, &mut self.diags));
            self.table_at
                .entry(name.clone())
                .or_insert(self.table_info.len());
            self.table_info.push(TableInfo {
                name: name.clone(),
                csv,
                columns,
                span: def.decl.name.span,
                used: false,
            });
        }
        for (n, _) in &self.opts.tables {
            if !self.table(n).is_some_and(|i| self.table_info[i].csv) {
                self.err(Diag::error(
                    C::UnknownTable,
                    None,
                    format!("--table {n}: the mapping has no CSV table of that name"),
                ));
            }
        }
    }

    pub(super) fn settings_consts(&mut self) -> Settings {
        let mut s = Settings {
            msg_type: "CN_WMS_DELIVERYORDER_CREATE".into(),
            ..Settings::default()
        };
        for (name, e) in &self.m.settings {
            if !SETTINGS.contains(&name.name.as_str()) {
                self.err(
                    Diag::error(
                        C::UnknownSetting,
                        name.span,
                        format!("unknown setting `{}`", name.name),
                    )
                    .label("not a setting")
                    .help(
                        suggest(&name.name, SETTINGS.iter().copied())
                            .unwrap_or_else(|| format!("settings are: {}", SETTINGS.join(", "))),
                    ),
                );
                continue;
            }
            if name.name == "order_id" {
                continue;
            }
            self.scopes.push(Scope::default());
            let (n, _) = self.expr(e);
            self.scopes.pop();
            let text = match n.code {
                Op::Const(Val::Str(v)) => v.into_owned(),
                _ => {
                    self.err(Diag::error(C::TypeMismatch, e.span, format!("setting `{}` must be a string known before any order (a literal or a param)", name.name)).label("not a constant string"));
                    continue;
                }
            };
            match name.name.as_str() {
                "msg_type" => s.msg_type = text,
                "logistic_provider_id" => s.logistic_provider_id = Some(text),
                _ => s.to_code = Some(text),
            }
        }
        s
    }
}

fn param_fits(t: &Ty, n: TypeName) -> bool {
    matches!(
        (t, n),
        (Ty::Str, TypeName::String)
            | (Ty::Num { int: true, .. }, TypeName::Integer)
            | (Ty::Num { .. }, TypeName::Decimal)
            | (Ty::Bool, TypeName::Boolean)
    )
}

fn param_from_text(text: &str, t: TypeName) -> Option<Val<'static>> {
    Some(match t {
        TypeName::String => Val::Str(Cow::Owned(text.to_string())),
        TypeName::Integer => {
            let d = crate::money::parse_decimal(text)?;
            if !d.fract().is_zero() {
                return None;
            }
            Val::Num(Amount::new(d, None))
        }
        TypeName::Decimal => Val::Num(Amount::new(crate::money::parse_decimal(text)?, None)),
        TypeName::Boolean => Val::Bool(text.parse().ok()?),
    })
}
