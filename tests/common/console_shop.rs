//! A shop whose operator opens the console (tests/console.rs, tests/console_page.rs):
//! both simulators with the bundled example orders, and `bondmap sync --interval 60
//! --listen` over the routes file with the console's token. The warehouse ships every
//! order it accepts and posts its notice back, except example 01, which customs stops over
//! the buyer's identity (the warehouse quotes the buyer's name and ID number); the
//! gateway refuses example 05; the mapping rejects examples 12 and 13. Once settled:
//! 9 delivered, and four orders wait for a person.
#![allow(dead_code)]

use crate::common::{root, text, Sims};
use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::store::{Stage, Store};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "console-token-for-the-tests-0123";

pub const SIMS: Sims = Sims {
    app: "console-app",
    red_secret: "red-SECRET-81",
    token: "tok-SECRET-82",
    gw_secret: "gw-SECRET-83",
    timeout: Duration::from_secs(5),
};

/// Customs stops it over the buyer's identity: a person.
pub const IDENTITY: &str = "P78811223300000001";
/// The gateway refuses it: a person.
pub const REFUSED: &str = "P78811223300000005";
/// The mapping rejects them: a person.
pub const REJECTED: [&str; 2] = ["P78811223300000012", "P78811223300000013"];
/// Sent, shipped and told to RED.
pub const DELIVERED: usize = 9;

/// What the warehouse says of example 01 (the buyer's own name and ID number in it).
pub const IDENTITY_REASON: &str =
    "订购人身份信息校验未通过：张三 330106199003071234 姓名与身份证号不一致";

/// The example orders as RED serves them, updated ten minutes ago (so the first round
/// lists them).
pub fn example_orders() -> Vec<Value> {
    let now = chrono::Utc::now().timestamp();
    crate::common::examples()
        .iter()
        .map(|p| {
            let mut d: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            d["detail"]["updateTime"] = ((now - 600) * 1000).into();
            d
        })
        .collect()
}

pub struct Shop {
    pub dir: tempfile::TempDir,
    pub red: RedSimHandle,
    pub gw: SimHandle,
    pub port: u16,
    child: Child,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Shop {
    /// The shop with the console's token set (`token`: `None` leaves it unset), settled.
    pub fn start(token: Option<&str>) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let port = crate::common::free_port();
        let red = SIMS.red_sim(RedSimOptions::default());
        for d in example_orders() {
            red.add_order(d);
        }
        let gw = SIMS.gw_sim(SimOptions {
            callback_url: Some(format!("http://127.0.0.1:{port}/cainiao/callback")),
            ship_after: Duration::from_millis(100),
            reject: [REFUSED.to_string()].into(),
            customs: [(
                IDENTITY.to_string(),
                vec![("CUSTOMS_FAILED".to_string(), IDENTITY_REASON.to_string())],
            )]
            .into(),
            ..SimOptions::default()
        });
        let db = dir.path().join("s.db");
        let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
        c.args(["sync", "--interval", "60", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--mapping", "mappings/routes.map", "--state"])
            .arg(&db)
            .current_dir(root())
            .env_remove("CONSOLE_TOKEN")
            .env_remove("CONSOLE_BEHIND_TLS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in SIMS.env_for(&red, &gw) {
            c.env(k, v);
        }
        if let Some(t) = token {
            c.env("CONSOLE_TOKEN", t);
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
        let shop = Shop {
            dir,
            red,
            gw,
            port,
            child,
            log,
        };
        shop.settle();
        shop
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("s.db")
    }

    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The orders in each stage, as the state has them now.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        let s = Store::open_read_only(&self.db()).unwrap();
        s.counts()
            .unwrap()
            .into_iter()
            .map(|(st, n)| (st.as_str(), n))
            .collect()
    }

    pub fn stage(&self, id: &str) -> Stage {
        let s = Store::open_read_only(&self.db()).unwrap();
        s.get(id).unwrap().unwrap().stage
    }

    /// Waits until every order is where the story leaves it.
    fn settle(&self) {
        let t = Instant::now();
        loop {
            if self.db().exists() {
                let c = self.counts();
                if c["delivered"] == DELIVERED as u64
                    && c["customs_failed"] == 1
                    && c["failed"] == 1
                    && c["rejected"] == 2
                {
                    return;
                }
                assert!(
                    t.elapsed() < Duration::from_secs(90),
                    "not settled: {c:?}\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `bondmap history ORDER --format json` of the state.
    pub fn history(&self, id: &str) -> Value {
        let out = crate::common::bondmap(&[
            "history",
            id,
            "--state",
            self.db().to_str().unwrap(),
            "--format",
            "json",
        ]);
        serde_json::from_str(&text(&out.stdout)).unwrap()
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
