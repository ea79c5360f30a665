//! `order.orderDeliver`: tells RED an order has shipped. Telling it twice is safe: RED
//! refusing because the order is already shipped counts as done.
//!
//! RED publishes no error codes for this method, so "already shipped" is recognised two
//! ways: by its wording (已发货, 重复发货…), and, for any other refusal, by reading the
//! order back: shipped (status 5, 6 or 7) with this very tracking number is done. Shipped
//! with another number is not: that is a conflict for a person, returned as the error.

use super::client::{RedClient, RedError};
use serde_json::Value;

pub const METHOD: &str = "order.orderDeliver";

/// How an `order.orderDeliver` ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// RED accepted it now.
    Sent,
    /// RED already had the order shipped (an earlier call got through, or a person
    /// shipped it by hand with the same tracking number); `reason` says how we know.
    AlreadyShipped { reason: String },
}

/// Words of RED's answer that mean the order is shipped already.
const ALREADY: &[&str] = &[
    "已发货",
    "重复发货",
    "已经发货",
    "already shipped",
    "already delivered",
];

/// Order statuses after shipping: 5 partly shipped, 6 shipped, 7 completed.
const SHIPPED_STATUSES: &[i64] = &[5, 6, 7];

/// True when RED's error message says the order is shipped already.
pub fn says_already_shipped(message: &str) -> bool {
    let lower = message.to_lowercase();
    ALREADY.iter().any(|w| lower.contains(w))
}

impl RedClient {
    /// Sends the fields `mappings/red/order_deliver.map` built (`orderId`, `expressNo`,
    /// `expressCompanyCode`, `deliveringTime`…). Retried as every RED call.
    pub fn order_deliver(&self, fields: &Value) -> Result<Delivered, RedError> {
        let text = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        // Never send a half-built request: the three fields RED requires must be there.
        let (Some(order_id), Some(express_no), Some(_)) = (
            text("orderId"),
            text("expressNo"),
            text("expressCompanyCode"),
        ) else {
            return Err(RedError::NotSent {
                method: METHOD.into(),
                message: "orderId, expressNo and expressCompanyCode must all be non-empty strings"
                    .into(),
            });
        };
        let refusal = match self.call(METHOD, fields.clone()) {
            Ok(_) => return Ok(Delivered::Sent),
            // A refusal (a passing fault was retried already and is the caller's).
            Err(e @ RedError::Api { .. }) if !e.is_passing() => e,
            Err(e) => return Err(e),
        };
        if let RedError::Api { message, .. } = &refusal {
            if says_already_shipped(message) {
                return Ok(Delivered::AlreadyShipped {
                    reason: "RED answered that the order is already shipped".into(),
                });
            }
        }
        // Not a refusal we know: the order itself says whether it is shipped, and with what.
        // When it cannot be read, the refusal is not yet understood: a fault that may pass.
        let detail = match self.order_detail(order_id) {
            Ok(d) => d,
            Err(e) if e.is_passing() => return Err(e),
            Err(_) => return Err(refusal),
        };
        let status = detail.get("orderStatus").and_then(Value::as_i64);
        let tracking = detail.get("expressTrackingNo").and_then(Value::as_str);
        match (status, tracking) {
            (Some(s), Some(t)) if SHIPPED_STATUSES.contains(&s) && t == express_no => {
                Ok(Delivered::AlreadyShipped {
                    reason: format!("RED shows the order shipped (status {s}) with this tracking number"),
                })
            }
            (Some(s), Some(_)) if SHIPPED_STATUSES.contains(&s) => Err(RedError::Conflict {
                method: METHOD.into(),
                message: format!(
                    "RED shows the order shipped (status {s}) with another tracking number; RED's answer: {refusal}"
                ),
            }),
            _ => Err(refusal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::says_already_shipped;

    #[test]
    fn already_shipped_wording() {
        assert!(says_already_shipped("订单已发货，请勿重复操作"));
        assert!(says_already_shipped("该订单重复发货"));
        assert!(says_already_shipped("Order already shipped"));
        assert!(!says_already_shipped("订单状态不是待发货"));
        assert!(!says_already_shipped("订单未发货"));
        assert!(!says_already_shipped("快递公司编码错误"));
    }
}
