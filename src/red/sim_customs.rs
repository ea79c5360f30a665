//! The customs leg of the local RED API ([`super::sim`]): customs results told
//! (`order.modifycustomstatus`, the same event twice kept once), payment records pushed
//! again (`order.resendBondedPaymentRecord`, counted per order), SKU filings taken
//! (`order.createItemCustomsInfo`, an HS code that is not 10 digits refused as RED does:
//! 税则号未收录) and read back (`order.getCustomsInfo`).

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The methods answered here.
pub const METHODS: &[&str] = &[
    "order.modifycustomstatus",
    "order.resendBondedPaymentRecord",
    "order.createItemCustomsInfo",
    "order.getCustomsInfo",
];

/// What RED has heard of customs.
#[derive(Debug, Default)]
pub struct CustomsSim {
    /// Each customs event told, by (orderId, eventType, eventTime): its fields.
    pub events: BTreeMap<(String, String, i64), Value>,
    /// `order.resendBondedPaymentRecord` calls taken, by order.
    pub repushes: HashMap<String, u32>,
    /// The filing of each (barcode, port).
    pub filings: BTreeMap<(String, String), Value>,
}

/// How the simulated RED behaves on the customs leg.
#[derive(Debug, Clone, Default)]
pub struct CustomsOptions {
    /// Answer `order.modifycustomstatus` as an app that lacks the method.
    pub lacks_customs_status: bool,
    /// Orders whose payment record RED refuses to push again (`success: false`).
    pub refuse_repush: HashSet<String>,
}

fn err(code: i64, msg: &str) -> Value {
    json!({"success": false, "error_code": code, "error_msg": msg, "data": null})
}

fn ok(data: Value) -> Value {
    json!({"success": true, "error_code": 0, "error_msg": "", "data": data})
}

/// The method's fields of a request (the system fields dropped).
pub(super) fn fields(req: &Value) -> Value {
    let mut f = req.clone();
    if let Some(m) = f.as_object_mut() {
        for k in [
            "appId",
            "timestamp",
            "version",
            "method",
            "sign",
            "accessToken",
        ] {
            m.remove(k);
        }
    }
    f
}

/// The answer to one customs call; `order_exists` says whether RED has the order.
pub fn answer(
    method: &str,
    req: &Value,
    sim: &mut CustomsSim,
    opts: &CustomsOptions,
    order_exists: &dyn Fn(&str) -> bool,
) -> Value {
    let text = |k: &str| req[k].as_str().filter(|v| !v.trim().is_empty());
    match method {
        "order.modifycustomstatus" => {
            if opts.lacks_customs_status {
                return err(-4, "unknown method");
            }
            let (Some(id), Some(ty), Some(at)) = (
                text("orderId"),
                text("eventType"),
                req["eventTime"].as_i64(),
            ) else {
                return err(
                    -5,
                    "参数错误：orderId、eventType、eventTime 必填 (missing field)",
                );
            };
            if !order_exists(id) {
                return err(-2, "订单不存在 (no such order)");
            }
            // The same event again (a retry after a lost answer) is the same event.
            sim.events
                .entry((id.to_string(), ty.to_string(), at))
                .or_insert_with(|| fields(req));
            ok(json!({}))
        }
        "order.resendBondedPaymentRecord" => {
            let (Some(id), Some(ty)) = (text("orderId"), text("customsType")) else {
                return err(-5, "参数错误：orderId、customsType 必填 (missing field)");
            };
            if !matches!(ty, "zongshu" | "local") {
                return err(-5, "customsType 取值 zongshu/local");
            }
            if !order_exists(id) {
                return err(-2, "订单不存在 (no such order)");
            }
            if opts.refuse_repush.contains(id) {
                return ok(json!({"success": false, "msg": "该订单支付单不支持重推"}));
            }
            *sim.repushes.entry(id.to_string()).or_default() += 1;
            ok(json!({"success": true, "msg": null}))
        }
        "order.createItemCustomsInfo" => {
            let (Some(barcode), Some(hs), Some(port)) =
                (text("barcode"), text("hs_code"), text("port_code"))
            else {
                return err(
                    -5,
                    "参数错误：barcode、hs_code、port_code 必填 (missing field)",
                );
            };
            if !(req["quantity1"].is_number() && req["quantity2"].is_number()) {
                return err(-5, "参数错误：quantity1、quantity2 必填 (missing field)");
            }
            if hs.len() != 10 || !hs.chars().all(|c| c.is_ascii_digit()) {
                return err(-9, "税则号未收录");
            }
            sim.filings
                .insert((barcode.to_string(), port.to_string()), fields(req));
            ok(json!({}))
        }
        "order.getCustomsInfo" => {
            let Some(barcode) = text("barcode") else {
                return err(-5, "参数错误：barcode 必填 (missing field)");
            };
            let list: Vec<Value> = sim
                .filings
                .iter()
                .filter(|((b, _), _)| b == barcode)
                .map(|((b, port), f)| {
                    json!({"barcode": b, "customsName": port, "hsCode": f["hs_code"],
                           "generalTaxRate": 0.091, "quantity1": f["quantity1"], "quantity2": f["quantity2"]})
                })
                .collect();
            ok(json!({ "providerSyncCustomsInfoV3List": list }))
        }
        _ => err(-4, "unknown method"),
    }
}
