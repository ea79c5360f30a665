//! Checked, resolved, lowered: a merged [`Mapping`] becomes a [`Program`], and every
//! mistake found on the way becomes a [`Diag`] (all of them, not only the first).

pub mod program;
pub mod tables;
pub mod types;

use crate::diag::{closest, suggest, Code as C, Diag};
use crate::load::Mapping;
use crate::money::{Amount, Rounding, Unit};
use crate::run::path::{tail_segments, PathCode};
use crate::run::value::Val;
use crate::schema::{FieldType, Schema, SchemaNode};
use crate::syntax::ast::{self, BinOp, Expr, ExprKind, FieldValue, Lit, Stmt, TypeName, UnOp};
use crate::syntax::Span;
pub use program::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use types::Ty;

/// What a run adds to the mapping text.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--param name=value`.
    pub params: Vec<(String, String)>,
    /// `--table NAME=FILE`.
    pub tables: Vec<(String, PathBuf)>,
    /// Checking a mapping others build on: params may stay unset.
    pub allow_unset_params: bool,
}

/// Names functions are known by, for "did you mean".
const FUNCTIONS: &[&str] = &[
    "first",
    "last",
    "sum",
    "count",
    "min",
    "max",
    "trim",
    "upper",
    "lower",
    "concat",
    "len",
    "substr",
    "replace",
    "round",
    "convert",
    "yuan",
    "jiao",
    "fen",
    "kg",
    "g",
    "string",
    "number",
    "nonblank",
    "format_time",
    "abs",
];
const SETTINGS: &[&str] = &["msg_type", "logistic_provider_id", "to_code", "order_id"];

pub fn compile(m: &Mapping, opts: &Options) -> (Option<Program>, Vec<Diag>) {
    let mut cx = Cx {
        m,
        opts,
        diags: Vec::new(),
        params: Vec::new(),
        tables: Vec::new(),
        table_info: Vec::new(),
        globals: Vec::new(),
        global_meta: Vec::new(),
        scopes: Vec::new(),
        requires: Vec::new(),
        out_plan: Vec::new(),
        deps: Vec::new(),
        collecting: Vec::new(),
        local_deps: Vec::new(),
        next_local: 0,
        in_loop: false,
        used_lets: HashMap::new(),
        misspelt: Vec::new(),
        let_origin: HashMap::new(),
        source: None,
    };
    let schema = cx.schema();
    cx.source = cx.source_schema();
    cx.params();
    cx.tables();
    let settings = cx.settings_consts();
    let mut root = Vec::new();
    if let Some(schema) = &schema {
        cx.out_plan = plan(&m.body, &schema.root, &mut cx.global_meta);
        cx.globals = (0..cx.global_meta.len()).map(|_| None).collect();
        cx.deps = vec![Vec::new(); cx.global_meta.len()];
        let target_span = m.target.as_ref().map(|(_, s)| *s);
        let plan = cx.out_plan.clone();
        root = cx.lower_global_block(&m.body, &schema.root, "", target_span, &plan);
    }
    let order_id = m
        .settings
        .iter()
        .find(|(n, _)| n.name == "order_id")
        .map(|(_, e)| {
            cx.scopes.push(Scope::default());
            let (n, _) = cx.expr(e);
            cx.scopes.pop();
            n
        });
    cx.cycles();
    cx.unused();
    let Cx {
        diags,
        globals,
        requires,
        tables,
        ..
    } = cx;
    if diags.iter().any(Diag::is_error) || schema.is_none() {
        return (None, diags);
    }
    let globals: Option<Vec<Global>> = globals.into_iter().collect();
    let Some(globals) = globals else {
        return (None, diags);
    };
    let prog = Program {
        sources: m.sources.clone(),
        settings,
        order_id,
        globals,
        requires,
        root,
        tables: tables.into_iter().flatten().collect(),
    };
    (Some(prog), diags)
}

/// Where each top-level (not looped) field lives, decided before any expression is
/// lowered so that `out.…` can point at fields defined further down.
#[derive(Debug, Clone)]
enum Plan {
    Slot(u32),
    Obj(Vec<(String, Plan)>),
}

#[derive(Debug, Clone)]
struct GlobalMeta {
    name: String,
    span: Span,
}

fn plan(body: &[Stmt], schema: &SchemaNode, meta: &mut Vec<GlobalMeta>) -> Vec<(String, Plan)> {
    let mut out = Vec::new();
    for s in body {
        let Stmt::Field(f) = s else { continue };
        let name = f.path[0].name.clone();
        let prop = schema.property(&name);
        let p = match (&f.value, prop) {
            (FieldValue::Block(b), Some(p)) if p.ty == FieldType::Object => {
                Plan::Obj(plan(b, p, meta))
            }
            _ => {
                meta.push(GlobalMeta {
                    name: name.clone(),
                    span: f.span,
                });
                Plan::Slot((meta.len() - 1) as u32)
            }
        };
        out.push((name, p));
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Binding {
    Local(u32),
    Global(u32),
}

#[derive(Debug, Default)]
struct Scope {
    names: Vec<(String, Binding, Span, Ty)>,
}

struct ParamInfo {
    name: String,
    value: Option<Val<'static>>,
    ty: Ty,
    span: Span,
    used: bool,
}

struct TableInfo {
    name: String,
    csv: bool,
    columns: Vec<(String, Ty)>,
    span: Span,
    used: bool,
}

struct Cx<'m> {
    m: &'m Mapping,
    opts: &'m Options,
    diags: Vec<Diag>,
    params: Vec<ParamInfo>,
    tables: Vec<Option<Table>>,
    table_info: Vec<TableInfo>,
    globals: Vec<Option<Global>>,
    global_meta: Vec<GlobalMeta>,
    scopes: Vec<Scope>,
    requires: Vec<Require>,
    out_plan: Vec<(String, Plan)>,
    /// Globals each global reads (for cycles).
    deps: Vec<Vec<u32>>,
    /// Stack of the globals read by what is being lowered now.
    collecting: Vec<Vec<u32>>,
    local_deps: Vec<u32>,
    next_local: u32,
    in_loop: bool,
    used_lets: HashMap<(u32, u32), bool>,
    /// Fields a misspelt name was probably meant to be.
    misspelt: Vec<String>,
    let_origin: HashMap<(u32, u32), Box<str>>,
    /// The contract of the input, when the mapping names one.
    source: Option<Schema>,
}

fn ty_of_name(t: TypeName) -> Ty {
    match t {
        TypeName::String => Ty::Str,
        TypeName::Integer => Ty::num(None, true),
        TypeName::Decimal => Ty::num(None, false),
        TypeName::Boolean => Ty::Bool,
    }
}

fn lit_ty(l: &Lit) -> Ty {
    match l {
        Lit::Str(_) => Ty::Str,
        Lit::Num(d, u) => Ty::num(u.as_deref().and_then(Unit::parse), d.fract().is_zero()),
        Lit::Bool(_) => Ty::Bool,
        Lit::Null => Ty::Null,
    }
}

/// The JSON form of a constant, to compare with a schema's `const`.
pub fn const_json(v: &Val) -> Option<serde_json::Value> {
    Some(match v {
        Val::Str(s) => serde_json::Value::String(s.to_string()),
        Val::Bool(b) => serde_json::Value::Bool(*b),
        Val::Num(a) => serde_json::from_str(&a.value.normalize().to_string()).ok()?,
        Val::Null => serde_json::Value::Null,
        _ => return None,
    })
}

impl<'m> Cx<'m> {
    fn err(&mut self, d: Diag) {
        self.diags.push(d);
    }

    fn schema(&mut self) -> Option<Schema> {
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
        match Schema::load(path) {
            Ok(s) => Some(s),
            Err(e) => {
                self.err(Diag::error(C::Schema, *span, e.to_string()).label("this schema"));
                None
            }
        }
    }

    fn source_schema(&mut self) -> Option<Schema> {
        let (path, span) = self.m.source.as_ref()?;
        match Schema::load(path) {
            Ok(s) => Some(s),
            Err(e) => {
                self.err(Diag::error(C::Schema, *span, e.to_string()).label("this schema"));
                None
            }
        }
    }

    /// The type of a `$…` path, from the source contract.
    fn source_ty(&mut self, text: &str, span: Span) -> Ty {
        let multi = crate::run::path::simple_segments(text)
            .is_none_or(|s| s.iter().any(crate::run::path::Seg::is_multi));
        let root = match &self.source {
            Some(s) => Ty::Obj(Some(Box::new(s.root.clone()))),
            None => return if multi { Ty::List(None) } else { Ty::Any },
        };
        self.walk_ty(&root, &text[1..], span.start as usize + 1, span, multi)
    }

    /// Follows a path tail through what the contract says of `root`; reports names the
    /// order cannot have.
    fn walk_ty(&mut self, root: &Ty, tail: &str, offset: usize, span: Span, multi: bool) -> Ty {
        let fallback = if multi { Ty::List(None) } else { Ty::Any };
        let Ty::Obj(Some(start)) = root.strip() else {
            return fallback;
        };
        let Some(segs) = check_segments(tail) else {
            return fallback;
        };
        let mut node: &SchemaNode = start;
        let mut opt = matches!(root, Ty::Opt(_));
        let mut list = false;
        for (seg, at) in segs {
            match seg {
                CSeg::Key(k) => {
                    if node.ty == FieldType::Any
                        || (node.ty == FieldType::Object && node.properties.is_empty())
                    {
                        return fallback;
                    }
                    if node.ty != FieldType::Object {
                        let d = Diag::error(
                            C::UnknownSource,
                            Span::new(span.file, offset + at, offset + at + k.len()),
                            format!(
                                "`{k}`: the value before it is {}, it has no fields",
                                node.ty.as_str()
                            ),
                        )
                        .label("no fields here")
                        .help(if node.ty == FieldType::Array {
                            "take its elements with `[*]` or one with `[0]`"
                        } else {
                            "remove this part of the path"
                        });
                        self.err(d);
                        return fallback;
                    }
                    match node.property(&k) {
                        Some(p) => {
                            if !node.is_required(&k) {
                                opt = true;
                            }
                            node = p;
                        }
                        None => {
                            let help = suggest(&k, node.properties.iter().map(|(n, _)| n.as_str())).unwrap_or_else(|| "see mappings/schemas/red_order.schema.json for the fields RED sends".into());
                            let d = Diag::error(
                                C::UnknownSource,
                                Span::new(span.file, offset + at, offset + at + k.len()),
                                format!("a RED order has no field `{k}` here"),
                            )
                            .label("not in the source contract")
                            .help(help);
                            self.err(d);
                            return fallback;
                        }
                    }
                }
                CSeg::Index | CSeg::Each => {
                    if node.ty == FieldType::Any {
                        return fallback;
                    }
                    match (&node.ty, &node.items) {
                        (FieldType::Array, Some(items)) => {
                            list |= seg == CSeg::Each;
                            node = items;
                        }
                        _ => {
                            let d = Diag::error(
                                C::UnknownSource,
                                Span::new(span.file, offset + at, offset + at + 1),
                                format!("indexing {}, which is not a list", node.ty.as_str()),
                            )
                            .label("not a list");
                            self.err(d);
                            return fallback;
                        }
                    }
                }
                CSeg::Opaque => return fallback,
            }
        }
        if list {
            return Ty::List(Some(Box::new(node.clone())));
        }
        let t = Ty::of_node(node);
        if opt {
            Ty::Opt(Box::new(t))
        } else {
            t
        }
    }

    fn params(&mut self) {
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
            let value = if let Some((_, text)) = cli {
                match param_from_text(text, ty_name) {
                    Some(v) => Some(v),
                    None => {
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
                && !self.diags.iter().any(|d| d.span == Some(p.name.span))
            {
                self.err(
                    Diag::error(C::UnsetParam, p.name.span, format!("param `{}` has no value", p.name.name))
                        .label("never set")
                        .help(format!("set it in a mapping that uses this one (`param {} = …`) or with --param {}=…", p.name.name, p.name.name)),
                );
            }
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
                self.err(Diag::error(
                    C::UnknownParam,
                    None,
                    format!("--param {n}: the mapping declares no such param"),
                ));
            }
        }
    }

    fn tables(&mut self) {
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
                        .map(|(c, t)| (c.name.clone(), ty_of_name(*t)))
                        .collect(),
                ),
            };
            self.tables.push(tables::build(def, swap, &mut self.diags));
            self.table_info.push(TableInfo {
                name: name.clone(),
                csv,
                columns,
                span: def.decl.name.span,
                used: false,
            });
        }
        for (n, _) in &self.opts.tables {
            if !self.table_info.iter().any(|t| t.name == *n && t.csv) {
                self.err(Diag::error(
                    C::UnknownTable,
                    None,
                    format!("--table {n}: the mapping has no CSV table of that name"),
                ));
            }
        }
    }

    fn settings_consts(&mut self) -> Settings {
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
                Code::Const(Val::Str(v)) => v.into_owned(),
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

    // ---- statements -------------------------------------------------------------

    fn declare_lets(&mut self, body: &[Stmt]) {
        for s in body {
            if let Stmt::Let { name, .. } = s {
                let b = if self.in_loop {
                    let i = self.next_local;
                    self.next_local += 1;
                    Binding::Local(i)
                } else {
                    self.global_meta.push(GlobalMeta {
                        name: format!("let {}", name.name),
                        span: name.span,
                    });
                    self.globals.push(None);
                    self.deps.push(Vec::new());
                    Binding::Global((self.global_meta.len() - 1) as u32)
                };
                if let Some(scope) = self.scopes.last_mut() {
                    scope.names.push((name.name.clone(), b, name.span, Ty::Any));
                }
            }
        }
    }

    fn binding_of(&self, name: &str) -> Option<Binding> {
        self.scopes.last().and_then(|s| {
            s.names
                .iter()
                .find(|(n, ..)| n == name)
                .map(|(_, b, ..)| *b)
        })
    }

    fn set_binding_ty(&mut self, name: &str, ty: Ty) {
        if let Some(s) = self.scopes.last_mut() {
            if let Some(e) = s.names.iter_mut().find(|(n, ..)| n == name) {
                e.3 = ty;
            }
        }
    }

    fn lower_global_block(
        &mut self,
        body: &[Stmt],
        schema: &SchemaNode,
        prefix: &str,
        block_span: Option<Span>,
        plan: &[(String, Plan)],
    ) -> Vec<(Box<str>, OutNode)> {
        self.scopes.push(Scope::default());
        self.declare_lets(body);
        let mut out = Vec::new();
        let mut assigned: Vec<&str> = Vec::new();
        for s in lets_first(body) {
            match s {
                Stmt::Let { name, value, .. } => {
                    let Some(Binding::Global(g)) = self.binding_of(&name.name) else {
                        continue;
                    };
                    let (n, t) = self.with_deps(g, |cx| cx.expr(value));
                    self.set_binding_ty(&name.name, t);
                    if let Some(o) = &n.origin {
                        self.let_origin.insert((0, g), o.clone());
                    }
                    self.globals[g as usize] = Some(Global::Let(n));
                }
                Stmt::Require { cond, message, .. } => {
                    let (n, t) = self.expr(cond);
                    self.expect_bool(&t, cond.span);
                    self.requires.push(Require {
                        cond: n,
                        message: message.as_str().into(),
                    });
                }
                Stmt::Field(f) => {
                    let name = f.path[0].name.as_str();
                    let full = if prefix.is_empty() {
                        name.to_string()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    let Some(prop) = self.field_prop(schema, &f.path[0], &full) else {
                        continue;
                    };
                    assigned.push(name);
                    let slot = plan.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone());
                    match (&f.value, slot) {
                        (FieldValue::Block(b), Some(Plan::Obj(sub))) => {
                            let node =
                                self.lower_global_block(b, prop, &full, Some(f.path[0].span), &sub);
                            out.push((name.into(), OutNode::Obj(node)));
                        }
                        (v, Some(Plan::Slot(g))) => {
                            let check = field_check(prop, &full, schema.is_required(name));
                            let global = match v {
                                FieldValue::Expr(e) => {
                                    if !self.shape_ok(prop, "a value", f) {
                                        continue;
                                    }
                                    let (n, t) = self.with_deps(g, |cx| cx.expr(e));
                                    self.check_assign(&t, &n, prop, &full, e.span, check.required);
                                    Global::Field(n, check)
                                }
                                FieldValue::For { bindings, body } => {
                                    if !self.shape_ok(prop, "a for loop", f) {
                                        continue;
                                    }
                                    let l = self.with_deps(g, |cx| {
                                        cx.lower_loop(bindings, body, prop, &full, check, f.span)
                                    });
                                    Global::Loop(l)
                                }
                                FieldValue::Block(_) => {
                                    self.shape_ok(prop, "a block", f);
                                    continue;
                                }
                            };
                            self.globals[g as usize] = Some(global);
                            out.push((name.into(), OutNode::Global(g)));
                        }
                        _ => {}
                    }
                }
            }
        }
        self.missing(schema, &assigned, prefix, block_span);
        self.pop_scope();
        out
    }

    fn pop_scope(&mut self) {
        if let Some(s) = self.scopes.pop() {
            for (name, b, span, _) in s.names {
                let key = match b {
                    Binding::Global(g) => (0, g),
                    Binding::Local(l) => (1, l),
                };
                if !self.used_lets.get(&key).copied().unwrap_or(false) && !name.starts_with('_') {
                    self.diags.push(
                        Diag::warning(C::Unused, span, format!("`{name}` is never read"))
                            .label("unused")
                            .help("remove it, or start its name with `_`"),
                    );
                }
                self.used_lets.remove(&key);
            }
        }
    }

    fn with_deps<T>(&mut self, g: u32, f: impl FnOnce(&mut Self) -> T) -> T {
        self.collecting.push(Vec::new());
        let r = f(self);
        let d = self.collecting.pop().unwrap_or_default();
        if let Some(slot) = self.deps.get_mut(g as usize) {
            slot.extend(d);
        }
        r
    }

    fn note_global(&mut self, g: u32) {
        if let Some(d) = self.collecting.last_mut() {
            d.push(g);
        }
    }

    fn field_prop<'s>(
        &mut self,
        schema: &'s SchemaNode,
        name: &ast::Ident,
        full: &str,
    ) -> Option<&'s SchemaNode> {
        let target = schema.object();
        match target.property(&name.name) {
            Some(p) => Some(p),
            None => {
                // A misspelt field is also a missing one: report the misspelling only.
                if let Some(best) = closest(
                    &name.name,
                    target.properties.iter().map(|(n, _)| n.as_str()),
                ) {
                    let full_best = match full.rsplit_once('.') {
                        Some((pre, _)) => format!("{pre}.{best}"),
                        None => best.to_string(),
                    };
                    self.misspelt.push(full_best);
                }
                let help = suggest(
                    &name.name,
                    target.properties.iter().map(|(n, _)| n.as_str()),
                )
                .unwrap_or_else(|| {
                    let names: Vec<&str> =
                        target.properties.iter().map(|(n, _)| n.as_str()).collect();
                    format!("fields here: {}", names.join(", "))
                });
                self.err(
                    Diag::error(
                        C::UnknownField,
                        name.span,
                        format!("the target has no field `{full}`"),
                    )
                    .label("unknown field")
                    .help(format!(
                        "{help} (add the field to the target schema if the warehouse takes it)"
                    )),
                );
                None
            }
        }
    }

    fn shape_ok(&mut self, prop: &SchemaNode, what: &str, f: &ast::Field) -> bool {
        let ok = match prop.ty {
            FieldType::Object => false,
            FieldType::Array => what == "a for loop",
            _ => what == "a value",
        };
        if !ok {
            let want = match prop.ty {
                FieldType::Object => "an object: write `name { … }`",
                FieldType::Array => "an array: write `name = for item in <path> { … }`",
                _ => "a single value: write `name = <expression>`",
            };
            self.err(
                Diag::error(
                    C::ShapeMismatch,
                    f.path[0].span,
                    format!(
                        "`{}` is {} but is given {what}",
                        f.path[0].name,
                        prop.ty.as_str()
                    ),
                )
                .label("wrong shape")
                .help(format!("the target wants {want}")),
            );
        }
        ok
    }

    fn missing(
        &mut self,
        schema: &SchemaNode,
        assigned: &[&str],
        prefix: &str,
        span: Option<Span>,
    ) {
        let target = schema.object();
        for r in &target.required {
            let full = if prefix.is_empty() {
                r.clone()
            } else {
                format!("{prefix}.{r}")
            };
            if !assigned.contains(&r.as_str()) && !self.misspelt.contains(&full) {
                let desc = target
                    .property(r)
                    .and_then(|p| p.description.clone())
                    .unwrap_or_default();
                self.err(
                    Diag::error(
                        C::MissingField,
                        span,
                        format!("required field `{full}` is never assigned"),
                    )
                    .label(format!("`{r}` missing here"))
                    .help(if desc.is_empty() {
                        format!("add `{r} = …`")
                    } else {
                        format!("add `{r} = …` ({desc})")
                    }),
                );
            }
        }
    }

    fn lower_loop(
        &mut self,
        bindings: &[(ast::Ident, Expr)],
        body: &[Stmt],
        prop: &SchemaNode,
        full: &str,
        check: FieldCheck,
        span: Span,
    ) -> Loop {
        let outer = (self.in_loop, self.next_local);
        if !self.in_loop {
            self.next_local = 0;
            self.in_loop = true;
        }
        self.scopes.push(Scope::default());
        let mut bs = Vec::new();
        for (name, e) in bindings {
            let (n, t) = self.expr(e);
            // A loop item is an element of what it loops over.
            let elem = match t.strip() {
                Ty::List(Some(node)) => Ty::of_node(node),
                _ => Ty::Any,
            };
            let i = self.next_local;
            self.next_local += 1;
            if let Some(s) = self.scopes.last_mut() {
                s.names
                    .push((name.name.clone(), Binding::Local(i), name.span, elem));
            }
            bs.push((i, n));
        }
        let items = prop.items.as_deref().unwrap_or(prop);
        let mut ops = Vec::new();
        let item = self.lower_local_block(body, items, &format!("{full}[]"), span, &mut ops);
        self.pop_scope();
        // Lets first, each after the lets it reads; then the rest in written order.
        let (lets, rest): (Vec<_>, Vec<_>) = ops
            .into_iter()
            .partition(|(op, _)| matches!(op, BodyOp::Let(..)));
        let mut ordered = order_lets(lets);
        ordered.extend(rest.into_iter().map(|(op, _)| op));
        if !outer.0 {
            self.in_loop = false;
            self.next_local = outer.1;
        }
        Loop {
            bindings: bs,
            body: ordered,
            item,
            check,
            span,
        }
    }

    fn lower_local_block(
        &mut self,
        body: &[Stmt],
        schema: &SchemaNode,
        prefix: &str,
        span: Span,
        ops: &mut Vec<(BodyOp, Vec<u32>)>,
    ) -> Vec<(Box<str>, ItemNode)> {
        self.scopes.push(Scope::default());
        self.declare_lets(body);
        let mut item = Vec::new();
        let mut assigned: Vec<&str> = Vec::new();
        for s in lets_first(body) {
            match s {
                Stmt::Let { name, value, .. } => {
                    let Some(Binding::Local(i)) = self.binding_of(&name.name) else {
                        continue;
                    };
                    self.local_deps.clear();
                    let (n, t) = self.expr(value);
                    self.set_binding_ty(&name.name, t);
                    if let Some(o) = &n.origin {
                        self.let_origin.insert((1, i), o.clone());
                    }
                    let deps = std::mem::take(&mut self.local_deps);
                    ops.push((BodyOp::Let(i, n), [vec![i], deps].concat()));
                }
                Stmt::Require { cond, message, .. } => {
                    let (n, t) = self.expr(cond);
                    self.expect_bool(&t, cond.span);
                    ops.push((BodyOp::Require(n, message.as_str().into()), vec![]));
                }
                Stmt::Field(f) => {
                    let name = f.path[0].name.as_str();
                    let full = format!("{prefix}.{name}");
                    let Some(prop) = self.field_prop(schema, &f.path[0], &full) else {
                        continue;
                    };
                    assigned.push(name);
                    let check = field_check(prop, &full, schema.object().is_required(name));
                    match &f.value {
                        FieldValue::Block(b) => {
                            if prop.ty != FieldType::Object {
                                self.shape_ok(prop, "a block", f);
                                continue;
                            }
                            let sub = self.lower_local_block(b, prop, &full, f.path[0].span, ops);
                            item.push((name.into(), ItemNode::Obj(sub)));
                        }
                        FieldValue::Expr(e) => {
                            if !self.shape_ok(prop, "a value", f) {
                                continue;
                            }
                            let (n, t) = self.expr(e);
                            self.check_assign(&t, &n, prop, &full, e.span, check.required);
                            let i = self.next_local;
                            self.next_local += 1;
                            ops.push((BodyOp::Field(i, n, check), vec![]));
                            item.push((name.into(), ItemNode::Local(i)));
                        }
                        FieldValue::For { bindings, body } => {
                            if !self.shape_ok(prop, "a for loop", f) {
                                continue;
                            }
                            let l = self.lower_loop(bindings, body, prop, &full, check, f.span);
                            let i = self.next_local;
                            self.next_local += 1;
                            ops.push((BodyOp::Loop(i, Box::new(l)), vec![]));
                            item.push((name.into(), ItemNode::Local(i)));
                        }
                    }
                }
            }
        }
        self.missing(schema, &assigned, prefix, Some(span));
        self.pop_scope();
        item
    }

    fn expect_bool(&mut self, t: &Ty, span: Span) {
        if !matches!(t.strip(), Ty::Bool | Ty::Any | Ty::Null) {
            self.err(
                Diag::error(
                    C::TypeMismatch,
                    span,
                    format!("a condition must be true or false, this is {}", t.words()),
                )
                .label("not a condition"),
            );
        }
    }

    fn check_assign(
        &mut self,
        t: &Ty,
        n: &Node,
        prop: &SchemaNode,
        full: &str,
        span: Span,
        required: bool,
    ) {
        if let (Ty::Opt(_), true) = (t, required) {
            self.err(
                Diag::error(C::MaybeAbsent, span, format!("`{full}` is required but this may be absent in a RED order"))
                    .label("may be absent")
                    .help("give a default with `?? …`, or reject such orders first with `require … != null else \"…\"`"),
            );
        }
        if !t.fits(prop.ty) {
            let help = match (t, prop.ty) {
                (Ty::Num { .. }, FieldType::String) => "convert explicitly: `string(…)`",
                (Ty::Str, FieldType::Integer | FieldType::Number) => {
                    "convert explicitly: `number(…)`"
                }
                _ => "map a value of the field's type",
            };
            self.err(
                Diag::error(
                    C::TypeMismatch,
                    span,
                    format!(
                        "`{full}` is {} but this gives {}",
                        prop.ty.as_str(),
                        t.words()
                    ),
                )
                .label(format!("{} here", t.words()))
                .help(help),
            );
            return;
        }
        if let (Some(fu), Some(vu)) = (prop.unit, t.unit()) {
            if fu != vu {
                let help = if fu.dimension() == vu.dimension() {
                    format!("convert it: `convert(…, {fu}, half_up)` (or `half_even`, `down`)")
                } else {
                    format!("`{full}` counts {fu}; {vu} measures something else")
                };
                self.err(
                    Diag::error(
                        C::UnitMismatch,
                        span,
                        format!("`{full}` is counted in {fu} but this amount is in {vu}"),
                    )
                    .label(format!("in {vu}"))
                    .help(help),
                );
                return;
            }
        }
        if let Code::Const(v) = &n.code {
            if prop.ty == FieldType::Integer {
                if let Val::Num(a) = v {
                    if !a.value.fract().is_zero() {
                        self.err(
                            Diag::error(
                                C::TypeMismatch,
                                span,
                                format!("`{full}` is an integer but {} has a fraction", a.value),
                            )
                            .label("not whole")
                            .help("round it: `round(…, half_up)`"),
                        );
                    }
                }
            }
            if let (Some(c), Some(j)) = (&prop.constant, const_json(v)) {
                if *c != j {
                    self.err(
                        Diag::error(
                            C::FixedValue,
                            span,
                            format!("`{full}` is fixed to {c} by the target schema"),
                        )
                        .label(format!("gives {j}"))
                        .help(format!("write `{c}`")),
                    );
                }
            }
            if let (Some(allowed), Some(j)) = (&prop.allowed, const_json(v)) {
                if !allowed.contains(&j) {
                    let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
                    self.err(
                        Diag::error(
                            C::FixedValue,
                            span,
                            format!("`{full}` takes one of {}", list.join(", ")),
                        )
                        .label(format!("gives {j}")),
                    );
                }
            }
        }
    }

    // ---- expressions --------------------------------------------------------------

    fn expr(&mut self, e: &Expr) -> (Node, Ty) {
        let (code, ty) = self.expr_code(e);
        let origin = self.origin(&code);
        let node = Node {
            code,
            span: e.span,
            origin,
        };
        // A source value the contract gives a unit (fen, g) carries it at run time too, so
        // that what `check` assumed is what runs.
        if let (Code::Src(..) | Code::LocalPath(..) | Code::GlobalPath(..), Some(u)) =
            (&node.code, ty.unit())
        {
            let (span, origin) = (node.span, node.origin.clone());
            let code = Code::Call(Func::Tag(u), vec![node]);
            return (Node { code, span, origin }, ty);
        }
        (node, ty)
    }

    /// The first source path a value reads, looking through lets.
    fn origin(&self, c: &Code) -> Option<Box<str>> {
        match c {
            Code::Src(_, t) | Code::Out(_, _, t) => Some(t.clone()),
            Code::LocalPath(_, t) | Code::GlobalPath(_, t) => Some(t.text.clone()),
            Code::Local(i) => self.let_origin.get(&(1, *i)).cloned(),
            Code::Global(g) => self.let_origin.get(&(0, *g)).cloned(),
            Code::Lookup { key, .. } => key.origin.clone(),
            Code::Call(_, args) => args.iter().find_map(|a| a.origin.clone()),
            Code::Unary(_, a) => a.origin.clone(),
            Code::Binary(_, l, r) => l.origin.clone().or_else(|| r.origin.clone()),
            Code::If(c, t, e) => t
                .origin
                .clone()
                .or_else(|| e.origin.clone())
                .or_else(|| c.origin.clone()),
            Code::Const(_) => None,
        }
    }

    fn lookup_name(&mut self, name: &str) -> Option<(Binding, Ty)> {
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

    fn unknown_name(&mut self, id: &ast::Ident) -> (Code, Ty) {
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
        (Code::Const(Val::Null), Ty::Any)
    }

    fn expr_code(&mut self, e: &Expr) -> (Code, Ty) {
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
                (Code::Const(tables::lit_val(l)), lit_ty(l))
            }
            ExprKind::Source(text) => match PathCode::compile(text) {
                Ok(p) => {
                    let ty = self.source_ty(text, e.span);
                    (Code::Src(p, text.as_str().into()), ty)
                }
                Err(msg) => {
                    self.err(
                        Diag::error(C::BadPath, e.span, format!("bad JSONPath `{text}`: {msg}"))
                            .label("cannot compile"),
                    );
                    (Code::Const(Val::Null), Ty::Any)
                }
            },
            ExprKind::Var(id) => {
                if let Some((b, t)) = self.lookup_name(&id.name) {
                    return (
                        match b {
                            Binding::Local(i) => Code::Local(i),
                            Binding::Global(g) => Code::Global(g),
                        },
                        t,
                    );
                }
                if let Some(p) = self.params.iter_mut().find(|p| p.name == id.name) {
                    p.used = true;
                    let t = p.ty.clone();
                    return (Code::Const(p.value.clone().unwrap_or(Val::Null)), t);
                }
                if id.name == "out" {
                    self.err(Diag::error(C::UnknownName, id.span, "`out` alone is the whole request; name a field: `out.orderAmountInfo.totalTax`").label("name a field"));
                    return (Code::Const(Val::Null), Ty::Any);
                }
                self.unknown_name(id)
            }
            ExprKind::VarPath { root, tail } => {
                if root.name == "out" {
                    return self.out_ref(e, tail);
                }
                let t = match tail_segments(tail) {
                    Some(segs) => {
                        let multi = segs.iter().any(crate::run::path::Seg::is_multi);
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
                            return (Code::Const(Val::Null), Ty::Any);
                        }
                    },
                };
                let multi = !t.path.is_single();
                match self.lookup_name(&root.name) {
                    Some((b, root_ty)) => {
                        let start = e.span.start as usize + root.name.len();
                        let ty = self.walk_ty(&root_ty, tail, start, e.span, multi);
                        match b {
                            Binding::Local(i) => (Code::LocalPath(i, Box::new(t)), ty),
                            Binding::Global(g) => (Code::GlobalPath(g, Box::new(t)), ty),
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
                            return (Code::Const(Val::Null), Ty::Any);
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
                        (Code::Unary(*op, Box::new(n)), Ty::Bool)
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
                        if let Code::Const(Val::Num(a)) = &n.code {
                            return (Code::Const(Val::Num(Amount::new(-a.value, a.unit))), t);
                        }
                        (Code::Unary(*op, Box::new(n)), t)
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
                (Code::Binary(*op, Box::new(l), Box::new(r)), ty)
            }
            ExprKind::If { cond, then, els } => {
                let (c, ct) = self.expr(cond);
                self.expect_bool(&ct, cond.span);
                let (t, tt) = self.expr(then);
                let (f, ft) = self.expr(els);
                (
                    Code::If(Box::new(c), Box::new(t), Box::new(f)),
                    Ty::join(tt, ft),
                )
            }
        }
    }

    fn binary_ty(&mut self, op: BinOp, op_span: Span, lt: &Ty, rt: &Ty, ls: Span, rs: Span) -> Ty {
        let (lt, rt) = (lt.strip(), rt.strip());
        // "May be absent" matters only where a value is assigned; here the run rejects it.
        let (lt, rt) = (lt.strip(), rt.strip());
        let is_num = |t: &Ty| matches!(t, Ty::Num { .. } | Ty::Any | Ty::List(_));
        match op {
            BinOp::Coalesce => Ty::join(lt.clone(), rt.clone()),
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
                let int_l = matches!(lt, Ty::Num { int: true, .. });
                let int_r = matches!(rt, Ty::Num { int: true, .. });
                match op {
                    BinOp::Add | BinOp::Sub => Ty::num(lu.or(ru), int_l && int_r),
                    BinOp::Mul => Ty::num(lu.or(ru), int_l && int_r),
                    _ => Ty::num(if ru.is_some() { None } else { lu }, false),
                }
            }
        }
    }

    fn unit_clash(&mut self, op: BinOp, op_span: Span, lt: &Ty, rt: &Ty) {
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

    fn out_ref(&mut self, e: &Expr, tail: &str) -> (Code, Ty) {
        let Some(segs) = tail_segments(tail) else {
            self.err(
                Diag::error(
                    C::BadPath,
                    e.span,
                    "a path into `out` may use only names, indexes and `[*]`",
                )
                .label("unsupported path"),
            );
            return (Code::Const(Val::Null), Ty::Any);
        };
        let mut level: &Vec<(String, Plan)> = &self.out_plan;
        let mut walked = String::from("out");
        for (i, s) in segs.iter().enumerate() {
            let crate::run::path::Seg::Key(k) = s else {
                break;
            };
            walked.push('.');
            walked.push_str(k);
            match level.iter().find(|(n, _)| n == &**k) {
                Some((_, Plan::Slot(g))) => {
                    let g = *g;
                    self.note_global(g);
                    let rest = segs[i + 1..].to_vec();
                    let ty = if rest.iter().any(crate::run::path::Seg::is_multi) {
                        Ty::List(None)
                    } else {
                        Ty::Any
                    };
                    return (Code::Out(g, rest, format!("out{tail}").into()), ty);
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
                    return (Code::Const(Val::Null), Ty::Any);
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
        (Code::Const(Val::Null), Ty::Any)
    }

    fn lookup(
        &mut self,
        table: &ast::Ident,
        key: &Expr,
        column: Option<&ast::Ident>,
    ) -> (Code, Ty) {
        let (k, kt) = self.expr(key);
        if !matches!(kt.strip(), Ty::Str | Ty::Num { .. } | Ty::Any) {
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
            return (Code::Const(Val::Null), Ty::Any);
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
                return (Code::Const(Val::Null), Ty::Any);
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
                    return (Code::Const(Val::Null), Ty::Any);
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
                return (Code::Const(Val::Null), Ty::Any);
            }
        };
        (
            Code::Lookup {
                table: ti as u32,
                key: Box::new(k),
                column: col,
            },
            ty,
        )
    }

    fn call(&mut self, func: &ast::Ident, args: &[Expr], span: Span) -> (Code, Ty) {
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
        let (f, value_args, ty): (Func, &[Expr], Ty) = match name {
            "round" => {
                if !arity(self, 2, 3) {
                    return (Code::Const(Val::Null), Ty::Any);
                }
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
                // The unit is the argument's: check_call_args fills it in.
                (Func::Round(dp, mode), &args[..1], Ty::num(None, dp == 0))
            }
            "convert" => {
                if !arity(self, 2, 3) {
                    return (Code::Const(Val::Null), Ty::Any);
                }
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
                (
                    Func::Convert(unit, mode),
                    &args[..1],
                    Ty::num(Some(unit), mode.is_some()),
                )
            }
            "yuan" | "jiao" | "fen" | "kg" | "g" => {
                if !arity(self, 1, 1) {
                    return (Code::Const(Val::Null), Ty::Any);
                }
                let u = Unit::parse(name).unwrap_or(Unit::Fen);
                (Func::Tag(u), args, Ty::num(Some(u), false))
            }
            _ => {
                let (f, lo, hi, ty) = match name {
                    "first" => (Func::First, 1, 1, Ty::Any),
                    "last" => (Func::Last, 1, 1, Ty::Any),
                    "sum" => (Func::Sum, 1, 1, Ty::num(None, false)),
                    "count" => (Func::Count, 1, 1, Ty::num(None, true)),
                    "min" => (Func::Min, 1, 1, Ty::num(None, false)),
                    "max" => (Func::Max, 1, 1, Ty::num(None, false)),
                    "trim" => (Func::Trim, 1, 1, Ty::Str),
                    "upper" => (Func::Upper, 1, 1, Ty::Str),
                    "lower" => (Func::Lower, 1, 1, Ty::Str),
                    "concat" => (Func::Concat, 1, usize::MAX, Ty::Str),
                    "len" => (Func::Len, 1, 1, Ty::num(None, true)),
                    "substr" => (Func::Substr, 2, 3, Ty::Str),
                    "replace" => (Func::Replace, 3, 3, Ty::Str),
                    "string" => (Func::Str, 1, 1, Ty::Str),
                    "number" => (Func::Number, 1, 1, Ty::num(None, false)),
                    "nonblank" => (Func::Nonblank, 1, 1, Ty::Any),
                    "format_time" => (Func::FormatTime, 2, 2, Ty::Str),
                    "abs" => (Func::Abs, 1, 1, Ty::num(None, false)),
                    _ => {
                        let help = if self.table_info.iter().any(|t| t.name == name) {
                            format!("`{name}` is a table: look up with `{name}[key]`")
                        } else {
                            suggest(name, FUNCTIONS.iter().copied())
                                .unwrap_or_else(|| format!("functions: {}", FUNCTIONS.join(", ")))
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
                        return (Code::Const(Val::Null), Ty::Any);
                    }
                };
                if !arity(self, lo, hi) {
                    return (Code::Const(Val::Null), Ty::Any);
                }
                (f, args, ty)
            }
        };
        let mut nodes = Vec::with_capacity(value_args.len());
        let mut tys = Vec::new();
        for a in value_args {
            let (n, t) = self.expr(a);
            nodes.push(n);
            tys.push((t, a.span));
        }
        let ty = self.check_call_args(f, &tys, ty);
        (Code::Call(f, nodes), ty)
    }

    fn check_call_args(&mut self, f: Func, tys: &[(Ty, Span)], ret: Ty) -> Ty {
        let want_str = matches!(
            f,
            Func::Trim | Func::Upper | Func::Lower | Func::Replace | Func::Substr
        );
        let want_num = matches!(
            f,
            Func::Round(..) | Func::Convert(..) | Func::Tag(_) | Func::Abs | Func::FormatTime
        );
        if let Some((t, s)) = tys.first() {
            let t = t.strip();
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
        match f {
            Func::Round(dp, _) => Ty::num(first_unit, dp == 0),
            Func::Sum | Func::Min | Func::Max | Func::Abs => {
                Ty::num(tys.first().and_then(|(t, _)| t.unit()), false)
            }
            Func::First | Func::Last => match tys.first().map(|(t, _)| t.strip()) {
                Some(Ty::List(Some(elem))) => Ty::of_node(elem),
                Some(Ty::List(None)) | None => Ty::Any,
                Some(t) => t.clone(),
            },
            Func::Nonblank => match tys.first() {
                Some((t, _)) => Ty::Opt(Box::new(t.strip().clone())),
                None => Ty::Any,
            },
            _ => ret,
        }
    }

    // ---- whole-program checks ----------------------------------------------------

    fn cycles(&mut self) {
        let n = self.deps.len().min(self.global_meta.len());
        // 0 new, 1 on the stack, 2 done
        let mut state = vec![0u8; n];
        let mut reported = false;
        for start in 0..n {
            if state[start] != 0 || reported {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some((node, i)) = stack.last().copied() {
                let deps = &self.deps[node];
                if i < deps.len() {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    let next = deps[i] as usize;
                    if next >= n {
                        continue;
                    }
                    if state[next] == 1 {
                        let pos = stack.iter().position(|(x, _)| *x == next).unwrap_or(0);
                        let names: Vec<String> = stack[pos..]
                            .iter()
                            .map(|(x, _)| self.global_meta[*x].name.clone())
                            .chain(std::iter::once(self.global_meta[next].name.clone()))
                            .collect();
                        // Point at the member the checked file itself wrote, if any.
                        let root = self.m.root;
                        let span = stack[pos..]
                            .iter()
                            .map(|(x, _)| self.global_meta[*x].span)
                            .find(|s| s.file == root)
                            .unwrap_or(self.global_meta[next].span);
                        self.diags.push(
                            Diag::error(
                                C::TargetCycle,
                                span,
                                format!("these read each other in a circle: {}", names.join(" → ")),
                            )
                            .label("part of the circle")
                            .help(
                                "one of them must be computed from the order, not from the others",
                            ),
                        );
                        reported = true;
                        break;
                    }
                    if state[next] == 0 {
                        state[next] = 1;
                        stack.push((next, 0));
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
    }

    fn unused(&mut self) {
        let root = self.m.root;
        for p in &self.params {
            if !p.used && p.span.file == root {
                self.diags.push(
                    Diag::warning(
                        C::Unused,
                        p.span,
                        format!("param `{}` is never read", p.name),
                    )
                    .label("unused"),
                );
            }
        }
        for t in &self.table_info {
            if !t.used && t.span.file == root {
                self.diags.push(
                    Diag::warning(
                        C::Unused,
                        t.span,
                        format!("table `{}` is never read", t.name),
                    )
                    .label("unused"),
                );
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum CSeg {
    Key(String),
    Index,
    Each,
    /// Recursive descent and the like: the checker stops following.
    Opaque,
}

/// Splits a path tail (`.a[0].b[*]`, `.a[?(@.t == 'x')].b`) into segments with their byte
/// offsets, for the checker; `None` when it cannot.
fn check_segments(tail: &str) -> Option<Vec<(CSeg, usize)>> {
    let b = tail.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' if b.get(i + 1) == Some(&b'.') => {
                out.push((CSeg::Opaque, i));
                return Some(out);
            }
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                let name = &tail[start..j];
                out.push((
                    if name == "*" {
                        CSeg::Each
                    } else {
                        CSeg::Key(name.to_string())
                    },
                    start,
                ));
                i = j;
            }
            b'[' => {
                // Find the matching `]`, skipping quoted text and nested brackets.
                let (mut depth, mut j, mut quote) = (0usize, i, None::<u8>);
                while j < b.len() {
                    let c = b[j];
                    match quote {
                        Some(_) if c == b'\\' => j += 1,
                        Some(q) if c == q => quote = None,
                        Some(_) => {}
                        None if c == b'\'' || c == b'"' => quote = Some(c),
                        None if c == b'[' => depth += 1,
                        None if c == b']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        None => {}
                    }
                    j += 1;
                }
                let inner = tail.get(i + 1..j)?.trim();
                let seg = if inner == "*"
                    || inner.starts_with('?')
                    || inner.contains(':')
                    || inner.contains(',')
                {
                    CSeg::Each
                } else if inner.parse::<i64>().is_ok() {
                    CSeg::Index
                } else if inner.len() >= 2 && (inner.starts_with('\'') || inner.starts_with('"')) {
                    CSeg::Key(inner[1..inner.len() - 1].to_string())
                } else {
                    CSeg::Opaque
                };
                out.push((seg, i + 1));
                i = j + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A block's statements, its lets first, so that what reads a let knows its type
/// wherever the let stands.
fn lets_first(body: &[Stmt]) -> impl Iterator<Item = &Stmt> {
    let is_let = |s: &&Stmt| matches!(s, Stmt::Let { .. });
    body.iter()
        .filter(is_let)
        .chain(body.iter().filter(move |s| !is_let(s)))
}

/// Orders loop lets so each comes after the lets it reads (a cycle keeps written order;
/// `check` reports it as an unknown value at run time).
fn order_lets(lets: Vec<(BodyOp, Vec<u32>)>) -> Vec<BodyOp> {
    let ids: Vec<u32> = lets
        .iter()
        .map(|(_, d)| d.first().copied().unwrap_or(u32::MAX))
        .collect();
    let mut done = vec![false; lets.len()];
    let mut order = Vec::with_capacity(lets.len());
    for _ in 0..lets.len() {
        let mut progressed = false;
        for i in 0..lets.len() {
            if done[i] {
                continue;
            }
            let ready = lets[i].1.iter().skip(1).all(|d| {
                ids.iter()
                    .position(|x| x == d)
                    .is_none_or(|j| done[j] || j == i)
            });
            if ready {
                done[i] = true;
                order.push(i);
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    for (i, d) in done.iter().enumerate() {
        if !d {
            order.push(i);
        }
    }
    let mut slots: Vec<Option<BodyOp>> = lets.into_iter().map(|(op, _)| Some(op)).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn field_check(prop: &SchemaNode, full: &str, required: bool) -> FieldCheck {
    FieldCheck {
        name: full.into(),
        ty: prop.ty,
        required,
        unit: prop.unit,
        constant: prop.constant.clone(),
        allowed: prop.allowed.clone(),
        minimum: prop.minimum,
        pii: prop.pii,
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
