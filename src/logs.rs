//! How bondmap's logs tell time: ISO 8601 at +08:00 (China Standard Time, the clock of
//! RED, Cainiao and the shop), in the log lines' own stamp and in the fields that carry a
//! time, never epoch seconds.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// +08:00; `None` cannot happen for this offset, but is not unwrapped.
fn china() -> Option<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
}

fn iso(t: DateTime<Utc>) -> String {
    match china() {
        Some(tz) => t
            .with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Millis, false),
        None => t.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// Epoch seconds as `2026-11-24T08:00:00.000+08:00` (the number itself when out of range).
pub fn iso_secs(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0).map_or_else(|| secs.to_string(), iso)
}

/// Epoch milliseconds the same way.
pub fn iso_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), iso)
}

/// An RFC 3339 time the state keeps (UTC) the same way; a text that is not one, as it is.
pub fn iso_text(t: &str) -> String {
    DateTime::parse_from_rfc3339(t).map_or_else(|_| t.to_string(), |d| iso(d.to_utc()))
}

/// The stamp of each log line, text or JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChinaTime;

impl FormatTime for ChinaTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", iso(Utc::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_at_plus_eight() {
        assert_eq!(iso_secs(1_764_000_000), "2025-11-25T00:00:00.000+08:00");
        assert_eq!(iso_ms(1_764_000_000_123), "2025-11-25T00:00:00.123+08:00");
        assert_eq!(iso_secs(i64::MAX), i64::MAX.to_string());
        assert_eq!(
            iso_text("2025-11-24T16:00:00.123Z"),
            "2025-11-25T00:00:00.123+08:00"
        );
        assert_eq!(iso_text("yesterday"), "yesterday");
    }
}
