//! `bondmap demo`: the whole job with no setup, over both local simulators.

use super::red_sim::{DEMO_APP_ID, DEMO_SECRET, DEMO_TOKEN};
use super::status::person_reason;
use crate::callback::{CallbackConfig, Receiver};
use crate::gateway::sim::SimOptions;
use crate::gateway::{Client, GatewayConfig, Secret};
use crate::red::config::RedConfig;
use crate::red::sim::RedSimOptions;
use crate::red::RedClient;
use crate::route::Router;
use crate::store::{Stage, Store};
use crate::sync::customs::Intake;
use crate::sync::resolve::{self, Action};
use crate::sync::{life, Life, Pipeline, Routing, StoreSink};
use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Folder of example orders.
    #[arg(long, default_value = "examples/orders")]
    pub orders: PathBuf,
    /// The mapping to use: a routes file or one warehouse mapping.
    #[arg(long, default_value = "mappings/routes.map")]
    pub mapping: PathBuf,
}

pub fn run(a: &Args) -> u8 {
    demo(&a.orders, &a.mapping)
}

const DEMO_CAINIAO_SECRET: &str = "demo-cainiao-secret";

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

/// Customs stops this one (by place) for a missing payment record; RED is asked to push
/// it again and customs then clears it.
const DEMO_PAYMENT_MISSING: usize = 6;

/// The demo's one order of its own (a copy of the first example, under this id): customs
/// stops it over the buyer's identity, and a person closes it.
const DEMO_IDENTITY_ORDER: &str = "P78811223300000014";

/// The customs results the demo's warehouse reports before shipping (the rest ship with
/// none): a missing payment record that a re-push mends, and a buyer whose name and ID
/// number do not match (the warehouse quotes the name: it is stored masked).
fn demo_customs(payment: &str, identity_buyer: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut m = HashMap::new();
    m.insert(
        payment.to_string(),
        vec![
            (
                "CUSTOMS_FAILED".to_string(),
                "[Code:13121;Desc:支付单不存在，请推送支付单]".to_string(),
            ),
            ("CUSTOMS_PASSED".to_string(), "清关成功".to_string()),
        ],
    );
    m.insert(
        DEMO_IDENTITY_ORDER.to_string(),
        vec![(
            "CUSTOMS_FAILED".to_string(),
            format!("订购人身份信息校验未通过：订购人{identity_buyer}的姓名与身份证号不一致"),
        )],
    );
    m
}

fn demo(orders: &Path, mapping: &Path) -> u8 {
    let run = || -> Result<u8, String> {
        let red_sim =
            crate::red::sim::spawn(0, red_sim_options_demo()).map_err(|e| e.to_string())?;
        let dir = tempfile_dir()?;
        let db = dir.join("bondmap-demo.db");
        let mut store = Store::open(&db).map_err(|e| e.to_string())?;
        // The bundled orders, made 待发货 a few minutes ago, and the demo's own one.
        let now = chrono::Utc::now().timestamp();
        let mut files: Vec<_> = std::fs::read_dir(orders)
            .map_err(|e| format!("{}: {e}", orders.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut ids = Vec::new();
        let mut docs = Vec::new();
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
            docs.push(v);
        }
        let mut own = docs
            .first()
            .cloned()
            .ok_or("the demo needs at least one example order")?;
        own["detail"]["orderId"] = DEMO_IDENTITY_ORDER.into();
        own["detail"]["updateTime"] = ((now - 300) * 1000).into();
        if let Some(r) = own["receiver"]["receiverInfos"].get_mut(0) {
            r["orderId"] = DEMO_IDENTITY_ORDER.into();
        }
        let buyer = own["declare"]["orderDeclareInfos"][0]["idName"]
            .as_str()
            .ok_or("the first example order has no buyer's name")?
            .to_string();
        docs.push(own);
        for v in docs {
            red_sim.add_order(v);
        }
        let payment = ids.get(DEMO_PAYMENT_MISSING).cloned().ok_or_else(|| {
            format!(
                "the demo needs at least {} example orders",
                DEMO_PAYMENT_MISSING + 1
            )
        })?;
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
        // The demo's callback receiver: where the warehouse posts its shipment notices and
        // customs results (the rounds' RED client masks a failure's reason, as in `sync`).
        let red = Arc::new(RedClient::new(red)?);
        let (wake_tx, _wake_rx) = channel::<()>();
        let sink = StoreSink::open(&db, Some(wake_tx))
            .map_err(|e| e.to_string())?
            .with_customs(Intake::load(Path::new("mappings/cainiao"), red.clone())?);
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
                customs: demo_customs(&payment, &buyer),
                customs_gap: Duration::from_millis(1500),
                ..SimOptions::default()
            },
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
        let gw = Client::new(gw)?;
        let router = Router::load(mapping, &crate::compile::Options::default())
            .map_err(|e| e.render(false))?;
        println!("bondmap demo: {} RED orders on a local RED API ({}), a local Cainiao gateway ({}), mapping {}", files.len() + 1, red_sim.url(), gw_sim.url(), mapping.display());
        println!(
            "Cainiao's shipment notices and customs results come to {}",
            receiver.url()
        );
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
            report.lines,
            report.count(Stage::Rejected),
            report.count(Stage::Skipped),
            report.count(Stage::Failed)
        );
        // The cancels need orders at these places: with fewer, say so, never cancel "".
        let id_at = |i: usize| {
            ids.get(i)
                .cloned()
                .ok_or_else(|| format!("the demo needs at least {} example orders", i + 1))
        };
        let before = id_at(DEMO_CANCEL_BEFORE_SHIPPING)?;
        red_sim.cancel_order(&before);
        println!("2. the buyer of {before} cancels before the parcel leaves; the next round tells the warehouse");
        // The round's end a few seconds ahead: RED's update of the cancel is this very
        // second, and a listing's end is whole seconds.
        p.round(None, chrono::Utc::now().timestamp() + 5, &mut |_| {})
            .map_err(|e| e.to_string())?;
        println!("3. the warehouse reports customs results and ships the others; RED is told of each result and each shipment");
        println!("   customs stops {payment} for a missing payment record: RED is asked to push it again, then customs clears it");
        println!("   customs stops {DEMO_IDENTITY_ORDER} over the buyer's identity: it waits for a person");
        // Neither the cancelled order nor the one customs keeps ships.
        let want = sent
            .saturating_sub(usize::from(gw_sim.cancelled().contains(&before)))
            .saturating_sub(1);
        let deadline = Instant::now() + Duration::from_secs(30);
        let stopped = |p: &Pipeline| {
            p.store
                .get(DEMO_IDENTITY_ORDER)
                .is_ok_and(|r| r.is_some_and(|r| r.stage == Stage::CustomsFailed))
        };
        while (gw_sim.notified().len() < want || !stopped(&p)) && Instant::now() < deadline {
            // What `sync` does as each notice comes: customs steps, then shipments.
            life::deliver_due(&mut p, &mut |_| {}).map_err(|e| e.to_string())?;
            std::thread::sleep(Duration::from_millis(100));
        }
        life::deliver_due(&mut p, &mut |_| {}).map_err(|e| e.to_string())?;
        let note = "the buyer's real-name record is wrong: refunded by customer service, the warehouse returns the stock";
        resolve::apply(
            p.store,
            DEMO_IDENTITY_ORDER,
            Action::Close,
            Some(note),
            "demo",
        )
        .map_err(|e| e.to_string())?;
        println!("   a person settles it outside bondmap: bondmap resolve {DEMO_IDENTITY_ORDER} close --note \"{note}\"");
        let after = id_at(DEMO_CANCEL_AFTER_SHIPPING)?;
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
            "\n{} orders: {} delivered (RED told), {} cancelled, {} skipped, {} rejected, {} shipped, {} accepted, {} failed, {} closed by a person",
            rows.len(),
            n(Stage::Delivered),
            n(Stage::Cancelled),
            n(Stage::Skipped),
            n(Stage::Rejected),
            n(Stage::Shipped),
            n(Stage::Accepted),
            n(Stage::Failed),
            n(Stage::Closed)
        );
        println!("RED API calls: {} list, {} detail, {} declare, {} receiver, {} decrypt, {} orderDeliver, {} modifycustomstatus, {} resendBondedPaymentRecord; gateway requests: {}, cancels accepted: {}", red_sim.calls("order.getOrderList"), red_sim.calls("order.getOrderDetail"), red_sim.calls("order.getOrderDeclareInfo"), red_sim.calls("order.getOrderReceiverInfo"), red_sim.calls("data.batchDecrypt"), red_sim.calls("order.orderDeliver"), red_sim.calls("order.modifycustomstatus"), red_sim.calls("order.resendBondedPaymentRecord"), gw_sim.requests(), gw_sim.cancelled().len());
        for id in [payment.as_str(), DEMO_IDENTITY_ORDER] {
            println!("\nbondmap history {id}:");
            for e in store.history(id).map_err(|e| e.to_string())? {
                println!("  {}", super::history::line(&e));
            }
        }
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
