//! What an operator sees of a running `sync --interval --listen` (issue 26 §5): `/healthz`
//! going 503 with the reason when RED goes away or the state cannot be written, and 200
//! again when they are back; `/metrics` agreeing with `status --format json`; the log as
//! JSON lines, a broken reload's diagnostics included; text logs with ISO times.

mod common;

use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SIMS: Sims = Sims {
    app: "ops-app",
    red_secret: "red-SECRET-61",
    token: "tok-SECRET-62",
    gw_secret: "gw-SECRET-63",
    timeout: Duration::from_millis(800),
};

const WAREHOUSE: &str = "mappings/warehouses/hangzhou_xiasha.map";

/// A valid order (from the accepted examples) with its id, updated a minute ago.
fn order(i: usize, id: &str) -> Value {
    valid_order(i, id, chrono::Utc::now().timestamp() - 60)
}

/// A shop on loopback: its own mappings, both simulators (the warehouse ships each order
/// and posts its notice back), and `sync --interval 1 --listen` with its stderr kept.
struct Shop {
    dir: tempfile::TempDir,
    red: RedSimHandle,
    red_port: u16,
    gw: SimHandle,
    port: u16,
    child: Child,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Shop {
    fn start(red: RedSimOptions, extra: &[&str]) -> Shop {
        Shop::start_seeded(red, extra, &|_| {})
    }

    /// [`Shop::start`] with the state file made by `seed` before `sync` starts.
    fn start_seeded(red: RedSimOptions, extra: &[&str], seed: &dyn Fn(&Path)) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&root().join("mappings"), &dir.path().join("mappings"));
        seed(&dir.path().join("s.db"));
        let port = free_port();
        let red = SIMS.red_sim(red);
        let red_port = port_of(&red.url());
        let gw = SIMS.gw_sim(SimOptions {
            callback_url: Some(format!("http://127.0.0.1:{port}/cainiao/callback")),
            ship_after: Duration::from_millis(50),
            ..SimOptions::default()
        });
        let m = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
        let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
        c.args(["sync", "--interval", "1", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--mapping", &m(WAREHOUSE)])
            .args(["--cancel-mapping", &m("mappings/cainiao/cancel.map")])
            .args(["--deliver-mapping", &m("mappings/red/order_deliver.map")])
            .args(["--state", &m("s.db")])
            .args(extra)
            .current_dir(root())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in SIMS.env_for(&red, &gw) {
            c.env(k, v);
        }
        // A write past RLIMIT_FSIZE then fails with EFBIG instead of killing the process
        // (the disk-full case below).
        unsafe {
            c.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
        let mut child = c.spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (mut err, sink) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Shop {
            dir,
            red,
            red_port,
            gw,
            port,
            child,
            log,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    fn get(&self, path: &str) -> (u16, String) {
        let r = reqwest::blocking::Client::new()
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .timeout(Duration::from_secs(10))
            .send();
        match r {
            Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    }

    /// Asks `/healthz` until `ok` holds of its status and JSON; returns that JSON.
    fn health_until(&mut self, what: &str, ok: impl Fn(u16, &Value) -> bool) -> Value {
        let t = Instant::now();
        loop {
            let (code, text) = self.get("/healthz");
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if ok(code, &v) {
                return v;
            }
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!("sync ended ({s}) waiting for {what}:\n{}", self.log());
            }
            assert!(
                t.elapsed() < Duration::from_secs(40),
                "no {what}: last {code} {v}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_log(&mut self, what: &str) {
        let t = Instant::now();
        while !self.log().contains(what) {
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!("sync ended ({s}) waiting for {what:?}:\n{}", self.log());
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "no {what:?} in:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// The largest file the process may write (bytes; `None`: no limit).
    fn file_size_limit(&self, bytes: Option<u64>) {
        let lim = libc::rlimit {
            rlim_cur: bytes.unwrap_or(libc::RLIM_INFINITY),
            rlim_max: libc::RLIM_INFINITY,
        };
        let pid = self.child.id() as libc::pid_t;
        let r = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &lim, std::ptr::null_mut()) };
        assert_eq!(r, 0, "prlimit: {}", std::io::Error::last_os_error());
    }

    /// SIGTERM, and the exit code with the whole log.
    fn stop(mut self) -> (Option<i32>, String) {
        self.signal("-TERM");
        let t = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "still running");
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        (status.code(), self.log())
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port_of(url: &str) -> u16 {
    let rest = url.trim_start_matches("http://");
    let host = rest.split('/').next().unwrap();
    host.rsplit(':').next().unwrap().parse().unwrap()
}

/// `name{labels} value` lines of a Prometheus text, by name and labels.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn is_china_time(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with("+08:00"))
}

#[test]
fn health_goes_503_when_red_goes_away_or_the_state_cannot_be_written_and_200_when_back() {
    let mut shop = Shop::start(RedSimOptions::default(), &[]);
    assert_eq!(shop.red_port, port_of(&shop.red.url()));
    shop.red.add_order(order(0, "H001"));
    let v = shop.health_until("200", |c, _| c == 200);
    assert_eq!(v["status"], "ok");
    assert!(is_china_time(&v["last_round_ok_at"]), "{v}");
    // A configured access token without a refresh token lives 7 days at most from its
    // first use (RED never said its expiry): that latest time, at +08:00.
    assert!(is_china_time(&v["token_expires_at"]), "{v}");
    let by = chrono::DateTime::parse_from_rfc3339(v["token_expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let week = chrono::Utc::now().timestamp() + 7 * 24 * 3600;
    assert!((week - 120..=week + 1).contains(&by), "{v}");
    assert!(v["needs_person"].is_u64(), "{v}");

    // RED goes away: 503, saying so, once three intervals pass without a success.
    shop.red.stop();
    let v = shop.health_until("503 for RED", |c, v| {
        c == 503
            && v["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("RED unreachable"))
    });
    assert_eq!(v["status"], "unhealthy");
    assert!(is_china_time(&v["last_round_ok_at"]), "{v}");
    // RED back on its address: 200 again.
    let red = bondmap::red::sim::spawn(
        shop.red_port,
        RedSimOptions {
            app_id: SIMS.app.into(),
            app_secret: SIMS.red_secret.into(),
            access_token: SIMS.token.into(),
            ..RedSimOptions::default()
        },
    )
    .unwrap();
    shop.health_until("200 with RED back", |c, _| c == 200);

    // The disk is full (no file may grow): the round cannot record anything.
    shop.file_size_limit(Some(0));
    let v = shop.health_until("503 for the state", |c, v| {
        c == 503
            && v["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("the state cannot be written"))
    });
    assert_eq!(v["status"], "unhealthy");
    shop.file_size_limit(None);
    shop.health_until("200 with room on the disk", |c, _| c == 200);
    drop(red);
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("SECRET"), "{log}");
}

#[test]
fn metrics_sum_to_the_state_and_count_every_red_method_and_gateway_request() {
    let mut shop = Shop::start(RedSimOptions::default(), &[]);
    for i in 0..4 {
        shop.red.add_order(order(i, &format!("M00{i}")));
    }
    // Every order sent, shipped by the warehouse and told to RED.
    let t = Instant::now();
    while shop.red.delivered().len() < 4 {
        assert!(t.elapsed() < Duration::from_secs(30), "{}", shop.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Rounds go on; read the metrics and the state between two of them.
    shop.health_until("200", |c, _| c == 200);
    let (code, text) = shop.get("/metrics");
    assert_eq!(code, 200, "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    let m = samples(&text);
    let out = bondmap(&[
        "status",
        "--format",
        "json",
        "--state",
        shop.path("s.db").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts = status["counts"].as_object().unwrap();
    let mut sum = 0.0;
    for (stage, n) in counts {
        let k = format!("bondmap_orders{{stage=\"{stage}\"}}");
        assert_eq!(m.get(&k), Some(&n.as_f64().unwrap()), "{k}\n{text}");
        sum += m[&k];
    }
    // Every stage shown, and nothing else under that name.
    let shown = m
        .keys()
        .filter(|k| k.starts_with("bondmap_orders{"))
        .count();
    assert_eq!(shown, counts.len());
    assert_eq!(sum, 4.0, "{text}");
    assert_eq!(m["bondmap_orders{stage=\"delivered\"}"], 4.0);
    let person = status["needs_person"].as_array().unwrap().len()
        + status["notices_needing_person"].as_array().unwrap().len();
    assert_eq!(m["bondmap_needs_person"], person as f64);
    for method in [
        "order.getOrderList",
        "order.getOrderDetail",
        "order.getOrderDeclareInfo",
        "order.getOrderReceiverInfo",
        "data.batchDecrypt",
        "order.orderDeliver",
    ] {
        let k = format!("bondmap_red_calls_total{{method=\"{method}\",outcome=\"ok\"}}");
        assert!(m.get(&k).is_some_and(|n| *n >= 1.0), "{k}\n{text}");
    }
    let k = "bondmap_gateway_requests_total{msg_type=\"CN_WMS_DELIVERYORDER_CREATE\",outcome=\"accepted\"}";
    assert_eq!(m.get(k), Some(&4.0), "{text}");
    assert_eq!(shop.gw.created().len(), 4);
    assert!(m["bondmap_round_duration_seconds_count"] >= 1.0, "{text}");
    let last = m["bondmap_last_round_success_timestamp_seconds"];
    let now = chrono::Utc::now().timestamp() as f64;
    assert!((now - 30.0..=now + 1.0).contains(&last), "{last} {now}");
    // The mapping set that runs, by its identity.
    let info: Vec<&String> = m
        .keys()
        .filter(|k| k.starts_with("bondmap_mapping_set_info{identity=\""))
        .collect();
    assert_eq!(info.len(), 1, "{text}");
    // The configured token's latest expiry: 7 days from its first use.
    let expiry = m["bondmap_red_token_expiry_timestamp_seconds"];
    assert!(
        (now + 6.9 * 86400.0..=now + 7.0 * 86400.0 + 1.0).contains(&expiry),
        "{expiry}"
    );
    // No order id, no secret in any label.
    assert!(!text.contains("M00") && !text.contains("SECRET"), "{text}");

    // A reload that changes the mapping changes the set shown.
    let before = info[0].clone();
    let p = shop.path(WAREHOUSE);
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, format!("{t}\n# a comment changes the identity\n")).unwrap();
    shop.signal("-HUP");
    shop.wait_log("reloaded:");
    let (_, text) = shop.get("/metrics");
    let m = samples(&text);
    let info: Vec<&String> = m
        .keys()
        .filter(|k| k.starts_with("bondmap_mapping_set_info{"))
        .collect();
    assert_eq!(info.len(), 1, "{text}");
    assert_ne!(info[0], &before);
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn with_a_json_log_every_line_sync_writes_is_json_a_broken_reload_included() {
    let mut shop = Shop::start(RedSimOptions::default(), &["--log-format", "json"]);
    shop.red.add_order(order(0, "J001"));
    shop.wait_log("round: 1 orders");
    let p = shop.path(WAREHOUSE);
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        t.replace("param store_code", "not_a_field = 1\nparam store_code"),
    )
    .unwrap();
    shop.signal("-HUP");
    shop.wait_log("reload refused");
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 5, "{log}");
    for l in &lines {
        assert!(is_china_time(&l["timestamp"]), "{l}");
        assert!(l["level"].is_string(), "{l}");
    }
    let has = |f: &dyn Fn(&Value) -> bool| lines.iter().any(f);
    let message = |l: &Value| l["message"].as_str().unwrap_or("").to_string();
    // The listening line, the round, the diagnostic with its place and code, the refusal.
    assert!(has(
        &|l| message(l).starts_with("receiving Cainiao's shipment notices at")
    ));
    assert!(has(&|l| l["message"] == "round started"
        && is_china_time(&l["from"])
        && is_china_time(&l["to"])));
    assert!(has(&|l| l["kind"] == "mapping"
        && l["level"] == "ERROR"
        && message(l).contains("not_a_field")
        && l["at"].as_str().unwrap().contains("hangzhou_xiasha.map:")));
    assert!(has(&|l| message(l).starts_with("reload refused")));
    assert!(has(&|l| message(l).starts_with("stopped by a signal")));
    assert!(!log.contains("SECRET"), "{log}");
}

#[test]
fn a_json_log_carries_start_up_mistakes_too() {
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mappings"), &dir.path().join("mappings"));
    let mapping = dir.path().join(WAREHOUSE);
    let t = std::fs::read_to_string(&mapping).unwrap();
    std::fs::write(
        &mapping,
        t.replace("param store_code", "not_a_field = 1\nparam store_code"),
    )
    .unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(["sync", "--once", "--log-format", "json", "--mapping"])
        .arg(&mapping)
        .arg("--state")
        .arg(dir.path().join("s.db"))
        .current_dir(root());
    for (k, v) in SIMS.env_for(&red, &gw) {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = common::text(&out.stderr);
    assert!(err.contains("not_a_field"), "{err}");
    for l in err.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert_eq!(v["level"], "ERROR", "{l}");
    }
}

#[test]
fn a_text_log_shows_times_at_plus_eight_never_epoch_seconds() {
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    red.add_order(order(0, "T001"));
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(["sync", "--once", "--mapping", WAREHOUSE, "--state"])
        .arg(dir.path().join("s.db"))
        .current_dir(root())
        .env("RUST_LOG", "info");
    for (k, v) in SIMS.env_for(&red, &gw) {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out.stderr));
    let err = common::text(&out.stderr);
    let events: Vec<&str> = err.lines().filter(|l| l.contains("  INFO ")).collect();
    assert!(!events.is_empty(), "{err}");
    for l in &events {
        let stamp = l.split_whitespace().next().unwrap();
        assert!(is_china_time(&Value::from(stamp)), "{l}");
    }
    let started = events
        .iter()
        .find(|l| l.contains("round started"))
        .unwrap_or_else(|| panic!("{err}"));
    for field in ["from=", "to="] {
        let v = started
            .split(field)
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert!(is_china_time(&Value::from(v)), "{started}");
    }
    // No field is a bare run of ten digits (epoch seconds).
    let epoch = regex_free_epoch(&err);
    assert!(epoch.is_none(), "{epoch:?} in {err}");
}

/// A field value of 10 or 13 digits only (`from=1764000000`), if any.
fn regex_free_epoch(log: &str) -> Option<String> {
    log.split_whitespace()
        .filter_map(|w| w.split_once('=').map(|(_, v)| v))
        .find(|v| matches!(v.len(), 10 | 13) && v.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

#[test]
fn an_access_token_used_alone_is_warned_about_on_healthz_from_a_day_before_it_expires() {
    // The state first met the configured token (no refresh token) six and a half days
    // ago: RED's 7 days end within a day.
    let day = 24 * 3600 * 1000;
    let first = chrono::Utc::now().timestamp_millis() - 6 * day - day / 2;
    let mut shop = Shop::start_seeded(RedSimOptions::default(), &[], &|db| {
        let mut s = bondmap::store::Store::open(db).unwrap();
        s.red_token_first_use(&bondmap::config::Secret::new(SIMS.token), first)
            .unwrap();
    });
    let v = shop.health_until("a warning", |c, v| c == 200 && v["warning"].is_string());
    assert_eq!(v["status"], "ok", "{v}");
    let w = v["warning"].as_str().unwrap();
    assert!(
        w.starts_with("no refresh token: the RED access token expires by 2")
            && w.contains("RED_REFRESH_TOKEN"),
        "{w}"
    );
    // The latest it can live, at +08:00: seven days after its first use.
    let by = chrono::DateTime::parse_from_rfc3339(v["token_expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert_eq!(by, first + 7 * day, "{v}");
    assert!(!w.contains(SIMS.token) && !shop.log().contains(SIMS.token));
}
