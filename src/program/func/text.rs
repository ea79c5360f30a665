//! The text built-ins' evaluation: `trim`, `upper`, `lower`, `concat`, `substr`, `replace`,
//! `string`, `nonblank` (their table entries are in [`super`]).

use super::args::{Args, CallError};
use crate::program::codes::RunCode;
use crate::value::Val;
use std::borrow::Cow;

type R<'a> = Result<Val<'a>, CallError>;

pub(super) fn trim<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(match a.str(0)? {
        None => Val::Null,
        Some(s) => Val::Str(Cow::Owned(s.trim().to_string())),
    })
}

pub(super) fn upper<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(match a.str(0)? {
        None => Val::Null,
        Some(s) => Val::Str(Cow::Owned(s.to_uppercase())),
    })
}

pub(super) fn lower<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(match a.str(0)? {
        None => Val::Null,
        Some(s) => Val::Str(Cow::Owned(s.to_lowercase())),
    })
}

pub(super) fn concat<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    // An absent part is an error, not an empty string: a half address must not be
    // shipped to. Write `part ?? ""` where a part may be missing.
    let mut out = String::new();
    for i in 0..a.count() {
        match a.str(i)? {
            Some(s) => out.push_str(&s),
            None => {
                return Err(CallError::At(
                    i,
                    RunCode::Missing,
                    "a part of concat(…) has no value (write `… ?? \"\"` if it may be missing)"
                        .into(),
                ))
            }
        }
    }
    Ok(Val::Str(Cow::Owned(out)))
}

pub(super) fn substr<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    let Some(s) = a.str(0)? else {
        return Ok(Val::Null);
    };
    let start = if a.count() > 1 {
        a.int(1)?.max(0) as usize
    } else {
        0
    };
    let len = if a.count() > 2 {
        a.int(2)?.max(0) as usize
    } else {
        usize::MAX
    };
    Ok(Val::Str(Cow::Owned(
        s.chars().skip(start).take(len).collect(),
    )))
}

pub(super) fn replace<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    let Some(s) = a.str(0)? else {
        return Ok(Val::Null);
    };
    let from = a.text(1, "the text to replace")?;
    let to = a.text(2, "the replacement")?;
    Ok(if from.is_empty() {
        Val::Str(s)
    } else {
        Val::Str(Cow::Owned(s.replace(from.as_ref(), &to)))
    })
}

pub(super) fn string<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(match a.val(0)? {
        Val::Num(n) => Val::Str(Cow::Owned(n.value.normalize().to_string())),
        Val::Bool(b) => Val::Str(Cow::Borrowed(if b { "true" } else { "false" })),
        v @ (Val::Str(_) | Val::Null) => v,
        v => {
            return Err(CallError::At(
                0,
                RunCode::Type,
                format!("cannot make a string of {}", v.kind()),
            ))
        }
    })
}

pub(super) fn nonblank<'a>(a: &mut dyn Args<'a>) -> R<'a> {
    Ok(match a.val(0)? {
        Val::Str(s) if s.trim().is_empty() => Val::Null,
        v => v,
    })
}
