//! A mapping repository as a hostile pull request leaves it (issue 23): symlinks out of the
//! repo, symlink loops, FIFOs and devices where a `.map` should be, a goods table of tens of
//! megabytes. `check`, `fmt` and `test` must neither read nor write outside the repo, never
//! hang, and read a table in memory proportional to it.

#![cfg(unix)]

mod common;

use common::*;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a command may take before it counts as hung (debug build, shared CI).
const HUNG: Duration = Duration::from_secs(60);

/// A repo copy (mappings, examples, snapshots) in `t/repo`, and `t/outside` beside it:
/// the place a hostile symlink points to.
fn repo() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    for d in ["mappings", "examples/orders", "snapshots/mappings"] {
        common::copy_dir(&root().join(d), &repo.join(d));
    }
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    (t, repo, outside)
}

/// Runs bondmap in `dir`, killed (and the test failed) when it takes longer than [`HUNG`].
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > HUNG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bondmap {args:?} did not end within {HUNG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn all(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

const SECRET: &str = "secret_key = \"hunter2-not-for-your-eyes\"";

fn victim(outside: &Path) -> PathBuf {
    let v = outside.join("victim.toml");
    std::fs::write(&v, format!("[cainiao]\n{SECRET}\n")).unwrap();
    v
}

fn unchanged(v: &Path) {
    assert_eq!(
        std::fs::read_to_string(v).unwrap(),
        format!("[cainiao]\n{SECRET}\n"),
        "the file outside the repo was written"
    );
}

fn snap(repo: &Path, name: &str) -> PathBuf {
    repo.join("snapshots/mappings").join(format!("{name}.snap"))
}

#[test]
fn a_pending_snapshot_symlink_is_not_written_through() {
    let (_t, repo, outside) = repo();
    let v = victim(&outside);
    // A case without a snapshot is new: plain `test` leaves its output as `.snap.new`.
    let s = snap(&repo, "hangzhou_xiasha__01_single_sku_alipay");
    std::fs::remove_file(&s).unwrap();
    symlink(&v, s.with_extension("snap.new")).unwrap();
    let o = run_in(&repo, &["test"]);
    unchanged(&v);
    let out = all(&o);
    assert!(out.contains("symlink"), "the refusal says why: {out}");
    assert_ne!(o.status.code(), Some(0), "{out}");
}

#[test]
fn accept_does_not_write_through_a_snapshot_symlink_nor_show_its_target() {
    let (_t, repo, outside) = repo();
    let v = victim(&outside);
    let s = snap(&repo, "hangzhou_xiasha__01_single_sku_alipay");
    std::fs::remove_file(&s).unwrap();
    symlink(&v, &s).unwrap();
    let o = run_in(&repo, &["test", "--accept"]);
    unchanged(&v);
    let out = all(&o);
    assert!(
        !out.contains("hunter2"),
        "the target's text is shown: {out}"
    );
    assert!(out.contains("symlink"), "the refusal says why: {out}");
    assert_ne!(o.status.code(), Some(0), "{out}");
}

#[test]
fn a_snapshots_folder_that_is_a_symlink_is_not_written_into() {
    let (_t, repo, outside) = repo();
    std::fs::remove_dir_all(repo.join("snapshots")).unwrap();
    symlink(&outside, repo.join("snapshots")).unwrap();
    let o = run_in(&repo, &["test", "--accept"]);
    let out = all(&o);
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "something was created outside the repo: {out}"
    );
    assert!(out.contains("symlink"), "the refusal says why: {out}");
    assert_ne!(o.status.code(), Some(0), "{out}");
}

#[test]
fn a_map_symlink_out_of_the_root_is_neither_read_nor_shown() {
    let (_t, repo, outside) = repo();
    let v = victim(&outside);
    symlink(&v, repo.join("mappings/warehouses/leak.map")).unwrap();
    for args in [&["check", "mappings/"][..], &["check"], &["test"], &["fmt"]] {
        let o = run_in(&repo, args);
        let out = all(&o);
        assert!(!out.contains("hunter2"), "{args:?} shows the target: {out}");
        assert!(
            out.contains("leak.map") && out.contains("outside"),
            "{args:?} says which file and why: {out}"
        );
        assert_ne!(o.status.code(), Some(0), "{args:?}: {out}");
    }
    unchanged(&v);
}

#[test]
fn a_symlink_loop_in_the_mappings_ends_and_each_file_is_read_once() {
    let (_t, repo, _outside) = repo();
    symlink(".", repo.join("mappings/warehouses/again")).unwrap();
    symlink("..", repo.join("mappings/cainiao/up")).unwrap();
    // Counted before the links are followed: the real files of the copy that `check`
    // reads (the .map files and the two customs tables).
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| match p.is_dir() {
                true => count(&p),
                false => usize::from(
                    p.extension().is_some_and(|x| x == "map")
                        || p.ends_with("cainiao/order_status.csv")
                        || p.ends_with("cainiao/customs_reasons.csv"),
                ),
            })
            .sum()
    }
    let real = count(&root().join("mappings"));
    let o = run_in(&repo, &["check", "mappings/"]);
    let out = all(&o);
    assert!(
        out.contains(&format!("checked {real} file(s): 0 error(s)")),
        "each real file once ({real}): {out}"
    );
    assert_eq!(o.status.code(), Some(0), "{out}");
    let o = run_in(&repo, &["test"]);
    let out = all(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn fmt_check_and_test_refuse_a_fifo_and_a_device() {
    let (_t, repo, _outside) = repo();
    let fifo = repo.join("mappings/warehouses/pipe.map");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Given by name, where no walk filters it out first.
    for args in [
        &["fmt", "mappings/warehouses/pipe.map"][..],
        &["fmt", "--check", "mappings/"],
        &["fmt", "/dev/zero"],
        &["check", "mappings/warehouses/pipe.map"],
        &["check", "mappings/"],
        &["test"],
    ] {
        let o = run_in(&repo, args);
        let out = all(&o);
        assert!(
            out.contains("not a regular file"),
            "{args:?} says why: {out}"
        );
        assert_ne!(o.status.code(), Some(0), "{args:?}: {out}");
    }
}

/// The peak resident memory of one run of bondmap (its own, through wait4), in bytes.
fn peak_memory(dir: &Path, args: &[&str]) -> (u64, i32) {
    let child = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child just spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    std::mem::forget(child);
    (usage.ru_maxrss as u64 * 1024, libc::WEXITSTATUS(status))
}

/// A goods table of short rows (the worst case: the most rows per byte).
fn goods_table(path: &Path, bytes: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let head = "barcode,item_id,consumption_tax_rate\n";
    f.write_all(head.as_bytes()).unwrap();
    let (mut size, mut i) = (head.len(), 0u64);
    while size < bytes {
        let line = format!("{},{},0.15\n", 6_900_000_000_000 + i, 678_900_000_000 + i);
        f.write_all(line.as_bytes()).unwrap();
        size += line.len();
        i += 1;
    }
}

#[test]
fn a_goods_table_is_read_in_memory_proportional_to_its_size() {
    let (_t, repo, _outside) = repo();
    let table = repo.join("mappings/warehouses/hangzhou_xiasha_goods.csv");
    let args = ["check", "mappings/warehouses/hangzhou_xiasha.map"];
    goods_table(&table, 1000);
    let (small, code) = peak_memory(&repo, &args);
    assert_eq!(code, 0);
    let size = 24 << 20;
    goods_table(&table, size);
    let (big, code) = peak_memory(&repo, &args);
    assert_eq!(code, 0, "the big table checks");
    let grown = big.saturating_sub(small);
    assert!(
        grown <= 3 * size as u64,
        "a {} MB table took {} MB more than a tiny one ({:.1}× its size)",
        size >> 20,
        grown >> 20,
        grown as f64 / size as f64
    );
}

#[test]
fn an_examples_folder_linked_out_of_the_repo_is_not_read() {
    let (_t, repo, outside) = repo();
    std::fs::write(outside.join("order.json"), "{\"secret_key\": \"hunter2\"}").unwrap();
    std::fs::remove_dir_all(repo.join("examples/orders")).unwrap();
    symlink(&outside, repo.join("examples/orders")).unwrap();
    let o = run_in(&repo, &["test"]);
    let out = all(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("examples/orders is a symlink to a place outside"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
}
