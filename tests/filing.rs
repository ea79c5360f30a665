//! The goods' customs filings synced to RED (issue 25 §5), through the binary against the
//! local RED API: a dry run sends nothing, a push sends every filed row once and a second
//! push nothing, a changed row alone goes again, an HS code that is not 10 digits stops
//! the push before anything is sent (naming the row), and `check` finds such rows too;
//! `filing show` reads back; both run on the tokens the state keeps.

mod common;

use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use common::*;
use std::path::Path;
use std::process::Output;

const APP: &str = "filing-app";
const SECRET: &str = "red-SECRET-61";
const TOKEN: &str = "tok-SECRET-62";

fn red() -> RedSimHandle {
    bondmap::red::sim::spawn(
        0,
        RedSimOptions {
            app_id: APP.into(),
            app_secret: SECRET.into(),
            access_token: TOKEN.into(),
            ..RedSimOptions::default()
        },
    )
    .unwrap()
}

fn run(red: &RedSimHandle, args: &[&str]) -> Output {
    run_with(red, args, &[])
}

/// `bondmap ARGS` against `red`, with the variables `env` besides the app's.
fn run_with(red: &RedSimHandle, args: &[&str], env: &[(&str, &str)]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(root())
        .env("RED_APP_ID", APP)
        .env("RED_APP_SECRET", SECRET)
        .env("RED_ACCESS_TOKEN", TOKEN)
        .env("RED_API_URL", red.url())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn push(red: &RedSimHandle, db: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "filing",
        "push",
        "--mapping",
        "mappings/filing/hangzhou_xiasha_filing.map",
        "--state",
        db.to_str().unwrap(),
    ];
    args.extend(extra);
    run(red, &args)
}

/// The shipped goods table with two rows RED would refuse: an HS code with a space in it,
/// one of 9 digits.
fn bad_goods() -> String {
    std::fs::read_to_string(warehouses().join("hangzhou_xiasha_goods.csv"))
        .unwrap()
        .replace(",1901101000,", ",1901 101000,")
        .replace(",2202999990,", ",220299999,")
}

/// Both rows of [`bad_goods`] named, each with its reason.
fn assert_names_both_rows(e: &str) {
    assert!(
        e.contains("barcode 6901234567892: ") && e.contains("has a space in it"),
        "{e}"
    );
    assert!(
        e.contains("barcode 4897036690519: ") && e.contains("not 10 digits"),
        "{e}"
    );
}

/// Rows of the shipped Hangzhou goods table, and those with an HS code.
fn rows() -> (usize, usize) {
    let mut r = csv::Reader::from_path(warehouses().join("hangzhou_xiasha_goods.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let hs = h.iter().position(|c| c == "hs_code").unwrap();
    let recs: Vec<_> = r.records().map(Result::unwrap).collect();
    let filed = recs.iter().filter(|r| !r[hs].trim().is_empty()).count();
    (recs.len(), filed)
}

#[test]
fn a_dry_run_sends_nothing_a_push_sends_each_row_once_and_only_changes_go_again() {
    let red = red();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (all, filed) = rows();
    // Dry run: every filed row listed, by barcode; nothing sent, no state made.
    let o = push(&red, &db, &["--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("would send: "))
            .count(),
        filed
    );
    assert!(out.contains("would send: 6901234567892 (new at hz_custom): {\"barcode\":\"6901234567892\",\"hs_code\":\"1901101000\",\"port_code\":\"hz_custom\",\"quantity1\":0.9,\"quantity2\":0}"), "{out}");
    assert!(
        out.contains("not filed: 8710103913245 (no hs_code in the goods table)"),
        "{out}"
    );
    assert_eq!(all - filed, 1);
    assert_eq!(red.total_calls(), 0);
    assert!(!db.exists());
    // Push: each filed row once.
    let o = push(&red, &db, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(red.calls("order.createItemCustomsInfo") as usize, filed);
    let filings = red.filings();
    assert_eq!(filings.len(), filed);
    let a2 = &filings[&("4987176014525".to_string(), "hz_custom".to_string())];
    assert_eq!(a2["hs_code"], "3304990099");
    assert_eq!(
        (a2["quantity1"].to_string(), a2["quantity2"].to_string()),
        ("0.06".into(), "1".into())
    );
    // Again: nothing changed, nothing sent.
    let o = push(&red, &db, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o.stderr).contains(&format!("0 changed, {filed} unchanged, 1 not filed")),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(red.calls("order.createItemCustomsInfo") as usize, filed);
    // One quantity changes in today's export: that row alone goes again.
    let today = dir.path().join("today.csv");
    let t = std::fs::read_to_string(warehouses().join("hangzhou_xiasha_goods.csv")).unwrap();
    std::fs::write(&today, t.replace("035,0.06,011,1,JP", "035,0.07,011,1,JP")).unwrap();
    let table = format!("goods={}", today.display());
    let o = push(&red, &db, &["--table", &table, "--dry-run"]);
    let out = text(&o.stdout);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("would send")).count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("would send: 4987176014525 (changed at hz_custom): quantity1 0.06 → 0.07"),
        "{out}"
    );
    let o = push(&red, &db, &["--table", &table]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(red.calls("order.createItemCustomsInfo") as usize, filed + 1);
    // Read back from RED.
    let o = run(&red, &["filing", "show", "4987176014525"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(
            "4987176014525 at hz_custom: hs_code 3304990099, quantity1 0.07, quantity2 1"
        ),
        "{}",
        text(&o.stdout)
    );
    // The same goods at another port are filings of their own (the base mapping, the port a param).
    let o = run(
        &red,
        &[
            "filing",
            "push",
            "--mapping",
            "mappings/red/item_customs.map",
            "--param",
            "port_code=nb_custom",
            "--state",
            db.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(red.filings().len(), 2 * filed);
}

#[test]
fn an_hs_code_that_is_not_ten_digits_stops_the_push_before_anything_is_sent() {
    let red = red();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, bad_goods()).unwrap();
    let table = format!("goods={}", bad.display());
    for extra in [
        vec!["--table", &table],
        vec!["--table", &table, "--dry-run"],
    ] {
        let o = push(&red, &db, &extra);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
        let e = text(&o.stderr);
        assert_names_both_rows(&e);
        assert!(e.contains("2 row(s) refused: nothing was sent"), "{e}");
        assert!(text(&o.stdout).is_empty());
    }
    assert_eq!(red.total_calls(), 0);
}

#[test]
fn a_push_uses_the_tokens_the_state_keeps_not_the_rotated_configured_ones() {
    // Access tokens that live 2 s with a refresh token: RED rotates the refresh token on
    // each renewal, as it does over a week of `sync`.
    let red = bondmap::red::sim::spawn(
        0,
        RedSimOptions {
            app_id: APP.into(),
            app_secret: SECRET.into(),
            access_token: TOKEN.into(),
            auth: bondmap::red::sim_auth::SimAuthOptions {
                refresh_token: "ref-SECRET-63".into(),
                access_lifetime: Some(std::time::Duration::from_secs(2)),
                ..Default::default()
            },
            ..RedSimOptions::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let with_refresh =
        |args: &[&str]| run_with(&red, args, &[("RED_REFRESH_TOKEN", "ref-SECRET-63")]);
    let db_arg = db.to_str().unwrap();
    let map = "mappings/filing/hangzhou_xiasha_filing.map";
    // The simulator's clock starts at the first call: the configured tokens live from there.
    let o = with_refresh(&["filing", "push", "--mapping", map, "--state", db_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let t = std::fs::read_to_string(warehouses().join("hangzhou_xiasha_goods.csv")).unwrap();
    // Two changes of one row, each pushed once the access token in use has expired: the
    // first renews the configured one (its refresh token is rotated away), the second can
    // only go on the tokens the first kept in the state.
    for (n, q) in ["0.07", "0.08"].into_iter().enumerate() {
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let today = dir.path().join(format!("today{n}.csv"));
        std::fs::write(
            &today,
            t.replace("035,0.06,011,1,JP", &format!("035,{q},011,1,JP")),
        )
        .unwrap();
        let table = format!("goods={}", today.display());
        let o = with_refresh(&[
            "filing",
            "push",
            "--mapping",
            map,
            "--table",
            &table,
            "--state",
            db_arg,
        ]);
        assert_eq!(o.status.code(), Some(0), "{q}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("1 sent, 0 not"),
            "{}",
            text(&o.stderr)
        );
    }
    assert!(red.token_counts().1 >= 2, "{:?}", red.token_counts());
    let o = with_refresh(&["filing", "show", "4987176014525", "--state", db_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("quantity1 0.08"),
        "{}",
        text(&o.stdout)
    );
    // No token printed.
    for t in red.issued_tokens() {
        assert!(!text(&o.stdout).contains(&t) && !text(&o.stderr).contains(&t));
    }
}

#[test]
fn check_runs_a_filing_mapping_over_every_row_of_its_goods_table() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mappings"), &dir.path().join("mappings"));
    let goods = dir
        .path()
        .join("mappings/warehouses/hangzhou_xiasha_goods.csv");
    std::fs::write(&goods, bad_goods()).unwrap();
    let filing = dir.path().join("mappings/filing");
    let o = bondmap(&["check", filing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert_names_both_rows(&e);
    assert_eq!(e.matches(": table `goods`: barcode ").count(), 2, "{e}");
    assert!(e.contains("2 error(s)"), "{e}");
    // As JSON, each with its code.
    let o = bondmap(&["check", "--format", "json", filing.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["bondmap::filing_row", "bondmap::filing_row"]);
    // The shipped table passes.
    let o = bondmap(&["check", "mappings/filing"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
