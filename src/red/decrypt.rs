//! Fetching orders' three parts and decrypting their personal fields in place, to make
//! the input document `{"detail", "declare", "receiver"}` a mapping reads: one order, or
//! many at once with receivers and decryption batched across them.

use super::client::{kind, Plain, RedClient, RedError, DECRYPT_BATCH};
use serde_json::{json, Value};
use std::collections::HashMap;

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
    let mut all = fetch_documents(client, &[order_id.to_string()], 2);
    match all.pop() {
        Some((_, r)) => r,
        None => Err(RedError::Answer {
            method: "order.getOrderDetail".into(),
            message: "no result for the order".into(),
        }),
    }
}

/// The input documents of many orders with few RED calls: detail and declare per order
/// (up to `parallel` calls in flight), receivers in batched `order.getOrderReceiverInfo`
/// calls (receiverQueries of many orders), personal fields decrypted in batches of at most
/// 100 across orders. Each order's result on its own: one order's failure never fails another.
///
/// Results come in the order of `ids`. An order RED answers `matched=false` for keeps that
/// entry in its document (the mapping rejects it); one missing from a batched answer is an
/// error of that order.
pub fn fetch_documents(
    client: &RedClient,
    ids: &[String],
    parallel: usize,
) -> Vec<(String, Result<Value, RedError>)> {
    finish_documents(client, fetch_parts(client, ids, parallel), parallel)
}

/// What [`fetch_parts`] fetched of some orders: each order's detail and declaration
/// info, for [`finish_documents`].
pub struct Parts {
    /// The ids as asked.
    ids: Vec<String>,
    /// Each order once.
    unique: Vec<String>,
    parts: Vec<Result<(Value, Value), RedError>>,
}

/// The first step of [`fetch_documents`], nearly all of its calls: the detail and the
/// declaration info of each order, `parallel` calls in flight.
pub fn fetch_parts(client: &RedClient, ids: &[String], parallel: usize) -> Parts {
    // Each order once, however often it is asked for.
    let mut unique: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if seen.insert(id.as_str()) {
            unique.push(id.clone());
        }
    }
    let refs: Vec<&str> = unique.iter().map(String::as_str).collect();
    let parts = details_and_declares(client, &refs, parallel.max(1));
    Parts {
        ids: ids.to_vec(),
        unique,
        parts,
    }
}

/// The rest of [`fetch_documents`]: the receivers and the decryption, batched across the
/// orders; the documents in the order of the ids asked.
pub fn finish_documents(
    client: &RedClient,
    parts: Parts,
    parallel: usize,
) -> Vec<(String, Result<Value, RedError>)> {
    let parallel = parallel.max(1);
    let unique: Vec<&str> = parts.unique.iter().map(String::as_str).collect();
    let index: HashMap<&str, usize> = unique.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let docs = with_receivers(client, &unique, parts.parts, parallel);
    let results = decrypt_all(client, &unique, docs, parallel);
    parts
        .ids
        .iter()
        .map(|id| {
            let r = index.get(id.as_str()).and_then(|&i| results.get(i));
            let r = r
                .cloned()
                .unwrap_or_else(|| Err(no_answer("order.getOrderDetail")));
            (id.clone(), r)
        })
        .collect()
}

/// Step 1: detail and declare, one call each per order, `parallel` at a time.
fn details_and_declares(
    client: &RedClient,
    unique: &[&str],
    parallel: usize,
) -> Vec<Result<(Value, Value), RedError>> {
    let jobs: Vec<(usize, bool)> = (0..unique.len())
        .flat_map(|i| [(i, true), (i, false)])
        .collect();
    let answers = par_map(
        &jobs,
        parallel,
        "order.getOrderDetail",
        |&(i, is_detail)| {
            if is_detail {
                client.order_detail(unique[i])
            } else {
                client.declare_info(unique[i])
            }
        },
    );
    answers
        .chunks(2)
        .map(|pair| match pair {
            [Ok(detail), Ok(declare)] => Ok((detail.clone(), declare.clone())),
            [Err(e), _] | [_, Err(e)] => Err(e.clone()),
            _ => Err(no_answer("order.getOrderDetail")),
        })
        .collect()
}

/// Step 2: the receivers, in calls of up to [`RECEIVER_BATCH`] orders of the same
/// `isReturn`; the input documents without their values decrypted.
fn with_receivers(
    client: &RedClient,
    unique: &[&str],
    mut parts: Vec<Result<(Value, Value), RedError>>,
    parallel: usize,
) -> Vec<Result<Value, RedError>> {
    let mut queries: Vec<(usize, String, bool)> = Vec::new();
    for (i, p) in parts.iter_mut().enumerate() {
        if let Ok((detail, _)) = p {
            match detail.get("openAddressId") {
                Some(Value::String(a)) if !a.is_empty() => {
                    let is_return = detail.get("orderType").and_then(Value::as_i64) == Some(5);
                    queries.push((i, a.clone(), is_return));
                }
                other => {
                    *p = Err(RedError::Answer {
                        method: "order.getOrderDetail".into(),
                        message: format!("openAddressId is {}, not a string", kind(other)),
                    })
                }
            }
        }
    }
    let mut batches: Vec<Vec<(usize, String)>> = Vec::new();
    for is_return in [false, true] {
        let these: Vec<(usize, String)> = queries
            .iter()
            .filter(|q| q.2 == is_return)
            .map(|(i, a, _)| (*i, a.clone()))
            .collect();
        batches.extend(these.chunks(RECEIVER_BATCH).map(<[_]>::to_vec));
    }
    let is_return_of = |b: &Vec<(usize, String)>| queries.iter().any(|q| q.0 == b[0].0 && q.2);
    let receivers = par_map(&batches, parallel, RECEIVER, |b| {
        let q: Vec<(String, String)> = b
            .iter()
            .map(|(i, a)| (unique[*i].to_string(), a.clone()))
            .collect();
        client
            .receiver_infos(&q, is_return_of(b))
            .and_then(|data| receivers_by_order(&data))
    });
    let mut docs: Vec<Result<Value, RedError>> = Vec::with_capacity(unique.len());
    let mut receiver_of: HashMap<usize, Result<Vec<Value>, RedError>> = HashMap::new();
    for (b, r) in batches.iter().zip(receivers) {
        for (i, _) in b {
            let mine = match &r {
                Ok(by) => by.get(unique[*i]).cloned().ok_or_else(|| RedError::Answer {
                    method: RECEIVER.into(),
                    message: "no receiverInfos entry for this order in the answer".into(),
                }),
                Err(e) => Err(e.clone()),
            };
            receiver_of.insert(*i, mine);
        }
    }
    for (i, p) in parts.into_iter().enumerate() {
        docs.push(p.and_then(|(detail, declare)| {
            let infos = receiver_of
                .remove(&i)
                .unwrap_or_else(|| Err(no_answer(RECEIVER)))?;
            Ok(json!({"detail": detail, "declare": declare, "receiver": {"receiverInfos": infos}}))
        }));
    }
    docs
}

/// Step 3: every ciphertext of every order, each once, in calls of at most
/// [`DECRYPT_BATCH`]; each order gets its values or the reason one is missing.
fn decrypt_all(
    client: &RedClient,
    unique: &[&str],
    docs: Vec<Result<Value, RedError>>,
    parallel: usize,
) -> Vec<Result<Value, RedError>> {
    let mut ciphers: Vec<(String, String)> = Vec::new();
    let mut cipher_index: HashMap<(String, String), usize> = HashMap::new();
    let mut slots_of: Vec<Vec<(Slot, usize)>> = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let mut mine = Vec::new();
        if let Ok(doc) = d {
            for (slot, c) in encrypted_slots(doc) {
                let key = (unique[i].to_string(), c);
                let k = *cipher_index.entry(key.clone()).or_insert_with(|| {
                    ciphers.push(key);
                    ciphers.len() - 1
                });
                mine.push((slot, k));
            }
        }
        slots_of.push(mine);
    }
    let chunks: Vec<&[(String, String)]> = ciphers.chunks(DECRYPT_BATCH).collect();
    let plains = par_map(&chunks, parallel, "data.batchDecrypt", |c| {
        client.decrypt_call(c)
    });
    let plain_of = |k: usize| -> Result<Plain, RedError> {
        match plains.get(k / DECRYPT_BATCH) {
            Some(Ok(list)) => Ok(list
                .get(k % DECRYPT_BATCH)
                .cloned()
                .unwrap_or_else(|| Err("no item in dataInfoList for this ciphertext".into()))),
            Some(Err(e)) => Err(e.clone()),
            None => Err(no_answer("data.batchDecrypt")),
        }
    };
    docs.into_iter()
        .zip(slots_of)
        .map(|(d, slots)| {
            let mut doc = d?;
            let (slots, keys): (Vec<Slot>, Vec<usize>) = slots.into_iter().unzip();
            let plain = keys
                .into_iter()
                .map(plain_of)
                .collect::<Result<Vec<_>, _>>()?;
            fill(&mut doc, slots, plain)?;
            Ok(doc)
        })
        .collect()
}

const RECEIVER: &str = "order.getOrderReceiverInfo";
/// Orders per `order.getOrderReceiverInfo` call. RED's documentation states no maximum
/// for `receiverQueries`; 100 matches its other batch limits (batchDecrypt, page size).
pub const RECEIVER_BATCH: usize = 100;

fn no_answer(method: &str) -> RedError {
    RedError::Answer {
        method: method.into(),
        message: "no answer for this order".into(),
    }
}

/// A batched receiver answer split by order: `receiverInfos` a list of objects, each with
/// a string `orderId` (nothing else could say which order an entry belongs to).
fn receivers_by_order(data: &Value) -> Result<HashMap<String, Vec<Value>>, RedError> {
    let bad = |message: String| RedError::Answer {
        method: RECEIVER.into(),
        message,
    };
    let list = match data.get("receiverInfos") {
        Some(Value::Array(l)) => l,
        other => return Err(bad(format!("receiverInfos is {}, not a list", kind(other)))),
    };
    let mut by: HashMap<String, Vec<Value>> = HashMap::new();
    for (i, e) in list.iter().enumerate() {
        match e.get("orderId") {
            Some(Value::String(id)) => by.entry(id.clone()).or_default().push(e.clone()),
            other => {
                return Err(bad(format!(
                    "receiverInfos[{i}].orderId is {}, not a string",
                    kind(other)
                )))
            }
        }
    }
    Ok(by)
}

/// `f` over `items` with at most `parallel` calls in flight ([`crate::pool`]); results in
/// input order, a job that panicked an error of `method` for its orders.
fn par_map<T: Sync, R: Send>(
    items: &[T],
    parallel: usize,
    method: &str,
    f: impl Fn(&T) -> Result<R, RedError> + Sync,
) -> Vec<Result<R, RedError>> {
    crate::pool::map(items, parallel, f)
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|_| {
                Err(RedError::Answer {
                    method: method.into(),
                    message: "internal error: the call's worker failed".into(),
                })
            })
        })
        .collect()
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
