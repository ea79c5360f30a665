//! Every run-time error code (`bondmap::run::…`, [`RunCode`]) raised through a real mapping
//! (the Hangzhou warehouse mapping, one field overridden where needed) over a real order
//! (example 02, one value changed where needed), and README's table lists exactly them.

mod common;

use bondmap::compile::{compile, Options};
use bondmap::diag::Severity;
use bondmap::run::error::RunCode;
use common::*;
use serde_json::Value;

fn order() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/orders/02_several_skus_discounts_wechat.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

/// The Hangzhou mapping with `overrides` appended, checked (no error), run over example 02
/// changed by `change`: the error it is rejected with.
fn rejected(overrides: &str, change: fn(&mut Value)) -> bondmap::run::RunError {
    let text = format!("use \"hangzhou_xiasha.map\"\n{overrides}\n");
    let (p, _) = compile_in(&warehouses(), "probe.map", &text);
    let mut doc = order();
    change(&mut doc);
    let mut out = String::new();
    match bondmap::run::run_into(&p, &doc, &mut out) {
        Ok(()) => panic!("`{overrides}` maps the order: {out}"),
        Err(e) => {
            assert!(out.is_empty(), "a rejected order writes nothing");
            e
        }
    }
}

fn good(doc: &mut Value, sku: usize) -> &mut Value {
    &mut doc["detail"]["skuList"][sku]["skuDetailList"][0]
}

fn same(_: &mut Value) {}

/// (code, overrides, change to the order, a part of the message).
type Case = (RunCode, &'static str, fn(&mut Value), &'static str);

const CASES: &[Case] = &[
    (
        RunCode::Missing,
        "",
        |d| {
            good(d, 1).as_object_mut().unwrap().remove("taxPerSku");
        },
        "absent",
    ),
    (
        RunCode::Type,
        "",
        |d| good(d, 0)["pricePerSku"] = "12900".into(),
        "expected a number, found a string",
    ),
    (
        RunCode::Unit,
        "buyerRemark = string(convert(number(\"12\"), fen, half_up))",
        same,
        "no unit to convert from",
    ),
    (
        RunCode::Rounding,
        "",
        |d| good(d, 2)["taxPerSku"] = serde_json::from_str("1238.125").unwrap(),
        "fraction",
    ),
    (
        RunCode::Lookup,
        "",
        |d| d["detail"]["boundExtendInfo"]["payChannel"] = "UnionPay".into(),
        "no row for key `UnionPay`",
    ),
    (
        RunCode::Require,
        "",
        |d| good(d, 0)["quantity"] = 0.into(),
        "rejected: a good's quantity is zero or negative",
    ),
    (
        RunCode::Limit,
        "orderCreateTime = concat($.detail.orderId, \"-late\")",
        same,
        "",
    ),
    (
        RunCode::NotAllowed,
        "",
        |d| d["detail"]["totalShippingFree"] = (-100).into(),
        "-100 is below the minimum 0",
    ),
    (
        RunCode::Arithmetic,
        "buyerRemark = string(100 / (count($.detail.skuList[*]) - 3))",
        same,
        "division by zero",
    ),
    (
        RunCode::Many,
        "buyerRemark = string($.detail.skuList[*].skuId)",
        same,
        "the path gives 3 values where one is expected",
    ),
    (
        RunCode::Path,
        "",
        |d| good(d, 0)["pricePerSku"] = serde_json::from_str("1e40").unwrap(),
        "is out of range",
    ),
    (
        RunCode::Format,
        "buyerRemark = string(number($.detail.orderId))",
        same,
        "the string is not a number",
    ),
];

#[test]
fn each_code_is_raised_by_a_real_mapping_over_a_real_order() {
    let mut wrong = Vec::new();
    for (code, overrides, change, part) in CASES {
        let e = rejected(overrides, *change);
        if e.code != *code || !e.message.contains(part) {
            wrong.push(format!("{code}: got {} `{e}`", e.code));
        }
        // The code is in the JSON form; the text form is the message as before.
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["code"], code.as_str(), "{j}");
        assert!(!e.to_string().contains("bondmap::run"), "{e}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_code_but_the_circle_has_a_case_and_check_refuses_a_circle_first() {
    for c in RunCode::ALL {
        let has = CASES.iter().any(|(k, ..)| k == c);
        assert_eq!(has, *c != RunCode::Cycle, "{c}");
    }
    // `bondmap::run::cycle` guards the evaluator; no checked mapping reaches it.
    let text = "use \"hangzhou_xiasha.map\"\nbuyerRemark = out.orderPayTime\norderPayTime = out.buyerRemark\n";
    let dir = root().join("mappings/warehouses");
    let (m, _) = bondmap::load::load_str("run_codes.map", text, &dir);
    let (_, diags) = compile(&m, &Options::default());
    assert!(
        diags
            .iter()
            .any(|d| d.severity == Severity::Error && d.message.contains("circle")),
        "{diags:?}"
    );
}

/// The book's "Run-time error codes" table (docs/run-codes.md): the code in each row's
/// first cell.
fn readme_codes() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("docs/run-codes.md")).unwrap();
    let section = readme
        .split("# Run-time error codes")
        .nth(1)
        .expect("docs/run-codes.md has a Run-time error codes section");
    let section = section.split("\n# ").next().unwrap_or("");
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn readme_lists_exactly_the_run_time_codes() {
    let want: Vec<String> = RunCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(readme_codes(), want);
}

#[test]
fn explain_in_json_gives_the_code_of_a_rejected_order() {
    let mut doc = order();
    good(&mut doc, 0)["quantity"] = 0.into();
    let dir = std::env::temp_dir().join(format!("bondmap-run-codes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("order.json");
    std::fs::write(&f, doc.to_string()).unwrap();
    let out = bondmap(&[
        "explain",
        "--format",
        "json",
        "--mapping",
        "mappings/warehouses/hangzhou_xiasha.map",
        "--input",
        f.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    let rejected = if v.is_array() {
        &v[0]["rejected"]
    } else {
        &v["rejected"]
    };
    assert_eq!(rejected["code"], "bondmap::run::require", "{v}");
}
