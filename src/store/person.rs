//! What a person's resolve changes in the state (`crate::sync::resolve` decides which
//! action fits; these only make the change): the wait ended so that the round takes the
//! order up again, or the order closed. Each is written to the order's history by the
//! caller's [`Txn::note_resolve`] in the same transaction.

use super::stage::Move;
use super::txn::Txn;
use super::{OrderRow, Store, StoreError};

impl Txn<'_> {
    /// Ends an order's wait for a person: the round takes it up again where it is (a
    /// shipment told to RED again, a cancel sent again…).
    pub fn end_wait(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET needs_person = NULL, changed_after_accept = 0, error = NULL, updated_at = ?2 WHERE order_id = ?1",
            &[],
        )
    }

    /// A person asked for the order to be fetched from RED and sent again: the next round
    /// does it (as `retry` would).
    pub fn want_retry(&self, order_id: &str) -> Result<(), StoreError> {
        self.end_wait(order_id)?;
        self.one(
            order_id,
            "UPDATE orders SET retry_wanted = 1, updated_at = ?2 WHERE order_id = ?1",
            &[],
        )
    }

    /// The retry a person asked for is being made (cleared before the order goes).
    pub fn retry_taken(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(
            order_id,
            "UPDATE orders SET retry_wanted = 0, updated_at = ?2 WHERE order_id = ?1",
            &[],
        )
    }

    /// A person ended it outside bondmap: nothing more is done with it.
    pub fn close(&self, order_id: &str, note: &str) -> Result<(), StoreError> {
        self.step(
            order_id,
            Move::Close,
            "needs_person = NULL, changed_after_accept = 0, cancel_wanted = 0, repush_due_at = NULL, retry_wanted = 0",
            &[],
            Some(note),
        )
    }
}

impl Store {
    /// Orders a person asked to be fetched and sent again.
    pub fn retries_wanted(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.select("WHERE retry_wanted = 1 ORDER BY order_id", [])
    }
}
