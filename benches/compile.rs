//! criterion benchmark: loading and compiling a warehouse mapping whose `storeCode` is a
//! 500-branch `if … else if …` chain, and one that is a 500-long `??` chain (issue 13
//! item 6: each branch used to double the input-shape analysis).
//! And `check` (load, compile, the report as `bondmap check` prints it) of generated
//! mappings of 10,000 and 40,000 statements, one shape each (issue 27: it was quadratic).
//! Run: `cargo bench --bench compile`; only the long ones: `cargo bench --bench compile --
//! check`. Figures: benches/README.md.

#[path = "../tests/scale/shapes.rs"]
mod shapes;

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

/// What `bondmap check FILE` does: load, compile, render the report.
fn check(path: &std::path::Path, root: &std::path::Path) -> usize {
    let (m, mut diags) = bondmap::load::load_within(path, Some(root));
    if !diags.iter().any(bondmap::diag::Diag::is_error) {
        let opts = Options {
            allow_unset_params: true,
            ..Options::default()
        };
        diags.extend(compile(&m, &opts).1);
    }
    let reports = bondmap::diag::reports(&m.sources, &diags, "x.map");
    bondmap::diag::render(&reports, false).len()
}

fn statements(c: &mut Criterion) {
    let mut g = c.benchmark_group("check");
    g.sample_size(10);
    // `cargo test --all-targets` runs each once as a check that it still works: small
    // files then (a debug build checks 40,000 statements slowly).
    let sizes: &[usize] = if std::env::args().any(|a| a == "--bench") {
        &[10_000, 40_000]
    } else {
        &[1_000]
    };
    for &n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("mappings");
        for (name, path) in shapes::write(dir.path(), n) {
            if name == "base" {
                continue;
            }
            g.bench_function(format!("{name}_{n}"), |b| {
                b.iter(|| check(black_box(&path), &root))
            });
        }
    }
    g.finish();
}

criterion_group!(compile_benches, benches, statements);
criterion_main!(compile_benches);
