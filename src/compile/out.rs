//! The request's top-level fields, placed before any expression is lowered, and what
//! reads them back (`out.…`): their type and unit from the target contract, and which
//! of those reads show personal data.

use super::{
    suggest, tail_segments, BodyOp, Cx, Diag, Expr, FieldType, FieldValue, Global, Loop, Op,
    Program, SchemaNode, Span, Stmt, Ty, Val, C,
};
use std::collections::{HashMap, HashSet};

/// Where each top-level (not looped) field lives, decided before any expression is
/// lowered so that `out.…` can point at fields defined further down.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    Slot(u32),
    Obj(Fields),
}

/// The fields of one block of the plan, in order, each found by name in one step.
#[derive(Debug, Clone, Default)]
pub(super) struct Fields {
    list: Vec<(String, Plan)>,
    index: HashMap<String, usize>,
}

impl Fields {
    fn push(&mut self, name: String, p: Plan) {
        self.index.entry(name.clone()).or_insert(self.list.len());
        self.list.push((name, p));
    }
    /// The plan of the field `name` (the first of that name).
    pub(super) fn get(&self, name: &str) -> Option<&Plan> {
        self.index.get(name).map(|&i| &self.list[i].1)
    }
    fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|(n, _)| n.as_str())
    }
}

#[derive(Debug, Clone)]
pub(super) struct GlobalMeta {
    pub(super) name: String,
    pub(super) span: Span,
}

pub(super) fn plan(body: &[Stmt], schema: &SchemaNode, meta: &mut Vec<GlobalMeta>) -> Fields {
    let mut out = Fields::default();
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
        out.push(name, p);
    }
    out
}

impl<'m> Cx<'m> {
    /// The contract's node of a target field named `out.a.b` (through no list).
    pub(super) fn target_field(&self, walked: &str) -> Option<&crate::schema::SchemaNode> {
        let mut node = self.target_root.as_ref()?;
        for k in walked.strip_prefix("out.")?.split('.') {
            node = node.object().field(k)?;
        }
        Some(node)
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
        let mut level: &Fields = &self.out_plan;
        let mut walked = String::from("out");
        for (i, s) in segs.iter().enumerate() {
            let crate::path::Seg::Key(k) = s else {
                break;
            };
            walked.push('.');
            walked.push_str(k);
            match level.get(k) {
                Some(Plan::Slot(g)) => {
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
                Some(Plan::Obj(sub)) => level = sub,
                None => {
                    let help = suggest(k, level.names())
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
}

/// The texts of `out.…` reads whose target field is personal (`x-pii`).
pub(super) fn personal_out_reads(p: &Program) -> Vec<Box<str>> {
    let mut out: Vec<Box<str>> = Vec::new();
    let mut seen: HashSet<Box<str>> = HashSet::new();
    p.each_node(&mut |n| {
        if let Op::Out(g, rest, text) = &n.code {
            if out_is_personal(p, *g, rest) && seen.insert(text.clone()) {
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
