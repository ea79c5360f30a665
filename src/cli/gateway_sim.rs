//! `bondmap gateway-sim`: a local Cainiao gateway on 127.0.0.1 for trying `send`.

use crate::gateway::sim::{run_blocking, SimOptions};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Answer HTTP 500 to the first N requests.
    #[arg(long, default_value_t = 0)]
    pub fail_first: u32,
    /// Answer the first N requests after --delay-ms.
    #[arg(long, default_value_t = 0)]
    pub delay_first: u32,
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Answer a non-JSON body to the first N requests.
    #[arg(long, default_value_t = 0)]
    pub garbage_first: u32,
    /// Refuse this externalOrderCode with a business error (repeatable).
    #[arg(long)]
    pub reject: Vec<String>,
    /// Answer HTTP 429 (Retry-After: 1) to the first N requests.
    #[arg(long, default_value_t = 0)]
    pub throttle_first: u32,
    /// Add this round trip to every answer, as a real gateway's (benchmarks).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
}

pub fn run(a: &Args) -> u8 {
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
        reject: a.reject.iter().cloned().collect(),
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
