//! The RED client against answers that are wrong in every way a hostile or broken API can
//! be: `data.batchDecrypt` items missing, null, mistyped or not matching what was asked;
//! `order.getOrderList` pages of the wrong shape.

mod common;

use bondmap::red::decrypt::decrypt_document;
use bondmap::red::RedClient;
use common::localhttp::{self, Server};
use common::red_config;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn client(url: &str) -> RedClient {
    let mut c = red_config(url, "token");
    c.timeout = Duration::from_secs(5);
    RedClient::new(c).unwrap()
}

/// A RED API answering every call with `data` made by `answer` from the request.
fn api(answer: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Server {
    let answer = Arc::new(answer);
    Server::start(0, move |mut c| {
        let req: Value = serde_json::from_slice(&localhttp::read_body(&c).unwrap_or_default())
            .unwrap_or_default();
        let body = json!({"success": true, "error_code": 0, "error_msg": "", "data": answer(&req)});
        let _ = localhttp::respond(&mut c, 200, "application/json", &body.to_string());
    })
    .unwrap()
}

fn cipher(tag: &str, ty: u8) -> String {
    format!("#IDX{tag}{ty}#CIPHERTEXT{tag}x{ty}#{ty}##")
}

/// One order's receiver and declare parts, every personal field encrypted.
fn doc() -> Value {
    json!({
        "detail": {"orderId": "P1"},
        "receiver": {"receiverInfos": [{"orderId": "P1", "matched": true,
            "receiverName": cipher("a", 2), "receiverPhone": cipher("b", 3), "receiverAddress": cipher("c", 1)}]},
        "declare": {"orderDeclareInfos": [{"type": "订购人",
            "idName": cipher("d", 2), "idNumber": cipher("e", 4), "linkPhone": cipher("f", 3)}]}
    })
}

/// The honest answer to a batchDecrypt request: each value as "PLAIN-<ciphertext tail>".
fn honest(req: &Value) -> Vec<Value> {
    req["baseInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let c = i["encryptedData"].as_str().unwrap();
            json!({"dataTag": i["dataTag"], "encryptedData": c,
                   "decryptedData": format!("PLAIN-{}", &c[c.len() - 6..]), "errorCode": 0, "errorMsg": ""})
        })
        .collect()
}

fn decrypt_with(fault: impl Fn(&mut Vec<Value>) + Send + Sync + 'static) -> Result<Value, String> {
    let s = api(move |req| {
        let mut list = honest(req);
        fault(&mut list);
        json!({"dataInfoList": list})
    });
    let mut d = doc();
    decrypt_document(&client(&format!("http://{}/ark", s.addr)), "P1", &mut d)
        .map(|()| d)
        .map_err(|e| e.to_string())
}

#[test]
fn an_honest_answer_decrypts_every_field() {
    let d = decrypt_with(|_| {}).unwrap();
    let r = &d["receiver"]["receiverInfos"][0];
    assert!(r["receiverName"].as_str().unwrap().starts_with("PLAIN-"));
    assert!(d["declare"]["orderDeclareInfos"][0]["idNumber"]
        .as_str()
        .unwrap()
        .starts_with("PLAIN-"));
}

#[test]
fn every_bad_decrypt_item_is_an_error_naming_the_field_and_never_a_blank_value() {
    type Fault = Box<dyn Fn(&mut Vec<Value>) + Send + Sync>;
    let first = "receiver.receiverInfos[0].receiverName";
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "no decryptedData",
            Box::new(|l| {
                l[0].as_object_mut().unwrap().remove("decryptedData");
            }),
            "decryptedData",
        ),
        (
            "decryptedData null",
            Box::new(|l| l[0]["decryptedData"] = Value::Null),
            "decryptedData",
        ),
        (
            "decryptedData a number",
            Box::new(|l| l[0]["decryptedData"] = json!(5)),
            "decryptedData",
        ),
        (
            "decryptedData empty",
            Box::new(|l| l[0]["decryptedData"] = json!("")),
            "decryptedData",
        ),
        (
            "errorCode a string",
            Box::new(|l| l[0]["errorCode"] = json!("0")),
            "errorCode",
        ),
        (
            "errorCode a fraction",
            Box::new(|l| l[0]["errorCode"] = json!(0.5)),
            "errorCode",
        ),
        (
            "errorCode missing",
            Box::new(|l| {
                l[0].as_object_mut().unwrap().remove("errorCode");
            }),
            "errorCode",
        ),
        (
            "errorCode set",
            Box::new(|l| {
                l[0]["errorCode"] = json!(-2000701);
                l[0]["errorMsg"] = json!("quota");
            }),
            "-2000701",
        ),
        (
            "another order's tag",
            Box::new(|l| l[0]["dataTag"] = json!("P2")),
            "dataTag",
        ),
        (
            "another ciphertext",
            Box::new(|l| l[0]["encryptedData"] = json!("#zz#other#2##")),
            "no item",
        ),
        (
            "an item missing",
            Box::new(|l| {
                l.remove(0);
            }),
            "no item",
        ),
    ];
    for (what, fault, word) in cases {
        let e = decrypt_with(fault).expect_err(what);
        assert!(e.contains(first), "{what}: {e}");
        assert!(e.contains(word), "{what}: {e}");
        assert!(
            !e.contains("CIPHERTEXT") && !e.contains("PLAIN-"),
            "{what} leaks: {e}"
        );
    }
}

#[test]
fn a_decrypt_answer_without_a_list_names_the_list() {
    for data in [
        json!({}),
        json!({"dataInfoList": "x"}),
        json!({"dataInfoList": null}),
    ] {
        let s = api(move |_| data.clone());
        let mut d = doc();
        let e = decrypt_document(&client(&format!("http://{}/ark", s.addr)), "P1", &mut d)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data.batchDecrypt") && e.contains("dataInfoList"),
            "{e}"
        );
    }
}

/// `n` orders updated inside the window, statuses 4 and 9 in turn.
fn listed(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"orderId": format!("P{i:05}"), "orderStatus": if i % 2 == 0 { 4 } else { 9 },
                        "updateTime": 1_000_000 + i as i64})
        })
        .collect()
}

/// An honest order list: pages of `pageSize` of `orders` (filtered by `orderStatus`
/// unless 0), each page's data passed through `fault`.
fn list_api(orders: Vec<Value>, fault: impl Fn(&mut Value) + Send + Sync + 'static) -> Server {
    api(move |req| {
        let status = req["orderStatus"].as_i64().unwrap();
        let (page, size) = (
            req["pageNo"].as_i64().unwrap(),
            req["pageSize"].as_i64().unwrap(),
        );
        let (from, to) = (
            req["startTime"].as_i64().unwrap() * 1000,
            req["endTime"].as_i64().unwrap() * 1000,
        );
        let hits: Vec<&Value> = orders
            .iter()
            .filter(|o| status == 0 || o["orderStatus"] == status)
            .filter(|o| (from..=to).contains(&o["updateTime"].as_i64().unwrap_or(-1)))
            .collect();
        let total = hits.len() as i64;
        let list: Vec<&Value> = hits
            .into_iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .collect();
        let mut data = json!({"total": total, "pageNo": page, "pageSize": size,
                              "maxPageNo": ((total + size - 1) / size).max(1), "orderList": list});
        fault(&mut data);
        data
    })
}

#[test]
fn an_honest_order_list_is_walked_whole_with_or_without_a_status() {
    let s = list_api(listed(450), |_| {});
    let c = client(&format!("http://{}/ark", s.addr));
    let all = c.list_orders(0, 1800, None).unwrap();
    assert_eq!(all.len(), 450);
    assert!(all.iter().any(|e| e.order_status == 9));
    let to_ship = c.list_to_ship(0, 1800).unwrap();
    assert_eq!(to_ship.len(), 225);
    assert!(to_ship.iter().all(|e| e.order_status == 4));
    assert_eq!(to_ship[0].update_time, 1_000_000);
}

#[test]
fn every_bad_order_list_fails_the_round_naming_method_and_field() {
    type Fault = Box<dyn Fn(&mut Value) + Send + Sync>;
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "no maxPageNo",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("maxPageNo");
            }),
            "maxPageNo",
        ),
        (
            "maxPageNo a string",
            Box::new(|d| d["maxPageNo"] = json!("3")),
            "maxPageNo",
        ),
        (
            "maxPageNo too small",
            Box::new(|d| d["maxPageNo"] = json!(1)),
            "maxPageNo",
        ),
        (
            "no total",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("total");
            }),
            "total",
        ),
        (
            "no orderList",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("orderList");
            }),
            "orderList",
        ),
        (
            "orderList an object",
            Box::new(|d| d["orderList"] = json!({})),
            "orderList",
        ),
        (
            "orderId a number",
            Box::new(|d| d["orderList"][0]["orderId"] = json!(123)),
            "orderList[0].orderId",
        ),
        (
            "orderStatus a string",
            Box::new(|d| d["orderList"][1]["orderStatus"] = json!("4")),
            "orderList[1].orderStatus",
        ),
        (
            "no updateTime",
            Box::new(|d| {
                d["orderList"][2]
                    .as_object_mut()
                    .unwrap()
                    .remove("updateTime");
            }),
            "orderList[2].updateTime",
        ),
        (
            "an entry not an object",
            Box::new(|d| d["orderList"][0] = json!("P1")),
            "orderList[0]",
        ),
        ("data null", Box::new(|d| *d = Value::Null), "data"),
        (
            "fewer than total",
            Box::new(|d| {
                if d["pageNo"] == 2 {
                    d["orderList"].as_array_mut().unwrap().pop();
                }
            }),
            "total",
        ),
    ];
    for (what, fault, word) in cases {
        let s = list_api(listed(250), fault);
        let c = client(&format!("http://{}/ark", s.addr));
        let e = c.list_to_ship(0, 1800).expect_err(what).to_string();
        assert!(
            e.contains("order.getOrderList") && e.contains(word),
            "{what}: {e}"
        );
    }
}

#[test]
fn an_empty_window_may_omit_its_list() {
    let s = api(|_| json!({"total": 0, "pageNo": 1, "pageSize": 100, "maxPageNo": 0}));
    let c = client(&format!("http://{}/ark", s.addr));
    assert_eq!(c.list_orders(0, 1800, Some(4)).unwrap(), vec![]);
}

/// The most instants of `times` in any one-second window [t, t + 1 s).
fn most_in_a_second(times: &mut [std::time::Instant]) -> usize {
    times.sort();
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|b| **b < times[i] + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn many_threads_on_one_client_never_exceed_its_rate_in_any_second() {
    fn is_sync<T: Sync + Send>(_: &T) {}
    let times = Arc::new(std::sync::Mutex::new(Vec::new()));
    let t2 = times.clone();
    let s = api(move |_| {
        t2.lock().unwrap().push(std::time::Instant::now());
        json!({})
    });
    let url = format!("http://{}/ark", s.addr);
    let mut c = client(&url);
    c.config_mut().max_requests_per_second = 10;
    // The rate is read when the client is made.
    let c = RedClient::new(c.config_mut().clone()).unwrap();
    is_sync(&c);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|sc| {
        for _ in 0..8 {
            sc.spawn(|| {
                while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 35 {
                    c.call("order.getOrderDetail", json!({"orderId": "P1"}))
                        .unwrap();
                }
            });
        }
    });
    let mut t = times.lock().unwrap();
    assert_eq!(t.len(), 35);
    let most = most_in_a_second(&mut t);
    assert!(most <= 10, "{most} calls in one second");
}

#[test]
fn rate_limit_answers_slow_the_client_down() {
    let n = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let n2 = n.clone();
    let s = Server::start(0, move |mut c| {
        let _ = localhttp::read_body(&c);
        let k = n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body = if k == 0 {
            json!({"success": false, "error_code": 42, "error_msg": "请求过于频繁，触发限流"})
        } else {
            json!({"success": true, "error_code": 0, "error_msg": "", "data": {}})
        };
        let _ = localhttp::respond(&mut c, 200, "application/json", &body.to_string());
    })
    .unwrap();
    let c = client(&format!("http://{}/ark", s.addr));
    let now = std::time::Instant::now();
    assert_eq!(c.limiter().rate_at(now), 80.0);
    c.call("order.getOrderDetail", json!({})).unwrap();
    assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 2);
    let r = c.limiter().rate_at(std::time::Instant::now());
    assert!(r < 45.0, "the pace after a rate-limit answer: {r}");
}

#[test]
fn a_window_of_more_than_100_pages_is_split_and_walked_whole() {
    // 10,050 orders in ten seconds: RED pages through 10,000 of a window at most.
    let s = list_api(listed(10_050), |_| {});
    let c = client(&format!("http://{}/ark", s.addr));
    let all = c.list_orders(0, 1800, None).unwrap();
    assert_eq!(all.len(), 10_050);
    let distinct: std::collections::HashSet<&str> =
        all.iter().map(|e| e.order_id.as_str()).collect();
    assert_eq!(distinct.len(), 10_050);
}
