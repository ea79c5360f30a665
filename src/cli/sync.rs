//! `bondmap sync`: pull RED orders to ship, map them, send them to Cainiao; record every
//! step (once, or a round every `--interval`).

use super::common::{init_logs, inputs_of, print_line, setup_set, LifeArgs, MappingArgs};
use crate::callback::{CallbackConfig, Receiver};
use crate::store::Stage;
use crate::sync::reload::{self, hangup_flag};
use crate::sync::{life, StoreSink, SyncError};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// The state database (SQLite).
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// One round, then exit (the default).
    #[arg(long, conflicts_with = "interval")]
    pub once: bool,
    /// Run a round every SECS seconds until stopped (SIGTERM/SIGINT: after the round;
    /// SIGHUP: the settings and mappings loaded again between rounds).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<u64>,
    /// Start the round at this time (RFC 3339) instead of the checkpoint.
    #[arg(long)]
    pub since: Option<String>,
    /// TOML file with [red] and [cainiao] tables; the environment wins.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run even though the state was made with another mapping (records this one).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub life: LifeArgs,
    /// Serve Cainiao's shipment notices on ADDR (`POST /cainiao/callback`) while
    /// syncing, e.g. `127.0.0.1:8790`; each shipment is then told to RED.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

pub fn run(a: &Args) -> u8 {
    sync(
        &a.mapping,
        &a.state,
        SyncRun {
            interval: a.interval,
            since: a.since.as_deref(),
            cfg: a.config.as_deref(),
            force: a.force,
            life: &a.life,
            listen: a.listen,
        },
    )
}

/// What `sync` was asked to do besides the mapping and the state.
struct SyncRun<'a> {
    pub interval: Option<u64>,
    pub since: Option<&'a str>,
    pub cfg: Option<&'a Path>,
    pub force: bool,
    pub life: &'a LifeArgs,
    pub listen: Option<SocketAddr>,
}

/// Set by SIGTERM or SIGINT; read between rounds. A second signal ends the process at
/// once (exit 1): the state is consistent at every commit, so that too is resumable.
fn stop_flag() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGTERM, SIGINT] {
        signal_hook::flag::register_conditional_shutdown(sig, 1, flag.clone())
            .and_then(|_| signal_hook::flag::register(sig, flag.clone()))
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    Ok(flag)
}

fn sync(m: &MappingArgs, state: &Path, run: SyncRun) -> u8 {
    init_logs();
    let since = match run
        .since
        .map(chrono::DateTime::parse_from_rfc3339)
        .transpose()
    {
        Ok(s) => s.map(|t| t.timestamp()),
        Err(e) => {
            eprintln!(
                "error: --since: {e} (give an RFC 3339 time such as 2026-11-24T08:00:00+08:00)"
            );
            return 2;
        }
    };
    let stop = match stop_flag() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // SIGHUP reloads between rounds of `--interval` (one round keeps its default).
    let hup = match run.interval.map(|_| hangup_flag()).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let inputs = inputs_of(m, run.life, run.cfg);
    let Some((mut set, mut store)) = setup_set(&inputs, state, run.force) else {
        return 2;
    };
    let (wake_tx, wake_rx) = channel::<()>();
    // Kept alive for the whole run: dropping it stops the receiver.
    let _receiver = match run.listen {
        None => None,
        Some(addr) => {
            let sink = match StoreSink::open(state, Some(wake_tx)) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let cfg = CallbackConfig::new(set.gateway.config().secret_key.clone());
            match Receiver::start(addr, cfg, Arc::new(sink)) {
                Ok(r) => {
                    eprintln!("receiving Cainiao's shipment notices at {}", r.url());
                    Some(r)
                }
                Err(e) => {
                    eprintln!("error: --listen {addr}: {e}");
                    return 2;
                }
            }
        }
    };
    set.progress = true;
    reload::installed(&set);
    let mut first = true;
    // RED's authorization expired: said once, not every round until it is renewed.
    let mut unauthorized = false;
    loop {
        let now = chrono::Utc::now().timestamp();
        let from = if first { since } else { None };
        let result = set.with_pipeline(&mut store, |p| p.round(from, now, &mut print_line));
        first = false;
        let code = match result {
            Ok(r) => {
                eprintln!(
                    "round: {} orders: {} accepted, {} rejected, {} failed, {} skipped, {} cancelled, {} shipped, {} delivered",
                    r.lines,
                    r.count(Stage::Accepted),
                    r.count(Stage::Rejected),
                    r.count(Stage::Failed),
                    r.count(Stage::Skipped),
                    r.count(Stage::Cancelled),
                    r.count(Stage::Shipped),
                    r.count(Stage::Delivered),
                );
                unauthorized = false;
                u8::from(!r.settled())
            }
            Err(e) => {
                let expired = matches!(e, SyncError::Unauthorized(_));
                if !(expired && unauthorized) {
                    eprintln!("error: {e}");
                }
                unauthorized = expired;
                2
            }
        };
        let Some(secs) = run.interval else {
            return code;
        };
        // Between rounds: shipments told to RED as their notices come; a signal ends the
        // wait (the round before it finished whole).
        let until = Instant::now() + Duration::from_secs(secs.max(1));
        while !stop.load(Ordering::SeqCst) {
            if hup
                .as_ref()
                .is_some_and(|h| h.swap(false, Ordering::SeqCst))
            {
                reload::reload(&mut set, &inputs, &mut store, run.listen.is_some());
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match wake_rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(()) => {
                    while wake_rx.try_recv().is_ok() {}
                    let told = set.with_pipeline(&mut store, |p| {
                        life::deliver_due(p, &mut |l| print_line(&l))
                    });
                    if let Err(e) = told {
                        eprintln!("error: {e}");
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                // No receiver: nothing wakes us but the clock.
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(left.min(Duration::from_millis(200)))
                }
            }
        }
        if stop.load(Ordering::SeqCst) {
            eprintln!("stopped by a signal: the last round finished, the state is saved; run sync again to go on");
            return 0;
        }
    }
}
