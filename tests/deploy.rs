//! What `deploy/` ships holds to the binary: the config template lists every key the
//! loader knows with its default and loads clean; the systemd unit has what a service
//! needs and `systemd-analyze verify` takes it (where the machine has systemd-analyze);
//! the Dockerfile builds in stages and runs as a user with a health check (its structure:
//! no container engine runs here); `bondmap backup` copies a state a writer holds.

mod common;

use bondmap::store::{Stage, Store};
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

fn read(p: &str) -> String {
    std::fs::read_to_string(root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Every setting as `config check --json` lists it, with no file and no environment.
fn known_settings() -> Vec<Value> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(["config", "check", "--json"]).current_dir(root());
    for (k, _) in std::env::vars() {
        if k.starts_with("CAINIAO_") || k.starts_with("RED_") || k.starts_with("CONSOLE_") {
            c.env_remove(k);
        }
    }
    let out = c.output().unwrap();
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The template's keys: `(section, key)` → (the value it shows, the comment above it).
fn template_keys(text: &str) -> BTreeMap<(String, String), (String, String)> {
    let mut out = BTreeMap::new();
    let mut section = String::new();
    let mut comment = String::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(s) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
            comment.clear();
        } else if let Some((k, v)) = l
            .strip_prefix("# ")
            .and_then(|kv| kv.split_once(" = "))
            .filter(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        {
            let prev = out.insert(
                (section.clone(), k.to_string()),
                (v.to_string(), std::mem::take(&mut comment)),
            );
            assert!(prev.is_none(), "{k} twice under [{section}]");
        } else if let Some(c) = l.strip_prefix('#') {
            comment.push_str(c);
            comment.push(' ');
        } else if l.is_empty() {
            comment.clear();
        } else {
            panic!("deploy/bondmap.toml sets a value: {line}");
        }
    }
    out
}

/// What is wrong with `template` against the settings the loader knows: a key missing
/// or unknown, a default that is not the loader's, a comment that does not name the key's
/// variable or say it is required.
fn template_problems(template: &str, known: &[Value]) -> Vec<String> {
    let keys = template_keys(template);
    let mut problems = Vec::new();
    for s in known {
        let id = (
            s["section"].as_str().unwrap().to_string(),
            s["key"].as_str().unwrap().to_string(),
        );
        let name = format!("[{}] {}", id.0, id.1);
        let Some((value, comment)) = keys.get(&id) else {
            problems.push(format!("{name} is missing"));
            continue;
        };
        // Its default as the loader has it, or "" for a key without one.
        let want = s["default"].as_str().unwrap_or("\"\"");
        if value != want {
            problems.push(format!("{name} shows {value}, its default is {want}"));
        }
        if let Some(env) = s["env"].as_str() {
            if !comment.contains(&format!("Env: {env}")) {
                problems.push(format!("{name}: its comment names no {env}"));
            }
        }
        if s["required"] == true && !comment.contains("Required") {
            problems.push(format!("{name}: its comment does not say it is required"));
        }
    }
    for (section, key) in keys.keys() {
        if !known
            .iter()
            .any(|s| s["section"] == *section && s["key"] == *key)
        {
            problems.push(format!("[{section}] {key} is no key the loader knows"));
        }
    }
    problems
}

/// `config check --json` of `file` under `env`: exit code and the values in force.
fn check(file: &std::path::Path, env: &[(&str, &str)]) -> (Option<i32>, Vec<Value>, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(["config", "check", "--json", "--config"]).arg(file);
    for (k, _) in std::env::vars() {
        if k.starts_with("CAINIAO_") || k.starts_with("RED_") || k.starts_with("CONSOLE_") {
            c.env_remove(k);
        }
    }
    let out = c.envs(env.iter().copied()).output().unwrap();
    let rows = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code(), rows, text(&out.stderr))
}

#[test]
fn the_config_template_lists_every_key_the_loader_knows_with_its_default_and_loads_clean() {
    let template = read("deploy/bondmap.toml");
    let known = known_settings();
    assert!(known.len() >= 10, "{known:?}");
    let problems = template_problems(&template, &known);
    assert!(problems.is_empty(), "deploy/bondmap.toml: {problems:#?}");
    // The same check finds a misspelt key, a wrong default, a missing key.
    let broken = template
        .replace("# max_attempts = 4", "# max_attempt = 4")
        .replace("# concurrency = 8", "# concurrency = 16")
        .replace("# app_secret = \"\"\n", "");
    let found = template_problems(&broken, &known);
    for p in [
        "[cainiao] max_attempts is missing",
        "[cainiao] max_attempt is no key the loader knows",
        "[cainiao] concurrency shows 16, its default is 8",
        "[red] app_secret is missing",
    ] {
        assert!(found.iter().any(|f| f == p), "{p} not in {found:#?}");
    }
    // As shipped (everything commented out) it loads clean; with every key set to what
    // it shows (those without a default given a value) it loads clean, to the defaults.
    let dir = tempfile::tempdir().unwrap();
    let keys = template_keys(&template);
    let mut uncommented = String::new();
    for line in template.lines() {
        match line.strip_prefix("# ").and_then(|kv| kv.split_once(" = ")) {
            Some((k, v)) if keys.keys().any(|(_, key)| key == k) => {
                let v = if v == "\"\"" {
                    // Long enough for every secret (the console's token: 24 characters).
                    "\"a-value-set-here-for-the-test\""
                } else {
                    v
                };
                uncommented.push_str(&format!("{k} = {v}\n"));
            }
            _ => {
                uncommented.push_str(line);
                uncommented.push('\n');
            }
        }
    }
    let set = dir.path().join("set.toml");
    std::fs::write(&set, &uncommented).unwrap();
    let secrets = [
        ("CAINIAO_APP_KEY", "CP"),
        ("CAINIAO_SECRET_KEY", "a-long-secret"),
        ("RED_APP_ID", "app"),
        ("RED_APP_SECRET", "secret"),
        ("RED_ACCESS_TOKEN", "token"),
        ("CONSOLE_TOKEN", "a-console-token-of-24-chars"),
        ("RED_REFRESH_TOKEN", "refresh"),
    ];
    let (code, shipped, err) = check(&root().join("deploy/bondmap.toml"), &secrets);
    assert_eq!(code, Some(0), "{err}");
    let (code, all_set, err) = check(&set, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(all_set
        .iter()
        .all(|s| s["origin"].as_str().unwrap().starts_with("file ")));
    assert_eq!(shipped.len(), all_set.len());
    for (a, b) in shipped.iter().zip(&all_set) {
        assert_eq!(a["key"], b["key"]);
        assert_eq!(a["value"], b["value"], "{a} {b}");
    }
}

/// `Key=value` lines of a unit file's section, continuation lines joined.
fn unit_section(text: &str, name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut pending = String::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l == format!("[{name}]");
            continue;
        }
        if !inside || l.starts_with('#') || l.is_empty() {
            continue;
        }
        pending.push_str(l.trim_end_matches('\\'));
        if l.ends_with('\\') {
            pending.push(' ');
            continue;
        }
        if let Some((k, v)) = pending.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
        pending.clear();
    }
    out
}

#[test]
fn the_unit_runs_as_its_own_user_confined_and_systemd_analyze_verifies_it() {
    let unit = read("deploy/bondmap.service");
    let service = unit_section(&unit, "Service");
    let get = |k: &str| -> Vec<String> {
        service
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let one = |k: &str| -> String {
        let v = get(k);
        assert_eq!(v.len(), 1, "{k}: {v:?}");
        v[0].clone()
    };
    assert_eq!(one("User"), "bondmap");
    assert_eq!(one("StateDirectory"), "bondmap");
    assert_eq!(one("ProtectSystem"), "strict");
    assert_eq!(one("NoNewPrivileges"), "yes");
    assert_eq!(one("Restart"), "on-failure");
    assert!(one("ExecReload").contains("-HUP $MAINPID"));
    assert!(!one("EnvironmentFile").is_empty());
    let start = one("ExecStart");
    for part in [
        "sync",
        "--interval",
        "--listen 127.0.0.1:",
        "--config /etc/bondmap/bondmap.toml",
        "--state /var/lib/bondmap/",
    ] {
        assert!(start.contains(part), "{part} not in {start}");
    }
    // The state is in the one directory the unit may write.
    assert!(start.contains(&format!("/var/lib/{}/", one("StateDirectory"))));
    // The user the unit runs as is the one deploy/sysusers.conf makes.
    assert!(read("deploy/sysusers.conf")
        .lines()
        .any(|l| l.starts_with("u bondmap ")));
    // The settings it starts with hold: the config file it names is the template's.
    assert!(one("ExecStartPre").contains("config check --config /etc/bondmap/bondmap.toml"));
    let which = Command::new("sh")
        .args(["-c", "command -v systemd-analyze"])
        .output()
        .unwrap();
    if !which.status.success() {
        eprintln!("systemd-analyze is not on this machine: checked the unit's directives only");
        return;
    }
    // verify wants the binary the unit starts to exist: this build's, in a copy.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("bondmap.service");
    std::fs::write(
        &copy,
        unit.replace("/usr/local/bin/bondmap", env!("CARGO_BIN_EXE_bondmap")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    eprintln!("ran systemd-analyze verify on the unit");
    assert!(out.status.success(), "{said}");
    // An unknown or misspelt directive is only a warning to verify: none is allowed.
    assert!(!said.contains("bondmap.service"), "{said}");
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_as_a_user_with_a_health_check() {
    let file = read("deploy/Dockerfile");
    // Instructions, continuation lines joined.
    let mut lines: Vec<String> = Vec::new();
    let mut pending = String::new();
    for l in file.lines() {
        let l = l.trim();
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        pending.push_str(l.trim_end_matches('\\'));
        if !l.ends_with('\\') {
            lines.push(std::mem::take(&mut pending));
        }
    }
    let stages: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("FROM "))
        .map(|(i, _)| i)
        .collect();
    assert!(stages.len() >= 2, "not multi-stage: {lines:?}");
    let build_name = lines[stages[0]]
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    assert!(lines[stages[0]].contains(" AS "), "{}", lines[stages[0]]);
    let last = &lines[*stages.last().unwrap()..];
    // The final stage carries the binary only, not the toolchain.
    assert!(!last[0].contains("rust"), "{}", last[0]);
    assert!(last
        .iter()
        .any(|l| l.starts_with(&format!("COPY --from={build_name} ")) && l.contains("bondmap")));
    let user: Vec<&String> = last.iter().filter(|l| l.starts_with("USER ")).collect();
    // One USER, so nothing switches back to root after it.
    assert_eq!(user.len(), 1, "{last:?}");
    let who = user[0]["USER ".len()..].split(':').next().unwrap().trim();
    assert!(who != "root" && who != "0" && !who.is_empty(), "USER {who}");
    let health: Vec<&String> = last
        .iter()
        .filter(|l| l.starts_with("HEALTHCHECK "))
        .collect();
    assert_eq!(health.len(), 1);
    assert!(health[0].contains("/healthz"), "{}", health[0]);
    // The health check asks the address sync listens on.
    let cmd = last.iter().find(|l| l.starts_with("CMD ")).unwrap();
    let port = health[0]
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap();
    assert!(cmd.contains(&format!("0.0.0.0:{port}")), "{cmd}");
    assert!(last.iter().any(|l| l == &format!("EXPOSE {port}")));
    assert!(last
        .iter()
        .any(|l| l.starts_with("VOLUME ") && l.contains("/var/lib/bondmap")));
    assert!(
        cmd.contains("/var/lib/bondmap/"),
        "the state is not on the volume: {cmd}"
    );
    // Everything the build copies is let through its ignore file.
    let ignore = read("deploy/Dockerfile.dockerignore");
    for l in &lines {
        if let Some(rest) = l.strip_prefix("COPY ").filter(|r| !r.starts_with("--from")) {
            let words: Vec<&str> = rest.split_whitespace().collect();
            for src in &words[..words.len() - 1] {
                let src = src.trim_end_matches('/');
                assert!(
                    ignore
                        .lines()
                        .any(|i| i.trim_start_matches('!').trim_end_matches('/') == src),
                    "{src} is copied but the ignore file keeps it out"
                );
                assert!(root().join(src).exists(), "{src} is not in the repository");
            }
        }
    }
}

#[test]
fn backup_copies_a_state_a_writer_holds_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut w = Store::open_exclusive(&db).unwrap();
    for i in 0..20 {
        let id = format!("B{i:03}");
        w.record_seen(&id, i).unwrap();
        w.mark_sending(&id).unwrap();
        w.mark_accepted(&id, Some("LBX")).unwrap();
    }
    w.record_seen("HALF", 1).unwrap();
    let out_db = dir.path().join("copy.db");
    let args = [
        "backup",
        "--state",
        db.to_str().unwrap(),
        out_db.to_str().unwrap(),
    ];
    let out = bondmap(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("21 orders"),
        "{}",
        text(&out.stdout)
    );
    // The copy is a state of its own: status reads it, no -wal needed beside it.
    assert!(!dir.path().join("copy.db-wal").exists());
    let st = bondmap(&[
        "status",
        "--format",
        "json",
        "--state",
        out_db.to_str().unwrap(),
    ]);
    assert_eq!(st.status.code(), Some(0), "{}", text(&st.stderr));
    let v: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["counts"]["accepted"], 20);
    assert_eq!(v["counts"]["seen"], 1);
    drop(w);
    let again = bondmap(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("exists"),
        "{}",
        text(&again.stderr)
    );
    let copy = Store::open(&out_db).unwrap();
    assert_eq!(copy.get("B007").unwrap().unwrap().stage, Stage::Accepted);
}
