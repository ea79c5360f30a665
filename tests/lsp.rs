//! `bondmap lsp` driven over stdio as an editor drives it: Content-Length framed JSON-RPC,
//! every read bounded by a timeout so a hang fails the test instead of blocking it.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
mod common;

use common::copy_dir;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

struct Editor {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
}

impl Editor {
    fn start() -> Editor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bondmap"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut len = None;
            loop {
                let mut line = String::new();
                if out.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    len = v.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; len.expect("a Content-Length header")];
            if out.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        let mut e = Editor {
            child,
            stdin,
            rx,
            next_id: 0,
        };
        let r = e.request("initialize", json!({"capabilities": {}, "processId": null}));
        assert!(
            r["result"]["capabilities"]["hoverProvider"] == json!(true),
            "{r}"
        );
        e.notify("initialized", json!({}));
        e
    }

    fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        let m = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.send_raw(&m.to_string());
    }

    /// The next message the server sends for which `want` holds (others are skipped).
    fn wait_for(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = self
                .rx
                .recv_timeout(left)
                .expect("the server answered in time");
            if want(&m) {
                return m;
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let m = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(&m.to_string());
        self.wait_for(|m| m["id"] == json!(id))
    }

    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let m = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "bondmap", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    fn at(&mut self, method: &str, uri: &str, (line, character): (usize, usize)) -> Value {
        self.request(
            method,
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        )
    }

    fn stop(mut self) -> i32 {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A copy of the shipped mappings (so `use` and the schemas resolve), and the path of
/// its Hangzhou warehouse mapping.
fn mappings() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("mappings")
            .as_path(),
        &dir.path().join("mappings"),
    );
    let file = dir.path().join("mappings/warehouses/hangzhou_xiasha.map");
    (dir, file)
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// Line and UTF-16 column of the first `needle` in `text` (plus `skip` characters).
fn pos(text: &str, needle: &str, skip: usize) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .encode_utf16()
        .count();
    (line, col + skip)
}

#[test]
fn misspelt_field_is_diagnosed_and_fixing_it_clears_it() {
    let (_dir, file) = mappings();
    let base = std::fs::read_to_string(&file).unwrap();
    let u = uri(&file);
    let mut ed = Editor::start();
    let bad = format!("{base}\nstroeCode = store_code  # 仓库\n");
    ed.open(&u, &bad);
    let diags = ed.diagnostics(&u);
    let d = diags
        .iter()
        .find(|d| d["code"] == "bondmap::unknown_field")
        .unwrap_or_else(|| panic!("an unknown_field diagnostic in {diags:?}"));
    let (line, col) = pos(&bad, "stroeCode", 0);
    assert_eq!(d["range"]["start"], json!({"line": line, "character": col}));
    assert_eq!(
        d["range"]["end"],
        json!({"line": line, "character": col + 9})
    );
    assert!(
        d["message"].as_str().unwrap().contains("storeCode"),
        "the help names the field: {d}"
    );

    let good = format!("{base}\nstoreCode = store_code  # 仓库\n");
    ed.change(&u, 2, &good);
    let diags = ed.diagnostics(&u);
    assert!(
        diags.iter().all(|d| d["severity"] != json!(1)),
        "no error is left: {diags:?}"
    );
    assert!(!diags.iter().any(|d| d["code"] == "bondmap::unknown_field"));

    // Garbage in the buffer: a parse diagnostic, and the server still answers.
    ed.change(&u, 3, "}}} let = = {{ \"open");
    let diags = ed.diagnostics(&u);
    assert!(
        diags.iter().any(|d| d["code"] == "bondmap::parse"),
        "{diags:?}"
    );
    let h = ed.at("textDocument/hover", &u, (0, 5));
    assert!(h.get("error").is_none(), "{h}");
    assert_eq!(ed.stop(), 0);
}

#[test]
fn hover_completion_definition_and_formatting() {
    let (_dir, file) = mappings();
    let base = std::fs::read_to_string(&file).unwrap();
    let u = uri(&file);
    let text = format!(
        "{base}\nlet code = store_code\nstoreCode = code\nreceiverInfo {{\n  country = \"CN\"\n  \n}}\nexternalOrderCode = $.detail.orderId\n"
    );
    let mut ed = Editor::start();
    ed.open(&u, &text);
    ed.diagnostics(&u);

    let h = ed.at("textDocument/hover", &u, pos(&text, "storeCode =", 2));
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("仓库编码（菜鸟 KA 分配）"), "{h}");
    assert!(value.contains("string"), "{h}");
    // Its length in the Cainiao contract (mappings/schemas: 99).
    assert!(value.contains("maxLength: 99"), "{h}");

    let h = ed.at("textDocument/hover", &u, pos(&text, "orderId\n", 2));
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        value.contains("order number"),
        "the source schema's description: {h}"
    );
    assert!(value.contains("string"), "{h}");

    let h = ed.at("textDocument/hover", &u, pos(&text, "goods from", 1));
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        value.contains("consumption_tax_rate"),
        "a table's columns: {h}"
    );

    let (line, _) = pos(&text, "  \n}", 0);
    let c = ed.at("textDocument/completion", &u, (line, 2));
    let labels: Vec<&str> = c["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"province"), "{labels:?}");
    assert!(labels.contains(&"district"), "{labels:?}");
    assert!(
        !labels.contains(&"country"),
        "country is assigned already: {labels:?}"
    );
    assert!(
        !labels.contains(&"storeCode"),
        "not a receiver field: {labels:?}"
    );

    let c = ed.at("textDocument/completion", &u, pos(&text, "orderId\n", 0));
    let labels: Vec<String> = c["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect();
    assert!(
        labels.iter().any(|l| l == "skuList"),
        "fields of $.detail: {labels:?}"
    );

    let d = ed.at(
        "textDocument/definition",
        &u,
        pos(&text, "code\nreceiverInfo", 1),
    );
    let (line, col) = pos(&text, "code = store_code", 0);
    assert_eq!(d["result"]["uri"], u, "{d}");
    assert_eq!(
        d["result"]["range"]["start"],
        json!({"line": line, "character": col}),
        "{d}"
    );

    // A param declared in the used file: the definition is there, and where this file
    // sets it (issue 23).
    let d = ed.at("textDocument/definition", &u, pos(&text, "store_code\n", 1));
    assert!(
        d["result"][0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("cainiao/bonded_whs.map"),
        "{d}"
    );
    assert_eq!(d["result"][1]["uri"], u, "{d}");

    let ugly = "storeCode   =    \"X\"\n";
    ed.change(&u, 2, ugly);
    let f = ed.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": u}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = f["result"].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{f}");
    assert_eq!(edits[0]["newText"], "storeCode = \"X\"\n");

    let s = ed.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": u}}),
    );
    assert_eq!(s["result"][0]["name"], "storeCode", "{s}");
    assert_eq!(ed.stop(), 0);
}

#[test]
fn malformed_messages_get_errors_and_the_server_goes_on() {
    let mut ed = Editor::start();
    ed.send_raw("{not json");
    let m = ed.wait_for(|m| m.get("error").is_some());
    assert_eq!(m["error"]["code"], -32700, "{m}");
    assert_eq!(m["id"], Value::Null);
    // A header that is not one, then a well-formed request: it is answered.
    ed.stdin.write_all(b"Garbage-Without-Colon\r\n").unwrap();
    let r = ed.request("textDocument/hover", json!("not params"));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = ed.request("no/such/method", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let r = ed.at("textDocument/hover", "file:///nowhere/x.map", (0, 0));
    assert_eq!(r["result"], Value::Null, "{r}");
    assert_eq!(ed.stop(), 0);
}

#[test]
fn hover_on_a_loop_items_path_shows_the_source_contract() {
    let (dir, _) = mappings();
    let file = dir.path().join("mappings/cainiao/bonded_whs.map");
    let text = std::fs::read_to_string(&file).unwrap();
    let u = uri(&file);
    let mut ed = Editor::start();
    ed.open(&u, &text);
    ed.diagnostics(&u);
    // `good` is the loop item of `sku.skuDetailList[*]`, `sku` of `$.detail.skuList[*]`.
    let h = ed.at("textDocument/hover", &u, pos(&text, "taxPerSku", 3));
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("unit cross-border tax"), "{h}");
    assert!(value.contains("unit: fen"), "{h}");
    assert!(value.contains("always present"), "{h}");
    let h = ed.at(
        "textDocument/hover",
        &u,
        pos(&text, "merchantDiscountPerSku", 3),
    );
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("may be absent"), "{h}");
    let h = ed.at("textDocument/hover", &u, pos(&text, "round(", 1));
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("half_up"), "a function's doc: {h}");
    assert_eq!(ed.stop(), 0);
}

/// The messages the server sends until `done` holds for one, in order.
fn until(ed: &mut Editor, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let m = ed.wait_for(|_| true);
        let last = done(&m);
        seen.push(m);
        if last {
            return seen;
        }
    }
}

/// A warehouse of `n` free-key lines: a check of it takes a while (seconds in a debug
/// build), its hover is of the first line.
fn long_buffer(base: &str, n: usize) -> String {
    let mut text = format!("{base}\nstoreCode = store_code\n");
    for i in 0..n {
        text.push_str(&format!("extendFields.k{i} = \"v\"\n"));
    }
    text
}

#[test]
fn a_hover_sent_while_a_long_buffer_is_checked_is_answered_before_its_diagnostics() {
    let (_dir, file) = mappings();
    let base = std::fs::read_to_string(&file).unwrap();
    let u = uri(&file);
    let mut ed = Editor::start();
    let text = long_buffer(&base, 4000);
    // Opening checks at once; the hover comes right after.
    ed.open(&u, &text);
    ed.next_id += 1;
    let id = ed.next_id;
    let (line, col) = pos(&text, "storeCode =", 2);
    let m = json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": u}, "position": {"line": line, "character": col}}});
    ed.send_raw(&m.to_string());
    let seen = until(&mut ed, |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u
    });
    let hover_at = seen.iter().position(|m| m["id"] == json!(id));
    assert!(
        hover_at.is_some(),
        "the hover is answered before the diagnostics: {:?}",
        seen.iter().map(|m| m["method"].clone()).collect::<Vec<_>>()
    );
    // The check found nothing wrong in the long buffer.
    let diags = seen.last().unwrap()["params"]["diagnostics"].clone();
    assert_eq!(diags, json!([]), "{diags}");
    assert_eq!(ed.stop(), 0);
}

#[test]
fn a_newer_edit_cancels_the_older_check_and_only_its_own_result_is_published() {
    let (_dir, file) = mappings();
    let base = std::fs::read_to_string(&file).unwrap();
    let u = uri(&file);
    let mut ed = Editor::start();
    // Version 1 is long and clean; version 2, sent while 1 is being checked, has a typo.
    ed.open(&u, &long_buffer(&base, 4000));
    let bad = format!("{base}\nstroeCode = store_code\n");
    ed.change(&u, 2, &bad);
    let m = ed
        .wait_for(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u);
    assert_eq!(m["params"]["version"], 2, "no result of version 1: {m}");
    let diags = m["params"]["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["code"] == "bondmap::unknown_field"),
        "{diags:?}"
    );
    // Hover reads the analysis of version 2.
    let h = ed.at("textDocument/hover", &u, pos(&bad, "store_code\n", 1));
    assert!(h.get("error").is_none(), "{h}");
    assert_eq!(ed.stop(), 0);
}

/// A frame the server refuses (too long a header, a length over 16 MiB whether or not
/// the body follows), then a request: the refusal is a parse error, the request answered.
#[test]
fn hostile_frames_are_refused_and_the_next_request_is_answered() {
    let mut ed = Editor::start();
    let huge_line = format!("X-Pad: {}\r\n", "x".repeat(20 << 20));
    let big_body = "y".repeat(17 << 20);
    let hostile: Vec<Vec<u8>> = vec![
        b"Content-Length: 100000000000\r\n\r\n".to_vec(),
        b"Content-Length: 4000000000\r\n\r\n".to_vec(),
        huge_line.into_bytes(),
        format!("Content-Length: {}\r\n\r\n{big_body}", big_body.len()).into_bytes(),
        b"Content-Length: nine\r\n\r\n{}".to_vec(),
        b"not a header at all\r\n".to_vec(),
    ];
    for (i, h) in hostile.iter().enumerate() {
        ed.stdin.write_all(h).unwrap();
        ed.next_id += 1;
        let id = ed.next_id;
        let m = json!({"jsonrpc": "2.0", "id": id, "method": "no/such/method", "params": {}});
        ed.send_raw(&m.to_string());
        let seen = until(&mut ed, |m| m["id"] == json!(id));
        let (answer, before) = seen.split_last().unwrap();
        assert_eq!(answer["error"]["code"], -32601, "frame {i}: {answer}");
        // The refusal: one parse error, of no request.
        assert_eq!(before.len(), 1, "frame {i}: {before:?}");
        assert_eq!(before[0]["error"]["code"], -32700, "frame {i}: {before:?}");
        assert_eq!(before[0]["id"], Value::Null);
    }
    assert_eq!(ed.stop(), 0);
}

/// Everything at once, then the end of input (as `bondmap lsp < file`): every answer up to
/// `shutdown` is written before the process ends at `exit`.
#[test]
fn the_answers_before_exit_are_all_written() {
    let frame = |v: Value| {
        let b = v.to_string();
        format!("Content-Length: {}\r\n\r\n{b}", b.len())
    };
    let mut input = frame(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"capabilities": {}, "processId": null}}));
    input.push_str("Content-Length: 100000000000\r\n\r\n");
    for id in 2..40 {
        input.push_str(&frame(
            json!({"jsonrpc": "2.0", "id": id, "method": "no/such/method", "params": {}}),
        ));
    }
    input.push_str(&frame(
        json!({"jsonrpc": "2.0", "id": 40, "method": "shutdown"}),
    ));
    input.push_str(&frame(json!({"jsonrpc": "2.0", "method": "exit"})));
    let mut child = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for id in 1..=40 {
        assert!(
            text.contains(&format!("\"id\":{id},")),
            "answer {id} in {text}"
        );
    }
    assert!(text.contains("a frame of 100000000000 bytes"), "{text}");
}

/// Issue 23: in a warehouse file, the lets and loop items of the base it `use`s, and its
/// params, answer hover, definition and completion.
#[test]
fn hover_definition_and_completion_follow_the_use() {
    let (dir, file) = mappings();
    let base = dir.path().join("mappings/cainiao/bonded_whs.map");
    let base_text = std::fs::read_to_string(&base).unwrap();
    let text = "use \"../cainiao/bonded_whs.map\"\n\nparam store_code = \"GZ_NANSHA_01\"\nparam owner_user_id = \"2200000000001\"\n\ntable goods from \"hangzhou_xiasha_goods.csv\" key barcode {\n  item_id: string\n  consumption_tax_rate: decimal\n}\n\nreceiverInfo {\n  name = receiver.receiverName\n}\n\norderItemList {\n  itemQuantity = good.quantity\n}\n";
    let u = uri(&file);
    let mut ed = Editor::start();
    ed.open(&u, text);
    let d = ed.diagnostics(&u);
    assert!(d.is_empty(), "the override checks: {d:?}");
    let hover = |ed: &mut Editor, at| {
        let h = ed.at("textDocument/hover", &u, at);
        h["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // `receiver`, a let of the base, and a field read through it.
    let v = hover(&mut ed, pos(text, "receiver.", 2));
    assert!(
        v.contains("`receiver` let = `$.receiver.receiverInfos[0]`")
            && v.contains("bonded_whs.map"),
        "{v}"
    );
    let v = hover(&mut ed, pos(text, "receiverName", 3));
    assert!(v.contains("receiverName"), "{v}");
    // `good`, a loop item of the base's `orderItemList`, inside this file's override.
    let v = hover(&mut ed, pos(text, "good.", 1));
    assert!(
        v.contains("`good` loop item in `sku.skuDetailList[*]`"),
        "{v}"
    );
    let v = hover(&mut ed, pos(text, "quantity", 2));
    assert!(v.contains("quantity"), "{v}");
    // Definition: where the base declares them.
    let base_uri = uri(&base);
    for (needle, decl) in [("receiver.", "let receiver"), ("good.", "good in sku")] {
        let r = ed.at("textDocument/definition", &u, pos(text, needle, 1));
        assert_eq!(r["result"]["uri"], base_uri.as_str(), "{needle}: {r}");
        assert_eq!(
            r["result"]["range"]["start"]["line"],
            pos(&base_text, decl, 0).0,
            "{needle}: {r}"
        );
    }
    // A param: where it is declared (the base) and where it is set (this file).
    let r = ed.at("textDocument/definition", &u, pos(text, "store_code", 1));
    let locs = r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("two places: {r}"));
    let uris: Vec<&str> = locs.iter().map(|l| l["uri"].as_str().unwrap()).collect();
    assert_eq!(uris, [base_uri.as_str(), u.as_str()], "{r}");
    assert_eq!(
        locs[0]["range"]["start"]["line"],
        pos(&base_text, "param store_code", 0).0
    );
    assert_eq!(locs[1]["range"]["start"]["line"], 2);
    // Completion inside the override offers the base loop's items and lets.
    let c = ed.at("textDocument/completion", &u, pos(text, "good.quantity", 0));
    let labels: Vec<&str> = c["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    for want in ["good", "sku", "qty", "receiver"] {
        assert!(labels.contains(&want), "{want}: {labels:?}");
    }
    assert_eq!(ed.stop(), 0);
}
