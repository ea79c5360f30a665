//! An order's later messages (its cancel, its ship-back) go through the warehouse it was
//! sent to: a message mapping (`mappings/cainiao/cancel.map`, `mappings/red/order_deliver.map`)
//! is compiled with the param values of that warehouse's mapping, for every param the
//! message mapping declares. A warehouse's codes are so written once, in its own file, and
//! no warehouse needs a second file per message.
//!
//! ```no_run
//! # use std::path::Path;
//! let (cancel, _warnings) = bondmap::warehouse::load_for_warehouse(
//!     Path::new("mappings/cainiao/cancel.map"),
//!     Path::new("mappings/warehouses/hangzhou_xiasha.map"),
//!     &Default::default(),
//! ).unwrap();
//! ```

use crate::compile::Options;
use crate::diag::Diag;
use crate::engine::{load_program, MappingErrors};
use crate::load::load;
use crate::program::Program;
use crate::syntax::ast::{ExprKind, Lit};
use std::path::Path;

/// The params a mapping (with what it uses) sets to a literal, as `--param` text.
pub fn params_of(mapping: &Path) -> Result<Vec<(String, String)>, Box<MappingErrors>> {
    let (m, diags) = load(mapping);
    if diags.iter().any(Diag::is_error) {
        return Err(Box::new(MappingErrors {
            mapping: m,
            diags,
            name: mapping.display().to_string(),
        }));
    }
    Ok(m.params
        .iter()
        .filter_map(|p| {
            let ExprKind::Lit(l) = &p.value.as_ref()?.kind else {
                return None;
            };
            let text = match l {
                Lit::Str(s) => s.clone(),
                Lit::Num(d, None) => d.to_string(),
                Lit::Bool(b) => b.to_string(),
                Lit::Num(_, Some(_)) | Lit::Null => return None,
            };
            Some((p.name.name.clone(), text))
        })
        .collect())
}

/// Compiles the message mapping at `message` with the params of the warehouse mapping at
/// `warehouse` (those the message mapping declares); `opts` (`--param`, `--table`) come
/// on top. A param the message needs that the warehouse does not set is the usual
/// `bondmap::unset_param` error.
pub fn load_for_warehouse(
    message: &Path,
    warehouse: &Path,
    opts: &Options,
) -> Result<(Program, Vec<Diag>), Box<MappingErrors>> {
    let (m, _) = load(message);
    let wanted: Vec<&str> = m
        .params
        .iter()
        .filter(|p| p.ty.is_some())
        .map(|p| p.name.name.as_str())
        .collect();
    let mut params: Vec<(String, String)> = params_of(warehouse)?
        .into_iter()
        .filter(|(n, _)| wanted.contains(&n.as_str()))
        .collect();
    // The run's own `--param`s come last, so they win.
    params.extend(opts.params.iter().cloned());
    let opts = Options {
        params,
        ..opts.clone()
    };
    load_program(message, &opts)
}
