//! `bondmap test`: the repo's order mappings × its example orders against reviewed
//! snapshots; `--accept` stores the new output, `--review` asks per change.

use super::common::{parse_kv, stderr_is_tty};
use crate::load::display_name;
use crate::snapshot::{collect, Case, Layout, Outcome};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The mapping files (searched recursively).
    #[arg(long, default_value = "mappings")]
    pub mappings: PathBuf,
    /// The example orders (*.json).
    #[arg(long, default_value = "examples/orders")]
    pub examples: PathBuf,
    /// The snapshots folder (mapping snapshots go to its mappings/ subfolder).
    #[arg(long, default_value = "snapshots")]
    pub snapshots: PathBuf,
    /// Test this mapping over its own examples (e.g. a mapping of Cainiao notices):
    /// `--examples-for mappings/red/order_deliver.map=examples/notices` (repeatable).
    #[arg(long = "examples-for", value_name = "MAPPING=DIR", value_parser = parse_kv)]
    pub examples_for: Vec<(String, String)>,
    /// Store every new and changed snapshot.
    #[arg(long, conflicts_with = "review")]
    pub accept: bool,
    /// Ask on the terminal, change by change, whether to store it.
    #[arg(long)]
    pub review: bool,
}

/// A reviewer's answer to one change.
enum Answer {
    Yes,
    No,
    Quit,
}

pub fn run(a: &Args) -> u8 {
    if a.review && !std::io::stdin().is_terminal() {
        eprintln!(
            "error: --review asks about each change on a terminal, and standard input is not one; \
             use --accept to store every change, or review the .snap.new files with `cargo insta review`"
        );
        return 2;
    }
    let layout = match repo_layout(a) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let suite = match collect(&layout) {
        Ok(s) => s,
        Err(problems) => {
            for p in problems {
                eprint!("{}", p.render(stderr_is_tty()));
            }
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for s in &suite.skipped {
        let _ = writeln!(out, "skipped: {}: {}", s.mapping, s.reason);
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut asking = a.review;
    for c in &suite.cases {
        if c.outcome() == Outcome::Passed {
            passed += 1;
            if let Err(e) = c.clear_pending() {
                eprintln!("error: {}: {e}", c.path.display());
                return 2;
            }
            continue;
        }
        let _ = write!(out, "{}", c.report(asking));
        let take = if a.accept {
            true
        } else if asking {
            let _ = out.flush();
            match ask(c) {
                Answer::Yes => true,
                Answer::No => false,
                Answer::Quit => {
                    asking = false;
                    false
                }
            }
        } else {
            false
        };
        let done = if take {
            c.accept().map(|()| {
                let _ = writeln!(out, "  accepted: {}", display_name(&c.path));
            })
        } else {
            c.leave_pending().map(|p| {
                let _ = writeln!(out, "  pending: {}", display_name(&p));
            })
        };
        if let Err(e) = done {
            eprintln!("error: cannot write the snapshot of {}: {e}", c.name);
            return 2;
        }
        if take {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    for u in &suite.unused {
        let shown = display_name(u);
        if a.accept {
            if let Err(e) = std::fs::remove_file(u) {
                eprintln!("error: cannot remove {shown}: {e}");
                return 2;
            }
            let _ = writeln!(out, "removed: {shown} (its example is gone)");
        } else {
            let _ = writeln!(
                out,
                "unused: {shown} (its example is gone; --accept removes it)"
            );
        }
    }
    if failed > 0 && !a.accept {
        let _ = writeln!(
            out,
            "review with `bondmap test --review`, store all with `bondmap test --accept`"
        );
    }
    // The last line, alone, for CI systems to read.
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    u8::from(failed > 0)
}

/// The folders made absolute, and the current folder moved to the one holding the
/// snapshots folder: rejection messages name mapping files relative to the current
/// folder, so a snapshot reads the same wherever `bondmap test` is started from.
fn repo_layout(a: &Args) -> Result<Layout, String> {
    let abs = |p: &PathBuf| {
        std::path::absolute(p).map_err(|e| format!("cannot resolve {}: {e}", p.display()))
    };
    let layout = Layout {
        mappings: abs(&a.mappings)?,
        examples: abs(&a.examples)?,
        snapshots: abs(&a.snapshots)?,
        examples_for: a
            .examples_for
            .iter()
            .map(|(m, d)| Ok((abs(&PathBuf::from(m))?, abs(&PathBuf::from(d))?)))
            .collect::<Result<_, String>>()?,
    };
    if let Some(root) = layout.snapshots.parent() {
        std::env::set_current_dir(root)
            .map_err(|e| format!("cannot enter {}: {e}", root.display()))?;
    }
    Ok(layout)
}

/// Asks on the terminal whether to store this change; end of input counts as quit.
fn ask(c: &Case) -> Answer {
    let stdin = std::io::stdin();
    loop {
        eprint!(
            "store the new snapshot of {}? [y]es / [n]o / [q]uit: ",
            c.name
        );
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => return Answer::Quit,
            Ok(_) => {}
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Answer::Yes,
            "n" | "no" => return Answer::No,
            "q" | "quit" => return Answer::Quit,
            _ => eprintln!("answer y, n or q"),
        }
    }
}
