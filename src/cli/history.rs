//! `bondmap history ORDER_ID`: an order's whole path (stages, notices, calls to RED and
//! Cainiao, waits, resolves), as the state keeps it (nothing personal: every text was
//! masked when it was written). The events are [`crate::store::Store::history`]'s data;
//! this only prints them.

use crate::store::{Event, Store};
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The RED order id.
    pub order: String,
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// `human` (default) or `json` (`order_id`, `stage`, `needs_person`, `actions`,
    /// `events`: each with `at`, `kind`, `what`, and where they apply `from`, `to`,
    /// `detail`, `user`).
    #[arg(long, default_value = "human")]
    pub format: String,
}

/// One event as a line of text.
pub(super) fn line(e: &Event) -> String {
    let what = match (&e.from, &e.to) {
        (Some(f), Some(t)) => format!("{f} → {t}"),
        (None, Some(t)) => format!("→ {t}"),
        _ => e.what.clone(),
    };
    // At +08:00 as the logs are (the state keeps UTC).
    let at = crate::logs::iso_text(&e.at);
    let mut s = format!("{at}  {:<8} {what}", e.kind_name());
    if let Some(d) = &e.detail {
        s.push_str(": ");
        s.push_str(d);
    }
    if let Some(u) = &e.user {
        s.push_str(&format!(" (by {u})"));
    }
    s
}

pub fn run(a: &Args) -> u8 {
    if !a.state.exists() {
        eprintln!(
            "error: no state at {} (run `bondmap sync` first)",
            a.state.display()
        );
        return 2;
    }
    let store = match Store::open_read_only(&a.state) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let (row, events) = match store
        .get(&a.order)
        .and_then(|r| Ok((r, store.history(&a.order)?)))
    {
        Ok((Some(r), ev)) => (r, ev),
        Ok((None, _)) => {
            eprintln!("error: order {} is not in {}", a.order, a.state.display());
            return 1;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let wait = crate::sync::resolve::wait_of(&row);
    if a.format == "json" {
        let v = serde_json::json!({
            "order_id": row.order_id,
            "stage": row.stage,
            "needs_person": wait.as_ref().map(|w| w.reason.clone()),
            "actions": wait.as_ref().map(|w| w.actions.clone()).unwrap_or_default(),
            "events": events,
        });
        println!("{v}");
        return 0;
    }
    println!("order {} ({})", row.order_id, row.stage.as_str());
    for e in &events {
        println!("  {}", line(e));
    }
    if let Some(w) = wait {
        let acts: Vec<&str> = w.actions.iter().map(|a| a.as_str()).collect();
        println!("waits for a person: {}", w.reason);
        println!(
            "  ends with: bondmap resolve {} {}",
            row.order_id,
            acts.join("|")
        );
    }
    0
}
