//! The evaluator: one compiled program over one order. [`eval`] evaluates, [`explain`]
//! shows how each field got its value, `fields`
//! checks each value against its target field, [`plan`]
//! plans the request's writes, [`shape`] what of an order to read, [`json`] writes JSON text, [`error`] says why an order
//! was rejected.

pub mod error;
pub mod eval;
pub mod explain;
mod fields;
pub mod json;
pub mod plan;
pub mod shape;

pub use error::RunError;
pub use eval::{run, run_into, writes};
pub use explain::explain;
pub use shape::parse_order;
