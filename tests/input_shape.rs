//! An order parsed with only the parts its mapping reads (`bondmap::run::parse_order`) must map
//! exactly as the whole order does: same request, or the same rejection.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Every shipped mapping, the valid test mappings, and one that reads the order every
/// way the language can (lets, `first`, `if`, filters, queries, `.*`, indexes).
fn all_mappings() -> Vec<PathBuf> {
    let mut v = mappings();
    v.extend(files(&root().join("tests/check/success"), "map"));
    v.extend(files(&root().join("tests/input_shape"), "map"));
    v
}

fn same_both_ways(prog: &bondmap::program::Program, text: &str, what: &str) {
    let whole: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let ours = bondmap::run::parse_order(prog, text).unwrap_err();
            assert_eq!(ours.to_string(), e.to_string(), "{what}");
            return;
        }
    };
    let shaped = bondmap::run::parse_order(prog, text).unwrap();
    let a = bondmap::run::run(prog, &whole);
    let b = bondmap::run::run(prog, &shaped);
    assert_eq!(a, b, "{what}");
}

fn load(m: &std::path::Path) -> bondmap::program::Program {
    // The test mappings reach the shipped ones: their root is the repository.
    let opts = Options {
        allow_unset_params: true,
        root: Some(root()),
        ..Options::default()
    };
    load_program(m, &opts)
        .unwrap_or_else(|_| panic!("{} compiles", m.display()))
        .0
}

#[test]
fn every_mapping_maps_every_example_the_same_from_the_shaped_order() {
    for m in all_mappings() {
        let prog = load(&m);
        assert!(
            !bondmap::run::shape::shape(&prog).is_whole(),
            "{}: the mapping reads only parts of the order",
            m.display()
        );
        for e in examples() {
            let text = std::fs::read_to_string(&e).unwrap();
            same_both_ways(&prog, &text, &format!("{} on {}", m.display(), e.display()));
        }
    }
}

#[test]
fn unread_fields_are_not_built_and_read_ones_are() {
    let prog = load(&root().join("mappings/warehouses/hangzhou_xiasha.map"));
    let text = std::fs::read_to_string(
        root().join("examples/orders/02_several_skus_discounts_wechat.json"),
    )
    .unwrap();
    let v = bondmap::run::parse_order(&prog, &text).unwrap();
    let d = &v["detail"];
    assert!(d.get("shopName").is_none() && d.get("logistics").is_none());
    assert!(d["skuList"][0].get("skuName").is_none());
    assert!(d["skuList"][0]["skuDetailList"][0]
        .get("rawPricePerSku")
        .is_none());
    assert!(v["declare"]["orderDeclareInfos"][0]
        .get("frontUrl")
        .is_none());
    assert_eq!(d["orderId"], "P78811223300000002");
    assert!(d["skuList"][0]["skuDetailList"][0]["pricePerSku"].is_number());
    assert!(v["declare"]["orderDeclareInfos"][0].get("type").is_some());
    // Far fewer values are built than the order has.
    let count = |v: &Value| -> usize {
        fn n(v: &Value) -> usize {
            match v {
                Value::Object(o) => 1 + o.values().map(n).sum::<usize>(),
                Value::Array(a) => 1 + a.iter().map(n).sum::<usize>(),
                _ => 1,
            }
        }
        n(v)
    };
    let whole: Value = serde_json::from_str(&text).unwrap();
    assert!(
        count(&v) * 2 < count(&whole),
        "{} of {}",
        count(&v),
        count(&whole)
    );
}

/// Every node of a document, as a JSON pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

/// Bad input is normal input: the same answer with every node of every example removed
/// or replaced by a value of another type.
#[test]
fn broken_orders_are_rejected_the_same_from_the_shaped_order() {
    let replacements = [
        json!(null),
        json!(7),
        json!(12.345),
        json!("text"),
        json!(""),
        json!(true),
        json!([]),
        json!([1, {"a": 2}]),
        json!({}),
        json!({"x": 1}),
    ];
    let progs: Vec<_> = all_mappings().iter().map(|m| load(m)).collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut cases = 0;
    for e in examples() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&e).unwrap()).unwrap();
        let mut ptrs = Vec::new();
        pointers(&doc, String::new(), &mut ptrs);
        for p in &ptrs {
            let mut d = doc.clone();
            let r = (next() % (replacements.len() as u64 + 1)) as usize;
            if r == replacements.len() {
                // Remove the node.
                let (parent, last) = p.rsplit_once('/').unwrap();
                match d.pointer_mut(parent).unwrap() {
                    Value::Object(o) => {
                        o.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Value::Array(a) => {
                        a.remove(last.parse::<usize>().unwrap());
                    }
                    _ => unreachable!(),
                }
            } else {
                *d.pointer_mut(p).unwrap() = replacements[r].clone();
            }
            let text = d.to_string();
            let prog = &progs[(next() % progs.len() as u64) as usize];
            same_both_ways(prog, &text, &format!("{} with {p} changed", e.display()));
            cases += 1;
        }
    }
    assert!(cases > 1000, "{cases} cases");
}

#[test]
fn malformed_json_is_reported_as_serde_json_reports_it() {
    let prog = load(&root().join("mappings/warehouses/hangzhou_xiasha.map"));
    for bad in [
        r#"{"detail": {"orderId": "P1", "shopName": [1,2,}}"#,
        r#"{"detail": {"orderId": "P1"}} extra"#,
        r#"{"detail": {"skipped": "\x"}}"#,
        r#"{"detail": "#,
    ] {
        same_both_ways(&prog, bad, bad);
    }
}
