//! Sending to a local Cainiao gateway on loopback: clean batches, faults retried, business
//! errors not retried, each order created once, secrets never shown.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use bondmap::gateway::request::Envelope;
use bondmap::gateway::sim::{spawn, SimHandle, SimOptions};
use bondmap::gateway::{Client, GatewayConfig, Outcome, PreparedOrder};
use common::*;
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "TOP-SECRET-k3y-9f2";

fn config(sim: &SimHandle) -> GatewayConfig {
    let mut c = gw_config(&sim.url(), SECRET);
    c.read_timeout = Duration::from_millis(300);
    c
}

/// The accepted examples, mapped for the Hangzhou warehouse.
fn orders() -> Vec<PreparedOrder> {
    // Only the app key (`CP_TEST`, the provider) is read of it here.
    let cfg = gw_config("http://127.0.0.1:9", SECRET);
    let (prog, _) = load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        &Options::default(),
    )
    .unwrap();
    examples()
        .iter()
        .filter_map(|p| {
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            let w = bondmap::run::request(&prog, &doc).ok()?;
            let code = w.order_code.clone().unwrap();
            Some(PreparedOrder {
                order_id: code.clone(),
                external_order_code: code,
                request: Envelope::of(&prog.settings, &cfg).request(w.text),
            })
        })
        .collect()
}

fn sim(opts: SimOptions) -> SimHandle {
    spawn(
        0,
        SimOptions {
            secret: SECRET.into(),
            ..opts
        },
    )
    .unwrap()
}

fn run_batch(client: &Client, orders: Vec<PreparedOrder>) -> HashMap<String, (Outcome, u32)> {
    let mut got = HashMap::new();
    client.send_batch(orders, 3, |r| {
        got.insert(r.order_id.clone(), (r.outcome.clone(), r.attempts));
    });
    got
}

#[test]
fn a_clean_batch_is_accepted_once_each() {
    let s = sim(SimOptions::default());
    let client = Client::new(config(&s)).unwrap();
    let orders = orders();
    let n = orders.len();
    let got = run_batch(&client, orders);
    assert_eq!(got.len(), n);
    assert!(
        got.values().all(|(o, a)| matches!(
            o,
            Outcome::Accepted {
                order_code: Some(_),
                duplicate: false
            }
        ) && *a == 1),
        "{got:?}"
    );
    assert!(s.created().values().all(|c| *c == 1));
    assert_eq!(s.created().len(), n);
}

#[test]
fn server_errors_are_retried_then_accepted() {
    let s = sim(SimOptions {
        fail_first: 2,
        ..SimOptions::default()
    });
    let client = Client::new(config(&s)).unwrap();
    let one: Vec<_> = orders().into_iter().take(1).collect();
    let got = run_batch(&client, one);
    let (o, attempts) = got.values().next().unwrap();
    assert!(matches!(o, Outcome::Accepted { .. }), "{o:?}");
    assert_eq!(*attempts, 3);
    assert_eq!(s.created().values().sum::<u32>(), 1);
}

#[test]
fn a_slow_answer_is_retried_and_the_order_created_once() {
    // The first answer comes after the client gave up; the sim created the order anyway,
    // so the retry meets a duplicate, which counts as accepted.
    let s = sim(SimOptions {
        delay_first: 1,
        delay: Duration::from_millis(800),
        ..SimOptions::default()
    });
    let client = Client::new(config(&s)).unwrap();
    let one: Vec<_> = orders().into_iter().take(1).collect();
    let got = run_batch(&client, one);
    let (o, attempts) = got.values().next().unwrap();
    assert!(matches!(o, Outcome::Accepted { .. }), "{o:?}");
    assert!(*attempts >= 2);
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(s.created().values().copied().collect::<Vec<_>>(), vec![1]);
}

#[test]
fn an_unparseable_answer_is_retried() {
    let s = sim(SimOptions {
        garbage_first: 1,
        ..SimOptions::default()
    });
    let client = Client::new(config(&s)).unwrap();
    let got = run_batch(&client, orders().into_iter().take(1).collect());
    let (o, attempts) = got.values().next().unwrap();
    assert!(matches!(o, Outcome::Accepted { .. }));
    assert_eq!(*attempts, 2);
}

#[test]
fn a_business_error_is_reported_without_retry() {
    let first = orders().into_iter().next().unwrap();
    let s = sim(SimOptions {
        reject: [first.external_order_code.clone()].into(),
        ..SimOptions::default()
    });
    let client = Client::new(config(&s)).unwrap();
    let got = run_batch(&client, vec![first]);
    let (o, attempts) = got.values().next().unwrap();
    assert_eq!(*attempts, 1);
    match o {
        Outcome::Rejected {
            error_code,
            error_msg,
        } => {
            assert_eq!(error_code, "B0100");
            assert!(error_msg.contains("备案"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.requests(), 1);
}

#[test]
fn repeats_are_not_created_twice() {
    let s = sim(SimOptions::default());
    let client = Client::new(config(&s)).unwrap();
    let first = orders().into_iter().next().unwrap();
    // Twice in one batch: the second is not sent.
    let mut results = Vec::new();
    let summary = client.send_batch(vec![first.clone(), first.clone()], 2, |r| {
        results.push(r.outcome.clone())
    });
    assert_eq!(summary.accepted, 1);
    assert_eq!(summary.skipped_duplicate, 1);
    // Again in a later batch: the gateway says it exists, which counts as accepted.
    let got = run_batch(&client, vec![first]);
    assert!(matches!(
        got.values().next().unwrap().0,
        Outcome::Accepted {
            duplicate: true,
            ..
        }
    ));
    assert_eq!(s.created().values().sum::<u32>(), 1);
}

#[test]
fn a_wrong_secret_is_a_business_error() {
    let s = spawn(
        0,
        SimOptions {
            secret: "other".into(),
            ..SimOptions::default()
        },
    )
    .unwrap();
    let client = Client::new(config(&s)).unwrap();
    let got = run_batch(&client, orders().into_iter().take(1).collect());
    assert!(
        matches!(&got.values().next().unwrap().0, Outcome::Rejected { error_code, .. } if error_code == "S02")
    );
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(args)
        .current_dir(root())
        .env_remove("CAINIAO_APP_KEY")
        .env_remove("CAINIAO_SECRET_KEY")
        .env_remove("CAINIAO_GATEWAY_URL");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn send_without_a_secret_is_refused_before_any_network_use() {
    let s = sim(SimOptions::default());
    let url = s.url();
    let out = cli(
        &[
            "send",
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--input",
            "examples/orders/",
        ],
        &[("CAINIAO_APP_KEY", "CP"), ("CAINIAO_GATEWAY_URL", &url)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CAINIAO_SECRET_KEY"));
    assert_eq!(s.requests(), 0);
}

#[test]
fn send_reports_every_order_and_never_shows_the_secret() {
    let s = sim(SimOptions {
        fail_first: 1,
        ..SimOptions::default()
    });
    let url = s.url();
    let env = [
        ("CAINIAO_APP_KEY", "CP_TEST"),
        ("CAINIAO_SECRET_KEY", SECRET),
        ("CAINIAO_GATEWAY_URL", url.as_str()),
    ];
    let out = cli(
        &[
            "send",
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--input",
            "examples/orders/",
            "--concurrency",
            "2",
        ],
        &env,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), examples().len());
    let accepted = lines.iter().filter(|l| l["outcome"] == "accepted").count();
    let by_mapping = lines
        .iter()
        .filter(|l| l["outcome"] == "rejected_by_mapping")
        .count();
    assert_eq!(by_mapping, 2);
    assert_eq!(accepted, examples().len() - 2);
    assert!(stderr.contains(&format!("{accepted} accepted")), "{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    assert!(
        !stdout.contains("CP_TEST") && !stderr.contains("CP_TEST"),
        "the app key is shown"
    );
    // `request` prints the signed fields, not the secret.
    let req = cli(
        &[
            "request",
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--input",
            "examples/orders/01_single_sku_alipay.json",
        ],
        &env,
    );
    assert_eq!(req.status.code(), Some(0));
    let text = String::from_utf8_lossy(&req.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["msg_type"], "CN_WMS_DELIVERYORDER_CREATE");
    assert_eq!(
        v["data_digest"],
        bondmap::gateway::data_digest(v["logistics_interface"].as_str().unwrap(), SECRET)
    );
    assert!(!text.contains(SECRET));
}

#[test]
fn the_client_is_shared_by_threads_and_a_throttled_order_is_sent_after_retry_after() {
    fn is_sync<T: Sync + Send>(_: &T) {}
    let s = sim(SimOptions {
        throttle_first: 1,
        ..SimOptions::default()
    });
    let client = Client::new(config(&s)).unwrap();
    is_sync(&client);
    assert_eq!(client.config().concurrency, 8);
    let got = run_batch(&client, orders().into_iter().take(1).collect());
    let (o, attempts) = got.values().next().unwrap();
    assert!(matches!(o, Outcome::Accepted { .. }), "{o:?}");
    assert_eq!(*attempts, 2);
    assert_eq!(s.requests(), 2);
    // The retry came a second or more after the first request.
    assert_eq!(s.max_calls_in_any_second(), 1);
}

#[test]
fn a_repeated_order_is_counted_as_a_duplicate_by_the_simulator() {
    let s = sim(SimOptions::default());
    let client = Client::new(config(&s)).unwrap();
    let first: Vec<_> = orders().into_iter().take(1).collect();
    run_batch(&client, first.clone());
    run_batch(&client, first);
    assert_eq!(s.duplicates(), 1);
    assert_eq!(s.created().values().sum::<u32>(), 1);
}

#[test]
fn the_simulator_answers_a_batch_at_once_with_its_latency() {
    let s = sim(SimOptions {
        latency: Duration::from_millis(100),
        ..SimOptions::default()
    });
    let client = Client::new(config(&s)).unwrap();
    let orders = orders();
    let n = orders.len();
    let mut accepted = 0;
    client.send_batch(orders, 8, |r| {
        accepted += u32::from(matches!(r.outcome, Outcome::Accepted { .. }))
    });
    assert_eq!(accepted as usize, n);
    let most = s.most_in_flight();
    assert!((4..=8).contains(&most), "{most} in flight");
}
