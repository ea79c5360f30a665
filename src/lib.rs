//! bondmap: a declarative mapping engine from Xiaohongshu (RED) cross-border orders to
//! Cainiao bonded-warehouse delivery orders.
//!
//! Data flows one way: `.map` text → [`syntax`] → [`load`] (uses merged) → [`check`] →
//! [`compile`] → [`run`] over each order → JSON for the gateway.

pub mod cli;
pub mod compile;
pub mod diag;
pub mod engine;
pub mod gateway;
pub mod load;
pub mod localhttp;
pub mod money;
pub mod red;
pub mod run;
pub mod schema;
pub mod store;
pub mod sync;
pub mod syntax;
