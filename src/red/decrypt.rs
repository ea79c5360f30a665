//! Fetching one order's three parts and decrypting its personal fields in place, to make
//! the input document `{"detail", "declare", "receiver"}` a mapping reads.

use super::client::{Plain, RedClient, RedError};
use serde_json::{json, Value};

/// Personal fields RED sends encrypted.
const RECEIVER_FIELDS: &[&str] = &["receiverName", "receiverPhone", "receiverAddress"];
const DECLARE_FIELDS: &[&str] = &["idName", "idNumber", "linkPhone", "frontUrl", "backUrl"];

/// RED's layout of an encrypted value: `#<index>#<ciphertext>#<type>##`.
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with('#') && s.ends_with("##") && s.matches('#').count() >= 5
}

/// Pulls the detail, the declaration info and the receiver of `order_id`, decrypts them,
/// and returns the input document.
pub fn fetch_order_document(client: &RedClient, order_id: &str) -> Result<Value, RedError> {
    let detail = client.order_detail(order_id)?;
    let declare = client.declare_info(order_id)?;
    let open_address_id = detail
        .get("openAddressId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_return = detail.get("orderType").and_then(Value::as_i64) == Some(5);
    let receiver = client.receiver_info(order_id, open_address_id, is_return)?;
    let mut doc = json!({"detail": detail, "declare": declare, "receiver": receiver});
    decrypt_document(client, order_id, &mut doc)?;
    Ok(doc)
}

/// Where an encrypted value sits in the input document: part, list, entry, field.
type Slot = (&'static str, &'static str, usize, &'static str);

/// Every encrypted personal value of `doc`, with its place.
fn encrypted_slots(doc: &Value) -> Vec<(Slot, String)> {
    let mut out = Vec::new();
    for (part, list, fields) in [
        ("receiver", "receiverInfos", RECEIVER_FIELDS),
        ("declare", "orderDeclareInfos", DECLARE_FIELDS),
    ] {
        if let Some(entries) = doc[part][list].as_array() {
            for (i, e) in entries.iter().enumerate() {
                for f in fields {
                    if let Some(s) = e
                        .get(*f)
                        .and_then(Value::as_str)
                        .filter(|s| is_encrypted(s))
                    {
                        out.push(((part, list, i, *f), s.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// Puts the plain values in their places; an order with any value not decrypted is an
/// error naming the first such field (and how many more), the document left unchanged.
fn fill(doc: &mut Value, slots: Vec<Slot>, plain: Vec<Plain>) -> Result<(), RedError> {
    let mut bad = slots
        .iter()
        .zip(&plain)
        .filter_map(|((part, list, i, f), p)| {
            p.as_ref()
                .err()
                .map(|why| (format!("{part}.{list}[{i}].{f}"), why.clone()))
        });
    if let Some((field, why)) = bad.next() {
        return Err(RedError::Decrypt {
            field,
            why,
            more: bad.count(),
        });
    }
    for ((part, list, i, f), p) in slots.into_iter().zip(plain) {
        if let Ok(p) = p {
            doc[part][list][i][f] = Value::String(p);
        }
    }
    Ok(())
}

/// Replaces every encrypted personal value of `doc` by its plain text (one batch call
/// per 100 values). Any value RED does not give back in clear fails the whole order.
pub fn decrypt_document(
    client: &RedClient,
    order_id: &str,
    doc: &mut Value,
) -> Result<(), RedError> {
    let (slots, ciphers): (Vec<Slot>, Vec<(String, String)>) = encrypted_slots(doc)
        .into_iter()
        .map(|(slot, c)| (slot, (order_id.to_string(), c)))
        .unzip();
    if ciphers.is_empty() {
        return Ok(());
    }
    let plain = client.batch_decrypt(&ciphers)?;
    fill(doc, slots, plain)
}
