//! `bondmap auth --code CODE`: exchanges the code of the merchant's authorization for
//! RED's tokens (`oauth.getAccessToken`) and keeps them in the state, where `sync` takes
//! them (a running one from its next round).

use crate::red::auth::shown_time;
use crate::red::{RedClient, RedConfig, RedError};
use crate::sync::tokens::StateTokens;
use std::path::PathBuf;
use std::sync::Arc;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The code RED put in the authorization's callback address (`?code=…`); it lives 10
    /// minutes.
    #[arg(long)]
    pub code: String,
    /// The state database (SQLite) the tokens are kept in: the one `sync` runs with.
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// TOML file with a [red] table; the environment wins.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Exit 0 with the tokens kept, 1 when RED refused the code, 2 when it could not run.
pub fn run(a: &Args) -> u8 {
    let code = a.code.trim();
    if code.is_empty() {
        eprintln!("error: --code is blank: give the code RED put in the callback address");
        return 2;
    }
    let cfg = match RedConfig::load(a.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            for l in e.lines() {
                eprintln!("error: {l}");
            }
            return 2;
        }
    };
    let client = match RedClient::new(cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // Its own connection, no writer's lock: a `sync` may hold the state meanwhile.
    let keeper = match StateTokens::open(&a.state) {
        Ok(k) => Arc::new(k),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // Whatever tokens the state holds are replaced.
    client.save_tokens_in(keeper);
    match client.authorize(code) {
        Ok(t) => {
            println!(
                "RED authorized the app: the tokens are kept in {} (access token until {}, refresh token until {}); sync uses them, a running one from its next round",
                a.state.display(),
                shown_time(t.access_expires_at),
                shown_time(t.refresh_expires_at)
            );
            0
        }
        Err(e) if e.is_passing() => {
            eprintln!(
                "error: RED could not be asked ({e}); try again while the code lives (10 minutes)"
            );
            2
        }
        Err(e @ RedError::Api { .. }) => {
            eprintln!("error: RED refused the code: {e} (a code lives 10 minutes: authorize again for a new one)");
            1
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
