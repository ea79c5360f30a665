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
    crate::sync::resolve::reason(r)
}

/// The actions that end an order's wait, as the command line names them.
fn actions(r: &OrderRow) -> Vec<&'static str> {
    crate::sync::resolve::wait_of(r)
        .map(|w| w.actions.iter().map(|a| a.as_str()).collect())
        .unwrap_or_default()
}

fn order_json(r: &OrderRow) -> serde_json::Value {
    let mut v = serde_json::json!({"order_id": r.order_id, "stage": r.stage});
    let mut put = |k: &str, x: Option<String>| {
        if let Some(x) = x {
            v[k] = x.into();
        }
    };
    put("needs_person", person_reason(r));
    put("customs_class", r.customs_class.clone());
    put("customs_reason", r.customs_reason.clone());
    put("warehouse", r.warehouse.clone());
    put("cainiao_order_code", r.cainiao_order_code.clone());
    put("error", r.error.clone());
    put("error_code", r.error_code.clone());
    let acts = actions(r);
    if !acts.is_empty() {
        v["actions"] = acts.into();
    }
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
            store.tells_not_done()?,
        ))
    };
    let (counts, problems, changed, checkpoint, person, notices, every, untold) = match gather() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let when = checkpoint.map(crate::logs::iso_secs);
    // When RED's kept tokens end (never the tokens): a state from before they were kept
    // has none.
    let tokens = store.red_tokens().ok().flatten().map(|t| {
        (
            crate::logs::iso_ms(t.access_expires_at),
            crate::logs::iso_ms(t.refresh_expires_at),
            t.refresh_expires_at <= chrono::Utc::now().timestamp_millis(),
        )
    });
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
        let mut v = serde_json::json!({"counts": counts, "checkpoint": when, "needs_person": person, "notices_needing_person": notice_json, "failed_and_rejected": problems, "changed_after_accept": changed, "customs_not_told": untold, "red_tokens": tokens.as_ref().map(|(a, r, _)| serde_json::json!({"access_expires_at": a, "refresh_expires_at": r}))});
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
    match &tokens {
        Some((_, r, true)) => println!(
            "RED tokens: the refresh token expired at {r}: authorize the app again, then `bondmap auth --code CODE`"
        ),
        Some((a, r, false)) => {
            println!("RED tokens: kept in the state; the access token until {a}, renewed by the refresh token until {r}")
        }
        None => println!("RED tokens: none kept yet (sync starts with the configured ones)"),
    }
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
    if !person.is_empty() || !notices.is_empty() || !untold.is_empty() {
        println!("needs a person:");
    }
    for r in &person {
        let acts = actions(r);
        let ends = if acts.is_empty() {
            String::new()
        } else {
            format!(" [bondmap resolve {} {}]", r.order_id, acts.join("|"))
        };
        println!(
            "  {} ({}): {}{ends}",
            r.order_id,
            r.stage.as_str(),
            person_reason(r).unwrap_or_default()
        );
    }
    for e in &untold {
        let what = match e.tell {
            crate::store::Tell::Refused => "RED refused the customs result of",
            _ => "not sent to RED: the customs result of",
        };
        println!(
            "  {what} {} ({}): {}",
            e.order_id,
            e.status,
            e.tell_error.as_deref().unwrap_or("")
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
