//! Statements: blocks, loops, lets and requires lowered against the target schema, each
//! assignment held to its field (`assign.rs`), the required fields each block misses.

use super::{
    ast, closest, field_check, suggest, Binding, BodyOp, Cx, Diag, Expr, FieldCheck, FieldType,
    FieldValue, Fields, Global, ItemNode, Loop, OutNode, Plan, Program, Require, SchemaNode, Scope,
    Span, Stmt, Ty, C,
};
use std::collections::{HashMap, HashSet};

impl<'m> Cx<'m> {
    pub(super) fn lower_global_block(
        &mut self,
        body: &[Stmt],
        schema: &SchemaNode,
        prefix: &str,
        block_span: Option<Span>,
        plan: &Fields,
    ) -> Vec<(Box<str>, OutNode)> {
        self.scopes.push(Scope::default());
        self.declare_lets(body);
        let mut out = Vec::new();
        let mut assigned: HashSet<&str> = HashSet::new();
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
                // The loader applies every drop: none is left to lower.
                Stmt::Drop(_) => {}
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
                    assigned.insert(name);
                    let slot = plan.get(name).cloned();
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

    pub(super) fn field_prop<'s>(
        &mut self,
        schema: &'s SchemaNode,
        name: &ast::Ident,
        full: &str,
    ) -> Option<&'s SchemaNode> {
        let target = schema.object();
        match target.field(&name.name) {
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
                    self.misspelt.insert(full_best);
                }
                let help = suggest(
                    &name.name,
                    target.properties.iter().map(|(n, _)| n.as_str()),
                )
                .unwrap_or_else(|| fields_here(target, full));
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

    pub(super) fn shape_ok(&mut self, prop: &SchemaNode, what: &str, f: &ast::Field) -> bool {
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

    pub(super) fn missing(
        &mut self,
        schema: &SchemaNode,
        assigned: &HashSet<&str>,
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
            if !assigned.contains(r.as_str()) && !self.misspelt.contains(&full) {
                let desc = target
                    .property(r)
                    .and_then(|p| p.description.clone())
                    .unwrap_or_default();
                let d = self.blame_drop(
                    &full,
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
                self.err(d);
            }
        }
    }

    pub(super) fn lower_loop(
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
                s.add(&name.name, Binding::Local(i), name.span, elem);
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
        let mut l = Loop {
            bindings: bs,
            body: ordered,
            item,
            check,
            span,
            frame: 0,
        };
        l.frame = Program::frame_size(&l);
        l
    }

    pub(super) fn lower_local_block(
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
        let mut assigned: HashSet<&str> = HashSet::new();
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
                // The loader applies every drop: none is left to lower.
                Stmt::Drop(_) => {}
                Stmt::Field(f) => {
                    let name = f.path[0].name.as_str();
                    let full = format!("{prefix}.{name}");
                    let Some(prop) = self.field_prop(schema, &f.path[0], &full) else {
                        continue;
                    };
                    assigned.insert(name);
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
    let deps: Vec<&[u32]> = lets.iter().map(|(_, d)| d.as_slice()).collect();
    let order = let_order(&deps);
    let mut slots: Vec<Option<BodyOp>> = lets.into_iter().map(|(op, _)| Some(op)).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The order of lets whose `deps` are each its own local first, then the locals it reads:
/// what taking turns over them in written order gives, each turn taking every let whose
/// lets are all taken (those taken earlier in the same turn too), until a turn takes none;
/// then the rest (in a cycle, or reading one) in written order.
///
/// The turns are not taken (that was quadratic in the lets of a loop): a let is taken in
/// the first turn after each let it reads written after it, and in the turn of each one
/// written before it; found by one walk of the graph.
fn let_order(deps: &[&[u32]]) -> Vec<usize> {
    const NEVER: usize = usize::MAX;
    let mut at: HashMap<u32, usize> = HashMap::new();
    for (i, d) in deps.iter().enumerate() {
        if let Some(&own) = d.first() {
            at.entry(own).or_insert(i);
        }
    }
    // turn[i]: the turn let i is taken in (from 1), NEVER if none; state: 0 not seen,
    // 1 being walked, 2 known.
    let mut turn = vec![1usize; deps.len()];
    let mut state = vec![0u8; deps.len()];
    let joined = |cur: usize, j: usize, i: usize, tj: usize| -> usize {
        if cur == NEVER || tj == NEVER {
            NEVER
        } else {
            cur.max(if j < i { tj } else { tj + 1 })
        }
    };
    for root in 0..deps.len() {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        // (let, the next of its deps to look at): its own local is deps[0].
        let mut stack: Vec<(usize, usize)> = vec![(root, 1)];
        while let Some(top) = stack.last_mut() {
            let (i, k) = *top;
            if let Some(d) = deps[i].get(k) {
                top.1 += 1;
                let Some(&j) = at.get(d) else { continue };
                if j == i {
                    continue;
                }
                match state[j] {
                    0 => {
                        state[j] = 1;
                        stack.push((j, 1));
                    }
                    // Being walked: a cycle through i.
                    1 => turn[i] = NEVER,
                    _ => turn[i] = joined(turn[i], j, i, turn[j]),
                }
            } else {
                state[i] = 2;
                stack.pop();
                if let Some(&(p, _)) = stack.last() {
                    turn[p] = joined(turn[p], i, p, turn[i]);
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..deps.len()).collect();
    order.sort_by_key(|&i| (turn[i], i));
    order
}

/// Fields shown when a name is no field and resembles none: the object's first few, or
/// why it has none (an object of free keys needs `additionalProperties`).
fn fields_here(target: &SchemaNode, full: &str) -> String {
    const SHOWN: usize = 12;
    let names: Vec<&str> = target.properties.iter().map(|(n, _)| n.as_str()).collect();
    if names.is_empty() {
        let owner = full.rsplit_once('.').map_or("the target", |(pre, _)| pre);
        return format!(
            "`{owner}` has no fields in the target schema, and takes no free keys (it has no `additionalProperties` schema)"
        );
    }
    let more = names.len().saturating_sub(SHOWN);
    let shown = names[..names.len().min(SHOWN)].join(", ");
    if more == 0 {
        format!("fields here: {shown}")
    } else {
        format!("fields here: {shown} and {more} more")
    }
}

#[cfg(test)]
mod tests {
    /// The turns `let_order` stands for, taken one by one.
    fn by_turns(deps: &[&[u32]]) -> Vec<usize> {
        let ids: Vec<u32> = deps.iter().map(|d| d[0]).collect();
        let mut done = vec![false; deps.len()];
        let mut order = Vec::new();
        for _ in 0..deps.len() {
            let mut progressed = false;
            for i in 0..deps.len() {
                if done[i] {
                    continue;
                }
                let ready = deps[i].iter().skip(1).all(|d| {
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
        order.extend((0..deps.len()).filter(|&i| !done[i]));
        order
    }

    #[test]
    fn lets_come_in_the_order_of_the_turns() {
        // Small random graphs: lets 10..10+n, reads of lets, of themselves and of other
        // locals (loop items, fields: 0..5), chains, cycles and what reads them.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m) as u32
        };
        for _ in 0..3000 {
            let n = 1 + next(9) as usize;
            let deps: Vec<Vec<u32>> = (0..n)
                .map(|i| {
                    let mut d = vec![10 + i as u32];
                    for _ in 0..next(4) {
                        d.push(if next(5) == 0 {
                            next(5)
                        } else {
                            10 + next(n as u64)
                        });
                    }
                    d
                })
                .collect();
            let refs: Vec<&[u32]> = deps.iter().map(Vec::as_slice).collect();
            assert_eq!(super::let_order(&refs), by_turns(&refs), "{deps:?}");
        }
        // A long chain read backwards takes one turn per let, in linear time.
        let chain: Vec<Vec<u32>> = (0..40_000u32).map(|i| vec![i, i + 1]).collect();
        let refs: Vec<&[u32]> = chain.iter().map(Vec::as_slice).collect();
        let order = super::let_order(&refs);
        assert_eq!(order.first(), Some(&39_999));
        assert_eq!(order.last(), Some(&0));
    }
}
