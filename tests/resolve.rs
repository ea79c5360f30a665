//! A person ends every wait (issue 25 §4), on loopback, through the binary's `resolve`,
//! `history` and `retry`: each action after what caused the wait was fixed (a goods table,
//! a carrier table, customs), an action that does not fit refused with the reason and
//! nothing changed, `close` without a note refused, the whole path in `history`, and
//! `retry` of an order it cannot send saying why.

mod common;

use bondmap::callback::{CallbackConfig, Receiver};
use bondmap::compile::Options;
use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::gateway::{data_digest, Client, Secret};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::red::RedClient;
use bondmap::route::Router;
use bondmap::store::{Stage, Store};
use bondmap::sync::customs::Intake;
use bondmap::sync::{life, Life, Pipeline, Routing, StoreSink};
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

const SIMS: Sims = Sims {
    app: "resolve-app",
    red_secret: "red-SECRET-51",
    token: "tok-SECRET-52",
    gw_secret: "gw-SECRET-53",
    timeout: Duration::from_millis(800),
};

/// The example whose buyer is 张三 (330106199003071234).
fn order(id: &str, now: i64) -> Value {
    valid_order(0, id, now - 600)
}

/// A shop on its own copy of the mappings (so a test can fix a table), one warehouse.
struct Shop {
    red: RedSimHandle,
    gw: SimHandle,
    rc: RedClient,
    gc: Client,
    maps: PathBuf,
    router: Router,
    store: Store,
    db: PathBuf,
    receiver: Receiver,
    life: Option<Life>,
    _dir: tempfile::TempDir,
}

impl Shop {
    fn new() -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let maps = dir.path().join("mappings");
        copy_dir(&root().join("mappings"), &maps);
        let db = dir.path().join("s.db");
        let store = Store::open(&db).unwrap();
        let red = SIMS.red_sim(RedSimOptions::default());
        let gw = SIMS.gw_sim(SimOptions::default());
        let (rc, gc) = SIMS.clients(&red, &gw);
        let (sink_red, _) = SIMS.clients(&red, &gw);
        let sink = StoreSink::open(&db, None)
            .unwrap()
            .with_customs(Intake::load(&maps.join("cainiao"), sink_red).unwrap());
        let receiver = Receiver::start(
            "127.0.0.1:0".parse().unwrap(),
            CallbackConfig::new(Secret::new(SIMS.gw_secret)),
            Arc::new(sink),
        )
        .unwrap();
        let router = Router::load(
            &maps.join("warehouses/hangzhou_xiasha.map"),
            &Options::default(),
        )
        .unwrap();
        let mut s = Shop {
            red,
            gw,
            rc,
            gc,
            router,
            store,
            db,
            receiver,
            life: None,
            maps,
            _dir: dir,
        };
        s.reload();
        s
    }

    fn mapping(&self) -> PathBuf {
        self.maps.join("warehouses/hangzhou_xiasha.map")
    }

    /// The mappings and tables read again (as a restarted or reloaded sync would).
    fn reload(&mut self) {
        self.router = Router::load(&self.mapping(), &Options::default()).unwrap();
        let mut life = Life::new(
            self.maps.join("cainiao/cancel.map"),
            self.maps.join("red/order_deliver.map"),
        );
        life.fallback_warehouse = Some(self.mapping());
        life.customs.config.repush_after = Duration::from_millis(500);
        self.life = Some(life);
    }

    fn with_pipeline<R>(&mut self, f: impl FnOnce(&mut Pipeline) -> R) -> R {
        let mapping = self.mapping();
        let routing = Routing::new(&self.router, &mapping);
        let mut p = Pipeline::routed(&self.rc, &self.gc, routing, &mut self.store).unwrap();
        p.life = self.life.take();
        let r = f(&mut p);
        self.life = p.life.take();
        r
    }

    fn round(&mut self) {
        let now = chrono::Utc::now().timestamp() + 5;
        self.with_pipeline(|p| p.round(None, now, &mut |_| {}).unwrap());
    }

    fn due(&mut self) {
        self.with_pipeline(|p| life::deliver_due(p, &mut |_| {}).unwrap());
    }

    fn add(&self, ids: &[&str]) {
        let now = chrono::Utc::now().timestamp();
        for id in ids {
            self.red.add_order(order(id, now));
        }
    }

    fn row(&self, id: &str) -> bondmap::store::OrderRow {
        self.store.get(id).unwrap().unwrap()
    }

    fn post(&self, msg_type: &str, li: Value) -> Value {
        let li = li.to_string();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("logistic_provider_id", "CP_WAREHOUSE")
            .append_pair("msg_type", msg_type)
            .append_pair("logistics_interface", &li)
            .append_pair("data_digest", &data_digest(&li, SIMS.gw_secret))
            .finish();
        let r = reqwest::blocking::Client::new()
            .post(self.receiver.url())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap();
        serde_json::from_str(&r.text().unwrap()).unwrap()
    }

    fn customs_failed(&self, id: &str, reason: &str) {
        let a = self.post(
            "WMS_ORDER_STATUS_UPLOAD",
            json!({"orderCode": id, "lgOrderCode": "LBX1", "storeCode": "HZ_XIASHA_01",
                   "status": "CUSTOMS_FAILED", "operateTime": "2026-11-22 09:41:07", "content": reason}),
        );
        assert_eq!(a["success"], "true", "{a}");
    }

    fn shipped(&self, id: &str, carrier: &str) {
        let a = self.post(
            "CONSIGN_ORDER_NOTIFY",
            json!({"orderCode": id, "lgOrderCode": "LBX1", "storeCode": "HZ_XIASHA_01",
                   "mailNo": "ZT0000000009", "logisticsCode": carrier, "consignTime": "2026-11-22 10:00:00"}),
        );
        assert_eq!(a["success"], "true", "{a}");
    }

    fn resolve(&self, id: &str, action: &str, note: Option<&str>) -> Output {
        let mut args = vec!["resolve", id, action, "--state", self.db.to_str().unwrap()];
        if let Some(n) = note {
            args.extend(["--note", n]);
        }
        bondmap(&args)
    }

    fn status_json(&self) -> Value {
        let o = bondmap(&[
            "status",
            "--state",
            self.db.to_str().unwrap(),
            "--format",
            "json",
        ]);
        serde_json::from_slice(&o.stdout).unwrap()
    }

    fn actions(&self, id: &str) -> Vec<String> {
        self.status_json()["needs_person"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["order_id"] == id)
            .map(|o| {
                o["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

#[test]
fn retry_sends_again_an_order_rejected_for_a_good_the_table_lacked() {
    let mut s = Shop::new();
    let goods = s.maps.join("warehouses/hangzhou_xiasha_goods.csv");
    let full = std::fs::read_to_string(&goods).unwrap();
    // The goods table lacks the order's good: the mapping rejects the order.
    let short: String = full
        .lines()
        .filter(|l| !l.starts_with("6901234567892,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&goods, short).unwrap();
    s.reload();
    s.add(&["T01"]);
    s.round();
    assert_eq!(s.row("T01").stage, Stage::Rejected);
    assert_eq!(s.actions("T01"), ["retry", "close"]);
    // The table is fixed; a round alone does not send a rejected order again…
    std::fs::write(&goods, full).unwrap();
    s.reload();
    s.round();
    assert_eq!(s.row("T01").stage, Stage::Rejected);
    // …a person's retry does.
    let out = ok(&s.resolve("T01", "retry", None));
    assert!(out.contains("T01: retry recorded"), "{out}");
    s.round();
    assert_eq!(s.row("T01").stage, Stage::Accepted);
    assert!(!s.row("T01").retry_wanted);
    assert_eq!(s.gw.created()["T01"], 1);
}

#[test]
fn deliver_again_tells_red_once_the_carrier_table_was_fixed_and_retry_says_why_it_cannot() {
    let mut s = Shop::new();
    s.add(&["D01"]);
    s.round();
    s.shipped("D01", "DHL");
    s.due();
    let r = s.row("D01");
    assert_eq!(r.stage, Stage::Shipped);
    assert!(r.needs_person.unwrap().contains("DHL"));
    assert_eq!(s.actions("D01"), ["deliver-again", "close"]);
    let o = bondmap(&["status", "--state", s.db.to_str().unwrap()]);
    assert!(
        text(&o.stdout).contains("[bondmap resolve D01 deliver-again|close]"),
        "{}",
        text(&o.stdout)
    );
    // `retry` cannot act on a shipped order: it says so, and what can (exit 1).
    let mut env = SIMS.env_for(&s.red, &s.gw);
    env.push(("RUST_LOG", "error".into()));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args([
            "retry",
            "--mapping",
            s.mapping().to_str().unwrap(),
            "D01",
            "--state",
            s.db.to_str().unwrap(),
        ])
        .envs(env)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert!(
        e.contains("order D01 is shipped") && e.contains("`deliver-again`"),
        "{e}"
    );
    // The carrier table gets its row; the person tells bondmap to try again.
    let deliver = s.maps.join("red/order_deliver.map");
    let t = std::fs::read_to_string(&deliver).unwrap();
    std::fs::write(
        &deliver,
        t.replace(
            "  \"JD\"    => \"jd\"",
            "  \"JD\"    => \"jd\"\n  \"DHL\"   => \"dhl\"",
        ),
    )
    .unwrap();
    s.reload();
    ok(&s.resolve(
        "D01",
        "deliver-again",
        Some("DHL added to the carrier table"),
    ));
    s.due();
    assert_eq!(s.row("D01").stage, Stage::Delivered);
    assert_eq!(s.red.delivered()["D01"]["expressCompanyCode"], "dhl");
    // Nothing waits any more: a resolve now is refused.
    let o = s.resolve("D01", "close", Some("x"));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("waits for no person"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn resend_payment_pushes_once_more_after_the_two_and_an_action_that_does_not_fit_is_refused() {
    let mut s = Shop::new();
    s.add(&["P01"]);
    s.round();
    s.customs_failed("P01", "支付单不存在");
    s.due();
    std::thread::sleep(Duration::from_millis(600));
    s.due();
    std::thread::sleep(Duration::from_millis(600));
    s.due();
    assert_eq!(s.red.repushes("P01"), 2);
    assert_eq!(
        s.actions("P01"),
        ["resend-payment", "cancel-at-warehouse", "close"]
    );
    // Refused, with the reason and what fits; nothing changes, not even the history.
    let before = s.store.history("P01").unwrap().len();
    let o = s.resolve("P01", "deliver-again", None);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(
        e.contains("`deliver-again` does not fit order P01 (customs_failed"),
        "{e}"
    );
    assert!(
        e.contains("`resend-payment`, `cancel-at-warehouse`, `close`"),
        "{e}"
    );
    assert!(e.contains("nothing changed"), "{e}");
    assert_eq!(s.store.history("P01").unwrap().len(), before);
    assert!(s.row("P01").needs_person.is_some());
    // One more re-push, then the wait again if customs still lacks it.
    ok(&s.resolve("P01", "resend-payment", None));
    s.due();
    assert_eq!(s.red.repushes("P01"), 3);
    assert_eq!(s.row("P01").needs_person, None);
    std::thread::sleep(Duration::from_millis(600));
    s.due();
    s.due();
    assert_eq!(s.red.repushes("P01"), 3);
    assert!(s.row("P01").needs_person.is_some());
}

#[test]
fn cancel_at_warehouse_cancels_once_red_shows_the_order_cancelled() {
    let mut s = Shop::new();
    s.add(&["X01"]);
    s.round();
    s.customs_failed("X01", "超过年度个人额度");
    assert_eq!(s.actions("X01"), ["cancel-at-warehouse", "close"]);
    // Asked before the merchant cancelled it on RED: the cancel cannot be built, and the
    // order waits again, saying so.
    ok(&s.resolve("X01", "cancel-at-warehouse", None));
    s.round();
    let why = s.row("X01").needs_person.unwrap_or_default();
    assert!(why.contains("not cancelled on RED"), "{why}");
    // The merchant refunds the buyer on RED; the person asks again.
    s.red.cancel_order("X01");
    ok(&s.resolve("X01", "cancel-at-warehouse", Some("refunded on RED")));
    s.round();
    assert_eq!(s.row("X01").stage, Stage::Cancelled);
    assert!(s.gw.cancelled().contains("X01"));
}

#[test]
fn close_needs_a_note_and_history_shows_the_whole_path_masked() {
    let mut s = Shop::new();
    s.add(&["Z01"]);
    s.round();
    s.customs_failed("Z01", "订购人张三身份证号330106199003071234与姓名不一致");
    s.due();
    let o = s.resolve("Z01", "close", None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("needs a note"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(s.row("Z01").stage, Stage::CustomsFailed);
    let out = ok(&s.resolve(
        "Z01",
        "close",
        Some("buyer fixed the real-name record; the warehouse declared it again by hand, call 13800138001"),
    ));
    assert!(out.contains("closed"), "{out}");
    assert_eq!(s.row("Z01").stage, Stage::Closed);
    assert_eq!(s.status_json()["counts"]["closed"], 1);
    // A closed order takes no more part: a late shipment notice tells RED nothing.
    s.shipped("Z01", "ZTO");
    s.due();
    assert_eq!(s.row("Z01").stage, Stage::Closed);
    assert!(s.red.delivered().is_empty());
    let h = bondmap(&["history", "Z01", "--state", s.db.to_str().unwrap()]);
    let h = ok(&h);
    // Each event starts with its time at +08:00, as the logs tell it.
    let events: Vec<&str> = h.lines().skip(1).map(str::trim_start).collect();
    assert!(events.len() > 8, "{h}");
    assert!(
        events.iter().all(|l| l.get(23..31) == Some("+08:00  ")),
        "{h}"
    );
    for want in [
        "→ seen",
        "seen → fetched",
        "fetched → sending",
        "sending → accepted",
        "notice   WMS_ORDER_STATUS_UPLOAD",
        "accepted → customs_failed: buyer_identity",
        "red      order.modifycustomstatus",
        "person   waits for a person",
        "resolve  close: buyer fixed the real-name record",
        "customs_failed → closed",
        "notice   CONSIGN_ORDER_NOTIFY",
    ] {
        assert!(h.contains(want), "{want}:\n{h}");
    }
    assert!(h.contains("(by "), "{h}");
    for personal in ["张三", "330106199003071234", "13800138001"] {
        assert!(!h.contains(personal), "{personal}:\n{h}");
    }
    let j = bondmap(&[
        "history",
        "Z01",
        "--state",
        s.db.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&ok(&j)).unwrap();
    assert_eq!(v["stage"], "closed");
    let resolve = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resolve")
        .unwrap();
    assert_eq!(resolve["what"], "close");
    assert!(resolve["user"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(resolve["detail"].as_str().unwrap().contains("138****8001"));
    let o = bondmap(&["history", "NOPE", "--state", s.db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}
