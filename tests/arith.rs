//! Arithmetic errors at run time carry their code and blame the operand their kind says
//! (`bondmap::program::arith::ArithError`): a division by zero its divisor, an overflow its
//! left side. Neither is read from the message.

mod common;

use bondmap::program::codes::RunCode;
use common::*;
use serde_json::json;

/// The error of mapping `order` with `c = EXPR` (an integer field), and the column where
/// `operand`, a part of `EXPR`, starts on its line (5).
fn error_at(
    expr: &str,
    operand: &str,
    order: serde_json::Value,
) -> (bondmap::run::RunError, String) {
    let text = format!(
        "target \"target.schema.json\"\nsettings {{\n  msg_type = \"T\"\n}}\nc = {expr}\n\
         a {{\n  y = \"Y\"\n}}\nb {{\n  r = \"R\"\n}}\ne = \"E\"\n"
    );
    let (p, _) = compile_in(&root().join("tests/write"), "arith.map", &text);
    let e = bondmap::run::run(&p, &order).unwrap_err();
    let col = 5 + expr.find(operand).unwrap();
    (e, format!("arith.map:5:{col}"))
}

#[test]
fn a_division_by_zero_blames_the_divisor() {
    let (e, at) = error_at("round(100 / $.n, down)", "$.n", json!({"n": 0}));
    assert_eq!(e.code, RunCode::Arithmetic);
    assert_eq!(e.message, "division by zero");
    assert!(e.location.ends_with(&at), "{} at {at}", e.location);
    assert_eq!(e.source_path.as_deref(), Some("$.n"));
}

#[test]
fn an_overflow_blames_the_left_side() {
    // The largest decimal there is, times ten.
    let order = serde_json::from_str(r#"{"a": 79228162514264337593543950335, "b": 10}"#).unwrap();
    let (e, at) = error_at("$.a * $.b", "$.a", order);
    assert_eq!(e.code, RunCode::Arithmetic);
    assert_eq!(e.message, "the number is too large");
    assert!(e.location.ends_with(&at), "{} at {at}", e.location);
    assert_eq!(e.source_path.as_deref(), Some("$.a"));
}
