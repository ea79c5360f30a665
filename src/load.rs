//! Reading a mapping and the files it `use`s, and merging them into one [`Mapping`]:
//! the used file first, then every statement of the using file laid over it
//! (a field assigned again replaces the used one in place; a block merges into it; a
//! named rule replaces the rule of that name; `drop` takes a rule or a field away).

use crate::diag::{suggest, Code, Diag};
use crate::syntax::ast::{self, Expr, FieldValue, Ident, Item, Stmt};
use crate::syntax::{parse, FileId, Sources, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct ParamDef {
    pub name: Ident,
    pub ty: Option<(ast::TypeName, Span)>,
    pub value: Option<Expr>,
    /// Directory of the file that declared it.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TableDef {
    pub decl: ast::Table,
    /// Directory CSV paths are relative to: the declaring file's.
    pub dir: PathBuf,
}

/// A mapping with its `use` chain merged.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub sources: Sources,
    pub root: FileId,
    /// The folder every file the mapping names must be in (see [`read_inside`]).
    pub within: PathBuf,
    pub target: Option<(PathBuf, Span)>,
    /// The contract of the input (`source "…"`).
    pub source: Option<(PathBuf, Span)>,
    pub settings: Vec<(Ident, Expr)>,
    pub params: Vec<ParamDef>,
    pub tables: Vec<TableDef>,
    pub body: Vec<Stmt>,
}

/// Largest CSV table a mapping may read.
pub const MAX_CSV_BYTES: u64 = 64 << 20;
/// Largest mapping or schema file.
pub const MAX_TEXT_BYTES: u64 = 8 << 20;

/// Loads `path` and everything it uses. Returns the merged mapping (as far as it could be
/// built) and every problem found on the way, of every file. Files it names must be in
/// the parent of its folder (`mappings/` for `mappings/warehouses/x.map`).
pub fn load(path: &Path) -> (Mapping, Vec<Diag>) {
    load_within(path, None)
}

/// [`load`] with the mapping root given (`--root`, or the folder given to `check`).
pub fn load_within(path: &Path, root: Option<&Path>) -> (Mapping, Vec<Diag>) {
    let within = match root {
        Some(r) => canonical(r),
        None => default_root(path),
    };
    let mut cx = Loader {
        within: within.clone(),
        ..Loader::default()
    };
    let mut m = Mapping {
        within,
        ..Mapping::default()
    };
    let root = cx.load_into(path, &mut m, None);
    m.root = root.unwrap_or_default();
    m.sources = cx.sources;
    (m, cx.diags)
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

/// The parent of the mapping file's folder: the default mapping root.
pub fn default_root(path: &Path) -> PathBuf {
    let file = canonical(path);
    let dir = file.parent().unwrap_or(&file);
    dir.parent().unwrap_or(dir).to_path_buf()
}

/// Reads a file a mapping names: a regular file (symlinks followed) inside `root`, of at
/// most `cap` bytes. The error says why (the caller names the file) and never quotes
/// what is in it.
pub fn read_inside(root: &Path, path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let canon = path.canonicalize().map_err(|e| e.to_string())?;
    if !canon.starts_with(root) {
        return Err(format!(
            "it is outside the mapping root {} (a mapping reads only files below it; `--root` names another)",
            display_name(root)
        ));
    }
    read_regular(&canon, cap)
}

/// Reads a regular file of at most `cap` bytes (`--table NAME=FILE`: any file the user
/// names, but never a device, a folder or a giant).
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let too_big = || format!("it is larger than {} MiB", cap >> 20);
    if meta.len() > cap {
        return Err(too_big());
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut buf))
        .map_err(|e| e.to_string())?;
    // The file may have grown since it was measured.
    if buf.len() as u64 > cap {
        return Err(too_big());
    }
    Ok(buf)
}

/// [`read_inside`] for a text file: UTF-8, a byte order mark dropped.
pub fn read_text_inside(root: &Path, path: &Path, cap: u64) -> Result<String, String> {
    let bytes = read_inside(root, path, cap)?;
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Loads mapping text that is not on disk (tests, tools); `use` paths are relative to `dir`,
/// and the mapping root is `dir`'s parent, as for a file in `dir`.
pub fn load_str(name: &str, text: &str, dir: &Path) -> (Mapping, Vec<Diag>) {
    let within = default_root(&dir.join(name));
    let mut cx = Loader {
        within: within.clone(),
        ..Loader::default()
    };
    let mut m = Mapping {
        within,
        ..Mapping::default()
    };
    let id = cx
        .sources
        .add(&dir.join(name), name.to_string(), Arc::from(text));
    cx.stack.push(dir.join(name));
    cx.merge_text(id, dir, &mut m);
    m.root = id;
    m.sources = cx.sources;
    (m, cx.diags)
}

#[derive(Default)]
struct Loader {
    sources: Sources,
    diags: Vec<Diag>,
    /// Files being opened, for finding `use` cycles.
    stack: Vec<PathBuf>,
    /// The mapping root: no file outside it is read.
    within: PathBuf,
}

/// How a file is shown to users: relative to the working folder when it is below it,
/// with `..` folded, so messages read the same on every machine.
pub fn display_name(path: &Path) -> String {
    use std::path::Component;
    let mut clean = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if clean.file_name().is_some() => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other.as_os_str()),
        }
    }
    std::env::current_dir()
        .ok()
        .and_then(|cwd| clean.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(clean)
        .display()
        .to_string()
}

impl Loader {
    fn load_into(&mut self, path: &Path, m: &mut Mapping, used_at: Option<Span>) -> Option<FileId> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(pos) = self.stack.iter().position(|p| *p == canon) {
            let chain: Vec<String> = self.stack[pos..]
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| display_name(p))
                .collect();
            self.diags.push(
                Diag::error(
                    Code::UseCycle,
                    used_at,
                    format!("`use` cycle: {}", chain.join(" → ")),
                )
                .label("this use closes the circle")
                .help("a mapping may use another only if that one does not use it back"),
            );
            return None;
        }
        // Only a mapping is parsed: the report of a parse error shows its text.
        let read = if used_at.is_some() && path.extension().is_none_or(|x| x != "map") {
            Err("it is not a mapping: `use` takes a `.map` file".to_string())
        } else {
            read_text_inside(&self.within, path, MAX_TEXT_BYTES)
        };
        let text = match read {
            Ok(t) => t,
            Err(e) => {
                self.diags.push(
                    Diag::error(
                        Code::Io,
                        used_at,
                        format!("cannot read mapping {}: {e}", display_name(path)),
                    )
                    .label("this file"),
                );
                return None;
            }
        };
        let id = self
            .sources
            .add(&canon, display_name(path), Arc::from(text.as_str()));
        let dir = canon.parent().map(Path::to_path_buf).unwrap_or_default();
        self.stack.push(canon);
        self.merge_text(id, &dir, m);
        self.stack.pop();
        Some(id)
    }

    fn merge_text(&mut self, id: FileId, dir: &Path, m: &mut Mapping) {
        let text = self.sources.get(id).text.clone();
        let file = match parse(&text, id) {
            Ok(f) => f,
            Err(e) => {
                self.diags.push(
                    Diag::error(Code::Parse, e.span, e.message)
                        .label(e.label)
                        .help("see the language reference in README.md"),
                );
                return;
            }
        };
        if file.items.iter().any(|i| matches!(i, Item::Route(_))) {
            self.diags.extend(routes_file_mistakes(&file));
        }
        // `use` first, wherever it stands, so this file's statements lay over the used one.
        for item in &file.items {
            if let Item::Use { path, span } = item {
                let p = dir.join(path);
                self.load_into(&p, m, Some(*span));
            }
        }
        let uses = file.items.iter().any(|i| matches!(i, Item::Use { .. }));
        self.duplicate_rules(&file);
        let mut own_body: Vec<Stmt> = Vec::new();
        let mut seen_params: Vec<String> = Vec::new();
        let mut seen_tables: Vec<String> = Vec::new();
        let mut seen_settings: Vec<String> = Vec::new();
        let mut routes_used = false;
        for item in file.items {
            match item {
                Item::Use { .. } => {}
                Item::Target { path, span } => m.target = Some((dir.join(path), span)),
                Item::Source { path, span } => m.source = Some((dir.join(path), span)),
                Item::Settings { list, .. } => {
                    for s in list {
                        if seen_settings.contains(&s.name.name) {
                            self.dup(&s.name, "setting");
                        }
                        seen_settings.push(s.name.name.clone());
                        match m.settings.iter_mut().find(|(n, _)| n.name == s.name.name) {
                            Some(slot) => *slot = (s.name, s.value),
                            None => m.settings.push((s.name, s.value)),
                        }
                    }
                }
                Item::Param(p) => {
                    if seen_params.contains(&p.name.name) {
                        self.dup(&p.name, "param");
                    }
                    seen_params.push(p.name.name.clone());
                    match m.params.iter_mut().find(|d| d.name.name == p.name.name) {
                        Some(d) => {
                            // A using file sets the value; a type given again must agree.
                            if let (Some((t, s)), Some((t0, _))) = (p.ty, d.ty) {
                                if t != t0 {
                                    self.diags.push(
                                        Diag::error(
                                            Code::TypeMismatch,
                                            s,
                                            format!(
                                                "param `{}` was declared {} and is redeclared {}",
                                                p.name.name,
                                                t0.as_str(),
                                                t.as_str()
                                            ),
                                        )
                                        .label("different type"),
                                    );
                                }
                            }
                            if p.value.is_some() {
                                d.value = p.value;
                                d.span = p.span;
                            }
                        }
                        None => m.params.push(ParamDef {
                            name: p.name,
                            ty: p.ty,
                            value: p.value,
                            span: p.span,
                        }),
                    }
                }
                Item::Table(t) => {
                    if seen_tables.contains(&t.name.name) {
                        self.dup(&t.name, "table");
                    }
                    seen_tables.push(t.name.name.clone());
                    let mut def = TableDef {
                        decl: t,
                        dir: dir.to_path_buf(),
                    };
                    match m
                        .tables
                        .iter_mut()
                        .find(|d| d.decl.name.name == def.decl.name.name)
                    {
                        Some(d) => {
                            keep_optional_columns(&d.decl.body, &mut def.decl.body);
                            *d = def
                        }
                        None => m.tables.push(def),
                    }
                }
                Item::Stmt(s) => merge_stmt(&mut own_body, s, Layer::Same, &mut self.diags),
                // A routes file loaded as the mapping itself is the router's to read
                // (`crate::route`); one reached through `use` is a mistake, said once.
                Item::Route(r) => {
                    if self.stack.len() > 1 && !routes_used {
                        routes_used = true;
                        self.diags.push(
                            Diag::error(
                                Code::Routes,
                                r.span,
                                "this routes file is used as a mapping: a routes file picks a mapping for each order, it cannot be one",
                            )
                            .label("a route")
                            .help("`use` the warehouse mapping the route names instead"),
                        );
                    }
                }
            }
        }
        let layer = if uses { Layer::Over } else { Layer::Base };
        for s in own_body {
            merge_stmt(&mut m.body, s, layer, &mut self.diags);
        }
    }

    /// Two rules of one name in one file (in any blocks): which one a using file would
    /// replace could not be told.
    fn duplicate_rules(&mut self, file: &ast::File) {
        fn walk<'a>(
            body: impl Iterator<Item = &'a Stmt>,
            seen: &mut Vec<&'a Ident>,
            dups: &mut Vec<(&'a Ident, Span)>,
        ) {
            for s in body {
                match s {
                    Stmt::Require { name: Some(n), .. } => {
                        match seen.iter().find(|o| o.name == n.name) {
                            Some(first) => dups.push((n, first.span)),
                            None => seen.push(n),
                        }
                    }
                    Stmt::Field(f) => match &f.value {
                        FieldValue::Block(b) | FieldValue::For { body: b, .. } => {
                            walk(b.iter(), seen, dups)
                        }
                        FieldValue::Expr(_) => {}
                    },
                    _ => {}
                }
            }
        }
        let mut seen = Vec::new();
        let mut dups = Vec::new();
        let stmts = file.items.iter().filter_map(|i| match i {
            Item::Stmt(s) => Some(s),
            _ => None,
        });
        walk(stmts, &mut seen, &mut dups);
        for (n, first) in dups {
            let (line, _) = self.sources.get(first.file).line_col(first.start);
            self.diags.push(
                Diag::error(
                    Code::Duplicate,
                    n.span,
                    format!("rule `{}` is defined twice in this file", n.name),
                )
                .label("second rule of this name")
                .help(format!(
                    "the first is on line {line}; give each rule its own name"
                )),
            );
        }
    }

    fn dup(&mut self, name: &Ident, what: &str) {
        self.diags.push(
            Diag::error(
                Code::Duplicate,
                name.span,
                format!("{what} `{}` is defined twice in this file", name.name),
            )
            .label("second definition")
            .help("remove one of them"),
        );
    }
}

/// In a routes file (one with a `route`), every statement that is neither `source` nor
/// `route`: a routes file only picks mappings, it builds nothing itself.
pub fn routes_file_mistakes(file: &ast::File) -> Vec<Diag> {
    let mut out = Vec::new();
    for item in &file.items {
        let (what, span) = match item {
            Item::Route(_) | Item::Source { .. } => continue,
            Item::Use { span, .. } => ("`use`", *span),
            Item::Target { span, .. } => ("`target`", *span),
            Item::Settings { span, .. } => ("`settings`", *span),
            Item::Param(p) => ("`param`", p.span),
            Item::Table(t) => ("`table`", t.span),
            Item::Stmt(Stmt::Let { span, .. }) => ("`let`", *span),
            Item::Stmt(Stmt::Require { span, .. }) => ("`require`", *span),
            Item::Stmt(Stmt::Drop(d)) => ("`drop`", d.span),
            Item::Stmt(Stmt::Field(f)) => ("a target field", f.span),
        };
        out.push(
            Diag::error(
                Code::Routes,
                span,
                format!("{what} in a routes file: a routes file holds only `source` and `route` statements"),
            )
            .label("not a routes statement")
            .help("put it in the mapping a route names; a file with a `route` is a routes file"),
        );
    }
    out
}

/// A table declared again by a using file keeps the optional columns of the used file's
/// declaration it does not list: the used file reads them "when the table has them", so a
/// warehouse whose goods table lacks them need not name them.
fn keep_optional_columns(used: &ast::TableBody, new: &mut ast::TableBody) {
    if let (ast::TableBody::Csv { columns: old, .. }, ast::TableBody::Csv { columns, .. }) =
        (used, new)
    {
        for c in old.iter().filter(|(_, _, optional)| *optional) {
            if !columns.iter().any(|(n, _, _)| n.name == c.0.name) {
                columns.push(c.clone());
            }
        }
    }
}

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

/// Lays `s` over `body`. Within one file ([`Layer::Same`]) a second assignment of one
/// field is an error; across a `use` ([`Layer::Over`]) it is the override, a named rule
/// replaces the rule of that name in place and a `drop` removes one.
pub fn merge_stmt(body: &mut Vec<Stmt>, s: Stmt, layer: Layer, diags: &mut Vec<Diag>) {
    let same_file = layer == Layer::Same;
    match s {
        Stmt::Field(mut f) if f.path.len() > 1 => {
            // `a.b.c = e` is `a { b.c = e }`.
            let head = f.path.remove(0);
            let span = f.span;
            let inner = Stmt::Field(f);
            merge_stmt(
                body,
                Stmt::Field(ast::Field {
                    path: vec![head],
                    value: FieldValue::Block(vec![inner]),
                    span,
                }),
                layer,
                diags,
            );
        }
        Stmt::Field(f) => {
            let name = &f.path[0].name;
            let existing = body.iter_mut().find_map(|b| match b {
                Stmt::Field(e) if e.path[0].name == *name => Some(e),
                _ => None,
            });
            let Some(e) = existing else {
                let mut f = f;
                if !same_file {
                    strip_drops(&mut f, diags);
                }
                body.push(Stmt::Field(f));
                return;
            };
            match (&mut e.value, f.value) {
                (FieldValue::Block(eb), FieldValue::Block(nb))
                | (FieldValue::For { body: eb, .. }, FieldValue::Block(nb)) => {
                    for s in nb {
                        merge_stmt(eb, s, layer, diags);
                    }
                }
                (_, v) => {
                    if same_file {
                        diags.push(
                            Diag::error(
                                Code::Duplicate,
                                f.path[0].span,
                                format!("field `{name}` is assigned twice in this file"),
                            )
                            .label("second assignment")
                            .help(
                                "keep one assignment; a file that `use`s this one may override it",
                            ),
                        );
                    }
                    e.value = v;
                    e.span = f.span;
                    e.path = f.path;
                    if !same_file {
                        strip_drops(e, diags);
                    }
                }
            }
        }
        Stmt::Let { name, value, span } => {
            let existing = body.iter_mut().find_map(|b| match b {
                Stmt::Let { name: n, .. } if n.name == name.name => Some(b),
                _ => None,
            });
            match existing {
                Some(b) => {
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
                    *b = Stmt::Let { name, value, span };
                }
                None => body.push(Stmt::Let { name, value, span }),
            }
        }
        Stmt::Require {
            name: Some(name),
            cond,
            message,
            span,
        } if !same_file => {
            let rule = Stmt::Require {
                name: Some(name.clone()),
                cond,
                message,
                span,
            };
            match rule_at(body, &name.name) {
                // In place: the rules keep the order the used file gave them.
                Some(i) => body[i] = rule,
                None if layer == Layer::Over => diags.push(no_rule(body, &name, "replace")),
                None => body.push(rule),
            }
        }
        r @ Stmt::Require { .. } => body.push(r),
        Stmt::Drop(d) if same_file => body.push(Stmt::Drop(d)),
        Stmt::Drop(d) => match d.what {
            ast::DropWhat::Rule(name) => match rule_at(body, &name.name) {
                Some(i) => {
                    body.remove(i);
                }
                None if layer == Layer::Base => diags.push(
                    Diag::error(
                        Code::Override,
                        name.span,
                        format!("no rule `{}` to drop: this file uses no other mapping", name.name),
                    )
                    .label("nothing to drop")
                    .help("`drop` takes away a rule of a file this one `use`s; remove the rule itself here"),
                ),
                None => diags.push(no_rule(body, &name, "drop")),
            },
            ast::DropWhat::Field(path) => drop_field(body, &path, &path, diags),
        },
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

/// Where the rule named `name` is in `body`.
fn rule_at(body: &[Stmt], name: &str) -> Option<usize> {
    body.iter()
        .position(|s| matches!(s, Stmt::Require { name: Some(n), .. } if n.name == name))
}

/// The names of the rules of `body`.
fn rule_names(body: &[Stmt]) -> impl Iterator<Item = &str> {
    body.iter().filter_map(|s| match s {
        Stmt::Require { name: Some(n), .. } => Some(n.name.as_str()),
        _ => None,
    })
}

/// The field path (`orderItemList`) of the block below `body` that has a rule `name`.
fn rule_inside(body: &[Stmt], name: &str) -> Option<String> {
    body.iter().find_map(|s| {
        let Stmt::Field(f) = s else { return None };
        let (FieldValue::Block(b) | FieldValue::For { body: b, .. }) = &f.value else {
            return None;
        };
        let head = &f.path[0].name;
        if rule_at(b, name).is_some() {
            return Some(head.clone());
        }
        rule_inside(b, name).map(|p| format!("{head}.{p}"))
    })
}

/// A rule to `verb` (replace, drop) that the used files do not have in this block.
fn no_rule(body: &[Stmt], name: &Ident, verb: &str) -> Diag {
    let help = suggest(&name.name, rule_names(body))
        .or_else(|| {
            rule_inside(body, &name.name).map(|p| match verb {
                "drop" => format!(
                    "`{0}` is a rule of `{p}`: write `{p} {{ drop require {0} }}`",
                    name.name
                ),
                _ => format!("`{}` is a rule of `{p}`: {verb} it inside `{p} {{ … }}`", name.name),
            })
        })
        .unwrap_or_else(|| {
            let names: Vec<&str> = rule_names(body).collect();
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

/// `drop a.b.c`: removes that field from what the used files assign.
fn drop_field(body: &mut Vec<Stmt>, rest: &[Ident], path: &[Ident], diags: &mut Vec<Diag>) {
    let Some((head, tail)) = rest.split_first() else {
        return;
    };
    let at = body
        .iter()
        .position(|s| matches!(s, Stmt::Field(f) if f.path[0].name == head.name));
    match (at, tail.is_empty()) {
        (Some(i), true) => {
            body.remove(i);
        }
        (Some(i), false) => {
            if let Stmt::Field(f) = &mut body[i] {
                if let FieldValue::Block(b) | FieldValue::For { body: b, .. } = &mut f.value {
                    drop_field(b, tail, path, diags);
                    return;
                }
            }
            diags.push(no_field(body, head, path, "it is a value, not a block"));
        }
        (None, _) => diags.push(no_field(body, head, path, "")),
    }
}

fn no_field(body: &[Stmt], at: &Ident, path: &[Ident], why: &str) -> Diag {
    let full: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
    let names = body.iter().filter_map(|s| match s {
        Stmt::Field(f) => Some(f.path[0].name.as_str()),
        _ => None,
    });
    let help = if why.is_empty() {
        suggest(&at.name, names)
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
