//! `explain`'s tracer ([`Explain`]): told of each field as the evaluator sets it, and of
//! the first thing that failed, it keeps the field's steps down to the order's own
//! fields, evaluating each sub-expression again where the evaluator is ([`Scope::probe`]).

use super::blocks::{Block, LetBlock, More, Step};
use crate::pii::{kind_of, show};
use crate::program::{BodyOp, FieldCheck, Func, Global, Loop, Node, Op, Program};
use crate::run::error::Fail;
use crate::run::trace::{Scope, Trace};
use crate::schema::Pii;
use crate::syntax::ast::BinOp;
use crate::syntax::Span;
use crate::value::Val;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// What `explain` collects while the order is evaluated.
#[derive(Default)]
pub(super) struct Explain {
    pub(super) fields: Vec<Block>,
    seen: HashSet<String>,
    pub(super) lets: HashMap<String, LetBlock>,
    /// The first thing that failed: the cause of a rejection (later failures follow from it).
    pub(super) failure: Option<Block>,
    /// Evaluating again for a trace: what fails there is no cause of the order's rejection.
    tracing: bool,
}

impl<'a> Trace<'a> for Explain {
    // Explaining visits every field, fixed ones too.
    const BUILDS: bool = true;
    const FAILURES: bool = true;

    /// Keeps how a field got its value: the mapping line, then each step with its value.
    fn field_done(at: &mut impl Scope<'a, Self>, n: &'a Node, c: &'a FieldCheck, v: &Val<'a>) {
        let name = at.field_name(&c.name);
        if at.tracer().seen.contains(&name) {
            return;
        }
        let pii = c.pii.or_else(|| kind_of(at.program(), n));
        let value = show(v, pii);
        let b = block(at, name.clone(), value, n, pii, false);
        let ex = at.tracer();
        ex.seen.insert(name);
        ex.fields.push(b);
    }

    /// Keeps the steps of a field that failed, if it is the first thing that failed.
    fn field_failed(at: &mut impl Scope<'a, Self>, n: &'a Node, c: &'a FieldCheck, f: &Fail) {
        if !first_failure(at.tracer()) {
            return;
        }
        let name = at.field_name(&c.name);
        let pii = c.pii.or_else(|| kind_of(at.program(), n));
        let value = format!("(fails: {})", f.message);
        let b = block(at, name, value, n, pii, false);
        at.tracer().failure = Some(b);
    }

    /// Keeps the steps of a `require` that rejected the order (or failed) or of a loop's
    /// `let` that failed, if it is the first thing that failed.
    fn rule_failed(at: &mut impl Scope<'a, Self>, cond: &'a Node, f: &Fail) {
        if !first_failure(at.tracer()) {
            return;
        }
        let mut name = line_of(at.program(), cond.span);
        if let Some(l) = at.current_loop() {
            let item = at.field_name(&format!("{}[]", l.check.name));
            name = format!("{item}: {name}");
        }
        let value = f.message.clone();
        let b = block(at, name, value, cond, None, true);
        at.tracer().failure = Some(b);
    }
}

/// Whether a failure now is the cause of the order's rejection (nothing failed before,
/// not evaluating again for a trace).
fn first_failure(ex: &Explain) -> bool {
    ex.failure.is_none() && !ex.tracing
}

fn block<'a>(
    at: &mut impl Scope<'a, Explain>,
    name: String,
    value: String,
    n: &'a Node,
    pii: Option<Pii>,
    rule: bool,
) -> Block {
    let set_at = at.program().sources.locate(n.span);
    let was = std::mem::replace(&mut at.tracer().tracing, true);
    let mut steps = Vec::new();
    steps_of(at, n, 1, pii, &mut steps);
    at.tracer().tracing = was;
    Block {
        name,
        value,
        at: set_at,
        steps,
        rule,
    }
}

/// The steps of `n` at `depth`: each sub-expression worth showing with its value, the
/// concrete path into the order it reads, the lets and fields it reads.
fn steps_of<'a>(
    at: &mut impl Scope<'a, Explain>,
    n: &'a Node,
    depth: usize,
    pii: Option<Pii>,
    steps: &mut Vec<Step>,
) {
    if depth > 16 {
        return;
    }
    let p = at.program();
    let text = snippet(p, n.span);
    // A step's own kind first: a phone read inside a name field is masked as a phone.
    let pii = kind_of(p, n).or(pii);
    // Each step's value first, before what it reads is looked at.
    let v = match &n.code {
        Op::Const(_) | Op::Unary(..) => String::new(),
        _ => match at.probe(n) {
            Ok(v) => show(&v, pii),
            // Computed again at the next step: its own message, not "in a circle".
            Err(f) => format!("(fails: {})", f.message),
        },
    };
    let step = |text: String, value: String, source: Option<String>, more: More| Step {
        depth,
        text,
        value,
        source,
        more,
    };
    match &n.code {
        Op::Const(_) => {}
        Op::Src(..) => {
            let source = match at.probe(n).ok() {
                Some(Val::Json(j)) => path_of(at.doc(), j),
                _ => None,
            };
            steps.push(step(text, v, source, More::None));
        }
        Op::LocalPath(i, t) => {
            let source = match at.local(*i) {
                Val::Json(j) => path_of(at.doc(), j).map(|p| format!("{p}{}", tail_of(&t.text))),
                _ => None,
            };
            steps.push(step(text, v, source, More::None));
        }
        Op::GlobalPath(g, t) => {
            let source = match at.probe_global(*g).ok() {
                Some(Val::Json(j)) => {
                    path_of(at.doc(), j).map(|p| format!("{p}{}", tail_of(&t.text)))
                }
                _ => None,
            };
            steps.push(step(text, v, source, More::None));
        }
        Op::Out(_, _, path) => {
            let want = path.strip_prefix("out.").unwrap_or(path).to_string();
            steps.push(step(text, v, None, More::Fields(want)));
        }
        Op::Local(i) => {
            let source = match at.local(*i) {
                Val::Json(j) => path_of(at.doc(), j),
                _ => None,
            };
            match let_node(at.current_loop(), *i) {
                Some(def) => {
                    let key = let_key(at, *i);
                    keep_let(at, &key, def, pii);
                    steps.push(step(text.clone(), v, source, More::Let(key, text)));
                }
                None => steps.push(step(text, v, source, More::None)),
            }
        }
        Op::Global(g) => match p.globals.get(*g as usize) {
            Some(Global::Let(def)) => {
                let key = format!("#{g}");
                let source = match at.probe_global(*g).ok() {
                    Some(Val::Json(j)) => path_of(at.doc(), j),
                    _ => None,
                };
                keep_let(at, &key, def, pii);
                steps.push(step(text.clone(), v, source, More::Let(key, text)));
            }
            _ => steps.push(step(text, v, None, More::None)),
        },
        Op::Lookup { key, .. } => {
            steps.push(step(text, v, None, More::None));
            steps_of(at, key, depth + 1, pii, steps);
        }
        // An implicit unit (`good.taxPerSku` of a `fen` field): one step, the amount's.
        Op::Call(Func::Tag(_), args) if args.len() == 1 && snippet(p, args[0].span) == text => {
            let first = steps.len();
            steps_of(at, &args[0], depth, pii, steps);
            if let Some(s) = steps.get_mut(first) {
                s.value = v;
            }
        }
        Op::Call(_, args) => {
            steps.push(step(text, v, None, More::None));
            for a in args {
                steps_of(at, a, depth + 1, pii, steps);
            }
        }
        Op::Unary(_, a) => steps_of(at, a, depth, pii, steps),
        Op::Binary(op, l, r) => {
            steps.push(step(text, v, None, More::None));
            steps_of(at, l, depth + 1, pii, steps);
            // The right side only where it was evaluated: `??` of a present value,
            // `and`/`or` decided by the left side, never read it.
            let skip = match op {
                BinOp::Coalesce => {
                    !matches!(at.probe(l).ok(), Some(Val::Null))
                        && !matches!(at.probe(l).ok(), Some(Val::List(x)) if x.is_empty())
                }
                BinOp::And => matches!(at.probe(l).ok(), Some(Val::Bool(false))),
                BinOp::Or => matches!(at.probe(l).ok(), Some(Val::Bool(true))),
                _ => false,
            };
            if !skip {
                steps_of(at, r, depth + 1, pii, steps);
            }
        }
        Op::If(c, t, e) => {
            steps.push(step(text, v, None, More::None));
            steps_of(at, c, depth + 1, pii, steps);
            let taken = matches!(at.probe(c).ok(), Some(Val::Bool(true)));
            steps_of(at, if taken { t } else { e }, depth + 1, pii, steps);
        }
    }
}

/// Keeps the derivation of a let under `key`, the first time it is met.
fn keep_let<'a>(at: &mut impl Scope<'a, Explain>, key: &str, def: &'a Node, pii: Option<Pii>) {
    if at.tracer().lets.contains_key(key) {
        return;
    }
    let def_text = snippet(at.program(), def.span);
    // Placeholder first: a let met again inside its own derivation is not re-expanded.
    at.tracer().lets.insert(
        key.to_string(),
        LetBlock {
            def: def_text.clone(),
            steps: Vec::new(),
        },
    );
    let mut steps = Vec::new();
    steps_of(at, def, 1, pii, &mut steps);
    at.tracer().lets.insert(
        key.to_string(),
        LetBlock {
            def: def_text,
            steps,
        },
    );
}

/// Which let a local of the current loop item is: the loop, the item, the local.
fn let_key<'a>(at: &impl Scope<'a, Explain>, i: u32) -> String {
    let l = at.current_loop().map_or("", |l| &*l.check.name);
    format!("{}/{i}", at.field_name(&format!("{l}[]")))
}

/// The mapping text from the start of `span`'s line to its end, on one line
/// (`let rate = goods[…]`, `require qty >= 1`).
fn line_of(p: &Program, span: Span) -> String {
    let before = p.sources.snippet(Span {
        file: span.file,
        start: 0,
        end: span.start,
    });
    let start = before.rfind('\n').map_or(0, |i| i + 1) as u32;
    let whole = Span { start, ..span };
    let text = snippet(p, whole);
    match text.find(" else ") {
        Some(i) if text.starts_with("require") => text[..i].to_string(),
        _ => text,
    }
}

/// Mapping text of a span on one line.
fn snippet(p: &Program, span: Span) -> String {
    p.sources
        .snippet(span)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `let` of loop `l` (the current one) that fills local `i`.
fn let_node(l: Option<&Loop>, i: u32) -> Option<&Node> {
    fn find(l: &Loop, i: u32) -> Option<&Node> {
        l.body.iter().find_map(|op| match op {
            BodyOp::Let(j, n) if *j == i => Some(n),
            BodyOp::Loop(_, inner) => find(inner, i),
            _ => None,
        })
    }
    l.and_then(|l| find(l, i))
}

/// The concrete path (`$.detail.skuList[0].skuDetailList[1]`) of a part of `root`, found
/// by address: loop items and lets hold parts of the order itself, not copies.
fn path_of(root: &Value, target: &Value) -> Option<String> {
    fn walk(v: &Value, t: &Value, path: &mut String) -> bool {
        if std::ptr::eq(v, t) {
            return true;
        }
        let len = path.len();
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        let _ = write!(path, ".{k}");
                    } else {
                        let _ = write!(path, "[{k:?}]");
                    }
                    if walk(x, t, path) {
                        return true;
                    }
                    path.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let _ = write!(path, "[{i}]");
                    if walk(x, t, path) {
                        return true;
                    }
                    path.truncate(len);
                }
            }
            _ => {}
        }
        false
    }
    let mut path = String::from("$");
    walk(root, target, &mut path).then_some(path)
}

/// The part of a variable path after the variable's name (`.taxPerSku` of `good.taxPerSku`).
fn tail_of(text: &str) -> &str {
    text.find(['.', '[']).map_or("", |i| &text[i..])
}
