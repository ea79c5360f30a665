//! Both HTTP clients against hostile servers on loopback: redirects, oversized bodies,
//! throttling, and addresses that are not URLs.

mod common;

use bondmap::gateway::{Client, GatewayConfig, GatewayRequest, Outcome};
use bondmap::red::config::RedConfig;
use bondmap::red::RedClient;
use common::localhttp::{self, Server};
use common::red_config;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "tok-SECRET-4711";

fn gw_config(url: &str) -> GatewayConfig {
    let mut c = common::gw_config(url, "s3cret-key");
    c.read_timeout = Duration::from_secs(5);
    c.max_attempts = 2;
    c
}

fn red_client(url: &str) -> RedClient {
    let mut c = red_config(url, TOKEN);
    c.timeout = Duration::from_secs(5);
    RedClient::new(c).unwrap()
}

fn request() -> GatewayRequest {
    GatewayRequest {
        logistic_provider_id: "CP_TEST".into(),
        msg_type: "CN_WMS_DELIVERYORDER_CREATE".into(),
        logistics_interface: r#"{"externalOrderCode":"P1","receiverInfo":{"name":"张三"}}"#.into(),
        to_code: None,
    }
}

/// A server that counts requests, remembers their bodies and answers success.
fn thief() -> (Server, Arc<AtomicU32>, Arc<Mutex<Vec<String>>>) {
    let (n, bodies) = (
        Arc::new(AtomicU32::new(0)),
        Arc::new(Mutex::new(Vec::new())),
    );
    let (n2, b2) = (n.clone(), bodies.clone());
    let s = Server::start(0, move |mut c| {
        n2.fetch_add(1, Ordering::SeqCst);
        let body = localhttp::read_body(&c).unwrap_or_default();
        b2.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&body).into_owned());
        let _ = localhttp::respond(
            &mut c,
            200,
            "application/json",
            r#"{"success":"true","orderCode":"STOLEN"}"#,
        );
    })
    .unwrap();
    (s, n, bodies)
}

/// A server answering every request with `status` and a `Location` to `target`.
fn redirector(status: u16, target: String) -> Server {
    Server::start(0, move |mut c| {
        let _ = localhttp::read_body(&c);
        let _ = localhttp::respond_with(
            &mut c,
            status,
            &[("Location", &target)],
            "text/plain",
            "moved",
        );
    })
    .unwrap()
}

#[test]
fn the_gateway_client_follows_no_redirect() {
    for status in [307, 302, 301, 308] {
        let (thief, hits, _) = thief();
        let target = format!("http://{}/steal?token=abc123&x=1", thief.addr);
        let r = redirector(status, target);
        let client = Client::new(gw_config(&format!("http://{}/gateway/link.do", r.addr))).unwrap();
        let (outcome, attempts) = client.send_one(&request());
        assert_eq!(hits.load(Ordering::SeqCst), 0, "HTTP {status} was followed");
        match outcome {
            Outcome::Failed { error } => {
                assert!(error.contains(&status.to_string()), "{error}");
                assert!(error.contains("127.0.0.1"), "{error}");
                assert!(
                    !error.contains("abc123") && !error.contains("steal"),
                    "{error}"
                );
            }
            other => panic!("HTTP {status}: {other:?}"),
        }
        assert_eq!(attempts, 2);
    }
}

#[test]
fn the_red_client_follows_no_redirect_and_keeps_its_token() {
    for status in [302, 307] {
        let (thief, hits, bodies) = thief();
        let r = redirector(status, format!("http://{}/x?y=z-query", thief.addr));
        let client = red_client(&format!("http://{}/ark", r.addr));
        let e = client
            .call("order.getOrderList", serde_json::json!({}))
            .unwrap_err();
        assert_eq!(hits.load(Ordering::SeqCst), 0, "HTTP {status} was followed");
        assert!(!bodies.lock().unwrap().iter().any(|b| b.contains(TOKEN)));
        let msg = e.to_string();
        assert!(
            msg.contains(&status.to_string()) && msg.contains("127.0.0.1"),
            "{msg}"
        );
        assert!(!msg.contains("z-query") && !msg.contains(TOKEN), "{msg}");
    }
}

/// A server that answers 200 with `total` bytes of JSON-ish text, declared or not,
/// and records the most bytes it managed to write on one connection.
fn flood(total: u64, declare_length: bool) -> (Server, Arc<AtomicU64>, Arc<AtomicU32>) {
    let (most, conns) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU32::new(0)));
    let (m2, c2) = (most.clone(), conns.clone());
    let s = Server::start(0, move |mut c: TcpStream| {
        c2.fetch_add(1, Ordering::SeqCst);
        let _ = localhttp::read_body(&c);
        let head = if declare_length {
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n")
        } else {
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                .to_string()
        };
        if c.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = vec![b' '; 1 << 20];
        let mut sent = 0u64;
        while sent < total {
            if c.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len() as u64;
            m2.fetch_max(sent, Ordering::SeqCst);
        }
    })
    .unwrap();
    (s, most, conns)
}

#[test]
fn an_oversized_gateway_answer_is_a_failed_attempt_read_no_further_than_the_cap() {
    for declared in [false, true] {
        let total = 64u64 << 20;
        let (s, most, conns) = flood(total, declared);
        let client = Client::new(gw_config(&format!("http://{}/g", s.addr))).unwrap();
        let (outcome, attempts) = client.send_one(&request());
        match &outcome {
            Outcome::Failed { error } => assert!(error.contains("1 MiB"), "{error}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(attempts, 2);
        assert_eq!(conns.load(Ordering::SeqCst), 2);
        // Socket buffers hold a few MiB; the body itself was never read to its end.
        let m = most.load(Ordering::SeqCst);
        assert!(m < total / 2, "the client read {m} bytes");
    }
}

#[test]
fn an_oversized_red_answer_is_a_failed_attempt_read_no_further_than_the_cap() {
    for declared in [false, true] {
        let total = 160u64 << 20;
        let (s, most, _) = flood(total, declared);
        let client = red_client(&format!("http://{}/ark", s.addr));
        let e = client
            .call("order.getOrderDetail", serde_json::json!({"orderId": "P1"}))
            .unwrap_err();
        assert!(e.to_string().contains("16 MiB"), "{e}");
        let m = most.load(Ordering::SeqCst);
        assert!(m < total / 2, "the client read {m} bytes");
    }
}

#[test]
fn gateway_429_is_throttling_retried_after_retry_after() {
    let times = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let t2 = times.clone();
    let s = Server::start(0, move |mut c| {
        let _ = localhttp::read_body(&c);
        let n = {
            let mut t = t2.lock().unwrap();
            t.push(Instant::now());
            t.len()
        };
        if n == 1 {
            let _ = localhttp::respond_with(
                &mut c,
                429,
                &[("Retry-After", "1")],
                "text/plain",
                "slow down",
            );
        } else {
            let _ = localhttp::respond(
                &mut c,
                200,
                "application/json",
                r#"{"success":"true","orderCode":"LBX1"}"#,
            );
        }
    })
    .unwrap();
    let client = Client::new(gw_config(&format!("http://{}/g", s.addr))).unwrap();
    let (outcome, attempts) = client.send_one(&request());
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    assert_eq!(attempts, 2);
    let t = times.lock().unwrap();
    // The retry waited for the server's Retry-After, not the 5 ms backoff.
    assert!(
        t[1] - t[0] >= Duration::from_millis(950),
        "{:?}",
        t[1] - t[0]
    );
}

#[test]
fn a_huge_retry_after_is_capped() {
    let n = Arc::new(AtomicU32::new(0));
    let n2 = n.clone();
    let s = Server::start(0, move |mut c| {
        let _ = localhttp::read_body(&c);
        n2.fetch_add(1, Ordering::SeqCst);
        let _ = localhttp::respond_with(&mut c, 429, &[("Retry-After", "86400")], "text/plain", "");
    })
    .unwrap();
    let mut cfg = gw_config(&format!("http://{}/g", s.addr));
    cfg.retry_after_cap = Duration::from_millis(50);
    let client = Client::new(cfg).unwrap();
    let (outcome, attempts) = client.send_one(&request());
    match outcome {
        Outcome::Failed { error } => assert!(error.contains("429"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!((attempts, n.load(Ordering::SeqCst)), (2, 2));
}

#[test]
fn an_address_that_is_not_an_http_url_is_refused_when_the_config_loads() {
    for bad in [
        "not a url",
        "ftp://127.0.0.1/x",
        "127.0.0.1:8080/gateway",
        "http://",
    ] {
        let e = GatewayConfig::from_sources(
            |k| match k {
                "CAINIAO_APP_KEY" => Some("K".into()),
                "CAINIAO_SECRET_KEY" => Some("S-secret-key".into()),
                "CAINIAO_GATEWAY_URL" => Some(bad.into()),
                _ => None,
            },
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("gateway_url") && e.contains("CAINIAO_GATEWAY_URL"),
            "{e}"
        );
        let e = RedConfig::from_sources(
            |k| match k {
                "RED_API_URL" => Some(bad.into()),
                _ => Some("x".into()),
            },
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("api_url") && e.contains("RED_API_URL"), "{e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(
        &f,
        "[cainiao]\napp_key = \"K\"\nsecret_key = \"S-secret-key\"\ngateway_url = \"link.cainiao.com\"\n",
    )
    .unwrap();
    let e = GatewayConfig::from_sources(|_| None, Some(&f))
        .unwrap_err()
        .to_string();
    assert!(e.contains("gateway_url"), "{e}");
    for good in [
        "http://127.0.0.1:9/g",
        "https://link.cainiao.com/gateway/link.do",
    ] {
        let c = GatewayConfig::from_sources(
            |k| match k {
                "CAINIAO_GATEWAY_URL" => Some(good.into()),
                _ => Some("x-secret-key".into()),
            },
            None,
        );
        assert!(c.is_ok(), "{good}");
    }
}

#[test]
fn send_and_sync_refuse_a_bad_address_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"));
        c.args(args).current_dir(root);
        for k in [
            "CAINIAO_APP_KEY",
            "CAINIAO_SECRET_KEY",
            "CAINIAO_GATEWAY_URL",
            "RED_API_URL",
        ] {
            c.env_remove(k);
        }
        c.envs(env.iter().copied());
        c.output().unwrap()
    };
    let gw = [
        ("CAINIAO_APP_KEY", "CP"),
        ("CAINIAO_SECRET_KEY", "S-secret-key"),
        ("CAINIAO_GATEWAY_URL", "link.cainiao.com/gateway"),
    ];
    let out = run(
        &[
            "send",
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--input",
            "examples/orders/01_single_sku_alipay.json",
        ],
        &gw,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("gateway_url"), "{err}");
    assert!(out.stdout.is_empty());
    let state = dir.path().join("s.db");
    let out = run(
        &[
            "sync",
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--state",
            state.to_str().unwrap(),
        ],
        &[
            ("CAINIAO_APP_KEY", "CP"),
            ("CAINIAO_SECRET_KEY", "S-secret-key"),
            ("CAINIAO_GATEWAY_URL", "http://127.0.0.1:9/g"),
            ("RED_APP_ID", "a"),
            ("RED_APP_SECRET", "b"),
            ("RED_ACCESS_TOKEN", "c"),
            ("RED_API_URL", "ark.xiaohongshu.com"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("api_url") && err.contains("RED_API_URL"),
        "{err}"
    );
}
