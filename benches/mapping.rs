//! criterion benchmarks: the map step and text to text, engine against the hand-written
//! baseline, per order; loading and checking every shipped mapping.
//! Run: `cargo bench --bench mapping`. Figures: benches/README.md.

#[path = "baseline.rs"]
mod baseline;

use bondmap::compile::Options;
use bondmap::engine::load_program;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::hint::black_box;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The accepted example orders as compact JSON lines.
fn inputs() -> Vec<String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("examples/orders"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json") && !p.to_string_lossy().contains("reject")
        })
        .collect();
    v.sort();
    v.iter()
        .map(|p| {
            serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap())
                .unwrap()
                .to_string()
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let (prog, _) = load_program(
        &root().join("mappings/warehouses/hangzhou_xiasha.map"),
        &Options::default(),
    )
    .unwrap();
    let wh = baseline::Warehouse::hangzhou(&root());
    let texts = inputs();
    let docs: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();

    let mut g = c.benchmark_group("map_step");
    g.throughput(Throughput::Elements(docs.len() as u64));
    let mut out = String::with_capacity(1 << 16);
    g.bench_function("engine", |b| {
        b.iter(|| {
            for d in &docs {
                out.clear();
                bondmap::run::run_into(&prog, black_box(d), &mut out).unwrap();
            }
            black_box(out.len())
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            for d in &docs {
                out.clear();
                baseline::map(black_box(d), &wh, &mut out).unwrap();
            }
            black_box(out.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("text_to_text");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("engine", |b| {
        b.iter(|| {
            for t in &texts {
                out.clear();
                // The engine builds only what the mapping reads (see src/input.rs).
                let d: Value = bondmap::run::parse_order(&prog, black_box(t)).unwrap();
                bondmap::run::run_into(&prog, &d, &mut out).unwrap();
            }
            black_box(out.len())
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            for t in &texts {
                out.clear();
                let d: Value = serde_json::from_str(black_box(t)).unwrap();
                baseline::map(&d, &wh, &mut out).unwrap();
            }
            black_box(out.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("load_check");
    let maps = [
        "mappings/cainiao/bonded_whs.map",
        "mappings/warehouses/hangzhou_xiasha.map",
        "mappings/warehouses/ningbo_meishan.map",
    ];
    g.bench_function("all_shipped_mappings", |b| {
        b.iter(|| {
            for m in maps {
                let (mapping, diags) = bondmap::load::load(&root().join(m));
                let opts = Options {
                    allow_unset_params: true,
                    ..Options::default()
                };
                let (p, more) = bondmap::compile::compile(&mapping, &opts);
                black_box((p.is_some(), diags.len() + more.len()));
            }
        })
    });
    g.finish();
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
