//! A run tells what it wrote (`bondmap::run::request`): the request text, its
//! `externalOrderCode` and the strings of its personal (`x-pii`) fields, as the evaluator
//! wrote them. Held here to what reading the request back finds, which is what the
//! callers did before (`cli/common.rs` for the code, the redactor for the values).

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use bondmap::pii::{Redactor, RequestPii};
use bondmap::program::Program;
use bondmap::run::Written;
use bondmap::schema::Pii;
use common::*;
use serde_json::{json, Value};
use std::path::Path;

fn load(path: &Path) -> Program {
    load_program(path, &Options::default())
        .map_err(|e| format!("{e:?}"))
        .unwrap()
        .0
}

/// The strings at a display path (`list[]` walks each element) of a request read back.
fn at_path(v: &Value, path: &[String], out: &mut Vec<String>) {
    let Some((first, rest)) = path.split_first() else {
        out.extend(v.as_str().map(str::to_string));
        return;
    };
    match first.strip_suffix("[]") {
        Some(name) => {
            for it in v.get(name).and_then(Value::as_array).into_iter().flatten() {
                at_path(it, rest, out);
            }
        }
        None => {
            if let Some(x) = v.get(first.as_str()) {
                at_path(x, rest, out);
            }
        }
    }
}

type Told = (Option<String>, Vec<(String, String)>);

/// Each field the target schema marks `x-pii` as its display path (`list[]`), with its kind.
fn personal_paths(schema: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    if let Some(k) = schema["x-pii"].as_str() {
        out.push((path.clone(), k.to_string()));
    }
    for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
        let name = match sub["type"].as_str() {
            Some("array") => format!("{name}[]"),
            _ => name.clone(),
        };
        path.push(name);
        personal_paths(sub, path, out);
        personal_paths(&sub["items"], path, out);
        path.pop();
    }
}

/// The kind as the schema spells it.
fn kind(k: Pii) -> &'static str {
    match k {
        Pii::Name => "name",
        Pii::Phone => "phone",
        Pii::IdNumber => "id_number",
        Pii::Address => "address",
        Pii::Photo => "photo",
    }
}

/// The order code and the personal strings (kind, value; sorted) found by reading `text`
/// back at the paths `schema` (the target schema's file) marks.
fn read_back(schema: &Path, text: &str) -> Told {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
    let mut paths = Vec::new();
    personal_paths(&schema, &mut Vec::new(), &mut paths);
    assert!(!paths.is_empty());
    let v: Value = serde_json::from_str(text).unwrap();
    let mut personal = Vec::new();
    for (path, kind) in &paths {
        let mut found = Vec::new();
        at_path(&v, path, &mut found);
        personal.extend(found.into_iter().map(|s| (kind.clone(), s)));
    }
    personal.sort();
    let code = v["externalOrderCode"].as_str().map(str::to_string);
    (code, personal)
}

fn told(w: &Written) -> Told {
    let mut personal: Vec<(String, String)> = w
        .personal
        .iter()
        .map(|(k, s)| (kind(*k).to_string(), s.clone()))
        .collect();
    personal.sort();
    (w.order_code.clone(), personal)
}

/// Checks what `request` tells of one order against the request read back, and gives it.
fn same_as_read_back(p: &Program, schema: &Path, doc: &Value, what: &str) -> Option<Written> {
    let text = bondmap::run::run(p, doc);
    let w = bondmap::run::request(p, doc);
    let (text, w) = match (text, w) {
        (Ok(t), Ok(w)) => (t, w),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "{what}");
            return None;
        }
        (a, b) => panic!("{what}: run {a:?}, request {b:?}"),
    };
    assert_eq!(w.text, text, "{what}");
    assert_eq!(told(&w), read_back(schema, &text), "{what}");
    // The redactor made from what the run told masks as one made from the request.
    let v: Value = serde_json::from_str(&text).unwrap();
    let msg: Vec<&str> = w.personal.iter().map(|(_, s)| s.as_str()).collect();
    let msg = msg.join(" / ");
    assert_eq!(
        Redactor::default().with_personal(&w.personal).redact(&msg),
        Redactor::default()
            .with_values(&RequestPii::of(p), &v)
            .redact(&msg),
        "{what}"
    );
    Some(w)
}

/// Every example order through both warehouse mappings: the same code and personal
/// values as the request read back, and every accepted one has its code.
#[test]
fn every_example_tells_what_reading_it_back_finds() {
    let mut accepted = 0;
    let schema = root().join("mappings/schemas/cainiao_deliveryorder_create.schema.json");
    for m in ["hangzhou_xiasha.map", "ningbo_meishan.map"] {
        let p = load(&root().join("mappings/warehouses").join(m));
        for f in files(&root().join("examples/orders"), "json") {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let what = format!("{m} × {}", f.display());
            if let Some(w) = same_as_read_back(&p, &schema, &doc, &what) {
                accepted += 1;
                assert!(w.order_code.is_some(), "{what}");
                // The receiver's name, phone and address, and the buyer's.
                assert!(w.personal.len() >= 4, "{what}: {:?}", w.personal.len());
            }
        }
    }
    assert!(accepted >= 20, "{accepted}");
}

/// A fixed order code and a fixed personal field are told from the plan (they are never
/// computed per order); read back by another field, the fixed one is told once.
#[test]
fn fixed_fields_are_told_from_the_plan_once() {
    let p = load(&root().join("tests/written/fixed.map"));
    let schema = root().join("tests/written/target.schema.json");
    let doc = json!({"phone": "13800138000", "items": [
        {"id": "330106199003071234", "sku": "A"}, {"id": "33010619900307123X", "sku": "B"}]});
    let w = same_as_read_back(&p, &schema, &doc, "fixed.map").unwrap();
    assert_eq!(w.order_code.as_deref(), Some("FIXED-1"));
    let fixed = &bondmap::run::writes(&p).fixed_strings;
    let fixed: Vec<&str> = fixed.iter().map(|(_, s)| &**s).collect();
    assert_eq!(fixed, ["FIXED-1", "王五"]);
    assert_eq!(
        w.personal,
        [
            (Pii::Phone, "13800138000".to_string()),
            (Pii::IdNumber, "330106199003071234".to_string()),
            (Pii::IdNumber, "33010619900307123X".to_string()),
            (Pii::Name, "王五".to_string()),
        ]
    );
    assert!(w.text.contains(r#""note":"王五""#), "{}", w.text);
}

/// Computed per order: told as written; absent or not a string, not told.
#[test]
fn computed_fields_are_told_as_written() {
    let p = load(&root().join("tests/written/computed.map"));
    let schema = root().join("tests/written/target.schema.json");
    let doc =
        json!({"code": "P77", "name": "张三", "items": [{"sku": "A"}, {"id": "X9", "sku": "B"}]});
    let w = same_as_read_back(&p, &schema, &doc, "computed.map").unwrap();
    assert_eq!(w.order_code.as_deref(), Some("P77"));
    assert_eq!(
        w.personal,
        [
            (Pii::Name, "张三".to_string()),
            (Pii::IdNumber, "X9".to_string())
        ]
    );
    let w = same_as_read_back(&p, &schema, &json!({"name": "李四"}), "no code").unwrap();
    assert_eq!(w.order_code, None);
    assert_eq!(w.personal, [(Pii::Name, "李四".to_string())]);
}
