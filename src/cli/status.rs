//! `bondmap status`: counts by stage, the orders a person must act on, the checkpoint.

use crate::store::{OrderRow, Stage, Store};
use std::path::Path;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// `human` (default) or `json`.
    #[arg(long, default_value = "human")]
    pub format: String,
    /// Every order with its stage (and why a person must act, where one must).
    #[arg(long)]
    pub all: bool,
}

pub fn run(a: &Args) -> u8 {
    status(&a.state, &a.format, a.all)
}

/// Why a person must act on an order, if one must.
pub(super) fn person_reason(r: &OrderRow) -> Option<String> {
    if let Some(n) = &r.needs_person {
        return Some(n.clone());
    }
    match r.stage {
        Stage::Failed | Stage::Rejected => Some(format!(
            "{}: {}",
            r.stage.as_str(),
            r.error.as_deref().unwrap_or("no error recorded")
        )),
        _ if r.changed_after_accept => Some(crate::store::CHANGED_AFTER_ACCEPT.to_string()),
        _ => None,
    }
}

fn order_json(r: &OrderRow) -> serde_json::Value {
    let mut v = serde_json::json!({"order_id": r.order_id, "stage": r.stage});
    let mut put = |k: &str, x: Option<String>| {
        if let Some(x) = x {
            v[k] = x.into();
        }
    };
    put("needs_person", person_reason(r));
    put("warehouse", r.warehouse.clone());
    put("cainiao_order_code", r.cainiao_order_code.clone());
    put("error", r.error.clone());
    put("error_code", r.error_code.clone());
    v
}

fn status(state: &Path, format: &str, all: bool) -> u8 {
    if !state.exists() {
        eprintln!(
            "error: no state at {} (run `bondmap sync` first)",
            state.display()
        );
        return 2;
    }
    // Read-only and without the writer's lock: works while a sync runs.
    let store = match Store::open_read_only(state) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let gather = || -> Result<_, crate::store::StoreError> {
        let mut problems = store.with_stage(Stage::Failed)?;
        problems.extend(store.with_stage(Stage::Rejected)?);
        Ok((
            store.counts()?,
            problems,
            store.changed_after_accept()?,
            store.checkpoint()?,
            store.needing_person()?,
            store.notice_problems()?,
            if all { store.all()? } else { Vec::new() },
        ))
    };
    let (counts, problems, changed, checkpoint, person, notices, every) = match gather() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let when = checkpoint
        .and_then(|c| chrono::DateTime::from_timestamp(c, 0))
        .map(|t| t.to_rfc3339());
    // A notice no order can take: its order id (a RED id, not personal) and the reason.
    let notice_json: Vec<serde_json::Value> = notices
        .iter()
        .map(|n| serde_json::json!({"order_id": n.order_id, "msg_type": n.msg_type, "needs_person": n.problem, "received_at": n.received_at}))
        .collect();
    if format == "json" {
        let counts: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(s, n)| (s.as_str().to_string(), (*n).into()))
            .collect();
        let person: Vec<serde_json::Value> = person.iter().map(order_json).collect();
        let mut v = serde_json::json!({"counts": counts, "checkpoint": when, "needs_person": person, "notices_needing_person": notice_json, "failed_and_rejected": problems, "changed_after_accept": changed});
        if all {
            v["orders"] = every.iter().map(order_json).collect();
        }
        println!("{v}");
        return 0;
    }
    for (s, n) in &counts {
        println!("{:>9}: {n}", s.as_str());
    }
    println!("checkpoint: {}", when.as_deref().unwrap_or("none"));
    if all {
        for r in &every {
            println!(
                "{:<20} {:<9} {:<34} {}",
                r.order_id,
                r.stage.as_str(),
                r.warehouse.as_deref().unwrap_or("-"),
                person_reason(r)
                    .map(|p| format!("NEEDS A PERSON: {p}"))
                    .or_else(|| r.error.clone())
                    .unwrap_or_default()
            );
        }
    }
    if !person.is_empty() || !notices.is_empty() {
        println!("needs a person:");
    }
    for r in &person {
        println!(
            "  {} ({}): {}",
            r.order_id,
            r.stage.as_str(),
            person_reason(r).unwrap_or_default()
        );
    }
    for n in &notices {
        println!(
            "  notice for {} ({}): {}",
            n.order_id.as_deref().unwrap_or("no orderCode"),
            n.msg_type,
            n.problem.as_deref().unwrap_or("")
        );
    }
    0
}
