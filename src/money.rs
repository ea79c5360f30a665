//! Exact amounts with units: decimals (never binary floats), conversions that refuse
//! to drop a fraction unless a rounding mode is given.

use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt;
use std::str::FromStr;

/// A unit an amount can carry. Units of one dimension convert into each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Yuan,
    Jiao,
    Fen,
    Kg,
    G,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Money,
    Weight,
}

impl Unit {
    /// Every unit (the playground's highlighting lists their names).
    pub const ALL: [Unit; 5] = [Unit::Yuan, Unit::Jiao, Unit::Fen, Unit::Kg, Unit::G];

    pub fn parse(s: &str) -> Option<Unit> {
        Some(match s {
            "yuan" => Unit::Yuan,
            "jiao" => Unit::Jiao,
            "fen" => Unit::Fen,
            "kg" => Unit::Kg,
            "g" => Unit::G,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Yuan => "yuan",
            Unit::Jiao => "jiao",
            Unit::Fen => "fen",
            Unit::Kg => "kg",
            Unit::G => "g",
        }
    }
    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Yuan | Unit::Jiao | Unit::Fen => Dimension::Money,
            Unit::Kg | Unit::G => Dimension::Weight,
        }
    }
    /// How many of the dimension's smallest unit (fen, gram) one of this unit is.
    pub(crate) fn scale(self) -> i64 {
        match self {
            Unit::Yuan => 100,
            Unit::Jiao => 10,
            Unit::Fen | Unit::G => 1,
            Unit::Kg => 1000,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to drop a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// .5 away from zero (commercial rounding, 四舍五入).
    HalfUp,
    /// .5 to the even neighbour (banker's rounding).
    HalfEven,
    /// Toward zero (truncate).
    Down,
}

impl Rounding {
    pub const NAMES: [&'static str; 3] = ["half_up", "half_even", "down"];
    pub fn parse(s: &str) -> Option<Rounding> {
        Some(match s {
            "half_up" => Rounding::HalfUp,
            "half_even" => Rounding::HalfEven,
            "down" => Rounding::Down,
            _ => return None,
        })
    }
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Down => RoundingStrategy::ToZero,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{value} {from} is not a whole number of {to}; give a rounding mode (half_up, half_even or down)")]
    Fraction {
        value: Decimal,
        from: Unit,
        to: Unit,
    },
    #[error("cannot convert {from} to {to}: they measure different things")]
    Dimension { from: Unit, to: Unit },
    #[error("the number is too large")]
    Overflow,
    #[error("division by zero")]
    DivByZero,
}

/// An exact number, with the unit it is counted in when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub value: Decimal,
    pub unit: Option<Unit>,
}

impl Amount {
    pub fn new(value: Decimal, unit: Option<Unit>) -> Self {
        Amount { value, unit }
    }

    /// Converts to `to`. Converting to a smaller unit (yuan → fen) must give a whole
    /// number of it, else `mode` decides; without a mode a lost fraction is an error.
    pub fn convert(self, to: Unit, mode: Option<Rounding>) -> Result<Amount, MoneyError> {
        let Some(from) = self.unit else {
            return Ok(Amount::new(self.value, Some(to)));
        };
        if from.dimension() != to.dimension() {
            return Err(MoneyError::Dimension { from, to });
        }
        let exact = self
            .value
            .checked_mul(Decimal::from(from.scale()))
            .and_then(|v| v.checked_div(Decimal::from(to.scale())))
            .ok_or(MoneyError::Overflow)?;
        let value = match mode {
            Some(m) => exact.round_dp_with_strategy(0, m.strategy()),
            None if exact.fract().is_zero() || to.scale() > 1 => exact,
            None => {
                return Err(MoneyError::Fraction {
                    value: self.value,
                    from,
                    to,
                })
            }
        };
        Ok(Amount::new(value.normalize(), Some(to)))
    }
}

/// Rounds to `dp` decimal places.
pub fn round(value: Decimal, dp: u32, mode: Rounding) -> Decimal {
    value.round_dp_with_strategy(dp, mode.strategy())
}

/// Parses a JSON number's text exactly (`12.34`, `1e3`, `-0.5`).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn yuan_to_fen_is_exact() {
        let a = Amount::new(d("19.99"), Some(Unit::Yuan));
        assert_eq!(a.convert(Unit::Fen, None).unwrap().value, d("1999"));
    }

    #[test]
    fn sums_in_decimal_have_no_float_error() {
        // 0.1 + 0.2 is 0.30000000000000004 in binary floats.
        let sum = d("0.1") + d("0.2");
        let a = Amount::new(sum, Some(Unit::Yuan));
        assert_eq!(a.convert(Unit::Fen, None).unwrap().value, d("30"));
    }

    #[test]
    fn a_lost_fraction_needs_a_rounding_mode() {
        let a = Amount::new(d("12.345"), Some(Unit::Yuan));
        let err = a.convert(Unit::Fen, None).unwrap_err();
        assert!(matches!(err, MoneyError::Fraction { .. }), "{err}");
        assert_eq!(
            a.convert(Unit::Fen, Some(Rounding::HalfUp)).unwrap().value,
            d("1235")
        );
        assert_eq!(
            a.convert(Unit::Fen, Some(Rounding::HalfEven))
                .unwrap()
                .value,
            d("1234")
        );
        assert_eq!(
            a.convert(Unit::Fen, Some(Rounding::Down)).unwrap().value,
            d("1234")
        );
    }

    #[test]
    fn fen_to_yuan_keeps_the_fraction() {
        let a = Amount::new(d("1999"), Some(Unit::Fen));
        assert_eq!(a.convert(Unit::Yuan, None).unwrap().value, d("19.99"));
    }

    #[test]
    fn grams_and_kilograms() {
        let a = Amount::new(d("1.25"), Some(Unit::Kg));
        assert_eq!(a.convert(Unit::G, None).unwrap().value, d("1250"));
        let a = Amount::new(d("0.0005"), Some(Unit::Kg));
        assert!(a.convert(Unit::G, None).is_err());
        assert_eq!(
            a.convert(Unit::G, Some(Rounding::HalfUp)).unwrap().value,
            d("1")
        );
    }

    #[test]
    fn money_is_not_weight() {
        let a = Amount::new(d("1"), Some(Unit::Kg));
        assert!(matches!(
            a.convert(Unit::Fen, None),
            Err(MoneyError::Dimension { .. })
        ));
    }

    #[test]
    fn half_up_goes_away_from_zero() {
        assert_eq!(round(d("536.5"), 0, Rounding::HalfUp), d("537"));
        assert_eq!(round(d("-536.5"), 0, Rounding::HalfUp), d("-537"));
        assert_eq!(round(d("536.25"), 0, Rounding::HalfUp), d("536"));
    }

    #[test]
    fn json_number_text_parses_exactly() {
        assert_eq!(parse_decimal("12800.0").unwrap(), d("12800"));
        assert_eq!(parse_decimal("1e3").unwrap(), d("1000"));
        assert_eq!(parse_decimal("0.1").unwrap(), d("0.1"));
    }
}
