//! The command line as a user runs it: exit codes, what goes to stdout and stderr.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

/// `bondmap ARGS` running, its three streams piped.
fn spawn_piped(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn bondmap_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = spawn_piped(args);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const HZ: &str = "mappings/warehouses/hangzhou_xiasha.map";

fn accepted() -> String {
    examples()
        .into_iter()
        .find(|p| !p.to_string_lossy().contains("reject"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn rejected() -> Vec<String> {
    examples()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("reject"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn map_prints_the_request_in_mapping_order() {
    let out = bondmap(&["map", "--mapping", HZ, "--input", &accepted()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["orderType"], "BONDED_WHS");
    assert_eq!(v["storeCode"], "HZ_XIASHA_01");
    // Keys come in the order the mapping assigns them.
    let a = s.find("\"ownerUserId\"").unwrap();
    let b = s.find("\"receiverInfo\"").unwrap();
    let c = s.find("\"customsDeclareInfo\"").unwrap();
    assert!(a < b && b < c);
}

#[test]
fn a_rejected_order_prints_nothing_on_stdout() {
    let rej = rejected();
    assert!(rej.len() >= 2, "expected at least two rejected examples");
    for r in rej {
        let out = bondmap(&["map", "--mapping", HZ, "--input", &r]);
        assert_eq!(out.status.code(), Some(1), "{r}");
        assert!(out.stdout.is_empty(), "{r}: printed {}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.contains("order P"), "{r}: no order id in {err}");
        assert!(
            err.contains("bonded_whs.map:"),
            "{r}: no mapping line in {err}"
        );
    }
}

#[test]
fn three_separate_files_make_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(accepted())).unwrap()).unwrap();
    let mut paths = Vec::new();
    for part in ["detail", "declare", "receiver"] {
        let p = dir.path().join(format!("{part}.json"));
        std::fs::write(&p, doc[part].to_string()).unwrap();
        paths.push(p.to_string_lossy().into_owned());
    }
    let split = bondmap(&[
        "map",
        "--mapping",
        HZ,
        "--detail",
        &paths[0],
        "--declare",
        &paths[1],
        "--receiver",
        &paths[2],
    ]);
    let whole = bondmap(&["map", "--mapping", HZ, "--input", &accepted()]);
    assert_eq!(split.status.code(), Some(0), "{}", text(&split.stderr));
    assert_eq!(split.stdout, whole.stdout);
}

#[test]
fn ndjson_goes_on_after_a_rejected_line() {
    let mut input = String::new();
    for p in examples() {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        input.push_str(&v.to_string());
        input.push('\n');
    }
    input.push_str("{\"detail\": oops\n");
    let out = bondmap_stdin(&["map", "--mapping", HZ, "--ndjson", "-"], &input);
    assert_eq!(out.status.code(), Some(1));
    let n_examples = examples().len();
    let n_rejected = rejected().len();
    assert_eq!(text(&out.stdout).lines().count(), n_examples - n_rejected);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "line {}: rejected: not valid JSON",
            n_examples + 1
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{} rejected", n_rejected + 1)),
        "{err}"
    );
}

#[test]
fn malformed_json_is_a_rejected_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.json");
    std::fs::write(&p, "{\"detail\": {").unwrap();
    let out = bondmap(&["map", "--mapping", HZ, "--input", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not valid JSON"));
}

#[test]
fn table_swap_reads_another_goods_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(root().join("mappings/warehouses/hangzhou_xiasha_goods.csv"))
        .unwrap();
    // Same goods, other Cainiao ids: prefix every item id with 9.
    let mut lines = src.lines();
    let header = lines.next().unwrap();
    let idx = header.split(',').position(|c| c == "item_id").unwrap();
    let mut swapped = format!("{header}\n");
    for l in lines {
        let mut cols: Vec<String> = l.split(',').map(str::to_string).collect();
        cols[idx] = format!("9{}", cols[idx]);
        swapped.push_str(&cols.join(","));
        swapped.push('\n');
    }
    let p = dir.path().join("today.csv");
    std::fs::write(&p, swapped).unwrap();
    let out = bondmap(&[
        "map",
        "--mapping",
        HZ,
        "--input",
        &accepted(),
        "--table",
        &format!("goods={}", p.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["orderItemList"][0]["itemId"]
        .as_str()
        .unwrap()
        .starts_with('9'));
}

/// `map` of an accepted example with one `--param`.
fn map_with_param(param: &str) -> Output {
    bondmap(&[
        "map",
        "--mapping",
        HZ,
        "--input",
        &accepted(),
        "--param",
        param,
    ])
}

#[test]
fn param_flag_overrides_the_mapping() {
    let out = map_with_param("store_code=HZ_TEST");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["storeCode"], "HZ_TEST");
}

#[test]
fn a_misspelt_param_flag_is_refused_with_the_param_it_meant() {
    let out = map_with_param("stor_code=HZ_TEST");
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "nothing mapped with a wrong --param");
    let err = text(&out.stderr);
    assert!(err.contains("bondmap::unknown_param"), "{err}");
    assert!(err.contains("did you mean `store_code`?"), "{err}");
}

#[test]
fn check_passes_on_the_shipped_mappings() {
    let out = bondmap(&["check", "mappings/"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_points_at_a_misspelled_field() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("mappings/cainiao/bonded_whs.map")).unwrap();
    let abs = |rel: &str| {
        root()
            .join("mappings/cainiao")
            .join(rel)
            .display()
            .to_string()
    };
    let text_ = base
        .replace("\"../schemas/", &format!("\"{}/", abs("../schemas")))
        .replace("\"../warehouses/", &format!("\"{}/", abs("../warehouses")))
        .replace("  province  =", "  provnce   =");
    let line = text_.lines().position(|l| l.contains("provnce")).unwrap() + 1;
    let p = dir.path().join("copy.map");
    std::fs::write(&p, &text_).unwrap();
    // The copy names the shipped schemas by absolute path: a root that holds both.
    let out = bondmap(&["check", "--root", "/", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bondmap::unknown_field"), "{err}");
    assert!(err.contains(&format!("copy.map:{line}:")), "{err}");
    assert!(err.contains("did you mean `province`?"), "{err}");
    let json = bondmap(&[
        "check",
        "--root",
        "/",
        "--format",
        "json",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "bondmap::unknown_field" && d["line"] == line));
}

#[test]
fn check_of_a_missing_path_cannot_run() {
    let out = bondmap(&["check", "no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(Path::new(&root()).exists());
}

#[test]
fn shipped_mappings_are_formatted() {
    let out = bondmap(&["fmt", "--check", "mappings/", "tests/check/success/"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "unformatted: {}",
        text(&out.stdout)
    );
    // And fmt --check notices a file that is not.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ugly.map");
    std::fs::write(&p, "storeCode=\"A\"\n").unwrap();
    let out = bondmap(&["fmt", "--check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("ugly.map"));
}

#[test]
fn explain_shows_the_lineage_of_every_amount() {
    let ex = "examples/orders/10_cosmetic_beside_supplement.json";
    let out = bondmap(&["explain", "--mapping", HZ, "--input", ex]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let amounts = [
        "itemTotalPrice",
        "itemTotalActualPrice",
        "customsTax",
        "consumptionTax",
        "vat",
        "totalTax",
    ];
    for a in amounts {
        for i in 0..2 {
            assert!(
                s.contains(&format!("orderItemList[{i}].declareInfo.{a} = ")),
                "{a} of item {i}"
            );
        }
    }
    for a in [
        "dutiablePrice",
        "customsTax",
        "consumptionTax",
        "vat",
        "totalTax",
        "insurance",
        "coupon",
        "actualPayment",
        "postFee",
    ] {
        assert!(s.contains(&format!("orderAmountInfo.{a} = ")), "{a}");
    }
    // The consumption tax of the cosmetic: the line it was set at, the tax and rate it came from.
    let block = s
        .split("\n\n")
        .find(|b| b.starts_with("orderItemList[0].declareInfo.consumptionTax = 9141 fen"))
        .unwrap();
    assert!(block.contains("bonded_whs.map:"), "{block}");
    assert!(
        block.contains("$.detail.skuList[0].skuDetailList[0].taxPerSku = 17064 fen"),
        "{block}"
    );
    assert!(block.contains("consumption_tax_rate = 0.15"), "{block}");
    // Personal data is masked.
    let name = text(
        &bondmap(&[
            "explain",
            "--mapping",
            HZ,
            "--input",
            ex,
            "--field",
            "customsDeclareInfo.buyerName",
        ])
        .stdout,
    );
    assert!(
        name.starts_with("customsDeclareInfo.buyerName = \"吴*\""),
        "{name}"
    );
    assert!(!name.contains("吴霞"));
}

/// The accepted examples as NDJSON lines, repeated to `n` lines, each with its own order
/// id (`P…-k`), so that every line is a distinct order.
fn stream_of(n: usize) -> Vec<Vec<u8>> {
    let docs: Vec<serde_json::Value> = examples()
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("reject"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    (0..n)
        .map(|k| {
            let mut d = docs[k % docs.len()].clone();
            d["detail"]["orderId"] = format!("PSTREAM{k:06}").into();
            let mut line = d.to_string().into_bytes();
            line.push(b'\n');
            line
        })
        .collect()
}

/// Puts a byte that is never UTF-8 inside the first string of a line.
fn break_utf8(line: &mut Vec<u8>) {
    let at = line.iter().position(|&b| b == b'"').unwrap() + 1;
    line.insert(at, 0xff);
}

#[test]
fn ndjson_with_an_invalid_utf8_line_maps_every_other_line() {
    let mut lines = stream_of(2000);
    break_utf8(&mut lines[1499]);
    // A byte order mark opening a line is not part of the JSON.
    lines[10].splice(0..0, "\u{feff}".bytes());
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("orders.ndjson");
    std::fs::write(&f, lines.concat()).unwrap();
    let out = bondmap(&["map", "--mapping", HZ, "--ndjson", f.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(text(&out.stdout).lines().count(), 1999, "{err}");
    assert!(
        err.contains("line 1500: rejected: not valid UTF-8"),
        "{err}"
    );
    assert!(err.contains("1999 mapped, 1 rejected"), "{err}");
}

#[test]
fn send_ndjson_streams_in_batches_and_skips_only_the_bad_line() {
    use bondmap::gateway::sim::{spawn, SimOptions};
    use std::io::Write;
    let sim = spawn(
        0,
        SimOptions {
            secret: "stream-secret".into(),
            ..SimOptions::default()
        },
    )
    .unwrap();
    let mut lines = stream_of(700);
    break_utf8(&mut lines[299]);
    // The same order again in a later batch: sent once.
    lines[500] = lines[3].clone();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(["send", "--mapping", HZ, "--ndjson", "-"])
        .current_dir(root())
        .env("CAINIAO_APP_KEY", "CP_STREAM")
        .env("CAINIAO_SECRET_KEY", "stream-secret")
        .env("CAINIAO_GATEWAY_URL", sim.url())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&lines[..400].concat()).unwrap();
    stdin.flush().unwrap();
    // Sending starts while the stream is still open: before, nothing was sent until the
    // whole input had been read and mapped.
    let t = std::time::Instant::now();
    while sim.requests() == 0 {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "nothing sent while the stream is open"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stdin.write_all(&lines[400..].concat()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let results: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 700);
    let count = |o: &str| results.iter().filter(|r| r["outcome"] == o).count();
    assert_eq!(count("accepted"), 698, "{stderr}");
    assert_eq!(count("skipped_duplicate"), 1);
    let bad: Vec<_> = results
        .iter()
        .filter(|r| r["outcome"] == "rejected_by_mapping")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["input"], "line 300");
    assert!(
        bad[0]["error"].as_str().unwrap().contains("UTF-8"),
        "{bad:?}"
    );
    assert_eq!(sim.requests(), 698);
    assert!(stderr.contains("698 accepted"), "{stderr}");
}

/// Editors on Windows open a file with a byte order mark: a mapping, a JSON order and a
/// CSV table that start with one are read as without it.
#[test]
fn a_byte_order_mark_opening_a_mapping_an_order_or_a_table_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("mappings/warehouses");
    std::fs::create_dir_all(&w).unwrap();
    let bom = |text: &str| format!("\u{feff}{text}");
    let m = w.join("bom.map");
    std::fs::write(&m, bom(&format!("use \"{}\"\n", root().join(HZ).display()))).unwrap();
    let order = dir.path().join("order.json");
    std::fs::write(&order, bom(&std::fs::read_to_string(accepted()).unwrap())).unwrap();
    let csv = dir.path().join("goods.csv");
    let goods =
        std::fs::read_to_string(root().join("mappings/warehouses/hangzhou_xiasha_goods.csv"))
            .unwrap();
    std::fs::write(&csv, bom(goods.trim_start_matches('\u{feff}'))).unwrap();
    let table = format!("goods={}", csv.display());
    let out = bondmap(&[
        "map",
        "--root",
        "/",
        "--mapping",
        m.to_str().unwrap(),
        "--input",
        order.to_str().unwrap(),
        "--table",
        &table,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plain = bondmap(&["map", "--mapping", HZ, "--input", &accepted()]);
    assert_eq!(out.stdout, plain.stdout);
}

/// The root of a folder given to `check` is that folder, or the files' own default when
/// that is wider; `--root` names another.
#[test]
fn check_roots_follow_the_folder_given_or_root() {
    let out = bondmap(&["check", "mappings/warehouses/"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The test mappings reach ../../../mappings: outside tests/check, inside the repository.
    let narrow = bondmap(&["check", "tests/check/success"]);
    assert_eq!(narrow.status.code(), Some(1));
    assert!(text(&narrow.stderr).contains("outside the mapping"));
    let wide = bondmap(&["check", "--root", ".", "tests/check/success"]);
    assert_eq!(wide.status.code(), Some(0), "{}", text(&wide.stderr));
}

/// A mapping at the depth limit's scale runs on every thread `map --ndjson` uses (each
/// gets the stack it needs), and one past the limit is a clear error, not an abort.
#[test]
fn deep_mappings_map_on_worker_threads_and_deeper_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("mappings/warehouses");
    std::fs::create_dir_all(&w).unwrap();
    let ifs: String = (0..500)
        .map(|i| format!("if $.detail.paymentType == {} then \"S{i}\" else ", i + 100))
        .collect();
    let m = w.join("deep.map");
    std::fs::write(
        &m,
        format!(
            "use \"{}\"\nstoreCode = {ifs}\"DEEP\"\n",
            root().join(HZ).display()
        ),
    )
    .unwrap();
    let f = dir.path().join("orders.ndjson");
    std::fs::write(&f, stream_of(1500).concat()).unwrap();
    let args = ["map", "--root", "/", "--mapping", m.to_str().unwrap()];
    let out = bondmap(&[&args[..], &["--ndjson", f.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1500);
    assert!(stdout.lines().all(|l| l.contains("\"storeCode\":\"DEEP\"")));
    std::fs::write(&m, format!("storeCode = {}true\n", "not ".repeat(10_000))).unwrap();
    let out = bondmap(&["check", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nesting deeper than 1024 levels"));
}

#[test]
fn status_json_gives_a_rejections_run_time_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    {
        let mut s = bondmap::store::Store::open(&db).unwrap();
        s.transaction(|t| {
            t.record_seen("P1", 1)?;
            t.mark_rejected("P1", "order P1: …", Some("bondmap::run::require"))?;
            t.record_seen("P2", 1)?;
            t.mark_failed("P2", "the gateway timed out")
        })
        .unwrap();
    }
    let o = bondmap(&[
        "status",
        "--format",
        "json",
        "--all",
        "--state",
        db.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by_id = |list: &str, id: &str| {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["order_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {list}: {v}"))
    };
    for list in ["failed_and_rejected", "orders", "needs_person"] {
        assert_eq!(
            by_id(list, "P1")["error_code"],
            "bondmap::run::require",
            "{list}"
        );
        // A failed send is no rejection by the mapping: no code.
        assert!(by_id(list, "P2")["error_code"].is_null(), "{list}: {v}");
    }
}

#[test]
fn a_reader_that_stops_early_ends_map_quietly_as_any_unix_filter() {
    use std::io::{BufRead, Read, Write};
    use std::os::unix::process::ExitStatusExt;
    let one = std::fs::read_to_string(&examples()[0]).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&one).unwrap();
    let line = format!("{doc}\n");
    let mut child = spawn_piped(&["map", "--mapping", HZ, "--ndjson"]);
    let mut stdin = child.stdin.take().unwrap();
    // Far more than a pipe holds: map is still writing when the reader leaves.
    let writer = std::thread::spawn(move || {
        for _ in 0..20_000 {
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("BONDED_WHS"), "{first}");
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    writer.join().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}: {err}");
}
