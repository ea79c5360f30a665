//! `bondmap resolve ORDER_ID ACTION [--note TEXT]`: a person ends an order's wait
//! ([`crate::sync::resolve`], which the operator's console calls too). Works while a
//! `sync` runs: the resolve is one transaction of the state, and the running sync's next
//! round does the rest.

use crate::store::Store;
use crate::sync::resolve::{apply, Action, ResolveError};
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The RED order id.
    pub order: String,
    /// What ends the wait (`status` lists the actions that fit each order).
    #[arg(value_parser = ["retry", "deliver-again", "resend-payment", "cancel-at-warehouse", "close"])]
    pub action: String,
    /// Why, or how it was handled (required for `close`). Write no names in it: runs of
    /// digits (phones, ID numbers) are masked, a name cannot be.
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// `human` (default) or `json`.
    #[arg(long, default_value = "human")]
    pub format: String,
}

/// The OS user a resolve is kept under.
pub fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Some(u) = std::env::var(var).ok().filter(|u| !u.trim().is_empty()) {
            return u;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata("/proc/self") {
            return format!("uid {}", m.uid());
        }
    }
    "unknown user".into()
}

pub fn run(a: &Args) -> u8 {
    let Some(action) = Action::parse(&a.action) else {
        eprintln!("error: unknown action `{}`", a.action);
        return 2;
    };
    if !a.state.exists() {
        eprintln!(
            "error: no state at {} (run `bondmap sync` first)",
            a.state.display()
        );
        return 2;
    }
    // Not the writer's lock: a running sync keeps it, and SQLite serialises the two.
    let mut store = match Store::open(&a.state) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match apply(&mut store, &a.order, action, a.note.as_deref(), &os_user()) {
        Ok(r) => {
            if a.format == "json" {
                match serde_json::to_string(&r) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                }
            } else {
                println!(
                    "order {}: {} recorded ({}); {}",
                    r.order_id,
                    r.action,
                    r.stage.as_str(),
                    r.next
                );
            }
            0
        }
        Err(ResolveError::Store(e)) => {
            eprintln!("error: {e}");
            2
        }
        Err(e) => {
            eprintln!("error: {e}; nothing changed");
            1
        }
    }
}
