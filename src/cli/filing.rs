//! `bondmap filing push` / `bondmap filing show`: the goods' customs filings synced to
//! RED ([`crate::sync::filing`]) and read back (`order.getCustomsInfo`).

use super::common::{compile_or_report, keep_red_tokens, MappingArgs};
use crate::red::config::RedConfig;
use crate::red::RedClient;
use crate::store::Store;
use crate::sync::filing::{plan, push, Plan, PlanError};
use std::path::{Path, PathBuf};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(clap::Subcommand, Clone, Debug)]
pub enum Cmd {
    /// Send each row of the mapping's `goods` table that changed since the last push to
    /// RED (order.createItemCustomsInfo): every row is built and checked first (an HS code
    /// that is not 10 digits stops the push, naming the row, before anything is sent); a
    /// row with a blank hs_code is not filed. `--dry-run` lists what would change and
    /// sends nothing.
    Push(PushArgs),
    /// What RED holds of a barcode's filings (order.getCustomsInfo).
    Show(ShowArgs),
}

#[derive(clap::Args, Clone, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// List what would be sent, by barcode, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The state, which keeps what RED took per barcode and port.
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// TOML file with the [red] table; the environment wins.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ShowArgs {
    pub barcode: String,
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The state whose RED tokens to use (those `sync` renews), when it exists.
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// `human` (default) or `json`.
    #[arg(long, default_value = "human")]
    pub format: String,
}

pub fn run(a: &Args) -> u8 {
    match &a.cmd {
        Cmd::Push(p) => push_cmd(p),
        Cmd::Show(s) => show(s),
    }
}

/// A RED client on the tokens the state keeps (`sync` renews and rotates them: after a
/// week the configured ones are dead, and refreshing with them would rotate the state's
/// away), those it is given kept there too.
fn red_client(config: Option<&Path>, state: Option<&Path>) -> Option<RedClient> {
    let cfg = RedConfig::load(config)
        .map_err(|e| e.lines().iter().for_each(|l| eprintln!("error: {l}")))
        .ok()?;
    let red = RedClient::new(cfg)
        .map_err(|e| eprintln!("error: {e}"))
        .ok()?;
    if let Some(state) = state {
        keep_red_tokens(&red, state)?;
    }
    Some(red)
}

fn print_plan(p: &Plan, dry_run: bool) {
    let verb = if dry_run { "would send" } else { "to send" };
    for r in &p.changed {
        match &r.before {
            None => println!(
                "{verb}: {} (new at {}): {}",
                r.barcode, r.port_code, r.fields
            ),
            Some(before) => {
                let mut diff = Vec::new();
                for k in ["hs_code", "quantity1", "quantity2"] {
                    if before.get(k) != r.fields.get(k) {
                        diff.push(format!(
                            "{k} {} → {}",
                            before.get(k).map_or("(absent)".into(), |v| v.to_string()),
                            r.fields[k]
                        ));
                    }
                }
                println!(
                    "{verb}: {} (changed at {}): {}",
                    r.barcode,
                    r.port_code,
                    diff.join(", ")
                );
            }
        }
    }
    for b in &p.not_filed {
        println!("not filed: {b} (no hs_code in the goods table)");
    }
}

fn push_cmd(a: &PushArgs) -> u8 {
    let Some(program) = compile_or_report(&a.mapping) else {
        return 2;
    };
    // A dry run reads the state without changing it (and needs none).
    let store = if a.dry_run {
        if a.state.exists() {
            Store::open_read_only(&a.state).map(Some)
        } else {
            Ok(None)
        }
    } else {
        Store::open(&a.state).map(Some)
    };
    let mut store = match store {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let plan = match plan(&program, store.as_ref()) {
        Ok(p) => p,
        Err(PlanError::Rows(rows)) => {
            for r in &rows {
                eprintln!("error: {r}");
            }
            eprintln!(
                "{} row(s) refused: nothing was sent (fix the goods table, then push again)",
                rows.len()
            );
            return 1;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    print_plan(&plan, a.dry_run);
    let summary = format!(
        "{} changed, {} unchanged, {} not filed",
        plan.changed.len(),
        plan.unchanged.len(),
        plan.not_filed.len()
    );
    if a.dry_run || plan.changed.is_empty() {
        eprintln!(
            "{summary}{}",
            if a.dry_run {
                " (dry run: nothing sent)"
            } else {
                ""
            }
        );
        return 0;
    }
    let Some(store) = store.as_mut() else {
        return 2;
    };
    let Some(red) = red_client(a.config.as_deref(), Some(&a.state)) else {
        return 2;
    };
    let sent = match push(&red, store, &plan) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut bad = 0;
    for s in &sent {
        match &s.error {
            None => println!("sent: {} ({})", s.barcode, s.port_code),
            Some(e) => {
                bad += 1;
                println!("{}: {} ({}): {e}", s.outcome, s.barcode, s.port_code);
            }
        }
    }
    eprintln!("{summary}; {} sent, {bad} not", sent.len() - bad);
    u8::from(bad > 0)
}

fn show(a: &ShowArgs) -> u8 {
    let state = a.state.exists().then_some(a.state.as_path());
    let Some(red) = red_client(a.config.as_deref(), state) else {
        return 2;
    };
    match red.customs_info(&a.barcode) {
        Ok(list) => {
            if a.format == "json" {
                println!("{}", serde_json::json!(list));
            } else if list.is_empty() {
                println!("RED holds no filing of {}", a.barcode);
            } else {
                for f in &list {
                    println!(
                        "{} at {}: hs_code {}, quantity1 {}, quantity2 {}, tax rate {}",
                        f.barcode,
                        f.customs_name,
                        f.hs_code,
                        f.quantity1,
                        f.quantity2,
                        f.general_tax_rate
                            .as_ref()
                            .map_or("(not given)".into(), |v| v.to_string())
                    );
                }
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
