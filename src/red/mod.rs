//! The Xiaohongshu (RED) open API: signing, a client with retries, authorization that
//! lasts (tokens refreshed and kept), decryption of personal fields, and a local simulator
//! for tests and demos.

pub mod auth;
pub mod client;
pub mod config;
pub mod customs;
pub mod decrypt;
pub mod deliver;
pub mod error;
pub mod json;
pub mod limit;
pub mod list;
pub mod sign;
pub mod sim;
pub mod sim_auth;
pub mod sim_customs;
pub mod token;

pub use auth::AuthState;
pub use client::RedClient;
pub use config::RedConfig;
pub use error::RedError;
pub use list::OrderListEntry;
pub use token::{TokenKeeper, Tokens};
