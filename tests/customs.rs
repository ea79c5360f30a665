//! Customs results from the warehouse, on loopback (issue 25 §1–§3): the status upload
//! taken by the callback, customs passed and failed (each class), the reason stored
//! masked, RED told once per event (also when the process died between the count and the
//! answer), the payment record pushed again at once and at most once more, then a person;
//! the step turned off; RED lacking the method.

mod common;

use bondmap::callback::{CallbackConfig, Receiver};
use bondmap::compile::Options;
use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::gateway::{data_digest, Client, Secret};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::red::sim_customs::CustomsOptions;
use bondmap::red::RedClient;
use bondmap::route::Router;
use bondmap::store::{Kind, Stage, Store, Tell};
use bondmap::sync::customs::Intake;
use bondmap::sync::{life, Life, Pipeline, Routing, StoreSink};
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const APP: &str = "customs-app";
const RED_SECRET: &str = "red-SECRET-41";
const TOKEN: &str = "tok-SECRET-42";
const GW_SECRET: &str = "gw-SECRET-43";
const ROUTES: &str = "mappings/routes.map";
const SIMS: Sims = Sims {
    app: APP,
    red_secret: RED_SECRET,
    token: TOKEN,
    gw_secret: GW_SECRET,
    timeout: Duration::from_millis(800),
};

/// The buyer of example 01 (订购人), whose values a warehouse may quote in a reason.
const BUYER_NAME: &str = "张三";
const BUYER_ID: &str = "330106199003071234";

fn order(id: &str, now: i64) -> Value {
    valid_order(0, id, now - 600)
}

/// Both simulators (the warehouse never ships by itself), a receiver taking status
/// uploads, the routes file, a fresh state.
struct Shop {
    red: RedSimHandle,
    _gw: SimHandle,
    rc: RedClient,
    gc: Client,
    router: Router,
    store: Store,
    db: PathBuf,
    receiver: Receiver,
    life: Option<Life>,
    _dir: tempfile::TempDir,
}

impl Shop {
    fn new(red_opts: RedSimOptions) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let store = Store::open(&db).unwrap();
        let red = SIMS.red_sim(red_opts);
        let gw = SIMS.gw_sim(SimOptions::default());
        let (rc, gc) = SIMS.clients(&red, &gw);
        let (sink_red, _) = SIMS.clients(&red, &gw);
        let intake = Intake::load(&root().join("mappings/cainiao"), sink_red).unwrap();
        let sink = StoreSink::open(&db, None).unwrap().with_customs(intake);
        let receiver = Receiver::start(
            "127.0.0.1:0".parse().unwrap(),
            CallbackConfig::new(Secret::new(GW_SECRET)),
            Arc::new(sink),
        )
        .unwrap();
        let router = Router::load(&root().join(ROUTES), &Options::default()).unwrap();
        let mut life = Life::new(
            root().join("mappings/cainiao/cancel.map"),
            root().join("mappings/red/order_deliver.map"),
        );
        life.customs.config.repush_after = Duration::from_secs(3);
        Shop {
            red,
            _gw: gw,
            rc,
            gc,
            router,
            store,
            db,
            receiver,
            life: Some(life),
            _dir: dir,
        }
    }

    /// Orders accepted by Cainiao.
    fn accepted(&mut self, ids: &[&str]) {
        let now = chrono::Utc::now().timestamp();
        for id in ids {
            self.red.add_order(order(id, now));
        }
        self.round();
        for id in ids {
            assert_eq!(self.stage(id), Stage::Accepted, "{id}");
        }
    }

    fn with_pipeline<R>(&mut self, f: impl FnOnce(&mut Pipeline) -> R) -> R {
        let routing = Routing::new(&self.router, &root().join(ROUTES));
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

    /// The customs steps and the shipments that are due (what a wake-up runs).
    fn due(&mut self) {
        self.with_pipeline(|p| life::deliver_due(p, &mut |_| {}).unwrap());
    }

    fn row(&self, id: &str) -> bondmap::store::OrderRow {
        self.store.get(id).unwrap().unwrap()
    }

    fn stage(&self, id: &str) -> Stage {
        self.row(id).stage
    }

    /// Posts a signed status upload; the callback's answer.
    fn post_status(&self, id: &str, status: &str, reason: &str, at: &str) -> Value {
        let mut li = json!({"orderCode": id, "lgOrderCode": "LBX000000000001", "storeCode": "HZ_XIASHA_01",
            "orderType": "BONDED_WHS", "status": status, "operateTime": at,
            "customsInfo": {"declarationOrderNo": "29242026I000000001", "customsCode": "2924", "customsName": "杭州海关"}});
        if !reason.is_empty() {
            li["content"] = reason.into();
        }
        post_form(
            &self.receiver.url(),
            &li.to_string(),
            "WMS_ORDER_STATUS_UPLOAD",
        )
    }

    fn post_shipment(&self, id: &str) -> Value {
        let li =
            json!({"orderCode": id, "lgOrderCode": "LBX000000000001", "storeCode": "HZ_XIASHA_01",
            "mailNo": "ZT0000000001", "logisticsCode": "ZTO", "consignTime": "2026-11-22 10:00:00"})
            .to_string();
        post_form(&self.receiver.url(), &li, "CONSIGN_ORDER_NOTIFY")
    }

    /// Every text the state keeps about an order: its row, its history, its notices.
    fn stored_text(&self, id: &str) -> String {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        let mut out = format!("{:?}", self.row(id));
        out.push_str(&format!("{:?}", self.store.history(id).unwrap()));
        let mut st = c
            .prepare("SELECT content || COALESCE(problem, '') FROM notices WHERE order_id = ?1")
            .unwrap();
        for r in st.query_map([id], |r| r.get::<_, String>(0)).unwrap() {
            out.push_str(&r.unwrap());
        }
        out
    }
}

fn post_form(url: &str, li: &str, msg_type: &str) -> Value {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("logistic_provider_id", "CP_WAREHOUSE")
        .append_pair("msg_type", msg_type)
        .append_pair("logistics_interface", li)
        .append_pair("data_digest", &data_digest(li, GW_SECRET))
        .finish();
    let resp = reqwest::blocking::Client::new()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .unwrap();
    serde_json::from_str(&resp.text().unwrap()).unwrap()
}

#[test]
fn customs_passed_moves_the_order_on_red_is_told_once_and_a_shipment_follows() {
    let mut s = Shop::new(RedSimOptions::default());
    s.accepted(&["C01"]);
    let a = s.post_status("C01", "CUSTOMS_PASSED", "清关成功", "2026-11-22 09:30:00");
    assert_eq!(a["success"], "true", "{a}");
    // The same upload again changes nothing.
    s.post_status("C01", "CUSTOMS_PASSED", "清关成功", "2026-11-22 09:30:00");
    assert_eq!(s.stage("C01"), Stage::CustomsPassed);
    s.due();
    s.due();
    let told = s.red.customs_events();
    assert_eq!(told.len(), 1, "{told:?}");
    let (k, fields) = told.iter().next().unwrap();
    assert_eq!(
        k,
        &("C01".to_string(), "CUSTOMS_PASS".to_string(), 1795311000000)
    );
    assert_eq!(fields["whCode"], "HZ_XIASHA_01");
    assert_eq!(
        fields["extendInfo"]["declarationOrderNo"],
        "29242026I000000001"
    );
    assert_eq!(s.red.calls("order.modifycustomstatus"), 1);
    let ev = s.store.customs_events_of("C01").unwrap();
    assert_eq!(
        (ev.len(), ev[0].tell, ev[0].tell_attempts),
        (1, Tell::Told, 1)
    );
    // The shipment notice still moves it on, and RED is told of the shipment.
    assert_eq!(s.post_shipment("C01")["success"], "true");
    assert_eq!(s.stage("C01"), Stage::Shipped);
    s.due();
    assert_eq!(s.stage("C01"), Stage::Delivered);
    assert_eq!(s.red.delivered()["C01"]["expressNo"], "ZT0000000001");
    // A status the table notes only is kept in the history, nothing else.
    s.post_status("C01", "WMS_SIGNED", "", "2026-11-23 09:00:00");
    assert_eq!(s.stage("C01"), Stage::Delivered);
    let h = s.store.history("C01").unwrap();
    let whats: Vec<&str> = h.iter().map(|e| e.what.as_str()).collect();
    for w in [
        "customs_passed",
        "order.modifycustomstatus",
        "shipped",
        "order.orderDeliver",
        "delivered",
    ] {
        assert!(whats.contains(&w), "{w}: {whats:?}");
    }
    assert_eq!(
        h.iter()
            .filter(|e| e.kind == Kind::Notice && e.what == "WMS_ORDER_STATUS_UPLOAD")
            .count(),
        2
    );
}

#[test]
fn each_failure_class_is_kept_with_its_reason_masked_and_the_right_owner() {
    let mut s = Shop::new(RedSimOptions::default());
    s.accepted(&["F01", "F02", "F03", "F04"]);
    let cases = [
        (
            "F01",
            format!("[Code:13121;Desc:订购人{BUYER_NAME}的支付单不存在]"),
            "payment_missing",
        ),
        (
            "F02",
            format!("订购人身份信息校验未通过：{BUYER_NAME} {BUYER_ID} 姓名与身份证号不一致"),
            "buyer_identity",
        ),
        ("F03", "超过年度个人额度 26000 元".to_string(), "over_quota"),
        ("F04", "商品备案信息不符".to_string(), "other"),
    ];
    for (id, reason, _) in &cases {
        let a = s.post_status(id, "CUSTOMS_FAILED", reason, "2026-11-22 09:41:07");
        assert_eq!(a["success"], "true", "{a}");
    }
    for (id, _, class) in &cases {
        let r = s.row(id);
        assert_eq!(r.stage, Stage::CustomsFailed, "{id}");
        assert_eq!(r.customs_class.as_deref(), Some(*class), "{id}");
        // Nothing personal in anything stored of it.
        let text = s.stored_text(id);
        assert!(
            !text.contains(BUYER_NAME) && !text.contains(BUYER_ID),
            "{text}"
        );
    }
    assert_eq!(
        s.row("F02").customs_reason.as_deref(),
        Some("订购人身份信息校验未通过：张* 3301***********234 姓名与身份证号不一致")
    );
    // A missing payment record is RED's to push again, not a person's.
    assert_eq!(s.row("F01").needs_person, None);
    assert_eq!(s.row("F01").repush_left, Some(2));
    for id in ["F02", "F03", "F04"] {
        let why = s.row(id).needs_person.unwrap_or_default();
        assert!(why.starts_with("customs stopped it ("), "{id}: {why}");
    }
    s.due();
    assert_eq!(s.red.repushes("F01"), 1);
    for id in ["F02", "F03", "F04"] {
        assert_eq!(s.red.repushes(id), 0);
    }
    // RED heard of each failure, with the masked reason.
    let told = s.red.customs_events();
    assert_eq!(told.len(), 4);
    let f02 = told
        .iter()
        .find(|(k, _)| k.0 == "F02")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(f02["eventType"], "CUSTOMS_FAIL");
    assert!(!f02.to_string().contains(BUYER_ID), "{f02}");
    // The class and the reason show in status.
    let out = bondmap(&[
        "status",
        "--state",
        s.db.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f03 = v["needs_person"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["order_id"] == "F03")
        .cloned()
        .unwrap();
    assert_eq!(f03["customs_class"], "over_quota");
    assert!(!text(&out.stdout).contains(BUYER_ID));
}

#[test]
fn the_payment_record_is_pushed_again_at_once_once_more_later_then_a_person() {
    let mut s = Shop::new(RedSimOptions::default());
    s.accepted(&["R01", "R02"]);
    for id in ["R01", "R02"] {
        s.post_status(id, "CUSTOMS_FAILED", "支付单不存在", "2026-11-22 09:41:07");
    }
    s.due();
    assert_eq!((s.red.repushes("R01"), s.red.repushes("R02")), (1, 1));
    // Not again before `repush_after` (3 s here: room for a slow round on a loaded machine, 600 by default), however often it runs.
    s.due();
    s.round();
    assert_eq!(s.red.repushes("R01"), 1);
    // R02: customs clears it after the first re-push; it moves on as usual.
    s.post_status("R02", "CUSTOMS_PASSED", "", "2026-11-22 09:52:00");
    assert_eq!(s.stage("R02"), Stage::CustomsPassed);
    std::thread::sleep(Duration::from_millis(3100));
    s.due();
    assert_eq!((s.red.repushes("R01"), s.red.repushes("R02")), (2, 1));
    assert_eq!(s.row("R01").needs_person, None);
    // Still stopped as long again after the second: a person, and no third re-push.
    std::thread::sleep(Duration::from_millis(3100));
    s.due();
    s.due();
    assert_eq!(s.red.repushes("R01"), 2);
    let why = s.row("R01").needs_person.unwrap_or_default();
    assert!(
        why.starts_with("customs still lacks the payment record after 2 re-pushes"),
        "{why}"
    );
    assert_eq!(s.row("R01").repush_left, Some(0));
    assert_eq!(s.row("R02").needs_person, None);
    // The history shows each call to RED.
    let calls = s
        .store
        .history("R01")
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == Kind::Red && e.what == "order.resendBondedPaymentRecord")
        .count();
    assert_eq!(calls, 4, "two begun, two answered");
}

#[test]
fn red_hears_of_each_customs_event_once_when_the_process_died_after_counting_the_call() {
    let mut s = Shop::new(RedSimOptions::default());
    s.accepted(&["K01"]);
    s.post_status(
        "K01",
        "CUSTOMS_FAILED",
        "订购人身份信息不符",
        "2026-11-22 09:41:07",
    );
    // The process died after the attempt was counted and committed, and after the call
    // reached RED, before its answer was recorded.
    let ev = s.store.tells_due().unwrap().remove(0);
    s.store
        .transaction(|t| t.tell_begun(&ev.key, "K01"))
        .unwrap();
    let fields = {
        let content = s.store.notice(&ev.key).unwrap().unwrap().content;
        let (p, _) = bondmap::warehouse::load_for_warehouse(
            &root().join("mappings/red/customs_status.map"),
            &root().join("mappings/warehouses/hangzhou_xiasha.map"),
            &Options::default(),
        )
        .unwrap();
        let out = bondmap::run::run(&p, &serde_json::from_str(&content).unwrap()).unwrap();
        serde_json::from_str::<Value>(&out).unwrap()
    };
    s.rc.modify_customs_status(&fields).unwrap();
    // A new process on the same file: the event is still due and told again, the same.
    s.store = Store::open(&s.db).unwrap();
    s.due();
    s.due();
    let ev = s.store.customs_events_of("K01").unwrap();
    assert_eq!((ev[0].tell, ev[0].tell_attempts), (Tell::Told, 2));
    assert_eq!(s.red.calls("order.modifycustomstatus"), 2);
    assert_eq!(s.red.customs_events().len(), 1, "RED holds the event once");
}

#[test]
fn the_step_turned_off_sends_nothing_and_red_lacking_the_method_holds_up_no_order() {
    let mut s = Shop::new(RedSimOptions::default());
    s.accepted(&["O01"]);
    if let Some(l) = s.life.as_mut() {
        l.customs.config.tell_red = false;
    }
    s.post_status("O01", "CUSTOMS_PASSED", "", "2026-11-22 09:30:00");
    s.due();
    assert_eq!(s.red.calls("order.modifycustomstatus"), 0);
    assert_eq!(
        s.store.customs_events_of("O01").unwrap()[0].tell,
        Tell::NotSent
    );
    // An app without the method: RED's refusal is kept, the order's life goes on.
    let mut s = Shop::new(RedSimOptions {
        customs: CustomsOptions {
            lacks_customs_status: true,
            ..CustomsOptions::default()
        },
        ..RedSimOptions::default()
    });
    s.accepted(&["O02"]);
    s.post_status("O02", "CUSTOMS_PASSED", "", "2026-11-22 09:30:00");
    s.due();
    s.due();
    let ev = &s.store.customs_events_of("O02").unwrap()[0];
    assert_eq!((ev.tell, ev.tell_attempts), (Tell::Refused, 1));
    assert!(ev
        .tell_error
        .as_deref()
        .unwrap_or("")
        .contains("unknown method"));
    assert_eq!(s.row("O02").needs_person, None);
    s.post_shipment("O02");
    s.due();
    assert_eq!(s.stage("O02"), Stage::Delivered);
    let out = bondmap(&["status", "--state", s.db.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("RED refused the customs result of O02"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_unknown_order_a_broken_upload_and_red_unreachable_for_the_reason() {
    let mut s = Shop::new(RedSimOptions::default());
    s.accepted(&["U01"]);
    // An order bondmap never saw: recorded for a person, nothing moves.
    let a = s.post_status(
        "NOPE",
        "CUSTOMS_FAILED",
        "支付单不存在",
        "2026-11-22 09:41:07",
    );
    assert_eq!(a["success"], "true");
    let out = bondmap(&["status", "--state", s.db.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("a customs status for an order bondmap does not know"),
        "{}",
        text(&out.stdout)
    );
    // Without a status it cannot be read; sending it again would not mend it.
    let li = json!({"orderCode": "U01"}).to_string();
    assert_eq!(
        post_form(&s.receiver.url(), &li, "WMS_ORDER_STATUS_UPLOAD")["success"],
        "true"
    );
    assert_eq!(s.stage("U01"), Stage::Accepted);
    // RED cannot be asked for the order's personal values: nothing is stored, Cainiao is
    // told to send it again.
    s.red.stop();
    let a = s.post_status(
        "U01",
        "CUSTOMS_FAILED",
        "订购人身份信息不符",
        "2026-11-22 09:41:07",
    );
    assert_eq!(
        (a["success"].as_str(), a["errorCode"].as_str()),
        (Some("false"), Some("S07"))
    );
    assert_eq!(s.stage("U01"), Stage::Accepted);
    assert!(s.store.customs_events_of("U01").unwrap().is_empty());
}

fn sync_child(
    red: &RedSimHandle,
    gw: &SimHandle,
    db: &std::path::Path,
    extra: &[&str],
) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(["sync", "--mapping", ROUTES, "--state", db.to_str().unwrap()])
        .args(extra)
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in SIMS.env_for(red, gw) {
        c.env(k, v);
    }
    c
}

#[test]
fn a_sigkilled_listening_sync_started_again_tells_red_of_each_customs_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let port = free_port();
    let red = SIMS.red_sim(RedSimOptions::default());
    let n = 6;
    let now = chrono::Utc::now().timestamp();
    let ids: Vec<String> = (0..n).map(|i| format!("S{i:03}")).collect();
    let mut script = std::collections::HashMap::new();
    for id in &ids {
        red.add_order(order(id, now));
        script.insert(
            id.clone(),
            vec![("CUSTOMS_PASSED".to_string(), String::new())],
        );
    }
    let gw = SIMS.gw_sim(SimOptions {
        callback_url: Some(format!("http://127.0.0.1:{port}/cainiao/callback")),
        ship_after: Duration::from_millis(300),
        customs: script,
        customs_gap: Duration::from_millis(50),
        ..SimOptions::default()
    });
    let listen = format!("127.0.0.1:{port}");
    let mut child = sync_child(&red, &gw, &db, &["--listen", &listen, "--interval", "3600"])
        .spawn()
        .unwrap();
    // Killed as soon as the first customs result is recorded: RED told of it, or not.
    let t = std::time::Instant::now();
    loop {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no customs result recorded"
        );
        let recorded = db.exists()
            && Store::open_read_only(&db).is_ok_and(|s| {
                ids.iter()
                    .any(|id| s.customs_events_of(id).is_ok_and(|e| !e.is_empty()))
            });
        if recorded {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut again = sync_child(&red, &gw, &db, &["--listen", &listen, "--interval", "1"])
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    let delivered = || {
        Store::open_read_only(&db).is_ok_and(|s| {
            ids.iter().all(|id| {
                s.get(id)
                    .is_ok_and(|r| r.is_some_and(|r| r.stage == Stage::Delivered))
            }) && s.tells_due().is_ok_and(|d| d.is_empty())
        })
    };
    while !delivered() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "not all delivered and told"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    again.kill().unwrap();
    again.wait().unwrap();
    // RED holds each order's customs event once, and was called at most once more than
    // the process was killed while telling it.
    let told = red.customs_events();
    assert_eq!(told.len(), n, "{told:?}");
    assert!(told.keys().all(|(_, ty, _)| ty == "CUSTOMS_PASS"));
    assert!(red.calls("order.modifycustomstatus") as usize <= n + 1);
    assert_eq!(red.delivered().len(), n);
    assert!(gw.created().values().all(|c| *c == 1));
}

#[test]
fn the_demo_shows_a_payment_record_pushed_again_and_a_buyer_identity_closed_by_a_person() {
    let out = bondmap(&["demo"]);
    let t = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{t}{}", text(&out.stderr));
    let line = |id: &str| {
        t.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("P78811223300000007").contains("delivered"), "{t}");
    assert!(line("P78811223300000014").contains("closed"), "{t}");
    assert!(t.contains("1 resendBondedPaymentRecord"), "{t}");
    assert!(t.contains("1 closed by a person"), "{t}");
    // The payment order's path: stopped, pushed again, cleared, shipped, RED told.
    let from = t.find("bondmap history P78811223300000007:").unwrap();
    let path = &t[from..];
    let at = |s: &str| path.find(s).unwrap_or_else(|| panic!("{s}:\n{path}"));
    assert!(
        at("accepted → customs_failed: payment_missing")
            < at("order.resendBondedPaymentRecord: RED asks")
    );
    assert!(
        at("order.resendBondedPaymentRecord: RED asks") < at("customs_failed → customs_passed")
    );
    assert!(at("customs_failed → customs_passed") < at("shipped → delivered"));
    assert!(t.contains("resolve  close:"), "{t}");
    // The warehouse quoted the buyer's name: shown masked.
    assert!(
        !t.contains(BUYER_NAME) && t.contains("订购人张*的姓名"),
        "{t}"
    );
}
