//! Bad input is normal input: each kind gets an error naming the order, the target
//! field, the source path and the mapping line, and nothing is produced for the order.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use common::*;
use serde_json::Value;

fn base() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/orders/02_several_skus_discounts_wechat.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

fn reject(change: impl FnOnce(&mut Value)) -> bondmap::run::RunError {
    let e = reject_any(change);
    assert_eq!(e.order_id.as_deref(), Some("P78811223300000002"));
    e
}

/// [`reject`] for an order whose id may be gone with what was changed.
fn reject_any(change: impl FnOnce(&mut Value)) -> bondmap::run::RunError {
    let (prog, _) = load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        &Options::default(),
    )
    .unwrap();
    let mut doc = base();
    change(&mut doc);
    let mut out = String::from("kept");
    let e = bondmap::run::run_into(&prog, &doc, &mut out).unwrap_err();
    assert_eq!(out, "kept", "a rejected order must produce nothing");
    // Read from text with only what the mapping reads (as `map --ndjson` does): the same.
    let shaped = bondmap::run::parse_order(&prog, &doc.to_string()).unwrap();
    assert_eq!(bondmap::run::run(&prog, &shaped).unwrap_err(), e);
    assert!(
        e.location.starts_with("mappings/cainiao/bonded_whs.map:"),
        "{e}"
    );
    e
}

fn good(doc: &mut Value, sku: usize) -> &mut Value {
    &mut doc["detail"]["skuList"][sku]["skuDetailList"][0]
}

#[test]
fn a_missing_field() {
    let e = reject(|d| {
        good(d, 1).as_object_mut().unwrap().remove("taxPerSku");
    });
    assert_eq!(e.field.as_deref(), Some("orderItemList[1]"));
    assert_eq!(e.source_path.as_deref(), Some("good.taxPerSku"));
    assert!(e.message.contains("absent"), "{e}");
}

#[test]
fn a_wrong_type() {
    let e = reject(|d| good(d, 0)["pricePerSku"] = "12900".into());
    assert_eq!(e.source_path.as_deref(), Some("good.pricePerSku"));
    assert!(
        e.message.contains("expected a number, found a string"),
        "{e}"
    );
}

#[test]
fn an_amount_with_three_decimals() {
    let e = reject(|d| good(d, 2)["taxPerSku"] = serde_json::from_str("1238.125").unwrap());
    assert_eq!(e.field.as_deref(), Some("orderItemList[2].declareInfo.vat"));
    assert_eq!(e.source_path.as_deref(), Some("good.taxPerSku"));
    assert!(e.message.contains("fraction"), "{e}");
}

#[test]
fn an_unknown_enum_code() {
    let e = reject(|d| d["detail"]["boundExtendInfo"]["payChannel"] = "UnionPay".into());
    assert_eq!(e.field.as_deref(), Some("customsDeclareInfo.payChannel"));
    assert!(
        e.message
            .contains("no row for key `UnionPay` in table `pay_channel`"),
        "{e}"
    );
}

#[test]
fn a_payment_that_does_not_add_up() {
    let e = reject(|d| d["detail"]["totalPayAmount"] = 1.into());
    assert!(
        e.message.contains("differs from RED's totalPayAmount"),
        "{e}"
    );
}

#[test]
fn a_missing_address_part_is_not_shipped_half() {
    let e = reject(|d| {
        d["receiver"]["receiverInfos"][0]
            .as_object_mut()
            .unwrap()
            .remove("receiverAddress");
    });
    assert!(
        e.message
            .contains("the receiver's address (receiverAddress) is blank"),
        "{e}"
    );
}

/// Customs refuses blank personal data: the mapping refuses it first, naming the field.
/// Before, an order with a blank buyer name or ID number was sent as it was.
#[test]
fn blank_personal_data_is_refused_naming_the_field() {
    type Entry = fn(&mut Value) -> &mut Value;
    let cases: [(&str, Entry); 6] = [
        ("idName", |d| &mut d["declare"]["orderDeclareInfos"][0]),
        ("idNumber", |d| &mut d["declare"]["orderDeclareInfos"][0]),
        ("linkPhone", |d| &mut d["declare"]["orderDeclareInfos"][0]),
        ("receiverName", |d| &mut d["receiver"]["receiverInfos"][0]),
        ("receiverPhone", |d| &mut d["receiver"]["receiverInfos"][0]),
        ("receiverAddress", |d| {
            &mut d["receiver"]["receiverInfos"][0]
        }),
    ];
    let mut report = String::new();
    for (field, at) in cases {
        for blank in ["", "  "] {
            let e = reject(|d| at(d)[field] = blank.into());
            assert!(e.message.contains(&format!("({field}) is blank")), "{e}");
            if blank.is_empty() {
                report.push_str(&format!("{field}: {e}\n"));
            }
        }
    }
    insta::with_settings!({snapshot_path => "../snapshots/mappings", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("reject_blank_personal_data", report);
    });
}

#[test]
fn a_missing_part_of_the_order_is_named() {
    for (part, says) in [
        ("receiver", "the order has no receiver part"),
        ("detail", "the order has no detail part"),
        ("declare", "the order has no declare part"),
    ] {
        let e = reject_any(|d| {
            d.as_object_mut().unwrap().remove(part);
        });
        assert!(e.message.contains(says), "{part}: {e}");
    }
    let e = reject(|d| {
        d["receiver"]["receiverInfos"] = serde_json::json!([]);
    });
    assert!(e.message.contains("no receiverInfos entry"), "{e}");
    let e = reject(|d| {
        d["detail"].as_object_mut().unwrap().remove("skuList");
    });
    assert!(e.message.contains("has no skuList"), "{e}");
}

#[test]
fn a_negative_quantity_is_named() {
    for q in [-1, 0] {
        let e = reject(|d| good(d, 0)["quantity"] = q.into());
        assert!(
            e.message.contains("a good's quantity is zero or negative"),
            "{q}: {e}"
        );
    }
}

#[test]
fn personal_data_stays_out_of_messages() {
    let e = reject(|d| d["declare"]["orderDeclareInfos"][0]["idNumber"] = 12345.into());
    let text = e.to_string();
    assert!(text.contains("customsDeclareInfo.buyerIDNo"), "{text}");
    assert!(!text.contains("12345"), "{text}");
}

/// A lookup keyed by a personal target field read back through `out.` is masked in the
/// error and in `explain`, as a key read from the order is (before: shown in clear).
#[test]
fn personal_values_read_back_through_out_are_masked() {
    let text = "use \"hangzhou_xiasha.map\"\n\
        table by_name { \"nobody\" => \"x\" }\n\
        customsDeclareInfo {\n  payCardId = by_name[out.customsDeclareInfo.buyerName]\n\
          payerId = out.receiverInfo.contactNo\n}\n";
    let (m, diags) = bondmap::load::load_str("pii.map", text, &root().join("mappings/warehouses"));
    assert!(diags.is_empty(), "{diags:?}");
    let (prog, diags) = bondmap::compile::compile(&m, &Options::default());
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
    let prog = prog.unwrap();
    let doc = base();
    let name = doc["declare"]["orderDeclareInfos"][0]["idName"]
        .as_str()
        .unwrap()
        .to_string();
    let phone = doc["receiver"]["receiverInfos"][0]["receiverPhone"]
        .as_str()
        .unwrap()
        .to_string();
    let e = bondmap::run::run(&prog, &doc).unwrap_err().to_string();
    assert!(e.contains("no row for key"), "{e}");
    assert!(!e.contains(&name), "the buyer's name is shown: {e}");
    // The order fails as a whole; explain the field that reads the phone back on an
    // order the lookup accepts.
    let mut ok = doc.clone();
    ok["declare"]["orderDeclareInfos"][0]["idName"] = "nobody".into();
    let ex = bondmap::run::explain(&prog, &ok, Some("customsDeclareInfo.payerId")).unwrap();
    assert!(ex.contains("out.receiverInfo.contactNo"), "{ex}");
    assert!(!ex.contains(&phone), "the phone is shown: {ex}");
}
