//! Laying statements over a body: a field assigned again replaces the first in place, a
//! block merges into it, a named rule replaces the rule of that name, a `drop` takes one
//! away. Each block being merged keeps where each of its names stands, so a file of N
//! statements merges in time linear in N (a search of the block per statement made
//! 40,000 free keys take seconds).

use crate::diag::{suggest, Code, Diag};
use crate::syntax::ast::{self, FieldValue, Ident, Stmt};
use std::collections::{HashMap, VecDeque};

/// How a statement is laid over a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Gathering one file's own statements: a second assignment is a mistake.
    Same,
    /// A file that uses none onto the empty mapping.
    Base,
    /// A file that uses others onto what they built: the override.
    Over,
}

/// A block's statements while statements are laid over them ([`Body::merge`]): a dropped
/// one leaves a hole, and each name maps to the places it stands at, the first first.
/// Within one file ([`Layer::Same`]) a second assignment of one field (in any block) is an
/// error and `a.b.c = e` is `a { b { c = e } }`; across a `use` ([`Layer::Over`]) it is the
/// override, a named rule replaces the rule of that name in place and a `drop` removes one.
#[derive(Debug, Default)]
pub struct Body {
    slots: Vec<Option<Slot>>,
    fields: HashMap<String, VecDeque<usize>>,
    lets: HashMap<String, usize>,
    rules: HashMap<String, VecDeque<usize>>,
}

#[derive(Debug)]
enum Slot {
    Stmt(Stmt),
    /// A field whose value is a block or a loop, with its statements taken out into a
    /// body of their own.
    Nest(ast::Field, Body),
}

impl Slot {
    fn field_name(&self) -> Option<&str> {
        match self {
            Slot::Stmt(Stmt::Field(f)) | Slot::Nest(f, _) => Some(&f.path[0].name),
            _ => None,
        }
    }
    fn rule_name(&self) -> Option<&str> {
        match self {
            Slot::Stmt(Stmt::Require { name: Some(n), .. }) => Some(&n.name),
            _ => None,
        }
    }
}

impl Body {
    /// A body of statements already merged (taken as they are).
    pub fn of(stmts: Vec<Stmt>) -> Body {
        let mut b = Body::default();
        for s in stmts {
            let slot = Body::slot_of(s);
            b.push(slot);
        }
        b
    }

    /// The statements of a field's block or loop body as they come in: within one file
    /// each is merged (a second assignment is said, dotted paths are split); across a
    /// `use` a new block is taken as its file merged it.
    fn build(stmts: Vec<Stmt>, layer: Layer, diags: &mut Vec<Diag>) -> Body {
        if layer != Layer::Same {
            return Body::of(stmts);
        }
        let mut b = Body::default();
        for s in stmts {
            b.merge(s, layer, diags);
        }
        b
    }

    fn slot_of(s: Stmt) -> Slot {
        match s {
            Stmt::Field(f) => Body::field_slot(f, Body::of),
            s => Slot::Stmt(s),
        }
    }

    /// A field as a slot: a block or loop body goes into a body of its own.
    fn field_slot(mut f: ast::Field, body: impl FnOnce(Vec<Stmt>) -> Body) -> Slot {
        match &mut f.value {
            FieldValue::Block(b) | FieldValue::For { body: b, .. } => {
                let inner = body(std::mem::take(b));
                Slot::Nest(f, inner)
            }
            FieldValue::Expr(_) => Slot::Stmt(Stmt::Field(f)),
        }
    }

    fn push(&mut self, slot: Slot) {
        let i = self.slots.len();
        if let Some(n) = slot.field_name() {
            self.fields.entry(n.to_string()).or_default().push_back(i);
        } else if let Some(n) = slot.rule_name() {
            self.rules.entry(n.to_string()).or_default().push_back(i);
        } else if let Slot::Stmt(Stmt::Let { name, .. }) = &slot {
            self.lets.entry(name.name.clone()).or_insert(i);
        }
        self.slots.push(Some(slot));
    }

    fn field_at(&self, name: &str) -> Option<usize> {
        self.fields.get(name).and_then(|q| q.front().copied())
    }

    fn rule_at(&self, name: &str) -> Option<usize> {
        self.rules.get(name).and_then(|q| q.front().copied())
    }

    /// Takes away the field or rule at `i` (the first of its name: the one found).
    fn remove(&mut self, i: usize) {
        let Some(slot) = self.slots[i].take() else {
            return;
        };
        let (map, name) = match (slot.field_name(), slot.rule_name()) {
            (Some(n), _) => (&mut self.fields, n),
            (_, Some(n)) => (&mut self.rules, n),
            _ => return,
        };
        if let Some(q) = map.get_mut(name) {
            q.retain(|&j| j != i);
            if q.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Lays one statement over the body.
    pub fn merge(&mut self, s: Stmt, layer: Layer, diags: &mut Vec<Diag>) {
        let same_file = layer == Layer::Same;
        match s {
            Stmt::Field(mut f) if f.path.len() > 1 => {
                // `a.b.c = e` is `a { b.c = e }`.
                let head = f.path.remove(0);
                let span = f.span;
                let inner = Stmt::Field(f);
                self.merge(
                    Stmt::Field(ast::Field {
                        path: vec![head],
                        value: FieldValue::Block(vec![inner]),
                        span,
                    }),
                    layer,
                    diags,
                );
            }
            Stmt::Field(f) => self.merge_field(f, layer, diags),
            Stmt::Let { name, value, span } => match self.lets.get(&name.name).copied() {
                Some(i) => {
                    if same_file {
                        diags.push(
                            Diag::error(
                                Code::Duplicate,
                                name.span,
                                format!("let `{}` is defined twice in this block", name.name),
                            )
                            .label("second definition"),
                        );
                    }
                    self.slots[i] = Some(Slot::Stmt(Stmt::Let { name, value, span }));
                }
                None => self.push(Slot::Stmt(Stmt::Let { name, value, span })),
            },
            Stmt::Require {
                name: Some(name),
                cond,
                message,
                span,
            } if !same_file => {
                let at = self.rule_at(&name.name);
                let rule = Slot::Stmt(Stmt::Require {
                    name: Some(name.clone()),
                    cond,
                    message,
                    span,
                });
                match at {
                    // In place: the rules keep the order the used file gave them.
                    Some(i) => self.slots[i] = Some(rule),
                    None if layer == Layer::Over => diags.push(self.no_rule(&name, "replace")),
                    None => self.push(rule),
                }
            }
            r @ Stmt::Require { .. } => self.push(Slot::Stmt(r)),
            Stmt::Drop(d) if same_file => self.push(Slot::Stmt(Stmt::Drop(d))),
            Stmt::Drop(d) => match d.what {
                ast::DropWhat::Rule(name) => match self.rule_at(&name.name) {
                    Some(i) => self.remove(i),
                    None if layer == Layer::Base => diags.push(
                        Diag::error(
                            Code::Override,
                            name.span,
                            format!("no rule `{}` to drop: this file uses no other mapping", name.name),
                        )
                        .label("nothing to drop")
                        .help("`drop` takes away a rule of a file this one `use`s; remove the rule itself here"),
                    ),
                    None => diags.push(self.no_rule(&name, "drop")),
                },
                ast::DropWhat::Field(path) => self.drop_field(&path, &path, diags),
            },
        }
    }

    fn merge_field(&mut self, f: ast::Field, layer: Layer, diags: &mut Vec<Diag>) {
        let same_file = layer == Layer::Same;
        let Some(i) = self.field_at(&f.path[0].name) else {
            let mut f = f;
            if !same_file {
                strip_drops(&mut f, diags);
            }
            let slot = Body::field_slot(f, |stmts| Body::build(stmts, layer, diags));
            self.push(slot);
            return;
        };
        let Some(old) = self.slots[i].take() else {
            return;
        };
        let mut e = match (old, f.value) {
            (Slot::Nest(e, mut eb), FieldValue::Block(nb)) => {
                for s in nb {
                    eb.merge(s, layer, diags);
                }
                self.slots[i] = Some(Slot::Nest(e, eb));
                return;
            }
            (Slot::Nest(mut e, _), v) | (Slot::Stmt(Stmt::Field(mut e)), v) => {
                e.value = v;
                e
            }
            // A field's place holds a field.
            (other, _) => {
                self.slots[i] = Some(other);
                return;
            }
        };
        if same_file {
            let name = &f.path[0].name;
            diags.push(
                Diag::error(
                    Code::Duplicate,
                    f.path[0].span,
                    format!("field `{name}` is assigned twice in this file"),
                )
                .label("second assignment")
                .help("keep one assignment; a file that `use`s this one may override it"),
            );
        }
        e.span = f.span;
        e.path = f.path;
        if !same_file {
            strip_drops(&mut e, diags);
        }
        let slot = Body::field_slot(e, |stmts| Body::build(stmts, layer, diags));
        self.slots[i] = Some(slot);
    }

    /// `drop a.b.c`: removes that field from what the used files assign.
    fn drop_field(&mut self, rest: &[Ident], path: &[Ident], diags: &mut Vec<Diag>) {
        let Some((head, tail)) = rest.split_first() else {
            return;
        };
        match (self.field_at(&head.name), tail.is_empty()) {
            (Some(i), true) => self.remove(i),
            (Some(i), false) => {
                if let Some(Slot::Nest(_, b)) = &mut self.slots[i] {
                    b.drop_field(tail, path, diags);
                    return;
                }
                diags.push(self.no_field(head, path, "it is a value, not a block"));
            }
            (None, _) => diags.push(self.no_field(head, path, "")),
        }
    }

    fn live(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().flatten()
    }

    /// The names of the rules, in order.
    fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.live().filter_map(Slot::rule_name)
    }

    /// The field path (`orderItemList`) of the block below this one that has a rule `name`.
    fn rule_inside(&self, name: &str) -> Option<String> {
        self.live().find_map(|s| {
            let Slot::Nest(f, b) = s else { return None };
            let head = &f.path[0].name;
            if b.rule_at(name).is_some() {
                return Some(head.clone());
            }
            b.rule_inside(name).map(|p| format!("{head}.{p}"))
        })
    }

    /// A rule to `verb` (replace, drop) that the used files do not have in this block.
    fn no_rule(&self, name: &Ident, verb: &str) -> Diag {
        let help = suggest(&name.name, self.rule_names())
            .or_else(|| {
                self.rule_inside(&name.name).map(|p| match verb {
                    "drop" => format!(
                        "`{0}` is a rule of `{p}`: write `{p} {{ drop require {0} }}`",
                        name.name
                    ),
                    _ => format!(
                        "`{}` is a rule of `{p}`: {verb} it inside `{p} {{ … }}`",
                        name.name
                    ),
                })
            })
            .unwrap_or_else(|| {
                let names: Vec<&str> = self.rule_names().collect();
                if names.is_empty() {
                    "the files this one uses name no rule here; a new rule of this file is written without a name".to_string()
                } else {
                    format!(
                        "rules here: {}; a new rule of this file is written without a name",
                        names.join(", ")
                    )
                }
            });
        Diag::error(
            Code::Override,
            name.span,
            format!(
                "no rule `{}` to {verb}: the files this one uses have none of that name here",
                name.name
            ),
        )
        .label("no such rule")
        .help(help)
    }

    fn no_field(&self, at: &Ident, path: &[Ident], why: &str) -> Diag {
        let full: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
        let help = if why.is_empty() {
            suggest(&at.name, self.live().filter_map(Slot::field_name))
                .unwrap_or_else(|| format!("the files this one uses assign no `{}` here", at.name))
        } else {
            format!("`{}`: {why}", at.name)
        };
        Diag::error(
            Code::Override,
            at.span,
            format!(
                "no field `{}` to drop: the files this one uses do not assign it",
                full.join(".")
            ),
        )
        .label("not assigned")
        .help(help)
    }

    /// The merged statements, in order.
    pub fn into_stmts(self) -> Vec<Stmt> {
        self.slots
            .into_iter()
            .flatten()
            .map(|s| match s {
                Slot::Stmt(s) => s,
                Slot::Nest(mut f, b) => {
                    if let FieldValue::Block(v) | FieldValue::For { body: v, .. } = &mut f.value {
                        *v = b.into_stmts();
                    }
                    Stmt::Field(f)
                }
            })
            .collect()
    }
}

/// A field the used files do not have (or that this file assigns anew) has nothing to
/// drop from: each `drop` in it is a mistake, said and removed.
fn strip_drops(f: &mut ast::Field, diags: &mut Vec<Diag>) {
    let (FieldValue::Block(b) | FieldValue::For { body: b, .. }) = &mut f.value else {
        return;
    };
    let head = f.path[0].name.clone();
    b.retain_mut(|s| match s {
        Stmt::Drop(d) => {
            let (what, span) = match &d.what {
                ast::DropWhat::Rule(n) => (format!("rule `{}`", n.name), n.span),
                ast::DropWhat::Field(p) => (format!("field `{}`", p[0].name), p[0].span),
            };
            diags.push(
                Diag::error(
                    Code::Override,
                    span,
                    format!("no {what} to drop: this file writes `{head}` itself, not over a used file's"),
                )
                .label("nothing to drop")
                .help("a `drop` goes in a block the used files have; here, leave the rule or field out"),
            );
            false
        }
        Stmt::Field(inner) => {
            strip_drops(inner, diags);
            true
        }
        _ => true,
    });
}
