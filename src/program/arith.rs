//! The arithmetic of the language's binary operators on exact decimals with their unit
//! rules, shared by the evaluator (`crate::run`) and the built-ins that add (`sum`).
//! Its errors are an enum that carries its run-time code and the operand it blames
//! ([`ArithError`]): no caller reads a message to decide either.

use super::codes::RunCode;
use crate::money::{Amount, Unit};
use crate::syntax::ast::BinOp;

/// Why `a op b` has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ArithError {
    /// Amounts of two units added, subtracted, divided, or two amounts multiplied.
    #[error("`{op}` of an amount in {left} and an amount in {right}")]
    Units {
        op: &'static str,
        left: Unit,
        right: Unit,
    },
    #[error("division by zero")]
    DivByZero,
    #[error("the number is too large")]
    Overflow,
}

/// The side of a binary operator an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    Left,
    Right,
}

impl ArithError {
    /// Its stable run-time code (docs/run-codes.md).
    pub fn code(self) -> RunCode {
        match self {
            ArithError::Units { .. } => RunCode::Unit,
            ArithError::DivByZero | ArithError::Overflow => RunCode::Arithmetic,
        }
    }

    /// The operand to blame: the divisor of a division by zero, else the left side (the
    /// amount whose unit or size the right side does not fit).
    pub fn blames(self) -> Operand {
        match self {
            ArithError::DivByZero => Operand::Right,
            ArithError::Units { .. } | ArithError::Overflow => Operand::Left,
        }
    }
}

/// Arithmetic on exact decimals with unit rules: amounts add only to amounts of the same
/// unit, multiply only by plain numbers.
pub fn arith(op: BinOp, a: Amount, b: Amount) -> Result<Amount, ArithError> {
    let units = |left: Unit, right: Unit| ArithError::Units {
        op: op.as_str(),
        left,
        right,
    };
    let (value, unit) = match op {
        BinOp::Add | BinOp::Sub => {
            if let (Some(u), Some(v)) = (a.unit, b.unit) {
                if u != v {
                    return Err(units(u, v));
                }
            }
            let v = if op == BinOp::Add {
                a.value.checked_add(b.value)
            } else {
                a.value.checked_sub(b.value)
            };
            (v, a.unit.or(b.unit))
        }
        BinOp::Mul => {
            if let (Some(u), Some(v)) = (a.unit, b.unit) {
                return Err(units(u, v));
            }
            (a.value.checked_mul(b.value), a.unit.or(b.unit))
        }
        _ => {
            if b.value.is_zero() {
                return Err(ArithError::DivByZero);
            }
            let unit = match (a.unit, b.unit) {
                (Some(u), Some(v)) if u == v => None,
                (Some(u), Some(v)) => return Err(units(u, v)),
                (u, _) => u,
            };
            (a.value.checked_div(b.value), unit)
        }
    };
    value
        .map(|v| Amount::new(v, unit))
        .ok_or(ArithError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn amount(v: i64, unit: Option<Unit>) -> Amount {
        Amount::new(Decimal::from(v), unit)
    }

    /// Each error's code and operand come from its kind; the messages are those the book
    /// and the snapshots show.
    #[test]
    fn each_error_has_its_code_and_operand() {
        let fen = Some(Unit::Fen);
        let yuan = Some(Unit::Yuan);
        let e = arith(BinOp::Add, amount(1, fen), amount(1, yuan)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`+` of an amount in fen and an amount in yuan"
        );
        assert_eq!((e.code(), e.blames()), (RunCode::Unit, Operand::Left));
        let e = arith(BinOp::Mul, amount(1, fen), amount(2, fen)).unwrap_err();
        assert_eq!(e.code(), RunCode::Unit);
        let e = arith(BinOp::Div, amount(1, fen), amount(0, None)).unwrap_err();
        assert_eq!(e.to_string(), "division by zero");
        assert_eq!(
            (e.code(), e.blames()),
            (RunCode::Arithmetic, Operand::Right)
        );
        let max = Amount::new(Decimal::MAX, None);
        let e = arith(BinOp::Add, max, max).unwrap_err();
        assert_eq!(e.to_string(), "the number is too large");
        assert_eq!((e.code(), e.blames()), (RunCode::Arithmetic, Operand::Left));
        assert_eq!(
            arith(BinOp::Div, amount(6, fen), amount(3, fen)),
            Ok(amount(2, None))
        );
    }
}
