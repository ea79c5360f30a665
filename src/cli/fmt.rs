//! `bondmap fmt`: the canonical layout of mapping files.

use super::common::map_files;
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
    let files = match map_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut unformatted = 0;
    for f in files {
        let text = match std::fs::read_to_string(&f) {
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
        } else if let Err(e) = std::fs::write(&f, formatted) {
            eprintln!("error: cannot write {}: {e}", f.display());
            return 2;
        }
    }
    u8::from(check && unformatted > 0)
}
