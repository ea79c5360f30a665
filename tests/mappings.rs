//! Every shipped mapping × every example order, as reviewed snapshots, plus the money
//! rules checked on every accepted request independently of the snapshots.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use bondmap::snapshot;
use common::*;
use rust_decimal::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

fn stem(p: &Path) -> String {
    p.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

fn snap(name: &str, body: &str) {
    insta::with_settings!({snapshot_path => "../snapshots/mappings", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, body);
    });
}

/// Every order mapping (each warehouse file, the routes file) × every example order
/// against the reviewed snapshots, by the code `bondmap test` runs (bondmap::snapshot), so
/// the command and this test never disagree. A failure leaves `NAME.snap.new` beside the
/// snapshot and lists each changed field; `cargo run -- test --review` (or `--accept`, or
/// `cargo insta review`) stores the change.
#[test]
fn every_mapping_on_every_example() {
    let suite = snapshot::collect(&snapshot::Layout::under(&root())).unwrap_or_else(|problems| {
        let text: String = problems.iter().map(|p| p.render(false)).collect();
        panic!("bondmap test could not run:\n{text}")
    });
    assert!(examples().len() >= 8, "expected at least 8 example orders");
    // Both warehouses and the routes file, each over every example.
    assert!(
        suite.cases.len() >= 3 * examples().len(),
        "{} cases",
        suite.cases.len()
    );
    let mut failures = String::new();
    for c in &suite.cases {
        if c.outcome() == snapshot::Outcome::Passed {
            c.clear_pending().unwrap();
        } else {
            let pending = c.leave_pending().unwrap();
            failures.push_str(&c.report(true));
            failures.push_str(&format!("  pending: {}\n", pending.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{failures}store with `cargo run -- test --review` or `--accept`"
    );
}

/// A base mapping leaves its params to the files that use it: alone, it reports each one
/// unset (`bondmap test` skips it for that reason).
#[test]
fn base_mappings_report_their_unset_params() {
    let mut bases = 0;
    for m in mappings() {
        if let Err(e) = load_program(&m, &Options::default()) {
            snap(&format!("{}__compile", stem(&m)), &e.render(false));
            bases += 1;
        }
    }
    assert!(bases >= 1);
}

/// Examples documented as rejected: their names say so.
fn must_reject(ex: &Path) -> bool {
    stem(ex).contains("reject")
}

fn int(v: &Value, what: &str) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{what} is not an integer: {v}"))
}

fn rates(csv: &Path) -> HashMap<String, Decimal> {
    let mut r = csv::Reader::from_path(csv).unwrap();
    let h = r.headers().unwrap().clone();
    let bi = h.iter().position(|c| c == "barcode").unwrap();
    let ri = h.iter().position(|c| c == "consumption_tax_rate").unwrap();
    let ii = h.iter().position(|c| c == "item_id").unwrap();
    let mut m = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        m.insert(rec[ii].to_string(), Decimal::from_str(&rec[ri]).unwrap());
        let _ = bi;
    }
    m
}

#[test]
fn accepted_requests_keep_the_money_rules() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("mappings/schemas/cainiao_deliveryorder_create.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for (map, csv) in [
        ("hangzhou_xiasha", "hangzhou_xiasha_goods.csv"),
        ("ningbo_meishan", "ningbo_meishan_goods.csv"),
    ] {
        let (prog, _) = load_program(
            &root().join(format!("mappings/warehouses/{map}.map")),
            &Options::default(),
        )
        .unwrap();
        let rate_by_item = rates(&root().join("mappings/warehouses").join(csv));
        for ex in examples() {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&ex).unwrap()).unwrap();
            let out = bondmap::run::run(&prog, &doc);
            if must_reject(&ex) {
                assert!(out.is_err(), "{} must be rejected", ex.display());
                continue;
            }
            let out: Value =
                serde_json::from_str(&out.unwrap_or_else(|e| panic!("{}: {e}", ex.display())))
                    .unwrap();
            let name = format!("{map} × {}", stem(&ex));
            check_against_schema(&out, &schema, &name);
            let items = out["orderItemList"].as_array().unwrap();
            let (mut price, mut actual) = (0i64, 0i64);
            let mut taxes = [0i64; 4];
            for it in items {
                let d = &it["declareInfo"];
                let (p, a) = (
                    int(&d["itemTotalPrice"], "price"),
                    int(&d["itemTotalActualPrice"], "actual"),
                );
                let (c, ct, v, t) = (
                    int(&d["customsTax"], "c"),
                    int(&d["consumptionTax"], "ct"),
                    int(&d["vat"], "v"),
                    int(&d["totalTax"], "t"),
                );
                assert!(a <= p, "{name}: actual above price");
                assert_eq!(c + ct + v, t, "{name}: item taxes do not add up");
                assert_eq!(c, 0, "{name}: duty within the annual limit is 0");
                // Independently: consumption tax = tax × r / (r + 0.13), half up.
                let r = rate_by_item[it["itemId"].as_str().unwrap()];
                let exact = Decimal::from(t) * r / (r + Decimal::new(13, 2));
                let want = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
                assert_eq!(Decimal::from(ct), want, "{name}: consumption tax split");
                price += p;
                actual += a;
                for (k, x) in taxes.iter_mut().zip([c, ct, v, t]) {
                    *k += x;
                }
            }
            let o = &out["orderAmountInfo"];
            for (k, f) in taxes
                .iter()
                .zip(["customsTax", "consumptionTax", "vat", "totalTax"])
            {
                assert_eq!(
                    int(&o[f], f),
                    *k,
                    "{name}: order {f} is not the sum of items"
                );
            }
            let (post, ins, coupon) = (
                int(&o["postFee"], "post"),
                int(&o["insurance"], "ins"),
                int(&o["coupon"], "coupon"),
            );
            assert_eq!(coupon, price - actual, "{name}: coupon");
            assert_eq!(
                int(&o["actualPayment"], "pay"),
                price + post + ins + taxes[3] - coupon,
                "{name}: actual payment identity"
            );
            assert_eq!(
                int(&o["dutiablePrice"], "dut"),
                actual + post + ins,
                "{name}: dutiable price identity"
            );
            assert_eq!(
                int(&o["actualPayment"], "pay"),
                int(&doc["detail"]["totalPayAmount"], "red pay"),
                "{name}: differs from what RED says was paid"
            );
        }
    }
}

/// Every required field present with its JSON type and fixed value.
fn check_against_schema(v: &Value, s: &Value, at: &str) {
    let ty = s["type"].as_str().unwrap();
    let ok = match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => false,
    };
    assert!(ok, "{at}: expected {ty}, got {v}");
    if let Some(c) = s.get("const") {
        assert_eq!(v, c, "{at}: fixed value");
    }
    if let Some(min) = s.get("minimum").and_then(Value::as_i64) {
        assert!(v.as_i64().unwrap() >= min, "{at}: below minimum");
    }
    if ty == "object" {
        for r in s["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap();
            assert!(v.get(r).is_some(), "{at}: missing required {r}");
        }
        for (k, x) in v.as_object().unwrap() {
            let sub = s["properties"]
                .get(k)
                .unwrap_or_else(|| panic!("{at}: field {k} not in the schema"));
            check_against_schema(x, sub, &format!("{at}.{k}"));
        }
    }
    if ty == "array" {
        assert!(!v.as_array().unwrap().is_empty(), "{at}: empty list");
        for (i, x) in v.as_array().unwrap().iter().enumerate() {
            check_against_schema(x, &s["items"], &format!("{at}[{i}]"));
        }
    }
}

/// A unit the source contract gives (RED money in fen) is carried at run time too: what
/// `check` assumed is what runs.
#[test]
fn source_units_hold_at_run_time() {
    let dir = root().join("mappings/warehouses");
    let text =
        "use \"hangzhou_xiasha.map\"\nremark = string(convert($.detail.totalPayAmount, yuan))\n";
    let (m, diags) = bondmap::load::load_str("units.map", text, &dir);
    assert!(diags.is_empty(), "{diags:?}");
    let (prog, diags) = bondmap::compile::compile(&m, &Options::default());
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/orders/02_several_skus_discounts_wechat.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let out: Value =
        serde_json::from_str(&bondmap::run::run(&prog.unwrap(), &doc).unwrap()).unwrap();
    assert_eq!(out["remark"], "867.53");
}

/// `len` of a path's matches counts them, also when there is only one; `.*` of an object
/// gives its values (and `check` accepts it).
#[test]
fn len_counts_matches_and_star_takes_an_objects_values() {
    let dir = root().join("mappings/warehouses");
    let text = "use \"hangzhou_xiasha.map\"\nremark = concat(string(len($.declare.orderDeclareInfos[?(@.type == '订购人')])), \"/\", string(count($.detail.boundExtendInfo.*)), \"/\", string(len($.detail.orderId)))\n";
    let (m, diags) = bondmap::load::load_str("len.map", text, &dir);
    assert!(diags.is_empty(), "{diags:?}");
    let (prog, diags) = bondmap::compile::compile(&m, &Options::default());
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/orders/01_single_sku_alipay.json")).unwrap(),
    )
    .unwrap();
    let bound = doc["detail"]["boundExtendInfo"].as_object().unwrap().len();
    let id_len = doc["detail"]["orderId"].as_str().unwrap().chars().count();
    let out: Value =
        serde_json::from_str(&bondmap::run::run(&prog.unwrap(), &doc).unwrap()).unwrap();
    assert_eq!(out["remark"], format!("1/{bound}/{id_len}"));
}
