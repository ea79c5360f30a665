//! Named rules across a `use`: a warehouse file replaces one base rule, drops another and
//! drops a field (`tests/rules/strict_warehouse.map`), run over the example orders.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use bondmap::program::Program;
use common::*;
use serde_json::Value;

/// The fixture reaches the shipped base mapping: its root is the repository.
fn program(mapping: &str) -> Program {
    let (prog, _) = load_program(
        &root().join(mapping),
        &Options {
            root: Some(root()),
            ..Options::default()
        },
    )
    .unwrap();
    prog
}

fn strict() -> Program {
    program("tests/rules/strict_warehouse.map")
}

fn base() -> Program {
    program("mappings/warehouses/hangzhou_xiasha.map")
}

fn order(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("examples/orders").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn run(p: &Program, doc: &Value) -> Result<Value, bondmap::run::RunError> {
    let mut out = String::new();
    bondmap::run::run_into(p, doc, &mut out)?;
    Ok(serde_json::from_str(&out).unwrap())
}

#[test]
fn a_replaced_rule_applies_in_place_of_the_base_one() {
    let doc = order("08_quantity_three.json");
    // The base rule takes three of a good.
    run(&base(), &doc).unwrap();
    let e = run(&strict(), &doc).unwrap_err();
    assert!(
        e.message
            .contains("this warehouse takes at most two of a good per order line"),
        "{e}"
    );
    // The error points at the rule that rejected it: the warehouse file's line 9.
    assert!(
        e.location
            .starts_with("tests/rules/strict_warehouse.map:9:"),
        "{e}"
    );
    // The replaced rule is the whole rule: a quantity of zero is still refused by it.
    let mut zero = order("01_single_sku_alipay.json");
    zero["detail"]["skuList"][0]["skuDetailList"][0]["quantity"] = 0.into();
    let e = run(&strict(), &zero).unwrap_err();
    assert!(e.message.contains("at most two"), "{e}");
}

#[test]
fn a_dropped_rule_no_longer_rejects() {
    let mut doc = order("01_single_sku_alipay.json");
    doc["detail"]["totalPayAmount"] = 1.into();
    let e = run(&base(), &doc).unwrap_err();
    assert!(
        e.message
            .contains("declared actual payment differs from RED's totalPayAmount"),
        "{e}"
    );
    let out = run(&strict(), &doc).unwrap();
    assert_eq!(out["externalOrderCode"], "P78811223300000001");
}

#[test]
fn the_rules_not_named_stay_as_the_base_has_them() {
    let doc = order("12_reject_address_changed.json");
    let want = run(&base(), &doc).unwrap_err();
    let got = run(&strict(), &doc).unwrap_err();
    assert_eq!(got.message, want.message);
    assert_eq!(got.location, want.location);
    assert!(
        got.location.starts_with("mappings/cainiao/bonded_whs.map:"),
        "{got}"
    );
}

#[test]
fn an_unnamed_rule_of_the_using_file_is_added() {
    let doc = order("06_id_15_digits_huabei.json");
    run(&base(), &doc).unwrap();
    let e = run(&strict(), &doc).unwrap_err();
    assert!(
        e.message
            .contains("this warehouse takes no Huabei payments"),
        "{e}"
    );
    assert!(
        e.location.starts_with("tests/rules/strict_warehouse.map:"),
        "{e}"
    );
}

#[test]
fn a_dropped_field_is_left_out_of_the_request() {
    let doc = order("01_single_sku_alipay.json");
    let with = run(&base(), &doc).unwrap();
    assert_eq!(with["receiverInfo"]["town"], "古荡街道");
    let without = run(&strict(), &doc).unwrap();
    let info = without["receiverInfo"].as_object().unwrap();
    assert!(!info.contains_key("town"), "{info:?}");
    // Everything else of the block is the base's.
    assert_eq!(
        without["receiverInfo"]["city"],
        with["receiverInfo"]["city"]
    );
    assert_eq!(
        without["receiverInfo"]["address"],
        with["receiverInfo"]["address"]
    );
}

#[test]
fn fmt_prints_named_rules_and_drops_as_written() {
    let text = "use \"base.map\"\n\nrequire receiver_matched: receiver.matched == true else \"address changed\"\nrequire $.detail != null else \"no detail\"\n\norderItemList {\n  require quantity_positive: qty >= 1 else \"none\"\n  drop require paid_within_price\n}\n\ndrop require payment_matches_red\ndrop receiverInfo.town\n";
    let once = bondmap::syntax::print::format(text).unwrap();
    assert_eq!(once, text);
    assert_eq!(bondmap::syntax::print::format(&once).unwrap(), once);
}

#[test]
fn a_field_called_drop_is_still_a_field() {
    let text = "drop = 1\ndrop.x = 2\ndrop {\n  y = 3\n}\n";
    let file = bondmap::syntax::parse(text, Default::default()).unwrap();
    assert_eq!(file.items.len(), 3);
    for item in &file.items {
        assert!(
            matches!(
                item,
                bondmap::syntax::ast::Item::Stmt(bondmap::syntax::ast::Stmt::Field(_))
            ),
            "{item:?}"
        );
    }
}
