//! The order's life after its delivery order: the shipment notice mapped to RED's
//! order.orderDeliver (reviewed snapshots, rejections), the cancel mapped through each
//! shipped warehouse's params, and `RedClient::order_deliver` against a scripted RED.

mod common;

use bondmap::compile::{compile, Options};
use bondmap::engine::load_program;
use bondmap::gateway::Secret;
use bondmap::red::deliver::Delivered;
use bondmap::red::{RedClient, RedError};
use bondmap::warehouse::{load_for_warehouse, params_of};
use common::localhttp;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DELIVER: &str = "mappings/red/order_deliver.map";
const CANCEL: &str = "mappings/cainiao/cancel.map";

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_str().unwrap().to_string()
}

fn snap(name: &str, body: &str) {
    insta::with_settings!({snapshot_path => "../snapshots/life", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, body);
    });
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn map(prog: &bondmap::program::Program, doc: &Value) -> Result<Value, String> {
    bondmap::run::run(prog, doc)
        .map(|j| serde_json::from_str(&j).unwrap())
        .map_err(|e| e.to_string())
}

fn deliver_program() -> bondmap::program::Program {
    load_program(&root().join(DELIVER), &Options::default())
        .map_err(|e| e.render(false))
        .unwrap()
        .0
}

fn warehouses() -> Vec<PathBuf> {
    files(&root().join("mappings/warehouses"), "map")
}

#[test]
fn both_new_mappings_check_clean_against_their_two_schemas() {
    for m in [DELIVER, CANCEL] {
        let (mapping, diags) = bondmap::load::load(&root().join(m));
        assert!(diags.is_empty(), "{m}: {diags:?}");
        assert!(mapping.target.is_some() && mapping.source.is_some(), "{m}");
        let opts = Options {
            allow_unset_params: true,
            ..Options::default()
        };
        let (_, diags) = compile(&mapping, &opts);
        assert!(diags.is_empty(), "{m}: {diags:?}");
    }
}

#[test]
fn order_deliver_on_every_example_notice() {
    let prog = deliver_program();
    let notices = files(&root().join("examples/notices"), "json");
    assert!(notices.len() >= 3);
    for n in &notices {
        let body = match bondmap::run::run(&prog, &read(n)) {
            Ok(json) => pretty(&json),
            Err(e) => format!("REJECTED\n{e}"),
        };
        snap(&format!("order_deliver__{}", stem(n)), &body);
    }
}

#[test]
fn delivering_time_is_the_consign_time_in_china_standard_time() {
    let prog = deliver_program();
    let out = map(
        &prog,
        &read(&root().join("examples/notices/01_zto_hangzhou.json")),
    )
    .unwrap();
    // 2026-11-22 10:00:00 +08:00 = 2026-11-22 02:00:00 UTC.
    let want = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00")
        .unwrap()
        .timestamp_millis();
    assert_eq!(out["deliveringTime"].as_i64(), Some(want));
    assert_eq!(out["expressCompanyCode"], "zto");
}

#[test]
fn every_listed_carrier_maps_and_an_unknown_one_is_rejected_by_name() {
    let prog = deliver_program();
    let base = read(&root().join("examples/notices/01_zto_hangzhou.json"));
    for (cainiao, red) in [
        ("ZTO", "zto"),
        ("YTO", "yto"),
        ("STO", "sto"),
        ("YUNDA", "yunda"),
        ("SF", "shunfeng"),
        ("EMS", "ems"),
        ("JD", "jd"),
    ] {
        let mut n = base.clone();
        n["logisticsCode"] = json!(cainiao);
        assert_eq!(map(&prog, &n).unwrap()["expressCompanyCode"], red);
    }
    let mut n = base.clone();
    n["logisticsCode"] = json!("DBKD");
    let e = map(&prog, &n).unwrap_err();
    for part in [
        "P78811223300000001",
        "expressCompanyCode",
        "DBKD",
        "carrier",
        "$.logisticsCode",
        "order_deliver.map",
    ] {
        assert!(e.contains(part), "{part} missing from: {e}");
    }
    // A lower-case code is not guessed at either.
    n["logisticsCode"] = json!("zto");
    assert!(map(&prog, &n).is_err());
}

#[test]
fn a_notice_missing_a_field_or_with_a_bad_time_is_rejected() {
    let prog = deliver_program();
    let base = read(&root().join("examples/notices/01_zto_hangzhou.json"));
    for (field, target) in [
        ("mailNo", "expressNo"),
        ("orderCode", "orderId"),
        ("logisticsCode", "expressCompanyCode"),
    ] {
        let mut n = base.clone();
        n.as_object_mut().unwrap().remove(field);
        let e = map(&prog, &n).unwrap_err();
        assert!(e.contains(target), "{field}: {e}");
        let mut n = base.clone();
        n[field] = Value::Null;
        assert!(map(&prog, &n).is_err(), "{field} null");
    }
    for bad in [
        "2026/11/22 10:00",
        "2026-11-22T10:00:00+08:00",
        "",
        "2026-02-30 10:00:00",
    ] {
        let mut n = base.clone();
        n["consignTime"] = json!(bad);
        let e = map(&prog, &n).unwrap_err();
        assert!(e.contains("deliveringTime"), "{bad}: {e}");
    }
    let mut n = base.clone();
    n["consignTime"] = json!(1795312800000i64);
    assert!(map(&prog, &n).is_err(), "a number is not a time text");
}

#[test]
fn cancel_goes_through_the_params_of_each_warehouse() {
    let whs = warehouses();
    assert_eq!(whs.len(), 2);
    let orders = files(&root().join("examples/notices/cancelled"), "json");
    for wh in &whs {
        let (prog, warnings) = load_for_warehouse(&root().join(CANCEL), wh, &Options::default())
            .map_err(|e| e.render(false))
            .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(prog.settings.msg_type, "CN_WMS_ORDER_CANCEL");
        // The ship-back goes through the warehouse the same way (it declares no params).
        let (deliver, _) = load_for_warehouse(&root().join(DELIVER), wh, &Options::default())
            .map_err(|e| e.render(false))
            .unwrap();
        let n = read(&root().join("examples/notices/01_zto_hangzhou.json"));
        assert_eq!(map(&deliver, &n).unwrap()["expressCompanyCode"], "zto");
        let params = params_of(wh).unwrap();
        let param = |n: &str| params.iter().find(|(k, _)| k == n).unwrap().1.clone();
        for o in &orders {
            let body = match bondmap::run::run(&prog, &read(o)) {
                Ok(json) => {
                    let v: Value = serde_json::from_str(&json).unwrap();
                    // The warehouse's own codes, read apart from the snapshot.
                    assert_eq!(v["storeCode"], param("store_code"));
                    assert_eq!(v["ownerUserId"], param("owner_user_id"));
                    assert_eq!(v["externalOrderCode"], read(o)["detail"]["orderId"]);
                    pretty(&json)
                }
                Err(e) => format!("REJECTED\n{e}"),
            };
            snap(&format!("cancel__{}__{}", stem(wh), stem(o)), &body);
        }
    }
}

#[test]
fn an_order_not_cancelled_on_red_is_never_cancelled_at_the_warehouse() {
    let wh = root().join("mappings/warehouses/hangzhou_xiasha.map");
    let (prog, _) = load_for_warehouse(&root().join(CANCEL), &wh, &Options::default()).unwrap();
    for ex in examples() {
        let doc = read(&ex);
        if doc["detail"]["orderStatus"] == 9 || doc["detail"]["cancelStatus"] == 1 {
            continue;
        }
        let e = map(&prog, &doc).unwrap_err();
        assert!(e.contains("not cancelled on RED"), "{}: {e}", ex.display());
    }
}

#[test]
fn a_run_param_wins_over_the_warehouse_and_a_warehouse_missing_one_is_an_error() {
    let wh = root().join("mappings/warehouses/ningbo_meishan.map");
    let opts = Options {
        params: vec![("store_code".into(), "NB_OTHER".into())],
        ..Options::default()
    };
    let (prog, _) = load_for_warehouse(&root().join(CANCEL), &wh, &opts).unwrap();
    let out = map(
        &prog,
        &read(&root().join("examples/notices/cancelled/01_cancelled.json")),
    )
    .unwrap();
    assert_eq!(out["storeCode"], "NB_OTHER");
    assert_eq!(out["ownerUserId"], "2200000000777");

    // A "warehouse" that sets no codes: the cancel cannot be built.
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.map");
    std::fs::write(&bare, "param store_code: string = \"X\"\n").unwrap();
    let e = load_for_warehouse(&root().join(CANCEL), &bare, &Options::default()).unwrap_err();
    let text = e.render(false);
    assert!(text.contains("owner_user_id"), "{text}");
}

// ---- RedClient::order_deliver against a scripted RED ------------------------------------

/// A RED that answers each call with the next scripted answer (HTTP status, JSON body),
/// repeating the last; it keeps every request body.
struct FakeRed {
    server: localhttp::Server,
    seen: Arc<Mutex<Vec<Value>>>,
}

fn fake_red(script: Vec<(u16, Value)>) -> FakeRed {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(script));
    let s = seen.clone();
    let server = localhttp::Server::start(0, move |mut conn| {
        let Ok(body) = localhttp::read_body(&conn) else {
            return;
        };
        s.lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
        let (status, answer) = {
            let mut sc = script.lock().unwrap();
            if sc.len() > 1 {
                sc.remove(0)
            } else {
                sc[0].clone()
            }
        };
        let _ = localhttp::respond(&mut conn, status, "application/json", &answer.to_string());
    })
    .unwrap();
    FakeRed { server, seen }
}

impl FakeRed {
    fn client(&self) -> RedClient {
        let url = format!(
            "http://{}/ark/open_api/v3/common_controller",
            self.server.addr
        );
        let mut c = red_config(&url, "token");
        c.timeout = Duration::from_secs(5);
        c.max_attempts = 3;
        c.max_requests_per_second = 10_000;
        RedClient::new(c).unwrap()
    }
    fn methods(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| r["method"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

fn ok(data: Value) -> (u16, Value) {
    (
        200,
        json!({"success": true, "error_code": 0, "error_msg": "", "data": data}),
    )
}

fn refused(msg: &str) -> (u16, Value) {
    (
        200,
        json!({"success": false, "error_code": 50001, "error_msg": msg, "data": null}),
    )
}

fn request() -> Value {
    let prog = deliver_program();
    map(
        &prog,
        &read(&root().join("examples/notices/01_zto_hangzhou.json")),
    )
    .unwrap()
}

#[test]
fn order_deliver_sends_the_mapped_fields_once() {
    let red = fake_red(vec![ok(json!({}))]);
    let fields = request();
    assert_eq!(
        red.client().order_deliver(&fields).unwrap(),
        Delivered::Sent
    );
    let seen = red.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r["method"], "order.orderDeliver");
    for k in [
        "orderId",
        "expressNo",
        "expressCompanyCode",
        "deliveringTime",
    ] {
        assert_eq!(r[k], fields[k], "{k}");
    }
    assert!(r["sign"].is_string() && r["appId"] == "app");
}

#[test]
fn a_lost_answer_then_already_shipped_counts_as_done() {
    // The first call got through but its answer was lost (HTTP 502): the retry hears
    // RED say the order is shipped, which is what we wanted.
    let red = fake_red(vec![(502, json!({})), refused("订单已发货，请勿重复发货")]);
    let d = red.client().order_deliver(&request()).unwrap();
    assert!(matches!(d, Delivered::AlreadyShipped { .. }), "{d:?}");
    assert_eq!(red.methods(), ["order.orderDeliver", "order.orderDeliver"]);
}

#[test]
fn another_refusal_is_done_only_if_red_shows_this_tracking_number() {
    let fields = request();
    let no = fields["expressNo"].as_str().unwrap();
    let red = fake_red(vec![
        refused("订单状态不允许发货"),
        ok(json!({"orderId": fields["orderId"], "orderStatus": 6, "expressTrackingNo": no})),
    ]);
    let d = red.client().order_deliver(&fields).unwrap();
    assert!(matches!(d, Delivered::AlreadyShipped { .. }), "{d:?}");
    assert_eq!(
        red.methods(),
        ["order.orderDeliver", "order.getOrderDetail"]
    );

    // Shipped with another number: a conflict for a person, not "done".
    let red = fake_red(vec![
        refused("订单状态不允许发货"),
        ok(json!({"orderStatus": 6, "expressTrackingNo": "OTHER123"})),
    ]);
    let e = red.client().order_deliver(&fields).unwrap_err();
    assert!(e.to_string().contains("another tracking number"), "{e}");

    // Not shipped (cancelled, say): RED's own refusal comes back as it was.
    let red = fake_red(vec![refused("订单已取消"), ok(json!({"orderStatus": 9}))]);
    match red.client().order_deliver(&fields).unwrap_err() {
        RedError::Api { message, .. } => assert_eq!(message, "订单已取消"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_half_built_request_is_never_sent() {
    let red = fake_red(vec![ok(json!({}))]);
    for k in ["orderId", "expressNo", "expressCompanyCode"] {
        let mut f = request();
        f.as_object_mut().unwrap().remove(k);
        assert!(red.client().order_deliver(&f).is_err(), "{k}");
        let mut f = request();
        f[k] = json!("  ");
        assert!(red.client().order_deliver(&f).is_err(), "{k} blank");
    }
    assert!(red.client().order_deliver(&json!([1])).is_err());
    assert!(red.seen.lock().unwrap().is_empty());
}

#[test]
fn a_misspelt_notice_path_is_reported_against_the_notice_contract() {
    let text = std::fs::read_to_string(root().join(DELIVER))
        .unwrap()
        .replace("= $.mailNo", "= $.mailN")
        .replace("= $.orderCode ", "= $.qqqq ");
    let (m, diags) = bondmap::load::load_str("x.map", &text, &root().join("mappings/red"));
    assert!(diags.is_empty(), "{diags:?}");
    let (_, diags) = compile(&m, &Options::default());
    let all: Vec<String> = diags
        .iter()
        .map(|d| format!("{} / {:?}", d.message, d.help))
        .collect();
    let all = all.join("\n");
    assert!(all.contains("did you mean `mailNo`"), "{all}");
    assert!(all.contains("cainiao_consign_notify.schema.json"), "{all}");
    // The source is a Cainiao notice, not a RED order.
    assert!(!all.contains("RED order"), "{all}");
}

// ---- the simulators: the whole ship-back and the cancel, on loopback ---------------------

use bondmap::callback::{CallbackConfig, Notice, Receiver, Sink};
use bondmap::gateway::data_digest;
use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::red::sim::RedSimOptions;

const GW_SECRET: &str = "sim-secret";

#[derive(Default)]
struct Notices(Mutex<Vec<Notice>>);

impl Sink for Notices {
    fn record(&self, n: &Notice) -> Result<(), String> {
        self.0.lock().unwrap().push(n.clone());
        Ok(())
    }
}

impl Notices {
    /// Waits (at most 20 s) until a notice for `order` has arrived.
    fn wait_for(&self, order: &str) -> Notice {
        for _ in 0..200 {
            if let Some(n) = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|n| n.order_code() == Some(order))
            {
                return n.clone();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no notice for {order}");
    }
}

/// Posts one signed gateway form to the simulator; returns its answer.
fn gateway_post(gw: &SimHandle, msg_type: &str, li: &str) -> Value {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("logistic_provider_id", "APP")
        .append_pair("msg_type", msg_type)
        .append_pair("logistics_interface", li)
        .append_pair("data_digest", &data_digest(li, GW_SECRET))
        .finish();
    reqwest::blocking::Client::new()
        .post(gw.url())
        .body(body)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// The delivery order of an example through the Hangzhou warehouse mapping.
fn create(gw: &SimHandle, example: &str) -> Value {
    let wh = root().join("mappings/warehouses/hangzhou_xiasha.map");
    let (prog, _) = load_program(&wh, &Options::default()).unwrap();
    let li =
        bondmap::run::run(&prog, &read(&root().join("examples/orders").join(example))).unwrap();
    gateway_post(gw, "CN_WMS_DELIVERYORDER_CREATE", &li)
}

fn cancel_message(doc: &Value) -> String {
    let wh = root().join("mappings/warehouses/hangzhou_xiasha.map");
    let (prog, _) = load_for_warehouse(&root().join(CANCEL), &wh, &Options::default()).unwrap();
    bondmap::run::run(&prog, doc).unwrap()
}

fn red_sim() -> bondmap::red::sim::RedSimHandle {
    bondmap::red::sim::spawn(
        0,
        RedSimOptions {
            app_id: "app".into(),
            app_secret: "secret".into(),
            access_token: "token".into(),
            ..RedSimOptions::default()
        },
    )
    .unwrap()
}

fn red_client(red: &bondmap::red::sim::RedSimHandle) -> RedClient {
    let mut c = red_config(&red.url(), "token");
    c.timeout = Duration::from_secs(5);
    c.max_requests_per_second = 10_000;
    RedClient::new(c).unwrap()
}

#[test]
fn the_warehouse_ships_the_notice_is_mapped_and_red_is_told_once() {
    let sink = Arc::new(Notices::default());
    let rx = Receiver::start(
        "127.0.0.1:0".parse().unwrap(),
        CallbackConfig::new(Secret::new(GW_SECRET)),
        sink.clone(),
    )
    .unwrap();
    let gw = gw_sim_with(
        GW_SECRET,
        SimOptions {
            callback_url: Some(rx.url()),
            ship_after: Duration::from_millis(50),
            ..SimOptions::default()
        },
    );
    let red = red_sim();
    let doc = read(&root().join("examples/orders/01_single_sku_alipay.json"));
    red.add_order(doc.clone());
    let id = doc["detail"]["orderId"].as_str().unwrap();

    assert_eq!(create(&gw, "01_single_sku_alipay.json")["success"], "true");
    let notice = sink.wait_for(id);
    assert_eq!(notice.msg_type, "CONSIGN_ORDER_NOTIFY");
    assert_eq!(notice.content["storeCode"], "HZ_XIASHA_01");
    // The simulator counts a notice once it has read the receiver's answer, a moment
    // after the sink has it.
    wait_until(|| gw.notified().get(id) == Some(&1));

    let fields = map(&deliver_program(), &notice.content).unwrap();
    let client = red_client(&red);
    assert_eq!(client.order_deliver(&fields).unwrap(), Delivered::Sent);
    // Told again (a resend after a crash): RED says shipped, which counts as done.
    let again = client.order_deliver(&fields).unwrap();
    assert!(
        matches!(again, Delivered::AlreadyShipped { .. }),
        "{again:?}"
    );
    let delivered = red.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[id]["expressNo"], notice.content["mailNo"]);
    assert_eq!(delivered[id]["expressCompanyCode"], "zto");
    assert!(delivered[id].get("accessToken").is_none());
    let detail = client.order_detail(id).unwrap();
    assert_eq!(detail["orderStatus"], 6);
    assert_eq!(detail["expressTrackingNo"], notice.content["mailNo"]);
}

#[test]
fn a_cancel_succeeds_before_the_parcel_leaves_and_is_refused_after() {
    let gw = gw_sim_with(
        GW_SECRET,
        SimOptions {
            ..SimOptions::default()
        },
    );
    let red = red_sim();
    for ex in [
        "01_single_sku_alipay.json",
        "02_several_skus_discounts_wechat.json",
    ] {
        let doc = read(&root().join("examples/orders").join(ex));
        red.add_order(doc);
        assert_eq!(create(&gw, ex)["success"], "true");
    }
    let client = red_client(&red);
    let (a, b) = ("P78811223300000001", "P78811223300000002");
    red.cancel_order(a);
    red.cancel_order(b);
    gw.mark_left(b);

    let detail = client.order_detail(a).unwrap();
    assert_eq!(
        (
            detail["orderStatus"].clone(),
            detail["cancelStatus"].clone()
        ),
        (json!(9), json!(1))
    );
    let answer = gateway_post(
        &gw,
        "CN_WMS_ORDER_CANCEL",
        &cancel_message(&json!({"detail": detail})),
    );
    assert_eq!(answer["success"], "true", "{answer}");

    let detail_b = client.order_detail(b).unwrap();
    let refused = gateway_post(
        &gw,
        "CN_WMS_ORDER_CANCEL",
        &cancel_message(&json!({"detail": detail_b})),
    );
    assert_eq!(refused["success"], "false");
    assert_eq!(gw.cancelled().into_iter().collect::<Vec<_>>(), [a]);

    // RED will not take a shipment for a cancelled order, and says so.
    let fields = json!({"orderId": a, "expressNo": "SIM1", "expressCompanyCode": "zto"});
    match client.order_deliver(&fields).unwrap_err() {
        RedError::Api { message, .. } => assert!(message.contains("已取消"), "{message}"),
        e => panic!("{e:?}"),
    }
    assert!(red.delivered().is_empty());
}

#[test]
fn an_order_cancelled_before_it_ships_is_never_notified() {
    let sink = Arc::new(Notices::default());
    let rx = Receiver::start(
        "127.0.0.1:0".parse().unwrap(),
        CallbackConfig::new(Secret::new(GW_SECRET)),
        sink.clone(),
    )
    .unwrap();
    let gw = gw_sim_with(
        GW_SECRET,
        SimOptions {
            callback_url: Some(rx.url()),
            // Long enough that the cancel below always comes first, even on a busy machine.
            ship_after: Duration::from_secs(2),
            ..SimOptions::default()
        },
    );
    assert_eq!(create(&gw, "01_single_sku_alipay.json")["success"], "true");
    let mut cancelled = read(&root().join("examples/notices/cancelled/01_cancelled.json"));
    cancelled["detail"]["orderId"] = json!("P78811223300000001");
    let answer = gateway_post(&gw, "CN_WMS_ORDER_CANCEL", &cancel_message(&cancelled));
    assert_eq!(answer["success"], "true", "{answer}");
    // A second order accepted after it ships as usual: once its notice is in, the
    // cancelled one's time has long passed.
    assert_eq!(
        create(&gw, "02_several_skus_discounts_wechat.json")["success"],
        "true"
    );
    sink.wait_for("P78811223300000002");
    assert!(sink
        .0
        .lock()
        .unwrap()
        .iter()
        .all(|n| n.order_code() != Some("P78811223300000001")));
    assert!(!gw.notified().contains_key("P78811223300000001"));
}

#[test]
fn parse_time_takes_a_string_and_gives_an_integer() {
    let dir = root().join("mappings/red");
    let check = |field: &str| {
        let text = std::fs::read_to_string(root().join(DELIVER))
            .unwrap()
            .replace(
                r#"deliveringTime     = parse_time($.consignTime, "%Y-%m-%d %H:%M:%S")"#,
                field,
            );
        let (m, diags) = bondmap::load::load_str("x.map", &text, &dir);
        assert!(diags.is_empty(), "{diags:?}");
        let (_, diags) = compile(&m, &Options::default());
        diags
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // A number where the text is due.
    let e = check(r#"deliveringTime = parse_time(1795312800000, "%Y-%m-%d")"#);
    assert!(e.contains("takes a string"), "{e}");
    // Its result is a whole number: a string field cannot take it.
    let e = check(r#"expressCompanyName = parse_time($.consignTime, "%Y-%m-%d %H:%M:%S")"#);
    assert!(
        !e.is_empty(),
        "a number assigned to a string field must be refused"
    );
    assert_eq!(
        check(r#"deliveringTime = parse_time($.consignTime, "%Y-%m-%d")"#),
        ""
    );
}

/// Waits (at most 20 s) for `done`; fails the test if it never holds.
fn wait_until(done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the condition never held");
}
