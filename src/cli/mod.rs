//! The command line: a thin layer over the library. One file per command holds its
//! arguments (`Args`) and its run; what they share is in [`common`].

mod auth;
mod backup;
mod check;
mod common;
mod config;
mod demo;
mod explain;
mod filing;
mod fmt;
mod gateway_sim;
mod history;
mod init;
mod lsp;
mod map;
mod play;
mod red_sim;
mod request;
mod resolve;
mod retry;
mod schema;
mod send;
mod status;
mod sync;
mod test;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bondmap",
    version,
    about = "Map Xiaohongshu (RED) cross-border orders to Cainiao bonded-warehouse delivery orders"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Map RED orders to Cainiao `logistics_interface` JSON.
    Map(map::Args),
    /// Lay out mapping files in the one canonical form (default: mappings/).
    Fmt(fmt::Args),
    /// Serve an editor: the checker, hover, completion and more over LSP on stdio.
    Lsp(lsp::Args),
    /// Show how each target field of an order got its value, down to the order's own
    /// fields (or what rejected it): the mapping line, each step, source paths and values.
    Explain(explain::Args),
    /// Print the gateway form fields of one order (signed), without sending.
    Request(request::Args),
    /// Map orders and send them to the Cainiao LINK gateway; one result line per order.
    Send(send::Args),
    /// A local Cainiao gateway on 127.0.0.1 for trying `send` (digest checked with
    /// CAINIAO_SECRET_KEY, else `sim-secret`).
    GatewaySim(gateway_sim::Args),
    /// Pull RED orders to ship, map them, send them to Cainiao; record every step.
    Sync(sync::Args),
    /// Counts by stage, the orders a person must act on with the reason, the checkpoint.
    Status(status::Args),
    /// Send failed orders again (fetched anew from RED).
    Retry(retry::Args),
    /// End an order's wait for a person: `retry`, `deliver-again`, `resend-payment`,
    /// `cancel-at-warehouse` or `close` (with a note); kept with when, the note and the
    /// OS user. `status` lists the actions that fit each order.
    Resolve(resolve::Args),
    /// An order's whole path: stages, notices, calls to RED and Cainiao, waits, resolves.
    History(history::Args),
    /// The goods' customs filings: `push` them to RED (changed rows only), `show` what
    /// RED holds of a barcode.
    Filing(filing::Args),
    /// The whole job with no setup: a local RED API and a local Cainiao gateway over the
    /// bundled example orders, one sync round, its results and the state.
    Demo(demo::Args),
    /// A local RED open API on 127.0.0.1 serving a folder of orders (credentials from
    /// RED_APP_ID / RED_APP_SECRET / RED_ACCESS_TOKEN, else demo values).
    RedSim(red_sim::Args),
    /// Snapshot tests of a mapping repo: every order mapping × every example order,
    /// compared with the reviewed snapshots (snapshots/mappings/*.snap, insta's format).
    Test(test::Args),
    /// Check mapping files (default: mappings/) and report every mistake.
    Check(check::Args),
    /// The mapping playground in a browser: edit a mapping with the checker as you type,
    /// map an example order, click a field of the request to see its explain.
    Play(play::Args),
    /// Make an integrator's own mapping repo: bondmap.toml, a warehouse file and its
    /// goods table, a routes file, two example orders and their snapshots, a CI workflow.
    Init(init::Args),
    /// Contracts derived from the shipped ones: `schema money-in-yuan` for a warehouse
    /// that counts money in yuan.
    Schema(schema::Args),
    /// The settings: `config check` prints those in force and every mistake in them.
    Config(config::Args),
    /// Copy the state file whole while `sync` runs (SQLite's online backup).
    Backup(backup::Args),
    /// Exchange the code of the merchant's authorization of the app for RED's tokens and
    /// keep them in the state (`sync` renews them from there).
    Auth(auth::Args),
}

/// Exit codes: 0 done, 1 some order rejected or mistakes found, 2 could not run.
pub fn main() -> ExitCode {
    let cli = parse();
    let code = match cli.cmd {
        Command::Map(a) => map::run(&a),
        Command::Fmt(a) => fmt::run(&a),
        Command::Lsp(a) => lsp::run(&a),
        Command::Explain(a) => explain::run(&a),
        Command::Request(a) => request::run(&a),
        Command::Send(a) => send::run(&a),
        Command::GatewaySim(a) => gateway_sim::run(&a),
        Command::Sync(a) => sync::run(&a),
        Command::Status(a) => status::run(&a),
        Command::Retry(a) => retry::run(&a),
        Command::Resolve(a) => resolve::run(&a),
        Command::History(a) => history::run(&a),
        Command::Filing(a) => filing::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::RedSim(a) => red_sim::run(&a),
        Command::Test(a) => test::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Play(a) => play::run(&a),
        Command::Init(a) => init::run(&a),
        Command::Schema(a) => schema::run(&a),
        Command::Config(a) => config::run(&a),
        Command::Backup(a) => backup::run(&a),
        Command::Auth(a) => auth::run(&a),
    };
    ExitCode::from(code)
}

/// The commands whose `--mapping` is the mapping the shop runs.
const RUN_MAPPING: [&str; 6] = ["map", "explain", "request", "send", "sync", "retry"];

/// The command line; in a mapping repo whose `bondmap.toml` says `[sync] mapping`, that
/// is the default `--mapping` of the commands that run the shop's mapping (shown in their
/// `--help`). Only those look for the file.
fn parse() -> Cli {
    let mut cmd = Cli::command();
    let asked = std::env::args_os().nth(1);
    let runs_mapping = asked
        .as_deref()
        .and_then(|a| a.to_str())
        .and_then(|a| RUN_MAPPING.into_iter().find(|n| *n == a));
    let file = runs_mapping.and_then(|_| crate::repo::sync_mapping(&std::env::current_dir().ok()?));
    if let (Some(name), Some(file)) = (runs_mapping, file) {
        cmd = cmd.mut_subcommand(name, |s| {
            s.mut_arg("mapping", |a| {
                a.required(false).default_value(file.into_os_string())
            })
        });
    }
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
