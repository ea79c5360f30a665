//! Health and the figures of `/metrics` at a glance: the same verdict `/healthz` gives
//! (last round, token expiry, what waits), the RED calls and gateway requests by outcome
//! as `/metrics` counts them (read from its own text, so the two never disagree), the
//! rounds run, and the orders Cainiao accepted in each of the last 24 hours (from the
//! history).

use crate::health::Health;
use crate::metrics::StateFigures;
use crate::store::{Stage, Store};
use chrono::{DateTime, Duration, FixedOffset, Timelike, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Hours the orders-per-hour figure covers.
pub const HOURS: i64 = 24;

#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// What `/healthz` answers now (`status`, `reason`, `last_round_ok_at`,
    /// `token_expires_at`, `needs_person`).
    pub health: Value,
    /// RED requests by outcome (`ok`, `refused`, `retry`) since `sync` started.
    pub red_calls: BTreeMap<String, u64>,
    /// Gateway requests by outcome (`accepted`, `duplicate`, `rejected`, `retry`).
    pub gateway_requests: BTreeMap<String, u64>,
    /// Rounds run since `sync` started.
    pub rounds: u64,
    /// Orders Cainiao accepted in each of the last [`HOURS`] hours, oldest first.
    pub orders_per_hour: Vec<Hour>,
    /// The same in the last hour (the current one so far) and in all those hours.
    pub orders_this_hour: u64,
    pub orders_last_day: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hour {
    /// The hour's start at +08:00 (`2026-11-22T09:00+08:00`).
    pub hour: String,
    pub orders: u64,
}

/// The figures now, the orders by stage and `needs_person` as the caller read them
/// (what it lists).
pub fn read(
    store: &Store,
    health: &Health,
    counts: Vec<(Stage, u64)>,
    needs_person: usize,
) -> Result<Figures, String> {
    let now = Utc::now();
    let (_, health) = health.verdict(now.timestamp_millis(), Ok(needs_person as u64));
    let text = crate::metrics::render(&StateFigures {
        orders: counts,
        needs_person: needs_person as u64,
    })
    .map_err(|e| format!("cannot read the metrics: {e}"))?;
    let samples = samples(&text);
    let by = |name: &str, label: &str| -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (n, labels, v) in &samples {
            if n == name {
                let k = labels.get(label).cloned().unwrap_or_default();
                *m.entry(k).or_default() += *v as u64;
            }
        }
        m
    };
    let rounds = samples
        .iter()
        .find(|(n, _, _)| n == "bondmap_round_duration_seconds_count")
        .map_or(0, |(_, _, v)| *v as u64);
    let orders_per_hour = per_hour(store, now)?;
    Ok(Figures {
        health,
        red_calls: by("bondmap_red_calls_total", "outcome"),
        gateway_requests: by("bondmap_gateway_requests_total", "outcome"),
        rounds,
        orders_this_hour: orders_per_hour.last().map_or(0, |h| h.orders),
        orders_last_day: orders_per_hour.iter().map(|h| h.orders).sum(),
        orders_per_hour,
    })
}

/// The orders accepted in each of the [`HOURS`] hours up to `now`'s, every hour listed.
fn per_hour(store: &Store, now: DateTime<Utc>) -> Result<Vec<Hour>, String> {
    let this = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    let first = this - Duration::hours(HOURS - 1);
    // The history's times are RFC 3339 in UTC ("…Z"): compared as text, hour by prefix.
    let since = first.format("%Y-%m-%dT%H").to_string();
    let found: BTreeMap<String, u64> = store
        .moves_per_hour(Stage::Accepted, &since)
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let china = FixedOffset::east_opt(8 * 3600);
    Ok((0..HOURS)
        .map(|i| {
            let t = first + Duration::hours(i);
            let key = t.format("%Y-%m-%dT%H").to_string();
            let hour = match china {
                Some(tz) => t.with_timezone(&tz).format("%Y-%m-%dT%H:00%:z").to_string(),
                None => key.clone(),
            };
            Hour {
                hour,
                orders: found.get(&key).copied().unwrap_or(0),
            }
        })
        .collect())
}

type Sample = (String, BTreeMap<String, String>, f64);

/// The samples of a Prometheus text: name, labels, value (comments and lines that do not
/// read are left out).
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match key.split_once('{') {
                Some((n, rest)) => (n, labels(rest.strip_suffix('}')?)),
                None => (key, BTreeMap::new()),
            };
            Some((name.to_string(), labels, value))
        })
        .collect()
}

/// `a="x",b="y"` (the values bondmap's labels hold: methods, outcomes, stages, a hash;
/// none with a quote or a comma in it).
fn labels(s: &str) -> BTreeMap<String, String> {
    s.split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_read_names_labels_and_values() {
        let s = samples(
            "# HELP x\nbondmap_red_calls_total{method=\"order.getOrderList\",outcome=\"ok\"} 3\nbondmap_round_duration_seconds_count 2\n# EOF\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1["outcome"], "ok");
        assert_eq!(s[0].2, 3.0);
        assert_eq!(s[1].0, "bondmap_round_duration_seconds_count");
    }

    #[test]
    fn every_hour_of_the_day_is_listed_with_its_orders() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        for id in ["A", "B"] {
            s.record_seen(id, 1).unwrap();
            s.mark_sending(id).unwrap();
            s.mark_accepted(id, None).unwrap();
        }
        let hours = per_hour(&s, Utc::now()).unwrap();
        assert_eq!(hours.len(), HOURS as usize);
        // In the last hour (or the one before, when the test ran across the hour).
        let recent: u64 = hours[hours.len() - 2..].iter().map(|h| h.orders).sum();
        assert_eq!(recent, 2, "{hours:?}");
        assert_eq!(hours.iter().map(|h| h.orders).sum::<u64>(), 2);
        assert!(hours[0].hour.ends_with(":00+08:00"), "{}", hours[0].hour);
    }
}
