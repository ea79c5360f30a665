//! `bondmap send`: map orders and send them to the Cainiao LINK gateway, one result
//! line per order.

use super::common::{
    gateway_config, line_text, prepare, read_json, read_lines, route_or_report, single_input,
    stderr_is_tty, InputArgs, InputError, MappingArgs, OrdersArgs,
};
use crate::gateway::{BatchSummary, Client, OrderResult, Outcome};
use crate::route::{Pick, Router};
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    pub orders: OrdersArgs,
    /// TOML file with a [cainiao] table; CAINIAO_APP_KEY, CAINIAO_SECRET_KEY, CAINIAO_GATEWAY_URL win.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Orders in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

pub fn run(a: &Args) -> u8 {
    send(
        &a.orders.mapping,
        &a.orders.input,
        a.config.as_deref(),
        a.concurrency,
    )
}

/// An input document with a label for messages (file name or line), or why it is unreadable.
type Labelled = (String, Result<serde_json::Value, String>);

/// Where the orders to send come from.
enum Input {
    /// `--ndjson`: streamed line by line.
    Stream(String),
    /// A folder's `*.json` files, in name order: read a batch at a time.
    Files(Vec<std::path::PathBuf>),
    /// One order.
    One(Labelled),
}

impl Input {
    /// How many orders, when known ahead (for the progress bar).
    fn len(&self) -> Option<usize> {
        match self {
            Input::Stream(_) => None,
            Input::Files(f) => Some(f.len()),
            Input::One(_) => Some(1),
        }
    }
}

fn documents(i: &InputArgs) -> Result<Input, String> {
    if let Some(src) = &i.ndjson {
        return Ok(Input::Stream(src.clone()));
    }
    if let Some(dir) = i.input.as_deref().filter(|p| p.is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        return Ok(Input::Files(files));
    }
    let label = i
        .input
        .as_ref()
        .map_or("input".to_string(), |p| p.display().to_string());
    match single_input(i) {
        Ok(d) => Ok(Input::One((label, Ok(d)))),
        Err(InputError::Json(m)) => Ok(Input::One((label, Err(m)))),
        Err(InputError::Io(m)) => Err(m),
    }
}

/// Orders of a stream or a folder mapped and sent at a time: memory stays flat whatever
/// their number (20,000 orders at once took 349 MB).
const SEND_BATCH: usize = 256;

/// Maps and sends batches of orders, one result line each, counting as it goes.
struct Sender<'a, W: Write> {
    prog: &'a Router,
    client: Client,
    concurrency: usize,
    out: W,
    /// Order codes sent in earlier batches: one given twice in a stream is sent once.
    seen: HashSet<String>,
    summary: BatchSummary,
    not_mapped: u64,
    /// Orders no route takes: not sent, not a failure.
    not_routed: u64,
    bar: Option<indicatif::ProgressBar>,
}

impl<W: Write> Sender<'_, W> {
    fn batch(&mut self, docs: impl IntoIterator<Item = Labelled>) {
        let mut prepared = Vec::new();
        for (label, doc) in docs {
            // Ok(Err(..)): no route takes the order (its id, why).
            let mapped = doc.and_then(|d| match self.prog.pick(&d) {
                Ok(Pick::Mapping { program, .. }) => crate::run::request(program, &d)
                    .map_err(|e| e.to_string())
                    .and_then(|w| prepare(program, self.client.config(), w))
                    .map(Ok),
                Ok(Pick::Skipped { reason }) => Ok(Err((self.prog.order_id(&d), reason))),
                Err(e) => Err(e.to_string()),
            });
            match mapped {
                Ok(Err((order_id, reason))) => {
                    self.not_routed += 1;
                    let line = serde_json::json!({"input": label, "order_id": order_id, "outcome": "skipped", "reason": reason});
                    let _ = writeln!(self.out, "{line}");
                }
                Ok(Ok(p)) if self.seen.contains(&p.external_order_code) => {
                    self.result(&OrderResult {
                        order_id: p.order_id,
                        outcome: Outcome::SkippedDuplicate,
                        attempts: 0,
                    });
                }
                Ok(Ok(p)) => {
                    self.seen.insert(p.external_order_code.clone());
                    prepared.push(p);
                }
                Err(e) => {
                    self.not_mapped += 1;
                    let line = serde_json::json!({"input": label, "outcome": "rejected_by_mapping", "error": e});
                    let _ = writeln!(self.out, "{line}");
                }
            }
        }
        if prepared.is_empty() {
            return;
        }
        let (out, bar) = (&mut self.out, &self.bar);
        let s = self.client.send_batch(prepared, self.concurrency, |r| {
            if let Ok(line) = serde_json::to_string(r) {
                let _ = writeln!(out, "{line}");
            }
            if let Some(b) = bar {
                b.inc(1);
            }
        });
        self.summary.accepted += s.accepted;
        self.summary.rejected += s.rejected;
        self.summary.failed += s.failed;
        self.summary.skipped_duplicate += s.skipped_duplicate;
    }

    fn result(&mut self, r: &OrderResult) {
        self.summary.count(&r.outcome);
        if let Ok(line) = serde_json::to_string(r) {
            let _ = writeln!(self.out, "{line}");
        }
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
}

/// Streams `--ndjson` through `sender` in batches: each line is read as bytes, so one
/// that is not UTF-8 or not JSON is rejected by its number and the others still go.
fn send_stream<W: Write>(sender: &mut Sender<'_, W>, src: &str) -> Result<(), String> {
    let mut reader: Box<dyn BufRead> = if src == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(src).map_err(|e| format!("cannot read {src}: {e}"))?,
        ))
    };
    let mut lines = Vec::with_capacity(SEND_BATCH);
    let mut first = 1usize;
    loop {
        let n = read_lines(&mut reader, &mut lines, SEND_BATCH).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        let prog = sender.prog;
        let docs: Vec<Labelled> = lines[..n]
            .iter()
            .enumerate()
            .filter_map(|(k, bytes)| {
                let label = format!("line {}", first + k);
                match line_text(bytes) {
                    Ok("") => None,
                    Ok(text) => Some((
                        label,
                        prog.parse_order(text)
                            .map_err(|e| format!("not valid JSON: {e}")),
                    )),
                    Err(e) => Some((label, Err(e))),
                }
            })
            .collect();
        sender.batch(docs);
        first += n;
    }
}

fn send(m: &MappingArgs, i: &InputArgs, cfg_path: Option<&Path>, concurrency: usize) -> u8 {
    // Credentials first: nothing is mapped or sent without them.
    let Some(cfg) = gateway_config(cfg_path) else {
        return 2;
    };
    let Some(prog) = route_or_report(m) else {
        return 2;
    };
    let client = match Client::new(cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let input = match documents(i) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let bar = if stderr_is_tty() && input.len().is_none_or(|n| n > 1) {
        // A stream's length is not known ahead: its bar counts without an end.
        let (b, template) = match input.len() {
            None => (indicatif::ProgressBar::no_length(), "{pos} sent {msg}"),
            Some(n) => (
                indicatif::ProgressBar::new(n as u64),
                "{bar:40} {pos}/{len} sent {msg}",
            ),
        };
        b.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let stdout = std::io::stdout();
    let mut sender = Sender {
        prog: &prog,
        client,
        concurrency,
        out: stdout.lock(),
        seen: HashSet::new(),
        summary: BatchSummary::default(),
        not_mapped: 0,
        not_routed: 0,
        bar,
    };
    let streamed = match input {
        Input::Stream(src) => send_stream(&mut sender, &src),
        Input::Files(files) => {
            for chunk in files.chunks(SEND_BATCH) {
                sender.batch(chunk.iter().map(|f| {
                    let doc = read_json(f).map_err(|e| match e {
                        InputError::Io(m) | InputError::Json(m) => m,
                    });
                    (f.display().to_string(), doc)
                }));
            }
            Ok(())
        }
        Input::One(doc) => {
            sender.batch([doc]);
            Ok(())
        }
    };
    if let Some(b) = sender.bar.take() {
        b.finish_and_clear();
    }
    let (summary, not_mapped) = (&sender.summary, sender.not_mapped);
    let not_routed = match sender.not_routed {
        0 => String::new(),
        n => format!(", {n} skipped (no route takes them)"),
    };
    eprintln!(
        "{} accepted, {} rejected by the gateway, {} failed, {} duplicates skipped, {} rejected by the mapping{not_routed}",
        summary.accepted, summary.rejected, summary.failed, summary.skipped_duplicate, not_mapped
    );
    if let Err(e) = streamed {
        eprintln!("error: {e}");
        return 2;
    }
    u8::from(summary.rejected + summary.failed + not_mapped > 0)
}
