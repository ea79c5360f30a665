//! `bondmap test` as an integrator runs it, on a temporary copy of mappings/, examples/ and
//! snapshots/: unchanged, a new example, a changed mapping, accepted, a mapping that does
//! not check; and `map --pretty`.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A copy of the repo's mappings, example orders and reviewed snapshots.
fn repo_copy() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for d in ["mappings", "examples/orders", "snapshots/mappings"] {
        common::copy_dir(&root().join(d), &t.path().join(d));
    }
    t
}

fn bondmap_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The last line of stdout, which CI reads.
fn summary(o: &Output) -> String {
    text(&o.stdout).lines().last().unwrap_or("").to_string()
}

/// The files a run tests: each warehouse mapping and the routes file.
fn tested(dir: &Path) -> usize {
    files(&dir.join("mappings/warehouses"), "map").len()
        + usize::from(dir.join("mappings/routes.map").exists())
}

/// Cases of a full run: each tested file × each example order.
fn cases(dir: &Path) -> usize {
    tested(dir) * files(&dir.join("examples/orders"), "json").len()
}

fn edit(path: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(s.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, s.replace(from, to)).unwrap();
}

fn snap(dir: &Path, name: &str) -> PathBuf {
    dir.join("snapshots/mappings").join(format!("{name}.snap"))
}

#[test]
fn an_unchanged_repo_passes() {
    let t = repo_copy();
    let o = bondmap_in(t.path(), &["test"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert_eq!(summary(&o), format!("{} passed, 0 failed", cases(t.path())));
    let out = text(&o.stdout);
    // The base files and the message mapping are named as skipped, with why.
    assert!(
        out.contains("skipped: mappings/cainiao/bonded_whs.map: a base mapping"),
        "{out}"
    );
    assert!(
        out.contains("skipped: mappings/red/order_deliver.map: its source is"),
        "{out}"
    );
    // Nothing was written.
    let pending: Vec<_> = std::fs::read_dir(t.path().join("snapshots/mappings"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".snap.new"))
        .collect();
    assert!(pending.is_empty());
}

#[test]
fn a_new_example_fails_as_new_until_accepted() {
    let t = repo_copy();
    let dir = t.path();
    std::fs::copy(
        dir.join("examples/orders/02_several_skus_discounts_wechat.json"),
        dir.join("examples/orders/99_new_order.json"),
    )
    .unwrap();
    let n = cases(dir);
    let o = bondmap_in(dir, &["test"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "new: mappings/warehouses/hangzhou_xiasha.map × examples/orders/99_new_order.json"
        ),
        "{out}"
    );
    let m = tested(dir);
    assert_eq!(summary(&o), format!("{} passed, {m} failed", n - m));
    let s = snap(dir, "hangzhou_xiasha__99_new_order");
    assert!(!s.exists(), "a plain run must not store a snapshot");
    // Left pending, for --review, --accept or `cargo insta review`: insta reads it.
    let pending = insta::Snapshot::from_file(&s.with_extension("snap.new")).unwrap();
    assert_eq!(
        pending.metadata().source(),
        Some("mappings/warehouses/hangzhou_xiasha.map")
    );
    assert_eq!(
        pending.metadata().input_file(),
        Some("examples/orders/99_new_order.json")
    );

    let o = bondmap_in(dir, &["test", "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert_eq!(summary(&o), format!("{n} passed, 0 failed"));
    let stored = std::fs::read_to_string(&s).unwrap();
    assert!(
        stored.starts_with(
            "---\nsource: mappings/warehouses/hangzhou_xiasha.map\ninput_file: examples/orders/99_new_order.json\n---\n{\n"
        ),
        "{stored}"
    );
    // insta reads the same body.
    let read = insta::Snapshot::from_file(&s).unwrap();
    assert_eq!(
        read.as_text().unwrap().to_string(),
        bondmap::snapshot::file::body_of(&stored)
    );
    // The same body as the example it was copied from.
    let twin = std::fs::read_to_string(snap(
        dir,
        "hangzhou_xiasha__02_several_skus_discounts_wechat",
    ))
    .unwrap();
    assert_eq!(
        bondmap::snapshot::file::body_of(&stored),
        bondmap::snapshot::file::body_of(&twin)
    );
    assert!(!s.with_extension("snap.new").exists());

    let o = bondmap_in(dir, &["test"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert_eq!(summary(&o), format!("{n} passed, 0 failed"));
}

#[test]
fn a_changed_param_fails_naming_each_field_old_to_new_until_accepted() {
    let t = repo_copy();
    let dir = t.path();
    edit(
        &dir.join("mappings/warehouses/ningbo_meishan.map"),
        "param owner_user_id = \"",
        "param owner_user_id = \"9",
    );
    let n = cases(dir);
    let o = bondmap_in(dir, &["test"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let head = "changed: mappings/warehouses/ningbo_meishan.map × examples/orders/01_single_sku_alipay.json";
    let at = out.find(head).unwrap_or_else(|| panic!("{out}"));
    let next = out[at..].lines().nth(1).unwrap();
    assert!(
        next.starts_with("  ownerUserId: \"") && next.contains("\" → \"9"),
        "{next}"
    );
    // Rejected orders do not show the owner: their snapshots still pass. Every accepted
    // order fails through ningbo_meishan.map, and again through the routes file when it
    // routes the order there.
    let accepted = files(&dir.join("examples/orders"), "json")
        .iter()
        .filter(|p| !p.to_string_lossy().contains("reject"))
        .count();
    let through = |m: &str| out.matches(&format!("changed: mappings/{m} ×")).count();
    assert_eq!(through("warehouses/ningbo_meishan.map"), accepted, "{out}");
    let failed = accepted + through("routes.map");
    assert_eq!(
        summary(&o),
        format!("{} passed, {failed} failed", n - failed)
    );
    assert!(!out.contains("changed: mappings/warehouses/hangzhou_xiasha.map"));

    let o = bondmap_in(dir, &["test", "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = bondmap_in(dir, &["test"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert_eq!(summary(&o), format!("{n} passed, 0 failed"));
}

#[test]
fn a_changed_amount_is_named_by_its_path() {
    let t = repo_copy();
    let dir = t.path();
    // The goods table's consumption tax rate of one cosmetic changes: the split of its tax
    // moves, on the item and in the order's sums.
    edit(
        &dir.join("mappings/warehouses/hangzhou_xiasha_goods.csv"),
        "ANS-GOLD-60,678901234502,0.15,",
        "ANS-GOLD-60,678901234502,0.10,",
    );
    let o = bondmap_in(dir, &["test"]);
    let out = text(&o.stdout);
    if o.status.code() == Some(2) {
        panic!("the edit does not check: {}", text(&o.stderr));
    }
    assert_eq!(o.status.code(), Some(1), "{out}");
    let line = |path: &str| {
        out.lines()
            .find(|l| l.starts_with(path))
            .unwrap_or_else(|| panic!("no `{path}` line in {out}"))
            .to_string()
    };
    for path in [
        "  orderAmountInfo.consumptionTax: ",
        "  orderAmountInfo.vat: ",
    ] {
        let l = line(path);
        let (old, new) = l[path.len()..].split_once(" → ").unwrap();
        let (old, new): (i64, i64) = (old.parse().unwrap(), new.parse().unwrap());
        assert_ne!(old, new, "{l}");
    }
    assert!(out.contains("].declareInfo.consumptionTax: "), "{out}");
    // The total tax does not move: only its split does.
    assert!(!out.contains("orderAmountInfo.totalTax"), "{out}");
}

#[test]
fn a_changed_rejection_shows_the_old_and_new_message() {
    let t = repo_copy();
    let dir = t.path();
    edit(
        &dir.join("mappings/cainiao/bonded_whs.map"),
        "receiver address changed (matched=false)",
        "the receiver's address changed (matched=false)",
    );
    let o = bondmap_in(dir, &["test"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("  rejected message changed:"), "{out}");
    assert!(
        out.contains("    old: order P78811223300000012: rejected: receiver address changed"),
        "{out}"
    );
    assert!(
        out.contains("    new: order P78811223300000012: rejected: the receiver's address changed"),
        "{out}"
    );
    // Both warehouses use the base file, and the routes file reaches it through one.
    for m in [
        "warehouses/hangzhou_xiasha.map",
        "warehouses/ningbo_meishan.map",
        "routes.map",
    ] {
        let head =
            format!("changed: mappings/{m} × examples/orders/12_reject_address_changed.json");
        assert!(out.contains(&head), "{out}");
    }
    assert!(summary(&o).ends_with(" passed, 3 failed"), "{out}");
}

#[test]
fn a_mapping_that_does_not_check_stops_the_run_as_check_reports_it() {
    let t = repo_copy();
    let dir = t.path();
    std::fs::write(
        dir.join("mappings/warehouses/broken.map"),
        "use \"../cainiao/bonded_whs.map\"\nparam store_code = \"X\"\nparam owner_user_id = \"1\"\nstorCode = \"X\"\n",
    )
    .unwrap();
    let o = bondmap_in(dir, &["test"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bondmap::unknown_field"), "{err}");
    assert!(err.contains("broken.map"), "{err}");
    assert!(!text(&o.stdout).contains(" passed, "));
}

#[test]
fn a_mistake_in_the_base_file_shows_once_not_per_file_that_uses_it() {
    let t = repo_copy();
    let dir = t.path();
    edit(
        &dir.join("mappings/cainiao/bonded_whs.map"),
        "\norderType ",
        "\nordrType ",
    );
    let o = bondmap_in(dir, &["test"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.matches("the target has no field `ordrType`").count(),
        1,
        "{err}"
    );
    // Reported as a mistake, without the base file's unset params around it.
    assert!(!err.contains("bondmap::unset_param"), "{err}");
}

#[test]
fn review_needs_a_terminal() {
    let t = repo_copy();
    let o = bondmap_in(t.path(), &["test", "--review"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not one"), "{}", text(&o.stderr));
}

#[test]
fn other_folders_are_given_by_flags() {
    let t = repo_copy();
    let elsewhere = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(["test", "--mappings"])
        .arg(t.path().join("mappings"))
        .arg("--examples")
        .arg(t.path().join("examples/orders"))
        .arg("--snapshots")
        .arg(t.path().join("snapshots"))
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert_eq!(summary(&o), format!("{} passed, 0 failed", cases(t.path())));
    let o = bondmap_in(elsewhere.path(), &["test"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("cannot read mappings"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn map_pretty_indents_the_same_request() {
    let args = [
        "map",
        "--mapping",
        "mappings/warehouses/hangzhou_xiasha.map",
        "--input",
        "examples/orders/01_single_sku_alipay.json",
    ];
    let plain = bondmap_in(&root(), &args);
    let mut with = args.to_vec();
    with.push("--pretty");
    let pretty = bondmap_in(&root(), &with);
    assert_eq!(pretty.status.code(), Some(0), "{}", text(&pretty.stderr));
    let (p, q) = (text(&plain.stdout), text(&pretty.stdout));
    assert!(q.starts_with("{\n  \"ownerUserId\": "), "{q}");
    let a: serde_json::Value = serde_json::from_str(&p).unwrap();
    let b: serde_json::Value = serde_json::from_str(&q).unwrap();
    assert_eq!(a, b);
    // What `bondmap test` stores is this output.
    let stored = std::fs::read_to_string(
        root().join("snapshots/mappings/hangzhou_xiasha__01_single_sku_alipay.snap"),
    )
    .unwrap();
    assert_eq!(bondmap::snapshot::file::body_of(&stored), q.trim_end());
}

#[test]
fn the_routes_file_is_tested_order_by_order() {
    let t = repo_copy();
    let dir = t.path();
    let routes = dir.join("mappings/routes.map");
    assert!(
        routes.exists(),
        "mappings/routes.map is gone: this test covers it"
    );
    // The shop's HZXS stock moves to the Meishan warehouse.
    edit(
        &routes,
        "route \"warehouses/hangzhou_xiasha.map\" when",
        "route \"warehouses/ningbo_meishan.map\" when",
    );
    let o = bondmap_in(dir, &["test"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let head = "changed: mappings/routes.map × examples/orders/01_single_sku_alipay.json";
    let at = out.find(head).unwrap_or_else(|| panic!("{out}"));
    let block: Vec<&str> = out[at..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(
        block.contains(&"  storeCode: \"HZ_XIASHA_01\" → \"NB_MEISHAN_02\""),
        "{block:?}"
    );
    // The warehouse mappings themselves did not change.
    assert!(!out.contains("changed: mappings/warehouses/"), "{out}");
    accept_then_pass(dir);
    // What the route gives is what the warehouse mapping gives.
    let via = std::fs::read_to_string(snap(dir, "routes__01_single_sku_alipay")).unwrap();
    let direct =
        std::fs::read_to_string(snap(dir, "ningbo_meishan__01_single_sku_alipay")).unwrap();
    assert_eq!(
        bondmap::snapshot::file::body_of(&via),
        bondmap::snapshot::file::body_of(&direct)
    );
}

/// An order no route takes is stored as `SKIPPED` and its reason.
#[test]
fn an_order_no_route_takes_is_stored_as_skipped() {
    let t = repo_copy();
    let dir = t.path();
    edit(
        &dir.join("examples/orders/05_landline_phone.json"),
        "\"whcode\": \"HZXS\"",
        "\"whcode\": \"SZ99\"",
    );
    let o = bondmap_in(dir, &["test"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("changed: mappings/routes.map × examples/orders/05_landline_phone.json"),
        "{out}"
    );
    assert!(
        out.contains("  was mapped to a request, now skipped:\n    new: no route takes it: "),
        "{out}"
    );
    assert!(out.contains("SZ99"), "{out}");
    // A warehouse mapping does not read whcode: its snapshot passes.
    assert!(
        !out.contains("changed: mappings/warehouses/hangzhou_xiasha.map × examples/orders/05"),
        "{out}"
    );
}

fn accept_then_pass(dir: &Path) {
    let o = bondmap_in(dir, &["test", "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = bondmap_in(dir, &["test"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert_eq!(summary(&o), format!("{} passed, 0 failed", cases(dir)));
}

/// `--review` on a real terminal (a pseudo-terminal made by util-linux `script`): yes to
/// the first change, no to the second, quit at the third; the rest are not asked about.
#[cfg(target_os = "linux")]
#[test]
fn review_asks_per_change_on_a_terminal() {
    use std::io::Write;
    let t = repo_copy();
    let dir = t.path();
    std::fs::copy(
        dir.join("examples/orders/01_single_sku_alipay.json"),
        dir.join("examples/orders/98_review.json"),
    )
    .unwrap();
    // Three more changes after the quit: never asked about.
    std::fs::copy(
        dir.join("examples/orders/02_several_skus_discounts_wechat.json"),
        dir.join("examples/orders/99_after_quit.json"),
    )
    .unwrap();
    let cmd = format!("{} test --review", env!("CARGO_BIN_EXE_bondmap"));
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` makes the terminal for this test");
    child.stdin.take().unwrap().write_all(b"y\nn\nq\n").unwrap();
    let o = child.wait_with_output().unwrap();
    let out = text(&o.stdout).replace('\r', "");
    // Files are tested in path order (routes.map, then the warehouses), each over the
    // examples in name order.
    let (first, second, third) = (
        snap(dir, "routes__98_review"),
        snap(dir, "routes__99_after_quit"),
        snap(dir, "hangzhou_xiasha__98_review"),
    );
    assert!(first.exists(), "{out}");
    assert!(
        !second.exists() && second.with_extension("snap.new").exists(),
        "{out}"
    );
    assert!(
        !third.exists() && third.with_extension("snap.new").exists(),
        "{out}"
    );
    // A new snapshot is shown field by field before the question; personal data is not.
    assert!(
        out.contains("  externalOrderCode: \"P78811223300000001\""),
        "{out}"
    );
    assert!(
        out.contains("  receiverInfo.name: (personal data)"),
        "{out}"
    );
    assert_eq!(out.matches("[y]es / [n]o / [q]uit").count(), 3, "{out}");
    let last = out.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(snap(dir, "ningbo_meishan__99_after_quit")
        .with_extension("snap.new")
        .exists());
    assert_eq!(last, format!("{} passed, 5 failed", cases(dir) - 5));
}

#[test]
fn a_removed_example_leaves_its_snapshots_unused_until_accepted() {
    let t = repo_copy();
    let dir = t.path();
    std::fs::remove_file(dir.join("examples/orders/05_landline_phone.json")).unwrap();
    let o = bondmap_in(dir, &["test"]);
    let out = text(&o.stdout);
    // Nothing the mappings give changed: it passes, and says what is left over.
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("unused: snapshots/mappings/hangzhou_xiasha__05_landline_phone.snap"),
        "{out}"
    );
    // A snapshot of a file that is not tested (a base mapping's) is not ours to judge.
    assert!(!out.contains("bonded_whs__compile"), "{out}");
    let o = bondmap_in(dir, &["test", "--accept"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!snap(dir, "hangzhou_xiasha__05_landline_phone").exists());
    assert!(snap(dir, "bonded_whs__compile").exists());
    let o = bondmap_in(dir, &["test"]);
    assert!(!text(&o.stdout).contains("unused:"), "{}", text(&o.stdout));
}

#[test]
fn a_mapping_of_another_message_is_tested_over_the_examples_declared_for_it() {
    let t = repo_copy();
    let dir = t.path();
    common::copy_dir(
        &root().join("examples/notices"),
        &dir.join("examples/notices"),
    );
    let flag = "mappings/red/order_deliver.map=examples/notices";
    let notices = files(&dir.join("examples/notices"), "json").len();
    let o = bondmap_in(dir, &["test", "--examples-for", flag]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        !out.contains("skipped: mappings/red/order_deliver.map"),
        "{out}"
    );
    assert!(
        out.contains("new: mappings/red/order_deliver.map × examples/notices/01_zto_hangzhou.json"),
        "{out}"
    );
    assert_eq!(
        summary(&o),
        format!("{} passed, {notices} failed", cases(dir))
    );
    let o = bondmap_in(dir, &["test", "--examples-for", flag, "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // The unknown carrier is stored as the rejection it is.
    let body = std::fs::read_to_string(snap(dir, "order_deliver__03_unknown_carrier")).unwrap();
    assert!(
        bondmap::snapshot::file::body_of(&body).starts_with("REJECTED\n"),
        "{body}"
    );
    let o = bondmap_in(dir, &["test", "--examples-for", flag]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // A declaration that names no mapping is a mistake, not a silent no-op.
    let o = bondmap_in(
        dir,
        &[
            "test",
            "--examples-for",
            "mappings/red/order_delivr.map=examples/notices",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("order_delivr.map, which is not a .map file under mappings"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_warehouse_file_that_forgets_a_param_stops_the_run_as_check_does() {
    let t = repo_copy();
    let dir = t.path();
    std::fs::write(
        dir.join("mappings/warehouses/shenzhen.map"),
        "use \"../cainiao/bonded_whs.map\"\nparam store_code = \"SZ01\"\n",
    )
    .unwrap();
    let o = bondmap_in(dir, &["test"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    assert!(err.contains("bondmap::unset_param"), "{err}");
    assert!(err.contains("param `owner_user_id` has no value"), "{err}");
    // The base file itself stays a base, named with the files that use it.
    std::fs::write(
        dir.join("mappings/warehouses/shenzhen.map"),
        "use \"../cainiao/bonded_whs.map\"\nparam store_code = \"SZ01\"\nparam owner_user_id = \"1\"\n",
    )
    .unwrap();
    let o = bondmap_in(dir, &["test", "--accept"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("tested through hangzhou_xiasha.map, ningbo_meishan.map, shenzhen.map"),
        "{out}"
    );
    assert!(snap(dir, "shenzhen__01_single_sku_alipay").exists());
}
