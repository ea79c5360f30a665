//! `bondmap request`, `bondmap send`, `bondmap gateway-sim`.

use super::map::{compile_or_report, read_json, single_input, InputError};
use super::{InputArgs, MappingArgs};
use crate::compile::Program;
use crate::gateway::sim::{run_blocking, SimOptions};
use crate::gateway::{Client, GatewayConfig, GatewayRequest, PreparedOrder};
use std::io::{BufRead, Write};
use std::path::Path;

fn config(path: Option<&Path>) -> Option<GatewayConfig> {
    match GatewayConfig::load(path) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

/// The gateway request for one mapped order.
fn prepare(
    prog: &Program,
    cfg: &GatewayConfig,
    interface: String,
) -> Result<PreparedOrder, String> {
    let v: serde_json::Value = serde_json::from_str(&interface).map_err(|e| e.to_string())?;
    let code = v
        .get("externalOrderCode")
        .and_then(|c| c.as_str())
        .ok_or("the request has no externalOrderCode")?
        .to_string();
    Ok(PreparedOrder {
        order_id: code.clone(),
        external_order_code: code,
        request: GatewayRequest {
            logistic_provider_id: prog
                .settings
                .logistic_provider_id
                .clone()
                .unwrap_or_else(|| cfg.app_key.expose().to_string()),
            msg_type: prog.settings.msg_type.clone(),
            logistics_interface: interface,
            to_code: prog.settings.to_code.clone(),
        },
    })
}

pub fn request(m: &MappingArgs, i: &InputArgs, form: bool, cfg_path: Option<&Path>) -> u8 {
    let Some(cfg) = config(cfg_path) else {
        return 2;
    };
    let Some(prog) = compile_or_report(m) else {
        return 2;
    };
    let doc = match single_input(i) {
        Ok(d) => d,
        Err(e) => return e.report(),
    };
    let interface = match crate::run::run(&prog, &doc) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rejected: {e}");
            return 1;
        }
    };
    let p = match prepare(&prog, &cfg, interface) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rejected: {e}");
            return 1;
        }
    };
    if form {
        println!("{}", p.request.form_body(&cfg.secret_key));
    } else {
        let fields: serde_json::Map<String, serde_json::Value> = p
            .request
            .form_fields(&cfg.secret_key)
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect();
        println!("{}", serde_json::Value::Object(fields));
    }
    0
}

/// An input document with a label for messages (file name or line), or why it is unreadable.
type Labelled = (String, Result<serde_json::Value, String>);

/// Every input document named by the arguments.
fn documents(i: &InputArgs) -> Result<Vec<Labelled>, String> {
    let mut out = Vec::new();
    if let Some(src) = &i.ndjson {
        let reader: Box<dyn BufRead> = if src == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(src).map_err(|e| format!("cannot read {src}: {e}"))?,
            ))
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| e.to_string())?;
            if line.trim().is_empty() {
                continue;
            }
            out.push((
                format!("line {}", n + 1),
                serde_json::from_str(&line).map_err(|e| format!("not valid JSON: {e}")),
            ));
        }
    } else if let Some(dir) = i.input.as_deref().filter(|p| p.is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let doc = read_json(&f).map_err(|e| match e {
                InputError::Io(m) | InputError::Json(m) => m,
            });
            out.push((f.display().to_string(), doc));
        }
    } else {
        let label = i
            .input
            .as_ref()
            .map_or("input".to_string(), |p| p.display().to_string());
        match single_input(i) {
            Ok(d) => out.push((label, Ok(d))),
            Err(InputError::Json(m)) => out.push((label, Err(m))),
            Err(InputError::Io(m)) => return Err(m),
        }
    }
    Ok(out)
}

pub fn send(m: &MappingArgs, i: &InputArgs, cfg_path: Option<&Path>, concurrency: usize) -> u8 {
    // Credentials first: nothing is mapped or sent without them.
    let Some(cfg) = config(cfg_path) else {
        return 2;
    };
    let Some(prog) = compile_or_report(m) else {
        return 2;
    };
    let docs = match documents(i) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut prepared = Vec::new();
    let mut not_mapped = 0u64;
    for (label, doc) in docs {
        let mapped = doc
            .and_then(|d| crate::run::run(&prog, &d).map_err(|e| e.to_string()))
            .and_then(|s| prepare(&prog, &cfg, s));
        match mapped {
            Ok(p) => prepared.push(p),
            Err(e) => {
                not_mapped += 1;
                let line = serde_json::json!({"input": label, "outcome": "rejected_by_mapping", "error": e});
                let _ = writeln!(out, "{line}");
            }
        }
    }
    let client = match Client::new(cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let bar = if super::stderr_is_tty() && prepared.len() > 1 {
        let b = indicatif::ProgressBar::new(prepared.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sent {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let summary = client.send_batch(prepared, concurrency, |r| {
        if let Ok(line) = serde_json::to_string(r) {
            let _ = writeln!(out, "{line}");
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    eprintln!(
        "{} accepted, {} rejected by the gateway, {} failed, {} duplicates skipped, {} rejected by the mapping",
        summary.accepted, summary.rejected, summary.failed, summary.skipped_duplicate, not_mapped
    );
    u8::from(summary.rejected + summary.failed + not_mapped > 0)
}

/// The arguments of `bondmap gateway-sim`.
pub struct SimArgs {
    pub port: u16,
    pub fail_first: u32,
    pub delay_first: u32,
    pub delay_ms: u64,
    pub garbage_first: u32,
    pub reject: Vec<String>,
    pub throttle_first: u32,
    pub latency_ms: u64,
}

pub fn sim(a: SimArgs) -> u8 {
    let secret = std::env::var("CAINIAO_SECRET_KEY")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "sim-secret".to_string());
    let port = a.port;
    let opts = SimOptions {
        secret,
        fail_first: a.fail_first,
        delay_first: a.delay_first,
        delay: std::time::Duration::from_millis(a.delay_ms),
        garbage_first: a.garbage_first,
        reject: a.reject.into_iter().collect(),
        throttle_first: a.throttle_first,
        latency: std::time::Duration::from_millis(a.latency_ms),
        ..SimOptions::default()
    };
    match run_blocking(port, opts) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot serve on 127.0.0.1:{port}: {e}");
            2
        }
    }
}
