//! The evaluator: one compiled program over one order. [`eval`] evaluates, [`plan`]
//! plans the request's writes, [`json`] writes JSON text, [`error`] says why an order
//! was rejected.

pub mod error;
pub mod eval;
pub mod explain;
pub mod json;
pub mod plan;

pub use error::RunError;
pub use eval::{run, run_into, writes};
pub use explain::explain;
