//! The command line: a thin layer over the library. One file per command holds its
//! arguments (`Args`) and its run; what they share is in [`common`].

mod auth;
mod backup;
mod check;
mod common;
mod config;
mod demo;
mod explain;
mod fmt;
mod gateway_sim;
mod lsp;
mod map;
mod red_sim;
mod request;
mod retry;
mod send;
mod status;
mod sync;
mod test;

use clap::{Parser, Subcommand};
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
    let cli = Cli::parse();
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
        Command::Demo(a) => demo::run(&a),
        Command::RedSim(a) => red_sim::run(&a),
        Command::Test(a) => test::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Config(a) => config::run(&a),
        Command::Backup(a) => backup::run(&a),
        Command::Auth(a) => auth::run(&a),
    };
    ExitCode::from(code)
}
