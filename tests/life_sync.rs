//! The order's whole life in `sync`, on loopback: a routed shop (each warehouse gets only
//! its orders, direct mail skipped), shipments told to RED once (duplicate notices, a bad
//! digest, an unknown carrier, a notice for an unknown or a cancelled order, a SIGKILL
//! between the notice and the RED call), cancels before and after the parcel left,
//! `status --all`, and `sync --interval` stopped by SIGTERM.

mod common;

use bondmap::callback::{CallbackConfig, Receiver};
use bondmap::compile::Options;
use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::gateway::{data_digest, Client, Secret};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::red::RedClient;
use bondmap::route::Router;
use bondmap::store::{Stage, Store};
use bondmap::sync::{life, Life, Pipeline, Routing, StoreSink};
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const APP: &str = "life-app";
const RED_SECRET: &str = "red-SECRET-31";
const TOKEN: &str = "tok-SECRET-32";
const GW_SECRET: &str = "gw-SECRET-33";
const ROUTES: &str = "mappings/routes.map";
const SIMS: Sims = Sims {
    app: APP,
    red_secret: RED_SECRET,
    token: TOKEN,
    gw_secret: GW_SECRET,
    timeout: Duration::from_millis(800),
};

fn red_sim() -> RedSimHandle {
    SIMS.red_sim(RedSimOptions::default())
}

/// A valid order (from the accepted examples) with its id, warehouse code and mode.
fn order(i: usize, id: &str, whcode: &str, mode: i64, now: i64) -> Value {
    let mut d = valid_order(i, id, now - 600 + i as i64);
    d["detail"]["whcode"] = whcode.into();
    d["detail"]["logisticsMode"] = mode.into();
    d
}

fn life_mappings() -> Life {
    Life::new(
        root().join("mappings/cainiao/cancel.map"),
        root().join("mappings/red/order_deliver.map"),
    )
}

/// Both simulators, a receiver whose sink is the state, the routes file, a fresh state.
struct Shop {
    red: RedSimHandle,
    gw: SimHandle,
    rc: RedClient,
    gc: Client,
    router: Router,
    store: Store,
    db: PathBuf,
    receiver: Receiver,
    _dir: tempfile::TempDir,
}

impl Shop {
    fn new(opts: SimOptions) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let store = Store::open(&db).unwrap();
        let sink = StoreSink::open(&db, None).unwrap();
        let receiver = Receiver::start(
            "127.0.0.1:0".parse().unwrap(),
            CallbackConfig::new(Secret::new(GW_SECRET)),
            Arc::new(sink),
        )
        .unwrap();
        let red = red_sim();
        // Ships 200 ms after accepting unless the test says otherwise.
        let ship_after = if opts.ship_after.is_zero() {
            Duration::from_millis(200)
        } else {
            opts.ship_after
        };
        let gw = SIMS.gw_sim(SimOptions {
            callback_url: Some(receiver.url()),
            ship_after,
            ..opts
        });
        let (rc, gc) = SIMS.clients(&red, &gw);
        let router = Router::load(&root().join(ROUTES), &Options::default()).unwrap();
        Shop {
            red,
            gw,
            rc,
            gc,
            router,
            store,
            db,
            receiver,
            _dir: dir,
        }
    }

    fn pipeline(&mut self) -> Pipeline<'_> {
        let routing = Routing::new(&self.router, &root().join(ROUTES));
        let mut p = Pipeline::routed(&self.rc, &self.gc, routing, &mut self.store).unwrap();
        p.life = Some(life_mappings());
        p
    }

    /// One round ending a few seconds ahead (RED's updates of this second are in it).
    fn round(&mut self) {
        let now = chrono::Utc::now().timestamp() + 5;
        self.pipeline().round(None, now, &mut |_| {}).unwrap();
    }

    fn stage(&self, id: &str) -> Stage {
        self.store.get(id).unwrap().unwrap().stage
    }

    fn row(&self, id: &str) -> bondmap::store::OrderRow {
        self.store.get(id).unwrap().unwrap()
    }

    /// Waits (bounded) until the warehouse's notices of `n` orders were answered success.
    fn wait_notified(&self, n: usize) {
        let t = Instant::now();
        while self.gw.notified().len() < n {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "only {:?} notified",
                self.gw.notified()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn deliver(&mut self) {
        life::deliver_due(&mut self.pipeline(), &mut |_| {}).unwrap();
    }
}

fn notice_form(li: &str, secret: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("logistic_provider_id", "CP_WAREHOUSE")
        .append_pair("msg_type", "CONSIGN_ORDER_NOTIFY")
        .append_pair("logistics_interface", li)
        .append_pair("data_digest", &data_digest(li, secret))
        .finish()
}

fn post(url: &str, body: String) -> Value {
    let resp = reqwest::blocking::Client::new()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .unwrap();
    serde_json::from_str(&resp.text().unwrap()).unwrap()
}

fn notice(order_id: &str, carrier: &str) -> String {
    json!({"orderCode": order_id, "lgOrderCode": "LP00000001", "storeCode": "HZ_XIASHA_01",
           "mailNo": "ZT0000000001", "logisticsCode": carrier, "consignTime": "2026-11-22 10:00:00"})
    .to_string()
}

fn notices_of(db: &Path) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT COALESCE(order_id, ''), content FROM notices ORDER BY key")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_routed_shop_sends_each_warehouse_only_its_orders_and_skips_the_unrouted() {
    let mut s = Shop::new(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    let plan = [
        ("R01", "HZXS", 2),
        ("R02", "NBMS", 2),
        ("R03", "HZXS", 2),
        ("R04", "NBMS", 2),
        ("R05", "HZXS", 3), // direct mail
        ("R06", "XXXX", 2), // a warehouse no route names
    ];
    for (i, (id, wh, mode)) in plan.iter().enumerate() {
        s.red.add_order(order(i, id, wh, *mode, now));
    }
    s.round();
    let created = s.gw.created();
    for (id, wh, mode) in plan {
        let r = s.row(id);
        match (wh, mode) {
            ("HZXS", 2) => assert_eq!(
                r.warehouse.as_deref(),
                Some("warehouses/hangzhou_xiasha.map")
            ),
            ("NBMS", 2) => assert_eq!(
                r.warehouse.as_deref(),
                Some("warehouses/ningbo_meishan.map")
            ),
            _ => {
                assert_eq!(r.stage, Stage::Skipped, "{id}");
                assert!(
                    r.error.as_deref().unwrap_or("").contains("no route"),
                    "{r:?}"
                );
                assert!(!created.contains_key(id), "{id} was sent");
                assert!(r.needs_person.is_none());
                continue;
            }
        }
        assert_eq!(created.get(id), Some(&1), "{id}");
    }
    // The warehouse ships them: each notice names the storeCode of the order's request.
    s.wait_notified(4);
    let code = |wh: &str| {
        bondmap::warehouse::params_of(&root().join("mappings/warehouses").join(wh))
            .unwrap()
            .into_iter()
            .find(|(k, _)| k == "store_code")
            .unwrap()
            .1
    };
    let (hz, nb) = (code("hangzhou_xiasha.map"), code("ningbo_meishan.map"));
    assert_ne!(hz, nb);
    let want: HashMap<&str, &str> =
        [("R01", &*hz), ("R02", &*nb), ("R03", &*hz), ("R04", &*nb)].into();
    let notices = notices_of(&s.db);
    assert_eq!(notices.len(), 4);
    for (id, content) in notices {
        let v: Value = serde_json::from_str(&content).unwrap();
        assert_eq!(v["storeCode"], want[id.as_str()], "{id}");
    }
    // A second round sends nothing again, skipped orders included.
    s.round();
    assert_eq!(s.gw.requests(), 4);
}

#[test]
fn a_shipment_is_told_to_red_once_and_duplicate_or_badly_signed_notices_change_nothing() {
    let mut s = Shop::new(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    for (i, id) in ["S01", "S02"].iter().enumerate() {
        s.red.add_order(order(i, id, "HZXS", 2, now));
    }
    s.round();
    s.wait_notified(2);
    assert_eq!(s.stage("S01"), Stage::Shipped);
    assert!(s.red.delivered().is_empty(), "told before the round");
    s.deliver();
    let delivered = s.red.delivered();
    for id in ["S01", "S02"] {
        assert_eq!(s.stage(id), Stage::Delivered);
        assert_eq!(delivered[id]["expressCompanyCode"], "zto");
        assert_eq!(s.row(id).deliver_attempts, 1);
    }
    let calls = s.red.calls("order.orderDeliver");
    assert_eq!(calls, 2);
    // The same notice again: answered success, nothing recorded or told again.
    let (_, content) = notices_of(&s.db)
        .into_iter()
        .find(|(id, _)| id == "S01")
        .unwrap();
    let a = post(&s.receiver.url(), notice_form(&content, GW_SECRET));
    assert_eq!(a["success"], "true", "{a}");
    // A bad digest: refused, nothing recorded.
    let a = post(
        &s.receiver.url(),
        notice_form(&notice("S02", "SF"), "wrong"),
    );
    assert_eq!(
        (a["success"].as_str(), a["errorCode"].as_str()),
        (Some("false"), Some("S02"))
    );
    assert_eq!(notices_of(&s.db).len(), 2);
    s.round();
    s.deliver();
    assert_eq!(s.red.calls("order.orderDeliver"), calls);
    assert_eq!(s.stage("S01"), Stage::Delivered);
}

#[test]
fn an_unknown_carrier_waits_for_a_person_and_nothing_is_sent_to_red() {
    let mut s = Shop::new(SimOptions {
        carrier: Some("DBKD".into()),
        ..SimOptions::default()
    });
    s.red
        .add_order(order(0, "C01", "NBMS", 2, chrono::Utc::now().timestamp()));
    s.round();
    s.wait_notified(1);
    s.round();
    let r = s.row("C01");
    assert_eq!(r.stage, Stage::Shipped);
    let why = r.needs_person.unwrap();
    assert!(
        why.contains("DBKD") && why.contains("expressCompanyCode"),
        "{why}"
    );
    assert_eq!(s.red.calls("order.orderDeliver"), 0);
    assert_eq!(r.deliver_attempts, 0);
}

#[test]
fn a_notice_for_an_unknown_or_a_cancelled_order_is_recorded_and_red_is_not_told() {
    let mut s = Shop::new(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    // Rejected by the mapping (never sent), then cancelled on RED: cancelled, never sent.
    let mut bad = order(0, "K01", "HZXS", 2, now);
    bad["detail"]["skuList"] = json!([]);
    bad["detail"]["orderItemList"] = json!([]);
    s.red.add_order(bad);
    s.round();
    let first = s.stage("K01");
    assert!(matches!(first, Stage::Rejected), "{first:?}");
    s.red.cancel_order("K01");
    s.round();
    assert_eq!(s.stage("K01"), Stage::Cancelled);
    assert_eq!(s.gw.requests(), 0);
    // Notices for it, and for an order bondmap never saw.
    for id in ["K01", "NOBODY"] {
        let a = post(
            &s.receiver.url(),
            notice_form(&notice(id, "ZTO"), GW_SECRET),
        );
        assert_eq!(a["success"], "true", "{a}");
    }
    s.round();
    s.deliver();
    assert_eq!(s.red.calls("order.orderDeliver"), 0);
    let r = s.row("K01");
    assert_eq!(r.stage, Stage::Cancelled);
    assert!(r.needs_person.unwrap().contains("cancelled"));
    assert!(s.store.get("NOBODY").unwrap().is_none());
    let problems = s.store.notice_problems().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems
        .iter()
        .any(|n| n.order_id.as_deref() == Some("NOBODY")
            && n.problem.as_deref() == Some(life::UNKNOWN_ORDER_NOTICE)));
}

#[test]
fn cancels_before_sending_at_the_warehouse_and_after_the_parcel_left() {
    let mut s = Shop::new(SimOptions {
        // Nothing ships by itself here: the test says which parcel has left.
        ship_after: Duration::from_secs(3600),
        ..SimOptions::default()
    });
    let now = chrono::Utc::now().timestamp();
    for (i, id) in ["X01", "X02", "X03"].iter().enumerate() {
        s.red
            .add_order(order(i, id, if i == 1 { "NBMS" } else { "HZXS" }, 2, now));
    }
    // Cancelled on RED before bondmap ever saw it: never sent, not even recorded.
    let mut early = order(3, "X04", "HZXS", 2, now);
    early["detail"]["orderStatus"] = 9.into();
    early["detail"]["cancelStatus"] = 1.into();
    s.red.add_order(early);
    // Shipped on RED (status 6), unknown: no new order to send.
    let mut shipped = order(4, "X05", "HZXS", 2, now);
    shipped["detail"]["orderStatus"] = 6.into();
    s.red.add_order(shipped);
    s.round();
    assert!(s.store.get("X04").unwrap().is_none());
    assert!(s.store.get("X05").unwrap().is_none());
    assert_eq!(s.gw.requests(), 3);
    s.gw.mark_left("X03");
    for id in ["X01", "X02", "X03"] {
        s.red.cancel_order(id);
    }
    s.round();
    let cancelled = s.gw.cancelled();
    assert_eq!(s.stage("X01"), Stage::Cancelled);
    assert_eq!(s.stage("X02"), Stage::Cancelled);
    assert!(cancelled.contains("X01") && cancelled.contains("X02"));
    let r = s.row("X03");
    assert_eq!(r.stage, Stage::Accepted);
    // `status` (human) lists it with the reason; `--all` lists every order.
    let status = |all: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
        c.args(["status", "--state", s.db.to_str().unwrap()]);
        if all {
            c.arg("--all");
        }
        String::from_utf8(c.output().unwrap().stdout).unwrap()
    };
    let text = status(false);
    assert!(
        text.contains("needs a person:") && text.contains("X03 (accepted): cancel refused"),
        "{text}"
    );
    assert!(!text.contains("X01"), "{text}");
    let text = status(true);
    for id in ["X01", "X02", "X03"] {
        assert!(text.lines().any(|l| l.starts_with(id)), "{text}");
    }
    assert!(
        r.needs_person
            .as_deref()
            .unwrap_or("")
            .starts_with(life::CANCEL_REFUSED),
        "{r:?}"
    );
    assert!(!cancelled.contains("X03"));
    // Settled: the next round sends no cancel again.
    let requests = s.gw.requests();
    s.round();
    assert_eq!(s.gw.requests(), requests);
}

#[test]
fn cancelled_after_shipment_waits_for_a_person() {
    let mut s = Shop::new(SimOptions::default());
    s.red
        .add_order(order(0, "A01", "HZXS", 2, chrono::Utc::now().timestamp()));
    s.round();
    s.wait_notified(1);
    s.deliver();
    assert_eq!(s.stage("A01"), Stage::Delivered);
    s.red.cancel_order("A01");
    s.round();
    let r = s.row("A01");
    assert_eq!(r.stage, Stage::Delivered);
    assert_eq!(
        r.needs_person.as_deref(),
        Some(life::CANCELLED_AFTER_SHIPMENT)
    );
    assert!(s.gw.cancelled().is_empty());
}

#[test]
fn killed_after_the_notice_and_before_or_after_the_red_call_red_hears_once() {
    let mut s = Shop::new(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    for (i, id) in ["Q01", "Q02"].iter().enumerate() {
        s.red.add_order(order(i, id, "HZXS", 2, now));
    }
    s.round();
    s.wait_notified(2);
    // Q01: the process died after recording the notice, before any RED call.
    // Q02: it died after the attempt was counted and the call reached RED, before the
    // answer was recorded.
    let q2 = {
        let p = s.pipeline();
        p.store.transaction(|t| t.mark_delivering("Q02")).unwrap();
        let content = p.store.notice_of("Q02").unwrap().unwrap().content;
        let fields = bondmap::run::run(
            &bondmap::warehouse::load_for_warehouse(
                &root().join("mappings/red/order_deliver.map"),
                &root().join("mappings/warehouses/hangzhou_xiasha.map"),
                &Options::default(),
            )
            .unwrap()
            .0,
            &serde_json::from_str(&content).unwrap(),
        )
        .unwrap();
        serde_json::from_str::<Value>(&fields).unwrap()
    };
    s.rc.order_deliver(&q2).unwrap();
    let db = s.db.clone();
    drop(s.pipeline());
    // A new process: a fresh store on the same file.
    s.store = Store::open(&db).unwrap();
    assert_eq!(s.stage("Q01"), Stage::Shipped);
    assert_eq!(s.stage("Q02"), Stage::Shipped);
    s.deliver();
    assert_eq!(s.stage("Q01"), Stage::Delivered);
    assert_eq!(s.stage("Q02"), Stage::Delivered, "{:?}", s.row("Q02"));
    assert_eq!(s.row("Q02").deliver_attempts, 2);
    // RED shipped each once: Q02's second call was answered "already shipped".
    assert_eq!(s.red.delivered().len(), 2);
    assert_eq!(s.red.calls("order.orderDeliver"), 3);
}

fn sync_child(red: &RedSimHandle, gw: &SimHandle, db: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(["sync", "--mapping", ROUTES, "--state", db.to_str().unwrap()])
        .args(extra)
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (k, v) in SIMS.env_for(red, gw) {
        c.env(k, v);
    }
    c
}

fn stages(db: &Path) -> HashMap<String, Stage> {
    Store::open_read_only(db)
        .unwrap()
        .all()
        .unwrap()
        .into_iter()
        .map(|r| (r.order_id, r.stage))
        .collect()
}

#[test]
fn a_sigkilled_listening_sync_then_started_again_tells_red_of_each_shipment_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let port = common::free_port();
    let red = red_sim();
    let gw = SIMS.gw_sim(SimOptions {
        callback_url: Some(format!("http://127.0.0.1:{port}/cainiao/callback")),
        ship_after: Duration::from_millis(300),
        ..SimOptions::default()
    });
    let now = chrono::Utc::now().timestamp();
    let n = 8;
    for i in 0..n {
        red.add_order(order(
            i,
            &format!("K{i:03}"),
            if i % 2 == 0 { "HZXS" } else { "NBMS" },
            2,
            now,
        ));
    }
    let listen = format!("127.0.0.1:{port}");
    let mut child = sync_child(&red, &gw, &db, &["--listen", &listen, "--interval", "3600"])
        .spawn()
        .unwrap();
    // Killed as soon as the first shipment is recorded: RED told of some, or none.
    let t = Instant::now();
    loop {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no shipment recorded"
        );
        if db.exists()
            && Store::open_read_only(&db).is_ok_and(|s| {
                s.all().is_ok_and(|rows| {
                    rows.iter()
                        .any(|r| matches!(r.stage, Stage::Shipped | Stage::Delivered))
                })
            })
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The warehouse still posts the others' notices: the next run listens again.
    let mut again = sync_child(&red, &gw, &db, &["--listen", &listen, "--interval", "1"])
        .spawn()
        .unwrap();
    let t = Instant::now();
    while stages(&db)
        .values()
        .filter(|s| **s == Stage::Delivered)
        .count()
        != n
    {
        assert!(
            t.elapsed() < Duration::from_secs(40),
            "not all delivered: {:?}",
            stages(&db)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    again.kill().unwrap();
    again.wait().unwrap();
    let delivered = red.delivered();
    assert_eq!(delivered.len(), n);
    // Each order was created once and told to RED at most once more than it was killed in.
    assert!(gw.created().values().all(|c| *c == 1));
    assert!(red.calls("order.orderDeliver") as usize <= n + 1);
}

#[test]
fn sync_interval_stops_cleanly_on_sigterm_and_status_all_lists_every_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let red = red_sim();
    let gw = SIMS.gw_sim(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    red.add_order(order(0, "T01", "HZXS", 2, now));
    red.add_order(order(1, "T02", "HZXS", 3, now));
    let mut child = sync_child(&red, &gw, &db, &["--interval", "3600"])
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !(db.exists() && stages(&db).len() == 2 && gw.requests() == 1) {
        assert!(t.elapsed() < Duration::from_secs(30), "no round");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("stopped by a signal"), "{err}");
    // status --format json --all: every order, its stage, and why a person must act.
    let db = db.to_str().unwrap();
    let out = bondmap(&["status", "--format", "json", "--all", "--state", db]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let orders = v["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0]["order_id"], "T01");
    assert_eq!(orders[0]["stage"], "accepted");
    assert!(orders[0].get("needs_person").is_none());
    assert_eq!(orders[1]["stage"], "skipped");
    assert_eq!(v["counts"]["skipped"], 1);
    // Without --all: counts and the orders needing a person only.
    let out = bondmap(&["status", "--format", "json", "--state", db]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("orders").is_none());
    assert_eq!(v["needs_person"], json!([]));
    // No personal value of the orders reached the state.
    let bytes = std::fs::read(db).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let doc = order(0, "T01", "HZXS", 2, now);
    let name = doc["receiver"]["receiverInfos"][0]["receiverName"]
        .as_str()
        .unwrap();
    assert!(!text.contains(name));
}

#[test]
fn an_order_cut_off_in_sending_whose_cancel_is_due_is_not_sent_again() {
    let mut s = Shop::new(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    s.red.add_order(order(0, "H01", "HZXS", 2, now));
    s.red.cancel_order("H01");
    // Updated on RED long before this round's window: only the state knows of it.
    s.red.update_order("H01", |o| {
        o["detail"]["updateTime"] = ((now - 3 * 86400) * 1000).into()
    });
    // A run died after recording `sending`, before the gateway heard of it; an earlier
    // round saw the cancel, and the gateway could not be reached for it.
    s.store
        .transaction(|t| {
            t.record_seen("H01", 0)?;
            t.mark_sending("H01")?;
            t.set_warehouse("H01", "warehouses/hangzhou_xiasha.map")?;
            t.want_cancel("H01")
        })
        .unwrap();
    s.round();
    assert!(!s.gw.created().contains_key("H01"), "sent after the cancel");
    let r = s.row("H01");
    // The warehouse never had it: its refusal of the cancel is left to a person.
    assert_eq!(r.stage, Stage::Sending);
    assert!(
        r.needs_person
            .as_deref()
            .unwrap_or("")
            .starts_with(life::CANCEL_REFUSED),
        "{r:?}"
    );
}

#[test]
fn demo_shows_the_whole_life() {
    let out = bondmap(&["demo"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("P78811223300000001").contains("delivered"), "{text}");
    assert!(
        line("P78811223300000003").contains("ningbo_meishan.map"),
        "{text}"
    );
    assert!(line("P78811223300000002").contains("cancelled"), "{text}");
    assert!(
        line("P78811223300000005").contains(life::CANCELLED_AFTER_SHIPMENT),
        "{text}"
    );
    assert!(line("P78811223300000011").contains("skipped"), "{text}");
    assert!(
        text.contains("9 delivered (RED told), 1 cancelled, 1 skipped"),
        "{text}"
    );
}

#[test]
fn red_refusing_a_shipment_of_an_order_cancelled_there_waits_for_a_person() {
    let mut s = Shop::new(SimOptions::default());
    s.red
        .add_order(order(0, "F01", "HZXS", 2, chrono::Utc::now().timestamp()));
    s.round();
    s.wait_notified(1);
    // Cancelled on RED after the parcel left, before any round saw the cancel.
    s.red.cancel_order("F01");
    s.deliver();
    let r = s.row("F01");
    assert_eq!(r.stage, Stage::Shipped);
    assert!(
        r.needs_person
            .as_deref()
            .unwrap_or("")
            .contains("RED refused"),
        "{r:?}"
    );
    assert!(s.red.delivered().is_empty());
    // Not asked again every round.
    let calls = s.red.calls("order.orderDeliver");
    s.deliver();
    assert_eq!(s.red.calls("order.orderDeliver"), calls);
}

#[test]
fn sync_and_retry_take_the_routes_file_and_a_skipped_order_is_routed_when_retried() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let red = red_sim();
    let gw = SIMS.gw_sim(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    red.add_order(order(0, "W01", "NBMS", 2, now));
    red.add_order(order(1, "W02", "XXXX", 2, now));
    let out = sync_child(&red, &gw, &db, &["--once"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = Store::open_read_only(&db).unwrap();
    assert_eq!(s.get("W02").unwrap().unwrap().stage, Stage::Skipped);
    assert_eq!(
        s.get("W01").unwrap().unwrap().warehouse.as_deref(),
        Some("warehouses/ningbo_meishan.map")
    );
    drop(s);
    // The shop fixes the order's warehouse code; a retry routes it.
    red.update_order("W02", |o| o["detail"]["whcode"] = "HZXS".into());
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args([
        "retry",
        "W02",
        "--mapping",
        ROUTES,
        "--state",
        db.to_str().unwrap(),
    ])
    .current_dir(root())
    .env("RUST_LOG", "warn");
    for (k, v) in SIMS.env_for(&red, &gw) {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = Store::open_read_only(&db)
        .unwrap()
        .get("W02")
        .unwrap()
        .unwrap();
    assert_eq!(r.stage, Stage::Accepted);
    assert_eq!(
        r.warehouse.as_deref(),
        Some("warehouses/hangzhou_xiasha.map")
    );
    assert_eq!(gw.created().len(), 2);
}
