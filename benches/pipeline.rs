//! The order pipeline end to end: `bondmap sync --once` (the binary of the profile built, a child
//! process) against the local RED simulator and gateway simulator answering with a set
//! latency. Prints, per latency, orders/s, RED calls per order, the most RED calls in any
//! one-second window, and the child's peak memory.
//!
//! `cargo bench --profile dev --bench pipeline -- [ORDERS] [LATENCIES_MS]`, default `1000 0,50,200`;
//! `cargo bench --profile dev --bench pipeline -- 10000 0` for the memory of a 10,000-order round.

use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const APP: &str = "bench-app";
const RED_SECRET: &str = "bench-red-secret";
const TOKEN: &str = "bench-token";
const GW_SECRET: &str = "bench-gw-secret";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `n` valid orders made from the bundled examples that are accepted, updated in the last
/// twenty minutes.
fn orders(n: usize, now: i64) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/orders"))
        .expect("examples/orders")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.to_string_lossy().contains("reject"))
        .collect();
    files.sort();
    let templates: Vec<Value> = files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("example")).expect("json"))
        .collect();
    (0..n)
        .map(|i| {
            let mut d = templates[i % templates.len()].clone();
            let id = format!("B{i:07}");
            d["detail"]["orderId"] = id.clone().into();
            d["detail"]["updateTime"] = ((now - 1200 + (i as i64 % 1100)) * 1000).into();
            d["receiver"]["receiverInfos"][0]["orderId"] = id.into();
            d
        })
        .collect()
}

fn red_calls(red: &RedSimHandle) -> u64 {
    u64::from(red.total_calls())
}

/// The child's peak resident set (VmHWM), read until it exits.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

struct Figures {
    secs: f64,
    accepted: usize,
    red_calls: u64,
    red_max_per_second: u64,
    gateway_requests: u32,
    peak_mb: f64,
}

fn run(n: usize, latency: Duration, state: &Path) -> Figures {
    let now = chrono::Utc::now().timestamp();
    let red = bondmap::red::sim::spawn(
        0,
        RedSimOptions {
            app_id: APP.into(),
            app_secret: RED_SECRET.into(),
            access_token: TOKEN.into(),
            latency,
            ..RedSimOptions::default()
        },
    )
    .expect("RED simulator");
    let gw: SimHandle = bondmap::gateway::sim::spawn(
        0,
        SimOptions {
            secret: GW_SECRET.into(),
            latency,
            ..SimOptions::default()
        },
    )
    .expect("gateway simulator");
    for o in orders(n, now) {
        red.add_order(o);
    }
    let _ = std::fs::remove_file(state);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args([
            "sync",
            "--once",
            "--mapping",
            "mappings/warehouses/hangzhou_xiasha.map",
            "--state",
        ])
        .arg(state)
        // The window a running sync reads (checkpoint less the overlap), not the first
        // round's day of look-back: the orders were updated in the last 20 minutes.
        .arg("--since")
        .arg(
            chrono::DateTime::from_timestamp(now - 1500, 0)
                .expect("time")
                .to_rfc3339(),
        )
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .env("RED_APP_ID", APP)
        .env("RED_APP_SECRET", RED_SECRET)
        .env("RED_ACCESS_TOKEN", TOKEN)
        .env("RED_API_URL", red.url())
        .env("CAINIAO_APP_KEY", "BENCH_CP")
        .env("CAINIAO_SECRET_KEY", GW_SECRET)
        .env("CAINIAO_GATEWAY_URL", gw.url())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("bondmap sync");
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak = peak.max(kb);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let secs = started.elapsed().as_secs_f64();
    // The simulator logs the time of every call: the most in any one-second window.
    let most = red.max_calls_in_any_second() as u64;
    Figures {
        secs,
        accepted: gw.created().len(),
        red_calls: red_calls(&red),
        red_max_per_second: most,
        gateway_requests: gw.requests(),
        peak_mb: peak as f64 / 1024.0,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours. Without it (`cargo test
    // --all-targets` runs this too) one small round checks that the bench still works.
    let bench = std::env::args().any(|a| a == "--bench");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(if bench { 1000 } else { 20 });
    let latencies: Vec<u64> = args
        .get(1)
        .map(|a| a.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| if bench { vec![0, 50, 200] } else { vec![0] });
    let dir = std::env::temp_dir().join(format!("bondmap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!("| latency | orders | accepted | seconds | orders/s | RED calls/order | most RED calls in 1 s | gateway requests | peak RSS |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for ms in latencies {
        let f = run(
            n,
            Duration::from_millis(ms),
            &dir.join(format!("state-{ms}.db")),
        );
        println!(
            "| {ms} ms | {n} | {} | {:.1} | {:.1} | {:.2} | {} | {} | {:.1} MB |",
            f.accepted,
            f.secs,
            n as f64 / f.secs,
            f.red_calls as f64 / n as f64,
            f.red_max_per_second,
            f.gateway_requests,
            f.peak_mb
        );
        assert_eq!(f.accepted, n, "every order accepted once");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
