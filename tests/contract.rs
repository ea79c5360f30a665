//! The whole Cainiao contract (issue 17, item 4): field lengths reject an order naming the
//! field (never cut short), and the optional fields the base mapping fills — the town, the
//! buyer's note, the two times, the customs filing from the goods table — reach the request.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use common::*;
use serde_json::Value;
use std::path::Path;

fn order(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("examples/orders").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn program(opts: &Options) -> bondmap::program::Program {
    load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        opts,
    )
    .unwrap()
    .0
}

fn request(doc: &Value, opts: &Options) -> Value {
    let out = bondmap::run::run(&program(opts), doc).unwrap();
    serde_json::from_str(&out).unwrap()
}

fn rejected(doc: &Value) -> bondmap::run::RunError {
    let p = program(&Options::default());
    let mut out = String::from("kept");
    let e = bondmap::run::run_into(&p, doc, &mut out).unwrap_err();
    assert_eq!(out, "kept", "a rejected order must produce nothing");
    e
}

fn receiver(doc: &mut Value) -> &mut Value {
    &mut doc["receiver"]["receiverInfos"][0]
}

#[test]
fn an_address_over_512_characters_is_rejected_naming_the_field() {
    let mut doc = order("01_single_sku_alipay.json");
    // 513 characters of Chinese text: 1539 bytes, so a byte count would say far more.
    receiver(&mut doc)["receiverAddress"] = "路".repeat(513).into();
    let e = rejected(&doc);
    assert_eq!(e.order_id.as_deref(), Some("P78811223300000001"));
    assert_eq!(e.field.as_deref(), Some("receiverInfo.address"));
    assert!(e.message.contains("513 characters"), "{e}");
    assert!(e.message.contains("limit of 512"), "{e}");
    assert!(e.message.contains("not bytes"), "{e}");
    assert!(
        !e.to_string().contains("路路"),
        "the address is never shown: {e}"
    );
    assert!(
        e.location.starts_with("mappings/cainiao/bonded_whs.map:"),
        "{e}"
    );

    // At exactly 512 the order goes, with the address whole.
    receiver(&mut doc)["receiverAddress"] = "路".repeat(512).into();
    let req = request(&doc, &Options::default());
    assert_eq!(
        req["receiverInfo"]["address"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        512
    );
}

#[test]
fn a_name_of_99_characters_goes_and_of_100_is_rejected() {
    let mut doc = order("01_single_sku_alipay.json");
    let name: String = "欧阳".repeat(50).chars().take(99).collect();
    receiver(&mut doc)["receiverName"] = name.clone().into();
    let req = request(&doc, &Options::default());
    assert_eq!(req["receiverInfo"]["name"], Value::from(name.clone()));

    receiver(&mut doc)["receiverName"] = format!("{name}阳").into();
    let e = rejected(&doc);
    assert_eq!(e.field.as_deref(), Some("receiverInfo.name"));
    assert!(e.message.contains("100 characters"), "{e}");
    assert!(e.message.contains("limit of 99"), "{e}");
    assert!(
        !e.to_string().contains("欧阳"),
        "the name is never shown: {e}"
    );

    // The buyer's name (customs) has the same limit.
    let mut doc = order("01_single_sku_alipay.json");
    doc["declare"]["orderDeclareInfos"][0]["idName"] = "张".repeat(100).into();
    let e = rejected(&doc);
    assert_eq!(e.field.as_deref(), Some("customsDeclareInfo.buyerName"));
    assert!(e.message.contains("limit of 99"), "{e}");
}

#[test]
fn the_town_the_buyer_note_and_both_times_reach_the_request() {
    // Values read off examples/orders/02_…: receiverTownName 香蜜湖街道, customerRemark
    // 请用纸箱包装，不要放发票, createdTime 1795007200000 and paidTime 1795007260000 ms,
    // which are 2026-11-18 13:06:40 and 13:07:40 UTC, so 21:06:40 and 21:07:40 in China.
    let req = request(
        &order("02_several_skus_discounts_wechat.json"),
        &Options::default(),
    );
    assert_eq!(req["receiverInfo"]["town"], "香蜜湖街道");
    assert_eq!(
        req["receiverInfo"]["address"], "红荔西路8089号深业中城A座1203",
        "the town is its own field, not repeated in the address"
    );
    assert_eq!(req["buyerRemark"], "请用纸箱包装，不要放发票");
    assert_eq!(req["orderCreateTime"], "2026-11-18 21:06:40");
    assert_eq!(req["orderPayTime"], "2026-11-18 21:07:40");
}

#[test]
fn absent_values_stay_absent_never_empty() {
    let mut doc = order("01_single_sku_alipay.json");
    // RED writes "" for no note and 0 for a time that has not happened.
    doc["detail"]["paidTime"] = 0.into();
    doc["detail"].as_object_mut().unwrap().remove("createdTime");
    receiver(&mut doc)["receiverTownName"] = "".into();
    let req = request(&doc, &Options::default());
    for key in ["buyerRemark", "orderCreateTime", "orderPayTime"] {
        assert!(req.get(key).is_none(), "{key}: {req}");
    }
    assert!(req["receiverInfo"].get("town").is_none(), "{req}");
}

fn goods_table(dir: &Path, rows: &str) -> std::path::PathBuf {
    let path = dir.join("goods.csv");
    std::fs::write(
        &path,
        format!(
            "barcode,item_id,consumption_tax_rate,hs_code,first_unit,first_quantity,second_unit,second_quantity,origin_country\n{rows}"
        ),
    )
    .unwrap();
    path
}

fn with_table(path: std::path::PathBuf) -> Options {
    Options {
        tables: vec![("goods".into(), path)],
        ..Options::default()
    }
}

#[test]
fn the_hs_code_and_legal_quantities_come_from_the_goods_table() {
    // 08_…: one good, 8809685830513, quantity 3. A table of this test's own, so the
    // values can only have come from it.
    let dir = tempfile::tempdir().unwrap();
    let table = goods_table(
        dir.path(),
        "8809685830513,42,0.15,3304990011,035,0.12345,011,2,KR\n",
    );
    let req = request(&order("08_quantity_three.json"), &with_table(table));
    let declare = &req["orderItemList"][0]["declareInfo"];
    assert_eq!(req["orderItemList"][0]["itemId"], "42");
    assert_eq!(declare["hscode"], "3304990011");
    assert_eq!(declare["firstUnit"], "035");
    assert_eq!(declare["firstQuantity"], "0.37035", "0.12345 kg × 3");
    assert_eq!(declare["secondUnit"], "011");
    assert_eq!(declare["secondQuantity"], "6", "2 × 3");
    assert_eq!(declare["originCountry"], "KR");

    // The shipped table: 02_… has 4901301348180 × 3 at 1.2 kg, no second unit.
    let req = request(
        &order("02_several_skus_discounts_wechat.json"),
        &Options::default(),
    );
    let declare = &req["orderItemList"][2]["declareInfo"];
    assert_eq!(declare["hscode"], "2106909090");
    assert_eq!(declare["firstQuantity"], "3.6");
    assert!(declare.get("secondUnit").is_none(), "{declare}");
    assert!(declare.get("secondQuantity").is_none(), "{declare}");
}

#[test]
fn blank_filing_cells_leave_the_fields_out() {
    let dir = tempfile::tempdir().unwrap();
    let table = goods_table(dir.path(), "8809685830513,42,0.15,,,,,,\n");
    let req = request(&order("08_quantity_three.json"), &with_table(table));
    let declare = req["orderItemList"][0]["declareInfo"].as_object().unwrap();
    for key in FILING {
        assert!(!declare.contains_key(key), "{key}: {declare:?}");
    }
}

#[test]
fn bad_filing_data_rejects_the_order() {
    let run = |row: &str| {
        let dir = tempfile::tempdir().unwrap();
        let table = goods_table(dir.path(), row);
        let p = program(&with_table(table));
        bondmap::run::run(&p, &order("08_quantity_three.json")).unwrap_err()
    };
    // Nine digits: Cainiao checks the code against the filing and fails the delivery.
    let e = run("8809685830513,42,0.15,330499001,035,0.25,,,KR\n");
    assert_eq!(
        e.field.as_deref(),
        Some("orderItemList[0].declareInfo.hscode")
    );
    assert!(e.message.contains("under the field's minimum of 10"), "{e}");
    // 0.123456 kg × 3 has six places: N19,5 takes five, and nothing is rounded quietly.
    let e = run("8809685830513,42,0.15,3304990099,035,0.123456,,,KR\n");
    assert_eq!(
        e.field.as_deref(),
        Some("orderItemList[0].declareInfo.firstQuantity")
    );
    assert!(e.message.contains("6 decimal places"), "{e}");
    // A second unit without its quantity.
    let e = run("8809685830513,42,0.15,3304990099,035,0.25,011,,KR\n");
    assert!(e.message.contains("second legal unit"), "{e}");
}

const FILING: [&str; 6] = [
    "hscode",
    "firstUnit",
    "firstQuantity",
    "secondUnit",
    "secondQuantity",
    "originCountry",
];

/// The request with its items' customs filing fields taken out.
fn without_filing(mut req: Value) -> Value {
    for item in req["orderItemList"].as_array_mut().unwrap() {
        let declare = item["declareInfo"].as_object_mut().unwrap();
        for key in FILING {
            declare.remove(key);
        }
    }
    req
}

#[test]
fn a_goods_table_without_the_filing_columns_checks_clean_and_maps_every_order() {
    // tests/contract/no_filing_columns.map: the base mapping with a goods table of only
    // barcode, item_id and consumption_tax_rate (Hangzhou's goods, so the same item ids).
    let path = root().join("tests/contract/no_filing_columns.map");
    let opts = Options {
        root: Some(root()),
        ..Options::default()
    };
    let (bare, warnings) = load_program(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.is_empty(), "{warnings:?}");
    let full = program(&Options::default());
    let (mut mapped, mut filed) = (0, 0);
    for e in examples() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&e).unwrap()).unwrap();
        match (
            bondmap::run::run(&full, &doc),
            bondmap::run::run(&bare, &doc),
        ) {
            (Ok(f), Ok(b)) => {
                let (f, b): (Value, Value) = (
                    serde_json::from_str(&f).unwrap(),
                    serde_json::from_str(&b).unwrap(),
                );
                // The Hangzhou table has the columns: its requests carry the filing.
                filed += usize::from(f["orderItemList"][0]["declareInfo"]["hscode"].is_string());
                assert_eq!(without_filing(f), b, "{}", e.display());
                mapped += 1;
            }
            (Err(f), Err(b)) => assert_eq!(f.message, b.message, "{}", e.display()),
            (f, b) => panic!("{}: {f:?} but without filing columns {b:?}", e.display()),
        }
    }
    assert_eq!(mapped, 11);
    assert_eq!(
        filed, 11,
        "a goods table that has the columns still fills them"
    );
}

#[test]
fn a_swapped_goods_table_without_the_filing_columns_leaves_them_out() {
    // `--table goods=FILE` on the shipped warehouse, whose file names no filing columns:
    // the base mapping's optional ones read as absent.
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("goods.csv");
    std::fs::write(
        &table,
        "barcode,item_id,consumption_tax_rate\n8809685830513,42,0.15\n",
    )
    .unwrap();
    let req = request(&order("08_quantity_three.json"), &with_table(table));
    assert_eq!(req["orderItemList"][0]["itemId"], "42");
    let declare = req["orderItemList"][0]["declareInfo"].as_object().unwrap();
    for key in FILING {
        assert!(!declare.contains_key(key), "{key}: {declare:?}");
    }
    // The tax split still comes from the table's rate.
    assert!(
        declare["consumptionTax"].as_i64().unwrap() > 0,
        "{declare:?}"
    );
}

#[test]
fn a_required_column_missing_from_the_table_is_an_error_suggesting_an_optional_one() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("goods.csv");
    std::fs::write(&table, "barcode,consumption_tax_rate\n8809685830513,0.15\n").unwrap();
    let opts = Options {
        allow_unset_params: true,
        ..with_table(table)
    };
    let e = load_program(&root().join("mappings/cainiao/bonded_whs.map"), &opts).unwrap_err();
    let text: Vec<&str> = e.diags.iter().map(|d| d.message.as_str()).collect();
    let text = text.join("\n");
    assert!(
        text.contains("the header has no column `item_id`"),
        "{text}"
    );
    assert!(text.contains("`item_id: string?`"), "{text}");
}

/// The buyer's declaration entry (订购人) of an example order.
fn buyer(doc: &mut Value) -> &mut Value {
    doc["declare"]["orderDeclareInfos"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["type"] == "订购人")
        .unwrap()
}

#[test]
fn the_buyer_phone_follows_cainiaos_length_of_12() {
    // Cainiao's field list gives customsDeclareInfo.contactNo 12 characters. Example 05's
    // buyer has a landline, 0571-88886666 (13): it goes without its "-".
    let doc = order("05_landline_phone.json");
    let req = request(&doc, &Options::default());
    assert_eq!(req["customsDeclareInfo"]["contactNo"], "057188886666");
    // The receiver's phone (99) keeps the form RED gives.
    assert_eq!(req["receiverInfo"]["contactNo"], "0571-88886666");

    // A phone of 13 characters is rejected naming the field, never cut short or shown.
    let mut doc = order("01_single_sku_alipay.json");
    buyer(&mut doc)["linkPhone"] = "+861380013800".into();
    let e = rejected(&doc);
    assert_eq!(e.field.as_deref(), Some("customsDeclareInfo.contactNo"));
    assert!(e.message.contains("13 characters"), "{e}");
    assert!(e.message.contains("limit of 12"), "{e}");
    assert!(!e.to_string().contains("861380013800"), "{e}");
    // Of 12 it goes whole.
    buyer(&mut doc)["linkPhone"] = "+86138001380".into();
    let req = request(&doc, &Options::default());
    assert_eq!(req["customsDeclareInfo"]["contactNo"], "+86138001380");
}
