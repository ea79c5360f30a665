//! The request is written by a plan made once per program (src/run/plan.rs): commas
//! around optional fields, fixed fields rendered once, nothing left behind on an error.

use bondmap::compile::Options;
use bondmap::engine::load_program;
use bondmap::program::writes::Write;
use serde_json::{json, Value};
use std::path::PathBuf;

fn program() -> bondmap::program::Program {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/write/fields.map");
    load_program(&path, &Options::default())
        .map_err(|e| format!("{e:?}"))
        .unwrap()
        .0
}

#[test]
fn optional_fields_leave_no_stray_commas() {
    let p = program();
    let cases = [
        (
            json!({"y": "Y"}),
            r#"{"a":{"y":"Y","w":"fixed"},"b":{"r":"R"},"c":12,"e":"E"}"#,
        ),
        (
            json!({"first": "F", "x": 1, "y": "Y", "z": "Z", "v": 5, "p": "P", "q": "Q"}),
            r#"{"first":"F","a":{"x":1,"z":"Z","y":"Y","w":"fixed","v":5},"b":{"p":"P","q":"Q","r":"R"},"c":12,"e":"E"}"#,
        ),
        (
            json!({"x": 1, "y": "Y"}),
            r#"{"a":{"x":1,"y":"Y","w":"fixed"},"b":{"r":"R"},"c":12,"e":"E"}"#,
        ),
        (
            json!({"first": "F", "z": "Z", "y": "Y", "q": "Q"}),
            r#"{"first":"F","a":{"z":"Z","y":"Y","w":"fixed"},"b":{"q":"Q","r":"R"},"c":12,"e":"E"}"#,
        ),
        (
            json!({"y": "Y", "q": " ", "v": 7}),
            r#"{"a":{"y":"Y","w":"fixed","v":7},"b":{"r":"R"},"c":12,"e":"E"}"#,
        ),
    ];
    for (order, want) in cases {
        let got = bondmap::run::run(&p, &order).unwrap();
        assert_eq!(got, want, "for {order}");
        serde_json::from_str::<Value>(&got).unwrap();
    }
}

#[test]
fn fixed_fields_are_rendered_once_and_absent_ones_never() {
    let p = program();
    let mut texts = String::new();
    let mut computed = Vec::new();
    for op in &bondmap::run::writes(&p).ops {
        match op {
            Write::Text { text, .. } => texts.push_str(text),
            Write::Field { key, .. } => computed.push(key.to_string()),
        }
    }
    for fixed in [r#""w":"fixed""#, r#""r":"R""#, r#""c":12"#, r#""e":"E""#] {
        assert!(texts.contains(fixed), "{fixed} not rendered in {texts}");
    }
    assert!(!texts.contains(r#""d""#) && !computed.iter().any(|k| k.contains("\"d\"")));
    assert_eq!(
        computed,
        [
            r#""first":"#,
            r#""x":"#,
            r#""z":"#,
            r#""y":"#,
            r#""v":"#,
            r#""p":"#,
            r#""q":"#
        ]
    );
}

#[test]
fn a_rejected_order_leaves_the_output_as_it_was() {
    let p = program();
    let mut out = String::from("earlier orders\n");
    let err = bondmap::run::run_into(&p, &json!({"x": 1, "z": "Z"}), &mut out).unwrap_err();
    assert_eq!(out, "earlier orders\n");
    assert_eq!(err.field.as_deref(), Some("a.y"));
    assert!(err.message.contains("required field has no value"), "{err}");
}
