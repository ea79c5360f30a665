//! Writes N varied RED orders as NDJSON to stdout, made from the bundled examples
//! (new order ids, buyers, phones, addresses, districts; the money of each template
//! kept, so every order still adds up). About 1 in 100 has a changed address and must be
//! rejected. `cargo run --release --example gen_orders -- 1000000 > orders.ndjson`
use serde_json::Value;
use std::io::Write;

fn main() -> std::io::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/orders");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json") && !p.to_string_lossy().contains("reject")
        })
        .collect();
    paths.sort();
    let templates: Vec<Value> = paths
        .iter()
        .filter_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
        })
        .collect();
    if templates.is_empty() {
        eprintln!("no example orders in {}", dir.display());
        std::process::exit(2);
    }
    let names = [
        "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周婷", "吴强",
    ];
    let districts = ["西湖区", "滨江区", "", "余杭区", "拱墅区"];
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    // A small linear congruential generator: varied and repeatable, no dependency.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    for i in 0..n {
        let mut d = templates[(i % templates.len() as u64) as usize].clone();
        let id = format!("P8{:016}", i);
        let name = names[(next() % names.len() as u64) as usize];
        let phone = format!("13{:09}", next() % 1_000_000_000);
        d["detail"]["orderId"] = Value::String(id.clone());
        d["detail"]["userId"] = Value::String(format!("u{:022}", next()));
        if let Some(r) = d["receiver"]["receiverInfos"].get_mut(0) {
            r["orderId"] = Value::String(id.clone());
            if r.get("matched") == Some(&Value::Bool(true)) {
                r["receiverName"] = Value::String(name.into());
                r["receiverPhone"] = Value::String(phone.clone());
                r["receiverAddress"] = Value::String(format!(
                    "文三路{}号{}室",
                    next() % 999 + 1,
                    next() % 2000 + 101
                ));
                if r.get("receiverDistrictName").is_some() {
                    r["receiverDistrictName"] =
                        Value::String(districts[(next() % districts.len() as u64) as usize].into());
                }
            }
            if i % 100 == 99 {
                *r = serde_json::json!({"orderId": id, "matched": false});
            }
        }
        if let Some(list) = d["declare"]["orderDeclareInfos"].as_array_mut() {
            for e in list {
                e["orderId"] = Value::String(id.clone());
                e["idName"] = Value::String(name.into());
                e["linkPhone"] = Value::String(phone.clone());
                e["idNumber"] = Value::String(format!("3301061990{:08}", next() % 100_000_000));
            }
        }
        serde_json::to_writer(&mut out, &d)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
