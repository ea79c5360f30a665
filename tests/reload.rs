//! SIGHUP to `sync --interval`: the settings, mappings, routes and tables loaded again
//! between rounds, checked first. A broken mapping or config is logged (every
//! diagnostic) and the running set goes on sending; a fixed or changed one takes effect
//! on the next round (the store code the warehouse received, as its shipment notice
//! hands it back); a SIGHUP during a round lets the round finish; the callback takes the
//! reloaded customs tables and Cainiao key, the console its token. The process never dies
//! of it (exit 129 is gone).

mod common;

use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::store::{Stage, Store};
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const SIMS: Sims = Sims {
    app: "reload-app",
    red_secret: "red-SECRET-51",
    token: "tok-SECRET-52",
    gw_secret: "gw-SECRET-53",
    timeout: Duration::from_millis(800),
};

const WAREHOUSE: &str = "mappings/warehouses/hangzhou_xiasha.map";

/// A valid order (from the accepted examples) with its id.
fn order(i: usize, id: &str) -> Value {
    valid_order(i, id, chrono::Utc::now().timestamp() - 60)
}

/// A shop on loopback: its own copy of the mappings (edited by the tests), a config
/// file, both simulators (the warehouse ships each order and posts its notice back) and
/// a `sync --interval 1 --listen` child whose log goes to a file.
struct Shop {
    dir: tempfile::TempDir,
    red: RedSimHandle,
    gw: SimHandle,
    child: Child,
    /// Where the callback listens.
    callback: String,
}

impl Shop {
    fn start(config: &str, gw: SimOptions) -> Shop {
        Shop::start_without(config, gw, &[])
    }

    /// As [`Shop::start`], without the variables `unset` (then the file gives them).
    fn start_without(config: &str, gw: SimOptions, unset: &[&str]) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        common::copy_dir(&root().join("mappings"), &dir.path().join("mappings"));
        std::fs::write(dir.path().join("bondmap.toml"), config).unwrap();
        let port = common::free_port();
        let red = SIMS.red_sim(RedSimOptions::default());
        let gw = SIMS.gw_sim(SimOptions {
            callback_url: Some(format!("http://127.0.0.1:{port}/cainiao/callback")),
            ship_after: Duration::from_millis(50),
            ..gw
        });
        let m = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
        let log = std::fs::File::create(dir.path().join("sync.log")).unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
        c.args(["sync", "--interval", "1", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--mapping", &m(WAREHOUSE)])
            .args(["--cancel-mapping", &m("mappings/cainiao/cancel.map")])
            .args(["--deliver-mapping", &m("mappings/red/order_deliver.map")])
            .args(["--state", &m("s.db"), "--config", &m("bondmap.toml")])
            .current_dir(root())
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(log);
        for (k, v) in SIMS.env_for(&red, &gw) {
            if !unset.contains(&k) {
                c.env(k, v);
            }
        }
        let child = c.spawn().unwrap();
        Shop {
            dir,
            red,
            gw,
            child,
            callback: format!("http://127.0.0.1:{port}/cainiao/callback"),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("sync.log")).unwrap_or_default()
    }

    /// Waits until the log holds `what` `times` times (the process still running).
    fn wait_log(&mut self, what: &str, times: usize) {
        let t = Instant::now();
        while self.log().matches(what).count() < times {
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

    fn hup(&self) {
        signal(&self.child, "-HUP");
    }

    /// The store code of the order as the warehouse received it: its shipment notice,
    /// recorded in the state, hands it back. Waits for the notice.
    fn store_code_sent(&mut self, id: &str) -> String {
        let t = Instant::now();
        loop {
            if let Some(n) = Store::open_read_only(&self.path("s.db"))
                .ok()
                .and_then(|s| s.notice_of(id).ok().flatten())
            {
                let v: Value = serde_json::from_str(&n.content).unwrap();
                return v["storeCode"].as_str().unwrap().to_string();
            }
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!("sync ended ({s}):\n{}", self.log());
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "no notice for {id}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn identity(&self) -> Option<String> {
        Store::open_read_only(&self.path("s.db"))
            .unwrap()
            .mapping_identity()
            .unwrap()
    }

    /// SIGTERM, and the exit code with the whole log.
    fn stop(mut self) -> (Option<i32>, String) {
        signal(&self.child, "-TERM");
        let t = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < Duration::from_secs(20), "still running");
            std::thread::sleep(Duration::from_millis(20));
        };
        (status.code(), self.log())
    }

    fn edit(&self, file: &str, f: impl FnOnce(String) -> String) {
        let p = self.path(file);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, f(text)).unwrap();
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

const CONFIG: &str = "[cainiao]\nconcurrency = 4\n";

#[test]
fn a_broken_mapping_is_logged_whole_and_the_old_set_sends_then_the_fixed_one_takes_over() {
    let mut shop = Shop::start(CONFIG, SimOptions::default());
    shop.red.add_order(order(0, "R001"));
    assert_eq!(shop.store_code_sent("R001"), "HZ_XIASHA_01");
    let first = shop.identity().unwrap();
    // Two mistakes in the mapping, one in its table.
    shop.edit(WAREHOUSE, |t| {
        t.replace(
            "param store_code = \"HZ_XIASHA_01\"",
            "param store_code = \"HZ_XIASHA_02\"\nnot_a_field = 1\nstoreCode = upcase(1, 2, 3)",
        )
    });
    shop.hup();
    shop.wait_log("reload refused", 1);
    let log = shop.log();
    assert!(log.contains("not_a_field"), "{log}");
    assert!(log.contains("upcase"), "{log}");
    // Each with its place in the file and its code.
    assert!(log.contains("hangzhou_xiasha.map:6:1"), "{log}");
    assert!(log.contains("hangzhou_xiasha.map:7:13"), "{log}");
    assert!(log.contains("bondmap::unknown_function"), "{log}");
    assert!(log.contains("problems=2"), "{log}");
    // The running set goes on: the next order leaves with the old store code.
    shop.red.add_order(order(1, "R002"));
    assert_eq!(shop.store_code_sent("R002"), "HZ_XIASHA_01");
    assert_eq!(shop.identity().as_deref(), Some(first.as_str()));
    // Fixed (the changed param kept): the next round sends with it, and the state
    // records the new mapping identity.
    shop.edit(WAREHOUSE, |t| {
        t.replace("not_a_field = 1\n", "")
            .replace("storeCode = upcase(1, 2, 3)", "")
    });
    shop.hup();
    shop.wait_log("reloaded:", 1);
    shop.red.add_order(order(2, "R003"));
    assert_eq!(shop.store_code_sent("R003"), "HZ_XIASHA_02");
    let second = shop.identity().unwrap();
    assert_ne!(second, first);
    let (gw_created, red_told) = (shop.gw.created(), shop.red.delivered());
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(gw_created.values().all(|n| *n == 1), "{gw_created:?}");
    assert_eq!(gw_created.len(), 3);
    assert!(red_told.len() <= 3);
    assert!(!log.contains("SECRET"), "{log}");
}

#[test]
fn a_broken_config_is_refused_with_every_mistake_and_the_running_settings_go_on() {
    let mut shop = Shop::start(CONFIG, SimOptions::default());
    shop.red.add_order(order(0, "C001"));
    shop.store_code_sent("C001");
    shop.edit("bondmap.toml", |t| {
        t.replace(
            "concurrency = 4",
            "concurrency = 0\nmax_attempt = 3\n[cainaio]\nsecret_key = \"short\"",
        )
    });
    shop.hup();
    shop.wait_log("reload refused", 1);
    let log = shop.log();
    for part in [
        "`concurrency` must be a whole number from 1 to 64",
        "unknown key `max_attempt` under [cainiao] (did you mean `max_attempts`?)",
        "unknown table [cainaio] (did you mean [cainiao]?)",
    ] {
        assert!(log.contains(part), "{part} not in {log}");
    }
    // The running settings go on.
    shop.red.add_order(order(1, "C002"));
    shop.store_code_sent("C002");
    // The config fixed, the cancel mapping broken: it would park each cancel for a
    // person, so it is checked for every warehouse before the set is taken.
    shop.edit("bondmap.toml", |_| CONFIG.to_string());
    shop.edit("mappings/cainiao/cancel.map", |t| {
        format!("{t}\nnot_a_cancel_field = 1\n")
    });
    shop.hup();
    shop.wait_log("reload refused", 2);
    let log = shop.log();
    assert!(log.contains("cancel.map:"), "{log}");
    assert!(log.contains("not_a_cancel_field"), "{log}");
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("short\""), "{log}");
}

#[test]
fn a_sighup_during_a_round_lets_it_finish_and_the_process_goes_on() {
    // One send at a time, each 150 ms: a round of 8 orders takes over a second.
    let mut shop = Shop::start(
        "[cainiao]\nconcurrency = 1\n",
        SimOptions {
            delay_first: u32::MAX,
            delay: Duration::from_millis(150),
            ..SimOptions::default()
        },
    );
    // Let the first (empty) round pass, so the orders fall into one round.
    shop.wait_log("round:", 1);
    let n = 8;
    for i in 0..n {
        shop.red.add_order(order(i, &format!("D{i:03}")));
    }
    let t = Instant::now();
    while shop.gw.requests() < 2 {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", shop.log());
        std::thread::sleep(Duration::from_millis(5));
    }
    shop.hup();
    assert!(
        (shop.gw.requests() as usize) < n,
        "the round ended before the signal"
    );
    shop.wait_log("reloaded:", 1);
    let log = shop.log();
    // The round that was under way finished whole before the reload began.
    let reload_at = log.find("SIGHUP: reloading").unwrap();
    let started = log[..reload_at].rfind("round started").unwrap();
    assert!(log[started..reload_at].contains("round: "), "{log}");
    let rows = Store::open_read_only(&shop.path("s.db"))
        .unwrap()
        .all()
        .unwrap();
    assert_eq!(rows.len(), n);
    assert!(
        rows.iter()
            .all(|r| !matches!(r.stage, Stage::Seen | Stage::Fetched | Stage::Sending)),
        "{rows:?}"
    );
    let created = shop.gw.created();
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(created.len(), n);
    assert!(created.values().all(|c| *c == 1), "{created:?}");
}

/// The class a customs failure of order `id` got in the state, once it has one.
fn customs_class(shop: &mut Shop, id: &str) -> String {
    let t = Instant::now();
    loop {
        let row = Store::open_read_only(&shop.path("s.db"))
            .ok()
            .and_then(|s| s.get(id).ok().flatten());
        if let Some(class) = row.and_then(|r| r.customs_class) {
            return class;
        }
        if let Some(s) = shop.child.try_wait().unwrap() {
            panic!("sync ended ({s}):\n{}", shop.log());
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no customs class for {id}:\n{}",
            shop.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_callback_takes_the_customs_tables_a_sighup_reloaded() {
    // The warehouse words an over-quota stop its own way ("超出年度配额").
    let reason = "海关审核不通过：超出年度配额".to_string();
    let customs = ["Q001", "Q002"]
        .map(|id| {
            let script = vec![("CUSTOMS_FAILED".to_string(), reason.clone())];
            (id.to_string(), script)
        })
        .into_iter()
        .collect();
    let mut shop = Shop::start(
        CONFIG,
        SimOptions {
            customs,
            ..SimOptions::default()
        },
    );
    shop.red.add_order(order(0, "Q001"));
    // The shipped table has no row for that wording.
    assert_eq!(customs_class(&mut shop, "Q001"), "other");
    shop.edit("mappings/cainiao/customs_reasons.csv", |t| {
        t.replace("额度,over_quota", "额度,over_quota\n配额,over_quota")
    });
    shop.hup();
    shop.wait_log("reloaded:", 1);
    shop.red.add_order(order(1, "Q002"));
    assert_eq!(customs_class(&mut shop, "Q002"), "over_quota");
    // The first keeps what it was told when it came.
    assert_eq!(customs_class(&mut shop, "Q001"), "other");
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("not reloaded"), "{log}");
}

/// Posts a shipment notice signed with `secret` to the shop's callback: its answer.
fn post_notice(shop: &Shop, order: &str, secret: &str) -> Value {
    let li = format!(
        r#"{{"orderCode":"{order}","lgOrderCode":"LP{order}","storeCode":"HZ_XIASHA_01","mailNo":"SF000001","logisticsCode":"SF","consignTime":"2026-12-07 10:00:00"}}"#
    );
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("logistic_provider_id", "CP_WAREHOUSE")
        .append_pair("msg_type", "CONSIGN_ORDER_NOTIFY")
        .append_pair("logistics_interface", &li)
        .append_pair("data_digest", &bondmap::gateway::data_digest(&li, secret))
        .finish();
    let text = reqwest::blocking::Client::new()
        .post(&shop.callback)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .body(body)
        .send()
        .unwrap()
        .text()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_callback_checks_notices_with_the_cainiao_key_a_sighup_reloaded() {
    let old = SIMS.gw_secret;
    let new = "gw-SECRET-rotated-54";
    let mut shop = Shop::start_without(
        &format!("{CONFIG}secret_key = \"{old}\"\n"),
        SimOptions::default(),
        &["CAINIAO_SECRET_KEY"],
    );
    shop.wait_log("round:", 1);
    assert_eq!(post_notice(&shop, "K001", old)["success"], "true");
    shop.edit("bondmap.toml", |t| t.replace(old, new));
    shop.hup();
    shop.wait_log("reloaded:", 1);
    shop.wait_log("the Cainiao secret key changed", 1);
    // Signed with the old key: refused (Cainiao sends it again, signed with the new one).
    let refused = post_notice(&shop, "K002", old);
    assert_eq!(refused["success"], "false", "{refused}");
    assert_eq!(refused["errorCode"], "S02", "{refused}");
    assert_eq!(post_notice(&shop, "K002", new)["success"], "true");
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        !log.contains(new) && !log.contains(old),
        "a key in the log: {log}"
    );
}

/// The status of `GET /api/overview` with `token` as a bearer.
fn overview_status(shop: &Shop, token: &str) -> u16 {
    let url = shop.callback.replace("/cainiao/callback", "/api/overview");
    reqwest::blocking::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn a_sighup_that_changes_the_console_token_shuts_the_old_one_out() {
    let old = "console-token-before-the-sighup";
    let new = "console-token-after-the-sighup!";
    let mut shop = Shop::start(
        &format!("{CONFIG}[console]\ntoken = \"{old}\"\n"),
        SimOptions::default(),
    );
    shop.wait_log("round:", 1);
    assert_eq!(overview_status(&shop, old), 200);
    shop.edit("bondmap.toml", |t| t.replace(old, new));
    shop.hup();
    shop.wait_log("the console's token changed", 1);
    assert_eq!(overview_status(&shop, old), 401);
    assert_eq!(overview_status(&shop, new), 200);
    // Taken away: nobody gets in.
    shop.edit("bondmap.toml", |t| {
        t.replace(&format!("token = \"{new}\""), "")
    });
    shop.hup();
    shop.wait_log("the console's token was taken away", 1);
    assert_eq!(overview_status(&shop, new), 401);
    let (code, log) = shop.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        !log.contains(old) && !log.contains(new),
        "a token in the log: {log}"
    );
}
