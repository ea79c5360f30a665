//! `bondmap map`: orders in, `logistics_interface` JSON out.

use super::common::{
    line_text, read_json, read_lines, route_or_report, single_input, InputArgs, InputError,
    MappingArgs, OrdersArgs,
};
use crate::route::{Mapped, Router};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    pub orders: OrdersArgs,
    /// Indent the request JSON for people (not with --ndjson: one request a line).
    #[arg(long, conflicts_with = "ndjson")]
    pub pretty: bool,
}

pub fn run(a: &Args) -> u8 {
    map_orders(&a.orders.mapping, &a.orders.input, a.pretty)
}

/// A skipped order for messages: its id and why no route takes it.
fn skipped(router: &Router, doc: &serde_json::Value, reason: &str) -> String {
    match router.order_id(doc) {
        Some(id) => format!("order {id}: {reason}"),
        None => reason.to_string(),
    }
}

fn map_orders(m: &MappingArgs, i: &InputArgs, pretty: bool) -> u8 {
    let Some(prog) = route_or_report(m) else {
        return 2;
    };
    if let Some(src) = &i.ndjson {
        return run_ndjson(&prog, src);
    }
    if let Some(dir) = i.input.as_deref().filter(|p| p.is_dir()) {
        return run_dir(&prog, dir, pretty);
    }
    let doc = match single_input(i) {
        Ok(d) => d,
        Err(e) => return e.report(),
    };
    let mut json = String::new();
    match prog.map_into(&doc, &mut json) {
        Ok(Mapped::Mapped { .. }) if pretty => {
            println!("{}", crate::snapshot::pretty(&json));
            0
        }
        Ok(Mapped::Mapped { .. }) => {
            println!("{json}");
            0
        }
        // Not this tool's order (direct mail, another warehouse): nothing to do, not a failure.
        Ok(Mapped::Skipped { reason }) => {
            eprintln!("skipped: {}", skipped(&prog, &doc, &reason));
            0
        }
        Err(e) => {
            eprintln!("rejected: {e}");
            1
        }
    }
}

/// Every `*.json` input document of a folder, in name order: one request a line on
/// stdout, each rejected file on stderr.
fn run_dir(prog: &Router, dir: &Path, pretty: bool) -> u8 {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", dir.display());
            return 2;
        }
    };
    files.sort();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let (mut ok, mut bad, mut skip) = (0, 0, 0);
    for f in &files {
        let result = read_json(f).map_err(|e| match e {
            InputError::Io(m) | InputError::Json(m) => m,
        });
        let mut json = String::new();
        let mapped = result.and_then(|doc| match prog.map_into(&doc, &mut json) {
            Ok(Mapped::Mapped { .. }) => Ok(None),
            Ok(Mapped::Skipped { reason }) => Ok(Some(skipped(prog, &doc, &reason))),
            Err(e) => Err(e.to_string()),
        });
        match mapped {
            Ok(Some(why)) => {
                skip += 1;
                eprintln!("{}: skipped: {why}", f.display());
            }
            Ok(None) => {
                ok += 1;
                let json = if pretty {
                    crate::snapshot::pretty(&json)
                } else {
                    json
                };
                if writeln!(out, "{json}").is_err() {
                    return 2;
                }
            }
            Err(e) => {
                bad += 1;
                eprintln!("{}: rejected: {e}", f.display());
            }
        }
    }
    if out.flush().is_err() {
        return 2;
    }
    eprintln!("{ok} mapped, {bad} rejected{}", skipped_count(skip));
    u8::from(bad > 0)
}

/// ", N skipped" for a summary line, when orders were skipped.
fn skipped_count(n: u64) -> String {
    if n > 0 {
        format!(", {n} skipped")
    } else {
        String::new()
    }
}

fn run_ndjson(prog: &Router, src: &str) -> u8 {
    let reader: Box<dyn BufRead> = if src == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(src) {
            Ok(f) => Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!("error: cannot read {src}: {e}");
                return 2;
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let stats = map_stream(prog, reader, &mut out, &mut |line, msg| {
        eprintln!("line {line}: {msg}")
    });
    if out.flush().is_err() {
        return 2;
    }
    match stats {
        Ok((ok, rejected, skip)) => {
            eprintln!("{ok} mapped, {rejected} rejected{}", skipped_count(skip));
            u8::from(rejected > 0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// Lines read and mapped at a time: bounds memory whatever the stream's length.
const BATCH: usize = 1024;

/// Maps a stream of input documents, one a line, writing one request a line in input
/// order; rejected and skipped orders go to `report` with their line number and
/// `rejected: …` or `skipped: …`. Batches are mapped on all cores. Returns (mapped,
/// rejected, skipped).
pub fn map_stream(
    prog: &Router,
    mut reader: impl BufRead,
    out: &mut impl Write,
    report: &mut dyn FnMut(usize, String),
) -> std::io::Result<(u64, u64, u64)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (mut ok, mut bad, mut skip) = (0u64, 0u64, 0u64);
    let mut lines: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
    let mut first_line = 1usize;
    loop {
        let n = read_lines(&mut reader, &mut lines, BATCH)?;
        if n == 0 {
            break;
        }
        let batch = &lines[..n];
        let per = n.div_ceil(threads).max(256);
        // Contiguous parts of the batch mapped on all cores ([`crate::pool`]), written in order.
        let parts: Vec<(usize, &[Vec<u8>])> = batch.chunks(per).enumerate().collect();
        let parts = crate::pool::map(&parts, threads, |&(i, part)| {
            map_part(prog, part, first_line + i * per)
        })
        .into_iter()
        .map(|p| p.unwrap_or_else(|_| Part::failed()));
        for p in parts {
            out.write_all(p.out.as_bytes())?;
            ok += p.ok;
            bad += p.rejected;
            skip += p.skipped;
            for (line, msg) in p.notes {
                report(line, msg);
            }
        }
        first_line += n;
        if n < BATCH {
            break;
        }
    }
    Ok((ok, bad, skip))
}

/// What one thread made of its share of a batch.
struct Part {
    out: String,
    ok: u64,
    rejected: u64,
    skipped: u64,
    /// `rejected: …` and `skipped: …` by line, in line order.
    notes: Vec<(usize, String)>,
}

impl Part {
    fn failed() -> Part {
        Part {
            out: String::new(),
            ok: 0,
            rejected: 1,
            skipped: 0,
            notes: vec![(
                0,
                "rejected: internal error: a mapping thread failed".into(),
            )],
        }
    }

    fn reject(&mut self, line: usize, msg: impl std::fmt::Display) {
        self.rejected += 1;
        self.notes.push((line, format!("rejected: {msg}")));
    }
}

fn map_part(prog: &Router, lines: &[Vec<u8>], first_line: usize) -> Part {
    let mut p = Part {
        out: String::with_capacity(lines.len() * 2048),
        ok: 0,
        rejected: 0,
        skipped: 0,
        notes: Vec::new(),
    };
    for (i, line) in lines.iter().enumerate() {
        let text = match line_text(line) {
            Ok(t) => t,
            Err(e) => {
                p.reject(first_line + i, e);
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        let doc: serde_json::Value = match prog.parse_order(text) {
            Ok(d) => d,
            Err(e) => {
                p.reject(first_line + i, format!("not valid JSON: {e}"));
                continue;
            }
        };
        let mark = p.out.len();
        match prog.map_into(&doc, &mut p.out) {
            Ok(Mapped::Mapped { .. }) => {
                p.out.push('\n');
                p.ok += 1;
            }
            Ok(Mapped::Skipped { reason }) => {
                p.skipped += 1;
                let why = skipped(prog, &doc, &reason);
                p.notes.push((first_line + i, format!("skipped: {why}")));
            }
            Err(e) => {
                p.out.truncate(mark);
                p.reject(first_line + i, e);
            }
        }
    }
    p
}
