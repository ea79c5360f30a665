//! `/metrics`: what a running `sync` shows Prometheus, in its text format
//! (prometheus-client, OpenMetrics text).
//!
//! Counted as they happen, process-wide: every RED request by method and outcome (one
//! call in [`crate::red::RedClient`]), every gateway request by message type and outcome
//! (one in [`crate::gateway::Client`]), each round's duration and the last success, the
//! RED token's expiry when known, and the mapping set that runs. Read from the state at
//! each scrape: the orders in each stage (every stage, 0 included, so they sum to the
//! orders in the state) and how many wait for a person. No label carries an order id or
//! anything personal: methods, message types, outcomes, stages and the mapping identity
//! (a hash) only.

use crate::http::{blocking, Reply};
use crate::store::{Stage, Store};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;
use std::time::Duration;

/// The path Prometheus scrapes.
pub const PATH: &str = "/metrics";

/// Outcomes of one RED request: an answer used, a definite refusal, or a passing fault
/// that is tried again (or at the next round).
pub const RED_OK: &str = "ok";
pub const RED_REFUSED: &str = "refused";
pub const RED_RETRY: &str = "retry";

/// Outcomes of one gateway request.
pub const GW_ACCEPTED: &str = "accepted";
pub const GW_DUPLICATE: &str = "duplicate";
pub const GW_REJECTED: &str = "rejected";
pub const GW_RETRY: &str = "retry";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RedLabels {
    method: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GatewayLabels {
    msg_type: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MappingLabel {
    identity: String,
}

/// A gauge that has no sample until its value is known (never a made-up 0).
type Known = Family<Vec<(String, String)>, Gauge<f64, AtomicU64>>;

struct Metrics {
    registry: Registry,
    orders: Family<StageLabel, Gauge>,
    needs_person: Gauge,
    red_calls: Family<RedLabels, Counter>,
    gateway: Family<GatewayLabels, Counter>,
    round_duration: Histogram,
    last_success: Known,
    token_expiry: Known,
    mapping: Family<MappingLabel, Gauge>,
}

/// Round durations: a quiet round takes well under a second, a day's backlog minutes.
const ROUND_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let m = Metrics {
        registry: Registry::default(),
        orders: Family::default(),
        needs_person: Gauge::default(),
        red_calls: Family::default(),
        gateway: Family::default(),
        round_duration: Histogram::new(ROUND_BUCKETS),
        last_success: Known::default(),
        token_expiry: Known::default(),
        mapping: Family::default(),
    };
    let mut r = m.registry;
    r.register(
        "bondmap_orders",
        "Orders in the state, by stage",
        m.orders.clone(),
    );
    r.register(
        "bondmap_needs_person",
        "Orders and notices waiting for a person",
        m.needs_person.clone(),
    );
    // The registry adds `_total` to a counter's name.
    r.register(
        "bondmap_red_calls",
        "RED open API requests, by method and outcome (ok, refused, retry)",
        m.red_calls.clone(),
    );
    r.register(
        "bondmap_gateway_requests",
        "Cainiao gateway requests, by msg_type and outcome (accepted, duplicate, rejected, retry)",
        m.gateway.clone(),
    );
    r.register(
        "bondmap_round_duration_seconds",
        "How long each sync round took",
        m.round_duration.clone(),
    );
    r.register(
        "bondmap_last_round_success_timestamp_seconds",
        "When the last round that succeeded ended (Unix time)",
        m.last_success.clone(),
    );
    r.register(
        "bondmap_red_token_expiry_timestamp_seconds",
        "When the RED access token expires (Unix time); no sample while unknown",
        m.token_expiry.clone(),
    );
    r.register(
        "bondmap_mapping_set_info",
        "The mapping set that runs: its identity (a hash of its files, tables and params)",
        m.mapping.clone(),
    );
    Metrics { registry: r, ..m }
});

/// One RED request whose outcome is known (`RED_OK`, `RED_REFUSED`, `RED_RETRY`).
pub fn red_call(method: &str, outcome: &'static str) {
    METRICS
        .red_calls
        .get_or_create(&RedLabels {
            method: method.to_string(),
            outcome,
        })
        .inc();
}

/// One gateway request whose outcome is known (`GW_*`).
pub fn gateway_request(msg_type: &str, outcome: &'static str) {
    METRICS
        .gateway
        .get_or_create(&GatewayLabels {
            msg_type: msg_type.to_string(),
            outcome,
        })
        .inc();
}

/// A round ended after `took`; `ok_at_ms`: when, if it succeeded.
pub fn round_done(took: Duration, ok_at_ms: Option<i64>) {
    METRICS.round_duration.observe(took.as_secs_f64());
    if let Some(ms) = ok_at_ms {
        set_known(&METRICS.last_success, Some(ms));
    }
}

/// The RED access token's expiry (ms), or `None` while it is not known.
pub fn set_token_expiry(ms: Option<i64>) {
    set_known(&METRICS.token_expiry, ms);
}

fn set_known(g: &Known, ms: Option<i64>) {
    match ms {
        Some(ms) => {
            g.get_or_create(&Vec::new()).set(ms as f64 / 1000.0);
        }
        None => g.clear(),
    }
}

/// The mapping set that runs from now on (at start and after each reload).
pub fn set_mapping_set(identity: &str) {
    METRICS.mapping.clear();
    METRICS
        .mapping
        .get_or_create(&MappingLabel {
            identity: identity.to_string(),
        })
        .set(1);
}

/// What is read from the state at each scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFigures {
    /// Every stage with its count.
    pub orders: Vec<(Stage, u64)>,
    /// Orders and notices a person must act on (what `status` lists).
    pub needs_person: u64,
}

impl StateFigures {
    /// Read without the writer's lock, while `sync` runs.
    pub fn read(state: &Path) -> Result<StateFigures, String> {
        let store = Store::open_read_only(state).map_err(|e| e.to_string())?;
        let orders = store.counts().map_err(|e| e.to_string())?;
        let people = store.needing_person().map_err(|e| e.to_string())?.len();
        let notices = store.notice_problems().map_err(|e| e.to_string())?.len();
        Ok(StateFigures {
            orders,
            needs_person: (people + notices) as u64,
        })
    }
}

/// The whole text Prometheus reads, with the state's figures as given.
pub fn render(figures: &StateFigures) -> Result<String, std::fmt::Error> {
    for (stage, n) in &figures.orders {
        METRICS
            .orders
            .get_or_create(&StageLabel {
                stage: stage.as_str(),
            })
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    METRICS
        .needs_person
        .set(i64::try_from(figures.needs_person).unwrap_or(i64::MAX));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &METRICS.registry)?;
    Ok(out)
}

/// `GET /metrics` over the state at `state`.
pub fn router(state: PathBuf) -> axum::Router {
    let state = std::sync::Arc::new(state);
    axum::Router::new().route(
        PATH,
        axum::routing::get(move || {
            let state = state.clone();
            async move { blocking(move || scrape(&state)).await }
        }),
    )
}

fn scrape(state: &Path) -> Reply {
    let text = StateFigures::read(state)
        .map_err(|e| format!("the state cannot be read: {e}"))
        .and_then(|f| render(&f).map_err(|e| format!("cannot write the metrics: {e}")));
    match text {
        Ok(t) => Reply::new(
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            t,
        ),
        Err(e) => Reply::new(503, "text/plain; charset=utf-8", format!("{e}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_shown_and_unknown_times_have_no_sample() {
        let figures = StateFigures {
            orders: Stage::ALL.iter().map(|s| (*s, 0)).collect(),
            needs_person: 0,
        };
        set_token_expiry(None);
        let text = render(&figures).unwrap();
        for s in Stage::ALL {
            assert!(
                text.contains(&format!("bondmap_orders{{stage=\"{}\"}} 0\n", s.as_str())),
                "{text}"
            );
        }
        assert!(!text.contains("bondmap_red_token_expiry_timestamp_seconds "));
        set_token_expiry(Some(1_764_000_000_500));
        let text = render(&figures).unwrap();
        assert!(
            text.contains("bondmap_red_token_expiry_timestamp_seconds 1764000000.5\n"),
            "{text}"
        );
        set_token_expiry(None);
    }

    #[test]
    fn the_mapping_set_shown_is_the_last_one_installed() {
        set_mapping_set("aaa");
        set_mapping_set("bbb");
        let text = render(&StateFigures {
            orders: Vec::new(),
            needs_person: 0,
        })
        .unwrap();
        assert!(
            text.contains("bondmap_mapping_set_info{identity=\"bbb\"} 1"),
            "{text}"
        );
        assert!(!text.contains("identity=\"aaa\""), "{text}");
    }
}
