//! Which mapping sends each order in a round: the one program of a plain mapping, or the
//! warehouse mapping a routes file picks (an order no route takes is skipped). Each
//! target carries what its requests need: their envelope (its `logistic_provider_id`), and
//! the warehouse's path as the state keeps it (relative to the `--mapping` file's folder).

use super::Pipeline;
use crate::gateway::request::Envelope;
use crate::program::Program;
use crate::route::{Pick, Router};
use crate::run::RunError;
use crate::store::OrderRow;
use std::path::{Path, PathBuf};

/// A routes file (or a plain mapping loaded as one) and the folder its paths are kept
/// relative to.
pub struct Routing<'a> {
    pub router: &'a Router,
    pub base: PathBuf,
}

impl<'a> Routing<'a> {
    /// `mapping` is the `--mapping` file the router was loaded from.
    pub fn new(router: &'a Router, mapping: &Path) -> Routing<'a> {
        Routing {
            router,
            base: mapping.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// The path the state keeps for a routed mapping.
    pub fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.base).ok().map(Path::to_path_buf);
        let rel = rel.or_else(|| {
            let (p, b) = (path.canonicalize().ok()?, self.base.canonicalize().ok()?);
            p.strip_prefix(b).ok().map(Path::to_path_buf)
        });
        rel.unwrap_or_else(|| path.to_path_buf())
            .to_string_lossy()
            .into_owned()
    }

    /// The file a kept path names again.
    pub fn resolve(&self, kept: &str) -> PathBuf {
        self.base.join(kept)
    }
}

/// One mapping an order can be sent with.
pub struct Target<'a> {
    pub program: &'a Program,
    /// What each of its requests carries besides the text.
    pub envelope: Envelope,
    pub warehouse: Option<String>,
}

/// The targets of a pipeline, in the router's order.
pub fn targets<'a>(p: &Pipeline<'a>) -> Vec<Target<'a>> {
    let cfg = p.gateway.config();
    let target = |program: &'a Program, warehouse: Option<String>| Target {
        program,
        envelope: Envelope::of(&program.settings, cfg),
        warehouse,
    };
    match &p.routing {
        Some(r) => r
            .router
            .programs()
            .map(|(path, prog)| target(prog, Some(r.relative(path))))
            .collect(),
        None => vec![target(p.program, None)],
    }
}

pub enum Picked<'t, 'a> {
    Target(&'t Target<'a>),
    Skipped(String),
}

/// The target that takes `doc`, or why none does.
pub fn pick<'t, 'a>(
    router: Option<&Router>,
    targets: &'t [Target<'a>],
    doc: &serde_json::Value,
) -> Result<Picked<'t, 'a>, RunError> {
    let index = match router {
        None => 0,
        Some(r) => match r.pick(doc)? {
            Pick::Mapping { index, .. } => index,
            Pick::Skipped { reason } => return Ok(Picked::Skipped(reason)),
        },
    };
    targets
        .get(index)
        .map(Picked::Target)
        .ok_or_else(|| RunError {
            code: crate::run::error::RunCode::Lookup,
            order_id: router.and_then(|r| r.order_id(doc)),
            field: None,
            source_path: None,
            location: String::new(),
            message: format!("route {index} names no loaded mapping"),
        })
}

/// The identity of what a run sends with: for a plain mapping, its
/// [`super::mapping_identity`] (as before routing, so its states stay valid); for a routes
/// file, a hash of the routes file and of each routed mapping's identity with its path.
pub fn routed_identity(router: &Router, mapping: &Path, params: &[(String, String)]) -> String {
    let mut programs = router.programs();
    if router.is_plain() {
        if let Some((_, p)) = programs.next() {
            return super::mapping_identity(p, params);
        }
    }
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    // The routes file's text as the router read it (its first source), not read again.
    let routes = router
        .sources()
        .files
        .first()
        .map_or(&b""[..], |f| f.text.as_bytes());
    h.update((routes.len() as u64).to_le_bytes());
    h.update(routes);
    let base = Routing::new(router, mapping);
    for (path, p) in programs {
        let rel = base.relative(path);
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update(super::mapping_identity(p, params).as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The warehouse mapping file an order was sent with: kept in the state relative to the
/// routes file (or, without routing, to the plain mapping's folder); for an order of an
/// earlier version that kept none, the plain mapping itself.
pub fn warehouse_of(p: &Pipeline, row: &OrderRow) -> Option<PathBuf> {
    match (&row.warehouse, &p.routing) {
        (Some(w), Some(r)) => Some(r.resolve(w)),
        (Some(w), None) => p
            .life
            .as_ref()
            .and_then(|l| l.fallback_warehouse.as_ref())
            .and_then(|f| f.parent())
            .map(|base| base.join(w)),
        (None, _) => p.life.as_ref()?.fallback_warehouse.clone(),
    }
}
