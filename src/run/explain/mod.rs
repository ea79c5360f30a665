//! `explain`: for each target field of one order, its value, the mapping line that set
//! it and the steps it came from down to the order's own fields (concrete source paths,
//! each `let` once, `out.` reads followed to the fields they read), or the rule or lookup
//! that rejected the order; as text or JSON, personal values masked. A tracer of the
//! evaluator ([`trace`]) keeps the blocks ([`blocks`]) while the order is evaluated;
//! [`render`] lays them out.

mod blocks;
mod render;
mod trace;

use super::error::RunError;
use super::order::{order_id, run_traced};
use crate::program::Program;
use blocks::{Block, LetBlock};
use serde_json::Value;
use std::collections::HashMap;
use trace::Explain;

/// For each target field (or those under `field`), its value, the mapping line that set
/// it and every step it came from, source values included. Personal data is masked.
pub fn explain(p: &Program, doc: &Value, field: Option<&str>) -> Result<String, RunError> {
    let ex = explain_order(p, doc);
    match ex.rejected {
        Some(r) => Err(r.error),
        None => Ok(ex.text(field)),
    }
}

/// Explains one order: every target field it got, or why it was rejected.
pub fn explain_order(p: &Program, doc: &Value) -> Explained {
    let mut out = String::new();
    let (r, ex) = run_traced(p, doc, &mut out, Explain::default());
    let rejected = r.err().map(|error| Rejected {
        error,
        trace: ex.failure,
    });
    Explained {
        order_id: order_id(p, doc),
        fields: ex.fields,
        lets: ex.lets,
        rejected,
    }
}

/// One order explained ([`explain_order`]).
pub struct Explained {
    /// The order's id, when the mapping says where it is and the order has one.
    pub order_id: Option<String>,
    fields: Vec<Block>,
    lets: HashMap<String, LetBlock>,
    /// Why the order was rejected, if it was.
    pub rejected: Option<Rejected>,
}

/// A rejected order: the error (as `map` gives it) and the steps of the rule, lookup or
/// field that rejected it.
pub struct Rejected {
    pub error: RunError,
    trace: Option<Block>,
}
