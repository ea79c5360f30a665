//! `bondmap fmt`: the canonical layout of mapping files.

use crate::repo::fs::{read_regular_text, MAX_TEXT_BYTES};
use crate::repo::walk::mapping_files;
use crate::syntax::print::format;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Files or folders of `.map` files.
    pub paths: Vec<std::path::PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 if any.
    #[arg(long)]
    pub check: bool,
}

pub fn run(a: &Args) -> u8 {
    fmt_files(&a.paths, a.check)
}

fn fmt_files(paths: &[PathBuf], check: bool) -> u8 {
    let found = match mapping_files(paths, None) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // A link out of the folder, a FIFO or a device is never read (nor written).
    if !found.refused.is_empty() {
        for r in &found.refused {
            eprintln!("error: {r}");
        }
        return 2;
    }
    let mut unformatted = 0;
    for f in found.files {
        let text = match read_regular_text(&f, MAX_TEXT_BYTES) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", f.display());
                return 2;
            }
        };
        let formatted = match format(&text) {
            Ok(t) => t,
            Err(e) => {
                eprintln!(
                    "error: {}: cannot format, it does not parse: {} (run `bondmap check`)",
                    f.display(),
                    e.message
                );
                return 2;
            }
        };
        if formatted == text {
            continue;
        }
        unformatted += 1;
        if check {
            println!("{}", f.display());
        } else if let Err(e) = std::fs::write(f.canonicalize().unwrap_or(f.clone()), formatted) {
            eprintln!("error: cannot write {}: {e}", f.display());
            return 2;
        }
    }
    u8::from(check && unformatted > 0)
}
