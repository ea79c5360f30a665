//! Masking personal data for logs and messages: the one rule lives in [`crate::pii`].

pub use crate::pii::{mask_id, mask_name, mask_phone};
