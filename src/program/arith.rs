//! The arithmetic of the language's binary operators on exact decimals with their unit
//! rules, shared by the evaluator (`crate::run::eval`) and the built-ins that add (`sum`).

use super::codes::RunCode;
use crate::money::{Amount, Unit};
use crate::syntax::ast::BinOp;

/// Arithmetic on exact decimals with unit rules: amounts add only to amounts of the same
/// unit, multiply only by plain numbers.
pub fn arith(op: BinOp, a: Amount, b: Amount) -> Result<Amount, String> {
    let unit_err =
        |u: Unit, v: Unit| format!("`{}` of an amount in {u} and an amount in {v}", op.as_str());
    let (value, unit) = match op {
        BinOp::Add | BinOp::Sub => {
            if let (Some(u), Some(v)) = (a.unit, b.unit) {
                if u != v {
                    return Err(unit_err(u, v));
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
                return Err(unit_err(u, v));
            }
            (a.value.checked_mul(b.value), a.unit.or(b.unit))
        }
        _ => {
            if b.value.is_zero() {
                return Err("division by zero".into());
            }
            let unit = match (a.unit, b.unit) {
                (Some(u), Some(v)) if u == v => None,
                (Some(u), Some(v)) => return Err(unit_err(u, v)),
                (u, _) => u,
            };
            (a.value.checked_div(b.value), unit)
        }
    };
    value
        .map(|v| Amount::new(v, unit))
        .ok_or_else(|| "the number is too large".to_string())
}

/// The code of an [`arith`] error: a unit mismatch, else a division by zero or overflow.
pub fn arith_code(m: &str) -> RunCode {
    if m.contains("amount in") {
        RunCode::Unit
    } else {
        RunCode::Arithmetic
    }
}
