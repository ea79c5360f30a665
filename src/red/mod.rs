//! The Xiaohongshu (RED) open API: signing, a client with retries, decryption of personal
//! fields, and a local simulator for tests and demos.

pub mod client;
pub mod config;
pub mod customs;
pub mod decrypt;
pub mod deliver;
pub mod limit;
pub mod sign;
pub mod sim;
pub mod sim_customs;

pub use client::{OrderListEntry, RedClient, RedError};
pub use config::RedConfig;
