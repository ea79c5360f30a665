//! The playground's JSON API without a browser, against `bondmap play` on loopback: the
//! check of an edited text is `bondmap check`'s (codes, spans, messages), the request of
//! every example is `bondmap map`'s with its personal values masked, a rejection has the
//! code `explain` gives it, explain is `explain --field`'s; no path leaves the mapping
//! root, an oversized body and a foreign Host are refused, nothing is written unless the
//! page saves, and saving never goes through a symlink.

mod common;
#[path = "common/serve.rs"]
mod serve;

use common::{bondmap, copy_dir, root, text};
use serde_json::{json, Value};
use serve::Served;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const HZ: &str = "warehouses/hangzhou_xiasha.map";

fn play(args: &[&str]) -> Served {
    let mut all = vec!["play", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    Served::start(&all, "playground: ")
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

/// POSTs `body` to `path`: the status and the JSON answer.
fn post(s: &Served, path: &str, body: &Value) -> (u16, Value) {
    let r = client().post(s.at(path)).json(body).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn get(s: &Served, path: &str) -> (u16, Value) {
    let r = client().get(s.at(path)).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn hz_text() -> String {
    std::fs::read_to_string(root().join("mappings").join(HZ)).unwrap()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples/orders").join(name)).unwrap()
}

/// A copy of the bundled mapping root in a temporary folder (its `mappings/`).
fn copied_root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mappings"), &tmp.path().join("mappings"));
    tmp
}

#[test]
fn the_page_starts_from_the_warehouse_mapping_and_the_examples() {
    let s = play(&[]);
    let (status, start) = get(&s, "api/start");
    assert_eq!(status, 200);
    assert_eq!(start["file"], HZ);
    assert_eq!(start["example"], "01_single_sku_alipay.json");
    let files: Vec<&str> = start["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(files.contains(&HZ) && files.contains(&"cainiao/bonded_whs.map"));
    assert!(
        !files.contains(&"routes.map"),
        "a routes file is not offered"
    );
    assert_eq!(start["examples"].as_array().unwrap().len(), 13);
    // The keywords are the language's one list.
    let words: Vec<&str> = start["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["word"].as_str().unwrap())
        .collect();
    let list: Vec<&str> = bondmap::syntax::KEYWORDS.iter().map(|k| k.word).collect();
    assert_eq!(words, list);
    // The units are the grammar's `unit` rule's words.
    let grammar = std::fs::read_to_string(root().join("grammar/bondmap.pest")).unwrap();
    let rule = grammar.lines().find(|l| l.starts_with("unit ")).unwrap();
    let words: Vec<&str> = rule.split('"').skip(1).step_by(2).collect();
    assert_eq!(start["units"], json!(words));
    let (status, f) = get(&s, &format!("api/file?path={HZ}"));
    assert_eq!(status, 200);
    assert_eq!(f["text"], hz_text());
    // The page itself and its bundle, from the binary.
    let page = client().get(&s.url).send().unwrap();
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert!(page.text().unwrap().contains("/assets/app.js"));
    let js = client().get(s.at("assets/app.js")).send().unwrap();
    assert!(js.text().unwrap().contains("bondmap playground"));
}

#[test]
fn a_broken_text_gets_the_problems_check_finds_at_their_spans() {
    let broken = format!(
        "{}receiverInfo.cty = \"杭州\"\nlet x = nonblank($.detail.orderId, 1)\n",
        hz_text()
    );
    let s = play(&[]);
    let (status, got) = post(&s, "api/check", &json!({ "path": HZ, "text": broken }));
    assert_eq!(status, 200);
    let problems = got["problems"].as_array().unwrap();
    // `bondmap check --format json` of the same text in a copy of the root.
    let tmp = copied_root();
    let file = tmp.path().join("mappings").join(HZ);
    std::fs::write(&file, &broken).unwrap();
    let out = bondmap(&[
        "check",
        "--format",
        "json",
        file.to_str().unwrap(),
        "--root",
        tmp.path().join("mappings").to_str().unwrap(),
    ]);
    let cli: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(cli.len() >= 2, "{cli:?}");
    let key = |p: &Value| {
        (
            p["code"].clone(),
            p["line"].clone(),
            p["column"].clone(),
            p["span"].clone(),
            p["message"].clone(),
        )
    };
    let api: Vec<_> = problems.iter().map(key).collect();
    let want: Vec<_> = cli.iter().map(key).collect();
    assert_eq!(api, want);
    let cty = &problems[0];
    assert_eq!(cty["code"], "bondmap::unknown_field");
    assert_eq!(cty["here"], true);
    // `from`/`to` count UTF-16 units, as the editor does; the file has Chinese in it.
    let at = broken.find("cty").unwrap();
    let utf16 = broken[..at].encode_utf16().count();
    assert_eq!(cty["from"], utf16);
    assert_eq!(cty["to"], utf16 + 3);
    assert_ne!(utf16, at, "the text before it is not ASCII");
    assert!(cty["help"]
        .as_str()
        .unwrap()
        .contains("did you mean `city`?"));
}

/// The personal fields of the Cainiao request (`x-pii` in its schema): dotted paths with
/// `[]` for a list's items, and their kind.
fn request_pii() -> Vec<(Vec<String>, bondmap::schema::Pii)> {
    fn walk(n: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, bondmap::schema::Pii)>) {
        if let Some(k) = n["x-pii"].as_str() {
            out.push((path.clone(), bondmap::schema::Pii::parse(k).unwrap()));
        }
        if let Some(props) = n["properties"].as_object() {
            for (name, child) in props {
                path.push(name.clone());
                walk(child, path, out);
                path.pop();
            }
        }
        if n["items"].is_object() {
            path.push("[]".into());
            walk(&n["items"], path, out);
            path.pop();
        }
    }
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("mappings/schemas/cainiao_deliveryorder_create.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    walk(&schema, &mut Vec::new(), &mut out);
    assert!(out.len() >= 5, "{out:?}");
    out
}

/// Masks the string at `path` of `v` (every item of a `[]`) by its kind.
fn mask_at(v: &mut Value, path: &[String], kind: bondmap::schema::Pii) {
    let Some((first, rest)) = path.split_first() else {
        if let Value::String(s) = v {
            *s = bondmap::pii::mask(kind, s);
        }
        return;
    };
    if first == "[]" {
        if let Value::Array(items) = v {
            for it in items {
                mask_at(it, rest, kind);
            }
        }
    } else if let Some(x) = v.get_mut(first) {
        mask_at(x, rest, kind);
    }
}

#[test]
fn every_example_maps_to_the_request_of_map_masked_or_to_its_rejection() {
    let s = play(&[]);
    let pii = request_pii();
    let names: Vec<PathBuf> = common::examples();
    let (mut mapped, mut rejected) = (0, 0);
    for file in &names {
        let order = std::fs::read_to_string(file).unwrap();
        let (status, got) = post(
            &s,
            "api/map",
            &json!({ "path": HZ, "text": hz_text(), "order": order }),
        );
        assert_eq!(status, 200, "{got}");
        let f = file.to_str().unwrap();
        let cli = bondmap(&[
            "map",
            "-m",
            "mappings/warehouses/hangzhou_xiasha.map",
            "-i",
            f,
        ]);
        match got["outcome"].as_str().unwrap() {
            "mapped" => {
                mapped += 1;
                let mut want: Value = serde_json::from_slice(&cli.stdout).unwrap();
                let clear = want.clone();
                for (path, kind) in &pii {
                    mask_at(&mut want, path, *kind);
                }
                assert_ne!(want, clear, "{f} has personal values");
                let request = got["request"].as_str().unwrap();
                let shown: Value = serde_json::from_str(request).unwrap();
                assert_eq!(shown, want, "{f}");
                // Laid out as `map --pretty` lays it out.
                assert_eq!(
                    request.lines().count(),
                    got["fields"].as_array().unwrap().len()
                );
                let name = clear["receiverInfo"]["name"].as_str().unwrap();
                assert!(!got.to_string().contains(name), "{f}: {name} in clear");
            }
            "rejected" => {
                rejected += 1;
                assert_eq!(cli.status.code(), Some(1), "{f}");
                let ex = bondmap(&[
                    "explain",
                    "-m",
                    "mappings/warehouses/hangzhou_xiasha.map",
                    "-i",
                    f,
                    "--format",
                    "json",
                ]);
                let ex: Value = serde_json::from_slice(&ex.stdout).unwrap();
                assert_eq!(got["code"], ex["rejected"]["code"], "{f}");
                assert!(got["code"].as_str().unwrap().starts_with("bondmap::run::"));
                let message = got["message"].as_str().unwrap();
                assert!(text(&cli.stderr).contains(message), "{f}: {message}");
                assert!(!got["explain"].as_str().unwrap().is_empty());
            }
            other => panic!("{f}: {other}: {got}"),
        }
    }
    assert_eq!((mapped, rejected), (11, 2));
}

#[test]
fn a_rejection_has_its_code_and_a_broken_mapping_or_order_says_so() {
    let s = play(&[]);
    let (_, got) = post(
        &s,
        "api/map",
        &json!({ "path": HZ, "text": hz_text(), "order": example("12_reject_address_changed.json") }),
    );
    assert_eq!(got["outcome"], "rejected");
    assert_eq!(got["code"], "bondmap::run::require");
    assert!(got["explain"]
        .as_str()
        .unwrap()
        .contains("$.receiver.receiverInfos[0].matched = false"));
    let (_, got) = post(
        &s,
        "api/map",
        &json!({ "path": HZ, "text": format!("{}orderType = 1\n", hz_text()), "order": example("01_single_sku_alipay.json") }),
    );
    assert_eq!(got["outcome"], "mapping_errors");
    assert!(!got["problems"].as_array().unwrap().is_empty());
    let (_, got) = post(
        &s,
        "api/map",
        &json!({ "path": HZ, "text": hz_text(), "order": "{\"detail\": " }),
    );
    assert_eq!(got["outcome"], "bad_order");
    assert!(got["message"].as_str().unwrap().contains("not valid JSON"));
}

#[test]
fn explain_of_a_field_is_explain_field() {
    let s = play(&[]);
    for field in [
        "orderAmountInfo.vat",
        "orderItemList[0].declareInfo",
        "receiverInfo.name",
    ] {
        let (status, got) = post(
            &s,
            "api/explain",
            &json!({ "path": HZ, "text": hz_text(), "order": example("07_cosmetic_tax_split_fraction.json"), "field": field }),
        );
        assert_eq!(status, 200, "{got}");
        let cli = bondmap(&[
            "explain",
            "-m",
            "mappings/warehouses/hangzhou_xiasha.map",
            "-i",
            "examples/orders/07_cosmetic_tax_split_fraction.json",
            "--field",
            field,
        ]);
        assert_eq!(
            got["text"].as_str().unwrap(),
            text(&cli.stdout).trim_end(),
            "{field}"
        );
    }
    let (status, _) = post(
        &s,
        "api/explain",
        &json!({ "path": HZ, "text": hz_text(), "order": example("01_single_sku_alipay.json"), "field": "receiverInfo.mobile" }),
    );
    assert_eq!(status, 404);
}

#[test]
fn no_path_leaves_the_mapping_root() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("root");
    std::fs::create_dir_all(r.join("w")).unwrap();
    std::fs::write(tmp.path().join("secret.map"), "# the secret: 4111 1111\n").unwrap();
    std::fs::write(r.join("w/x.map"), "# nothing\n").unwrap();
    let s = play(&[r.to_str().unwrap()]);
    // A `use` out of the root: the loader's own guard, at the `use`.
    let (status, got) = post(
        &s,
        "api/check",
        &json!({ "path": "w/x.map", "text": "use \"../../secret.map\"\n" }),
    );
    assert_eq!(status, 200);
    let p = &got["problems"][0];
    assert_eq!(p["code"], "bondmap::io");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("outside the mapping root"),
        "{p}"
    );
    assert!(!got.to_string().contains("4111"));
    // Paths the API takes are plain relative `.map` names.
    for bad in [
        "../secret.map",
        "/etc/passwd",
        "w/../../secret.map",
        "w/x.txt",
    ] {
        let (status, got) = post(&s, "api/check", &json!({ "path": bad, "text": "" }));
        assert_eq!(status, 400, "{bad}: {got}");
        let (status, _) = get(&s, &format!("api/file?path={bad}"));
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = get(&s, "api/example?name=../../Cargo.toml");
    assert_eq!(status, 404);
}

#[test]
fn an_oversized_body_and_a_foreign_host_are_refused() {
    let s = play(&[]);
    // Refused from its head, before any of the body is read (a client still writing the
    // body then meets a closed connection, so only the head is sent here).
    let addr = s.url.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "POST /api/check HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        bondmap::play::MAX_BODY_BYTES + 1
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // An order over its own cap, inside the body's.
    let order = format!("\"{}\"", "x".repeat(bondmap::play::MAX_ORDER_BYTES));
    let (status, got) = post(
        &s,
        "api/map",
        &json!({ "path": HZ, "text": hz_text(), "order": order }),
    );
    assert_eq!(status, 400, "{got}");
    // A page of another site whose name points here (DNS rebinding).
    let r = client()
        .get(s.at("api/start"))
        .header("Host", "attacker.example:80")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
    // A form of another site cannot post: the API takes JSON only.
    let r = client()
        .post(s.at("api/save"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("path=x.map&text=y")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
}

/// Every file below `dir` with its bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(tree(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn nothing_is_written_unless_saved_and_saving_stays_inside_without_symlinks() {
    let tmp = copied_root();
    let r = tmp.path().join("mappings");
    let s = play(&[r.to_str().unwrap()]);
    let before = tree(tmp.path());
    let edited = format!("{}param extra = \"x\"\n", hz_text());
    let order = example("01_single_sku_alipay.json");
    post(&s, "api/check", &json!({ "path": HZ, "text": edited }));
    post(
        &s,
        "api/map",
        &json!({ "path": HZ, "text": edited, "order": order }),
    );
    post(
        &s,
        "api/explain",
        &json!({ "path": HZ, "text": edited, "order": order, "field": "storeCode" }),
    );
    assert_eq!(
        tree(tmp.path()),
        before,
        "checking and mapping write nothing"
    );

    let (status, got) = post(&s, "api/save", &json!({ "path": HZ, "text": edited }));
    assert_eq!(status, 200, "{got}");
    assert_eq!(std::fs::read_to_string(r.join(HZ)).unwrap(), edited);
    assert_eq!(
        tree(tmp.path()).len(),
        before.len(),
        "no file left beside it"
    );

    // A symlink as the file, or as a folder on the way: refused, its target untouched.
    let outside = tmp.path().join("outside.map");
    std::fs::write(&outside, "# outside\n").unwrap();
    std::os::unix::fs::symlink(&outside, r.join("warehouses/link.map")).unwrap();
    let (status, got) = post(
        &s,
        "api/save",
        &json!({ "path": "warehouses/link.map", "text": "x" }),
    );
    assert_eq!(status, 400, "{got}");
    std::fs::create_dir(tmp.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere"), r.join("linked")).unwrap();
    let (status, got) = post(
        &s,
        "api/save",
        &json!({ "path": "linked/new.map", "text": "x" }),
    );
    assert_eq!(status, 400, "{got}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "# outside\n");
    assert_eq!(
        std::fs::read_dir(tmp.path().join("elsewhere"))
            .unwrap()
            .count(),
        0
    );
    let (status, _) = post(
        &s,
        "api/save",
        &json!({ "path": "../outside.map", "text": "x" }),
    );
    assert_eq!(status, 400);
}
