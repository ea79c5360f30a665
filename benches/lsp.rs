//! The language server while it checks a long buffer: `bondmap lsp` (a child process,
//! the binary of the profile built, or `BONDMAP_BINARY`) opens a warehouse mapping of
//! LINES free-key lines, then is asked hover, completion and definition in turn every
//! 20 ms until the buffer's diagnostics arrive; then the same after an edit of the whole
//! buffer. Prints how long the check took and each kind of answer's latency (min,
//! median, 95th percentile, max), and that the first diagnostics after the edit were of
//! the edit's version.
//!
//! `cargo bench --bench lsp -- [LINES]`, default 200000 (a buffer of 5 MB, under the 8 MiB
//! a mapping may have; 2,000 under `cargo test`).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

struct Server {
    stdin: ChildStdin,
    rx: Receiver<(Instant, Value)>,
    next: i64,
}

impl Server {
    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }
    fn request(&mut self, method: &str, params: Value) -> i64 {
        self.next += 1;
        let id = self.next;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }
    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }
}

fn reader(out: impl Read + Send + 'static) -> Receiver<(Instant, Value)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = BufReader::new(out);
        loop {
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
            let mut body = vec![0; len.unwrap_or(0)];
            if out.read_exact(&mut body).is_err() {
                return;
            }
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if tx.send((Instant::now(), v)).is_err() {
                return;
            }
        }
    });
    rx
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(name: &str, mut v: Vec<Duration>) {
    if v.is_empty() {
        println!("  {name:<11} no answer before the diagnostics");
        return;
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    println!(
        "  {name:<11} {:>4} answers: min {:7.2} ms, median {:7.2} ms, p95 {:7.2} ms, max {:7.2} ms",
        v.len(),
        millis(v[0]),
        millis(at(0.5)),
        millis(at(0.95)),
        millis(v[v.len() - 1])
    );
}

/// Asks hover, completion and definition in turn every 20 ms until the diagnostics of
/// `uri` arrive; their latencies by kind, and the diagnostics message.
fn ask_until_diagnostics(
    s: &mut Server,
    uri: &str,
    at: (usize, usize),
) -> (Vec<Vec<Duration>>, Value) {
    let kinds = [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
    ];
    let mut sent: Vec<(i64, usize, Instant)> = Vec::new();
    let mut got: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    let mut k = 0;
    loop {
        let params = json!({"textDocument": {"uri": uri},
            "position": {"line": at.0, "character": at.1}});
        let t = Instant::now();
        let id = s.request(kinds[k % kinds.len()], params);
        sent.push((id, k % kinds.len(), t));
        k += 1;
        let until = Instant::now() + Duration::from_millis(20);
        while let Ok((when, m)) =
            s.rx.recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return (got, m);
            }
            if let Some(i) = m["id"].as_i64() {
                if let Some((_, kind, t)) = sent.iter().find(|(x, _, _)| *x == i) {
                    got[*kind].push(when - *t);
                }
            }
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; without it (`cargo test --all-targets` runs this
    // too) a small buffer checks that the bench still works.
    let bench = std::env::args().any(|a| a == "--bench");
    let lines: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(if bench { 200_000 } else { 2_000 });
    let binary = std::env::var("BONDMAP_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_bondmap")));
    let dir = tempfile::tempdir().expect("tempdir");
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings"),
        &dir.path().join("mappings"),
    );
    let file = dir.path().join("mappings/warehouses/hangzhou_xiasha.map");
    let base = std::fs::read_to_string(&file).expect("the warehouse");
    let uri = format!("file://{}", file.canonicalize().expect("path").display());
    let head = format!("{base}\nstoreCode = store_code\n");
    let buffer = |v: &str| {
        let mut t = head.clone();
        for i in 0..lines {
            t.push_str(&format!("extendFields.k{i} = \"{v}\"\n"));
        }
        t
    };
    // On `storeCode` (hover: its contract), a line that exists in every version.
    let at = (base.matches('\n').count() + 1, 2);

    let mut child = Command::new(&binary)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bondmap lsp");
    let mut s = Server {
        stdin: child.stdin.take().expect("stdin"),
        rx: reader(child.stdout.take().expect("stdout")),
        next: 0,
    };
    s.request("initialize", json!({"capabilities": {}, "processId": null}));
    s.notify("initialized", json!({}));
    println!(
        "{} lsp, a buffer of {lines} lines ({:.1} MB)",
        binary.display(),
        buffer("v").len() as f64 / 1e6
    );

    let start = Instant::now();
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "bondmap", "version": 1, "text": buffer("v")}}),
    );
    let (got, m) = ask_until_diagnostics(&mut s, &uri, at);
    println!(
        "open: diagnostics after {:.2} s ({} of them)",
        start.elapsed().as_secs_f64(),
        m["params"]["diagnostics"].as_array().map_or(0, Vec::len)
    );
    for (name, v) in ["hover", "completion", "definition"].iter().zip(got) {
        summary(name, v);
    }

    let start = Instant::now();
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": buffer("w")}]}),
    );
    let (got, m) = ask_until_diagnostics(&mut s, &uri, at);
    println!(
        "edit: diagnostics after {:.2} s, of version {}",
        start.elapsed().as_secs_f64(),
        m["params"]["version"]
    );
    for (name, v) in ["hover", "completion", "definition"].iter().zip(got) {
        summary(name, v);
    }
    let _ = child.kill();
    let _ = child.wait();
}
