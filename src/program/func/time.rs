//! The time built-ins' evaluation: `format_time`, `parse_time` (their table entries are in
//! [`super`]). RED's times are ms since 1970; the text is China Standard Time (UTC+8).

use super::args::{Args, CallError};
use crate::money::Amount;
use crate::program::codes::RunCode;
use crate::value::Val;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::fmt::Write as _;

type R<'a> = Result<Val<'a>, CallError>;

pub(super) fn format<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    let ms = match a.val(0)? {
        Val::Null => return Ok(Val::Null),
        Val::Num(n) => i64::try_from(n.value.trunc())
            .map_err(|_| CallError::At(0, RunCode::Arithmetic, "the number is too large".into()))?,
        v => {
            return Err(CallError::At(
                0,
                RunCode::Type,
                format!("expected milliseconds since 1970, found {}", v.kind()),
            ))
        }
    };
    let fmt = a.text(1, "the format")?;
    Ok(Val::Str(Cow::Owned(
        format_time(ms, &fmt).map_err(|m| CallError::At(1, RunCode::Format, m))?,
    )))
}

pub(super) fn parse<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    let Some(text) = a.str(0)? else {
        return Ok(Val::Null);
    };
    let fmt = a.text(1, "the format")?;
    let ms = parse_time(&text, &fmt).map_err(|m| CallError::At(0, RunCode::Format, m))?;
    Ok(Val::Num(Amount::new(Decimal::from(ms), None)))
}

/// Formats a RED time (ms since 1970) in China Standard Time (UTC+8), strftime-style.
fn format_time(ms: i64, fmt: &str) -> Result<String, String> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item> = StrftimeItems::new(fmt).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(format!("bad time format `{fmt}`"));
    }
    let tz = chrono::FixedOffset::east_opt(8 * 3600).ok_or("bad offset")?;
    let t = chrono::DateTime::from_timestamp_millis(ms)
        .ok_or("time out of range")?
        .with_timezone(&tz);
    let mut s = String::new();
    write!(s, "{}", t.format_with_items(items.into_iter()))
        .map_err(|_| format!("bad time format `{fmt}`"))?;
    Ok(s)
}

/// Reads a China Standard Time (UTC+8) text of the strftime-style `fmt` as ms since 1970:
/// the inverse of [`format_time`]. A date without a time of day is its midnight.
fn parse_time(text: &str, fmt: &str) -> Result<i64, String> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    let tz = chrono::FixedOffset::east_opt(8 * 3600).ok_or("bad offset")?;
    let local = NaiveDateTime::parse_from_str(text, fmt)
        .or_else(|e| {
            NaiveDate::parse_from_str(text, fmt)
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
                .map_err(|_| e)
        })
        .map_err(|e| format!("`{text}` is not a time of the form `{fmt}`: {e}"))?;
    tz.from_local_datetime(&local)
        .single()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("`{text}` is not a time in China Standard Time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_china_standard_time() {
        // 2026-11-21 02:00:00 UTC is 10:00 in Beijing.
        assert_eq!(
            format_time(1_795_226_400_000, "%Y-%m-%d %H:%M:%S").unwrap(),
            "2026-11-21 10:00:00"
        );
        assert!(format_time(0, "%Q").is_err());
    }

    #[test]
    fn parse_time_is_the_inverse_of_format_time() {
        let f = "%Y-%m-%d %H:%M:%S";
        assert_eq!(
            parse_time("2026-11-21 10:00:00", f).unwrap(),
            1_795_226_400_000
        );
        for ms in [0, 1_795_226_400_000, 1_612_341_639_000] {
            assert_eq!(parse_time(&format_time(ms, f).unwrap(), f).unwrap(), ms);
        }
        assert_eq!(
            parse_time("2026-11-21", "%Y-%m-%d").unwrap(),
            1_795_190_400_000
        );
        let e = parse_time("2026-13-01 10:00:00", f).unwrap_err();
        assert!(e.contains("2026-13-01 10:00:00"), "{e}");
        assert!(parse_time("22/11/2026", f).is_err());
        assert!(parse_time("", f).is_err());
    }
}
