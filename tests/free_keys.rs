//! Objects of free keys (`additionalProperties` as a schema, Cainiao's `extendFields`):
//! any key may be written, each value held to that schema (type, `maxLength`).

mod common;

use bondmap::compile::{compile, Options};
use bondmap::diag::{Code, Diag};
use bondmap::engine::load_program;
use bondmap::program::Program;
use common::*;
use serde_json::Value;

fn options() -> Options {
    Options {
        root: Some(root()),
        ..Options::default()
    }
}

fn program() -> Program {
    load_program(&root().join("tests/rules/extend_fields.map"), &options())
        .unwrap()
        .0
}

fn order(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("examples/orders").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The diagnostics of mapping text in `dir` (a file there), checked as `check` does.
fn check_text(dir: &str, text: &str) -> Vec<Diag> {
    let dir = root().join(dir);
    let (m, mut diags) = bondmap::load::load_str("t.map", text, &dir);
    if !diags.iter().any(Diag::is_error) {
        let opts = Options {
            root: Some(root()),
            ..Options::default()
        };
        diags.extend(compile(&m, &opts).1);
    }
    diags
}

#[test]
fn free_keys_are_written_in_source_order() {
    let mut doc = order("01_single_sku_alipay.json");
    doc["detail"]["sellerRemark"] = "请放门口".into();
    let mut out = String::new();
    bondmap::run::run_into(&program(), &doc, &mut out).unwrap();
    let want = r#""extendFields":{"shopChannel":"RED","redOrderId":"P78811223300000001","sellerNote":"请放门口","anyKey":"x"}"#;
    assert!(out.contains(want), "{out}");
}

#[test]
fn an_absent_free_value_is_left_out() {
    // Order 01 has no seller remark: `nonblank` gives null, and the key is not written.
    let mut out = String::new();
    bondmap::run::run_into(&program(), &order("01_single_sku_alipay.json"), &mut out).unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let ext = v["extendFields"].as_object().unwrap();
    assert!(!ext.contains_key("sellerNote"), "{ext:?}");
    assert_eq!(ext["anyKey"], "x");
}

#[test]
fn an_over_long_free_value_rejects_the_order_naming_the_field() {
    let mut doc = order("01_single_sku_alipay.json");
    let long = "长".repeat(513);
    doc["detail"]["sellerRemark"] = long.clone().into();
    let mut out = String::from("kept");
    let e = bondmap::run::run_into(&program(), &doc, &mut out).unwrap_err();
    assert_eq!(out, "kept", "a rejected order must produce nothing");
    assert_eq!(e.field.as_deref(), Some("extendFields.sellerNote"), "{e}");
    assert!(e.message.contains("512"), "{e}");
    assert!(
        !e.to_string().contains(&long[..30]),
        "the value is never shown: {e}"
    );
    // 512 characters fit.
    doc["detail"]["sellerRemark"] = "长".repeat(512).into();
    let mut out = String::new();
    bondmap::run::run_into(&program(), &doc, &mut out).unwrap();
}

#[test]
fn the_fixture_checks_clean() {
    let (_, diags) =
        load_program(&root().join("tests/rules/extend_fields.map"), &options()).unwrap();
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn an_object_without_free_keys_says_so() {
    let text = "target \"target.schema.json\"\ncode = \"A\"\nmeta.anyKey = \"x\"\n";
    let diags = check_text("tests/rules/no_free_keys", text);
    let d = diags
        .iter()
        .find(|d| d.code == Code::UnknownField)
        .unwrap_or_else(|| panic!("{diags:?}"));
    assert_eq!(d.message, "the target has no field `meta.anyKey`");
    let help = d.help.as_deref().unwrap_or_default();
    assert!(help.contains("`meta` has no fields"), "{help}");
    assert!(help.contains("additionalProperties"), "{help}");
    // A misspelt field still gets "did you mean".
    let diags = check_text(
        "tests/rules/no_free_keys",
        "target \"target.schema.json\"\ncdoe = \"A\"\n",
    );
    let d = diags.iter().find(|d| d.code == Code::UnknownField).unwrap();
    assert!(
        d.help
            .as_deref()
            .unwrap_or_default()
            .contains("did you mean `code`?"),
        "{d:?}"
    );
}

#[test]
fn a_free_key_read_back_has_its_schema_type() {
    // `out.extendFields.k` is typed by `additionalProperties` (a string): adding a number
    // to it is found by check, not by the run.
    // Checked as a file of tests/ (so that the mapping root is the repo's).
    let base = std::fs::read_to_string(root().join("tests/rules/extend_fields.map"))
        .unwrap()
        .replace("../../mappings/", "../mappings/");
    let text = format!("{base}\nrequire out.extendFields.redOrderId + 1 > 0 else \"x\"\n");
    let diags = check_text("tests", &text);
    assert!(
        diags.iter().any(|d| d.code == Code::TypeMismatch),
        "{diags:?}"
    );
    // Compared as the string it is, it checks clean.
    let text = format!("{base}\nrequire out.extendFields.redOrderId != \"\" else \"x\"\n");
    let diags = check_text("tests", &text);
    assert!(!diags.iter().any(Diag::is_error), "{diags:?}");
}
