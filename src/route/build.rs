//! Reading a routes file into a [`Router`]: its statements, the mappings it names (each
//! loaded, checked and compiled as any mapping), its conditions (checked against the
//! source contract), every mistake of all of them at once.

use super::{reason, Route, Routed, Router};
use crate::compile::conditions::compile_conditions;
use crate::compile::{compile, Options};
use crate::diag::{Code, Diag};
use crate::engine::MappingErrors;
use crate::load::{load_within, routes_file_mistakes, Mapping};
use crate::program::Program;
use crate::repo::display_name;
use crate::syntax::ast::{self, File, Item};
use crate::syntax::{parse, FileId, Sources, Span};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Whether the file at `path` is a routes file (it has a `route`). A file that cannot be
/// read or parsed is not: loading it as a mapping reports why.
pub fn is_routes_file(path: &Path) -> bool {
    read_routes(path)
        .ok()
        // Without the word no statement is a `route`: a mapping is not parsed twice.
        .filter(|t| t.contains("route"))
        .and_then(|t| parse(&t, FileId(0)).ok())
        .is_some_and(|f| has_routes(&f))
}

fn has_routes(f: &File) -> bool {
    f.items.iter().any(|i| matches!(i, Item::Route(_)))
}

/// Checks a routes file for `bondmap check`: its own statements and conditions, and every
/// mapping it names as that mapping will run (its params set). The diagnostics point into
/// the returned mapping's sources (the routes file first, then each mapping's files).
/// `root` is the mapping root (`--root`, the folder given to `check`); without it, the
/// routes file's own folder.
pub fn check(path: &Path, root: Option<&Path>) -> (Mapping, Vec<Diag>) {
    let opts = Options {
        root: root.map(Path::to_path_buf),
        ..Options::default()
    };
    let (_, sources, diags) = build(path, &opts);
    (
        Mapping {
            sources,
            ..Mapping::default()
        },
        diags,
    )
}

pub(super) fn load(path: &Path, opts: &Options) -> Result<Router, Box<MappingErrors>> {
    let (router, sources, diags) = build(path, opts);
    match router {
        Some(r) if !diags.iter().any(Diag::is_error) => Ok(r),
        _ => Err(Box::new(MappingErrors {
            mapping: Mapping {
                sources,
                ..Mapping::default()
            },
            diags,
            name: path.display().to_string(),
        })),
    }
}

/// Largest routes file read, as for any mapping file.
const MAX_ROUTES_FILE: u64 = crate::repo::fs::MAX_TEXT_BYTES;

/// A routes file's text: a regular file of bounded size.
fn read_routes(path: &Path) -> Result<String, String> {
    crate::repo::fs::read_regular_text(path, MAX_ROUTES_FILE)
}

fn build(path: &Path, opts: &Options) -> (Option<Router>, Sources, Vec<Diag>) {
    let text = match read_routes(path) {
        Ok(t) => t,
        Err(e) => {
            let d = Diag::error(
                Code::Io,
                None,
                format!("cannot read {}: {e}", display_name(path)),
            );
            return (None, Sources::default(), vec![d]);
        }
    };
    match parse(&text, FileId(0)) {
        Ok(file) if has_routes(&file) => routes(path, &text, file, opts),
        // A plain mapping (or one that does not parse: loading it says why).
        _ => plain(path, opts),
    }
}

/// A plain mapping file: one route that takes every order.
fn plain(path: &Path, opts: &Options) -> (Option<Router>, Sources, Vec<Diag>) {
    let (m, mut diags) = load_within(path, opts.root.as_deref());
    let mut program = None;
    if !diags.iter().any(Diag::is_error) {
        let (p, more) = compile(&m, opts);
        diags.extend(more);
        program = p;
    }
    let router = program
        .filter(|_| !diags.iter().any(Diag::is_error))
        .map(|program| Router {
            routes: vec![Route {
                mapping: 0,
                when: None,
            }],
            mappings: vec![Routed {
                path: path.to_path_buf(),
                program,
            }],
            conds: empty_program(Sources::default(), None),
            shown: Vec::new(),
            plain: true,
            sources: m.sources.clone(),
            warnings: diags.clone(),
        });
    (router, m.sources, diags)
}

/// A mapping a route names, as found on disk.
struct Named {
    /// As the route wrote it, joined to the routes file's folder (for messages).
    path: PathBuf,
    canon: PathBuf,
    /// The first route that names it.
    span: Span,
}

/// What is known while a routes file is read: its folder and root, every file read so
/// far (the routes file is file 0) and every mistake found.
struct Build {
    sources: Sources,
    diags: Vec<Diag>,
    /// The routes file's folder, as given: route paths are relative to it.
    dir: PathBuf,
    /// The mapping root: a routes file sits at the top of the mapping tree it routes to.
    root: PathBuf,
    id: FileId,
}

fn routes(
    path: &Path,
    text: &str,
    file: File,
    opts: &Options,
) -> (Option<Router>, Sources, Vec<Diag>) {
    let mut sources = Sources::default();
    let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let id = sources.add(&canon, display_name(path), Arc::from(text));
    let mut b = Build {
        sources,
        diags: routes_file_mistakes(&file),
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        root: match &opts.root {
            Some(r) => r.canonicalize().unwrap_or_else(|_| r.clone()),
            None => canon.parent().map(Path::to_path_buf).unwrap_or_default(),
        },
        id,
    };
    let (source, routes) = b.statements(file);
    let (named, route_to) = b.resolve(&routes);
    b.unreached(&routes);
    let conds: Vec<_> = routes.iter().filter_map(|r| r.when.as_ref()).collect();
    let contract = source.as_ref().map(|(p, _)| p.clone());
    let (compiled, more) = compile_conditions(&b.sources, id, source, &conds);
    b.diags.extend(more);
    let routes_only = b.sources.clone();
    let programs = b.mappings(&named, opts, contract.as_deref());

    let Build { sources, diags, .. } = b;
    if diags.iter().any(Diag::is_error) {
        return (None, sources, diags);
    }
    // No error: every route names a mapping and every mapping compiled.
    let mappings: Option<Vec<Routed>> = named
        .into_iter()
        .zip(programs)
        .map(|(n, p)| {
            Some(Routed {
                path: n.path,
                program: p?,
            })
        })
        .collect();
    let mut nodes = compiled.nodes.into_iter();
    let table: Option<Vec<Route>> = routes
        .iter()
        .zip(route_to)
        .map(|(r, to)| {
            let when = r.when.as_ref().and_then(|_| nodes.next());
            Some(Route { mapping: to?, when })
        })
        .collect();
    let (Some(mappings), Some(table)) = (mappings, table) else {
        return (None, sources, diags);
    };
    let shown = reason::shown(
        table.iter().filter_map(|r| r.when.as_ref()),
        compiled.source.as_ref(),
    );
    let order_id = mappings
        .first()
        .and_then(|m| m.program.order_id.clone())
        .filter(reads_only_the_order);
    let router = Router {
        routes: table,
        mappings,
        conds: empty_program(routes_only, order_id),
        shown,
        plain: false,
        sources: sources.clone(),
        warnings: diags.clone(),
    };
    (Some(router), sources, diags)
}

impl Build {
    /// The `source` (one, inside the root) and the routes, in order.
    fn statements(&mut self, file: File) -> (Option<(PathBuf, Span)>, Vec<ast::Route>) {
        let mut source: Option<(PathBuf, Span)> = None;
        let mut routes = Vec::new();
        for item in file.items {
            match item {
                Item::Source { path, span } => {
                    let base = path.starts_with(crate::repo::BASE_SCHEME);
                    let p = if base {
                        match crate::repo::resolve_base(&self.dir, &path) {
                            Ok((p, _)) => p,
                            Err(e) => {
                                self.diags.push(
                                    Diag::error(
                                        Code::Io,
                                        span,
                                        format!("cannot read `{path}`: {e}"),
                                    )
                                    .label("a file of the base set"),
                                );
                                continue;
                            }
                        }
                    } else {
                        self.dir.join(&path)
                    };
                    if source.is_some() {
                        self.diags.push(
                            Diag::error(Code::Duplicate, span, "a second `source` in this file")
                                .label("second source")
                                .help("a routes file reads one kind of order: keep one `source`"),
                        );
                    } else if base || inside(&p, &self.root, span, "source schema", &mut self.diags)
                    {
                        source = Some((p, span));
                    }
                }
                Item::Route(r) => routes.push(r),
                _ => {}
            }
        }
        (source, routes)
    }

    /// The mappings named, each once, in the order first named; and for each route the
    /// index of its mapping (`None` for one that is missing or outside the root).
    fn resolve(&mut self, routes: &[ast::Route]) -> (Vec<Named>, Vec<Option<usize>>) {
        let mut named: Vec<Named> = Vec::new();
        let mut route_to = Vec::with_capacity(routes.len());
        for r in routes {
            let p = self.dir.join(&r.path);
            if !p.is_file() {
                let why = if p.exists() {
                    "not a file"
                } else {
                    "no such file"
                };
                self.diags.push(
                    Diag::error(
                        Code::Io,
                        r.path_span,
                        format!("cannot read mapping {}: {why}", display_name(&p)),
                    )
                    .label("this mapping")
                    .help("a route's path is relative to the routes file's folder"),
                );
                route_to.push(None);
                continue;
            }
            if !inside(&p, &self.root, r.path_span, "mapping", &mut self.diags) {
                route_to.push(None);
                continue;
            }
            let canon = p.canonicalize().unwrap_or_else(|_| p.clone());
            let i = named
                .iter()
                .position(|n| n.canon == canon)
                .unwrap_or_else(|| {
                    named.push(Named {
                        path: p,
                        canon,
                        span: r.path_span,
                    });
                    named.len() - 1
                });
            route_to.push(Some(i));
        }
        (named, route_to)
    }

    /// Routes after one that takes every order are never reached (a warning).
    fn unreached(&mut self, routes: &[ast::Route]) {
        let Some(all) = routes.iter().position(|r| r.when.is_none()) else {
            return;
        };
        let line = self.sources.get(self.id).line_col(routes[all].span.start).0;
        for r in &routes[all + 1..] {
            self.diags.push(
                Diag::warning(
                    Code::Unused,
                    r.span,
                    format!(
                        "this route is never reached: the route on line {line} takes every order"
                    ),
                )
                .label("never reached")
                .help("routes are tried in order; put the route without `when` last"),
            );
        }
    }

    /// Each mapping named, loaded and compiled as it will run, with the run's options
    /// that concern it; its diagnostics join this file's (its files added to the sources).
    /// A mapping whose `source` is another contract than the routes' (`contract`) maps
    /// another kind of input: routing these orders to it is a mistake.
    fn mappings(
        &mut self,
        named: &[Named],
        opts: &Options,
        contract: Option<&Path>,
    ) -> Vec<Option<Program>> {
        let mut programs = Vec::with_capacity(named.len());
        let (mut params, mut tables) = (HashSet::new(), HashSet::new());
        for n in named {
            let (m, mut ds) = load_within(&n.path, opts.root.as_deref());
            if let (Some(want), Some((theirs, _))) = (contract, &m.source) {
                if !same_file(want, theirs) {
                    self.diags.push(
                        Diag::error(
                            Code::Routes,
                            n.span,
                            format!(
                                "the mapping {} reads {}, not the {} these routes read",
                                display_name(&n.path),
                                display_name(theirs),
                                display_name(want)
                            ),
                        )
                        .label("another kind of input")
                        .help("a route names a mapping of the orders the routes read (the same `source`)"),
                    );
                }
            }
            params.extend(m.params.iter().map(|p| p.name.name.clone()));
            tables.extend(
                m.tables
                    .iter()
                    .filter(|t| is_csv(t))
                    .map(|t| t.decl.name.name.clone()),
            );
            let mut program = None;
            if !ds.iter().any(Diag::is_error) {
                let (p, more) = compile(&m, &own_options(&m, opts));
                ds.extend(more);
                program = p;
            }
            let offset = self.sources.files.len() as u32;
            self.sources.files.extend(m.sources.files.iter().cloned());
            for d in &mut ds {
                if let Some(s) = &mut d.span {
                    s.file = FileId(s.file.0 + offset);
                }
                for n in &mut d.notes {
                    n.span.file = FileId(n.span.file.0 + offset);
                }
            }
            let errors = ds.iter().filter(|d| d.is_error()).count();
            if errors > 0 {
                self.diags.push(
                    Diag::error(
                        Code::Routes,
                        n.span,
                        format!(
                            "the mapping {} does not check: {errors} error(s), shown in its file",
                            display_name(&n.path)
                        ),
                    )
                    .label("this mapping has errors")
                    .help("fix the mapping; orders routed to it cannot be mapped"),
                );
            }
            self.diags.extend(ds);
            programs.push(program.filter(|_| errors == 0));
        }
        for (name, _) in &opts.params {
            if !params.contains(name) {
                self.diags.push(Diag::error(
                    Code::UnknownParam,
                    None,
                    format!("--param {name}: no routed mapping declares such a param"),
                ));
            }
        }
        for (name, _) in &opts.tables {
            if !tables.contains(name) {
                self.diags.push(Diag::error(
                    Code::UnknownTable,
                    None,
                    format!("--table {name}: no routed mapping has a CSV table of that name"),
                ));
            }
        }
        programs
    }
}

/// Whether `path` (which exists) is inside `root`; if not, says so at `span`.
fn inside(path: &Path, root: &Path, span: Span, what: &str, diags: &mut Vec<Diag>) -> bool {
    let ok = path.canonicalize().is_ok_and(|c| c.starts_with(root));
    if !ok && path.exists() {
        diags.push(
            Diag::error(
                Code::Io,
                span,
                format!(
                    "cannot read {what} {}: it is outside the mapping root {}",
                    display_name(path),
                    display_name(root)
                ),
            )
            .label("outside the mapping root")
            .help("a routes file names files in its own folder or below it"),
        );
    }
    // A path that does not exist is reported where it is read.
    ok || !path.exists()
}

/// The run's options as they apply to one routed mapping: only the params and CSV tables
/// it declares (the others are for other warehouses).
fn own_options(m: &Mapping, opts: &Options) -> Options {
    Options {
        params: opts
            .params
            .iter()
            .filter(|(n, _)| m.params.iter().any(|p| p.name.name == *n))
            .cloned()
            .collect(),
        tables: opts
            .tables
            .iter()
            .filter(|(n, _)| m.tables.iter().any(|t| is_csv(t) && t.decl.name.name == *n))
            .cloned()
            .collect(),
        allow_unset_params: opts.allow_unset_params,
        root: opts.root.clone(),
    }
}

/// Whether two paths name one file (both canonical when they exist; a bundled file's
/// path folded).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => crate::repo::bundled::fold(a) == crate::repo::bundled::fold(b),
    }
}

/// Only a CSV table can be swapped for a file (`--table NAME=FILE`).
fn is_csv(t: &crate::load::TableDef) -> bool {
    matches!(t.decl.body, crate::syntax::ast::TableBody::Csv { .. })
}

/// Whether a node reads the order and constants only (no lets, tables or fields of a
/// program), so that it runs in any program: here, the order id in the routes' program.
fn reads_only_the_order(n: &crate::program::Node) -> bool {
    use crate::program::Op as K;
    let mut ok = !matches!(
        n.code,
        K::Local(_)
            | K::Global(_)
            | K::LocalPath(..)
            | K::GlobalPath(..)
            | K::Out(..)
            | K::Lookup { .. }
    );
    n.each_child(&mut |c| ok &= reads_only_the_order(c));
    ok
}

/// A program with no fields: the routes' conditions run in it.
fn empty_program(sources: Sources, order_id: Option<crate::program::Node>) -> Program {
    Program {
        sources,
        settings: Default::default(),
        order_id,
        globals: Vec::new(),
        requires: Vec::new(),
        root: Vec::new(),
        tables: Vec::new(),
        // Routes read the whole order.
        input: crate::program::input::Shape::whole().into(),
        writes: Default::default(),
        // The conditions may nest as deep as any expression.
        depth: crate::syntax::depth::MAX_EXPR_DEPTH + 2 * crate::syntax::depth::MAX_BRACKETS,
        personal_out: Vec::new(),
        source_pii: crate::schema::PiiPaths::red().clone(),
    }
}
