//! Routing: one shop, several warehouses. A routes file picks, for each order, the
//! warehouse mapping that maps it, from the order's own fields; an order no route takes
//! is skipped, with its reason, never guessed into a warehouse.
//!
//! ```text
//! source "schemas/red_order.schema.json"
//! route "warehouses/hangzhou_xiasha.map" when $.detail.logisticsMode == 2 and $.detail.whcode == "HZXS"
//! route "warehouses/ningbo_meishan.map"  when $.detail.logisticsMode == 2 and $.detail.whcode == "NBMS"
//! ```
//! The first route whose condition holds takes the order. A plain mapping file is a
//! router with one route that takes every order, so every command treats both alike.

mod build;
mod reason;

use crate::compile::Options;
use crate::diag::Diag;
use crate::engine::MappingErrors;
use crate::program::{Node, Program};
use crate::run::eval_node;
use crate::run::RunError;
use crate::syntax::Sources;
use crate::value::Val;
use std::path::{Path, PathBuf};

pub use build::{check, is_routes_file};

/// The mappings of a routes file (or of one plain mapping) and how an order picks one.
#[derive(Debug)]
pub struct Router {
    routes: Vec<Route>,
    mappings: Vec<Routed>,
    /// The program the conditions run in: the routes file's text, nothing else.
    conds: Program,
    /// What a skipped order's reason shows: the order's values the conditions read.
    shown: Vec<reason::Shown>,
    plain: bool,
    /// Every file read (the routes file, then each mapping's), for rendering warnings.
    sources: Sources,
    warnings: Vec<Diag>,
}

#[derive(Debug)]
struct Route {
    mapping: usize,
    when: Option<Node>,
}

#[derive(Debug)]
struct Routed {
    path: PathBuf,
    program: Program,
}

/// Where one order goes.
#[derive(Debug)]
pub enum Pick<'a> {
    /// The mapping that maps it: `index` is its place in [`Router::programs`], `route`
    /// the place of the route that took it in the routes file.
    Mapping {
        index: usize,
        route: usize,
        path: &'a Path,
        program: &'a Program,
    },
    /// No route takes it: it is not mapped and not sent. The reason names the values the
    /// routes read (codes and numbers; personal data never).
    Skipped { reason: String },
}

/// What became of one order given to [`Router::map_into`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// Its request was written, by the mapping at `index` of [`Router::programs`].
    Mapped { index: usize },
    /// No route takes it.
    Skipped { reason: String },
}

impl Router {
    /// Loads a routes file, or a plain mapping file (one route that takes every order),
    /// with every mapping it names compiled. `opts.tables` and `opts.params` apply to each
    /// routed mapping that declares that table or param; naming one that no routed mapping
    /// declares is an error.
    pub fn load(path: &Path, opts: &Options) -> Result<Router, Box<MappingErrors>> {
        build::load(path, opts)
    }

    /// The mapping that takes `doc`, or why none does. A condition that cannot be decided
    /// (a path with several values where one is due, a value that is not true or false)
    /// rejects the order as a mapping error would.
    pub fn pick(&self, doc: &serde_json::Value) -> Result<Pick<'_>, RunError> {
        for (i, r) in self.routes.iter().enumerate() {
            let takes = match &r.when {
                None => true,
                Some(n) => match eval_node(&self.conds, n, doc)? {
                    Val::Bool(b) => b,
                    // An absent value is no match: the route does not take the order.
                    Val::Null => false,
                    other => {
                        return Err(RunError {
                            code: crate::run::error::RunCode::Type,
                            order_id: self.order_id(doc),
                            field: None,
                            source_path: n.origin.clone(),
                            location: self.conds.sources.locate(n.span),
                            message: format!(
                                "a route's condition must be true or false, found {}",
                                other.kind()
                            ),
                        })
                    }
                },
            };
            if takes {
                let m = &self.mappings[r.mapping];
                return Ok(Pick::Mapping {
                    index: r.mapping,
                    route: i,
                    path: &m.path,
                    program: &m.program,
                });
            }
        }
        Ok(Pick::Skipped {
            reason: reason::reason(&self.conds, &self.shown, doc),
        })
    }

    /// Maps one order by the mapping that takes it, appending the request JSON to `out`
    /// (left as it was when the order is skipped or rejected). What commands use.
    pub fn map_into(&self, doc: &serde_json::Value, out: &mut String) -> Result<Mapped, RunError> {
        match self.pick(doc)? {
            Pick::Mapping { index, program, .. } => {
                crate::run::run_into(program, doc, out)?;
                Ok(Mapped::Mapped { index })
            }
            Pick::Skipped { reason } => Ok(Mapped::Skipped { reason }),
        }
    }

    /// Every routed mapping, once each, in the order the routes first name them.
    pub fn programs(&self) -> impl Iterator<Item = (&Path, &Program)> {
        self.mappings.iter().map(|m| (m.path.as_path(), &m.program))
    }

    /// The routed mapping at `index` of [`Router::programs`].
    pub fn mapping(&self, index: usize) -> Option<(&Path, &Program)> {
        self.mappings
            .get(index)
            .map(|m| (m.path.as_path(), &m.program))
    }

    /// The index of the routed mapping read from `path` (the same file, however
    /// written), e.g. to find again the mapping an order was sent with.
    pub fn find(&self, path: &Path) -> Option<usize> {
        let want = path.canonicalize().ok()?;
        self.mappings
            .iter()
            .position(|m| m.path.canonicalize().is_ok_and(|c| c == want))
    }

    /// Whether this came from a plain mapping file rather than a routes file.
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// Warnings found while loading (of the routes file and of every routed mapping).
    pub fn warnings(&self) -> &[Diag] {
        &self.warnings
    }

    /// The files read, for rendering [`Router::warnings`] with [`crate::diag::reports`].
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Parses an order's JSON text: for a plain mapping only what it reads (see
    /// [`crate::input`]); for routes the whole order, which the routes and each
    /// mapping read apart.
    pub fn parse_order(&self, text: &str) -> serde_json::Result<serde_json::Value> {
        match (self.plain, self.mappings.first()) {
            (true, Some(m)) => crate::run::parse_order(&m.program, text),
            _ => serde_json::from_str(text),
        }
    }

    /// The order's id, by the first routed mapping's `order_id` setting, for messages
    /// (a skipped order's, say).
    pub fn order_id(&self, doc: &serde_json::Value) -> Option<String> {
        crate::run::order_id(&self.mappings.first()?.program, doc)
    }
}

#[cfg(test)]
mod tests {
    /// A router is shared by the threads that map a stream, as a program is.
    #[test]
    fn router_is_shareable_across_threads() {
        fn is_sync<T: Send + Sync>() {}
        is_sync::<super::Router>();
    }
}
