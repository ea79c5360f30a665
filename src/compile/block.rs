//! Statements: blocks, loops, lets and requires lowered against the target schema;
//! every assignment held to its field's type, unit and fixed value.

use super::{
    ast, closest, const_json, field_check, lets_first, order_lets, suggest, Binding, BodyOp, Cx,
    Diag, Expr, FieldCheck, FieldType, FieldValue, Global, GlobalMeta, ItemNode, Loop, Node, Op,
    OutNode, Plan, Program, Require, SchemaNode, Scope, Span, Stmt, Ty, Val, C,
};

impl<'m> Cx<'m> {
    pub(super) fn declare_lets(&mut self, body: &[Stmt]) {
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

    pub(super) fn binding_of(&self, name: &str) -> Option<Binding> {
        self.scopes.last().and_then(|s| {
            s.names
                .iter()
                .find(|(n, ..)| n == name)
                .map(|(_, b, ..)| *b)
        })
    }

    pub(super) fn set_binding_ty(&mut self, name: &str, ty: Ty) {
        if let Some(s) = self.scopes.last_mut() {
            if let Some(e) = s.names.iter_mut().find(|(n, ..)| n == name) {
                e.3 = ty;
            }
        }
    }

    pub(super) fn lower_global_block(
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

    pub(super) fn pop_scope(&mut self) {
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

    pub(super) fn with_deps<T>(&mut self, g: u32, f: impl FnOnce(&mut Self) -> T) -> T {
        self.collecting.push(Vec::new());
        let r = f(self);
        let d = self.collecting.pop().unwrap_or_default();
        if let Some(slot) = self.deps.get_mut(g as usize) {
            slot.extend(d);
        }
        r
    }

    pub(super) fn note_global(&mut self, g: u32) {
        if let Some(d) = self.collecting.last_mut() {
            d.push(g);
        }
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
                    self.misspelt.push(full_best);
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
                // The loader applies every drop: none is left to lower.
                Stmt::Drop(_) => {}
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

    pub(super) fn expect_bool(&mut self, t: &Ty, span: Span) {
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

    pub(super) fn check_assign(
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
                let help = if fu.dimension() == vu.dimension() && fu.scale() > vu.scale() {
                    // To a larger unit (fen → yuan) nothing is lost: no rounding to choose.
                    format!("convert it: `convert(…, {fu})` (exact)")
                } else if fu.dimension() == vu.dimension() {
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
        self.check_whole(t, n, prop, full, span);
        if let Op::Const(v) = &n.code {
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
