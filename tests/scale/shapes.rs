//! Mappings of many statements, one shape each (issue 27: `check` was quadratic in
//! statements), shared by `tests/check_scale.rs` and `benches/compile.rs`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A warehouse over the shipped base mapping, then `n` statements.
fn on_base(body: &str) -> String {
    format!(
        "use \"../cainiao/bonded_whs.map\"\nparam store_code = \"HZ\"\nparam owner_user_id = \"1\"\n\
         table goods from \"hangzhou_xiasha_goods.csv\" key barcode {{\n  item_id: string\n  \
         consumption_tax_rate: decimal\n}}\n{body}"
    )
}

/// A mapping of the free-key contract (`free` takes any key, `items` is a list of such).
const FREE: &str =
    "target \"../schemas/free.schema.json\"\nsource \"../schemas/red_order.schema.json\"\n";
const FREE_SCHEMA: &str = r#"{"type":"object","properties":{
 "free":{"type":"object","additionalProperties":{"type":"string"}},
 "items":{"type":"array","items":{"type":"object","additionalProperties":{"type":"string"}}},
 "one":{"type":"string"}
}}"#;

fn lines(n: usize, line: impl Fn(usize) -> String) -> String {
    let mut s = String::new();
    for i in 0..n {
        let _ = writeln!(s, "{}", line(i));
    }
    s
}

/// The shapes: name, and the text of the file of `n` statements (`over` uses `base`).
pub fn texts(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("fields", on_base(&lines(n, |i| format!("extendFields.k{i} = \"v\"")))),
        ("lets", on_base(&lines(n, |i| format!("let l{i} = \"v\"")))),
        (
            "rules",
            format!(
                "{FREE}one = \"x\"\n{}",
                lines(n, |i| format!(
                    "require r{i}: $.detail.orderId != null else \"no id {i}\""
                ))
            ),
        ),
        (
            "requires",
            format!(
                "{FREE}one = \"x\"\n{}",
                lines(n, |i| format!(
                    "require $.detail.orderId != null else \"no id {i}\""
                ))
            ),
        ),
        (
            "block",
            format!(
                "{FREE}one = \"x\"\nfree {{\n{}}}\n",
                lines(n, |i| format!("  k{i} = \"v\""))
            ),
        ),
        (
            "table",
            format!(
                "{FREE}table t {{\n{}}}\none = t[\"k1\"]\n",
                lines(n, |i| format!("  \"k{i}\" => \"v{i}\""))
            ),
        ),
        (
            "params",
            format!(
                "{FREE}{}one = p1\nfree {{\n{}}}\n",
                lines(n, |i| format!("param p{i}: string = \"v\"")),
                lines(n, |i| format!("  k{i} = p{i}"))
            ),
        ),
        (
            "chain",
            format!(
                "{FREE}let l0 = $.detail.orderId\n{}one = string(l{})\n",
                lines(n - 1, |i| format!("let l{} = l{i}", i + 1)),
                n - 1
            ),
        ),
        (
            "out_reads",
            format!(
                "{FREE}one = \"x\"\nfree {{\n  k0 = \"v\"\n{}}}\n",
                lines(n - 1, |i| format!("  k{} = out.free.k{i}", i + 1))
            ),
        ),
        (
            "source_paths",
            format!(
                "{FREE}one = \"x\"\nfree {{\n{}}}\n",
                lines(n, |i| format!("  k{i} = $.detail.orderId"))
            ),
        ),
        (
            "loop_lets",
            format!(
                "{FREE}one = \"x\"\nitems = for s in $.detail.skuList[*] {{\n  k = string(l0)\n{}  let l{} = s.skuId\n}}\n",
                lines(n - 1, |i| format!("  let l{i} = l{}", i + 1)),
                n - 1
            ),
        ),
        (
            "loop_fields",
            format!(
                "{FREE}one = \"x\"\nitems = for _s in $.detail.skuList[*] {{\n{}}}\n",
                lines(n, |i| format!("  k{i} = \"v\""))
            ),
        ),
        (
            "unknown_fields",
            format!("{FREE}one = \"x\"\n{}", lines(n, |i| format!("zz{i} = \"v\""))),
        ),
        (
            "twice",
            format!(
                "{FREE}one = \"x\"\n{}{}",
                lines(n, |i| format!("free.k{i} = \"v\"")),
                lines(n, |i| format!("free.k{i} = \"w\""))
            ),
        ),
        (
            "base",
            format!(
                "{FREE}one = \"x\"\n{}{}",
                lines(n, |i| format!("free.k{i} = \"v\"")),
                lines(n, |i| format!(
                    "require r{i}: $.detail.orderId != null else \"x\""
                ))
            ),
        ),
        (
            "over",
            format!(
                "use \"base.map\"\n{}{}{}{}",
                lines(n / 2, |i| format!("free.k{} = \"w\"", 2 * i)),
                lines(n / 2, |i| format!("drop free.k{}", 2 * i + 1)),
                lines(n / 2, |i| format!(
                    "require r{}: $.detail.orderId == null else \"y\"",
                    2 * i
                )),
                lines(n / 2, |i| format!("drop require r{}", 2 * i + 1))
            ),
        ),
    ]
}

/// Copies the shipped mappings into `dir` with the free-key contract and writes every
/// shape of `n` statements; the paths by shape (the base-mapping ones in `warehouses/`).
pub fn write(dir: &Path, n: usize) -> Vec<(&'static str, PathBuf)> {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let to = dir.join("mappings");
    copy_dir(&shipped, &to);
    std::fs::write(to.join("schemas/free.schema.json"), FREE_SCHEMA).expect("write schema");
    std::fs::create_dir_all(to.join("shapes")).expect("mkdir");
    texts(n)
        .into_iter()
        .map(|(name, text)| {
            let folder = if text.starts_with("use \"../cainiao") {
                "warehouses"
            } else {
                "shapes"
            };
            let path = to.join(folder).join(format!("{name}.map"));
            std::fs::write(&path, text).expect("write shape");
            (name, path)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read mappings") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}
