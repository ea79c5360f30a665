//! The evaluator: one compiled program over one order.

pub mod eval;
pub mod path;
pub mod value;

pub use eval::{explain, run, run_into, RunError};
