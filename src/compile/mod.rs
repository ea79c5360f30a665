//! Checked, resolved, lowered: a merged [`Mapping`] becomes a [`Program`], and every
//! mistake found on the way becomes a [`Diag`] (all of them, not only the first).

mod assign;
mod blame;
mod block;
mod call;
pub mod conditions;
mod decls;
mod expr;
mod lookup;
mod names;
mod out;
mod source;
pub mod tables;
pub mod types;
mod whole;

use crate::diag::{closest, suggest, Code as C, Diag};
use crate::load::Mapping;
use crate::money::{Amount, Rounding, Unit};
use crate::path::{tail_segments, PathCode};
use crate::program::{
    BodyOp, FieldCheck, Func, Global, ItemNode, Loop, Node, Op, OutNode, Program, Require,
    Settings, Table, Tail,
};
use crate::schema::{FieldType, Schema, SchemaNode};
use crate::syntax::ast::{self, BinOp, Expr, ExprKind, FieldValue, Lit, Stmt, TypeName, UnOp};
use crate::syntax::Span;
use crate::value::Val;
use names::{Binding, Scope};
use out::{personal_out_reads, plan, Fields, GlobalMeta, Plan};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;
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
            param_at: HashMap::new(),
            table_at: HashMap::new(),
            tables: Vec::new(),
            table_info: Vec::new(),
            globals: Vec::new(),
            global_meta: Vec::new(),
            scopes: Vec::new(),
            requires: Vec::new(),
            out_plan: Fields::default(),
            target_root: None,
            deps: Vec::new(),
            collecting: Vec::new(),
            local_deps: Vec::new(),
            next_local: 0,
            in_loop: false,
            used_lets: HashMap::new(),
            misspelt: HashSet::new(),
            let_origin: HashMap::new(),
            source: None,
            source_root: None,
            depth: 0,
            max_depth: 0,
        }
    }
}

fn compile_deep(m: &Mapping, opts: &Options) -> (Option<Program>, Vec<Diag>) {
    let mut cx = Cx::new(m, opts);
    let schema = cx.schema();
    let source = cx.source_schema();
    cx.set_source(source);
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
    /// Where each param's and table's name first stands in `params` and `table_info`.
    param_at: HashMap<String, usize>,
    table_at: HashMap<String, usize>,
    tables: Vec<Option<Table>>,
    table_info: Vec<TableInfo>,
    globals: Vec<Option<Global>>,
    global_meta: Vec<GlobalMeta>,
    scopes: Vec<Scope>,
    requires: Vec<Require>,
    out_plan: Fields,
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
    misspelt: HashSet<String>,
    let_origin: HashMap<(u32, u32), Box<str>>,
    /// The contract of the input, when the mapping names one.
    source: Option<Schema>,
    /// Its root as a type, made once (not once per `$` path read).
    source_root: Option<Rc<Ty>>,
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
    pub(super) fn err(&mut self, d: Diag) {
        self.diags.push(d);
    }

    /// The contract of the input, read by every `$` path.
    pub(super) fn set_source(&mut self, s: Option<Schema>) {
        self.source_root = s
            .as_ref()
            .map(|s| Rc::new(Ty::Obj(Some(Box::new(s.root.clone())))));
        self.source = s;
    }

    /// The param of that name.
    fn param(&mut self, name: &str) -> Option<&mut ParamInfo> {
        let i = *self.param_at.get(name)?;
        self.params.get_mut(i)
    }

    /// Where the table of that name is in `table_info` (and `tables`).
    fn table(&self, name: &str) -> Option<usize> {
        self.table_at.get(name).copied()
    }
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
