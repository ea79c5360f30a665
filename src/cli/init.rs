//! `bondmap init`: an integrator's own mapping repo that checks and tests green at once.

use super::test::{repo_layout, Args as TestArgs};
use crate::repo::display_name;
use crate::repo::init::{write, Plan};
use crate::snapshot::collect;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The folder to make the repo in (made if missing; default: the current one).
    pub dir: Option<PathBuf>,
    /// The warehouse file's name: `mappings/warehouses/NAME.map`.
    #[arg(long, value_name = "NAME", default_value = "my_warehouse")]
    pub warehouse: String,
}

pub fn run(a: &Args) -> u8 {
    let dir = a.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let plan = match Plan::new(&a.warehouse) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let written = match write(&dir, &plan) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for w in &written {
        println!("wrote {}", display_name(&dir.join(w)));
    }
    // The snapshots: what this bondmap maps the examples to, stored as `test --accept`
    // stores them, so `bondmap test` passes from the start.
    if let Err(e) = std::env::set_current_dir(&dir) {
        eprintln!("error: cannot enter {}: {e}", display_name(&dir));
        return 2;
    }
    let suite = match repo_layout(&TestArgs::default())
        .map_err(|e| vec![e])
        .and_then(|l| collect(&l).map_err(|ps| ps.iter().map(|p| p.render(false)).collect()))
    {
        Ok(s) => s,
        Err(problems) => {
            for p in problems {
                eprint!("error: {p}");
            }
            return 2;
        }
    };
    for c in &suite.cases {
        if let Err(e) = c.accept() {
            eprintln!("error: cannot write the snapshot of {}: {e}", c.name);
            return 2;
        }
        // Named from where init was run, as the files above are (we are in `dir` now).
        let inside = std::env::current_dir()
            .ok()
            .and_then(|here| c.path.strip_prefix(here).ok().map(|p| dir.join(p)));
        println!(
            "wrote {}",
            display_name(inside.as_deref().unwrap_or(&c.path))
        );
    }
    println!(
        "a bondmap repo for warehouse `{}`: `bondmap check` and `bondmap test` pass; read README.md",
        a.warehouse
    );
    0
}
