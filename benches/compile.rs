//! criterion benchmark: loading and compiling a warehouse mapping whose `storeCode` is a
//! 500-branch `if … else if …` chain, and one that is a 500-long `??` chain (issue 13
//! item 6: each branch used to double the input-shape analysis).
//! Run: `cargo bench --bench compile`. Figures: benches/README.md.

use bondmap::compile::{compile, Options};
use bondmap::load::load_str;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::PathBuf;

fn warehouse(field: String) -> String {
    format!("use \"hangzhou_xiasha.map\"\nstoreCode = {field}\n")
}

fn benches(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mappings/warehouses");
    let ifs: String = (0..500)
        .map(|i| format!("if $.detail.paymentType == {} then \"S{i}\" else ", i + 100))
        .collect();
    let if_chain = warehouse(format!("{ifs}\"LAST\""));
    let paths: String = (0..500)
        .map(|i| format!("$.detail.skuList[{}].skuDetailList[0].barcode ?? ", i + 5))
        .collect();
    let coalesce_chain = warehouse(format!("{paths}\"LAST\""));
    let plain = warehouse("\"HZ\"".into());
    let mut g = c.benchmark_group("compile");
    for (name, text) in [
        ("shipped_warehouse", &plain),
        ("if_chain_500", &if_chain),
        ("coalesce_chain_500", &coalesce_chain),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let (m, _) = load_str("chain.map", black_box(text), &dir);
                let (p, diags) = compile(&m, &Options::default());
                assert!(p.is_some(), "{diags:?}");
                p
            })
        });
    }
    g.finish();
}

criterion_group!(compile_benches, benches);
criterion_main!(compile_benches);
