//! The mappings of issue 25 over their own examples, as reviewed snapshots (what `bondmap
//! test --examples-for mappings/red/customs_status.map=examples/customs --examples-for
//! mappings/filing/hangzhou_xiasha_filing.map=examples/goods` runs), and the payment
//! record's channel taken from the warehouse file.

mod common;

use bondmap::compile::Options;
use bondmap::snapshot;
use bondmap::warehouse::load_for_warehouse;
use common::*;
use serde_json::{json, Value};

#[test]
fn the_customs_and_filing_mappings_match_their_snapshots() {
    let mut layout = snapshot::Layout::under(&root());
    layout.examples_for = vec![
        (
            root().join("mappings/red/customs_status.map"),
            root().join("examples/customs"),
        ),
        (
            root().join("mappings/filing/hangzhou_xiasha_filing.map"),
            root().join("examples/goods"),
        ),
    ];
    let suite = snapshot::collect(&layout).unwrap_or_else(|problems| {
        let text: String = problems.iter().map(|p| p.render(false)).collect();
        panic!("bondmap test could not run:\n{text}")
    });
    let ours: Vec<_> = suite
        .cases
        .iter()
        .filter(|c| c.mapping.contains("customs_status") || c.mapping.contains("filing"))
        .collect();
    assert_eq!(
        ours.len(),
        files(&root().join("examples/customs"), "json").len()
            + files(&root().join("examples/goods"), "json").len()
    );
    let mut failures = String::new();
    for c in ours {
        if c.outcome() != snapshot::Outcome::Passed {
            failures.push_str(&c.report(true));
        }
    }
    assert!(
        failures.is_empty(),
        "{failures}store with `cargo run -- test --examples-for … --accept`"
    );
}

fn resend_fields(warehouse: &std::path::Path) -> Result<Value, String> {
    let (p, _) = load_for_warehouse(
        &root().join("mappings/red/resend_payment.map"),
        warehouse,
        &Options::default(),
    )
    .map_err(|e| e.render(false))?;
    let notice: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/customs/02_failed_payment_missing.json"))
            .unwrap(),
    )
    .unwrap();
    let out = bondmap::run::run(&p, &notice).map_err(|e| e.to_string())?;
    Ok(serde_json::from_str(&out).unwrap())
}

#[test]
fn the_payment_record_is_re_pushed_on_the_channel_its_warehouse_file_sets() {
    // The shipped warehouses keep the base's default.
    let fields = resend_fields(&warehouses().join("hangzhou_xiasha.map")).unwrap();
    assert_eq!(
        fields,
        json!({"orderId": "P78811223300000007", "customsType": "zongshu"})
    );
    // A warehouse of a port with its own channel sets it in its file.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mappings"), &dir.path().join("mappings"));
    let whs = dir.path().join("mappings/warehouses");
    let text = std::fs::read_to_string(whs.join("hangzhou_xiasha.map")).unwrap();
    let local = whs.join("local.map");
    std::fs::write(&local, text.clone() + "param customs_type = \"local\"\n").unwrap();
    let fields = resend_fields(&local).unwrap();
    assert_eq!(fields["customsType"], "local");
    // A value RED does not take is refused before anything is sent.
    let bad = whs.join("bad.map");
    std::fs::write(&bad, text + "param customs_type = \"provincial\"\n").unwrap();
    let e = resend_fields(&bad).unwrap_err();
    assert!(e.contains("customs_type must be zongshu or local"), "{e}");
}

#[test]
fn check_checks_the_two_customs_tables_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let maps = dir.path().join("mappings");
    copy_dir(&root().join("mappings"), &maps);
    let ok = bondmap(&["check", maps.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let status = maps.join("cainiao/order_status.csv");
    let t = std::fs::read_to_string(&status).unwrap();
    std::fs::write(
        &status,
        t + "CUSTOMS_PASSED,noted\nCUSTOMS_HELD,customs_held\n",
    )
    .unwrap();
    let reasons = maps.join("cainiao/customs_reasons.csv");
    let t = std::fs::read_to_string(&reasons).unwrap();
    std::fs::write(&reasons, t.replace("over_quota\n限额", "quota\n限额")).unwrap();
    let bad = bondmap(&["check", maps.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    let e = text(&bad.stderr);
    assert!(
        e.contains("order_status.csv:10: `CUSTOMS_PASSED` is given twice (first on line 7)"),
        "{e}"
    );
    assert!(
        e.contains("order_status.csv:11: unknown event `customs_held`"),
        "{e}"
    );
    assert!(
        e.contains("customs_reasons.csv:10: unknown class `quota` for `额度`"),
        "{e}"
    );
    let j = bondmap(&["check", maps.to_str().unwrap(), "--format", "json"]);
    let v: Value = serde_json::from_slice(&j.stdout).unwrap();
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "bondmap::customs_table")
            .count(),
        3,
        "{v}"
    );
}
