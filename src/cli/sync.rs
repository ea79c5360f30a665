//! `bondmap sync`, `status`, `retry`, `demo`, `red-sim`.

use super::{LifeArgs, MappingArgs};
use crate::callback::{CallbackConfig, Receiver};
use crate::gateway::sim::SimOptions;
use crate::gateway::{Client, GatewayConfig, Secret};
use crate::red::config::RedConfig;
use crate::red::sim::{load_folder, RedSimOptions};
use crate::red::RedClient;
use crate::route::Router;
use crate::store::{OrderRow, Stage, Store};
use crate::sync::route::routed_identity;
use crate::sync::{life, Life, OrderLine, Pipeline, Routing, StoreSink};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// The clients, the loaded mapping (or routes) and the state a run needs; `None` once
/// the reason is printed.
fn setup(
    m: &MappingArgs,
    state: &Path,
    cfg: Option<&Path>,
    force: bool,
) -> Option<(RedClient, Client, Router, Store)> {
    // Credentials first: nothing is read or sent without them.
    let (red, gw) = clients(cfg).map_err(|e| eprintln!("error: {e}")).ok()?;
    let router = super::map::route_or_report(m)?;
    // The one writer of this state: a second sync or retry stops here, at once.
    let mut store = Store::open_exclusive(state)
        .map_err(|e| eprintln!("error: {e}"))
        .ok()?;
    let id = routed_identity(&router, &m.mapping, &m.params);
    check_identity(&mut store, state, &id, m, force)?;
    Some((red, gw, router, store))
}

/// The state remembers the mapping it was made with; another one is refused unless
/// `--force`, which records the new one.
fn check_identity(
    store: &mut Store,
    state: &Path,
    id: &str,
    m: &MappingArgs,
    force: bool,
) -> Option<()> {
    let known = store
        .mapping_identity()
        .map_err(|e| eprintln!("error: {e}"))
        .ok()?;
    match known {
        Some(k) if k == id => return Some(()),
        Some(k) if !force => {
            eprintln!(
                "warning: {} was made with another mapping (identity {}), not {} ({}): its orders would be sent as this mapping writes them",
                state.display(),
                &k[..k.len().min(12)],
                m.mapping.display(),
                &id[..id.len().min(12)]
            );
            eprintln!("error: refusing to run with a different mapping; pass --force to use this one (it is then recorded in the state)");
            return None;
        }
        Some(k) => eprintln!(
            "warning: {} was made with another mapping (identity {}); --force: using {} ({}) from now on",
            state.display(),
            &k[..k.len().min(12)],
            m.mapping.display(),
            &id[..id.len().min(12)]
        ),
        None => {}
    }
    store
        .set_mapping_identity(id)
        .map_err(|e| eprintln!("error: {e}"))
        .ok()
}

fn print_line(l: &OrderLine) {
    if let Ok(s) = serde_json::to_string(l) {
        println!("{s}");
    }
}

/// The cancel and ship-back mappings of a run.
fn life_of(args: &LifeArgs, router: &Router, mapping: &Path) -> Life {
    let mut life = Life::new(args.cancel_mapping.clone(), args.deliver_mapping.clone());
    if router.is_plain() {
        life.fallback_warehouse = Some(mapping.to_path_buf());
    }
    life
}

/// What `sync` was asked to do besides the mapping and the state.
pub struct SyncRun<'a> {
    pub interval: Option<u64>,
    pub since: Option<&'a str>,
    pub cfg: Option<&'a Path>,
    pub force: bool,
    pub life: &'a LifeArgs,
    pub listen: Option<SocketAddr>,
}

/// Set by SIGTERM or SIGINT; read between rounds. A second signal ends the process at
/// once (exit 1): the state is consistent at every commit, so that too is resumable.
fn stop_flag() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGTERM, SIGINT] {
        signal_hook::flag::register_conditional_shutdown(sig, 1, flag.clone())
            .and_then(|_| signal_hook::flag::register(sig, flag.clone()))
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    Ok(flag)
}

pub fn sync(m: &MappingArgs, state: &Path, run: SyncRun) -> u8 {
    init_logs();
    let since = match run
        .since
        .map(chrono::DateTime::parse_from_rfc3339)
        .transpose()
    {
        Ok(s) => s.map(|t| t.timestamp()),
        Err(e) => {
            eprintln!(
                "error: --since: {e} (give an RFC 3339 time such as 2026-11-24T08:00:00+08:00)"
            );
            return 2;
        }
    };
    let stop = match stop_flag() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let Some((red, gw, router, mut store)) = setup(m, state, run.cfg, run.force) else {
        return 2;
    };
    let (wake_tx, wake_rx) = channel::<()>();
    // Kept alive for the whole run: dropping it stops the receiver.
    let _receiver = match run.listen {
        None => None,
        Some(addr) => {
            let sink = match StoreSink::open(state, Some(wake_tx)) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let cfg = CallbackConfig::new(gw.config().secret_key.clone());
            match Receiver::start(addr, cfg, Arc::new(sink)) {
                Ok(r) => {
                    eprintln!("receiving Cainiao's shipment notices at {}", r.url());
                    Some(r)
                }
                Err(e) => {
                    eprintln!("error: --listen {addr}: {e}");
                    return 2;
                }
            }
        }
    };
    let routing = Routing::new(&router, &m.mapping);
    let Some(mut p) = Pipeline::routed(&red, &gw, routing, &mut store) else {
        eprintln!("error: {} names no mapping", m.mapping.display());
        return 2;
    };
    p.life = Some(life_of(run.life, &router, &m.mapping));
    p.options.progress = true;
    let mut first = true;
    loop {
        let now = chrono::Utc::now().timestamp();
        let result = p.round(if first { since } else { None }, now, &mut print_line);
        first = false;
        let code = match result {
            Ok(r) => {
                eprintln!(
                    "round: {} orders: {} accepted, {} rejected, {} failed, {} skipped, {} cancelled, {} shipped, {} delivered",
                    r.orders.len(),
                    r.count(Stage::Accepted),
                    r.count(Stage::Rejected),
                    r.count(Stage::Failed),
                    r.count(Stage::Skipped),
                    r.count(Stage::Cancelled),
                    r.count(Stage::Shipped),
                    r.count(Stage::Delivered),
                );
                u8::from(!r.settled())
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        };
        let Some(secs) = run.interval else {
            return code;
        };
        // Between rounds: shipments told to RED as their notices come; a signal ends the
        // wait (the round before it finished whole).
        let until = Instant::now() + Duration::from_secs(secs.max(1));
        while !stop.load(Ordering::SeqCst) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match wake_rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(()) => {
                    while wake_rx.try_recv().is_ok() {}
                    if let Err(e) = life::deliver_due(&mut p, &mut |l| print_line(&l)) {
                        eprintln!("error: {e}");
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                // No receiver: nothing wakes us but the clock.
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(left.min(Duration::from_millis(200)))
                }
            }
        }
        if stop.load(Ordering::SeqCst) {
            eprintln!("stopped by a signal: the last round finished, the state is saved; run sync again to go on");
            return 0;
        }
    }
}

/// Why a person must act on an order, if one must.
fn person_reason(r: &OrderRow) -> Option<String> {
    if let Some(n) = &r.needs_person {
        return Some(n.clone());
    }
    match r.stage {
        Stage::Failed | Stage::Rejected => Some(format!(
            "{}: {}",
            r.stage.as_str(),
            r.error.as_deref().unwrap_or("no error recorded")
        )),
        _ if r.changed_after_accept => {
            Some("RED content changed after Cainiao accepted it (not re-sent)".to_string())
        }
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
    v
}

pub fn status(state: &Path, format: &str, all: bool) -> u8 {
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

pub fn retry(
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
    // An id the state does not know is reported; the others are still retried.
    let mut unknown = 0;
    for id in orders {
        match store.get(id) {
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
        bad += usize::from(!matches!(
            l.stage,
            Stage::Accepted | Stage::Shipped | Stage::Delivered | Stage::Cancelled
        ));
        print_line(l);
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        return 2;
    }
    u8::from(bad + unknown > 0)
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

/// The demo's one change to the bundled orders (which carry their warehouse codes, HZXS
/// and NBMS): one becomes direct mail, which no route takes. Made in the demo's copies:
/// the files in examples/ stay as they are (their mapping snapshots must not change).
fn demo_routing(i: usize, doc: &mut serde_json::Value) {
    if i == 10 {
        doc["detail"]["logisticsMode"] = 3.into();
    }
}

/// The demo's story: which orders the buyer cancels (by place in the sorted folder).
const DEMO_CANCEL_BEFORE_SHIPPING: usize = 1;
const DEMO_CANCEL_AFTER_SHIPPING: usize = 4;

pub fn demo(orders: &Path, mapping: &Path) -> u8 {
    let run = || -> Result<u8, String> {
        let red_sim =
            crate::red::sim::spawn(0, red_sim_options_demo()).map_err(|e| e.to_string())?;
        let dir = tempfile_dir()?;
        let db = dir.join("bondmap-demo.db");
        let mut store = Store::open(&db).map_err(|e| e.to_string())?;
        // The demo's callback receiver: where the warehouse posts its shipment notices.
        let (wake_tx, _wake_rx) = channel::<()>();
        let sink = StoreSink::open(&db, Some(wake_tx)).map_err(|e| e.to_string())?;
        let receiver = Receiver::start(
            "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
            CallbackConfig::new(Secret::new(DEMO_CAINIAO_SECRET)),
            Arc::new(sink),
        )
        .map_err(|e| e.to_string())?;
        let gw_sim = crate::gateway::sim::spawn(
            0,
            SimOptions {
                secret: DEMO_CAINIAO_SECRET.into(),
                callback_url: Some(receiver.url()),
                // Long enough for the cancel of step 2 to come first.
                ship_after: Duration::from_millis(2500),
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
        let mut ids = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(f).map_err(|e| e.to_string())?)
                    .map_err(|e| format!("{}: {e}", f.display()))?;
            v["detail"]["updateTime"] = ((now - 600 + i as i64) * 1000).into();
            demo_routing(i, &mut v);
            let id = v["detail"]["orderId"]
                .as_str()
                .ok_or_else(|| format!("{}: no detail.orderId (a string)", f.display()))?;
            ids.push(id.to_string());
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
        let router = Router::load(mapping, &crate::compile::Options::default())
            .map_err(|e| e.render(false))?;
        println!("bondmap demo: {} RED orders on a local RED API ({}), a local Cainiao gateway ({}), mapping {}", files.len(), red_sim.url(), gw_sim.url(), mapping.display());
        println!("Cainiao's shipment notices come to {}", receiver.url());
        println!("state: {}\n", db.display());
        let mut p = Pipeline::routed(&red, &gw, Routing::new(&router, mapping), &mut store)
            .ok_or("the mapping names no warehouse mapping")?;
        p.life = Some(Life::new(
            "mappings/cainiao/cancel.map".into(),
            "mappings/red/order_deliver.map".into(),
        ));
        if router.is_plain() {
            if let Some(l) = p.life.as_mut() {
                l.fallback_warehouse = Some(mapping.to_path_buf());
            }
        }
        println!("1. a sync round: each order routed to its warehouse and sent");
        let report = p
            .round(Some(now - 3600), now, &mut |_| {})
            .map_err(|e| e.to_string())?;
        let sent = report.count(Stage::Accepted);
        println!(
            "   {} orders: {sent} accepted by Cainiao, {} rejected by the mapping, {} skipped, {} failed",
            report.orders.len(),
            report.count(Stage::Rejected),
            report.count(Stage::Skipped),
            report.count(Stage::Failed)
        );
        let id_at = |i: usize| ids.get(i).cloned().unwrap_or_default();
        let before = id_at(DEMO_CANCEL_BEFORE_SHIPPING);
        red_sim.cancel_order(&before);
        println!("2. the buyer of {before} cancels before the parcel leaves; the next round tells the warehouse");
        // The round's end a few seconds ahead: RED's update of the cancel is this very
        // second, and a listing's end is whole seconds.
        p.round(None, chrono::Utc::now().timestamp() + 5, &mut |_| {})
            .map_err(|e| e.to_string())?;
        println!("3. the warehouse ships the others and posts its notices; RED is told of each");
        let want = sent.saturating_sub(usize::from(gw_sim.cancelled().contains(&before)));
        let deadline = Instant::now() + Duration::from_secs(20);
        while gw_sim.notified().len() < want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        life::deliver_due(&mut p, &mut |_| {}).map_err(|e| e.to_string())?;
        let after = id_at(DEMO_CANCEL_AFTER_SHIPPING);
        red_sim.cancel_order(&after);
        println!(
            "4. the buyer of {after} cancels after it shipped: that is a return, for a person"
        );
        p.round(None, chrono::Utc::now().timestamp() + 10, &mut |_| {})
            .map_err(|e| e.to_string())?;
        drop(p);
        println!();
        let rows = store.all().map_err(|e| e.to_string())?;
        for r in &rows {
            let what = match (person_reason(r), &r.error, &r.cainiao_order_code) {
                (Some(why), _, _) => format!("NEEDS A PERSON: {why}"),
                (None, Some(e), _) => e.clone(),
                (None, None, Some(c)) => format!("Cainiao order {c}"),
                _ => String::new(),
            };
            let wh = r.warehouse.as_deref().unwrap_or("-");
            println!("{:<20} {:<9} {wh:<34} {what}", r.order_id, r.stage.as_str());
        }
        let counts: std::collections::HashMap<Stage, u64> = store
            .counts()
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        let n = |s: Stage| counts.get(&s).copied().unwrap_or(0);
        println!(
            "\n{} orders: {} delivered (RED told), {} cancelled, {} skipped, {} rejected, {} shipped, {} accepted, {} failed",
            rows.len(),
            n(Stage::Delivered),
            n(Stage::Cancelled),
            n(Stage::Skipped),
            n(Stage::Rejected),
            n(Stage::Shipped),
            n(Stage::Accepted),
            n(Stage::Failed)
        );
        println!("RED API calls: {} list, {} detail, {} declare, {} receiver, {} decrypt, {} orderDeliver; gateway requests: {}, cancels accepted: {}", red_sim.calls("order.getOrderList"), red_sim.calls("order.getOrderDetail"), red_sim.calls("order.getOrderDeclareInfo"), red_sim.calls("order.getOrderReceiverInfo"), red_sim.calls("data.batchDecrypt"), red_sim.calls("order.orderDeliver"), gw_sim.requests(), gw_sim.cancelled().len());
        drop(receiver);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(u8::from(n(Stage::Failed) > 0))
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
