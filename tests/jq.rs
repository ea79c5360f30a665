//! benches/bonded_whs.jq (the same mapping in jq, timed against bondmap) gives bondmap's
//! output on every example. Skipped, saying so, where no `jq` is installed.

mod common;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use common::*;
use std::process::Command;

fn jq(args: &[&str]) -> Option<String> {
    let out = Command::new("jq")
        .args(args)
        .current_dir(root())
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "jq {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn jq_program_matches_bondmap() {
    let Some(goods) = jq(&[
        "-nc",
        "--rawfile",
        "csv",
        "mappings/warehouses/hangzhou_xiasha_goods.csv",
        "-f",
        "benches/goods_table.jq",
    ]) else {
        eprintln!("jq is not installed: jq_program_matches_bondmap skipped");
        return;
    };
    let (prog, _) = load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        &Options::default(),
    )
    .unwrap();
    let mut compared = 0;
    for ex in examples() {
        let path = ex.to_string_lossy().into_owned();
        let from_jq = jq(&[
            "-c",
            "--argjson",
            "g",
            goods.trim(),
            "-f",
            "benches/bonded_whs.jq",
            &path,
        ])
        .unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&ex).unwrap()).unwrap();
        match bondmap::run::run(&prog, &doc) {
            Ok(json) => {
                assert_eq!(from_jq.trim_end(), json, "{path}");
                compared += 1;
            }
            Err(_) => assert!(
                from_jq.trim().is_empty(),
                "{path}: jq mapped an order bondmap rejects"
            ),
        }
    }
    assert!(compared >= 8);
}
