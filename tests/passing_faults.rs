//! A passing fault is never a person's problem (issue 26 §2), on loopback: a proxy in
//! front of the RED simulator answers chosen calls with a fault instead of RED (an HTML
//! 502 page, 系统繁忙, an expired token, a truncated body, a timeout). Each ends with RED
//! told of the shipment exactly once and no person flagged; a fault that outlasts every
//! retry is told again by the next round; a refusal RED did give still reaches a person in
//! RED's words.

mod common;

use bondmap::callback::{Notice, CONSIGN_ORDER_NOTIFY};
use bondmap::compile::Options;
use bondmap::gateway::sim::SimOptions;
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::red::sim_auth::{SimAuthOptions, EXPIRED_TOKEN};
use bondmap::red::{RedClient, RedConfig, RedError};
use bondmap::route::Router;
use bondmap::store::{Stage, Store};
use bondmap::sync::{life, Life, Pipeline, Routing, StoreSink};
use common::*;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const APP: &str = "fault-app";
const RED_SECRET: &str = "red-SECRET-61";
const TOKEN: &str = "tok-SECRET-62";
const REFRESH: &str = "ref-SECRET-63";
const GW_SECRET: &str = "gw-SECRET-64";
const ROUTES: &str = "mappings/routes.map";
/// The RED client's read timeout: the timeout fault waits longer.
const TIMEOUT: Duration = Duration::from_millis(600);

/// What the proxy answers instead of RED.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// HTTP 502 with an HTML page (a load balancer's).
    Html502,
    /// `success: false`, 系统繁忙.
    Busy,
    /// RED's token error, as its documents quote it.
    ExpiredToken,
    /// 200 with a Content-Length longer than the body, then the connection closed.
    Truncated,
    /// RED takes the call, but its answer never comes before the client's timeout.
    Timeout,
}

/// A proxy in front of the RED simulator: calls of `method` take the queued faults first.
struct Proxy {
    url: String,
    faults: Arc<Mutex<VecDeque<(String, Fault)>>>,
}

impl Proxy {
    fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/ark/open_api/v3/common_controller",
            listener.local_addr().unwrap()
        );
        let faults: Arc<Mutex<VecDeque<(String, Fault)>>> = Arc::default();
        let f = faults.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (f, target) = (f.clone(), target.clone());
                std::thread::spawn(move || serve(conn, &f, &target));
            }
        });
        Proxy { url, faults }
    }

    /// The next calls of `method` meet these faults, one each, in order.
    fn fault(&self, method: &str, faults: &[Fault]) {
        let mut q = self.faults.lock().unwrap();
        q.extend(faults.iter().map(|f| (method.to_string(), *f)));
    }

    fn left(&self) -> usize {
        self.faults.lock().unwrap().len()
    }
}

/// Reads one request: its body (by Content-Length).
fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).ok()?;
    Some(body)
}

fn respond(conn: &mut TcpStream, status: &str, kind: &str, body: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn serve(mut conn: TcpStream, faults: &Mutex<VecDeque<(String, Fault)>>, target: &str) {
    let Some(body) = read_request(&mut conn) else {
        return;
    };
    let method = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["method"].as_str().map(str::to_string))
        .unwrap_or_default();
    let fault = {
        let mut q = faults.lock().unwrap();
        match q.iter().position(|(m, _)| *m == method) {
            Some(i) => q.remove(i).map(|(_, f)| f),
            None => None,
        }
    };
    let forward = || -> String {
        reqwest::blocking::Client::new()
            .post(target)
            .header("Content-Type", "application/json;charset=utf-8")
            .body(body.clone())
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default()
    };
    let json = "application/json;charset=utf-8";
    match fault {
        None => respond(&mut conn, "200 OK", json, &forward()),
        Some(Fault::Html502) => respond(
            &mut conn,
            "502 Bad Gateway",
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        ),
        Some(Fault::Busy) => respond(
            &mut conn,
            "200 OK",
            json,
            &json!({"success": false, "error_code": -1, "error_msg": "系统繁忙，请稍后重试", "data": null}).to_string(),
        ),
        Some(Fault::ExpiredToken) => respond(
            &mut conn,
            "200 OK",
            json,
            &json!({"success": false, "error_code": 401, "error_msg": EXPIRED_TOKEN, "data": null}).to_string(),
        ),
        Some(Fault::Truncated) => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nContent-Length: 400\r\nConnection: close\r\n\r\n{{\"success\": true, \"da"
            );
        }
        Some(Fault::Timeout) => {
            // RED has it; its answer is lost.
            let answer = forward();
            std::thread::sleep(TIMEOUT * 2);
            respond(&mut conn, "200 OK", json, &answer);
        }
    }
}

/// A valid order (from the accepted examples) for the Hangzhou warehouse.
fn order(i: usize, id: &str, now: i64) -> Value {
    let mut d = valid_order(i, id, now - 600 + i as i64);
    d["detail"]["whcode"] = "HZXS".into();
    d["detail"]["logisticsMode"] = 2.into();
    d
}

/// The RED simulator behind the proxy, the gateway simulator, a state; the RED client
/// talks to the proxy, with a refresh token.
struct Shop {
    red: RedSimHandle,
    proxy: Proxy,
    gw: bondmap::gateway::sim::SimHandle,
    rc: RedClient,
    gc: bondmap::gateway::Client,
    router: Router,
    store: Store,
    sink: StoreSink,
    _dir: tempfile::TempDir,
}

impl Shop {
    fn new() -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let red = bondmap::red::sim::spawn(
            0,
            RedSimOptions {
                app_id: APP.into(),
                app_secret: RED_SECRET.into(),
                access_token: TOKEN.into(),
                auth: SimAuthOptions {
                    refresh_token: REFRESH.into(),
                    ..SimAuthOptions::default()
                },
                ..RedSimOptions::default()
            },
        )
        .unwrap();
        let proxy = Proxy::start(red.url());
        let gw = gw_sim_with(GW_SECRET, SimOptions::default());
        let mut rc = RedConfig::from_sources(
            |k| match k {
                "RED_APP_ID" => Some(APP.into()),
                "RED_APP_SECRET" => Some(RED_SECRET.into()),
                "RED_ACCESS_TOKEN" => Some(TOKEN.into()),
                "RED_REFRESH_TOKEN" => Some(REFRESH.into()),
                "RED_API_URL" => Some(proxy.url.clone()),
                "RED_MAX_REQUESTS_PER_SECOND" => Some("10000".into()),
                _ => None,
            },
            None,
        )
        .unwrap();
        rc.backoff_base = Duration::from_millis(5);
        rc.backoff_cap = Duration::from_millis(20);
        rc.timeout = TIMEOUT;
        let rc = RedClient::new(rc).unwrap();
        let gc = bondmap::gateway::Client::new(gw_config(&gw.url(), GW_SECRET)).unwrap();
        let router = Router::load(&root().join(ROUTES), &Options::default()).unwrap();
        Shop {
            red,
            proxy,
            gw,
            rc,
            gc,
            router,
            store: Store::open(&db).unwrap(),
            sink: StoreSink::open(&db, None).unwrap(),
            _dir: dir,
        }
    }

    fn pipeline(&mut self) -> Pipeline<'_> {
        let routing = Routing::new(&self.router, &root().join(ROUTES));
        let mut p = Pipeline::routed(&self.rc, &self.gc, routing, &mut self.store).unwrap();
        p.life = Some(Life::new(
            root().join("mappings/cainiao/cancel.map"),
            root().join("mappings/red/order_deliver.map"),
        ));
        p
    }

    fn round(&mut self) {
        let now = chrono::Utc::now().timestamp() + 5;
        self.pipeline().round(None, now, &mut |_| {}).unwrap();
    }

    fn deliver(&mut self) {
        life::deliver_due(&mut self.pipeline(), &mut |_| {}).unwrap();
    }

    /// The warehouse's shipment notice of `id`, recorded as the callback records it.
    fn shipped(&self, id: &str) {
        let content = json!({"orderCode": id, "lgOrderCode": "LP00000001", "storeCode": "HZ_XIASHA_01",
            "mailNo": format!("ZT{id}"), "logisticsCode": "ZTO", "consignTime": "2026-11-22 10:00:00"});
        let li = content.to_string();
        let notice = Notice {
            msg_type: CONSIGN_ORDER_NOTIFY.into(),
            logistic_provider_id: "CP_WAREHOUSE".into(),
            data_digest: bondmap::gateway::data_digest(&li, GW_SECRET),
            logistics_interface: li,
            content,
        };
        assert!(self.sink.take(&notice).unwrap());
    }

    fn row(&self, id: &str) -> bondmap::store::OrderRow {
        self.store.get(id).unwrap().unwrap()
    }
}

#[test]
fn each_passing_fault_on_order_deliver_ends_with_red_told_once_and_no_person() {
    let mut s = Shop::new();
    let now = chrono::Utc::now().timestamp();
    let cases = [
        ("D01", Fault::Html502),
        ("D02", Fault::Busy),
        ("D03", Fault::ExpiredToken),
        ("D04", Fault::Truncated),
        ("D05", Fault::Timeout),
    ];
    for (i, (id, _)) in cases.iter().enumerate() {
        s.red.add_order(order(i, id, now));
    }
    s.round();
    assert_eq!(s.gw.created().len(), cases.len());
    for (id, fault) in cases {
        s.shipped(id);
        s.proxy.fault("order.orderDeliver", &[fault]);
        let refreshes = s.red.token_counts().0;
        s.deliver();
        // A token error is answered by one refresh, then the call once more.
        let more = s.red.token_counts().0 - refreshes;
        assert_eq!(more, u32::from(fault == Fault::ExpiredToken), "{fault:?}");
        assert_eq!(s.proxy.left(), 0, "{fault:?} not met");
        let r = s.row(id);
        assert_eq!(r.stage, Stage::Delivered, "{fault:?}: {r:?}");
        assert!(r.needs_person.is_none(), "{fault:?}: {r:?}");
    }
    // Each told once: RED shows one accepted shipment per order, and RED saw one call
    // per order but for the timeout (its answer lost: told again, "already shipped").
    let delivered = s.red.delivered();
    assert_eq!(delivered.len(), cases.len());
    assert_eq!(s.red.calls("order.orderDeliver"), cases.len() as u32 + 1);
}

#[test]
fn a_fault_that_outlasts_every_retry_is_told_again_next_round_never_to_a_person() {
    let mut s = Shop::new();
    let now = chrono::Utc::now().timestamp();
    s.red.add_order(order(0, "E01", now));
    s.round();
    s.shipped("E01");
    // More faults than a call's tries (5): this round's call gives up.
    s.proxy.fault(
        "order.orderDeliver",
        &[
            Fault::Busy,
            Fault::Html502,
            Fault::Truncated,
            Fault::Busy,
            Fault::Html502,
            Fault::Busy,
        ],
    );
    s.deliver();
    let r = s.row("E01");
    assert_eq!(r.stage, Stage::Shipped, "{r:?}");
    assert!(r.needs_person.is_none(), "{r:?}");
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("tried again next round")),
        "{r:?}"
    );
    assert!(s.red.delivered().is_empty());
    // The next round: the last fault, then RED is told, once.
    s.round();
    let r = s.row("E01");
    assert_eq!(r.stage, Stage::Delivered, "{r:?}");
    assert!(r.needs_person.is_none());
    assert_eq!(s.red.delivered().len(), 1);
    assert_eq!(s.red.calls("order.orderDeliver"), 1);
}

#[test]
fn a_red_fault_while_fetching_leaves_the_order_for_the_next_round() {
    let mut s = Shop::new();
    let now = chrono::Utc::now().timestamp();
    s.red.add_order(order(0, "G01", now));
    s.proxy.fault("order.getOrderDetail", &[Fault::Busy; 5]);
    s.round();
    let r = s.row("G01");
    assert_eq!(r.stage, Stage::Seen, "{r:?}");
    assert!(r.needs_person.is_none(), "{r:?}");
    assert!(
        r.error.as_deref().is_some_and(|e| e.contains("系统繁忙")),
        "{r:?}"
    );
    assert!(s.gw.created().is_empty());
    s.round();
    assert_eq!(s.row("G01").stage, Stage::Accepted);
    assert_eq!(s.gw.created().len(), 1);
}

#[test]
fn a_refusal_red_gave_reaches_a_person_in_reds_words() {
    let mut s = Shop::new();
    let now = chrono::Utc::now().timestamp();
    s.red.add_order(order(0, "H01", now));
    s.round();
    s.shipped("H01");
    // Cancelled on RED after the parcel left: RED refuses the shipment.
    s.red.cancel_order("H01");
    s.deliver();
    let r = s.row("H01");
    let why = r.needs_person.unwrap_or_default();
    assert!(
        why.contains("RED refused the shipment") && why.contains("订单已取消"),
        "{why}"
    );
}

#[test]
fn the_client_sorts_faults_from_refusals() {
    let api = |method: &str, message: &str| RedError::Api {
        method: method.into(),
        code: "-1".into(),
        message: message.into(),
    };
    for passing in [
        api("order.orderDeliver", "系统繁忙，请稍后重试"),
        api("order.getOrderDetail", "请求过于频繁，触发限流"),
        api("order.orderDeliver", EXPIRED_TOKEN),
        api("order.orderDeliver", "System busy, try again later"),
        RedError::Transport {
            method: "order.orderDeliver".into(),
            message: "timed out".into(),
        },
        RedError::Answer {
            method: "order.orderDeliver".into(),
            message: "unparseable answer (HTTP 200 OK)".into(),
        },
        RedError::Unauthorized,
    ] {
        assert!(passing.is_passing(), "{passing}");
    }
    for refusal in [
        api("order.orderDeliver", "订单已取消，不能发货"),
        api("order.orderDeliver", "快递公司编码错误"),
        // A token error of the OAuth calls is a refusal of the refresh token or the code.
        api(
            "oauth.refreshToken",
            "refreshToken 无效或已过期，请重新授权",
        ),
        RedError::Conflict {
            method: "order.orderDeliver".into(),
            message: "shipped with another tracking number".into(),
        },
        RedError::NotSent {
            method: "order.orderDeliver".into(),
            message: "orderId missing".into(),
        },
    ] {
        assert!(!refusal.is_passing(), "{refusal}");
    }
}
