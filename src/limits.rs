//! Size limits of a target field (`maxLength`, `minLength`, and `x-decimal` such as Cainiao's `N19,5`):
//! read from the schema, checked on every value written, never fixed by cutting it short.
//!
//! A length counts characters (Unicode scalar values), not bytes: Cainiao's lengths are
//! Java `String` lengths, and a Chinese address of 200 characters is 600 bytes of UTF-8.
//! (A Java length counts UTF-16 units; the two differ only outside the BMP, e.g. emoji.)

use crate::money::parse_decimal;
use crate::value::Val;
use serde_json::Value;

/// The limits a field's schema sets; the default sets none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `maxLength`: the most characters a string may have.
    pub max_length: Option<usize>,
    /// `minLength`: the fewest characters a string may have (a 10-digit HS code).
    pub min_length: Option<usize>,
    /// `x-decimal: "N19,5"`: a decimal (or decimal text) of at most `digits` digits, of
    /// which at most `scale` after the point.
    pub decimal: Option<Precision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precision {
    pub digits: u32,
    pub scale: u32,
}

impl Limits {
    /// The limits of one schema node, or what is wrong with them.
    pub fn from_schema(v: &Value) -> Result<Limits, String> {
        let length = |key: &str| match v.get(key) {
            None => Ok(None),
            Some(m) => m
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| format!("`{key}` must be a whole number, not {m}")),
        };
        let max_length = length("maxLength")?;
        let min_length = length("minLength")?;
        if let (Some(min), Some(max)) = (min_length, max_length) {
            if min > max {
                return Err(format!("`minLength` {min} is above `maxLength` {max}"));
            }
        }
        let decimal = match v.get("x-decimal") {
            None => None,
            Some(d) => Some(
                d.as_str()
                    .and_then(Precision::parse)
                    .ok_or_else(|| format!("`x-decimal` must read like \"N19,5\", not {d}"))?,
            ),
        };
        Ok(Limits {
            max_length,
            min_length,
            decimal,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.max_length.is_none() && self.min_length.is_none() && self.decimal.is_none()
    }

    /// Whether a written value keeps to the limits. The message gives lengths and digit
    /// counts only, never the value: the field may hold personal data.
    pub fn check(&self, v: &Val) -> Result<(), String> {
        if let Val::Str(s) = v {
            let len = s.chars().count();
            if let Some(max) = self.max_length.filter(|&max| len > max) {
                return Err(format!(
                    "the value is {len} characters long, over the field's limit of {max} \
                     (counted in characters, not bytes); it is not cut short"
                ));
            }
            if let Some(min) = self.min_length.filter(|&min| len < min) {
                return Err(format!(
                    "the value is {len} characters long, under the field's minimum of {min}"
                ));
            }
        }
        if let Some(p) = self.decimal {
            match v {
                Val::Str(s) => p.check_text(s)?,
                Val::Num(a) => p.check_digits(&a.value.normalize().to_string())?,
                _ => {}
            }
        }
        Ok(())
    }
}

impl Precision {
    /// `N19,5` (as Cainiao writes it) or `19,5`.
    pub fn parse(s: &str) -> Option<Precision> {
        let (digits, scale) = s.strip_prefix('N').unwrap_or(s).split_once(',')?;
        let p = Precision {
            digits: digits.trim().parse().ok()?,
            scale: scale.trim().parse().ok()?,
        };
        (p.scale <= p.digits && p.digits > 0).then_some(p)
    }

    /// A decimal text: plain digits with an optional point, no sign, exponent or spaces.
    fn check_text(&self, s: &str) -> Result<(), String> {
        let plain = !s.is_empty()
            && !s.starts_with('.')
            && !s.ends_with('.')
            && s.chars().all(|c| c.is_ascii_digit() || c == '.')
            && s.matches('.').count() <= 1
            && parse_decimal(s).is_some();
        if !plain {
            return Err(format!(
                "the value is not a plain decimal number (the field takes N{},{})",
                self.digits, self.scale
            ));
        }
        self.check_digits(s)
    }

    /// Counts the digits of a decimal's text (a sign is not a digit).
    fn check_digits(&self, s: &str) -> Result<(), String> {
        let s = s.trim_start_matches('-');
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let frac = frac.len() as u32;
        let int = int.trim_start_matches('0').len() as u32;
        if frac > self.scale {
            return Err(format!(
                "the value has {frac} decimal places, over the field's {} (N{},{}); round it explicitly",
                self.scale, self.digits, self.scale
            ));
        }
        if int + self.scale > self.digits {
            return Err(format!(
                "the value has {int} digits before the point, over the field's {} (N{},{})",
                self.digits - self.scale,
                self.digits,
                self.scale
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Amount;
    use serde_json::json;
    use std::borrow::Cow;

    fn text(s: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(s))
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let l = Limits::from_schema(&json!({"type": "string", "maxLength": 3})).unwrap();
        // Three Chinese characters are nine bytes of UTF-8 and still fit.
        assert!(l.check(&text("西湖区")).is_ok());
        let e = l.check(&text("西湖区a")).unwrap_err();
        assert!(
            e.contains("4 characters") && e.contains("limit of 3"),
            "{e}"
        );
        assert!(!e.contains("西湖"), "the value is never shown: {e}");
    }

    #[test]
    fn bad_limits_are_schema_errors() {
        assert!(Limits::from_schema(&json!({"maxLength": -1})).is_err());
        assert!(Limits::from_schema(&json!({"maxLength": "9"})).is_err());
        assert!(Limits::from_schema(&json!({"x-decimal": "N5,6"})).is_err());
        assert!(Limits::from_schema(&json!({"x-decimal": 5})).is_err());
        assert!(Limits::from_schema(&json!({"minLength": 3, "maxLength": 2})).is_err());
        assert!(Limits::from_schema(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn an_hs_code_has_exactly_ten_digits() {
        let l = Limits::from_schema(
            &json!({"type": "string", "minLength": 10, "maxLength": 10, "x-decimal": "N10,0"}),
        )
        .unwrap();
        assert!(
            l.check(&text("0101210010")).is_ok(),
            "a leading zero is a digit"
        );
        for bad in ["330499009", "33049900991", "3304.90009", "33049900 9"] {
            assert!(l.check(&text(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn n19_5_takes_five_places_and_fourteen_whole_digits() {
        let l = Limits::from_schema(&json!({"x-decimal": "N19,5"})).unwrap();
        for ok in ["0", "0.5", "1.00", "10", "0.12345", "12345678901234.5"] {
            assert!(l.check(&text(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "0.123456",
            "123456789012345",
            "1e3",
            "-1",
            " 1",
            "1.",
            ".5",
            "",
            "1.2.3",
        ] {
            assert!(l.check(&text(bad)).is_err(), "{bad}");
        }
        let n = |s: &str| Val::Num(Amount::new(parse_decimal(s).unwrap(), None));
        assert!(
            l.check(&n("1.500000")).is_ok(),
            "trailing zeros are no places"
        );
        assert!(l.check(&n("0.000001")).is_err());
    }
}
