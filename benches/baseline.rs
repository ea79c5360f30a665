//! The same RED → Cainiao bonded mapping as `mappings/cainiao/bonded_whs.map` with a
//! warehouse file, written by hand in Rust over `serde_json::Value`: the limit the
//! interpreted mapping is measured against. Its output is asserted byte-equal to the
//! engine's on every example order (tests/baseline.rs) before any timing.
#![allow(dead_code)]

use rust_decimal::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

pub struct Warehouse {
    pub store_code: String,
    pub owner_user_id: String,
    pub inventory_channel: String,
    /// barcode → (Cainiao item id, consumption-tax rate)
    pub goods: HashMap<String, (String, Decimal)>,
    /// barcode → the filing cells: hs_code, first_unit, first_quantity, second_unit,
    /// second_quantity, origin_country ("" when blank)
    pub filing: HashMap<String, [String; 6]>,
}

impl Warehouse {
    pub fn load(
        csv_path: &std::path::Path,
        store_code: &str,
        owner: &str,
        channel: &str,
    ) -> Warehouse {
        let mut goods = HashMap::new();
        let mut filing = HashMap::new();
        let mut r = csv::Reader::from_path(csv_path).expect("goods table");
        let h = r.headers().expect("header").clone();
        let col = |n: &str| h.iter().position(|c| c == n).expect("column");
        let (b, i, t) = (col("barcode"), col("item_id"), col("consumption_tax_rate"));
        let f = [
            "hs_code",
            "first_unit",
            "first_quantity",
            "second_unit",
            "second_quantity",
            "origin_country",
        ]
        .map(col);
        for rec in r.records() {
            let rec = rec.expect("row");
            filing.insert(rec[b].to_string(), f.map(|c| rec[c].trim().to_string()));
            goods.insert(
                rec[b].to_string(),
                (
                    rec[i].to_string(),
                    Decimal::from_str(&rec[t]).expect("rate"),
                ),
            );
        }
        Warehouse {
            store_code: store_code.into(),
            owner_user_id: owner.into(),
            inventory_channel: channel.into(),
            goods,
            filing,
        }
    }
}

impl Warehouse {
    /// The warehouse of `mappings/warehouses/hangzhou_xiasha.map`: its params and goods.
    pub fn hangzhou(repo: &std::path::Path) -> Warehouse {
        Warehouse::load(
            &repo.join("mappings/warehouses/hangzhou_xiasha_goods.csv"),
            "HZ_XIASHA_01",
            "2200000000001",
            "非淘ToC",
        )
    }
}

fn num(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::from_str(n.as_str()).ok(),
        _ => None,
    }
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn nonblank(v: Option<&str>) -> Option<&str> {
    v.filter(|x| !x.trim().is_empty())
}

fn w_str(out: &mut String, x: &str) {
    out.push('"');
    for c in x.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn kv_s(out: &mut String, k: &str, v: &str) {
    w_str(out, k);
    out.push(':');
    w_str(out, v);
}

fn kv_n(out: &mut String, k: &str, v: Decimal) {
    w_str(out, k);
    let _ = write!(out, ":{}", v.normalize());
}

struct Item<'a> {
    item_id: &'a str,
    filing: Option<&'a [String; 6]>,
    qty: Decimal,
    price: Decimal,
    paid: Decimal,
    ctax: Decimal,
    tax: Decimal,
}

/// Maps one input document; `Err` names why the order is rejected.
pub fn map(doc: &Value, wh: &Warehouse, out: &mut String) -> Result<(), String> {
    let detail = &doc["detail"];
    let receiver = &doc["receiver"]["receiverInfos"][0];
    if receiver.get("matched") != Some(&Value::Bool(true)) {
        return Err("receiver address changed".into());
    }
    let infos = doc["declare"]["orderDeclareInfos"]
        .as_array()
        .ok_or("no declare")?;
    let buyer = infos
        .iter()
        .find(|e| s(e, "type") == Some("订购人"))
        .or_else(|| infos.iter().find(|e| s(e, "type") == Some("收货人")))
        .ok_or("no declaration entry")?;
    let mut items = Vec::new();
    for sku in detail["skuList"].as_array().ok_or("no skuList")? {
        for good in sku["skuDetailList"].as_array().ok_or("no goods")? {
            let barcode = s(good, "barcode").ok_or("good without barcode")?;
            let (item_id, rate) = wh.goods.get(barcode).ok_or("unknown barcode")?;
            let qty = num(&good["quantity"]).ok_or("quantity")?;
            let unit = num(&good["pricePerSku"]).ok_or("price")?;
            let md = good
                .get("merchantDiscountPerSku")
                .and_then(num)
                .unwrap_or_default();
            let rd = good
                .get("redDiscountPerSku")
                .and_then(num)
                .unwrap_or_default();
            let tax = num(&good["taxPerSku"]).ok_or("tax")? * qty;
            let price = unit * qty;
            let paid = (unit - md - rd) * qty;
            if paid > price || paid < Decimal::ZERO {
                return Err("discount".into());
            }
            let ctax = (tax * rate / (rate + Decimal::new(13, 2)))
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
            if !(tax - ctax).fract().is_zero() || !price.fract().is_zero() {
                return Err("fraction".into());
            }
            items.push(Item {
                item_id,
                filing: wh.filing.get(barcode),
                qty,
                price,
                paid,
                ctax,
                tax,
            });
        }
    }
    if items.is_empty() {
        return Err("no goods".into());
    }
    let post = detail
        .get("totalShippingFree")
        .and_then(num)
        .unwrap_or_default();
    let price: Decimal = items.iter().map(|i| i.price).sum();
    let paid: Decimal = items.iter().map(|i| i.paid).sum();
    let ctax: Decimal = items.iter().map(|i| i.ctax).sum();
    let tax: Decimal = items.iter().map(|i| i.tax).sum();
    let coupon = price - paid;
    let actual = price + post + tax - coupon;
    if let Some(total) = detail.get("totalPayAmount").and_then(num) {
        if total != actual {
            return Err("actual payment differs".into());
        }
    }
    let pay_code = match detail.pointer("/boundExtendInfo/payChannel") {
        Some(Value::String(c)) => c.clone(),
        _ => detail["paymentType"].to_string(),
    };
    let pay_channel = match pay_code.as_str() {
        "AliPay" | "1" | "5" | "7" => "ALIPAY",
        "TP" | "2" => "WEIXINPAY",
        _ => return Err("unknown payment".into()),
    };
    let pay_order = nonblank(
        detail
            .pointer("/boundExtendInfo/payNo")
            .and_then(Value::as_str),
    )
    .or_else(|| s(detail, "outTradeNo"))
    .ok_or("no pay order")?;
    let payer = s(detail, "userId")
        .or_else(|| s(buyer, "linkPhone"))
        .ok_or("payer")?;
    let phone = s(buyer, "linkPhone").ok_or("phone")?;

    out.push('{');
    kv_s(out, "ownerUserId", &wh.owner_user_id);
    out.push(',');
    kv_s(out, "orderType", "BONDED_WHS");
    out.push(',');
    kv_s(out, "storeCode", &wh.store_code);
    out.push(',');
    kv_s(
        out,
        "externalOrderCode",
        s(detail, "orderId").ok_or("orderId")?,
    );
    // China time (UTC+8); RED's 0 is no time.
    let time = |k: &str| {
        detail
            .get(k)
            .and_then(Value::as_i64)
            .filter(|&ms| ms > 0)
            .and_then(|ms| {
                let tz = chrono::FixedOffset::east_opt(8 * 3600)?;
                let t = chrono::DateTime::from_timestamp_millis(ms)?.with_timezone(&tz);
                Some(t.format("%Y-%m-%d %H:%M:%S").to_string())
            })
    };
    for (k, v) in [
        ("orderCreateTime", time("createdTime")),
        ("orderPayTime", time("paidTime")),
        (
            "buyerRemark",
            nonblank(s(detail, "customerRemark")).map(str::to_string),
        ),
    ] {
        if let Some(v) = v {
            out.push(',');
            kv_s(out, k, &v);
        }
    }
    out.push_str(",\"receiverInfo\":{");
    kv_s(out, "country", "CN");
    out.push(',');
    kv_s(
        out,
        "province",
        s(receiver, "receiverProvinceName").ok_or("province")?,
    );
    out.push(',');
    kv_s(
        out,
        "city",
        nonblank(s(receiver, "receiverCityName")).unwrap_or("/"),
    );
    out.push(',');
    kv_s(
        out,
        "district",
        nonblank(s(receiver, "receiverDistrictName")).unwrap_or("/"),
    );
    out.push(',');
    if let Some(town) = nonblank(s(receiver, "receiverTownName")) {
        kv_s(out, "town", town);
        out.push(',');
    }
    kv_s(
        out,
        "address",
        s(receiver, "receiverAddress").ok_or("address")?,
    );
    out.push(',');
    kv_s(out, "name", s(receiver, "receiverName").ok_or("name")?);
    out.push(',');
    kv_s(
        out,
        "contactNo",
        s(receiver, "receiverPhone").ok_or("phone")?,
    );
    out.push_str("},\"orderItemList\":[");
    for (n, i) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('{');
        kv_s(out, "itemId", i.item_id);
        out.push(',');
        kv_n(out, "itemQuantity", i.qty);
        out.push(',');
        kv_s(out, "inventoryChannel", &wh.inventory_channel);
        out.push_str(",\"declareInfo\":{");
        kv_n(out, "itemTotalPrice", i.price);
        out.push(',');
        kv_n(out, "itemTotalActualPrice", i.paid);
        out.push(',');
        kv_n(out, "customsTax", Decimal::ZERO);
        out.push(',');
        kv_n(out, "consumptionTax", i.ctax);
        out.push(',');
        kv_n(out, "vat", i.tax - i.ctax);
        out.push(',');
        kv_n(out, "totalTax", i.tax);
        if let Some(f) = i.filing {
            let line = |q: &str| Decimal::from_str(q).map(|q| (q * i.qty).normalize().to_string());
            let fq = if f[2].is_empty() {
                None
            } else {
                line(&f[2]).ok()
            };
            let sq = if f[4].is_empty() {
                None
            } else {
                line(&f[4]).ok()
            };
            let cells = [
                ("hscode", Some(f[0].clone())),
                ("firstUnit", Some(f[1].clone())),
                ("firstQuantity", fq),
                ("secondUnit", Some(f[3].clone())),
                ("secondQuantity", sq),
                ("originCountry", Some(f[5].clone())),
            ];
            for (k, v) in cells {
                if let Some(v) = v.filter(|v| !v.is_empty()) {
                    out.push(',');
                    kv_s(out, k, &v);
                }
            }
        }
        out.push_str("}}");
    }
    out.push_str("],\"orderAmountInfo\":{");
    kv_n(out, "dutiablePrice", paid + post);
    out.push(',');
    kv_n(out, "customsTax", Decimal::ZERO);
    out.push(',');
    kv_n(out, "consumptionTax", ctax);
    out.push(',');
    kv_n(out, "vat", tax - ctax);
    out.push(',');
    kv_n(out, "totalTax", tax);
    out.push(',');
    kv_n(out, "insurance", Decimal::ZERO);
    out.push(',');
    kv_n(out, "coupon", coupon);
    out.push(',');
    kv_n(out, "actualPayment", actual);
    out.push(',');
    kv_n(out, "postFee", post);
    out.push(',');
    kv_s(out, "currency", "CNY");
    out.push_str("},\"customsDeclareInfo\":{");
    kv_s(out, "buyerName", s(buyer, "idName").ok_or("idName")?);
    out.push(',');
    kv_s(out, "buyerPlatformId", phone);
    out.push(',');
    kv_s(out, "buyerIDType", "1");
    out.push(',');
    kv_s(out, "buyerIDNo", s(buyer, "idNumber").ok_or("idNumber")?);
    out.push(',');
    kv_s(out, "payerId", payer);
    out.push(',');
    kv_s(out, "payChannel", pay_channel);
    out.push(',');
    kv_s(out, "payOrderId", pay_order);
    out.push(',');
    kv_s(out, "nationality", "CN");
    out.push(',');
    // Cainiao takes 12 characters: a landline goes without its "-" (as the base mapping).
    let contact = phone.replace(['-', ' '], "");
    if contact.chars().count() > 12 {
        return Err("contactNo over 12".into());
    }
    kv_s(out, "contactNo", &contact);
    out.push(',');
    kv_s(out, "payCardId", "");
    out.push_str("}}");
    Ok(())
}
