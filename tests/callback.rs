//! The Cainiao callback receiver over loopback HTTP: digest, answers, what reaches the
//! sink, and hostile requests (oversized, malformed, slow, many at once).

use bondmap::callback::{CallbackConfig, Notice, Receiver, Sink, MAX_BODY};
use bondmap::gateway::{data_digest, Secret};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "cb-secret";

/// Records notices in memory, keyed by their digest (so the same notice twice is one).
#[derive(Default)]
struct MemSink {
    notices: Mutex<BTreeMap<String, Notice>>,
    calls: Mutex<usize>,
    fail: bool,
}

impl Sink for MemSink {
    fn record(&self, n: &Notice) -> Result<(), String> {
        *self.calls.lock().unwrap() += 1;
        if self.fail {
            return Err("disk full".into());
        }
        self.notices
            .lock()
            .unwrap()
            .entry(n.data_digest.clone())
            .or_insert_with(|| n.clone());
        Ok(())
    }
}

impl MemSink {
    fn count(&self) -> usize {
        self.notices.lock().unwrap().len()
    }
    fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
}

fn start(sink: Arc<MemSink>) -> Receiver {
    Receiver::start(
        "127.0.0.1:0".parse().unwrap(),
        CallbackConfig::new(Secret::new(SECRET)),
        sink,
    )
    .unwrap()
}

fn notice(order: &str) -> String {
    format!(
        r#"{{"orderCode":"{order}","lgOrderCode":"LP{order}","storeCode":"HZ_XIASHA_01","mailNo":"7881 2345&6789=01","logisticsCode":"ZTO","consignTime":"2026-11-22 10:00:00"}}"#
    )
}

fn form(li: &str, secret: &str, msg_type: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("logistic_provider_id", "CP_WAREHOUSE")
        .append_pair("msg_type", msg_type)
        .append_pair("logistics_interface", li)
        .append_pair("data_digest", &data_digest(li, secret))
        .finish()
}

/// Posts a form body; returns the HTTP status and the answer's JSON.
fn post(r: &Receiver, body: String) -> (u16, Value) {
    let resp = reqwest::blocking::Client::new()
        .post(r.url())
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .body(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.text().unwrap()).unwrap())
}

/// Sends raw bytes; returns the status line's code and the rest of the answer.
fn raw(r: &Receiver, bytes: &[u8]) -> (u16, String) {
    let mut c = TcpStream::connect(r.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(bytes).unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[test]
fn a_good_notice_is_recorded_then_answered_success() {
    let sink = Arc::new(MemSink::default());
    let r = start(sink.clone());
    let li = notice("P78811223300000001");
    let (status, a) = post(&r, form(&li, SECRET, "CONSIGN_ORDER_NOTIFY"));
    assert_eq!(status, 200);
    assert_eq!(
        a,
        serde_json::json!({"success": "true", "errorCode": "", "errorMsg": ""})
    );
    let notices = sink.notices.lock().unwrap();
    let n = notices.values().next().unwrap();
    // The exact signed text reaches the sink, with the fields beside it.
    assert_eq!(n.logistics_interface, li);
    assert_eq!(n.order_code(), Some("P78811223300000001"));
    assert_eq!(n.msg_type, "CONSIGN_ORDER_NOTIFY");
    assert_eq!(n.logistic_provider_id, "CP_WAREHOUSE");
}

#[test]
fn a_bad_digest_is_answered_s02_and_nothing_is_recorded() {
    let sink = Arc::new(MemSink::default());
    let r = start(sink.clone());
    let (status, a) = post(
        &r,
        form(&notice("P1"), "not-the-secret", "CONSIGN_ORDER_NOTIFY"),
    );
    assert_eq!(status, 200);
    assert_eq!(a["success"], "false");
    assert_eq!(a["errorCode"], "S02");
    assert!(!a["errorMsg"].as_str().unwrap().is_empty());
    // A body changed after signing is refused the same way.
    let tampered = form(&notice("P1"), SECRET, "CONSIGN_ORDER_NOTIFY").replace("P1", "P2");
    assert_eq!(post(&r, tampered).1["errorCode"], "S02");
    assert_eq!(sink.calls(), 0);
}

#[test]
fn the_same_notice_twice_is_answered_success_twice_and_kept_once() {
    let sink = Arc::new(MemSink::default());
    let r = start(sink.clone());
    let body = form(&notice("P1"), SECRET, "CONSIGN_ORDER_NOTIFY");
    assert_eq!(post(&r, body.clone()).1["success"], "true");
    assert_eq!(post(&r, body).1["success"], "true");
    assert_eq!(sink.calls(), 2);
    assert_eq!(sink.count(), 1);
}

#[test]
fn a_sink_error_is_a_failure_answer_so_cainiao_sends_again() {
    let sink = Arc::new(MemSink {
        fail: true,
        ..MemSink::default()
    });
    let r = start(sink.clone());
    let (_, a) = post(&r, form(&notice("P1"), SECRET, "CONSIGN_ORDER_NOTIFY"));
    assert_eq!(a["success"], "false");
    assert_eq!(a["errorCode"], "S07");
    // The sink's own words (which could be anything) are not passed on.
    assert!(!a["errorMsg"].as_str().unwrap().contains("disk"));
}

#[test]
fn an_unknown_msg_type_is_refused_with_its_code() {
    let sink = Arc::new(MemSink::default());
    let r = start(sink.clone());
    let (_, a) = post(&r, form(&notice("P1"), SECRET, "WMS_STOCK_NOTIFY"));
    assert_eq!(a["success"], "false");
    assert_eq!(a["errorCode"], "S04");
    assert!(a["errorMsg"]
        .as_str()
        .unwrap()
        .contains("CONSIGN_ORDER_NOTIFY"));
    assert_eq!(sink.calls(), 0);
}

#[test]
fn a_body_over_1_mib_is_refused_unread_and_one_of_exactly_1_mib_is_taken() {
    let sink = Arc::new(MemSink::default());
    let r = start(sink.clone());
    // Only the head is sent: the answer comes without the body being waited for.
    let head = format!(
        "POST /cainiao/callback HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY + 1
    );
    let (code, text) = raw(&r, head.as_bytes());
    assert_eq!(code, 413, "{text}");
    assert!(text.contains("\"S05\""), "{text}");
    // A length no machine could hold is refused the same way, and does not hurt.
    let huge = "POST /cainiao/callback HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n";
    assert_eq!(raw(&r, huge.as_bytes()).0, 413);

    // A notice of about 1 MiB, topped up to exactly MAX_BODY by a field nobody reads.
    let li = notice("P1").replacen(
        '}',
        &format!(r#","pad":"{}"}}"#, "x".repeat(MAX_BODY - 400)),
        1,
    );
    let mut body = form(&li, SECRET, "CONSIGN_ORDER_NOTIFY");
    body.push_str("&extra=");
    body.push_str(&"y".repeat(MAX_BODY - body.len()));
    assert_eq!(body.len(), MAX_BODY);
    assert_eq!(post(&r, body).1["success"], "true");
    assert_eq!(sink.count(), 1);
}

#[test]
fn malformed_requests_are_answered_and_the_receiver_goes_on() {
    let sink = Arc::new(MemSink::default());
    let r = start(sink.clone());
    let cases: &[(&[u8], u16)] = &[
        (b"GARBAGE\x00\x01 NOT HTTP\r\n\r\n", 400),
        (b"POST /cainiao/callback HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400),
        (
            b"POST /cainiao/callback HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            400,
        ),
        (b"POST /cainiao/callback HTTP/1.1\r\nHost: x\r\n\r\n", 411),
        (
            b"POST /cainiao/callback HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            411,
        ),
        // Shorter than declared, then the client stops sending.
        (b"POST /cainiao/callback HTTP/1.1\r\nContent-Length: 50\r\n\r\nabc", 0),
        (b"POST /cainiao/callback HTTP/1.1\r\nContent-Length: 9\r\n\r\nnot=aform", 200),
        (b"GET /cainiao/callback HTTP/1.1\r\n\r\n", 405),
        (b"POST /other HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 404),
        (b"POST /cainiao/callback/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 404),
    ];
    for (bytes, want) in cases {
        if *want == 0 {
            // The client half-closes: the receiver must give up on it, not hang or crash.
            let mut c = TcpStream::connect(r.addr()).unwrap();
            c.write_all(bytes).unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            let mut out = String::new();
            c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let _ = c.read_to_string(&mut out);
            assert!(out.contains("400"), "{out}");
            continue;
        }
        let (code, text) = raw(&r, bytes);
        assert_eq!(code, *want, "{}: {text}", String::from_utf8_lossy(bytes));
        if *want == 200 {
            assert!(text.contains("\"S01\""), "{text}");
        }
    }
    let many_headers: String = (0..40).map(|i| format!("X-H{i}: v\r\n")).collect();
    let req = format!("POST /cainiao/callback HTTP/1.1\r\n{many_headers}\r\n");
    assert_eq!(raw(&r, req.as_bytes()).0, 431);
    let long = format!(
        "POST /cainiao/callback HTTP/1.1\r\nX-Long: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert_eq!(raw(&r, long.as_bytes()).0, 431);
    assert_eq!(sink.calls(), 0);
    // Still serving.
    assert_eq!(
        post(&r, form(&notice("P1"), SECRET, "CONSIGN_ORDER_NOTIFY")).1["success"],
        "true"
    );
}

#[test]
fn concurrent_posts_are_all_recorded_while_a_slow_client_holds_a_connection() {
    let sink = Arc::new(MemSink::default());
    let r = Arc::new(start(sink.clone()));
    // A client that connects and sends nothing must not hold up the others.
    let idle = TcpStream::connect(r.addr()).unwrap();
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let r = r.clone();
            std::thread::spawn(move || {
                let body = form(&notice(&format!("P{i:03}")), SECRET, "CONSIGN_ORDER_NOTIFY");
                post(&r, body).1["success"].clone()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "true");
    }
    assert_eq!(sink.count(), 16);
    drop(idle);
}

#[test]
fn a_client_trickling_its_request_is_cut_off_at_the_deadline() {
    let sink = Arc::new(MemSink::default());
    let mut cfg = CallbackConfig::new(Secret::new(SECRET));
    cfg.request_deadline = Duration::from_secs(1);
    let r = Receiver::start("127.0.0.1:0".parse().unwrap(), cfg, sink.clone()).unwrap();
    let mut c = TcpStream::connect(r.addr()).unwrap();
    let mut w = c.try_clone().unwrap();
    // A header line every 200 ms: never silent long enough for a read timeout.
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(b"POST /cainiao/callback HTTP/1.1\r\n");
        for i in 0..50 {
            std::thread::sleep(Duration::from_millis(200));
            if w.write_all(format!("X-{i}: y\r\n").as_bytes()).is_err() {
                break;
            }
        }
    });
    c.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    drop(c);
    writer.join().unwrap();
    assert_eq!(sink.calls(), 0);
}
