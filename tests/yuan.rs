//! The yuan warehouse (issue 17, item 1): a contract counting money in yuan, mapped by the
//! Hangzhou warehouse file plus conversions. `check` and `run` must agree on it and on each
//! variant in tests/yuan/variants/: a mapping `check` passes maps every order the fen
//! mapping maps (and rejects the others for the same reason), and a mapping `run` would
//! reject for a unit or type reason is reported by `check` first.

mod common;

use bondmap::compile::{compile, Options};
use bondmap::diag::{Code, Diag};
use bondmap::engine::load_program;
use bondmap::load::load_within;
use common::*;
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn opts() -> Options {
    Options {
        root: Some(root()),
        ..Options::default()
    }
}

/// The mapping files of the fixture: the yuan warehouse and its variants.
fn variants() -> Vec<PathBuf> {
    let mut v = files(&root().join("tests/yuan"), "map");
    v.extend(files(&root().join("tests/yuan/variants"), "map"));
    assert!(v.len() >= 10, "the fixture's variants are missing: {v:?}");
    v
}

/// What a variant's `# expect: …` line says `check` finds: `None` for clean.
fn expected(path: &Path) -> Option<Code> {
    let text = std::fs::read_to_string(path).unwrap();
    let want = text
        .lines()
        .find_map(|l| l.strip_prefix("# expect: "))
        .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()))
        .trim();
    if want == "clean" {
        return None;
    }
    let code = Code::ALL
        .iter()
        .find(|c| c.as_str() == format!("bondmap::{want}"))
        .unwrap_or_else(|| panic!("{}: unknown code {want}", path.display()));
    Some(*code)
}

fn check(path: &Path) -> Vec<Diag> {
    let (m, mut diags) = load_within(path, Some(&root()));
    if !diags.iter().any(Diag::is_error) {
        diags.extend(compile(&m, &opts()).1);
    }
    diags.into_iter().filter(Diag::is_error).collect()
}

fn order(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hangzhou() -> bondmap::program::Program {
    load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        &opts(),
    )
    .unwrap()
    .0
}

#[test]
fn check_and_run_agree_on_every_variant_of_the_yuan_warehouse() {
    let fen = hangzhou();
    let examples = examples();
    let valid = examples
        .iter()
        .filter(|e| bondmap::run::run(&fen, &order(e)).is_ok())
        .count();
    assert_eq!(valid, 11, "the fen mapping maps the 11 valid examples");
    let mut clean = 0;
    for path in variants() {
        let name = path.display();
        let errors = check(&path);
        match expected(&path) {
            Some(code) => {
                assert!(
                    errors.iter().any(|d| d.code == code),
                    "{name}: check should report {code}, got {:?}",
                    errors.iter().map(|d| &d.message).collect::<Vec<_>>()
                );
                for d in &errors {
                    assert!(
                        matches!(d.code, Code::UnitMismatch | Code::TypeMismatch),
                        "{name}: only unit and type mistakes, got {}: {}",
                        d.code,
                        d.message
                    );
                }
            }
            None => {
                assert!(
                    errors.is_empty(),
                    "{name}: check should pass, got {:?}",
                    errors.iter().map(|d| &d.message).collect::<Vec<_>>()
                );
                clean += 1;
                let p = load_program(&path, &opts()).unwrap().0;
                for e in &examples {
                    let doc = order(e);
                    let ex = e.file_name().unwrap().to_string_lossy();
                    match (bondmap::run::run(&fen, &doc), bondmap::run::run(&p, &doc)) {
                        (Ok(_), Ok(_)) => {}
                        (Ok(_), Err(err)) => panic!(
                            "{name}: check passed but run rejects the valid order {ex}: {err}"
                        ),
                        (Err(f), Err(y)) => assert_eq!(
                            f.message, y.message,
                            "{name}, {ex}: rejected for another reason than in fen"
                        ),
                        (Err(f), Ok(_)) => panic!("{name}: {ex} should be rejected: {f}"),
                    }
                }
            }
        }
    }
    assert!(clean >= 5, "too few clean variants ran: {clean}");
}

/// The money fields of the Cainiao contract (paths into the request, `[]` for an item).
fn money_paths(node: &Value, at: &str, out: &mut Vec<String>) {
    if node.get("x-unit").is_some() {
        out.push(at.to_string());
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            let p = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            money_paths(v, &p, out);
        }
    }
    if let Some(items) = node.get("items") {
        money_paths(items, &format!("{at}[]"), out);
    }
}

/// The values at a `money_paths` path (one per item under `[]`).
fn values_at<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut here = vec![v];
    for part in path.split('.') {
        let (key, each) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (part, false),
        };
        here = here
            .into_iter()
            .filter_map(|x| x.get(key))
            .flat_map(|x| match (each, x.as_array()) {
                (true, Some(a)) => a.iter().collect::<Vec<_>>(),
                _ => vec![x],
            })
            .collect();
    }
    here
}

fn decimal(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap()
}

#[test]
fn the_yuan_request_is_the_fen_request_with_each_amount_divided_by_100() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("mappings/schemas/cainiao_deliveryorder_create.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut paths = Vec::new();
    money_paths(&schema, "", &mut paths);
    assert_eq!(paths.len(), 15, "{paths:?}");
    let fen = hangzhou();
    let yuan = load_program(&root().join("tests/yuan/yuan_warehouse.map"), &opts())
        .unwrap()
        .0;
    let mut amounts = 0;
    for e in examples() {
        let doc = order(&e);
        let Ok(f) = bondmap::run::run(&fen, &doc) else {
            continue;
        };
        let f: Value = serde_json::from_str(&f).unwrap();
        let mut y: Value = serde_json::from_str(&bondmap::run::run(&yuan, &doc).unwrap()).unwrap();
        for p in &paths {
            let (fv, yv) = (values_at(&f, p), values_at(&y, p));
            assert_eq!(fv.len(), yv.len(), "{}: {p}", e.display());
            for (a, b) in fv.iter().zip(&yv) {
                assert_eq!(
                    decimal(a),
                    decimal(b) * Decimal::from(100),
                    "{}: {p} is {a} fen but {b} yuan",
                    e.display()
                );
                amounts += 1;
            }
        }
        // Apart from the amounts the two requests are the same.
        for p in &paths {
            for v in values_at_mut(&mut y, p) {
                *v = Value::Null;
            }
        }
        let mut f = f;
        for p in &paths {
            for v in values_at_mut(&mut f, p) {
                *v = Value::Null;
            }
        }
        assert_eq!(f, y, "{}", e.display());
    }
    assert!(amounts > 150, "too few amounts compared: {amounts}");

    // By hand: example 01's VAT is 2075 fen; in yuan 20.75.
    let doc = order(&root().join("examples/orders/01_single_sku_alipay.json"));
    let y: Value = serde_json::from_str(&bondmap::run::run(&yuan, &doc).unwrap()).unwrap();
    assert_eq!(
        y["orderItemList"][0]["declareInfo"]["vat"].to_string(),
        "20.75"
    );
}

fn values_at_mut<'a>(v: &'a mut Value, path: &str) -> Vec<&'a mut Value> {
    let mut here = vec![v];
    for part in path.split('.') {
        let (key, each) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (part, false),
        };
        here = here
            .into_iter()
            .filter_map(|x| x.get_mut(key))
            .flat_map(|x| {
                if each && x.is_array() {
                    x.as_array_mut().unwrap().iter_mut().collect::<Vec<_>>()
                } else {
                    vec![x]
                }
            })
            .collect();
    }
    here
}

/// The fixture's contract is Cainiao's with every amount in yuan to the fen: nothing else
/// differs, so the fixture follows the shipped contract when that changes.
#[test]
fn the_yuan_contract_is_cainiaos_with_money_in_yuan() {
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root().join(p)).unwrap()).unwrap()
    };
    let mut want = read("mappings/schemas/cainiao_deliveryorder_create.schema.json");
    let got = read("tests/yuan/yuan_deliveryorder_create.schema.json");
    fn to_yuan(v: &mut Value) {
        if let Some(o) = v.as_object_mut() {
            if o.get("x-unit").and_then(Value::as_str) == Some("fen") {
                o.insert("x-unit".into(), "yuan".into());
                o.insert("type".into(), "number".into());
                o.insert("x-decimal".into(), "N18,2".into());
                if let Some(Value::String(d)) = o.get_mut("description") {
                    *d = d.replace("单位“分”", "单位“元”");
                }
            }
            o.values_mut().for_each(to_yuan);
        } else if let Some(a) = v.as_array_mut() {
            a.iter_mut().for_each(to_yuan);
        }
    }
    to_yuan(&mut want);
    want["title"] = got["title"].clone();
    assert_eq!(want, got);
}
