//! `bondmap sync`: pull RED orders to ship, map them, send them to Cainiao; record every
//! step (once, or a round every `--interval`).

use super::common::{
    init_logs_as, inputs_of, print_line, say, setup_set, LifeArgs, LogFormat, MappingArgs,
};
use crate::callback::{self, CallbackConfig, CallbackKey};
use crate::console::config::ConsoleConfig;
use crate::console::Console;
use crate::health::{self, Failure, Health};
use crate::store::Stage;
use crate::sync::customs::Intake;
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
use tracing::Level;

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
    /// syncing, e.g. `127.0.0.1:8790`; each shipment is then told to RED. `/healthz`
    /// and `/metrics` are served there too, and the operator's console at `/` when
    /// `[console] token` (or CONSOLE_TOKEN) is set.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// The log on stderr: `text` (times at +08:00) or `json` (one object a line, and
    /// then everything sync writes to stderr is one).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
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
            log_format: a.log_format,
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
    pub log_format: LogFormat,
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
    init_logs_as(run.log_format);
    let error = |e: &dyn std::fmt::Display| {
        say(Level::ERROR, &e.to_string());
        2
    };
    let since = match run
        .since
        .map(chrono::DateTime::parse_from_rfc3339)
        .transpose()
    {
        Ok(s) => s.map(|t| t.timestamp()),
        Err(e) => {
            return error(&format!(
                "--since: {e} (give an RFC 3339 time such as 2026-11-24T08:00:00+08:00)"
            ))
        }
    };
    let stop = match stop_flag() {
        Ok(f) => f,
        Err(e) => return error(&e),
    };
    // SIGHUP reloads between rounds of `--interval` (one round keeps its default).
    let hup = match run.interval.map(|_| hangup_flag()).transpose() {
        Ok(f) => f,
        Err(e) => return error(&e),
    };
    let mut inputs = inputs_of(m, run.life, run.cfg);
    // In a repo whose bondmap.toml names a base, the message mappings are the base set's.
    inputs.cancel_map = crate::repo::message_mapping(&inputs.cancel_map);
    inputs.deliver_map = crate::repo::message_mapping(&inputs.deliver_map);
    // The console's settings are checked at start, served or not: a short token is a
    // mistake to hear of now, not when `--listen` is added.
    let console = match ConsoleConfig::load(run.cfg) {
        Ok(c) => c,
        Err(e) => {
            e.lines().iter().for_each(|l| {
                say(Level::ERROR, l);
            });
            return 2;
        }
    };
    let Some((mut set, mut store)) = setup_set(&inputs, state, run.force) else {
        return 2;
    };
    let health = Health::new(
        state.to_path_buf(),
        run.interval.map(|s| Duration::from_secs(s.max(1))),
    );
    let (wake_tx, wake_rx) = channel::<()>();
    let customs_tables = crate::sync::customs::tables_dir(&inputs.cancel_map);
    // What the served paths take from a SIGHUP's reload.
    let mut served_now: Option<Served> = None;
    // Kept alive for the whole run: dropping it stops the server.
    let _server = match run.listen {
        None => None,
        Some(addr) => {
            // Customs results too: their tables, and the rounds' RED client (its tokens,
            // its pace) to mask a failure's reason with the order's personal values.
            let intake = match Intake::load(&customs_tables, set.red.clone()) {
                Ok(i) => i,
                Err(e) => return error(&e),
            };
            let served = Served {
                intake,
                key: CallbackKey::new(set.gateway.config().secret_key.clone()),
                console: console.token.clone().map(|token| {
                    Console::new(
                        state.to_path_buf(),
                        health.clone(),
                        token,
                        console.behind_tls,
                    )
                }),
            };
            let server = serve(addr, state, &health, wake_tx, &served);
            served_now = Some(served);
            match server {
                Ok(s) => Some(s),
                Err(e) => return error(&e),
            }
        }
    };
    // A progress bar is no JSON line: with a JSON log, progress only as log events.
    set.progress = run.log_format == LogFormat::Text || !super::common::stderr_is_tty();
    reload::installed(&set);
    let mut first = true;
    // RED's authorization expired: said once, not every round until it is renewed.
    let mut unauthorized = false;
    loop {
        token_to_health(&health, &set.red);
        let now = chrono::Utc::now().timestamp();
        let from = if first { since } else { None };
        let started = Instant::now();
        let result = set.with_pipeline(&mut store, |p| p.round(from, now, &mut print_line));
        let took = started.elapsed();
        // What the round learnt of the token (refreshed, or authorization expired).
        token_to_health(&health, &set.red);
        first = false;
        let code = match result {
            Ok(r) => {
                let at = chrono::Utc::now().timestamp_millis();
                health.round_ok(at);
                crate::metrics::round_done(took, Some(at));
                say(Level::INFO, &format!(
                    "round: {} orders: {} accepted, {} rejected, {} failed, {} skipped, {} cancelled, {} shipped, {} delivered",
                    r.lines,
                    r.count(Stage::Accepted),
                    r.count(Stage::Rejected),
                    r.count(Stage::Failed),
                    r.count(Stage::Skipped),
                    r.count(Stage::Cancelled),
                    r.count(Stage::Shipped),
                    r.count(Stage::Delivered),
                ));
                unauthorized = false;
                u8::from(!r.settled())
            }
            Err(e) => {
                health.round_failed(failure_of(&e));
                crate::metrics::round_done(took, None);
                // RED's authorization expired: said once, then quiet until it is renewed.
                let expired = matches!(e, SyncError::Unauthorized(_));
                let said = expired && unauthorized;
                unauthorized = expired;
                if said {
                    2
                } else {
                    error(&e)
                }
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
                let reloaded = reload::reload(&mut set, &inputs, &mut store);
                if let (reload::Reloaded::Swapped { .. }, Some(now)) = (&reloaded, &served_now) {
                    now.reloaded(&set, &customs_tables, run.cfg);
                }
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
                        error(&e);
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
            say(Level::INFO, "stopped by a signal: the last round finished, the state is saved; run sync again to go on");
            return 0;
        }
    }
}

/// What the served paths take from a SIGHUP's reload, for what comes after it; each a
/// handle on what they run with.
struct Served {
    /// The customs tables and the set's RED client.
    intake: Intake,
    /// The Cainiao secret key notices are checked with (one signed with the old key is
    /// refused, and Cainiao sends it again).
    key: CallbackKey,
    /// The console, when it had a token at start: a changed token ends its sessions.
    console: Option<Console>,
}

impl Served {
    fn reloaded(&self, set: &reload::RunSet, tables: &Path, cfg: Option<&Path>) {
        // The tables were checked by the reload; read again now, they may have changed
        // since (then the running ones go on, said once).
        if let Err(e) = self.intake.replace(tables, set.red.clone()) {
            say(
                Level::ERROR,
                &format!("the customs tables were not reloaded: {e}"),
            );
        }
        let secret = set.gateway.config().secret_key.clone();
        if *self.key.current() != secret {
            self.key.set(secret);
            say(
                Level::INFO,
                "the Cainiao secret key changed: sends and the callback use the new one from now on",
            );
        }
        let loaded = match ConsoleConfig::load(cfg) {
            Ok(c) => c,
            Err(e) => {
                for l in e.lines() {
                    say(Level::ERROR, &format!("the console keeps its token: {l}"));
                }
                return;
            }
        };
        match (&self.console, loaded.token) {
            (Some(console), token) => {
                let gone = token.is_none();
                if console.access().set_token(token) {
                    say(
                        Level::WARN,
                        if gone {
                            "the console's token was taken away: nobody gets in until one is set again"
                        } else {
                            "the console's token changed: the sessions opened with the old one are ended"
                        },
                    );
                }
            }
            (None, Some(_)) => say(
                Level::WARN,
                "a console token is set: the console is served once sync starts again",
            ),
            (None, None) => {}
        }
    }
}

/// The callback, `/healthz`, `/metrics` and (with its token) the operator's console on
/// `addr`, within the callback's limits.
fn serve(
    addr: SocketAddr,
    state: &Path,
    health: &Arc<Health>,
    wake: std::sync::mpsc::Sender<()>,
    served: &Served,
) -> Result<crate::http::Server, String> {
    let sink = StoreSink::open(state, Some(wake))
        .map_err(|e| e.to_string())?
        .with_customs(served.intake.clone());
    let cfg = CallbackConfig::with_key(served.key.clone());
    let limits = callback::server::limits(&cfg);
    let mut app = callback::server::router(cfg, Arc::new(sink))
        .merge(health::router(health.clone()))
        .merge(crate::metrics::router(state.to_path_buf()));
    if let Some(console) = &served.console {
        app = app.merge(crate::console::router(console.clone()));
    }
    let app = app.fallback(callback::server::not_found);
    let server = crate::http::Server::start(addr, app, limits)
        .map_err(|e| format!("--listen {addr}: {e}"))?;
    let at = server.addr();
    say(
        Level::INFO,
        &format!(
            "receiving Cainiao's shipment notices at http://{at}{}; health at http://{at}{}, metrics at http://{at}{}",
            callback::server::PATH,
            health::PATH,
            crate::metrics::PATH
        ),
    );
    if served.console.is_some() {
        say(
            Level::INFO,
            &format!("the operator's console at http://{at}/"),
        );
    } else {
        say(
            Level::INFO,
            "the operator's console is not served: it needs a token ([console] token or CONSOLE_TOKEN, 24 characters at least)",
        );
    }
    Ok(server)
}

/// What health and `/metrics` show of the RED token, as `red` knows it: its expiry when
/// RED has said it (or, for an access token used alone, the latest it can live), whether
/// the authorization has expired, and the warning of an access token without a refresh
/// token from a day before it expires.
fn token_to_health(health: &Health, red: &crate::red::RedClient) {
    use crate::red::AuthState;
    let (expires_at, expired, warning) = match red.auth_state() {
        AuthState::Renewed { expires_at } => (expires_at, false, None),
        AuthState::NotRenewed { expires_by, warn } => (
            expires_by,
            false,
            warn.then(|| {
                format!(
                    "no refresh token: the RED access token expires by {}; set RED_REFRESH_TOKEN or authorize the app again (`bondmap auth --code …`)",
                    expires_by.map_or_else(|| "soon".to_string(), crate::logs::iso_ms)
                )
            }),
        ),
        AuthState::Expired => (red.token_expires_at(), true, None),
    };
    health.set_token(expires_at, expired, warning);
    crate::metrics::set_token_expiry(expires_at);
}

/// Why a round failed, as health tells it.
fn failure_of(e: &SyncError) -> Failure {
    match e {
        SyncError::List(r @ crate::red::RedError::Api { .. }) => Failure::RedError(r.to_string()),
        SyncError::List(r) => Failure::Red(r.to_string()),
        SyncError::Store(s) => Failure::State(s.to_string()),
        SyncError::Stopped(m) => Failure::Other(m.clone()),
        SyncError::Unauthorized(r) => Failure::RedError(r.to_string()),
    }
}
