//! `bondmap test`: the repo's order mappings × its example orders against reviewed
//! snapshots; `--accept` stores the new output, `--review` asks per change.

use super::common::{parse_kv, stderr_is_tty};
use crate::repo::display_name;
use crate::repo::Repo;
use crate::snapshot::{collect, Case, Layout, Outcome};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Args {
    /// The mapping files (searched recursively); default: the mapping root of
    /// bondmap.toml, else `mappings`.
    #[arg(long)]
    pub mappings: Option<PathBuf>,
    /// The example orders (*.json); default: bondmap.toml's `[test] examples`, else
    /// `examples/orders`.
    #[arg(long)]
    pub examples: Option<PathBuf>,
    /// The snapshots folder (mapping snapshots go to its mappings/ subfolder); default:
    /// bondmap.toml's `[test] snapshots`, else `snapshots`.
    #[arg(long)]
    pub snapshots: Option<PathBuf>,
    /// The folder every file a mapping names must be in (as `check --root`); default:
    /// each mapping's own (bondmap.toml's root, else the parent of its folder).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
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

/// The folders made absolute (flags first, then the `bondmap.toml` above the working
/// folder, then the defaults), and the current folder moved to the one holding the
/// snapshots folder: rejection messages name mapping files relative to the current
/// folder, so a snapshot reads the same wherever `bondmap test` is started from.
pub(super) fn repo_layout(a: &Args) -> Result<Layout, String> {
    let abs = |p: &Path| {
        std::path::absolute(p).map_err(|e| format!("cannot resolve {}: {e}", p.display()))
    };
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let repo = Repo::find(&cwd)?;
    let config = repo.as_ref().map(|r| &r.config.test);
    let pick = |flag: &Option<PathBuf>, of_repo: &dyn Fn(&Repo) -> PathBuf, default: &str| match (
        flag, &repo,
    ) {
        (Some(f), _) => abs(f),
        (None, Some(r)) => Ok(of_repo(r)),
        (None, None) => abs(Path::new(default)),
    };
    let examples = pick(
        &a.examples,
        &|r| r.path(&r.config.test.examples),
        "examples/orders",
    )?;
    let mut layout = Layout {
        mappings: pick(&a.mappings, &Repo::root, "mappings")?,
        snapshots: pick(
            &a.snapshots,
            &|r| r.path(&r.config.test.snapshots),
            "snapshots",
        )?,
        examples_for: a
            .examples_for
            .iter()
            .map(|(m, d)| Ok((abs(Path::new(m))?, abs(Path::new(d))?)))
            .collect::<Result<_, String>>()?,
        listed_only: false,
        may_be_empty: Vec::new(),
        root: a.root.as_deref().map(abs).transpose()?,
        examples: examples.clone(),
    };
    if let (Some(r), Some(t)) = (&repo, config) {
        // The mappings bondmap.toml lists are the ones tested, each over its examples.
        layout.listed_only = !t.mapping.is_empty();
        if t.allow_empty {
            layout.may_be_empty.push(examples.clone());
        }
        for m in &t.mapping {
            let dir = m.examples.as_ref().map_or(examples.clone(), |d| r.path(d));
            if m.allow_empty.unwrap_or(t.allow_empty) {
                layout.may_be_empty.push(dir.clone());
            }
            layout.examples_for.push((r.path(&m.file), dir));
        }
    }
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
