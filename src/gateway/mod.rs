//! The Cainiao LINK gateway: signing, the form request, a client with retries, and a
//! local simulator for tests and demos.

pub mod body;
pub mod client;
pub mod config;
pub mod request;
pub mod sign;
pub mod sim;

pub use client::{BatchSummary, Client, OrderResult, Outcome, PreparedOrder};
pub use config::{ConfigError, GatewayConfig, Secret};
pub use request::GatewayRequest;
pub use sign::data_digest;
