//! A local RED open API for tests and demos, on loopback: serves orders held in memory,
//! checks the sign and the access token, pages `order.getOrderList` by update time,
//! sends personal fields encrypted in RED's `#index#cipher#type##` layout (a reversible
//! stand-in cipher) so that `data.batchDecrypt` is exercised, and injects faults. It
//! serves `order.orderDeliver` (recorded; a second one for a shipped order is answered
//! "already shipped", one for a cancelled order refused) and can cancel an order.

use super::sign::sign;
use crate::http::{self, Flights, Limits, Reply};
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct RedSimOptions {
    pub app_id: String,
    pub app_secret: String,
    pub access_token: String,
    /// Answer `success: false` (a plain API error) to the first N calls.
    pub error_first: u32,
    /// Answer a rate-limit error to the first N calls.
    pub rate_limit_first: u32,
    /// Answer HTTP 500 to the first N calls.
    pub fail_first: u32,
    /// Delay every answer by this much (kept for older tests; `latency` is the same).
    pub delay: Duration,
    /// Orders whose values `data.batchDecrypt` refuses (errorCode -2000701, quota hit).
    pub undecryptable: std::collections::HashSet<String>,
    /// Leave `maxPageNo` out of every order list page (a broken answer that once made
    /// bondmap read only the first page).
    pub list_without_max_page: bool,
    /// Orders whose values come back broken: errorCode 0 and `decryptedData: null` (what
    /// made bondmap send blank names before it checked each item).
    pub null_decrypt: std::collections::HashSet<String>,
    /// The round trip of a real API, added to every answer (benchmarks, `--latency-ms`).
    pub latency: Duration,
    /// Delay only the first N answers by `slow`.
    pub slow_first: u32,
    pub slow: Duration,
    /// The customs leg's behaviour (an app without `order.modifycustomstatus`…).
    pub customs: super::sim_customs::CustomsOptions,
    /// Tokens that expire, refresh tokens and codes ([`super::sim_auth`]).
    pub auth: super::sim_auth::SimAuthOptions,
}

#[derive(Default)]
struct State {
    orders: HashMap<String, Value>,
    calls: HashMap<String, u32>,
    total: u32,
    /// When each call arrived.
    times: Vec<Instant>,
    /// The most values one call of a method carried (receiverQueries, baseInfos).
    largest: HashMap<String, usize>,
    /// The accepted `order.orderDeliver` request of each order.
    delivered: HashMap<String, Value>,
    /// What RED heard of customs.
    customs: super::sim_customs::CustomsSim,
    /// The tokens issued ([`super::sim_auth`]).
    auth: super::sim_auth::Registry,
}

pub struct RedSimHandle {
    server: http::Server,
    state: Arc<Mutex<State>>,
    flights: Arc<Flights>,
}

impl RedSimHandle {
    pub fn url(&self) -> String {
        format!(
            "http://{}/ark/open_api/v3/common_controller",
            self.server.addr()
        )
    }
    /// Adds (or replaces) an order: an input document with plain personal data.
    pub fn add_order(&self, doc: Value) {
        if let (Ok(mut s), Some(id)) = (self.state.lock(), doc["detail"]["orderId"].as_str()) {
            s.orders.insert(id.to_string(), doc.clone());
        }
    }
    /// Changes an order in place (e.g. its address), as a buyer edit would.
    pub fn update_order(&self, order_id: &str, f: impl FnOnce(&mut Value)) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(o) = s.orders.get_mut(order_id) {
                f(o);
            }
        }
    }
    /// Turns an order into one the buyer cancelled (`orderStatus` 9, `cancelStatus` 1),
    /// its `updateTime` moved on, as RED shows it after a cancel.
    pub fn cancel_order(&self, order_id: &str) {
        self.update_order(order_id, |o| {
            let d = &mut o["detail"];
            let now = chrono::Utc::now().timestamp_millis();
            let t = now.max(d["updateTime"].as_i64().unwrap_or(0) + 1000);
            d["orderStatus"] = json!(9);
            d["cancelStatus"] = json!(1);
            d["cancelTime"] = json!(t);
            d["updateTime"] = json!(t);
        });
    }
    /// The accepted `order.orderDeliver` request of each order told shipped.
    pub fn delivered(&self) -> HashMap<String, Value> {
        self.state
            .lock()
            .map(|s| s.delivered.clone())
            .unwrap_or_default()
    }
    pub fn calls(&self, method: &str) -> u32 {
        self.state
            .lock()
            .map_or(0, |s| s.calls.get(method).copied().unwrap_or(0))
    }
    /// Calls received so far, of every method.
    pub fn total_calls(&self) -> u32 {
        self.state.lock().map_or(0, |s| s.total)
    }
    /// The most calls that arrived in any one-second window.
    pub fn max_calls_in_any_second(&self) -> usize {
        self.state
            .lock()
            .map_or(0, |s| http::most_in_any_second(&s.times))
    }
    /// The most calls that were being answered at one time.
    pub fn most_in_flight(&self) -> usize {
        self.flights.most()
    }
    /// The most values (receiverQueries, baseInfos) one call of `method` carried.
    pub fn largest_batch(&self, method: &str) -> usize {
        self.state
            .lock()
            .map_or(0, |s| s.largest.get(method).copied().unwrap_or(0))
    }
    pub fn stop(&self) {
        self.server.stop();
    }
    /// `f` on the simulator's tokens ([`super::sim_auth`]).
    fn with_auth<R>(&self, f: impl FnOnce(&mut super::sim_auth::Registry) -> R) -> Option<R> {
        self.state.lock().ok().map(|mut s| f(&mut s.auth))
    }

    /// A new authorization code, as a merchant authorizing the app makes one.
    pub fn issue_code(&self) -> String {
        self.with_auth(|a| a.new_code()).unwrap_or_default()
    }

    /// The live refresh token expires now.
    pub fn expire_refresh_token(&self) {
        self.with_auth(|a| a.expire_refresh_token());
    }

    /// (`oauth.refreshToken` answered with tokens, of which new ones, calls refused for
    /// an expired access token).
    pub fn token_counts(&self) -> (u32, u32, u32) {
        self.with_auth(|a| a.counts()).unwrap_or_default()
    }

    /// Calls refused for an access token the simulator never issued.
    pub fn bad_token_calls(&self) -> u32 {
        self.with_auth(|a| a.bad_tokens).unwrap_or_default()
    }

    /// Every token issued (access and refresh, the configured ones included): what must
    /// never show in bondmap's output.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.with_auth(|a| a.issued()).unwrap_or_default()
    }
}

pub fn spawn(port: u16, opts: RedSimOptions) -> std::io::Result<RedSimHandle> {
    let state = Arc::new(Mutex::new(State::default()));
    let (st, opts) = (state.clone(), Arc::new(opts));
    let flights = Arc::new(Flights::default());
    let f = flights.clone();
    let server = http::Server::start(
        ([127, 0, 0, 1], port).into(),
        http::every_path(move |body, at| f.during(|| serve(body, at, &st, &opts))),
        Limits::loopback(),
    )?;
    Ok(RedSimHandle {
        server,
        state,
        flights,
    })
}

/// Loads every `*.json` input document of a folder into the simulator.
pub fn load_folder(h: &RedSimHandle, dir: &std::path::Path) -> std::io::Result<usize> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p)?)
                .map_err(std::io::Error::other)?;
            h.add_order(v);
            n += 1;
        }
    }
    Ok(n)
}

fn serve(body: &[u8], arrived: Instant, state: &Mutex<State>, opts: &RedSimOptions) -> Reply {
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let method = req["method"].as_str().unwrap_or("").to_string();
    let n = {
        let Ok(mut s) = state.lock() else {
            return Reply::new(500, "text/plain", "state");
        };
        s.total += 1;
        s.times.push(arrived);
        *s.calls.entry(method.clone()).or_default() += 1;
        let size = ["receiverQueries", "baseInfos"]
            .iter()
            .find_map(|k| req[*k].as_array().map(Vec::len))
            .unwrap_or(0);
        let l = s.largest.entry(method.clone()).or_default();
        *l = (*l).max(size);
        s.total
    };
    let wait = opts.delay + opts.latency;
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
    if n <= opts.slow_first {
        std::thread::sleep(opts.slow);
    }
    if n <= opts.fail_first {
        return Reply::new(500, "text/plain", "server error");
    }
    let answer = if n <= opts.fail_first + opts.rate_limit_first {
        err(429_001, "请求过于频繁，触发限流 (rate limited)")
    } else if n <= opts.fail_first + opts.rate_limit_first + opts.error_first {
        err(-1, "系统繁忙 (injected error)")
    } else {
        handle(&req, &method, state, opts)
    };
    Reply::json(answer.to_string())
}

/// `order.orderDeliver`: a to-ship order becomes shipped (status 6) with the tracking number.
fn deliver(req: &Value, state: &Mutex<State>) -> Value {
    let text = |k: &str| req[k].as_str().filter(|v| !v.trim().is_empty());
    let (Some(id), Some(no), Some(company)) = (
        text("orderId"),
        text("expressNo"),
        text("expressCompanyCode"),
    ) else {
        return err(
            -5,
            "参数错误：orderId、expressNo、expressCompanyCode 必填 (missing field)",
        );
    };
    let Ok(mut s) = state.lock() else {
        return err(-1, "internal");
    };
    let Some(o) = s.orders.get_mut(id) else {
        return err(-2, "订单不存在 (no such order)");
    };
    let d = &mut o["detail"];
    let status = d["orderStatus"].as_i64().unwrap_or(0);
    if status == 9 || d["cancelStatus"].as_i64() == Some(1) {
        return err(-7, "订单已取消，不能发货 (the order is cancelled)");
    }
    if matches!(status, 5..=7) {
        return err(-6, "订单已发货，请勿重复发货 (already shipped)");
    }
    if status != 4 {
        return err(-8, "订单状态不允许发货 (not to ship)");
    }
    let now = chrono::Utc::now().timestamp_millis();
    d["orderStatus"] = json!(6);
    d["expressTrackingNo"] = json!(no);
    d["expressCompanyCode"] = json!(company);
    d["deliveryTime"] = json!(req["deliveringTime"].as_i64().unwrap_or(now));
    d["updateTime"] = json!(now.max(d["updateTime"].as_i64().unwrap_or(0) + 1000));
    // The method's fields only: the system fields (sign, access token) are not kept.
    let fields = super::sim_customs::fields(req);
    s.delivered.insert(id.to_string(), fields);
    ok(json!({}))
}

fn err(code: i64, msg: &str) -> Value {
    json!({"success": false, "error_code": code, "error_msg": msg, "data": null})
}

fn ok(data: Value) -> Value {
    json!({"success": true, "error_code": 0, "error_msg": "", "data": data})
}

/// The stand-in cipher: same value, same index; type 1 address, 2 name, 3 phone, 4 ID.
fn encrypt(v: &str, ty: u8, salt: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let index: String = crate::gateway::data_digest(v, "index")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    format!("#{index}#{}#{ty}##", b64.encode(format!("{salt}|{v}")))
}

fn decrypt(c: &str) -> Option<String> {
    let parts: Vec<&str> = c.split('#').collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(parts.get(2)?)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.split_once('|').map(|(_, v)| v.to_string())
}

fn handle(req: &Value, method: &str, state: &Mutex<State>, opts: &RedSimOptions) -> Value {
    let field = |k: &str| req[k].as_str().unwrap_or("");
    if field("appId") != opts.app_id
        || field("sign")
            != sign(
                method,
                &opts.app_id,
                field("timestamp"),
                field("version"),
                &opts.app_secret,
            )
    {
        return err(-100, "签名错误 (bad sign)");
    }
    if let Some(answered) = state.lock().ok().and_then(|mut s| {
        super::sim_auth::answer(method, req, &mut s.auth, &opts.auth, &opts.access_token)
    }) {
        return answered;
    }
    if method == "order.orderDeliver" {
        return deliver(req, state);
    }
    if super::sim_customs::METHODS.contains(&method) {
        return customs(req, method, state, opts);
    }
    let Ok(s) = state.lock() else {
        return err(-1, "internal");
    };
    let order = |id: &str| s.orders.get(id).cloned();
    match method {
        "order.getOrderList" => {
            let (start, end) = (
                req["startTime"].as_i64().unwrap_or(0) * 1000,
                req["endTime"].as_i64().unwrap_or(0) * 1000,
            );
            let status = req["orderStatus"].as_i64().unwrap_or(0);
            let size = req["pageSize"].as_i64().unwrap_or(50).clamp(1, 100);
            let page = req["pageNo"].as_i64().unwrap_or(1).max(1);
            let mut hits: Vec<&Value> = s
                .orders
                .values()
                .map(|o| &o["detail"])
                .filter(|d| {
                    let t = d["updateTime"].as_i64().unwrap_or(0);
                    t >= start
                        && t <= end
                        && (status == 0 || d["orderStatus"].as_i64() == Some(status))
                })
                .collect();
            hits.sort_by_key(|d| {
                (
                    d["updateTime"].as_i64(),
                    d["orderId"].as_str().map(str::to_string),
                )
            });
            let total = hits.len() as i64;
            let max_page = ((total + size - 1) / size).max(1);
            let list: Vec<Value> = hits
                .iter()
                .skip(((page - 1) * size) as usize)
                .take(size as usize)
                .map(|d| json!({"orderId": d["orderId"], "orderType": d["orderType"], "orderStatus": d["orderStatus"], "cancelStatus": d["cancelStatus"], "updateTime": d["updateTime"], "createdTime": d["createdTime"]}))
                .collect();
            let mut data = json!({"total": total, "pageNo": page, "pageSize": size, "maxPageNo": max_page, "orderList": list});
            if opts.list_without_max_page {
                if let Some(d) = data.as_object_mut() {
                    d.remove("maxPageNo");
                }
            }
            ok(data)
        }
        "order.getOrderDetail" => match order(field("orderId")) {
            Some(o) => ok(o["detail"].clone()),
            None => err(-2, "订单不存在 (no such order)"),
        },
        "order.getOrderDeclareInfo" => match order(field("orderId")) {
            Some(mut o) => {
                let id = field("orderId").to_string();
                if let Some(list) = o["declare"]["orderDeclareInfos"].as_array_mut() {
                    for e in list {
                        for (f, ty) in [("idName", 2), ("idNumber", 4), ("linkPhone", 3)] {
                            if let Some(v) = e[f].as_str().map(str::to_string) {
                                e[f] = json!(encrypt(&v, ty, &id));
                            }
                        }
                    }
                }
                ok(o["declare"].clone())
            }
            None => err(-2, "订单不存在 (no such order)"),
        },
        "order.getOrderReceiverInfo" => {
            let queries = req["receiverQueries"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if queries.len() > 100 {
                return err(-3, "at most 100 receiverQueries per call");
            }
            let mut infos = Vec::new();
            for q in &queries {
                let id = q["orderId"].as_str().unwrap_or("").to_string();
                // An unknown order is left out of the answer, as a batch would.
                let Some(mut o) = order(&id) else { continue };
                if o["detail"]["openAddressId"] != q["openAddressId"] {
                    infos.push(json!({"orderId": id, "matched": false}));
                    continue;
                }
                if let Some(list) = o["receiver"]["receiverInfos"].as_array_mut() {
                    for e in list {
                        for (f, ty) in [
                            ("receiverName", 2),
                            ("receiverPhone", 3),
                            ("receiverAddress", 1),
                        ] {
                            if let Some(v) = e[f].as_str().map(str::to_string) {
                                e[f] = json!(encrypt(&v, ty, &id));
                            }
                        }
                        infos.push(e.clone());
                    }
                }
            }
            if infos.is_empty() && !queries.is_empty() {
                return err(-2, "订单不存在 (no such order)");
            }
            ok(json!({"receiverInfos": infos}))
        }
        "data.batchDecrypt" => {
            let infos = req["baseInfos"].as_array().cloned().unwrap_or_default();
            if infos.len() > 100 {
                return err(-3, "at most 100 values per call");
            }
            let list: Vec<Value> = infos
                .iter()
                .map(|i| {
                    let c = i["encryptedData"].as_str().unwrap_or("");
                    let refused = i["dataTag"].as_str().is_some_and(|t| opts.undecryptable.contains(t));
                    if i["dataTag"].as_str().is_some_and(|t| opts.null_decrypt.contains(t)) {
                        return json!({"dataTag": i["dataTag"], "encryptedData": c, "decryptedData": null, "errorCode": 0, "errorMsg": ""});
                    }
                    match decrypt(c).filter(|_| !refused) {
                        Some(p) => json!({"dataTag": i["dataTag"], "encryptedData": c, "decryptedData": p, "errorCode": 0, "errorMsg": ""}),
                        None => json!({"dataTag": i["dataTag"], "encryptedData": c, "decryptedData": "", "errorCode": if refused { -2000701 } else { -2000799 }, "errorMsg": "cannot decrypt"}),
                    }
                })
                .collect();
            ok(json!({"dataInfoList": list}))
        }
        _ => err(-4, "unknown method"),
    }
}

/// A call of the customs leg ([`super::sim_customs`]).
fn customs(req: &Value, method: &str, state: &Mutex<State>, opts: &RedSimOptions) -> Value {
    let Ok(mut s) = state.lock() else {
        return err(-1, "internal");
    };
    let State {
        orders, customs, ..
    } = &mut *s;
    let exists = |id: &str| orders.contains_key(id);
    super::sim_customs::answer(method, req, customs, &opts.customs, &exists)
}

impl RedSimHandle {
    /// Each customs event RED was told (`order.modifycustomstatus`), once each: by
    /// (orderId, eventType, eventTime), its fields.
    pub fn customs_events(&self) -> std::collections::BTreeMap<(String, String, i64), Value> {
        self.state
            .lock()
            .map(|s| s.customs.events.clone())
            .unwrap_or_default()
    }
    /// `order.resendBondedPaymentRecord` calls RED took for an order.
    pub fn repushes(&self, order_id: &str) -> u32 {
        self.state.lock().map_or(0, |s| {
            s.customs.repushes.get(order_id).copied().unwrap_or(0)
        })
    }
    /// The filings RED holds, by (barcode, port): the fields sent.
    pub fn filings(&self) -> std::collections::BTreeMap<(String, String), Value> {
        self.state
            .lock()
            .map(|s| s.customs.filings.clone())
            .unwrap_or_default()
    }
}
