//! The set `sync` runs with (clients from the settings, the routes and their mappings
//! and tables, the cancel and ship-back mappings), loaded whole and checked before it is
//! used, at start and again on SIGHUP.
//!
//! A reload builds a new set beside the running one; only when every part of it loads
//! and checks does it take the running one's place, between rounds (the signal only sets
//! a flag: a round under way finishes with the set it started with). Otherwise every
//! problem is logged through `tracing` (so a JSON log carries each one) and the running
//! set goes on unchanged. A new set whose mapping identity differs is recorded in the
//! state: a reload is the operator's explicit choice, as `--force` is at start.

use super::route::routed_identity;
use super::{Life, Pipeline, Routing, SyncError};
use crate::compile::Options;
use crate::config::ConfigErrors;
use crate::diag::Diag;
use crate::engine::MappingErrors;
use crate::gateway::{Client, GatewayConfig};
use crate::red::config::RedConfig;
use crate::red::RedClient;
use crate::route::Router;
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What a set is loaded from: the same at start and at every reload.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The `--mapping` file (a routes file or a warehouse mapping).
    pub mapping: PathBuf,
    /// `--param`, `--table`, `--root`.
    pub options: Options,
    /// The config file (`--config`); the environment is read again too.
    pub config: Option<PathBuf>,
    pub cancel_map: PathBuf,
    pub deliver_map: PathBuf,
}

/// One thing wrong with a set.
#[derive(Debug)]
pub enum Problem {
    /// A mistake in the settings (never a value).
    Settings(String),
    /// A mapping, routes file or table that does not load or check.
    Mapping(Box<MappingErrors>),
    /// A client that cannot be built.
    Client(String),
}

impl Problem {
    /// As `sync` prints it at start (to a terminal, `color`).
    pub fn render(&self, color: bool) -> String {
        match self {
            Problem::Settings(m) | Problem::Client(m) => format!("error: {m}\n"),
            Problem::Mapping(e) => e.render(color),
        }
    }

    /// How many mistakes it holds (a mapping's errors, each).
    pub fn count(&self) -> usize {
        match self {
            Problem::Mapping(e) => e.diags.iter().filter(|d| d.is_error()).count().max(1),
            _ => 1,
        }
    }

    /// Logged through `tracing`: one event per diagnostic.
    pub fn log(&self) {
        match self {
            Problem::Settings(m) => tracing::error!(kind = "settings", "{m}"),
            Problem::Client(m) => tracing::error!(kind = "client", "{m}"),
            Problem::Mapping(e) => {
                for d in crate::diag::to_json(&e.mapping.sources, &e.diags, &e.name) {
                    let help = d.help.as_deref().unwrap_or("");
                    let at = format!(
                        "{}:{}:{}",
                        d.file,
                        d.line.unwrap_or(0),
                        d.column.unwrap_or(0)
                    );
                    match d.severity {
                        crate::diag::Severity::Error => {
                            tracing::error!(kind = "mapping", at = %at, code = d.code, help, "{}", d.message)
                        }
                        _ => {
                            tracing::warn!(kind = "mapping", at = %at, code = d.code, help, "{}", d.message)
                        }
                    }
                }
            }
        }
    }
}

/// The clients `sync` and `retry` talk through, from the settings of `config` and the
/// environment; every mistake of both sections at once.
pub fn clients(config: Option<&Path>) -> Result<(RedClient, Client), Vec<Problem>> {
    let red = RedConfig::load(config);
    let gw = GatewayConfig::load(config);
    let (red, gw) = match (red, gw) {
        (Ok(r), Ok(g)) => (r, g),
        (r, g) => {
            let mut all = ConfigErrors::default();
            all.extend(r.err().into_iter().flat_map(|e| e.0));
            all.extend(g.err().into_iter().flat_map(|e| e.0));
            return Err(all.lines().into_iter().map(Problem::Settings).collect());
        }
    };
    let red = RedClient::new(red).map_err(|e| vec![Problem::Client(e)])?;
    let gw = Client::new(gw).map_err(|e| vec![Problem::Client(e)])?;
    Ok((red, gw))
}

/// Everything a round runs with.
pub struct RunSet {
    /// Shared with the callback's customs intake, which fetches through it too.
    pub red: Arc<RedClient>,
    pub gateway: Client,
    pub router: Router,
    /// The mapping identity of the set, as the state records it.
    identity: String,
    mapping: PathBuf,
    /// Its compiled programs are kept across rounds; lent to each pipeline.
    life: Option<Life>,
    /// A progress bar or progress lines in each round.
    pub progress: bool,
}

impl RunSet {
    /// Loads and checks every part, reporting every problem found (the settings and the
    /// mappings both, not only the first). The cancel and ship-back mappings must compile
    /// for every warehouse too: one that does not would park orders for a person.
    pub fn load(inputs: &Inputs) -> Result<RunSet, Vec<Problem>> {
        let mut problems = Vec::new();
        let clients = clients(inputs.config.as_deref())
            .map_err(|p| problems.extend(p))
            .ok();
        let customs = super::customs_config::CustomsConfig::load(inputs.config.as_deref())
            .map_err(|e| problems.extend(e.lines().into_iter().map(Problem::Settings)))
            .ok();
        let router = Router::load(&inputs.mapping, &inputs.options)
            .map_err(|e| problems.push(Problem::Mapping(e)))
            .ok();
        if let Some(r) = &router {
            if r.mapping(0).is_none() {
                problems.push(Problem::Client(format!(
                    "{} names no mapping",
                    inputs.mapping.display()
                )));
            }
            problems.extend(life_problems(r, inputs));
        }
        match (clients, router, customs) {
            (Some((red, gateway)), Some(router), Some(customs)) if problems.is_empty() => {
                let mut life = Life::new(inputs.cancel_map.clone(), inputs.deliver_map.clone());
                life.customs.config = customs;
                if router.is_plain() {
                    life.fallback_warehouse = Some(inputs.mapping.clone());
                }
                let identity = routed_identity(&router, &inputs.mapping, &inputs.options.params);
                Ok(RunSet {
                    red: Arc::new(red),
                    gateway,
                    router,
                    identity,
                    mapping: inputs.mapping.clone(),
                    life: Some(life),
                    progress: false,
                })
            }
            _ => Err(problems),
        }
    }

    /// The mapping identity of the running set (what `/metrics` shows).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The checker's warnings of the set's mappings.
    pub fn warnings(&self) -> &[Diag] {
        self.router.warnings()
    }

    /// Runs `f` on a pipeline over this set and `store`.
    pub fn with_pipeline<R>(
        &mut self,
        store: &mut Store,
        f: impl FnOnce(&mut Pipeline) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        let routing = Routing::new(&self.router, &self.mapping);
        let Some(mut p) = Pipeline::routed(&self.red, &self.gateway, routing, store) else {
            return Err(SyncError::Stopped(format!(
                "{} names no mapping",
                self.mapping.display()
            )));
        };
        p.life = self.life.take();
        p.options.progress = self.progress;
        let r = f(&mut p);
        self.life = p.life.take();
        r
    }
}

/// The cancel and ship-back mappings compiled for every warehouse of `router`, as the
/// round will compile them; what does not compile would park orders for a person.
fn life_problems(router: &Router, inputs: &Inputs) -> Vec<Problem> {
    let mut out = Vec::new();
    // The customs mappings (beside the ship-back one) and tables (beside the cancel one).
    let customs = super::customs::Setup::beside(&inputs.deliver_map);
    for (warehouse, _) in router.programs() {
        for message in [&inputs.cancel_map, &inputs.deliver_map] {
            if let Err(e) =
                crate::warehouse::load_for_warehouse(message, warehouse, &Options::default())
            {
                out.push(Problem::Mapping(e));
            }
        }
        out.extend(
            customs
                .problems(warehouse)
                .into_iter()
                .map(Problem::Mapping),
        );
    }
    let tables = super::customs::tables_dir(&inputs.cancel_map);
    if let Err(e) = super::customs_tables::Tables::load(&tables) {
        out.extend(e.iter().map(|e| Problem::Settings(e.to_string())));
    }
    out
}

/// Set by SIGHUP; read between rounds. Registering it ends SIGHUP's default (the
/// process killed, exit 129).
pub fn hangup_flag() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, flag.clone())
        .map_err(|e| format!("cannot handle SIGHUP: {e}"))?;
    Ok(flag)
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// The new set runs from the next round.
    Swapped { identity_changed: bool },
    /// Something was wrong (each problem logged): the running set goes on.
    Kept { problems: usize },
}

/// Loads a new set from `inputs` and puts it in `current`'s place when it is whole; the
/// state records the new mapping identity.
pub fn reload(current: &mut RunSet, inputs: &Inputs, store: &mut Store) -> Reloaded {
    tracing::info!("SIGHUP: reloading the settings, mappings, routes and tables");
    let mut new = match RunSet::load(inputs) {
        Ok(s) => s,
        Err(problems) => {
            for p in &problems {
                p.log();
            }
            let n = problems.iter().map(Problem::count).sum();
            tracing::error!(
                problems = n,
                "reload refused: the running settings and mappings go on unchanged"
            );
            return Reloaded::Kept { problems: n };
        }
    };
    let identity_changed = new.identity != current.identity;
    if identity_changed {
        if let Err(e) = store.set_mapping_identity(&new.identity) {
            tracing::error!(
                "reload refused: the new mapping identity cannot be recorded in the state: {e}"
            );
            return Reloaded::Kept { problems: 1 };
        }
    }
    for w in new.warnings() {
        tracing::warn!(kind = "mapping", code = w.code.as_str(), "{}", w.message);
    }
    // RED's tokens are state, not settings: the running authorization goes on.
    // A set just loaded holds the only handle on its client.
    if let Some(red) = Arc::get_mut(&mut new.red) {
        red.share_auth(&current.red);
    }
    let progress = current.progress;
    *current = new;
    current.progress = progress;
    tracing::info!(
        identity = short(&current.identity),
        identity_changed,
        "reloaded: the next round runs with the new settings and mappings"
    );
    installed(current);
    Reloaded::Swapped { identity_changed }
}

/// Called when a set starts to run (at start and after each reload): what the rest of
/// the process shows of the running set follows it from here.
pub fn installed(set: &RunSet) {
    tracing::info!(identity = short(&set.identity), "running mapping set");
    crate::metrics::set_mapping_set(&set.identity);
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
