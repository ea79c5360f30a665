//! The order pipeline against a local RED API and a local Cainiao gateway on loopback:
//! big rounds, new orders, faults on both sides, a mapping error, a process killed with
//! SIGKILL at several points and started again.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::gateway::{Client, GatewayConfig};
use bondmap::red::config::RedConfig;
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::red::RedClient;
use bondmap::store::{Stage, Store};
use bondmap::sync::Pipeline;
use common::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const APP: &str = "test-app";
const RED_SECRET: &str = "red-SECRET-77";
const TOKEN: &str = "tok-SECRET-88";
const GW_SECRET: &str = "gw-SECRET-99";
const SIMS: Sims = Sims {
    app: APP,
    red_secret: RED_SECRET,
    token: TOKEN,
    gw_secret: GW_SECRET,
    timeout: Duration::from_millis(500),
};

/// The Hangzhou warehouse mapping, compiled.
fn hz_program() -> bondmap::program::Program {
    load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        &Options::default(),
    )
    .unwrap()
    .0
}

/// `n` valid orders made from the accepted examples, updated `ago` seconds back and on.
fn orders(n: usize, prefix: &str, now: i64, ago: i64) -> Vec<Value> {
    let templates: Vec<Value> = examples()
        .iter()
        .filter(|p| !p.to_string_lossy().contains("reject"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    (0..n)
        .map(|i| {
            let mut d = templates[i % templates.len()].clone();
            let id = format!("{prefix}{i:06}");
            d["detail"]["orderId"] = id.clone().into();
            d["detail"]["updateTime"] = ((now - ago + i as i64 % 600) * 1000).into();
            d["receiver"]["receiverInfos"][0]["orderId"] = id.into();
            d
        })
        .collect()
}

/// A pipeline's parts: clients of both simulators, the Hangzhou mapping, a fresh store.
struct Rig {
    rc: RedClient,
    gc: Client,
    prog: bondmap::program::Program,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new(red: &RedSimHandle, gw: &SimHandle) -> Rig {
        let (rc, gc) = SIMS.clients(red, gw);
        let dir = tempfile::tempdir().unwrap();
        Rig {
            rc,
            gc,
            prog: hz_program(),
            store: Store::open(&dir.path().join("s.db")).unwrap(),
            _dir: dir,
        }
    }

    fn pipeline(&mut self) -> Pipeline<'_> {
        Pipeline::new(&self.rc, &self.gc, &self.prog, &mut self.store)
    }
}

#[test]
fn a_round_of_250_orders_sends_each_once() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    for o in orders(250, "P1", now, 1200) {
        red.add_order(o);
    }
    let mut rig = Rig::new(&red, &gw);
    let mut p = rig.pipeline();
    let r = p.round(None, now, &mut |_| {}).unwrap();
    assert_eq!(r.count(Stage::Accepted), 250);
    assert!(r.settled());
    assert_eq!(gw.created().len(), 250);
    assert_eq!(gw.requests(), 250);
    // 3 pages, walked last to first, page 1 read twice.
    assert!(
        red.calls("order.getOrderList") >= 4,
        "{}",
        red.calls("order.getOrderList")
    );
    // Orders appearing after the round are picked up by the next one; the others are not sent again.
    for o in orders(5, "P2", now + 60, 30) {
        red.add_order(o);
    }
    let mut lines = Vec::new();
    let r2 = p
        .round(None, now + 60, &mut |l| lines.push(l.clone()))
        .unwrap();
    assert!(r2.settled());
    assert_eq!(r2.lines, lines.len());
    assert_eq!(
        lines
            .iter()
            .filter(|o| o.order_id.starts_with("P2"))
            .filter(|o| o.stage == Stage::Accepted)
            .count(),
        5
    );
    assert_eq!(gw.requests(), 255);
    assert_eq!(gw.duplicates(), 0);
}

#[test]
fn faults_on_both_sides_are_survived_and_a_bad_order_does_not_stop_the_others() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions {
        fail_first: 2,
        rate_limit_first: 2,
        ..RedSimOptions::default()
    });
    let gw = SIMS.gw_sim(SimOptions {
        fail_first: 3,
        garbage_first: 4,
        ..SimOptions::default()
    });
    for o in orders(20, "P3", now, 1200) {
        red.add_order(o);
    }
    // The two bundled orders the mapping must reject.
    for p in examples()
        .iter()
        .filter(|p| p.to_string_lossy().contains("reject"))
    {
        let mut d: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        d["detail"]["updateTime"] = ((now - 100) * 1000).into();
        red.add_order(d);
    }
    let mut rig = Rig::new(&red, &gw);
    let mut p = rig.pipeline();
    // One at a time, so that the gateway's first faults all land on one order.
    p.options.concurrency = 1;
    p.options.fetch_parallel = 1;
    let r = p.round(None, now, &mut |_| {}).unwrap();
    // The first order met 3 server errors and a garbage answer: 4 attempts, the limit. A
    // fault that may pass is no person's problem: it is left `sending`, its error kept.
    assert_eq!(r.count(Stage::Sending), 1);
    assert_eq!(r.count(Stage::Failed), 0);
    assert_eq!(r.count(Stage::Accepted), 19);
    assert_eq!(r.count(Stage::Rejected), 2);
    assert!(!r.settled());
    let left = p.store.with_stage(Stage::Sending).unwrap();
    assert!(
        left[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("sent again next round")),
        "{left:?}"
    );
    assert!(left[0].needs_person.is_none());
    // The next round sends it again (fetched anew from RED), no `retry` needed: accepted.
    let r = p.round(None, now + 1, &mut |_| {}).unwrap();
    assert_eq!(r.count(Stage::Accepted), 1, "{r:?}");
    let again = p.store.get(&left[0].order_id).unwrap().unwrap();
    assert_eq!(again.stage, Stage::Accepted);
    assert_eq!(gw.created().len(), 20);
    let rejected = rig.store.with_stage(Stage::Rejected).unwrap();
    assert!(rejected.iter().all(|o| o
        .error
        .as_deref()
        .is_some_and(|e| e.contains("order P78811223300000"))));
    // Each rejection keeps its run-time code: the stale address by its rule, the good
    // without a barcode by its missing lookup key.
    let mut codes: Vec<_> = rejected
        .iter()
        .map(|o| o.error_code.as_deref().unwrap_or("none"))
        .collect();
    codes.sort();
    assert_eq!(codes, ["bondmap::run::missing", "bondmap::run::require"]);
    // An order a fault held up is no rejection: it has no code.
    assert_eq!(again.error_code, None);
}

#[test]
fn an_order_changed_after_acceptance_is_flagged_not_resent() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    for o in orders(3, "P4", now, 1200) {
        red.add_order(o);
    }
    let mut rig = Rig::new(&red, &gw);
    let mut p = rig.pipeline();
    p.round(None, now, &mut |_| {}).unwrap();
    red.update_order("P4000001", |o| {
        o["receiver"]["receiverInfos"][0]["receiverAddress"] = "新地址 1 号".into();
        o["detail"]["updateTime"] = ((now + 30) * 1000).into();
    });
    p.round(None, now + 60, &mut |_| {}).unwrap();
    assert_eq!(gw.requests(), 3);
    let changed = rig.store.changed_after_accept().unwrap();
    assert_eq!(
        changed
            .iter()
            .map(|r| r.order_id.as_str())
            .collect::<Vec<_>>(),
        vec!["P4000001"]
    );
}

fn sync_child(red: &RedSimHandle, gw: &SimHandle, db: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args([
        "sync",
        "--once",
        "--mapping",
        "mappings/warehouses/hangzhou_xiasha.map",
        "--state",
        db.to_str().unwrap(),
    ])
    .current_dir(root())
    .env("RUST_LOG", "warn")
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    for (k, v) in SIMS.env_for(red, gw) {
        c.env(k, v);
    }
    c
}

#[test]
fn killed_at_any_point_and_started_again_every_order_is_accepted_once() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions {
        delay: Duration::from_millis(1),
        ..RedSimOptions::default()
    });
    // A slow gateway, so that kills land in the middle of sends, many in flight.
    let gw = SIMS.gw_sim(SimOptions {
        delay_first: u32::MAX,
        delay: Duration::from_millis(15),
        ..SimOptions::default()
    });
    let n = 300;
    for o in orders(n, "P5", now, 1200) {
        red.add_order(o);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let mut kills = 0;
    let mut most_sending = 0;
    let sending = || {
        Store::open_read_only(&db)
            .ok()
            .and_then(|s| s.with_stage(Stage::Sending).ok())
            .map_or(0, |r| r.len())
    };
    // One kill early (starting up, listing), the others at set times after the first
    // orders were recorded `sending`: in the middle of many sends.
    for (early, wait_ms) in [
        (true, 30u64),
        (false, 0),
        (false, 40),
        (false, 120),
        (false, 250),
    ] {
        let mut child = sync_child(&red, &gw, &db).spawn().unwrap();
        if !early {
            for _ in 0..400 {
                if sending() > 0 || child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        std::thread::sleep(Duration::from_millis(wait_ms));
        if child.try_wait().unwrap().is_none() {
            most_sending = most_sending.max(sending());
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            kills += 1;
        }
        child.wait().unwrap();
    }
    // Some kill landed while many orders were in flight (recorded `sending`).
    assert!(
        most_sending > 1,
        "no kill caught orders in flight ({most_sending})"
    );
    let out = sync_child(&red, &gw, &db).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = gw.created();
    assert_eq!(created.len(), n, "every order created at Cainiao");
    assert!(created.values().all(|c| *c == 1));
    // Only a send in flight when a kill landed may be repeated (answered as a duplicate):
    // at most one per gateway worker per kill.
    let workers = bondmap::sync::FlowOptions::default().concurrency as u32;
    assert!(
        gw.duplicates() <= kills * workers,
        "{} duplicates for {kills} kills",
        gw.duplicates()
    );
    let store = Store::open(&db).unwrap();
    let counts: std::collections::HashMap<_, _> = store.counts().unwrap().into_iter().collect();
    assert_eq!(counts[&Stage::Accepted], n as u64);
    // status shows it, as JSON too.
    let st = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args([
            "status",
            "--format",
            "json",
            "--state",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["counts"]["accepted"], n as u64);
    assert!(v["checkpoint"].is_string());
}

#[test]
fn no_secret_or_personal_data_in_logs_or_the_database() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    for o in orders(5, "P6", now, 1200) {
        red.add_order(o);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let mut c = sync_child(&red, &gw, &db);
    c.env("RUST_LOG", "info");
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("P6000000"), "{logs}");
    for secret in [RED_SECRET, TOKEN, GW_SECRET, APP] {
        assert!(!logs.contains(secret));
    }
    let raw = std::fs::read(&db).unwrap();
    let text = String::from_utf8_lossy(&raw);
    for personal in ["张三", "13800138001", "330106199003071234", "古翠路"] {
        assert!(
            !logs.contains(personal) && !text.contains(personal),
            "{personal} leaked"
        );
    }
}

#[test]
fn a_wrong_red_secret_is_an_api_error_as_red_gave_it() {
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    let (mut rc, _) = SIMS.clients(&red, &gw);
    rc.config_mut().app_secret = bondmap::gateway::Secret::new("wrong");
    match rc.order_detail("P1") {
        Err(bondmap::red::RedError::Api { code, message, .. }) => {
            assert_eq!(code, "-100");
            assert!(message.contains("sign"));
        }
        other => panic!("{other:?}"),
    }
    // Not retried: one call.
    assert_eq!(red.calls("order.getOrderDetail"), 1);
}

#[test]
fn a_slow_red_answer_is_retried() {
    let red = SIMS.red_sim(RedSimOptions {
        slow_first: 1,
        slow: Duration::from_millis(1500),
        ..RedSimOptions::default()
    });
    let gw = SIMS.gw_sim(SimOptions::default());
    let now = chrono::Utc::now().timestamp();
    for o in orders(1, "P7", now, 100) {
        red.add_order(o);
    }
    let (rc, _) = SIMS.clients(&red, &gw);
    // The first call outlasts the client's 500 ms timeout; the retry is answered at once.
    let detail = rc.order_detail("P7000000").unwrap();
    assert_eq!(detail["orderId"], "P7000000");
    assert_eq!(red.calls("order.getOrderDetail"), 2);
}

/// Waits (bounded) until `child` holds the lock of `db`, i.e. its pid is in the lock file.
fn wait_for_lock(db: &std::path::Path, child: &std::process::Child) {
    let lock = bondmap::store::lock::lock_path(db);
    for _ in 0..200 {
        if std::fs::read_to_string(&lock).is_ok_and(|s| s.trim() == child.id().to_string()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the first sync never took the lock");
}

#[test]
fn a_second_sync_or_retry_on_a_state_in_use_exits_2_naming_the_holder_and_status_still_works() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    // Slow enough that the first sync is still sending when the others start.
    let gw = SIMS.gw_sim(SimOptions {
        delay_first: u32::MAX,
        delay: Duration::from_millis(60),
        ..SimOptions::default()
    });
    let n = 30;
    for o in orders(n, "P9", now, 1200) {
        red.add_order(o);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let mut first = sync_child(&red, &gw, &db).spawn().unwrap();
    wait_for_lock(&db, &first);
    let pid = first.id().to_string();
    let second = sync_child(&red, &gw, &db).output().unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(err.contains(&pid) && err.contains("in use"), "{err}");
    let retry = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args([
            "retry",
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--state",
            db.to_str().unwrap(),
            "P9000001",
        ])
        .current_dir(root())
        .envs(SIMS.env_for(&red, &gw))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&retry.stderr);
    assert_eq!(retry.status.code(), Some(2), "{err}");
    assert!(err.contains(&pid), "{err}");
    // status reads while the sync writes.
    let st = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(["status", "--state", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        st.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first sync ended too early for this test"
    );
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let created = gw.created();
    assert_eq!(created.len(), n);
    assert!(created.values().all(|c| *c == 1));
    assert_eq!(gw.duplicates(), 0);
    assert_eq!(gw.requests(), n as u32);
}

#[test]
fn the_lock_of_a_killed_sync_is_released() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions {
        delay_first: u32::MAX,
        delay: Duration::from_millis(60),
        ..SimOptions::default()
    });
    for o in orders(10, "PA", now, 1200) {
        red.add_order(o);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let mut first = sync_child(&red, &gw, &db).spawn().unwrap();
    wait_for_lock(&db, &first);
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let out = sync_child(&red, &gw, &db).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(gw.created().len(), 10);
}

/// Every personal value of the documents, for grepping outputs.
fn personal_values(docs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for d in docs {
        for r in d["receiver"]["receiverInfos"].as_array().unwrap() {
            for f in ["receiverName", "receiverPhone", "receiverAddress"] {
                out.push(r[f].as_str().unwrap().to_string());
            }
        }
        for r in d["declare"]["orderDeclareInfos"].as_array().unwrap() {
            for f in ["idName", "idNumber", "linkPhone"] {
                out.push(r[f].as_str().unwrap().to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn a_gateway_error_echoing_personal_values_reaches_neither_the_database_nor_any_output() {
    use crate::common::localhttp::{read_body, respond, Server};
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    let docs = orders(8, "PB", now, 1200);
    for o in &docs {
        red.add_order(o.clone());
    }
    // A gateway refusing every order with a message that quotes the receiver and buyer.
    let gw = Server::start(0, |mut conn| {
        let Ok(body) = read_body(&conn) else { return };
        let form: std::collections::HashMap<String, String> =
            form_urlencoded::parse(&body).into_owned().collect();
        let req: Value = serde_json::from_str(&form["logistics_interface"]).unwrap();
        let r = &req["receiverInfo"];
        let d = &req["customsDeclareInfo"];
        let msg = format!(
            "收件人 {} 电话 {} 地址 {} 与订购人 {} {} {} 不符",
            r["name"].as_str().unwrap_or(""),
            r["contactNo"].as_str().unwrap_or(""),
            r["address"].as_str().unwrap_or(""),
            d["buyerName"].as_str().unwrap_or(""),
            d["buyerIDNo"].as_str().unwrap_or(""),
            d["contactNo"].as_str().unwrap_or(""),
        );
        let answer = serde_json::json!({"success": "false", "errorCode": "B99", "errorMsg": msg});
        let _ = respond(&mut conn, 200, "application/json", &answer.to_string());
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let gw_url = format!("http://{}/gateway", gw.addr);
    let run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
        c.args(args).current_dir(root()).env("RUST_LOG", "info");
        for (k, v) in env_for_url(&red, &gw_url) {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let dbs = db.to_str().unwrap();
    let map = "mappings/warehouses/hangzhou_xiasha.map";
    let sync = run(&["sync", "--once", "--mapping", map, "--state", dbs]);
    assert_eq!(
        sync.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&sync.stderr)
    );
    let retry = run(&["retry", "--failed", "--mapping", map, "--state", dbs]);
    assert_eq!(retry.status.code(), Some(1));
    let status = run(&["status", "--state", dbs]);
    let status_json = run(&["status", "--format", "json", "--state", dbs]);
    let stdout = String::from_utf8_lossy(&sync.stdout);
    // The refusal itself is kept, masked.
    assert!(
        stdout.contains("B99") && stdout.contains("收件人"),
        "{stdout}"
    );
    let mut texts = vec![
        ("sync stdout", sync.stdout.clone()),
        ("sync stderr", sync.stderr.clone()),
        ("retry stdout", retry.stdout.clone()),
        ("retry stderr", retry.stderr.clone()),
        ("status", status.stdout.clone()),
        ("status json", status_json.stdout.clone()),
    ];
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let p = f.unwrap().path();
        texts.push(("database file", std::fs::read(&p).unwrap()));
    }
    let values = personal_values(&docs);
    assert!(values.len() >= 6);
    for (what, bytes) in &texts {
        let text = String::from_utf8_lossy(bytes);
        for v in &values {
            assert!(!text.contains(v.as_str()), "{v} in {what}: {text}");
        }
    }
}

fn env_for_url(red: &RedSimHandle, gw_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("RED_APP_ID", APP.into()),
        ("RED_APP_SECRET", RED_SECRET.into()),
        ("RED_ACCESS_TOKEN", TOKEN.into()),
        ("RED_API_URL", red.url()),
        // The RED rate limiter out of the way of these tests (one test sets its own).
        ("RED_MAX_REQUESTS_PER_SECOND", "10000".into()),
        ("CAINIAO_APP_KEY", "CP".into()),
        ("CAINIAO_SECRET_KEY", GW_SECRET.into()),
        ("CAINIAO_GATEWAY_URL", gw_url.to_string()),
    ]
}

fn bondmap(args: &[&str], red: &RedSimHandle, gw: &SimHandle) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .envs(SIMS.env_for(red, gw))
        .output()
        .unwrap()
}

#[test]
fn retry_with_an_unknown_id_among_others_retries_the_others_and_exits_1() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    for o in orders(4, "PC", now, 1200) {
        red.add_order(o);
    }
    // The first gateway refuses two orders; the second takes everything.
    let refusing = SIMS.gw_sim(SimOptions {
        reject: ["PC000001".to_string(), "PC000002".to_string()].into(),
        ..SimOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let dbs = db.to_str().unwrap();
    let map = "mappings/warehouses/hangzhou_xiasha.map";
    let out = bondmap(
        &["sync", "--once", "-m", map, "--state", dbs],
        &red,
        &refusing,
    );
    assert_eq!(out.status.code(), Some(1));
    let gw = SIMS.gw_sim(SimOptions::default());
    let out = bondmap(
        &[
            "retry",
            "-m",
            map,
            "--state",
            dbs,
            "PC000001",
            "NOSUCHORDER",
            "PC000002",
        ],
        &red,
        &gw,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("NOSUCHORDER") && err.contains("not in"),
        "{err}"
    );
    let created = gw.created();
    assert_eq!(created.len(), 2);
    assert!(created.contains_key("PC000001") && created.contains_key("PC000002"));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["stage"] == "accepted"));
}

#[test]
fn a_state_made_with_another_mapping_is_refused_unless_forced() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    for o in orders(3, "PD", now, 1200) {
        red.add_order(o);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let dbs = db.to_str().unwrap();
    let hz = "mappings/warehouses/hangzhou_xiasha.map";
    let nb = "mappings/warehouses/ningbo_meishan.map";
    let out = bondmap(&["sync", "--once", "-m", hz, "--state", dbs], &red, &gw);
    assert_eq!(out.status.code(), Some(0));
    // The same mapping again: fine.
    let out = bondmap(&["sync", "--once", "-m", hz, "--state", dbs], &red, &gw);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        vec!["sync", "--once", "-m", nb, "--state", dbs],
        vec!["retry", "-m", nb, "--state", dbs, "PD000001"],
        // A param set on the command line changes what the mapping writes too.
        vec![
            "sync",
            "--once",
            "-m",
            hz,
            "--param",
            "store_code=OTHER",
            "--state",
            dbs,
        ],
    ] {
        let out = bondmap(&args, &red, &gw);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("another mapping") && err.contains("--force"),
            "{err}"
        );
    }
    assert_eq!(gw.requests(), 3);
    let out = bondmap(
        &["sync", "--once", "--force", "-m", nb, "--state", dbs],
        &red,
        &gw,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Recorded: the new mapping runs without --force, the old one is now refused.
    let out = bondmap(&["sync", "--once", "-m", nb, "--state", dbs], &red, &gw);
    assert_eq!(out.status.code(), Some(0));
    let out = bondmap(&["sync", "--once", "-m", hz, "--state", dbs], &red, &gw);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_order_is_recorded_sending_before_the_gateway_sees_it_with_many_in_flight() {
    use crate::common::localhttp::{read_body, respond, Server};
    use std::sync::{Arc, Mutex};
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    for o in orders(200, "PE", now, 1200) {
        red.add_order(o);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // A gateway that looks in the state before it answers: the order must be `sending`.
    type Seen = Vec<(String, Option<Stage>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let (seen2, db2) = (seen.clone(), db.clone());
    let gw = Server::start(0, move |mut conn| {
        let Ok(body) = read_body(&conn) else { return };
        let form: std::collections::HashMap<String, String> =
            form_urlencoded::parse(&body).into_owned().collect();
        let req: Value = serde_json::from_str(&form["logistics_interface"]).unwrap();
        let code = req["externalOrderCode"].as_str().unwrap().to_string();
        let stage = Store::open_read_only(&db2)
            .ok()
            .and_then(|s| s.get(&code).ok().flatten())
            .map(|r| r.stage);
        seen2.lock().unwrap().push((code.clone(), stage));
        std::thread::sleep(Duration::from_millis(5));
        let answer = serde_json::json!({"success": "true", "orderCode": format!("LBX-{code}")});
        let _ = respond(&mut conn, 200, "application/json", &answer.to_string());
    })
    .unwrap();
    let env = env_for_url(&red, &format!("http://{}/gateway", gw.addr));
    let look = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let rc = RedClient::new(RedConfig::from_sources(look, None).unwrap()).unwrap();
    let gc = Client::new(GatewayConfig::from_sources(look, None).unwrap()).unwrap();
    let prog = hz_program();
    let mut store = Store::open(&db).unwrap();
    let mut p = Pipeline::new(&rc, &gc, &prog, &mut store);
    p.options.chunk = 32;
    let r = p.round(None, now, &mut |_| {}).unwrap();
    assert_eq!(r.count(Stage::Accepted), 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 200);
    let wrong: Vec<_> = seen
        .iter()
        .filter(|(_, s)| *s != Some(Stage::Sending))
        .collect();
    assert!(
        wrong.is_empty(),
        "sent before recorded `sending`: {wrong:?}"
    );
    let mut codes: Vec<&String> = seen.iter().map(|(c, _)| c).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 200, "each order sent once");
}

#[test]
fn a_round_batches_receivers_and_decrypts_across_orders_and_holds_the_red_rate() {
    let now = chrono::Utc::now().timestamp();
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    let n = 120;
    for o in orders(n, "PF", now, 1200) {
        red.add_order(o);
    }
    let env = {
        let mut e = SIMS.env_for(&red, &gw);
        e.retain(|(k, _)| *k != "RED_MAX_REQUESTS_PER_SECOND");
        e.push(("RED_MAX_REQUESTS_PER_SECOND", "40".into()));
        e
    };
    let look = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let rc = RedClient::new(RedConfig::from_sources(look, None).unwrap()).unwrap();
    let gc = Client::new(GatewayConfig::from_sources(look, None).unwrap()).unwrap();
    let prog = hz_program();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let mut p = Pipeline::new(&rc, &gc, &prog, &mut store);
    let r = p.round(None, now, &mut |_| {}).unwrap();
    // The simulator refuses a decrypt call of more than 100 values or a receiver call of
    // more than 100 queries: every order accepted means every batch was within bounds.
    assert_eq!(r.count(Stage::Accepted), n);
    assert_eq!(gw.created().len(), n);
    assert_eq!(red.calls("order.getOrderDetail"), n as u32);
    assert_eq!(red.calls("order.getOrderDeclareInfo"), n as u32);
    // Chunks of 16, 32, 64 and 8 orders: one receiver call each, decrypts in a few calls,
    // not one per order.
    assert!(
        red.calls("order.getOrderReceiverInfo") <= 4,
        "{}",
        red.calls("order.getOrderReceiverInfo")
    );
    assert!(
        red.calls("data.batchDecrypt") < (n as u32) / 10,
        "{}",
        red.calls("data.batchDecrypt")
    );
    assert!(
        red.max_calls_in_any_second() <= 40,
        "{}",
        red.max_calls_in_any_second()
    );
}
