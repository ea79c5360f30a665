//! What the commands share: the mapping, input and life arguments, reading inputs,
//! loading a mapping or routes (errors reported), the clients and state of a sync run,
//! order lines out. Exit codes of every command: 0 done, 1 some order rejected or
//! mistakes found, 2 could not run.

use crate::engine::input_document;
use crate::engine::load_program;
use crate::gateway::request::Envelope;
use crate::gateway::{Client, GatewayConfig, PreparedOrder};
use crate::program::Program;
use crate::red::RedClient;
use crate::route::Router;
use crate::run::{Written, ORDER_CODE};
use crate::store::Store;
use crate::sync::reload::{Inputs, RunSet};
use crate::sync::route::routed_identity;
use crate::sync::OrderLine;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Options shared by every command that compiles a mapping.
#[derive(clap::Args, Clone, Debug)]
pub struct MappingArgs {
    /// The mapping file (a warehouse file that `use`s the base one, or a routes file);
    /// in a mapping repo, `[sync] mapping` of its bondmap.toml unless given.
    #[arg(long, short = 'm')]
    pub mapping: PathBuf,
    /// Set a param for this run: `--param store_code=HZ01` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_kv)]
    pub params: Vec<(String, String)>,
    /// Read a CSV table from another file for this run: `--table goods=today.csv` (repeatable).
    #[arg(long = "table", value_name = "NAME=FILE", value_parser = parse_kv)]
    pub tables: Vec<(String, String)>,
    /// The folder every file the mapping names (`use`, `target`, `source`, tables) must be
    /// in; default: the parent of the mapping's folder (`mappings/`).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

impl MappingArgs {
    pub fn options(&self) -> crate::compile::Options {
        crate::compile::Options {
            params: self.params.clone(),
            tables: self
                .tables
                .iter()
                .map(|(n, f)| (n.clone(), PathBuf::from(f)))
                .collect(),
            allow_unset_params: false,
            root: self.root.clone(),
        }
    }
}

/// The mappings of an order's later messages (sync).
#[derive(Debug, Clone, clap::Args)]
pub struct LifeArgs {
    /// The cancel mapping, compiled with each order's warehouse params.
    #[arg(long, default_value = "mappings/cainiao/cancel.map")]
    pub cancel_mapping: PathBuf,
    /// The ship-back mapping (shipment notice → order.orderDeliver).
    #[arg(long, default_value = "mappings/red/order_deliver.map")]
    pub deliver_mapping: PathBuf,
}

/// A mapping and the orders to run it on (`map`, `explain`, `request`, `send`).
#[derive(clap::Args, Clone, Debug)]
pub struct OrdersArgs {
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub input: InputArgs,
}

/// Where the orders come from.
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// One order: the document {"detail": …, "declare": …, "receiver": …}; or a folder
    /// of such documents, mapped in name order.
    #[arg(long, short = 'i', conflicts_with_all = ["detail", "ndjson"])]
    pub input: Option<PathBuf>,
    /// One order as three files: the data of order.getOrderDetail …
    #[arg(long, requires_all = ["declare", "receiver"], conflicts_with = "ndjson")]
    pub detail: Option<PathBuf>,
    /// … of order.getOrderDeclareInfo …
    #[arg(long, requires = "detail")]
    pub declare: Option<PathBuf>,
    /// … and of order.getOrderReceiverInfo.
    #[arg(long, requires = "detail")]
    pub receiver: Option<PathBuf>,
    /// Many orders, one input document per line (`-` for standard input).
    #[arg(long, num_args = 0..=1, default_missing_value = "-")]
    pub ndjson: Option<String>,
}

pub fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got `{s}`")),
    }
}

/// Whether stderr is a terminal (colour in diagnostics).
pub fn stderr_is_tty() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// The mapping named by `--mapping` compiled, its warnings shown, or its errors reported
/// (`None`).
pub fn compile_or_report(m: &MappingArgs) -> Option<Program> {
    match load_program(&m.mapping, &m.options()) {
        Ok((p, warnings)) => {
            if !warnings.is_empty() {
                let r =
                    crate::diag::reports(&p.sources, &warnings, &m.mapping.display().to_string());
                eprint!("{}", crate::diag::render(&r, stderr_is_tty()));
            }
            Some(p)
        }
        Err(e) => {
            eprint!("{}", e.render(stderr_is_tty()));
            None
        }
    }
}

/// The routes file or mapping named by `--mapping`, every routed mapping compiled, or
/// its errors reported (`None`).
pub fn route_or_report(m: &MappingArgs) -> Option<Router> {
    match Router::load(&m.mapping, &m.options()) {
        Ok(r) => {
            if !r.warnings().is_empty() {
                let rep = crate::diag::reports(
                    r.sources(),
                    r.warnings(),
                    &m.mapping.display().to_string(),
                );
                eprint!("{}", crate::diag::render(&rep, stderr_is_tty()));
            }
            Some(r)
        }
        Err(e) => {
            eprint!("{}", e.render(stderr_is_tty()));
            None
        }
    }
}

/// Why an input could not be read: the file (exit 2), or its content (a rejected order, exit 1).
pub enum InputError {
    Io(String),
    Json(String),
}

impl InputError {
    pub fn report(&self) -> u8 {
        match self {
            InputError::Io(m) => {
                eprintln!("error: {m}");
                2
            }
            InputError::Json(m) => {
                eprintln!("rejected: {m}");
                1
            }
        }
    }
}

pub fn read_json(path: &Path) -> Result<serde_json::Value, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::Io(format!("cannot read {}: {e}", path.display())))?;
    // Editors on Windows start a file with a byte order mark; it is not part of the JSON.
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| InputError::Json(format!("{} is not valid JSON: {e}", path.display())))
}

/// The one input document named by `--input` or `--detail/--declare/--receiver`.
pub fn single_input(i: &InputArgs) -> Result<serde_json::Value, InputError> {
    if let Some(p) = &i.input {
        return read_json(p);
    }
    match (&i.detail, &i.declare, &i.receiver) {
        (Some(d), Some(c), Some(r)) => {
            Ok(input_document(read_json(d)?, read_json(c)?, read_json(r)?))
        }
        _ => Err(InputError::Io(
            "give --input FILE, --detail/--declare/--receiver FILES, or --ndjson [FILE|-]".into(),
        )),
    }
}

/// Reads up to `max` lines into `lines` (reusing its buffers), as bytes: a line that is
/// not UTF-8 is that line's problem, not the stream's. Returns how many were read.
pub fn read_lines(
    reader: &mut impl BufRead,
    lines: &mut Vec<Vec<u8>>,
    max: usize,
) -> std::io::Result<usize> {
    let mut n = 0;
    while n < max {
        if lines.len() <= n {
            lines.push(Vec::new());
        }
        lines[n].clear();
        if reader.read_until(b'\n', &mut lines[n])? == 0 {
            break;
        }
        n += 1;
    }
    Ok(n)
}

/// One line's text: UTF-8 checked, a byte order mark and surrounding white space
/// dropped. `Err` says why it cannot be read.
pub fn line_text(bytes: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 (byte {} of the line)", e.valid_up_to() + 1))?;
    Ok(text.trim_start_matches('\u{feff}').trim())
}

/// The gateway settings of `--config` and the environment; `None` once the reason is printed.
pub fn gateway_config(path: Option<&Path>) -> Option<GatewayConfig> {
    match GatewayConfig::load(path) {
        Ok(c) => Some(c),
        Err(e) => {
            for l in e.lines() {
                eprintln!("error: {l}");
            }
            None
        }
    }
}

/// How the log on stderr is written: `text` (a line per event, times at +08:00) or
/// `json` (one JSON object a line; then everything the command writes to stderr is one).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Set once the log is JSON: [`say`] and the set-up's reports then go through it.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn json_logs() -> bool {
    JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed)
}

pub fn init_logs() {
    init_logs_as(LogFormat::Text);
}

pub fn init_logs_as(format: LogFormat) {
    // Logs go to stderr; the order lines to stdout. RUST_LOG overrides the level.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_timer(crate::logs::ChinaTime);
    let done = match format {
        LogFormat::Text => fmt.try_init(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    if done.is_ok() && format == LogFormat::Json {
        JSON_LOGS.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A line for a person on stderr, as it is (an error with `error: ` before it), or as a
/// JSON log event of that level when the log is JSON.
pub fn say(level: tracing::Level, text: &str) {
    if !json_logs() {
        if level == tracing::Level::ERROR {
            eprintln!("error: {text}");
        } else if level == tracing::Level::WARN {
            eprintln!("warning: {text}");
        } else {
            eprintln!("{text}");
        }
        return;
    }
    match level {
        tracing::Level::ERROR => tracing::error!("{text}"),
        tracing::Level::WARN => tracing::warn!("{text}"),
        _ => tracing::info!("{text}"),
    }
}

/// A problem of the set as `sync` reports it at start.
fn report_problem(p: &crate::sync::reload::Problem) {
    if json_logs() {
        p.log();
    } else {
        eprint!("{}", p.render(stderr_is_tty()));
    }
}

/// The clients, the loaded mapping (or routes) and the state a run needs; `None` once
/// the reason is printed.
pub fn setup(
    m: &MappingArgs,
    state: &Path,
    cfg: Option<&Path>,
    force: bool,
) -> Option<(RedClient, Client, Router, Store)> {
    // Credentials first: nothing is read or sent without them.
    let (red, gw) = crate::sync::reload::clients(cfg)
        .map_err(|p| p.iter().for_each(|p| eprint!("{}", p.render(false))))
        .ok()?;
    let router = route_or_report(m)?;
    // The one writer of this state: a second sync or retry stops here, at once.
    let mut store = Store::open_exclusive(state)
        .map_err(|e| eprintln!("error: {e}"))
        .ok()?;
    let id = routed_identity(&router, &m.mapping, &m.params);
    check_identity(&mut store, state, &id, &m.mapping, force)?;
    keep_red_tokens(&red, state)?;
    Some((red, gw, router, store))
}

/// The set `sync` runs with and its state, every problem of the set printed at once
/// (`None` then).
pub fn setup_set(inputs: &Inputs, state: &Path, force: bool) -> Option<(RunSet, Store)> {
    let set = match RunSet::load(inputs) {
        Ok(s) => s,
        Err(problems) => {
            problems.iter().for_each(report_problem);
            return None;
        }
    };
    if json_logs() {
        for w in set.warnings() {
            tracing::warn!(kind = "mapping", code = w.code.as_str(), "{}", w.message);
        }
    } else if !set.warnings().is_empty() {
        let rep = crate::diag::reports(
            set.router.sources(),
            set.warnings(),
            &inputs.mapping.display().to_string(),
        );
        eprint!("{}", crate::diag::render(&rep, stderr_is_tty()));
    }
    let mut store = Store::open_exclusive(state)
        .map_err(|e| say(tracing::Level::ERROR, &e.to_string()))
        .ok()?;
    check_identity(&mut store, state, set.identity(), &inputs.mapping, force)?;
    keep_red_tokens(&set.red, state)?;
    Some((set, store))
}

/// RED's tokens kept in the state from now on (those there win over the configured ones);
/// `None` once the reason is printed (no token at all, a state that cannot be read).
pub(super) fn keep_red_tokens(red: &RedClient, state: &Path) -> Option<()> {
    let keeper = crate::sync::tokens::StateTokens::open(state)
        .map_err(|e| eprintln!("error: {e}"))
        .ok()?;
    red.keep_tokens(std::sync::Arc::new(keeper))
        .map_err(|e| eprintln!("error: {e}"))
        .ok()
}

/// What a sync run's set is loaded from.
pub fn inputs_of(m: &MappingArgs, life: &LifeArgs, config: Option<&Path>) -> Inputs {
    Inputs {
        mapping: m.mapping.clone(),
        options: m.options(),
        config: config.map(Path::to_path_buf),
        cancel_map: life.cancel_mapping.clone(),
        deliver_map: life.deliver_mapping.clone(),
    }
}

/// The state remembers the mapping it was made with; another one is refused unless
/// `--force`, which records the new one.
fn check_identity(
    store: &mut Store,
    state: &Path,
    id: &str,
    mapping: &Path,
    force: bool,
) -> Option<()> {
    let error = |e: &dyn std::fmt::Display| say(tracing::Level::ERROR, &e.to_string());
    let known = store.mapping_identity().map_err(|e| error(&e)).ok()?;
    match known {
        Some(k) if k == id => return Some(()),
        Some(k) if !force => {
            say(tracing::Level::WARN, &format!(
                "{} was made with another mapping (identity {}), not {} ({}): its orders would be sent as this mapping writes them",
                state.display(),
                &k[..k.len().min(12)],
                mapping.display(),
                &id[..id.len().min(12)]
            ));
            error(&"refusing to run with a different mapping; pass --force to use this one (it is then recorded in the state)");
            return None;
        }
        Some(k) => say(
            tracing::Level::WARN,
            &format!(
            "{} was made with another mapping (identity {}); --force: using {} ({}) from now on",
            state.display(),
            &k[..k.len().min(12)],
            mapping.display(),
            &id[..id.len().min(12)]
        ),
        ),
        None => {}
    }
    store.set_mapping_identity(id).map_err(|e| error(&e)).ok()
}

pub fn print_line(l: &OrderLine) {
    if let Ok(s) = serde_json::to_string(l) {
        println!("{s}");
    }
}

/// The gateway request for one mapped order: the text its run wrote, sent under the
/// order code the run wrote into it.
pub fn prepare(prog: &Program, cfg: &GatewayConfig, w: Written) -> Result<PreparedOrder, String> {
    let code = w
        .order_code
        .ok_or_else(|| format!("the request has no {ORDER_CODE}"))?;
    Ok(PreparedOrder {
        order_id: code.clone(),
        external_order_code: code,
        request: Envelope::of(&prog.settings, cfg).request(w.text),
    })
}
