//! The hand-written baseline of the benchmarks maps every example exactly as the engine
//! does (so the timings compare the same work).

mod common;

#[path = "../benches/baseline.rs"]
mod baseline;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use common::*;

#[test]
fn baseline_output_equals_the_engine_output() {
    let (prog, _) = load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        &Options::default(),
    )
    .unwrap();
    let wh = baseline::Warehouse::hangzhou(&root());
    let mut compared = 0;
    for ex in examples() {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&ex).unwrap()).unwrap();
        let engine = bondmap::run::run(&prog, &doc);
        let mut hand = String::new();
        let base = baseline::map(&doc, &wh, &mut hand);
        match (engine, base) {
            (Ok(e), Ok(())) => {
                assert_eq!(e, hand, "{}", ex.display());
                compared += 1;
            }
            (Err(_), Err(_)) => {}
            (e, b) => panic!("{}: engine {e:?}, baseline {b:?}", ex.display()),
        }
    }
    assert!(compared >= 8);
}
