//! The list built-ins' evaluation: `first`, `last`, `count`, `sum`, `min`, `max`, `len`
//! (their table entries are in [`super`]). A list argument is walked through
//! [`Args::each`], [`Args::first`] and [`Args::items`], which the evaluator serves in place
//! (a wildcard path of the order or of the request built so far), with no list in between.

use super::args::{Args, CallError};
use crate::money::Amount;
use crate::program::arith::arith;
use crate::program::codes::RunCode;
use crate::syntax::ast::BinOp;
use crate::value::Val;
use rust_decimal::Decimal;

type R<'a> = Result<Val<'a>, CallError>;

fn whole(n: usize) -> Val<'static> {
    Val::Num(Amount::new(Decimal::from(n), None))
}

pub(super) fn first<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    a.first(0)
}

pub(super) fn last<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    match a.whole(0)? {
        v @ (Val::List(_) | Val::Json(serde_json::Value::Array(_))) => {
            let mut last = Val::Null;
            a.items(0, v, &mut |x| {
                last = x.clone();
                Ok(())
            })?;
            Ok(last)
        }
        other => Ok(other),
    }
}

pub(super) fn count<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(whole(a.count_items(0)?))
}

/// `len`: a list (even of one) is counted; a string's characters are.
pub(super) fn len<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(match a.whole(0)? {
        Val::List(l) => whole(l.len()),
        Val::Str(s) => whole(s.chars().count()),
        Val::Null => Val::Null,
        v => {
            let mut n = 0;
            a.items(0, v, &mut |_| {
                n += 1;
                Ok(())
            })?;
            whole(n)
        }
    })
}

/// How [`fold`] combines the numbers of a list.
#[derive(Clone, Copy, PartialEq)]
enum Fold {
    Sum,
    Min,
    Max,
}

pub(super) fn sum<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    fold(a, Fold::Sum)
}

pub(super) fn min<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    fold(a, Fold::Min)
}

pub(super) fn max<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    fold(a, Fold::Max)
}

/// The sum, least or greatest of argument 0's numbers; an absent or non-number item is an
/// error naming its index. The sum of none is 0, the least of none absent.
fn fold<'a>(a: &mut dyn Args<'a>, how: Fold) -> R<'a> {
    let mut acc: Option<Amount> = None;
    let mut i = 0usize;
    a.each(0, &mut |x| {
        let x = match x {
            Val::Num(x) => *x,
            Val::Null => {
                return Err(CallError::At(
                    0,
                    RunCode::Missing,
                    format!("item {i} has no value"),
                ))
            }
            other => {
                return Err(CallError::At(
                    0,
                    RunCode::Type,
                    format!("item {i} is {}, not a number", other.kind()),
                ))
            }
        };
        i += 1;
        acc = Some(match acc {
            None => x,
            Some(s) => match how {
                Fold::Sum => arith(BinOp::Add, s, x)
                    .map_err(|e| CallError::At(0, e.code(), e.to_string()))?,
                Fold::Min if x.value < s.value => x,
                Fold::Max if x.value > s.value => x,
                _ => s,
            },
        });
        Ok(())
    })?;
    Ok(match (how, acc) {
        (Fold::Sum, None) => Val::Num(Amount::new(Decimal::ZERO, None)),
        (_, None) => Val::Null,
        (_, Some(s)) => Val::Num(s),
    })
}
