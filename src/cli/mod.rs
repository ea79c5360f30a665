//! The command line: a thin layer over the library.

mod check;
mod fmt;
mod lsp;
mod map;
mod send;
mod sync;
mod test;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bondmap",
    version,
    about = "Map Xiaohongshu (RED) cross-border orders to Cainiao bonded-warehouse delivery orders"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Options shared by every command that compiles a mapping.
#[derive(clap::Args, Clone, Debug)]
pub struct MappingArgs {
    /// The mapping file (a warehouse file that `use`s the base one).
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
    pub fn options(&self) -> bondmap_options::Options {
        bondmap_options::Options {
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

mod bondmap_options {
    pub use crate::compile::Options;
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

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got `{s}`")),
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Map RED orders to Cainiao `logistics_interface` JSON.
    Map {
        #[command(flatten)]
        mapping: MappingArgs,
        #[command(flatten)]
        input: InputArgs,
        /// Indent the request JSON for people (not with --ndjson: one request a line).
        #[arg(long, conflicts_with = "ndjson")]
        pretty: bool,
    },
    /// Lay out mapping files in the one canonical form (default: mappings/).
    Fmt {
        /// Files or folders of `.map` files.
        paths: Vec<std::path::PathBuf>,
        /// Change nothing; list the files that are not formatted and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Show how each target field of one order got its value: the mapping line, the
    /// source paths and values, each conversion.
    Explain {
        #[command(flatten)]
        mapping: MappingArgs,
        #[command(flatten)]
        input: InputArgs,
        /// Only this field (and the fields under it), e.g. `orderAmountInfo.totalTax`.
        #[arg(long)]
        field: Option<String>,
    },
    /// Print the gateway form fields of one order (signed), without sending.
    Request {
        #[command(flatten)]
        mapping: MappingArgs,
        #[command(flatten)]
        input: InputArgs,
        /// The urlencoded body instead of JSON.
        #[arg(long)]
        form: bool,
        /// TOML file with a [cainiao] table (app_key, secret_key, gateway_url, timeout_secs, max_attempts); the environment wins.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Map orders and send them to the Cainiao LINK gateway; one result line per order.
    Send {
        #[command(flatten)]
        mapping: MappingArgs,
        #[command(flatten)]
        input: InputArgs,
        /// TOML file with a [cainiao] table; CAINIAO_APP_KEY, CAINIAO_SECRET_KEY, CAINIAO_GATEWAY_URL win.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Orders in flight at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// A local Cainiao gateway on 127.0.0.1 for trying `send` (digest checked with
    /// CAINIAO_SECRET_KEY, else `sim-secret`).
    GatewaySim {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Answer HTTP 500 to the first N requests.
        #[arg(long, default_value_t = 0)]
        fail_first: u32,
        /// Answer the first N requests after --delay-ms.
        #[arg(long, default_value_t = 0)]
        delay_first: u32,
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Answer a non-JSON body to the first N requests.
        #[arg(long, default_value_t = 0)]
        garbage_first: u32,
        /// Refuse this externalOrderCode with a business error (repeatable).
        #[arg(long)]
        reject: Vec<String>,
        /// Answer HTTP 429 (Retry-After: 1) to the first N requests.
        #[arg(long, default_value_t = 0)]
        throttle_first: u32,
        /// Add this round trip to every answer, as a real gateway's (benchmarks).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Pull RED orders to ship, map them, send them to Cainiao; record every step.
    Sync {
        #[command(flatten)]
        mapping: MappingArgs,
        /// The state database (SQLite).
        #[arg(long, default_value = "bondmap.db")]
        state: PathBuf,
        /// One round, then exit (the default).
        #[arg(long, conflicts_with = "interval")]
        once: bool,
        /// Run a round every SECS seconds until stopped.
        #[arg(long, value_name = "SECS")]
        interval: Option<u64>,
        /// Start the round at this time (RFC 3339) instead of the checkpoint.
        #[arg(long)]
        since: Option<String>,
        /// TOML file with [red] and [cainiao] tables; the environment wins.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Run even though the state was made with another mapping (records this one).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        life: LifeArgs,
        /// Serve Cainiao's shipment notices on ADDR (`POST /cainiao/callback`) while
        /// syncing, e.g. `127.0.0.1:8790`; each shipment is then told to RED.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Counts by stage, the orders a person must act on with the reason, the checkpoint.
    Status {
        #[arg(long, default_value = "bondmap.db")]
        state: PathBuf,
        /// `human` (default) or `json`.
        #[arg(long, default_value = "human")]
        format: String,
        /// Every order with its stage (and why a person must act, where one must).
        #[arg(long)]
        all: bool,
    },
    /// Send failed orders again (fetched anew from RED).
    Retry {
        #[command(flatten)]
        mapping: MappingArgs,
        /// Order ids to send again.
        orders: Vec<String>,
        /// Every failed order.
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value = "bondmap.db")]
        state: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Run even though the state was made with another mapping (records this one).
        #[arg(long)]
        force: bool,
    },
    /// The whole job with no setup: a local RED API and a local Cainiao gateway over the
    /// bundled example orders, one sync round, its results and the state.
    Demo {
        /// Folder of example orders.
        #[arg(long, default_value = "examples/orders")]
        orders: PathBuf,
        /// The mapping to use: a routes file or one warehouse mapping.
        #[arg(long, default_value = "mappings/routes.map")]
        mapping: PathBuf,
    },
    /// A local RED open API on 127.0.0.1 serving a folder of orders (credentials from
    /// RED_APP_ID / RED_APP_SECRET / RED_ACCESS_TOKEN, else demo values).
    RedSim {
        #[arg(long, default_value_t = 8081)]
        port: u16,
        #[arg(long, default_value = "examples/orders")]
        orders: PathBuf,
        /// Add this round trip to every answer, as the real API's (benchmarks).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Snapshot tests of a mapping repo: every order mapping × every example order,
    /// compared with the reviewed snapshots (snapshots/mappings/*.snap, insta's format).
    Test {
        /// The mapping files (searched recursively).
        #[arg(long, default_value = "mappings")]
        mappings: PathBuf,
        /// The example orders (*.json).
        #[arg(long, default_value = "examples/orders")]
        examples: PathBuf,
        /// The snapshots folder (mapping snapshots go to its mappings/ subfolder).
        #[arg(long, default_value = "snapshots")]
        snapshots: PathBuf,
        /// Test this mapping over its own examples (e.g. a mapping of Cainiao notices):
        /// `--examples-for mappings/red/order_deliver.map=examples/notices` (repeatable).
        #[arg(long = "examples-for", value_name = "MAPPING=DIR", value_parser = parse_kv)]
        examples_for: Vec<(String, String)>,
        /// Store every new and changed snapshot.
        #[arg(long, conflicts_with = "review")]
        accept: bool,
        /// Ask on the terminal, change by change, whether to store it.
        #[arg(long)]
        review: bool,
    },
    /// Check mapping files (default: mappings/) and report every mistake.
    Check {
        /// Files or folders of `.map` files.
        paths: Vec<PathBuf>,
        /// `human` (default) or `json`.
        #[arg(long, default_value = "human")]
        format: String,
        /// The folder every file a mapping names must be in; default: the folder given
        /// (for a file given alone, the parent of its folder).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Serve an editor: the checker, hover, completion and more over LSP on stdio.
    Lsp(lsp::Args),
}

/// Exit codes: 0 done, 1 some order rejected or mistakes found, 2 could not run.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Map {
            mapping,
            input,
            pretty,
        } => map::run(&mapping, &input, pretty),
        Cmd::Check {
            paths,
            format,
            root,
        } => check::run(&paths, &format, root.as_deref()),
        Cmd::Test {
            mappings,
            examples,
            snapshots,
            examples_for,
            accept,
            review,
        } => test::run(&test::Args {
            mappings,
            examples,
            snapshots,
            examples_for,
            accept,
            review,
        }),
        Cmd::Sync {
            mapping,
            state,
            once: _,
            interval,
            since,
            config,
            force,
            life,
            listen,
        } => sync::sync(
            &mapping,
            &state,
            sync::SyncRun {
                interval,
                since: since.as_deref(),
                cfg: config.as_deref(),
                force,
                life: &life,
                listen,
            },
        ),
        Cmd::Status { state, format, all } => sync::status(&state, &format, all),
        Cmd::Retry {
            mapping,
            orders,
            failed,
            state,
            config,
            force,
        } => sync::retry(&mapping, &orders, failed, &state, config.as_deref(), force),
        Cmd::Demo { orders, mapping } => sync::demo(&orders, &mapping),
        Cmd::RedSim {
            port,
            orders,
            latency_ms,
        } => sync::red_sim(port, &orders, latency_ms),
        Cmd::Request {
            mapping,
            input,
            form,
            config,
        } => send::request(&mapping, &input, form, config.as_deref()),
        Cmd::Send {
            mapping,
            input,
            config,
            concurrency,
        } => send::send(&mapping, &input, config.as_deref(), concurrency),
        Cmd::GatewaySim {
            port,
            fail_first,
            delay_first,
            delay_ms,
            garbage_first,
            reject,
            throttle_first,
            latency_ms,
        } => send::sim(send::SimArgs {
            port,
            fail_first,
            delay_first,
            delay_ms,
            garbage_first,
            reject,
            throttle_first,
            latency_ms,
        }),
        Cmd::Fmt { paths, check } => fmt::run(&paths, check),
        Cmd::Lsp(args) => lsp::run(&args),
        Cmd::Explain {
            mapping,
            input,
            field,
        } => map::explain(&mapping, &input, field.as_deref()),
    };
    ExitCode::from(code)
}

/// Whether stderr is a terminal (colour in diagnostics).
pub fn stderr_is_tty() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
