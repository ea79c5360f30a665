//! The smaller mistakes of issue 23, each said so that the integrator can act on it: an
//! unquoted code in a route, `explain` over a routes file, a warehouse code with blanks
//! or invisible characters around it, a yuan contract derived instead of hand-written.
//! (The CSV headers and rows, NUL and the bare code in a mapping are `tests/check/` cases.)

mod common;

use common::{copy_dir, root, text};
use std::path::Path;
use std::process::Command;

fn bondmap_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn an_unquoted_code_in_a_route_is_asked_about_as_a_string() {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mappings"), &t.path().join("mappings"));
    let routes = t.path().join("mappings/routes.map");
    let s = std::fs::read_to_string(&routes).unwrap();
    std::fs::write(&routes, s.replace("== \"HZXS\"", "== HZXS")).unwrap();
    let o = bondmap_in(t.path(), &["check", "mappings/routes.map"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("unknown name `HZXS`"), "{err}");
    assert!(err.contains("did you mean the string \"HZXS\"?"), "{err}");
}

#[test]
fn explain_over_a_routes_file_follows_the_route_the_order_takes() {
    let o = common::bondmap(&[
        "explain",
        "--mapping",
        "mappings/routes.map",
        "--input",
        "examples/orders/01_single_sku_alipay.json",
        "--field",
        "storeCode",
    ]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(!err.contains("target"), "no advice to add a target: {err}");
    assert!(out.contains("storeCode = \"HZ_XIASHA_01\""), "{out}");
}

/// The skip reason of the shipped routes for an order whose whcode is `whcode`.
fn skipped_for(whcode: &str) -> String {
    let router =
        bondmap::route::Router::load(&root().join("mappings/routes.map"), &Default::default())
            .unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/orders/01_single_sku_alipay.json")).unwrap(),
    )
    .unwrap();
    doc["detail"]["whcode"] = whcode.into();
    match router.pick(&doc).unwrap() {
        bondmap::route::Pick::Skipped { reason } => reason,
        bondmap::route::Pick::Mapping { .. } => panic!("{whcode:?} is taken"),
    }
}

#[test]
fn a_warehouse_code_with_blanks_or_invisible_characters_is_shown_with_them() {
    let r = skipped_for(" HZXS");
    assert!(
        r.contains("whcode \" HZXS\" (an invisible character or blank before it)"),
        "{r}"
    );
    let r = skipped_for("\u{200b}HZXS");
    assert!(r.contains("whcode \"\\u{200b}HZXS\""), "{r}");
    let r = skipped_for("HZXS\u{feff}");
    assert!(
        r.contains("\"HZXS\\u{feff}\" (an invisible character or blank after it)"),
        "{r}"
    );
    // Free text is still not shown.
    let r = skipped_for("a long remark with words in it, not a code at all");
    assert!(r.contains("not shown"), "{r}");
}

#[test]
fn schema_money_in_yuan_derives_the_hand_written_yuan_contract() {
    let o = common::bondmap(&["schema", "money-in-yuan"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mut derived: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut hand: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/yuan/yuan_deliveryorder_create.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let title = derived["title"].as_str().unwrap().to_string();
    assert!(title.contains("money in yuan"), "{title}");
    derived["title"] = serde_json::Value::Null;
    hand["title"] = serde_json::Value::Null;
    assert_eq!(derived, hand);
    // And a warehouse targeting it is told, at its `target`, every conversion it needs.
    let t = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mappings"), &t.path().join("mappings"));
    std::fs::write(
        t.path().join("mappings/warehouses/yuan.schema.json"),
        &o.stdout,
    )
    .unwrap();
    std::fs::write(
        t.path().join("mappings/warehouses/yuan.map"),
        "use \"hangzhou_xiasha.map\"\ntarget \"yuan.schema.json\"\n",
    )
    .unwrap();
    let o = bondmap_in(t.path(), &["check", "mappings/warehouses/yuan.map"]);
    let err = text(&o.stderr);
    assert!(
        err.contains("is counted in yuan but this amount is in fen"),
        "{err}"
    );
    assert!(err.contains("this contract counts it in yuan"), "{err}");
}
