//! Reading a mapping and the files it `use`s, and merging them into one [`Mapping`]:
//! the used file first, then every statement of the using file laid over it
//! (a field assigned again replaces the used one in place; a block merges into it; a
//! named rule replaces the rule of that name; `drop` takes a rule or a field away).

mod merge;

pub use merge::Layer;

use crate::diag::{Code, Diag};
use crate::repo::bundled::fold;
use crate::repo::fs::{Roots, MAX_TEXT_BYTES};
use crate::repo::{bundled, display_name, Repo, BASE_SCHEME};
use crate::syntax::ast::{self, Expr, FieldValue, Ident, Item, Stmt};
use crate::syntax::{parse, FileId, Sources, Span};
use merge::Body;
use std::collections::{HashMap, HashSet};
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
    /// The folders every file the mapping names must be in: the mapping root, and the
    /// base folder `bondmap.toml` names when the mapping reads it (`base:…`).
    pub within: Roots,
    pub target: Option<(PathBuf, Span)>,
    /// The contract of the input (`source "…"`).
    pub source: Option<(PathBuf, Span)>,
    pub settings: Vec<(Ident, Expr)>,
    pub params: Vec<ParamDef>,
    pub tables: Vec<TableDef>,
    pub body: Vec<Stmt>,
    /// Every `use` of every file: which file used which, and where.
    pub uses: Vec<UseOf>,
    /// Every field `drop`ped, of every file: its full target path (`a.b`) and the drop.
    pub drops: Vec<(String, Span)>,
}

/// One `use`: the file that has it, the statement, the file it reads.
#[derive(Debug, Clone, Copy)]
pub struct UseOf {
    pub by: FileId,
    pub span: Span,
    pub used: FileId,
}

impl Mapping {
    /// The `use` of the root file through which `file` was read (itself or a file that
    /// uses it): where a problem a used file has because of the root file is shown.
    pub fn use_leading_to(&self, file: FileId) -> Option<Span> {
        let mut at = file;
        // Each file is read once per chain: a chain is no longer than the files.
        for _ in 0..=self.uses.len() {
            let u = self.uses.iter().find(|u| u.used == at)?;
            if u.by == self.root {
                return Some(u.span);
            }
            at = u.by;
        }
        None
    }
}

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
        within: Roots::of(within),
        ..Loader::default()
    };
    let mut m = Mapping::default();
    let root = cx.load_into(path, &mut m, None);
    m.root = root.unwrap_or_default();
    m.sources = cx.sources;
    m.within = cx.within;
    (m, cx.diags)
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

/// The default mapping root: the root `bondmap.toml` names when the file is below it,
/// else the parent of the mapping file's folder.
pub fn default_root(path: &Path) -> PathBuf {
    let file = canonical(path);
    let dir = file.parent().unwrap_or(&file);
    if let Ok(Some(repo)) = Repo::find(dir) {
        let root = canonical(&repo.root());
        if file.starts_with(&root) {
            return root;
        }
    }
    dir.parent().unwrap_or(dir).to_path_buf()
}

/// Loads mapping text that is not on disk (tests, tools); `use` paths are relative to `dir`,
/// and the mapping root is `dir`'s parent, as for a file in `dir`.
pub fn load_str(name: &str, text: &str, dir: &Path) -> (Mapping, Vec<Diag>) {
    let (m, diags, _) = load_str_with_tree(name, text, dir, false);
    (m, diags)
}

/// [`load_str`], and when `tree` the syntax tree of `text` itself (`None` when it does
/// not parse): the language server reads both of one parse.
pub fn load_str_with_tree(
    name: &str,
    text: &str,
    dir: &Path,
    tree: bool,
) -> (Mapping, Vec<Diag>, Option<ast::File>) {
    let within = default_root(&dir.join(name));
    load_text(&dir.join(name), name, text, within, tree)
}

/// The unsaved `text` of the mapping file at `path`, loaded as that file would be with
/// `root` as the mapping root: its `use`s and tables are read from beside it, and
/// nothing outside `root` is read (the playground's editor).
pub fn load_text_within(path: &Path, text: &str, root: &Path) -> (Mapping, Vec<Diag>) {
    let file = canonical(path);
    let (m, diags, _) = load_text(&file, &display_name(path), text, canonical(root), false);
    (m, diags)
}

/// `text` as the file `path` (absolute, so `use` cycles are found), shown as `name`.
fn load_text(
    path: &Path,
    name: &str,
    text: &str,
    within: PathBuf,
    tree: bool,
) -> (Mapping, Vec<Diag>, Option<ast::File>) {
    let dir = path.parent().unwrap_or(path);
    let mut cx = Loader {
        within: Roots::of(within),
        keep_tree: tree,
        ..Loader::default()
    };
    let mut m = Mapping::default();
    let id = cx.sources.add(path, name.to_string(), Arc::from(text));
    cx.stack.push(path.to_path_buf());
    cx.merge_text(id, dir, &mut m);
    m.root = id;
    m.sources = cx.sources;
    m.within = cx.within;
    (m, cx.diags, cx.tree)
}

#[derive(Default)]
struct Loader {
    sources: Sources,
    diags: Vec<Diag>,
    /// Files being opened, for finding `use` cycles.
    stack: Vec<PathBuf>,
    /// The mapping root (and base folder): no file outside them is read.
    within: Roots,
    /// Keep the syntax tree of the first file parsed (the root) in `tree`.
    keep_tree: bool,
    tree: Option<ast::File>,
}

impl Loader {
    fn load_into(&mut self, path: &Path, m: &mut Mapping, used_at: Option<Span>) -> Option<FileId> {
        // A bundled file is on no disk: its path is only folded.
        let canon = if bundled::is_bundled(path) {
            fold(path)
        } else {
            path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
        };
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
            self.within.read_text(path, MAX_TEXT_BYTES)
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
                        .help("see the language reference in docs/language.md"),
                );
                return;
            }
        };
        if std::mem::take(&mut self.keep_tree) {
            self.tree = Some(file.clone());
        }
        if file.items.iter().any(|i| matches!(i, Item::Route(_))) {
            self.diags.extend(routes_file_mistakes(&file));
        }
        // `use` first, wherever it stands, so this file's statements lay over the used one.
        for item in &file.items {
            if let Item::Use { path, span } = item {
                if let Some(p) = self.locate(dir, path, *span) {
                    if let Some(used) = self.load_into(&p, m, Some(*span)) {
                        m.uses.push(UseOf {
                            by: id,
                            span: *span,
                            used,
                        });
                    }
                }
            }
        }
        let uses = file.items.iter().any(|i| matches!(i, Item::Use { .. }));
        self.duplicate_rules(&file);
        let stmts = file.items.iter().filter_map(|i| match i {
            Item::Stmt(s) => Some(s),
            _ => None,
        });
        field_drops(stmts, "", &mut m.drops);
        let mut own_body = Body::default();
        let mut seen_params: HashSet<String> = HashSet::new();
        let mut seen_tables: HashSet<String> = HashSet::new();
        let mut seen_settings: HashSet<String> = HashSet::new();
        // Where each setting, param and table the used files gave stands (the first of a name).
        let mut settings_at = first_places(m.settings.iter().map(|(n, _)| &n.name));
        let mut params_at = first_places(m.params.iter().map(|p| &p.name.name));
        let mut tables_at = first_places(m.tables.iter().map(|t| &t.decl.name.name));
        let mut routes_used = false;
        for item in file.items {
            match item {
                Item::Use { .. } => {}
                Item::Target { path, span } => {
                    if let Some(p) = self.locate(dir, &path, span) {
                        m.target = Some((p, span));
                    }
                }
                Item::Source { path, span } => {
                    if let Some(p) = self.locate(dir, &path, span) {
                        m.source = Some((p, span));
                    }
                }
                Item::Settings { list, .. } => {
                    for s in list {
                        if !seen_settings.insert(s.name.name.clone()) {
                            self.dup(&s.name, "setting");
                        }
                        match settings_at.get(&s.name.name) {
                            Some(&i) => m.settings[i] = (s.name, s.value),
                            None => {
                                settings_at.insert(s.name.name.clone(), m.settings.len());
                                m.settings.push((s.name, s.value));
                            }
                        }
                    }
                }
                Item::Param(p) => {
                    if !seen_params.insert(p.name.name.clone()) {
                        self.dup(&p.name, "param");
                    }
                    match params_at.get(&p.name.name).map(|&i| &mut m.params[i]) {
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
                        None => {
                            params_at.insert(p.name.name.clone(), m.params.len());
                            m.params.push(ParamDef {
                                name: p.name,
                                ty: p.ty,
                                value: p.value,
                                span: p.span,
                            })
                        }
                    }
                }
                Item::Table(t) => {
                    if !seen_tables.insert(t.name.name.clone()) {
                        self.dup(&t.name, "table");
                    }
                    let mut def = TableDef {
                        decl: t,
                        dir: dir.to_path_buf(),
                    };
                    match tables_at.get(&def.decl.name.name) {
                        Some(&i) => {
                            keep_optional_columns(&m.tables[i].decl.body, &mut def.decl.body);
                            m.tables[i] = def
                        }
                        None => {
                            tables_at.insert(def.decl.name.name.clone(), m.tables.len());
                            m.tables.push(def)
                        }
                    }
                }
                Item::Stmt(s) => own_body.merge(s, Layer::Same, &mut self.diags),
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
        let mut body = Body::of(std::mem::take(&mut m.body));
        for s in own_body.into_stmts() {
            body.merge(s, layer, &mut self.diags);
        }
        m.body = body.into_stmts();
    }

    /// Two rules of one name in one file (in any blocks): which one a using file would
    /// replace could not be told.
    fn duplicate_rules(&mut self, file: &ast::File) {
        fn walk<'a>(
            body: impl Iterator<Item = &'a Stmt>,
            seen: &mut HashMap<&'a str, &'a Ident>,
            dups: &mut Vec<(&'a Ident, Span)>,
        ) {
            for s in body {
                match s {
                    Stmt::Require { name: Some(n), .. } => match seen.get(n.name.as_str()) {
                        Some(first) => dups.push((n, first.span)),
                        None => {
                            seen.insert(&n.name, n);
                        }
                    },
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
        let mut seen = HashMap::new();
        let mut dups = Vec::new();
        let stmts = file.items.iter().filter_map(|i| match i {
            Item::Stmt(s) => Some(s),
            _ => None,
        });
        walk(stmts, &mut seen, &mut dups);
        // The file's line ends, found once for all its duplicates.
        let mut newlines: HashMap<FileId, Vec<usize>> = HashMap::new();
        for (n, first) in dups {
            let text = &self.sources.get(first.file).text;
            let nl = newlines
                .entry(first.file)
                .or_insert_with(|| crate::diag::window::newlines(text));
            let (line, _) = crate::diag::window::line_col(text, nl, first.start);
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

    /// The file a `use`, `target` or `source` names: relative to the naming file's folder,
    /// or `base:…`, a file of the base set `bondmap.toml` names (its folder then readable).
    fn locate(&mut self, dir: &Path, name: &str, span: Span) -> Option<PathBuf> {
        if !name.starts_with(BASE_SCHEME) {
            return Some(dir.join(name));
        }
        match crate::repo::resolve_base(dir, name) {
            Ok((p, folder)) => {
                if folder.is_some() {
                    self.within.base = folder;
                }
                Some(p)
            }
            Err(e) => {
                self.diags.push(
                    Diag::error(Code::Io, span, format!("cannot read `{name}`: {e}"))
                        .label("a file of the base set"),
                );
                None
            }
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
        let listed: HashSet<String> = columns.iter().map(|(n, _, _)| n.name.clone()).collect();
        for c in old.iter().filter(|(_, _, optional)| *optional) {
            if !listed.contains(&c.0.name) {
                columns.push(c.clone());
            }
        }
    }
}

/// The fields a file drops, with their full target paths.
fn field_drops<'a>(
    body: impl Iterator<Item = &'a Stmt>,
    prefix: &str,
    out: &mut Vec<(String, Span)>,
) {
    let join = |path: &[Ident]| {
        let names: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
        match prefix {
            "" => names.join("."),
            p => format!("{p}.{}", names.join(".")),
        }
    };
    for s in body {
        match s {
            Stmt::Drop(ast::Drop {
                what: ast::DropWhat::Field(path),
                span,
            }) => out.push((join(path), *span)),
            Stmt::Field(f) => match &f.value {
                FieldValue::Block(b) | FieldValue::For { body: b, .. } => {
                    field_drops(b.iter(), &join(&f.path), out)
                }
                FieldValue::Expr(_) => {}
            },
            _ => {}
        }
    }
}

/// Where each name first stands in a list.
fn first_places<'a>(names: impl Iterator<Item = &'a String>) -> HashMap<String, usize> {
    let mut at = HashMap::new();
    for (i, n) in names.enumerate() {
        at.entry(n.clone()).or_insert(i);
    }
    at
}
