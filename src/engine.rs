//! Text to program in one call: load (with `use`s), check, compile.

use crate::compile::{compile, Options};
use crate::diag::{self, Diag};
use crate::load::{load_within, Mapping};
use crate::program::Program;
use std::path::Path;

/// A mapping that could not be compiled, with every problem found.
#[derive(Debug)]
pub struct MappingErrors {
    pub mapping: Mapping,
    pub diags: Vec<Diag>,
    pub name: String,
}

impl MappingErrors {
    pub fn render(&self, color: bool) -> String {
        diag::render(
            &diag::reports(&self.mapping.sources, &self.diags, &self.name),
            color,
        )
    }
}

impl std::fmt::Display for MappingErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for MappingErrors {}

/// Loads and compiles the mapping at `path`. Warnings are returned beside the program.
pub fn load_program(
    path: &Path,
    opts: &Options,
) -> Result<(Program, Vec<Diag>), Box<MappingErrors>> {
    let (mapping, mut diags) = load_within(path, opts.root.as_deref());
    let name = path.display().to_string();
    if diags.iter().any(Diag::is_error) {
        return Err(Box::new(MappingErrors {
            mapping,
            diags,
            name,
        }));
    }
    let (prog, more) = compile(&mapping, opts);
    diags.extend(more);
    match prog {
        Some(p) if !diags.iter().any(Diag::is_error) => Ok((p, diags)),
        _ => Err(Box::new(MappingErrors {
            mapping,
            diags,
            name,
        })),
    }
}

/// Puts the three RED answers side by side as one input document.
pub fn input_document(
    detail: serde_json::Value,
    declare: serde_json::Value,
    receiver: serde_json::Value,
) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("detail".into(), detail);
    m.insert("declare".into(), declare);
    m.insert("receiver".into(), receiver);
    serde_json::Value::Object(m)
}
