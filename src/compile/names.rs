//! The names an expression reads: lets and loop items in scopes (found by name in one
//! step, so a block of 40,000 lets is checked in linear time), the globals each value
//! reads (for cycles), and lets nobody reads.

use super::{ast, suggest, Cx, Diag, GlobalMeta, Op, Span, Stmt, Ty, Val, C};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
pub(super) enum Binding {
    Local(u32),
    Global(u32),
}

impl Binding {
    /// The key of its use in `used_lets` and `let_origin`.
    fn key(self) -> (u32, u32) {
        match self {
            Binding::Global(g) => (0, g),
            Binding::Local(l) => (1, l),
        }
    }
}

/// The names one block (or loop header) declares, in order, each found in one step.
#[derive(Debug, Default)]
pub(super) struct Scope {
    names: Vec<Name>,
    /// Where each name first stands in `names` (the one a read finds).
    index: HashMap<String, usize>,
}

#[derive(Debug)]
struct Name {
    name: String,
    binding: Binding,
    span: Span,
    ty: Ty,
}

impl Scope {
    pub(super) fn add(&mut self, name: &str, binding: Binding, span: Span, ty: Ty) {
        self.index
            .entry(name.to_string())
            .or_insert(self.names.len());
        self.names.push(Name {
            name: name.to_string(),
            binding,
            span,
            ty,
        });
    }
    fn get(&self, name: &str) -> Option<&Name> {
        self.index.get(name).map(|&i| &self.names[i])
    }
}

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
                    scope.add(&name.name, b, name.span, Ty::Any);
                }
            }
        }
    }

    pub(super) fn binding_of(&self, name: &str) -> Option<Binding> {
        self.scopes.last()?.get(name).map(|n| n.binding)
    }

    pub(super) fn set_binding_ty(&mut self, name: &str, ty: Ty) {
        if let Some(s) = self.scopes.last_mut() {
            if let Some(&i) = s.index.get(name) {
                s.names[i].ty = ty;
            }
        }
    }

    pub(super) fn lookup_name(&mut self, name: &str) -> Option<(Binding, Ty)> {
        let (b, t) = self
            .scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name))
            .map(|n| (n.binding, n.ty.clone()))?;
        self.used_lets.insert(b.key(), true);
        match b {
            Binding::Global(g) => self.note_global(g),
            Binding::Local(l) => self.local_deps.push(l),
        }
        Some((b, t))
    }

    pub(super) fn unknown_name(&mut self, id: &ast::Ident) -> (Op, Ty) {
        let mut names: Vec<String> = self
            .scopes
            .iter()
            .flat_map(|s| s.names.iter().map(|n| n.name.clone()))
            .collect();
        names.extend(self.params.iter().map(|p| p.name.clone()));
        // A code written bare (`whcode == GZNS`) is no name: it was meant as text.
        let code = id.name.len() >= 2
            && id
                .name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && id.name.chars().any(|c| c.is_ascii_uppercase());
        let help = suggest(&id.name, names.iter().map(String::as_str))
            .or_else(|| code.then(|| format!("did you mean the string \"{}\"? (a code is quoted)", id.name)))
            .unwrap_or_else(|| {
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
        (Op::Const(Val::Null), Ty::Any)
    }

    pub(super) fn pop_scope(&mut self) {
        if let Some(s) = self.scopes.pop() {
            for Name {
                name,
                binding,
                span,
                ..
            } in s.names
            {
                let key = binding.key();
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
}
