//! `bondmap explain` to the source (issue 17, item 3): `out.` reads followed down to the
//! RED fields, concrete source paths, each let once, a rejected order traced to what
//! rejected it, `--field` with `[*]`, every input form, `--format json`, personal values
//! (numbers too) masked; over the bundled examples and mappings.

mod common;

use bondmap::pii::mask;
use bondmap::program::Program;
use bondmap::schema::Pii;
use common::*;
use serde_json::Value;

const HZ: &str = "mappings/warehouses/hangzhou_xiasha.map";
const BUNDLE: &str = "examples/orders/09_bundle_two_goods.json";
const TWO_GOODS: &str = "examples/orders/10_cosmetic_beside_supplement.json";

fn explain(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["explain", "--mapping", HZ];
    all.extend_from_slice(args);
    let out = bondmap(&all);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn hangzhou() -> Program {
    let dir = root().join("mappings/warehouses");
    let src = std::fs::read_to_string(dir.join("hangzhou_xiasha.map")).unwrap();
    compile_in(&dir, "hangzhou_xiasha.map", &src).0
}

fn example(name: &str) -> Value {
    let p = root().join("examples/orders").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The issue's "Done when": the order-level sum of the items' tax, explained down to the
/// `taxPerSku` of each good (the second good of a bundle SKU included), with each
/// item's own value on the way.
#[test]
fn an_order_level_sum_is_explained_down_to_tax_per_sku() {
    let (code, out, err) = explain(&["--input", BUNDLE, "--field", "orderAmountInfo.totalTax"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with(
            "orderAmountInfo.totalTax = 8480 fen    (set at mappings/cainiao/bonded_whs.map:"
        ),
        "{out}"
    );
    for want in [
        "out.orderItemList[*].declareInfo.totalTax = [3968 fen, 4512 fen]",
        "orderItemList[0].declareInfo.totalTax = 3968 fen    (set at mappings/cainiao/bonded_whs.map:",
        "orderItemList[1].declareInfo.totalTax = 4512 fen    (set at mappings/cainiao/bonded_whs.map:",
        "$.detail.skuList[0].skuDetailList[0].taxPerSku = 1984 fen",
        "$.detail.skuList[0].skuDetailList[1].taxPerSku = 1128 fen",
        "$.detail.skuList[0].skuDetailList[1].quantity = 4",
    ] {
        assert!(out.contains(want), "`{want}` missing:\n{out}");
    }
    // Each item's block sits under the `out.` read that reads it.
    let read = out.find("out.orderItemList[*]").unwrap();
    let item = out.find("orderItemList[1].declareInfo.totalTax").unwrap();
    let tax = out.find("skuDetailList[1].taxPerSku").unwrap();
    assert!(read < item && item < tax, "{out}");
}

/// A loop item's reads name the concrete source path, not the loop variable.
#[test]
fn loop_items_show_concrete_source_paths() {
    let (code, out, err) = explain(&["--input", TWO_GOODS]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("$.detail.skuList[1].skuDetailList[0].barcode = \"0737052925096\""),
        "{out}"
    );
    // A step that is a single path (no operator, no call) is never a loop variable's.
    for line in out.lines() {
        let lhs = line.trim_start().split(" = ").next().unwrap_or("");
        let single = !lhs.contains([' ', '(']);
        assert!(
            !(single && (lhs.starts_with("good.") || lhs.starts_with("sku."))),
            "a loop variable instead of a source path: {line}"
        );
    }
    // A top-level let holding a part of the order reads on to the concrete path too.
    assert!(
        out.contains("$.receiver.receiverInfos[0].receiverCityName = "),
        "{out}"
    );
}

/// Each let of each item is derived once; later uses refer to it.
#[test]
fn each_let_is_shown_once() {
    let (code, out, err) = explain(&["--input", TWO_GOODS]);
    assert_eq!(code, Some(0), "{err}");
    // Two items: `tax` is derived once for each, used by three fields of each.
    assert_eq!(
        out.matches("let tax = good.taxPerSku * qty").count(),
        2,
        "{out}"
    );
    assert_eq!(out.matches("let qty = good.quantity").count(), 2, "{out}");
    assert!(
        out.contains("tax = 17064 fen    (the let shown above)"),
        "{out}"
    );
    // Top-level lets likewise: `goods_price` feeds the coupon and the actual payment.
    assert_eq!(
        out.matches("let goods_price = sum(out.orderItemList[*].declareInfo.itemTotalPrice)")
            .count(),
        1,
        "{out}"
    );
    // A field already shown is named, not explained again.
    assert!(
        out.contains("orderAmountInfo.postFee = 1200 fen    (set at")
            && out.contains("(shown above)"),
        "{out}"
    );
}

/// A rejected order: the rule that rejected it, with the values it read; exit 1, the
/// rejection on stderr as before.
#[test]
fn a_rejected_order_is_traced_to_the_require_that_rejected_it() {
    let (code, out, err) = explain(&["--input", "examples/orders/12_reject_address_changed.json"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("rejected: order P78811223300000012"), "{err}");
    // The rule's line (its name, when it has one, after `require`), then its steps.
    let first = out.lines().next().unwrap_or("");
    assert!(
        first.starts_with("require ")
            && first.contains("receiver.matched == true    (at mappings/cainiao/bonded_whs.map:"),
        "{out}"
    );
    assert!(out.contains("receiver address changed"), "{out}");
    assert!(
        out.contains("$.receiver.receiverInfos[0].matched = false"),
        "{out}"
    );
}

/// A good whose barcode is absent fails the goods lookup of its item: the trace names the
/// item, the let and the absent source path.
#[test]
fn a_rejected_order_is_traced_to_the_lookup_that_rejected_it() {
    let (code, out, err) = explain(&[
        "--input",
        "examples/orders/13_reject_good_without_barcode.json",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("rejected: order P78811223300000013"), "{err}");
    assert!(
        out.starts_with("orderItemList[1]: let rate = goods[good.barcode].consumption_tax_rate    (at mappings/cainiao/bonded_whs.map:"),
        "{out}"
    );
    assert!(
        out.contains("goods[good.barcode].consumption_tax_rate = (fails: the key for table `goods` has no value)"),
        "{out}"
    );
    assert!(
        out.contains("$.detail.skuList[1].skuDetailList[0].barcode = absent"),
        "{out}"
    );
}

/// The values a rejecting rule read are masked where personal.
#[test]
fn a_rejecting_rule_shows_personal_values_masked() {
    let src = "use \"hangzhou_xiasha.map\"\n\
        require $.receiver.receiverInfos[0].receiverPhone == \"0\" else \"no such phone\"\n";
    let prog = compile_in(&warehouses(), "phone.map", src).0;
    let doc = example("01_single_sku_alipay.json");
    let phone = doc["receiver"]["receiverInfos"][0]["receiverPhone"]
        .as_str()
        .unwrap()
        .to_string();
    let ex = bondmap::run::explain::explain_order(&prog, &doc);
    assert!(ex.rejected.is_some());
    let t = ex.text(None);
    assert!(t.contains("no such phone"), "{t}");
    assert!(
        t.contains(&format!(
            "$.receiver.receiverInfos[0].receiverPhone = \"{}\"",
            mask(Pii::Phone, &phone)
        )),
        "{t}"
    );
    assert!(!t.contains(&phone), "{t}");
    assert!(!ex.json(None).to_string().contains(&phone));
}

/// `--field` takes `[*]` for every item as well as an index.
#[test]
fn field_takes_a_wildcard_index() {
    let (code, out, err) = explain(&[
        "--input",
        TWO_GOODS,
        "--field",
        "orderItemList[*].itemQuantity",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let heads: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .collect();
    assert_eq!(heads.len(), 2, "{out}");
    assert!(
        heads[0].starts_with("orderItemList[0].itemQuantity = 1"),
        "{out}"
    );
    assert!(
        heads[1].starts_with("orderItemList[1].itemQuantity = 2"),
        "{out}"
    );
    let (_, one, _) = explain(&[
        "--input",
        TWO_GOODS,
        "--field",
        "orderItemList[1].itemQuantity",
    ]);
    assert!(
        one.starts_with("orderItemList[1].itemQuantity = 2") && !one.contains("orderItemList[0]"),
        "{one}"
    );
    let (code, _, err) = explain(&["--input", TWO_GOODS, "--field", "orderItemList[*].nothing"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no target field matches"), "{err}");
}

/// A folder: every order, each headed by its id; a rejected one makes the exit 1.
/// `--order ID` picks one.
#[test]
fn a_folder_is_explained_order_by_order() {
    let (code, out, err) = explain(&[
        "--input",
        "examples/orders",
        "--field",
        "orderAmountInfo.totalTax",
    ]);
    assert_eq!(code, Some(1), "two examples are rejected: {err}");
    let n = std::fs::read_dir(root().join("examples/orders"))
        .unwrap()
        .count();
    assert_eq!(out.matches("== order P").count(), n, "{out}");
    assert!(out.contains("== order P78811223300000009 (examples/orders/09_bundle_two_goods.json) ==\norderAmountInfo.totalTax = 8480 fen"), "{out}");
    assert!(err.contains("rejected: order P78811223300000012"), "{err}");
    let (code, out, err) = explain(&[
        "--input",
        "examples/orders",
        "--order",
        "P78811223300000009",
        "--field",
        "orderAmountInfo.totalTax",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("orderAmountInfo.totalTax = 8480 fen"),
        "{out}"
    );
    let (code, _, err) = explain(&["--input", "examples/orders", "--order", "P0"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no order `P0`"), "{err}");
}

/// NDJSON: one order a line, each headed by its id; a line that is not JSON is named.
#[test]
fn ndjson_lines_are_explained_order_by_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for f in [BUNDLE, TWO_GOODS] {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(f)).unwrap()).unwrap();
        lines.push_str(&v.to_string());
        lines.push('\n');
    }
    let file = dir.path().join("orders.ndjson");
    std::fs::write(&file, &lines).unwrap();
    let f = file.to_str().unwrap();
    let (code, out, err) = explain(&["--ndjson", f, "--field", "orderAmountInfo.totalTax"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains(
            "== order P78811223300000009 (line 1) ==\norderAmountInfo.totalTax = 8480 fen"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "== order P78811223300000010 (line 2) ==\norderAmountInfo.totalTax = 19940 fen"
        ),
        "{out}"
    );
    lines.push_str("not json\n");
    std::fs::write(&file, &lines).unwrap();
    let (code, _, err) = explain(&["--ndjson", f, "--field", "orderAmountInfo.totalTax"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("line 3: rejected: not valid JSON"), "{err}");
}

/// `--format json`: one object per field with its value, where it was set and its steps
/// (text, value, concrete source path); personal values masked.
#[test]
fn json_format_gives_each_field_with_its_steps() {
    let (code, out, err) = explain(&[
        "--input",
        BUNDLE,
        "--field",
        "orderAmountInfo.totalTax",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["order_id"], "P78811223300000009");
    let f = &v["fields"][0];
    assert_eq!(f["field"], "orderAmountInfo.totalTax");
    assert_eq!(f["value"], "8480 fen");
    assert!(f["set_at"]
        .as_str()
        .unwrap()
        .starts_with("mappings/cainiao/bonded_whs.map:"));
    let steps = f["steps"].as_array().unwrap();
    assert_eq!(
        steps[0]["text"],
        "sum(out.orderItemList[*].declareInfo.totalTax)"
    );
    assert_eq!(steps[0]["value"], "8480 fen");
    let tax = steps
        .iter()
        .find(|s| s["source"] == "$.detail.skuList[0].skuDetailList[1].taxPerSku")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(tax["text"], "good.taxPerSku");
    assert_eq!(tax["value"], "1128 fen");
    assert!(steps
        .iter()
        .any(|s| s["field"] == true && s["text"] == "orderItemList[1].declareInfo.totalTax"));

    let doc = example("09_bundle_two_goods.json");
    let name = doc["declare"]["orderDeclareInfos"][0]["idName"]
        .as_str()
        .unwrap();
    let (_, out, _) = explain(&[
        "--input",
        BUNDLE,
        "--field",
        "customsDeclareInfo.buyerName",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["fields"][0]["value"],
        format!("{:?}", mask(Pii::Name, name))
    );
    assert!(!out.contains(name), "{out}");

    // A rejected order: the rejection and its trace.
    let (code, out, _) = explain(&[
        "--input",
        "examples/orders/12_reject_address_changed.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["rejected"]["message"]
        .as_str()
        .unwrap()
        .contains("receiver address changed"));
    assert!(v["rejected"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["source"] == "$.receiver.receiverInfos[0].matched"));
}

/// The personal values of an order (RED's `x-pii` fields).
fn personal_values(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (part, list, fields) in [
        (
            "receiver",
            "receiverInfos",
            &["receiverName", "receiverPhone", "receiverAddress"][..],
        ),
        (
            "declare",
            "orderDeclareInfos",
            &["idName", "idNumber", "linkPhone", "frontUrl", "backUrl"][..],
        ),
    ] {
        for e in doc[part][list].as_array().into_iter().flatten() {
            for f in fields {
                match &e[*f] {
                    Value::String(s) if !s.is_empty() => out.push(s.clone()),
                    Value::Number(n) => out.push(n.to_string()),
                    _ => {}
                }
            }
        }
    }
    out
}

/// Every example, accepted or rejected, as text and JSON, also with its phones and ID
/// numbers given as JSON numbers (the order is then rejected: its trace still shows them
/// masked): no personal value in clear.
#[test]
fn explain_of_every_example_masks_every_personal_value_numbers_too() {
    let prog = hangzhou();
    let mut checked = 0;
    for e in std::fs::read_dir(root().join("examples/orders")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        let doc = example(&name);
        let mut numeric = doc.clone();
        for (part, list, f) in [
            ("receiver", "receiverInfos", "receiverPhone"),
            ("declare", "orderDeclareInfos", "idNumber"),
            ("declare", "orderDeclareInfos", "linkPhone"),
        ] {
            for x in numeric[part][list].as_array_mut().into_iter().flatten() {
                let digits = x[f]
                    .as_str()
                    .filter(|s| s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty());
                if let Some(n) = digits.and_then(|s| s.parse::<u64>().ok()) {
                    x[f] = n.into();
                }
            }
        }
        for d in [&doc, &numeric] {
            let personal = personal_values(d);
            assert!(!personal.is_empty(), "{name}");
            let ex = bondmap::run::explain::explain_order(&prog, d);
            let shown = format!("{}\n{}", ex.text(None), ex.json(None));
            for v in &personal {
                assert!(
                    !shown.contains(v.as_str()),
                    "{name}: `{v}` in clear:\n{shown}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 26, "{checked}");
}

/// A personal number the mapping writes as a number (a phone in an integer field) is
/// explained masked, at the field and at the source step.
#[test]
fn a_personal_number_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let source = r#"{"type":"object","properties":{"detail":{"type":"object","properties":{
        "mobile":{"type":"integer","x-pii":"phone"},"count":{"type":"integer"}}}}}"#;
    let target =
        r#"{"type":"object","properties":{"tel":{"type":"integer"},"n":{"type":"integer"}}}"#;
    std::fs::write(dir.path().join("s.schema.json"), source).unwrap();
    std::fs::write(dir.path().join("t.schema.json"), target).unwrap();
    let src = "target \"t.schema.json\"\nsource \"s.schema.json\"\ntel = $.detail.mobile\nn = $.detail.count\n";
    let prog = compile_in(dir.path(), "t.map", src).0;
    let doc = serde_json::json!({"detail": {"mobile": 13912345678u64, "count": 12345678}});
    let ex = bondmap::run::explain(&prog, &doc, None).unwrap();
    assert!(ex.contains("tel = 139****5678"), "{ex}");
    assert!(ex.contains("$.detail.mobile = 139****5678"), "{ex}");
    assert!(!ex.contains("13912345678"), "{ex}");
    // A number that is not personal is shown as it is.
    assert!(ex.contains("n = 12345678"), "{ex}");
}

/// A rule over a field of the request (`out.…`) is traced through that field down to the
/// order's own fields: the actual payment RED's total is compared with, item by item.
#[test]
fn a_rejecting_rule_over_out_is_traced_to_the_source() {
    let prog = hangzhou();
    let mut doc = example("09_bundle_two_goods.json");
    doc["detail"]["totalPayAmount"] = 1.into();
    let ex = bondmap::run::explain::explain_order(&prog, &doc);
    let e = &ex.rejected.as_ref().unwrap().error;
    assert!(e.message.contains("totalPayAmount"), "{e}");
    let t = ex.text(None);
    let first = t.lines().next().unwrap_or("");
    assert!(first.starts_with("require "), "{t}");
    assert!(first.contains("differs from RED's totalPayAmount"), "{t}");
    for want in [
        "$.detail.totalPayAmount = 1 fen",
        "out.orderAmountInfo.actualPayment = 101680 fen",
        "orderAmountInfo.actualPayment = 101680 fen    (set at",
        "$.detail.skuList[0].skuDetailList[1].pricePerSku = 12900 fen",
    ] {
        assert!(t.contains(want), "`{want}` missing:\n{t}");
    }
    // Only what rejected it: no field is listed on its own.
    assert!(!t.contains("\n\n"), "{t}");
}

/// The order as RED's three answers (`--detail/--declare/--receiver`) is explained as
/// the one document is.
#[test]
fn three_files_are_explained_as_one_order() {
    let dir = tempfile::tempdir().unwrap();
    let doc = example("09_bundle_two_goods.json");
    let mut args = vec![
        "--field".to_string(),
        "orderAmountInfo.totalTax".to_string(),
    ];
    for part in ["detail", "declare", "receiver"] {
        let f = dir.path().join(format!("{part}.json"));
        std::fs::write(&f, doc[part].to_string()).unwrap();
        args.push(format!("--{part}"));
        args.push(f.to_str().unwrap().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = explain(&args);
    assert_eq!(code, Some(0), "{err}");
    let (_, whole, _) = explain(&["--input", BUNDLE, "--field", "orderAmountInfo.totalTax"]);
    assert_eq!(out, whole);
}

/// Only what was evaluated is explained: the right side of `??` after a present value is
/// not (it was never read), after an absent one it is.
#[test]
fn the_untaken_side_of_a_coalesce_is_not_explained() {
    let (code, out, err) = explain(&[
        "--input",
        TWO_GOODS,
        "--field",
        "customsDeclareInfo.payOrderId",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("$.detail.boundExtendInfo.payNo = "), "{out}");
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("$.detail.outTradeNo")),
        "{out}"
    );
    let (_, post, _) = explain(&[
        "--input",
        "examples/orders/03_dongguan_no_district.json",
        "--field",
        "receiverInfo.district",
    ]);
    assert!(
        post.contains("nonblank(receiver.receiverDistrictName) = absent"),
        "{post}"
    );
    assert!(post.starts_with("receiverInfo.district = \"/\""), "{post}");
}
