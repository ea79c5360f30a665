//! The delivery-order request last sent for each order, kept masked for the operator's
//! console: the run's text with every personal value of the order masked by the order's
//! [`crate::pii::Redactor`] before it reaches this table (the caller masks; this file
//! only keeps what it is given). An order sent before this table existed has none, and
//! the console says "not kept": the clear text is never stored, so it cannot be rebuilt.

use super::txn::Txn;
use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

pub(super) const TABLE: &str = "CREATE TABLE IF NOT EXISTS requests (
        order_id TEXT PRIMARY KEY,
        msg_type TEXT NOT NULL,
        text TEXT NOT NULL,
        sent_at TEXT NOT NULL)";

/// The request kept for an order (its last send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentRequest {
    /// The gateway message (`CN_WMS_DELIVERYORDER_CREATE`…).
    pub msg_type: String,
    /// The `logistics_interface` text as sent, every personal value masked.
    pub text: String,
    /// When it was handed to the gateway (RFC 3339, UTC).
    pub sent_at: String,
}

impl Txn<'_> {
    /// Keeps `masked`, the request about to be sent for an order, in place of the one
    /// kept before. `masked` must already have been through the order's redactor.
    pub fn keep_request(
        &self,
        order_id: &str,
        msg_type: &str,
        masked: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO requests (order_id, msg_type, text, sent_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(order_id) DO UPDATE SET msg_type = excluded.msg_type, text = excluded.text, sent_at = excluded.sent_at",
            )?
            .execute(params![order_id, msg_type, masked, self.now])?;
        Ok(())
    }
}

impl Store {
    /// The request last sent for an order, masked; `None` when none was kept.
    pub fn request_sent(&self, order_id: &str) -> Result<Option<SentRequest>, StoreError> {
        Ok(self
            .db
            .query_row(
                "SELECT msg_type, text, sent_at FROM requests WHERE order_id = ?1",
                params![order_id],
                |r| {
                    Ok(SentRequest {
                        msg_type: r.get(0)?,
                        text: r.get(1)?,
                        sent_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_request_is_kept_per_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(s.request_sent("P1").unwrap(), None);
        s.transaction(|t| t.keep_request("P1", "CREATE", r#"{"name":"李*"}"#))
            .unwrap();
        s.transaction(|t| t.keep_request("P1", "CREATE", r#"{"name":"王*"}"#))
            .unwrap();
        let r = s.request_sent("P1").unwrap().unwrap();
        assert_eq!(
            (r.msg_type.as_str(), r.text.as_str()),
            ("CREATE", r#"{"name":"王*"}"#)
        );
    }
}
