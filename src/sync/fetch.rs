//! The input documents of many orders at once. Until the batched RED fetch
//! (`red::decrypt::fetch_documents`) is on main, this adapter with its signature fetches
//! each order on its own, `parallel` orders at a time.

use crate::red::decrypt::fetch_order_document;
use crate::red::{RedClient, RedError};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Each order's document or error, in the order given; one order's failure never fails
/// another.
pub fn fetch_documents(
    client: &RedClient,
    ids: &[String],
    parallel: usize,
) -> Vec<(String, Result<Value, RedError>)> {
    let slots: Vec<Mutex<Option<Result<Value, RedError>>>> =
        ids.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..parallel.clamp(1, 64).min(ids.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { break };
                let r = fetch_order_document(client, id);
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    ids.iter()
        .zip(slots)
        .map(|(id, slot)| {
            let r = slot.into_inner().ok().flatten().unwrap_or_else(|| {
                // Only a panicked fetch thread leaves a slot empty.
                Err(RedError::Transport {
                    method: "fetch".into(),
                    message: "the fetch of this order did not finish".into(),
                })
            });
            (id.clone(), r)
        })
        .collect()
}
