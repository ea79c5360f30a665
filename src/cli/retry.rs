//! `bondmap retry`: send failed orders again, fetched anew from RED.

use super::common::{init_logs, print_line, setup, MappingArgs};
use crate::store::Stage;
use crate::sync::{Pipeline, Routing};
use std::path::Path;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Order ids to send again.
    pub orders: Vec<String>,
    /// Every failed order.
    #[arg(long)]
    pub failed: bool,
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run even though the state was made with another mapping (records this one).
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: &Args) -> u8 {
    retry(
        &a.mapping,
        &a.orders,
        a.failed,
        &a.state,
        a.config.as_deref(),
        a.force,
    )
}

fn retry(
    m: &MappingArgs,
    orders: &[String],
    failed: bool,
    state: &Path,
    cfg: Option<&Path>,
    force: bool,
) -> u8 {
    init_logs();
    let Some((red, gw, router, mut store)) = setup(m, state, cfg, force) else {
        return 2;
    };
    let mut ids: Vec<(String, i64)> = Vec::new();
    // An id the state does not know, or one further on in its life, is reported (exit 1);
    // the others are still retried.
    let mut unknown = 0;
    for id in orders {
        match store.get(id) {
            // Further on in its life: say why, and what ends its wait if it waits.
            Ok(Some(r)) if crate::sync::resolve::retry_refusal(&r).is_some() => {
                if let Some(why) = crate::sync::resolve::retry_refusal(&r) {
                    eprintln!("error: {why}; not retried");
                }
                unknown += 1;
            }
            Ok(Some(r)) => ids.push((r.order_id, r.update_time)),
            Ok(None) => {
                eprintln!(
                    "error: order {id} is not in {}; not retried",
                    state.display()
                );
                unknown += 1;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    if failed {
        match store.with_stage(Stage::Failed) {
            Ok(rows) => ids.extend(rows.into_iter().map(|r| (r.order_id, r.update_time))),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let Some(mut p) = Pipeline::routed(&red, &gw, Routing::new(&router, &m.mapping), &mut store)
    else {
        eprintln!("error: {} names no mapping", m.mapping.display());
        return 2;
    };
    p.options.progress = true;
    let mut bad = 0;
    let result = p.orders(ids, true, &mut |l| {
        // Sent, or further on: Cainiao has it (or it was cancelled).
        bad += usize::from(!l.stage.is_final());
        print_line(l);
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        return 2;
    }
    u8::from(bad + unknown > 0)
}
