//! bondmap: a declarative mapping engine from Xiaohongshu (RED) cross-border orders to
//! Cainiao bonded-warehouse delivery orders.
//!
//! Data flows one way:
//! `.map` text → [`syntax`] (pest → tree with spans) → [`load`] (`use`s merged) →
//! [`compile`] (checked against the [`schema`]s, every mistake a [`diag`]; a program with
//! [`path`]s compiled and names resolved) → [`run`] over each order ([`value`]s, exact
//! [`money`]; [`input`] builds only the parts of an order the program reads) → request
//! JSON → [`gateway`]. Around it: [`red`] (the RED open API),
//! [`route`] (which warehouse mapping takes each order), [`store`] and [`sync`] (the
//! order pipeline), [`engine`] (text to program in one call),
//! [`cli`] (a thin layer), [`http`] (the one server of every endpoint bondmap serves:
//! the Cainiao callback, [`health`], [`metrics`], the simulators, the playground),
//! [`logs`] (their times), [`play`] (the mapping playground, a page served by the binary); shared by the clients and
//! the pipeline: [`backoff`] (the retry pace) and [`pool`] (the worker pool).

pub mod backoff;
pub mod callback;
pub mod cli;
pub mod compile;
pub mod config;
pub mod console;
pub mod diag;
pub mod engine;
pub mod gateway;
pub mod health;
pub mod http;
pub mod limits;
pub mod load;
pub mod logs;
pub mod lsp;
pub mod metrics;
pub mod money;
pub mod path;
pub mod pii;
pub mod play;
pub mod pool;
pub mod program;
pub mod red;
pub mod repo;
pub mod route;
pub mod run;
pub mod schema;
pub mod snapshot;
pub mod store;
pub mod swap;
pub mod sync;
pub mod syntax;
pub mod value;
pub mod warehouse;
