//! The number built-ins' evaluation: `number`, `abs` (their table entries are in [`super`];
//! `round`, `convert` and the unit tags are evaluated by the evaluator, their places, unit
//! and mode being fixed at check time).

use super::args::{Args, CallError};
use crate::money::Amount;
use crate::program::codes::RunCode;
use crate::value::Val;

type R<'a> = Result<Val<'a>, CallError>;

pub(super) fn number<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(match a.val(0)? {
        Val::Str(s) => match crate::money::parse_decimal(s.trim()) {
            Some(d) => Val::Num(Amount::new(d, None)),
            None => {
                return Err(CallError::At(
                    0,
                    RunCode::Format,
                    "the string is not a number".into(),
                ))
            }
        },
        v @ (Val::Num(_) | Val::Null) => v,
        v => {
            return Err(CallError::At(
                0,
                RunCode::Type,
                format!("cannot make a number of {}", v.kind()),
            ))
        }
    })
}

pub(super) fn abs<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    let n = a.num(0)?;
    Ok(Val::Num(Amount::new(n.value.abs(), n.unit)))
}
