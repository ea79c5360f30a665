//! Where the pipeline gets many orders' input documents: RED's batched fetch
//! ([`crate::red::decrypt::fetch_documents`]: detail and declare per order, receivers and
//! decryption batched across orders, each order's result on its own).

pub use crate::red::decrypt::fetch_documents;
