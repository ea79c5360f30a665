//! Fetching one order's three parts and decrypting its personal fields in place, to make
//! the input document `{"detail", "declare", "receiver"}` a mapping reads.

use super::client::{RedClient, RedError};
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

/// Replaces every encrypted personal value of `doc` by its plain text (one batch call).
pub fn decrypt_document(
    client: &RedClient,
    order_id: &str,
    doc: &mut Value,
) -> Result<(), RedError> {
    let mut slots: Vec<(&str, usize, &str)> = Vec::new();
    let mut ciphers = Vec::new();
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
                        slots.push((part, i, f));
                        ciphers.push((order_id.to_string(), s.to_string()));
                    }
                }
            }
        }
    }
    if ciphers.is_empty() {
        return Ok(());
    }
    let plain = client.batch_decrypt(&ciphers)?;
    for ((part, i, f), p) in slots.into_iter().zip(plain) {
        let list = if part == "receiver" {
            "receiverInfos"
        } else {
            "orderDeclareInfos"
        };
        doc[part][list][i][f] = Value::String(p);
    }
    Ok(())
}
