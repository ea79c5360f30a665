//! The evaluator: one compiled program over one order.

pub mod eval;
pub mod write;

pub use eval::{explain, run, run_into, RunError};
