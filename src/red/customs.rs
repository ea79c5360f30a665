//! The customs leg of RED's API (red-open-api.md §11), thin over [`RedClient::call`] (so
//! every passing fault is retried as for every RED call): a customs result told to RED
//! (`order.modifycustomstatus`), a payment record pushed again
//! (`order.resendBondedPaymentRecord`), a SKU's customs filing synced
//! (`order.createItemCustomsInfo`) and read back (`order.getCustomsInfo`).
//!
//! Each checks what it sends (never a half-built request) and what comes back (an answer
//! of the wrong shape is an error, never an empty default).

use super::client::{RedClient, RedError};
use serde_json::Value;

pub const MODIFY_STATUS: &str = "order.modifycustomstatus";
pub const RESEND_PAYMENT: &str = "order.resendBondedPaymentRecord";
pub const CREATE_FILING: &str = "order.createItemCustomsInfo";
pub const GET_FILING: &str = "order.getCustomsInfo";

/// One filing RED holds for a barcode (`providerSyncCustomsInfoV3List[]`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Filing {
    pub barcode: String,
    /// The port's code.
    pub customs_name: String,
    pub hs_code: String,
    /// The tax rate RED applies, as RED gives it (a number); absent when RED leaves it out.
    pub general_tax_rate: Option<Value>,
    pub quantity1: Value,
    pub quantity2: Value,
}

/// Every required field present and not blank, or the error that nothing was sent.
fn required(method: &str, fields: &Value, keys: &[&str]) -> Result<(), RedError> {
    for k in keys {
        let present = match fields.get(*k) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        if !present {
            return Err(RedError::NotSent {
                method: method.into(),
                message: format!("`{k}` is missing or blank"),
            });
        }
    }
    Ok(())
}

/// RED's `{success, msg}` inside `data` (the re-push answers so): `success` false is a
/// refusal in RED's words; no `success` at all is an answer of the wrong shape.
fn data_success(method: &str, data: &Value) -> Result<(), RedError> {
    match data.get("success") {
        Some(Value::Bool(true)) => Ok(()),
        Some(Value::Bool(false)) => Err(RedError::Api {
            method: method.into(),
            code: "success=false".into(),
            message: data
                .get("msg")
                .and_then(Value::as_str)
                .filter(|m| !m.trim().is_empty() && *m != "null")
                .unwrap_or("RED answered success false and gave no message")
                .to_string(),
        }),
        _ => Err(RedError::Answer {
            method: method.into(),
            message: format!(
                "the answer's data has no boolean `success` ({})",
                super::client::kind(data.get("success"))
            ),
        }),
    }
}

impl RedClient {
    /// Tells RED of a customs result: the fields `mappings/red/customs_status.map` built.
    pub fn modify_customs_status(&self, fields: &Value) -> Result<(), RedError> {
        required(
            MODIFY_STATUS,
            fields,
            &["orderId", "eventType", "eventTime"],
        )?;
        self.call(MODIFY_STATUS, fields.clone()).map(|_| ())
    }

    /// Asks RED to push an order's payment record to customs again: the fields
    /// `mappings/red/resend_payment.map` built (`orderId`, `customsType`).
    pub fn resend_payment_record(&self, fields: &Value) -> Result<(), RedError> {
        required(RESEND_PAYMENT, fields, &["orderId", "customsType"])?;
        let data = self.call(RESEND_PAYMENT, fields.clone())?;
        // RED documents `{success, msg}`; an envelope success with no data is taken as
        // RED's own success (it carries nothing else to read).
        if data.is_null() {
            return Ok(());
        }
        data_success(RESEND_PAYMENT, &data)
    }

    /// Sends one SKU's customs filing: the fields `mappings/red/item_customs.map` built.
    pub fn create_item_customs_info(&self, fields: &Value) -> Result<(), RedError> {
        required(
            CREATE_FILING,
            fields,
            &["barcode", "hs_code", "port_code", "quantity1", "quantity2"],
        )?;
        self.call(CREATE_FILING, fields.clone()).map(|_| ())
    }

    /// What RED holds of a barcode's filings.
    pub fn customs_info(&self, barcode: &str) -> Result<Vec<Filing>, RedError> {
        if barcode.trim().is_empty() {
            return Err(RedError::Answer {
                method: GET_FILING.into(),
                message: "not sent: the barcode is blank".into(),
            });
        }
        let data = self.call(GET_FILING, serde_json::json!({ "barcode": barcode }))?;
        read_filings(&data).map_err(|message| RedError::Answer {
            method: GET_FILING.into(),
            message,
        })
    }
}

/// The filings of a `order.getCustomsInfo` answer, each checked.
fn read_filings(data: &Value) -> Result<Vec<Filing>, String> {
    let list = match data.get("providerSyncCustomsInfoV3List") {
        Some(Value::Array(a)) => a,
        other => {
            return Err(format!(
                "the answer has no list providerSyncCustomsInfoV3List ({})",
                super::client::kind(other)
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, f)| {
            let text = |k: &str| {
                f.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("filing {i}: `{k}` is not a string"))
            };
            let number = |k: &str| match f.get(k) {
                Some(v @ Value::Number(_)) => Ok(v.clone()),
                other => Err(format!(
                    "filing {i}: `{k}` is not a number ({})",
                    super::client::kind(other)
                )),
            };
            Ok(Filing {
                barcode: text("barcode")?,
                customs_name: text("customsName")?,
                hs_code: text("hsCode")?,
                general_tax_rate: f.get("generalTaxRate").filter(|v| v.is_number()).cloned(),
                quantity1: number("quantity1")?,
                quantity2: number("quantity2")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_missing_field_is_not_sent_and_no_fault_that_may_pass() {
        let e = required("m", &json!({"orderId": " "}), &["orderId"]).unwrap_err();
        assert!(
            matches!(e, RedError::NotSent { .. }) && !e.is_passing(),
            "{e}"
        );
        assert!(
            e.to_string().contains("`orderId` is missing or blank"),
            "{e}"
        );
    }

    #[test]
    fn answers_of_the_wrong_shape_are_errors_not_defaults() {
        assert!(data_success("m", &json!({"success": true})).is_ok());
        let e = data_success("m", &json!({"success": false, "msg": "订单状态不支持"})).unwrap_err();
        assert!(
            !e.is_passing() && e.to_string().contains("订单状态不支持"),
            "{e}"
        );
        assert!(matches!(
            data_success("m", &json!({"success": "yes"})),
            Err(RedError::Answer { .. })
        ));
        let ok = read_filings(
            &json!({"providerSyncCustomsInfoV3List": [{"barcode": "6901234567892",
            "customsName": "hz_custom", "hsCode": "1901101000", "generalTaxRate": 0.091,
            "quantity1": 0.9, "quantity2": 0}]}),
        )
        .unwrap();
        assert_eq!(ok[0].hs_code, "1901101000");
        assert!(read_filings(&json!({})).is_err());
        assert!(read_filings(&json!({"providerSyncCustomsInfoV3List": [{"barcode": 1}]})).is_err());
        assert!(required("m", &json!({"orderId": " "}), &["orderId"]).is_err());
    }
}
