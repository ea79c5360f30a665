//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub mod localhttp;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files with extension `ext` directly in `dir`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Every shipped mapping file.
pub fn mappings() -> Vec<PathBuf> {
    let mut v = files(&root().join("mappings/cainiao"), "map");
    v.extend(files(&root().join("mappings/warehouses"), "map"));
    v
}

pub fn examples() -> Vec<PathBuf> {
    files(&root().join("examples/orders"), "json")
}

/// `text`, a mapping written as the file `name` in `dir` (so its `use`s are read from
/// there), loaded and checked: the program and the file id of `text`, or a panic with the
/// text and its errors.
pub fn compile_in(
    dir: &Path,
    name: &str,
    text: &str,
) -> (bondmap::program::Program, bondmap::syntax::FileId) {
    let (m, diags) = bondmap::load::load_str(name, text, dir);
    assert!(diags.is_empty(), "{text}\n{diags:?}");
    let (p, diags) = bondmap::compile::compile(&m, &bondmap::compile::Options::default());
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{text}\nchecks with: {errors:?}");
    (p.expect("a program"), m.root)
}

/// The folder of the shipped warehouse files (`use "hangzhou_xiasha.map"` works there).
pub fn warehouses() -> PathBuf {
    root().join("mappings/warehouses")
}

/// The bondmap binary run with `args` in the repo's root.
pub fn bondmap(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The library's indenter (the one `bondmap test` and `map --pretty` use).
#[allow(unused_imports)] // not every test file that shares this module indents JSON
pub use bondmap::snapshot::pretty;

/// A RED client config over `url` through the loader (credentials `app`/`secret`/`token`),
/// with backoffs short enough for tests and two tries; a test sets the rest.
pub fn red_config(url: &str, token: &str) -> bondmap::red::RedConfig {
    let mut c = bondmap::red::RedConfig::from_sources(
        |k| match k {
            "RED_APP_ID" => Some("app".into()),
            "RED_APP_SECRET" => Some("secret".into()),
            "RED_ACCESS_TOKEN" => Some(token.into()),
            "RED_API_URL" => Some(url.into()),
            _ => None,
        },
        None,
    )
    .unwrap();
    c.backoff_base = std::time::Duration::from_millis(5);
    c.max_attempts = 2;
    c
}

/// A gateway client config over `url` through the loader (app key `CP_TEST`, `secret`),
/// with backoffs short enough for tests; a test sets its timeout and tries.
pub fn gw_config(url: &str, secret: &str) -> bondmap::gateway::GatewayConfig {
    let mut c = bondmap::gateway::GatewayConfig::from_sources(
        |k| match k {
            "CAINIAO_APP_KEY" => Some("CP_TEST".into()),
            "CAINIAO_SECRET_KEY" => Some(secret.into()),
            "CAINIAO_GATEWAY_URL" => Some(url.into()),
            _ => None,
        },
        None,
    )
    .unwrap();
    c.backoff_base = std::time::Duration::from_millis(5);
    c.backoff_cap = std::time::Duration::from_millis(20);
    c
}

/// The local Cainiao gateway on a free port, checking digests with `secret`.
pub fn gw_sim_with(
    secret: &str,
    opts: bondmap::gateway::sim::SimOptions,
) -> bondmap::gateway::sim::SimHandle {
    bondmap::gateway::sim::spawn(
        0,
        bondmap::gateway::sim::SimOptions {
            secret: secret.into(),
            ..opts
        },
    )
    .unwrap()
}

/// Both simulators and clients for the pipeline tests: one set of credentials, the
/// clients made from the environment a `bondmap sync` process is given.
pub struct Sims {
    pub app: &'static str,
    pub red_secret: &'static str,
    pub token: &'static str,
    pub gw_secret: &'static str,
    /// The clients' read timeout.
    pub timeout: std::time::Duration,
}

impl Sims {
    pub fn red_sim(
        &self,
        opts: bondmap::red::sim::RedSimOptions,
    ) -> bondmap::red::sim::RedSimHandle {
        bondmap::red::sim::spawn(
            0,
            bondmap::red::sim::RedSimOptions {
                app_id: self.app.into(),
                app_secret: self.red_secret.into(),
                access_token: self.token.into(),
                ..opts
            },
        )
        .unwrap()
    }

    pub fn gw_sim(
        &self,
        opts: bondmap::gateway::sim::SimOptions,
    ) -> bondmap::gateway::sim::SimHandle {
        gw_sim_with(self.gw_secret, opts)
    }

    /// The environment of a `bondmap sync` against these simulators.
    pub fn env_for(
        &self,
        red: &bondmap::red::sim::RedSimHandle,
        gw: &bondmap::gateway::sim::SimHandle,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("RED_APP_ID", self.app.into()),
            ("RED_APP_SECRET", self.red_secret.into()),
            ("RED_ACCESS_TOKEN", self.token.into()),
            ("RED_API_URL", red.url()),
            // The RED rate limiter out of the way of these tests (one test sets its own).
            ("RED_MAX_REQUESTS_PER_SECOND", "10000".into()),
            ("CAINIAO_APP_KEY", "CP".into()),
            ("CAINIAO_SECRET_KEY", self.gw_secret.into()),
            ("CAINIAO_GATEWAY_URL", gw.url()),
        ]
    }

    /// Clients loaded from [`Sims::env_for`], with short backoffs and the rig's timeout.
    pub fn clients(
        &self,
        red: &bondmap::red::sim::RedSimHandle,
        gw: &bondmap::gateway::sim::SimHandle,
    ) -> (bondmap::red::RedClient, bondmap::gateway::Client) {
        use std::time::Duration;
        let env = self.env_for(red, gw);
        let look = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        let mut rc = bondmap::red::RedConfig::from_sources(look, None).unwrap();
        rc.backoff_base = Duration::from_millis(5);
        rc.timeout = self.timeout;
        let mut gc = bondmap::gateway::GatewayConfig::from_sources(look, None).unwrap();
        gc.backoff_base = Duration::from_millis(5);
        gc.backoff_cap = Duration::from_millis(20);
        gc.read_timeout = self.timeout;
        (
            bondmap::red::RedClient::new(rc).unwrap(),
            bondmap::gateway::Client::new(gc).unwrap(),
        )
    }
}

/// A port free on loopback now (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A copy of a folder tree (mappings, examples) into a test's own folder.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// The `i`-th accepted example order (round robin) as order `id`, updated at `updated`
/// (Unix seconds); a test sets the warehouse fields it needs.
pub fn valid_order(i: usize, id: &str, updated: i64) -> serde_json::Value {
    let templates: Vec<PathBuf> = examples()
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("reject"))
        .collect();
    let text = std::fs::read_to_string(&templates[i % templates.len()]).unwrap();
    let mut d: serde_json::Value = serde_json::from_str(&text).unwrap();
    d["detail"]["orderId"] = id.into();
    d["detail"]["updateTime"] = (updated * 1000).into();
    d["receiver"]["receiverInfos"][0]["orderId"] = id.into();
    d
}
