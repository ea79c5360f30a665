//! Field checks: a value held to its target field's contract (type, unit, whole number,
//! minimum, fixed value, allowed values, length and decimal limits), on every field of
//! every order.

use super::error::{Fail, RunCode, R};
use crate::program::{FieldCheck, Node};
use crate::schema::FieldType;
use crate::value::Val;
use serde_json::Value;

/// Holds a value to its target field's contract; an amount takes the field's unit.
/// `v` is a single value (the caller took one out of a list).
pub(super) fn fit(v: &mut Val, n: &Node, c: &FieldCheck) -> R<()> {
    match (c.ty, &mut *v) {
        (_, Val::Null) => {
            if c.required {
                return Err(Fail::at(n, RunCode::Missing, "required field has no value"));
            }
            return Ok(());
        }
        (FieldType::String, Val::Str(_)) | (FieldType::Boolean, Val::Bool(_)) => {}
        (FieldType::Integer | FieldType::Number, Val::Num(a)) => {
            if let (Some(want), Some(have)) = (c.unit, a.unit) {
                if want != have {
                    return Err(Fail::at(n, RunCode::Unit, format!("the field counts {want} but the amount is in {have}; write convert(…, {want}, half_up)")));
                }
            }
            if c.ty == FieldType::Integer && a.value.scale() != 0 && !a.value.fract().is_zero() {
                return Err(Fail::at(
                    n,
                    RunCode::Rounding,
                    format!(
                        "{} has a fraction but the field takes a whole number; round it explicitly",
                        a.value
                    ),
                ));
            }
            if let Some(min) = c.minimum {
                if a.value < min {
                    return Err(Fail::at(
                        n,
                        RunCode::NotAllowed,
                        format!("{} is below the minimum {min}", a.value),
                    ));
                }
            }
            // Not normalised here: the writer prints a decimal without trailing zeros.
            if c.unit.is_some() {
                a.unit = c.unit;
            }
        }
        (want, v) => return Err(mistyped(want, v, n)),
    }
    if let Some(want) = &c.constant {
        if !same_as_json(v, want) {
            return Err(Fail::at(
                n,
                RunCode::NotAllowed,
                format!("the field must be {want}"),
            ));
        }
    }
    if !c.limits.is_empty() {
        c.limits
            .check(v)
            .map_err(|m| Fail::at(n, RunCode::Limit, m))?;
    }
    if let Some(allowed) = &c.allowed {
        if !allowed.iter().any(|j| same_as_json(v, j)) {
            let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            return Err(Fail::at(
                n,
                RunCode::NotAllowed,
                format!("the value is not one of {}", list.join(", ")),
            ));
        }
    }
    Ok(())
}

#[cold]
fn mistyped(want: FieldType, v: &Val, n: &Node) -> Box<Fail> {
    let hint = match (want, v) {
        (FieldType::String, Val::Num(_)) => " (write string(…) to convert)",
        (FieldType::Integer | FieldType::Number, Val::Str(_)) => " (write number(…) to convert)",
        _ => "",
    };
    Fail::at(
        n,
        RunCode::Type,
        format!(
            "the field is {} but the value is {}{hint}",
            want.as_str(),
            v.kind()
        ),
    )
}

/// Whether a value equals a schema constant (no allocation: this runs for every field
/// with a fixed value of every order).
fn same_as_json(v: &Val, j: &Value) -> bool {
    match (v, j) {
        (Val::Str(a), Value::String(b)) => a == b,
        (Val::Bool(a), Value::Bool(b)) => a == b,
        (Val::Num(a), Value::Number(b)) => crate::money::parse_decimal(b.as_str()) == Some(a.value),
        (Val::Null, Value::Null) => true,
        _ => false,
    }
}
