//! The evaluator: one compiled program over one order. `order` runs it (the request
//! written by the plan of writes of [`plan`], the order's id and the [`RunError`] of a
//! failure), `written` runs it telling what it wrote; `eval` is the evaluator, with
//! `ops` (operators), `call` (built-in calls) and `lookup` (tables); `fields` holds each
//! value to its target field; `trace` is what the evaluator tells a tracer, of which
//! [`explain`] is one; [`shape`] finds what of an order to read, [`json`] writes JSON
//! text, [`error`] says why an order was rejected.

mod call;
pub mod error;
mod eval;
pub mod explain;
mod fields;
pub mod json;
mod lookup;
mod ops;
mod order;
pub mod plan;
pub mod shape;
mod trace;
mod written;

pub use error::RunError;
pub use explain::explain;
pub use order::{eval_node, order_id, run, run_into, writes};
pub use shape::parse_order;
pub use written::{request, Written, ORDER_CODE};
