//! `bondmap sync`, `status`, `retry`, `demo`, `red-sim`.

use super::map::compile_or_report;
use super::MappingArgs;
use crate::gateway::sim::SimOptions;
use crate::gateway::{Client, GatewayConfig};
use crate::red::config::RedConfig;
use crate::red::sim::{load_folder, RedSimOptions};
use crate::red::RedClient;
use crate::store::{Stage, Store};
use crate::sync::{OrderLine, Pipeline};
use std::path::Path;
use std::time::Duration;

fn init_logs() {
    // Logs go to stderr; the order lines to stdout. RUST_LOG overrides the level.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn clients(cfg: Option<&Path>) -> Result<(RedClient, Client), String> {
    let red = RedConfig::load(cfg).map_err(|e| e.to_string())?;
    let gw = GatewayConfig::load(cfg).map_err(|e| e.to_string())?;
    Ok((RedClient::new(red)?, Client::new(gw)?))
}

/// The clients, the compiled mapping and the state a run needs; `None` once the reason
/// is printed.
fn setup(
    m: &MappingArgs,
    state: &Path,
    cfg: Option<&Path>,
) -> Option<(RedClient, Client, crate::compile::Program, Store)> {
    // Credentials first: nothing is read or sent without them.
    let (red, gw) = clients(cfg).map_err(|e| eprintln!("error: {e}")).ok()?;
    let prog = compile_or_report(m)?;
    let store = Store::open(state)
        .map_err(|e| eprintln!("error: {e}"))
        .ok()?;
    Some((red, gw, prog, store))
}

fn print_line(l: &OrderLine) {
    if let Ok(s) = serde_json::to_string(l) {
        println!("{s}");
    }
}

pub fn sync(
    m: &MappingArgs,
    state: &Path,
    interval: Option<u64>,
    since: Option<&str>,
    cfg: Option<&Path>,
) -> u8 {
    init_logs();
    let since = match since.map(chrono::DateTime::parse_from_rfc3339).transpose() {
        Ok(s) => s.map(|t| t.timestamp()),
        Err(e) => {
            eprintln!(
                "error: --since: {e} (give an RFC 3339 time such as 2026-11-24T08:00:00+08:00)"
            );
            return 2;
        }
    };
    let Some((red, gw, prog, mut store)) = setup(m, state, cfg) else {
        return 2;
    };
    let mut first = true;
    loop {
        let now = chrono::Utc::now().timestamp();
        let mut p = Pipeline {
            red: &red,
            gateway: &gw,
            program: &prog,
            store: &mut store,
        };
        let result = p.round(if first { since } else { None }, now, &mut print_line);
        first = false;
        let code = match result {
            Ok(r) => {
                eprintln!(
                    "round: {} orders: {} accepted, {} rejected, {} failed, {} pending",
                    r.orders.len(),
                    r.count(Stage::Accepted),
                    r.count(Stage::Rejected),
                    r.count(Stage::Failed),
                    r.orders.len()
                        - r.count(Stage::Accepted)
                        - r.count(Stage::Rejected)
                        - r.count(Stage::Failed)
                );
                u8::from(!r.settled())
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        };
        match interval {
            Some(secs) => std::thread::sleep(Duration::from_secs(secs.max(1))),
            None => return code,
        }
    }
}

pub fn status(state: &Path, format: &str) -> u8 {
    if !state.exists() {
        eprintln!(
            "error: no state at {} (run `bondmap sync` first)",
            state.display()
        );
        return 2;
    }
    let store = match Store::open(state) {
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
        ))
    };
    let (counts, problems, changed, checkpoint) = match gather() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let when = checkpoint
        .and_then(|c| chrono::DateTime::from_timestamp(c, 0))
        .map(|t| t.to_rfc3339());
    if format == "json" {
        let counts: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(s, n)| (s.as_str().to_string(), (*n).into()))
            .collect();
        let v = serde_json::json!({"counts": counts, "checkpoint": when, "failed_and_rejected": problems, "changed_after_accept": changed});
        println!("{v}");
        return 0;
    }
    for (s, n) in &counts {
        println!("{:>9}: {n}", s.as_str());
    }
    println!("checkpoint: {}", when.as_deref().unwrap_or("none"));
    for r in &problems {
        println!(
            "{} {}: {}",
            r.stage.as_str(),
            r.order_id,
            r.error.as_deref().unwrap_or("")
        );
    }
    for r in &changed {
        println!(
            "changed after accept {}: RED content changed after Cainiao accepted it (not re-sent)",
            r.order_id
        );
    }
    0
}

pub fn retry(
    m: &MappingArgs,
    orders: &[String],
    failed: bool,
    state: &Path,
    cfg: Option<&Path>,
) -> u8 {
    init_logs();
    let Some((red, gw, prog, mut store)) = setup(m, state, cfg) else {
        return 2;
    };
    let mut ids: Vec<(String, i64)> = Vec::new();
    for id in orders {
        match store.get(id) {
            Ok(Some(r)) => ids.push((r.order_id, r.update_time)),
            _ => {
                eprintln!("error: order {id} is not in {}", state.display());
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
    let mut p = Pipeline {
        red: &red,
        gateway: &gw,
        program: &prog,
        store: &mut store,
    };
    let mut bad = 0;
    for (id, t) in ids {
        match p.order(&id, t, true) {
            Ok(l) => {
                bad += usize::from(l.stage != Stage::Accepted);
                print_line(&l);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    u8::from(bad > 0)
}

const DEMO_APP_ID: &str = "demo-app";
const DEMO_SECRET: &str = "demo-red-secret";
const DEMO_TOKEN: &str = "demo-token";
const DEMO_CAINIAO_SECRET: &str = "demo-cainiao-secret";

fn red_sim_options() -> RedSimOptions {
    let env = |k: &str, d: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_string())
    };
    RedSimOptions {
        app_id: env("RED_APP_ID", DEMO_APP_ID),
        app_secret: env("RED_APP_SECRET", DEMO_SECRET),
        access_token: env("RED_ACCESS_TOKEN", DEMO_TOKEN),
        ..RedSimOptions::default()
    }
}

pub fn red_sim(port: u16, orders: &Path, latency_ms: u64) -> u8 {
    let opts = RedSimOptions {
        latency: std::time::Duration::from_millis(latency_ms),
        ..red_sim_options()
    };
    let h = match crate::red::sim::spawn(port, opts) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: cannot serve on 127.0.0.1:{port}: {e}");
            return 2;
        }
    };
    match load_folder(&h, orders) {
        Ok(n) => eprintln!("RED open API simulator on {} with {n} orders", h.url()),
        Err(e) => {
            eprintln!("error: {}: {e}", orders.display());
            return 2;
        }
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

pub fn demo(orders: &Path, mapping: &Path) -> u8 {
    let run = || -> Result<u8, String> {
        let red_sim =
            crate::red::sim::spawn(0, red_sim_options_demo()).map_err(|e| e.to_string())?;
        let gw_sim = crate::gateway::sim::spawn(
            0,
            SimOptions {
                secret: DEMO_CAINIAO_SECRET.into(),
                ..SimOptions::default()
            },
        )
        .map_err(|e| e.to_string())?;
        // The bundled orders, made 待发货 a few minutes ago.
        let now = chrono::Utc::now().timestamp();
        let mut files: Vec<_> = std::fs::read_dir(orders)
            .map_err(|e| format!("{}: {e}", orders.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for (i, f) in files.iter().enumerate() {
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(f).map_err(|e| e.to_string())?)
                    .map_err(|e| format!("{}: {e}", f.display()))?;
            v["detail"]["updateTime"] = ((now - 600 + i as i64) * 1000).into();
            red_sim.add_order(v);
        }
        let red_url = red_sim.url();
        let red = RedConfig::from_sources(
            |k| match k {
                "RED_APP_ID" => Some(DEMO_APP_ID.into()),
                "RED_APP_SECRET" => Some(DEMO_SECRET.into()),
                "RED_ACCESS_TOKEN" => Some(DEMO_TOKEN.into()),
                "RED_API_URL" => Some(red_url.clone()),
                _ => None,
            },
            None,
        )
        .map_err(|e| e.to_string())?;
        let gw_url = gw_sim.url();
        let gw = GatewayConfig::from_sources(
            |k| match k {
                "CAINIAO_APP_KEY" => Some("DEMO_CP".into()),
                "CAINIAO_SECRET_KEY" => Some(DEMO_CAINIAO_SECRET.into()),
                "CAINIAO_GATEWAY_URL" => Some(gw_url.clone()),
                _ => None,
            },
            None,
        )
        .map_err(|e| e.to_string())?;
        let (red, gw) = (RedClient::new(red)?, Client::new(gw)?);
        let prog = match crate::engine::load_program(mapping, &crate::compile::Options::default()) {
            Ok((p, _)) => p,
            Err(e) => return Err(e.render(false)),
        };
        let dir = tempfile_dir()?;
        let db = dir.join("bondmap-demo.db");
        let mut store = Store::open(&db).map_err(|e| e.to_string())?;
        println!("bondmap demo: {} RED orders on a local RED API ({}), a local Cainiao gateway ({}), mapping {}", files.len(), red_sim.url(), gw_sim.url(), mapping.display());
        println!("state: {}\n", db.display());
        let mut p = Pipeline {
            red: &red,
            gateway: &gw,
            program: &prog,
            store: &mut store,
        };
        let report = p
            .round(Some(now - 3600), now, &mut |l| {
                let what = match (&l.cainiao_order_code, &l.error) {
                    (Some(c), _) => format!("Cainiao order {c}"),
                    (_, Some(e)) => e.clone(),
                    _ => String::new(),
                };
                println!("{:<20} {:<9} {what}", l.order_id, l.stage.as_str());
            })
            .map_err(|e| e.to_string())?;
        println!(
            "\n{} orders: {} accepted by Cainiao, {} rejected by the mapping, {} failed",
            report.orders.len(),
            report.count(Stage::Accepted),
            report.count(Stage::Rejected),
            report.count(Stage::Failed)
        );
        println!("RED API calls: {} list, {} detail, {} declare, {} receiver, {} decrypt; gateway requests: {}", red_sim.calls("order.getOrderList"), red_sim.calls("order.getOrderDetail"), red_sim.calls("order.getOrderDeclareInfo"), red_sim.calls("order.getOrderReceiverInfo"), red_sim.calls("data.batchDecrypt"), gw_sim.requests());
        // A second round finds nothing new to send.
        let again = p
            .round(None, now + 1, &mut |_| {})
            .map_err(|e| e.to_string())?;
        println!(
            "a second round: {} orders seen again, gateway requests still {}",
            again.orders.len(),
            gw_sim.requests()
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(if report.count(Stage::Failed) == 0 {
            0
        } else {
            1
        })
    };
    match run() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn red_sim_options_demo() -> RedSimOptions {
    RedSimOptions {
        app_id: DEMO_APP_ID.into(),
        app_secret: DEMO_SECRET.into(),
        access_token: DEMO_TOKEN.into(),
        ..RedSimOptions::default()
    }
}

/// A fresh folder for the demo's database.
fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let d = std::env::temp_dir().join(format!("bondmap-demo-{}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
    Ok(d)
}
