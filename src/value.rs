//! Run-time values: borrowed from the order where possible, exact numbers with units.

use crate::money::{parse_decimal, Amount};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// `repr(C, u64)`: a word-sized tag, every payload at byte 8, no padding. The evaluator
/// moves a value for every expression; with a byte tag those moves copied odd pieces
/// around it that the CPU cannot forward from recent stores (-15 % map step).
#[derive(Debug, Clone)]
#[repr(C, u64)]
pub enum Val<'a> {
    /// Absent or JSON `null`.
    Null,
    Bool(bool),
    Num(Amount),
    Str(Cow<'a, str>),
    /// An object or array of the order, not copied.
    Json(&'a Value),
    /// Several values: the matches of a wildcard or filter path, or a built array.
    List(Arc<Vec<Val<'a>>>),
    /// An object built by the mapping (keys in mapping order).
    Obj(Arc<Vec<(&'a str, Val<'a>)>>),
}

/// A JSON number that is not a valid exact decimal (e.g. beyond 28 digits).
#[derive(Debug)]
pub struct BadNumber(pub String);

impl<'a> Val<'a> {
    /// The value of a node of the order: scalars become values, containers stay borrowed.
    #[inline]
    pub fn from_json(v: &'a Value) -> Result<Val<'a>, BadNumber> {
        Ok(match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(Amount::new(
                parse_decimal(n.as_str()).ok_or_else(|| BadNumber(n.as_str().to_string()))?,
                None,
            )),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Val::Json(v),
        })
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// What kind of value this is, in words, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Null => "nothing",
            Val::Bool(_) => "a boolean",
            Val::Num(_) => "a number",
            Val::Str(_) => "a string",
            Val::Json(Value::Array(_)) | Val::List(_) => "a list",
            Val::Json(_) | Val::Obj(_) => "an object",
        }
    }
}
