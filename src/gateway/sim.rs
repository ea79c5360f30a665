//! A local Cainiao LINK gateway for tests and demos, on loopback: checks the form, the
//! digest and the shape of `logistics_interface`, answers like the real one, remembers
//! what it accepted (a repeated `externalOrderCode` is answered as a duplicate), and
//! injects faults on demand. It also answers `CN_WMS_ORDER_CANCEL` (success, or a refusal
//! for an order that has left the warehouse) and, when given a callback URL (loopback
//! only), ships each accepted order some time later: it posts a signed
//! `CONSIGN_ORDER_NOTIFY` to that URL, again until answered success, as Cainiao does.

use super::sign::data_digest;
use crate::http::{self, Flights, Limits, Reply};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Top-level fields every bonded delivery order must have.
const REQUIRED: &[&str] = &[
    "ownerUserId",
    "orderType",
    "storeCode",
    "externalOrderCode",
    "receiverInfo",
    "orderItemList",
    "orderAmountInfo",
    "customsDeclareInfo",
];

#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// The secret the digest is checked with.
    pub secret: String,
    /// Answer HTTP 500 to the first N requests.
    pub fail_first: u32,
    /// Wait `delay` before answering the first N requests.
    pub delay_first: u32,
    pub delay: Duration,
    /// Answer a body that is not JSON to the first N requests.
    pub garbage_first: u32,
    /// Refuse these external order codes with a business error.
    pub reject: HashSet<String>,
    /// The round trip of a real gateway, added to every answer (benchmarks, `--latency-ms`).
    pub latency: Duration,
    /// Answer HTTP 429 (with `Retry-After: 1`) to the first N requests.
    pub throttle_first: u32,
    /// Where shipment notices are posted (`http://127.0.0.1:P/cainiao/callback`); none: no
    /// order is shipped.
    pub callback_url: Option<String>,
    /// How long after accepting an order it ships (the notice is posted).
    pub ship_after: Duration,
    /// The carrier code the notices name (default `ZTO`).
    pub carrier: Option<String>,
    /// Orders that have already left the warehouse: a cancel of these is refused.
    pub left: HashSet<String>,
    /// Customs results posted for an order (by external order code) when it is due to
    /// ship, `customs_gap` apart: (status, reason). It ships only when the last one is
    /// `CUSTOMS_PASSED`; after a failure it stays in the warehouse.
    pub customs: HashMap<String, Vec<(String, String)>>,
    pub customs_gap: Duration,
}

/// Posts of one notice before the simulator gives up on a callback that never says success.
const NOTICE_ATTEMPTS: u32 = 20;

#[derive(Debug, Default)]
struct State {
    requests: u32,
    /// externalOrderCode → (order code, times accepted as new)
    accepted: HashMap<String, (String, u32)>,
    /// Requests that repeated an order already created.
    duplicates: u32,
    /// When each request arrived.
    times: Vec<std::time::Instant>,
    /// Orders that have left the warehouse (shipped, or marked so).
    left: HashSet<String>,
    /// Orders cancelled at the warehouse.
    cancelled: HashSet<String>,
    /// Shipment notices answered success by the callback, by order.
    notified: HashMap<String, u32>,
    /// Status uploads answered success by the callback: (order, status), in order.
    customs_posted: Vec<(String, String)>,
}

pub struct SimHandle {
    server: http::Server,
    state: Arc<Mutex<State>>,
    flights: Arc<Flights>,
}

impl SimHandle {
    pub fn url(&self) -> String {
        format!("http://{}/gateway/link.do", self.server.addr())
    }
    /// Requests received so far.
    pub fn requests(&self) -> u32 {
        self.state.lock().map_or(0, |s| s.requests)
    }
    /// The most requests that were being answered at one time.
    pub fn most_in_flight(&self) -> usize {
        self.flights.most()
    }
    /// The most requests that arrived in any one-second window.
    pub fn max_calls_in_any_second(&self) -> usize {
        self.state
            .lock()
            .map_or(0, |s| http::most_in_any_second(&s.times))
    }
    /// Requests for an order that already existed (each answered as a duplicate).
    pub fn duplicates(&self) -> u32 {
        self.state.lock().map_or(0, |s| s.duplicates)
    }
    /// How many times each external order code was created (never more than once).
    pub fn created(&self) -> HashMap<String, u32> {
        self.state
            .lock()
            .map(|s| {
                s.accepted
                    .iter()
                    .map(|(k, (_, n))| (k.clone(), *n))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Marks an order as having left the warehouse: a cancel of it is refused from now on.
    pub fn mark_left(&self, external_order_code: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.left.insert(external_order_code.to_string());
        }
    }
    /// Orders cancelled at the warehouse.
    pub fn cancelled(&self) -> HashSet<String> {
        self.state
            .lock()
            .map(|s| s.cancelled.clone())
            .unwrap_or_default()
    }
    /// Shipment notices the callback answered success, by order.
    pub fn notified(&self) -> HashMap<String, u32> {
        self.state
            .lock()
            .map(|s| s.notified.clone())
            .unwrap_or_default()
    }
    pub fn stop(&self) {
        self.server.stop();
    }
    /// Status uploads the callback answered success: (order, status), in order.
    pub fn customs_posted(&self) -> Vec<(String, String)> {
        self.state
            .lock()
            .map(|s| s.customs_posted.clone())
            .unwrap_or_default()
    }
}

/// Starts the simulator on 127.0.0.1:`port` (0: any free port) in the background.
pub fn spawn(port: u16, opts: SimOptions) -> std::io::Result<SimHandle> {
    let state = Arc::new(Mutex::new(State {
        left: opts.left.clone(),
        ..State::default()
    }));
    let (st, opts) = (state.clone(), Arc::new(opts));
    let flights = Arc::new(Flights::default());
    let f = flights.clone();
    let server = http::Server::start(
        ([127, 0, 0, 1], port).into(),
        http::every_path(move |body, at| f.during(|| serve(body, at, &st, &opts))),
        Limits::loopback(),
    )?;
    Ok(SimHandle {
        server,
        state,
        flights,
    })
}

/// Runs the simulator in the foreground (`bondmap gateway-sim`).
pub fn run_blocking(port: u16, opts: SimOptions) -> std::io::Result<()> {
    let h = spawn(port, opts)?;
    eprintln!("Cainiao gateway simulator on {}", h.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn serve(
    body: &[u8],
    arrived: std::time::Instant,
    state: &Arc<Mutex<State>>,
    opts: &Arc<SimOptions>,
) -> Reply {
    let n = {
        let Ok(mut s) = state.lock() else {
            return Reply::new(500, "text/plain", "state");
        };
        s.requests += 1;
        s.times.push(arrived);
        s.requests
    };
    if !opts.latency.is_zero() {
        std::thread::sleep(opts.latency);
    }
    if n <= opts.throttle_first {
        return Reply::new(429, "text/plain", "too many requests").with_header("Retry-After", "1");
    }
    if n <= opts.delay_first {
        std::thread::sleep(opts.delay);
    }
    if n <= opts.fail_first {
        return Reply::new(500, "text/plain", "server error");
    }
    if n <= opts.garbage_first {
        return Reply::new(200, "text/html", "<html>busy</html>");
    }
    let answer = answer(body, state, opts);
    Reply::new(200, "application/json;charset=UTF-8", answer.to_string())
}

fn fail(code: &str, msg: &str) -> serde_json::Value {
    serde_json::json!({"success": "false", "errorCode": code, "errorMsg": msg})
}

fn answer(body: &[u8], state: &Arc<Mutex<State>>, opts: &Arc<SimOptions>) -> serde_json::Value {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    for k in [
        "logistic_provider_id",
        "msg_type",
        "logistics_interface",
        "data_digest",
    ] {
        if form.get(k).is_none_or(|v| v.is_empty()) {
            return fail("S01", &format!("missing parameter {k}"));
        }
    }
    let interface = &form["logistics_interface"];
    if data_digest(interface, &opts.secret) != form["data_digest"] {
        return fail("S02", "data_digest is wrong (签名错误)");
    }
    if form["msg_type"] == "CN_WMS_ORDER_CANCEL" {
        return cancel(interface, state);
    }
    if form["msg_type"] != "CN_WMS_DELIVERYORDER_CREATE" {
        return fail("S03", "unknown msg_type");
    }
    let Ok(order) = serde_json::from_str::<serde_json::Value>(interface) else {
        return fail("S04", "logistics_interface is not JSON");
    };
    for k in REQUIRED {
        if order.get(k).is_none() {
            return fail("S05", &format!("missing field {k}"));
        }
    }
    if order["orderType"] != "BONDED_WHS" {
        return fail("S05", "orderType must be BONDED_WHS");
    }
    let Some(code) = order["externalOrderCode"].as_str() else {
        return fail("S05", "externalOrderCode must be a string");
    };
    if opts.reject.contains(code) {
        return fail("B0100", "商品备案信息不存在 (item not registered)");
    }
    let Ok(mut s) = state.lock() else {
        return fail("S99", "internal error");
    };
    let next = s.accepted.len() + 1;
    match s.accepted.get(code).map(|(oc, _)| oc.clone()) {
        Some(existing) => {
            s.duplicates += 1;
            serde_json::json!({"success": "false", "errorCode": "B0001", "errorMsg": "外部订单号重复 (duplicate externalOrderCode)", "orderCode": existing})
        }
        None => {
            let oc = format!("LBX{:012}", next);
            s.accepted.insert(code.to_string(), (oc.clone(), 1));
            if let Some(url) = &opts.callback_url {
                let store = order["storeCode"].as_str().unwrap_or("").to_string();
                ship_later(
                    url.clone(),
                    code.to_string(),
                    oc.clone(),
                    store,
                    state.clone(),
                    opts.clone(),
                );
            }
            serde_json::json!({"success": "true", "errorCode": "", "errorMsg": "", "orderCode": oc})
        }
    }
}

fn cancel(interface: &str, state: &Mutex<State>) -> serde_json::Value {
    let Ok(msg) = serde_json::from_str::<serde_json::Value>(interface) else {
        return fail("S04", "logistics_interface is not JSON");
    };
    for k in ["ownerUserId", "storeCode", "externalOrderCode", "orderType"] {
        if !msg.get(k).is_some_and(serde_json::Value::is_string) {
            return fail("S05", &format!("missing field {k}"));
        }
    }
    let code = msg["externalOrderCode"].as_str().unwrap_or("");
    let Ok(mut s) = state.lock() else {
        return fail("S99", "internal error");
    };
    if !s.accepted.contains_key(code) {
        return fail("B0404", "订单不存在 (no such delivery order)");
    }
    if s.left.contains(code) {
        return fail(
            "B0203",
            "订单已出库，无法取消 (the parcel has left the warehouse)",
        );
    }
    // A second cancel of a cancelled order is answered as the first.
    s.cancelled.insert(code.to_string());
    serde_json::json!({"success": "true", "errorCode": "", "errorMsg": ""})
}

/// Only loopback callbacks are posted to: the simulator never reaches another machine.
fn loopback(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
    })
}

/// After `ship_after`, ships the order (unless it was cancelled) and posts its notice
/// until the callback answers success, or gives up after [`NOTICE_ATTEMPTS`].
fn ship_later(
    url: String,
    code: String,
    lg_code: String,
    store: String,
    state: Arc<Mutex<State>>,
    opts: Arc<SimOptions>,
) {
    if !loopback(&url) {
        eprintln!("gateway simulator: not posting notices to {url}: loopback only");
        return;
    }
    std::thread::spawn(move || {
        std::thread::sleep(opts.ship_after);
        if !customs_then_ship(&url, &code, &lg_code, &store, &state, &opts) {
            return;
        }
        let n = {
            let Ok(mut s) = state.lock() else { return };
            if s.cancelled.contains(&code) {
                return;
            }
            s.left.insert(code.clone());
            s.accepted.len()
        };
        let tz = chrono::FixedOffset::east_opt(8 * 3600);
        let consign = tz.map_or_else(String::new, |tz| {
            chrono::Utc::now()
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        });
        let notice = serde_json::json!({
            "orderCode": code,
            "lgOrderCode": lg_code,
            "storeCode": store,
            "mailNo": format!("SIM{n:011}"),
            "logisticsCode": opts.carrier.as_deref().unwrap_or("ZTO"),
            "consignTime": consign,
        })
        .to_string();
        let Ok(http) = notice_client() else { return };
        if post_notice(&http, &url, "CONSIGN_ORDER_NOTIFY", &notice, &opts.secret) {
            if let Ok(mut s) = state.lock() {
                *s.notified.entry(code.clone()).or_default() += 1;
            }
        }
    });
}

/// The simulator's own client for the notices it posts back.
fn notice_client() -> reqwest::Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// Posts one notice as Cainiao's LINK does, again with a growing pause until it is
/// answered success; whether it was.
fn post_notice(
    http: &reqwest::blocking::Client,
    url: &str,
    msg_type: &str,
    content: &str,
    secret: &str,
) -> bool {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("logistic_provider_id", "CAINIAO_SIM")
        .append_pair("msg_type", msg_type)
        .append_pair("logistics_interface", content)
        .append_pair("data_digest", &data_digest(content, secret))
        .finish();
    for attempt in 0..NOTICE_ATTEMPTS {
        let ok = http
            .post(url)
            .header(
                "Content-Type",
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(body.clone())
            .send()
            .ok()
            .and_then(|r| r.json::<serde_json::Value>().ok())
            .is_some_and(|v| v["success"] == "true");
        if ok {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100 * u64::from(attempt + 1)));
    }
    false
}

/// Posts the order's customs results, if it has any, each until answered success;
/// whether it ships (its last result is a pass, or it has none).
fn customs_then_ship(
    url: &str,
    code: &str,
    lg_code: &str,
    store: &str,
    state: &Mutex<State>,
    opts: &SimOptions,
) -> bool {
    let Some(script) = opts.customs.get(code) else {
        return true;
    };
    let Ok(http) = notice_client() else {
        return false;
    };
    let tz = chrono::FixedOffset::east_opt(8 * 3600);
    for (i, (status, reason)) in script.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(opts.customs_gap);
        }
        let at = tz.map_or_else(String::new, |tz| {
            chrono::Utc::now()
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        });
        let mut li = serde_json::json!({
            "orderCode": code, "lgOrderCode": lg_code, "storeCode": store,
            "orderType": "BONDED_WHS", "status": status, "operateTime": at,
            "customsInfo": {"declarationOrderNo": format!("DEC{lg_code}"), "customsCode": "2924", "customsName": "杭州海关"},
        });
        if !reason.is_empty() {
            li["content"] = reason.clone().into();
        }
        let li = li.to_string();
        let taken = post_notice(&http, url, "WMS_ORDER_STATUS_UPLOAD", &li, &opts.secret);
        if !taken {
            return false;
        }
        if let Ok(mut s) = state.lock() {
            s.customs_posted.push((code.to_string(), status.clone()));
        }
    }
    script.last().is_some_and(|(s, _)| s == "CUSTOMS_PASSED")
}
