//! `bondmap red-sim`: a local RED open API on 127.0.0.1 serving a folder of orders.

use crate::red::sim::{load_folder, RedSimOptions};
use crate::red::sim_auth::SimAuthOptions;
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
    /// Access tokens live this long (refresh tokens twice as long); default RED's 7 days.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub token_lifetime_secs: Option<u64>,
    /// An authorization code `oauth.getAccessToken` takes for 10 minutes from start
    /// (`bondmap auth --code`).
    #[arg(long, default_value = DEMO_CODE)]
    pub auth_code: String,
}

pub fn run(a: &Args) -> u8 {
    red_sim(a)
}

pub(super) const DEMO_APP_ID: &str = "demo-app";

pub(super) const DEMO_SECRET: &str = "demo-red-secret";

pub(super) const DEMO_TOKEN: &str = "demo-token";

/// The refresh token issued with the demo access token (unless RED_REFRESH_TOKEN is set).
const DEMO_REFRESH_TOKEN: &str = "demo-refresh-token";

const DEMO_CODE: &str = "demo-code";

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

fn red_sim(a: &Args) -> u8 {
    let refresh = std::env::var("RED_REFRESH_TOKEN")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEMO_REFRESH_TOKEN.to_string());
    let opts = RedSimOptions {
        latency: std::time::Duration::from_millis(a.latency_ms),
        auth: SimAuthOptions {
            refresh_token: refresh,
            access_lifetime: a.token_lifetime_secs.map(Duration::from_secs),
            refresh_lifetime: None,
            codes: vec![a.auth_code.clone()],
        },
        ..red_sim_options()
    };
    let (port, orders) = (a.port, a.orders.as_path());
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
