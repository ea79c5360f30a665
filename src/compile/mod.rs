//! Checked, resolved, lowered: a merged [`Mapping`] becomes a [`Program`], and every
//! mistake found on the way becomes a [`Diag`] (all of them, not only the first).

mod block;
pub mod conditions;
mod expr;
mod source;
pub mod tables;
pub mod types;

use crate::diag::{closest, suggest, Code as C, Diag};
use crate::load::Mapping;
use crate::money::{Amount, Rounding, Unit};
use crate::path::{tail_segments, PathCode};
/// The compiled program moved to `crate::program`; named here too, as callers know it.
pub use crate::program::Program;
use crate::program::{
    BodyOp, FieldCheck, Func, Global, ItemNode, Loop, Node, Op, OutNode, Require, Settings, Table,
    Tail,
};
use crate::schema::{FieldType, Schema, SchemaNode};
use crate::syntax::ast::{self, BinOp, Expr, ExprKind, FieldValue, Lit, Stmt, TypeName, UnOp};
use crate::syntax::Span;
use crate::value::Val;
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
    /// The mapping root (`--root`); `None`: the parent of the mapping's folder.
    pub root: Option<PathBuf>,
}

const SETTINGS: &[&str] = &["msg_type", "logistic_provider_id", "to_code", "order_id"];

pub fn compile(m: &Mapping, opts: &Options) -> (Option<Program>, Vec<Diag>) {
    // Checking, lowering and the analyses after it recurse once per expression level.
    crate::syntax::depth::with_levels(
        crate::syntax::depth::MAX_EXPR_DEPTH + 2 * crate::syntax::depth::MAX_BRACKETS,
        || compile_deep(m, opts),
    )
}

impl<'a> Cx<'a> {
    /// A compiler over `m` with nothing collected yet (a mapping, or a routes file's
    /// conditions).
    pub(crate) fn new(m: &'a Mapping, opts: &'a Options) -> Cx<'a> {
        Cx {
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
            target_root: None,
            deps: Vec::new(),
            collecting: Vec::new(),
            local_deps: Vec::new(),
            next_local: 0,
            in_loop: false,
            used_lets: HashMap::new(),
            misspelt: Vec::new(),
            let_origin: HashMap::new(),
            source: None,
            depth: 0,
            max_depth: 0,
        }
    }
}

fn compile_deep(m: &Mapping, opts: &Options) -> (Option<Program>, Vec<Diag>) {
    let mut cx = Cx::new(m, opts);
    let schema = cx.schema();
    cx.source = cx.source_schema();
    cx.params();
    cx.tables();
    let settings = cx.settings_consts();
    let mut root = Vec::new();
    if let Some(schema) = &schema {
        cx.out_plan = plan(&m.body, &schema.root, &mut cx.global_meta);
        cx.target_root = Some(schema.root.clone());
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
        max_depth,
        source,
        ..
    } = cx;
    if diags.iter().any(Diag::is_error) || schema.is_none() {
        return (None, diags);
    }
    let globals: Option<Vec<Global>> = globals.into_iter().collect();
    let Some(globals) = globals else {
        return (None, diags);
    };
    let mut prog = Program {
        sources: m.sources.clone(),
        settings,
        order_id,
        globals,
        requires,
        root,
        tables: tables.into_iter().flatten().collect(),
        input: Default::default(),
        writes: Default::default(),
        // Blocks and loops nest too, each at most one bracket deep.
        depth: max_depth + 2 * crate::syntax::depth::MAX_BRACKETS,
        personal_out: Vec::new(),
        source_pii: match &source {
            Some(s) => crate::schema::PiiPaths::of_schema(s),
            None => crate::schema::PiiPaths::red().clone(),
        },
    };
    prog.personal_out = personal_out_reads(&prog);
    (Some(prog), diags)
}

/// The texts of `out.…` reads whose target field is personal (`x-pii`).
fn personal_out_reads(p: &Program) -> Vec<Box<str>> {
    let mut out: Vec<Box<str>> = Vec::new();
    p.each_node(&mut |n| {
        if let Op::Out(g, rest, text) = &n.code {
            if out_is_personal(p, *g, rest) && !out.contains(text) {
                out.push(text.clone());
            }
        }
    });
    out
}

fn out_is_personal(p: &Program, g: u32, rest: &[crate::path::Seg]) -> bool {
    let last = rest.iter().rev().find_map(|s| match s {
        crate::path::Seg::Key(k) => Some(&**k),
        _ => None,
    });
    match p.globals.get(g as usize) {
        Some(Global::Field(_, c)) => c.pii.is_some(),
        Some(Global::Loop(l)) => last.is_some_and(|k| loop_field_personal(l, k)),
        _ => false,
    }
}

/// Whether a field named `key` of a loop's items (or of a loop inside it) is personal.
fn loop_field_personal(l: &Loop, key: &str) -> bool {
    l.body.iter().any(|op| match op {
        BodyOp::Field(_, _, c) => c.pii.is_some() && c.name.rsplit(['.', ']']).next() == Some(key),
        BodyOp::Loop(_, inner) => loop_field_personal(inner, key),
        _ => false,
    })
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
        let prop = schema.field(&name);
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
    /// The target contract's root: an `out.…` read has its field's type and unit.
    target_root: Option<SchemaNode>,
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
    /// Expression levels open now, and the most seen: how deep the evaluator recurses.
    depth: usize,
    max_depth: usize,
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
        Lit::Num(d, u) => {
            let unit = u.as_deref().and_then(Unit::parse);
            Ty::num(unit, Ty::whole_of(*d, unit))
        }
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
        self.read_schema(path, *span)
    }

    /// A schema the mapping names, read within the mapping root.
    fn read_schema(&mut self, path: &std::path::Path, span: Span) -> Option<Schema> {
        let read = crate::load::read_text_inside(&self.m.within, path, crate::load::MAX_TEXT_BYTES)
            .map_err(|e| {
                let shown = crate::load::display_name(path);
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

    fn source_schema(&mut self) -> Option<Schema> {
        let (path, span) = self.m.source.as_ref()?;
        self.read_schema(path, *span)
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

    // ---- statements -------------------------------------------------------------

    // ---- expressions --------------------------------------------------------------

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
        limits: prop.limits,
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
