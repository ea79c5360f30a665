//! What a plain built-in's evaluation ([`Apply`]) is given, [`Args`] (its arguments, each
//! evaluated when asked, by the evaluator), and what it gives back when it has no value
//! ([`CallError`]). The families (`list.rs`, `text.rs`, `number.rs`, `time.rs`) are
//! written against these; the evaluator (`crate::run`) serves them.

use crate::money::Amount;
use crate::program::codes::RunCode;
use crate::value::Val;
use std::borrow::Cow;

/// The evaluation of a plain built-in: its value from its arguments.
pub type Apply = for<'a> fn(&mut dyn Args<'a>) -> Result<Val<'a>, CallError>;

/// A call's arguments as the evaluator gives them to [`Apply`]: each is evaluated when
/// asked for (so an absent first argument leaves the others unevaluated), as a single
/// value, and an error in it stays the evaluator's ([`CallError::Raised`]).
pub trait Args<'a> {
    /// How many arguments the call has.
    fn count(&self) -> usize;
    /// Argument `i` as a single value (absent as `Null`).
    fn val(&mut self, i: usize) -> Result<Val<'a>, CallError>;
    /// Argument `i` as a string (`None` when absent); another kind is an error at it.
    fn str(&mut self, i: usize) -> Result<Option<Cow<'a, str>>, CallError>;
    /// Argument `i` as a string that must be there (`what` names it): absent is an error
    /// at it, never an empty string.
    fn text(&mut self, i: usize, what: &str) -> Result<Cow<'a, str>, CallError> {
        self.str(i)?
            .ok_or_else(|| CallError::At(i, RunCode::Missing, format!("{what} has no value")))
    }
    /// Argument `i` as a number; absent or another kind is an error at it.
    fn num(&mut self, i: usize) -> Result<Amount, CallError>;
    /// Argument `i` as a whole number that fits an `i64`; anything else is an error at it.
    fn int(&mut self, i: usize) -> Result<i64, CallError>;
    /// Argument `i` as it is: a list stays a list.
    fn whole(&mut self, i: usize) -> Result<Val<'a>, CallError>;
    /// Each item of `v`, the value of argument `i` (a list; absent: none), given to `f` in
    /// order; a single value is an error at that argument.
    fn items(
        &mut self,
        i: usize,
        v: Val<'a>,
        f: &mut dyn FnMut(&Val<'a>) -> Result<(), CallError>,
    ) -> Result<(), CallError>;
    /// Each item of argument `i` given to `f` in order: what [`Args::items`] does with
    /// [`Args::whole`], but a path of the request built so far is walked in place.
    fn each(
        &mut self,
        i: usize,
        f: &mut dyn FnMut(&Val<'a>) -> Result<(), CallError>,
    ) -> Result<(), CallError>;
    /// Argument `i`'s first item (absent for none); a value that is no list is itself. A
    /// wildcard path of the order stops at its first value.
    fn first(&mut self, i: usize) -> Result<Val<'a>, CallError>;
    /// How many items argument `i` has; a wildcard path of the order is counted, not listed.
    fn count_items(&mut self, i: usize) -> Result<usize, CallError>;
}

/// Why a built-in gave no value; the evaluator adds the order, the field and the mapping
/// line (an error at an argument points at that argument and its source path).
#[derive(Debug)]
pub enum CallError {
    /// At argument `i`.
    At(usize, RunCode, String),
    /// At the call as a whole.
    Call(RunCode, &'static str),
    /// Raised while evaluating an argument: the evaluator holds it as it was.
    Raised,
}
