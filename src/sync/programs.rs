//! The mappings of an order's later messages (cancel, ship-back, customs status, payment
//! re-push), each compiled for a warehouse when first needed and kept across rounds.

use crate::compile::Options;
use crate::program::Program;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Compiled per (message mapping, warehouse file); a mapping that does not compile is
/// kept as its rendered error, so it is not compiled again each round.
#[derive(Default)]
pub struct Programs(HashMap<(PathBuf, PathBuf), Result<Program, String>>);

impl Programs {
    /// The message mapping `message` compiled for `warehouse`.
    pub fn get(
        &mut self,
        message: &Path,
        warehouse: &Path,
        opts: &Options,
    ) -> Result<&Program, String> {
        let key = (message.to_path_buf(), warehouse.to_path_buf());
        let built = self.0.entry(key).or_insert_with(|| {
            crate::warehouse::load_for_warehouse(message, warehouse, opts)
                .map(|(p, _)| p)
                .map_err(|e| first_lines(&e.render(false)))
        });
        built.as_ref().map_err(Clone::clone)
    }
}

/// The start of a rendered mapping error, enough for a person to find it.
fn first_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(6)
        .collect::<Vec<_>>()
        .join(" / ")
}
