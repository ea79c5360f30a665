//! The evaluator's tracing interface: what it tells whoever watches a run (a field done,
//! a field failed, a rule failed) and what a watcher may ask of it while told ([`Scope`]).
//! The evaluator is generic over its [`Trace`]; a normal run's is [`Quiet`], whose calls
//! are empty and compile away. `explain` ([`super::explain`]) and the run that tells what
//! it wrote ([`super::written`]) are tracers: they depend on the evaluator through this
//! interface, and the evaluator knows nothing of them.

use super::error::Fail;
use crate::program::{FieldCheck, Loop, Node, Program};
use crate::value::Val;
use serde_json::Value;

/// The evaluator where a tracer is told something: its tracer, the program and the order,
/// the loop item it is in, and evaluation of any node there.
pub(super) trait Scope<'a, T> {
    fn tracer(&mut self) -> &mut T;
    fn program(&self) -> &'a Program;
    fn doc(&self) -> &'a Value;
    /// Local `i` of the current loop item.
    fn local(&self, i: u32) -> &Val<'a>;
    /// The loop around the current item (the innermost), if any.
    fn current_loop(&self) -> Option<&'a Loop>;
    /// The name of a field (`orderItemList[].itemId`) at the current loop item
    /// (`orderItemList[2].itemId`).
    fn field_name(&self, display: &str) -> String;
    /// The value of `n` evaluated here. A failure leaves nothing half-computed: a field it
    /// stopped in the middle of is computed again when next asked for, with its own error.
    fn probe(&mut self, n: &'a Node) -> Result<Val<'a>, Box<Fail>>;
    /// The value of global `g` (a let, field or loop), as [`Scope::probe`].
    fn probe_global(&mut self, g: u32) -> Result<Val<'a>, Box<Fail>>;
}

/// A watcher of one run. Every call has an empty default, so a tracer says only what it
/// watches. The failure calls come with the evaluator ready to evaluate again (nothing
/// half-computed), so a tracer may [`Scope::probe`] what failed.
pub(super) trait Trace<'a>: Sized {
    /// Whether the run builds every field as one tree, fixed ones too, before writing it
    /// (so that the tracer is told of every field), instead of writing by the plan.
    const BUILDS: bool = false;
    /// Whether the tracer is told of failures.
    const FAILURES: bool = false;

    /// Field `c`, assigned `n`, got `v` (checked against its target field).
    fn field_done(_at: &mut impl Scope<'a, Self>, _n: &'a Node, _c: &'a FieldCheck, _v: &Val<'a>) {}

    /// Field `c`, assigned `n`, failed with `f`.
    fn field_failed(_at: &mut impl Scope<'a, Self>, _n: &'a Node, _c: &'a FieldCheck, _f: &Fail) {}

    /// A `require` with condition `cond` rejected the order (or failed), or a loop's `let`
    /// of `cond` failed, with `f`.
    fn rule_failed(_at: &mut impl Scope<'a, Self>, _cond: &'a Node, _f: &Fail) {}
}

/// The tracer of a normal run: watches nothing, costs nothing.
pub(super) struct Quiet;

impl Trace<'_> for Quiet {}
