//! The evaluator: one compiled program over one order. [`eval`] evaluates, `fields`
//! checks each value against its target field, [`plan`]
//! plans the request's writes, [`json`] writes JSON text, [`error`] says why an order
//! was rejected.

pub mod error;
pub mod eval;
mod fields;
pub mod json;
pub mod plan;

pub use error::RunError;
pub use eval::{explain, run, run_into, writes};
