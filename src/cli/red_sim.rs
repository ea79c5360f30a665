//! `bondmap red-sim`: a local RED open API on 127.0.0.1 serving a folder of orders.

use crate::red::sim::{load_folder, RedSimOptions};
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    #[arg(long, default_value = "examples/orders")]
    pub orders: PathBuf,
    /// Add this round trip to every answer, as the real API's (benchmarks).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
}

pub fn run(a: &Args) -> u8 {
    red_sim(a.port, &a.orders, a.latency_ms)
}

pub(super) const DEMO_APP_ID: &str = "demo-app";

pub(super) const DEMO_SECRET: &str = "demo-red-secret";

pub(super) const DEMO_TOKEN: &str = "demo-token";

fn red_sim_options() -> RedSimOptions {
    let env = |k: &str, d: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_string())
    };
    RedSimOptions {
        app_id: env("RED_APP_ID", DEMO_APP_ID),
        app_secret: env("RED_APP_SECRET", DEMO_SECRET),
        access_token: env("RED_ACCESS_TOKEN", DEMO_TOKEN),
        ..RedSimOptions::default()
    }
}

fn red_sim(port: u16, orders: &Path, latency_ms: u64) -> u8 {
    let opts = RedSimOptions {
        latency: std::time::Duration::from_millis(latency_ms),
        ..red_sim_options()
    };
    let h = match crate::red::sim::spawn(port, opts) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: cannot serve on 127.0.0.1:{port}: {e}");
            return 2;
        }
    };
    match load_folder(&h, orders) {
        Ok(n) => eprintln!("RED open API simulator on {} with {n} orders", h.url()),
        Err(e) => {
            eprintln!("error: {}: {e}", orders.display());
            return 2;
        }
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
