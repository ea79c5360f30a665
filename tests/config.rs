//! Settings that say what is wrong, through the binary: a blank or short Cainiao secret
//! stops `sync --listen` and `send` before anything listens or sends; an unknown key or
//! table of the config file is an error naming it; `config check` prints the settings in
//! force with where each came from, secrets as ***, and every mistake at once.

mod common;

use bondmap::gateway::sim::SimOptions;
use bondmap::red::sim::RedSimOptions;
use common::*;
use serde_json::Value;
use std::process::{Command, Output};
use std::time::Duration;

const SIMS: Sims = Sims {
    app: "config-app",
    red_secret: "red-SECRET-61",
    token: "tok-SECRET-62",
    gw_secret: "gw-SECRET-63",
    timeout: Duration::from_millis(800),
};

/// Every variable the loaders read, so the test's own environment cannot leak in.
const VARS: &[&str] = &[
    "CAINIAO_APP_KEY",
    "CAINIAO_SECRET_KEY",
    "CAINIAO_GATEWAY_URL",
    "RED_APP_ID",
    "RED_APP_SECRET",
    "RED_ACCESS_TOKEN",
    "RED_API_URL",
    "RED_MAX_REQUESTS_PER_SECOND",
];

fn run(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(args).current_dir(root()).env("RUST_LOG", "info");
    for v in VARS {
        c.env_remove(v);
    }
    c.envs(env.iter().map(|(k, v)| (k, v)));
    c.output().unwrap()
}

fn with(env: &[(&'static str, String)], key: &str, value: &str) -> Vec<(&'static str, String)> {
    env.iter()
        .map(|(k, v)| {
            (
                *k,
                if *k == key {
                    value.to_string()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

#[test]
fn a_blank_or_short_cainiao_secret_stops_sync_listen_and_send_before_anything_listens_or_sends() {
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let env = SIMS.env_for(&red, &gw);
    // Variables set to these (an empty one counts as unset, so the blank one comes from
    // the file below).
    for (secret, why) in [
        ("   ", "is blank"),
        ("1234567", "shorter than 8 characters"),
    ] {
        let env = with(&env, "CAINIAO_SECRET_KEY", secret);
        let db = dir.path().join("s.db");
        let listen = format!("127.0.0.1:{}", common::free_port());
        let out = run(
            &[
                "sync",
                "--interval",
                "1",
                "--listen",
                &listen,
                "--mapping",
                "mappings/warehouses/hangzhou_xiasha.map",
                "--state",
                db.to_str().unwrap(),
            ],
            &env,
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("CAINIAO_SECRET_KEY") && err.contains(why),
            "{err}"
        );
        assert!(!err.contains("receiving Cainiao"), "{err}");
        assert!(
            !err.contains(secret.trim()) || secret.trim().is_empty(),
            "{err}"
        );
        // Nothing was read or written: no state file, no call to either side.
        assert!(!db.exists());
        let out = run(
            &[
                "send",
                "--mapping",
                "mappings/warehouses/hangzhou_xiasha.map",
                "--input",
                "examples/orders/01_single_sku_alipay.json",
            ],
            &env,
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(out.stdout.is_empty());
    }
    // The blank one from the config file.
    let f = dir.path().join("c.toml");
    std::fs::write(&f, "[cainiao]\nsecret_key = \"\"\n").unwrap();
    let env: Vec<_> = env
        .iter()
        .filter(|(k, _)| *k != "CAINIAO_SECRET_KEY")
        .cloned()
        .collect();
    let out = run(
        &[
            "send",
            "--config",
            f.to_str().unwrap(),
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--input",
            "examples/orders/01_single_sku_alipay.json",
        ],
        &env,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Cainiao secret key (`secret_key`) is blank"),
        "{err}"
    );
    assert_eq!(gw.requests(), 0);
    assert_eq!(red.total_calls(), 0);
}

#[test]
fn a_blank_red_app_secret_and_an_unknown_key_stop_sync_naming_each() {
    let red = SIMS.red_sim(RedSimOptions::default());
    let gw = SIMS.gw_sim(SimOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(
        &f,
        "[cainiao]\nmax_attempt = 3\n[red]\napp_secret = \" \"\nmax_request_per_second = 50\n",
    )
    .unwrap();
    let env: Vec<_> = SIMS
        .env_for(&red, &gw)
        .into_iter()
        .filter(|(k, _)| *k != "RED_APP_SECRET")
        .collect();
    let db = dir.path().join("s.db");
    let out = run(
        &[
            "sync",
            "--config",
            f.to_str().unwrap(),
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--state",
            db.to_str().unwrap(),
        ],
        &env,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for part in [
        "RED app secret (`app_secret`) is blank",
        "unknown key `max_attempt` under [cainiao] (did you mean `max_attempts`?)",
        "unknown key `max_request_per_second` under [red] (did you mean `max_requests_per_second`?)",
    ] {
        assert!(err.contains(part), "{part} not in {err}");
    }
    assert_eq!(err.matches("error: ").count(), 3, "{err}");
    assert!(!db.exists());
    assert_eq!(red.total_calls() + gw.requests(), 0);
}

#[test]
fn config_check_prints_each_setting_with_its_origin_and_masks_every_secret() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(
        &f,
        "[cainiao]\nsecret_key = \"file-secret-123\"\nconcurrency = 16\n[red]\napp_id = \"red-file-app\"\n",
    )
    .unwrap();
    let env = vec![
        ("CAINIAO_APP_KEY", "ENV-APP-KEY".to_string()),
        ("RED_APP_SECRET", "env-red-secret".to_string()),
        ("RED_ACCESS_TOKEN", "env-token-42".to_string()),
        (
            "RED_API_URL",
            "https://user:pw-9@red.example/api?access_token=tk-77".to_string(),
        ),
    ];
    let out = run(&["config", "check", "--config", f.to_str().unwrap()], &env);
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{o}{e}");
    for secret in [
        "file-secret-123",
        "red-file-app",
        "ENV-APP-KEY",
        "env-red-secret",
        "env-token-42",
        "pw-9",
        "tk-77",
    ] {
        assert!(
            !o.contains(secret) && !e.contains(secret),
            "{secret}: {o}{e}"
        );
    }
    let line = |k: &str| {
        o.lines()
            .find(|l| l.split_whitespace().next() == Some(k))
            .unwrap_or_else(|| panic!("no {k} in {o}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let shown = f.display().to_string();
    assert_eq!(
        line("app_key"),
        ["app_key", "***", "environment", "CAINIAO_APP_KEY"]
    );
    assert_eq!(line("secret_key"), ["secret_key", "***", "file", &shown]);
    assert_eq!(line("concurrency"), ["concurrency", "16", "file", &shown]);
    assert_eq!(line("max_attempts"), ["max_attempts", "4", "default"]);
    assert_eq!(
        line("api_url"),
        [
            "api_url",
            "https://***@red.example/api?***",
            "environment",
            "RED_API_URL"
        ]
    );
    assert!(
        o.starts_with("[cainiao]\n") && o.contains("\n[red]\n"),
        "{o}"
    );
    // The same as JSON, one object a setting.
    let out = run(
        &["config", "check", "--json", "--config", f.to_str().unwrap()],
        &env,
    );
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let row = |k: &str| rows.iter().find(|r| r["key"] == k).unwrap().clone();
    assert_eq!(row("secret_key")["value"], "***");
    assert_eq!(row("secret_key")["secret"], true);
    assert_eq!(row("timeout_secs")["origin"], "default");
    assert_eq!(row("timeout_secs")["default"], "30");
    assert_eq!(row("app_id")["env"], "RED_APP_ID");
}

#[test]
fn config_check_reports_every_mistake_at_once_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(
        &f,
        "[cainiao]\napp_key = \"CP\"\nsecret_key = \"short\"\nmax_attempts = 50\ntimeout_sec = 5\n[red]\napp_id = \"a\"\napp_secret = \"b\"\naccess_token = \"\"\n[cainaio]\nsecret_key = \"x\"\n",
    )
    .unwrap();
    let out = run(&["config", "check", "--config", f.to_str().unwrap()], &[]);
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{o}{e}");
    for part in [
        "Cainiao secret key (`secret_key`) is shorter than 8 characters",
        "`max_attempts` must be a whole number from 1 to 20",
        "unknown key `timeout_sec` under [cainiao] (did you mean `timeout_secs`?)",
        "RED access token (`access_token`) is blank",
        "unknown table [cainaio] (did you mean [cainiao]?)",
        "5 mistakes in the settings",
    ] {
        assert!(e.contains(part), "{part} not in {e}");
    }
    // The settings are printed all the same, the wrong ones marked.
    assert!(
        o.lines()
            .any(|l| l.starts_with("max_attempts") && l.contains("(wrong: see below)")),
        "{o}"
    );
    assert!(!e.contains("short\"") && !o.contains("short"), "{o}{e}");
    // A file that is no TOML: where, never what.
    std::fs::write(&f, "[cainiao]\nsecret_key = \"hunter2\n").unwrap();
    let out = run(&["config", "check", "--config", f.to_str().unwrap()], &[]);
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(e.contains("not valid TOML (line 2"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}
