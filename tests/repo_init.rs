//! An integrator's own repo (issue 23): `bondmap init` in a fresh folder outside the
//! bondmap repo, then `check` and `test` green at once; the base set as a dependency
//! (`bondmap.toml`), not a copy; `test` reading `bondmap.toml` for what it tests.

mod common;

use common::text;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bondmap_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn all(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

/// A fresh repo made by `init` in a temporary folder (outside the bondmap repo).
fn fresh(warehouse: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    assert!(
        !t.path().starts_with(env!("CARGO_MANIFEST_DIR")),
        "the test folder must be outside the bondmap repo"
    );
    let o = bondmap_in(t.path(), &["init", "nansha", "--warehouse", warehouse]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    // Every file named from where init ran, the snapshots too.
    let said = text(&o.stdout);
    let wrote: Vec<&str> = said.lines().filter(|l| l.starts_with("wrote ")).collect();
    assert!(wrote.len() >= 10, "{said}");
    assert!(
        wrote.iter().all(|l| l.starts_with("wrote nansha/")),
        "{said}"
    );
    t
}

fn edit(path: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(s.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, s.replace(from, to)).unwrap();
}

#[test]
fn init_then_check_and_test_are_green_in_a_fresh_folder() {
    let t = fresh("guangzhou_nansha");
    let repo = t.path().join("nansha");
    for f in [
        "bondmap.toml",
        "mappings/warehouses/guangzhou_nansha.map",
        "mappings/warehouses/guangzhou_nansha_goods.csv",
        "mappings/routes.map",
        ".github/workflows/bondmap.yml",
        "README.md",
    ] {
        assert!(repo.join(f).is_file(), "{f}");
    }
    assert_eq!(
        common::files(&repo.join("examples/orders"), "json").len(),
        2
    );
    let o = bondmap_in(&repo, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert!(
        all(&o).contains("checked 2 file(s): 0 error(s), 0 warning(s)"),
        "{}",
        all(&o)
    );
    let o = bondmap_in(&repo, &["test"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert_eq!(text(&o.stdout).lines().last(), Some("4 passed, 0 failed"));
    // The CI workflow runs both.
    let ci = std::fs::read_to_string(repo.join(".github/workflows/bondmap.yml")).unwrap();
    assert!(
        ci.contains("bondmap check") && ci.contains("bondmap test"),
        "{ci}"
    );
}

#[test]
fn the_base_is_a_dependency_named_in_bondmap_toml_not_a_copy() {
    let t = fresh("guangzhou_nansha");
    let repo = t.path().join("nansha");
    let mut maps = Vec::new();
    let mut todo = vec![repo.clone()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "map" || x == "json") {
                maps.push(p);
            }
        }
    }
    let names: Vec<String> = maps
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n == "bonded_whs.map" || n.ends_with(".schema.json")),
        "a copy of the base set: {names:?}"
    );
    let wh =
        std::fs::read_to_string(repo.join("mappings/warehouses/guangzhou_nansha.map")).unwrap();
    assert!(wh.contains("use \"base:cainiao/bonded_whs.map\""), "{wh}");
    // A version this bondmap does not carry is refused, saying which it carries.
    edit(
        &repo.join("bondmap.toml"),
        "bundled = \"1\"",
        "bundled = \"99\"",
    );
    let o = bondmap_in(&repo, &["check"]);
    assert_ne!(o.status.code(), Some(0), "{}", all(&o));
    assert!(
        all(&o).contains("carries the bundled base 1"),
        "{}",
        all(&o)
    );
}

#[test]
fn a_base_folder_in_bondmap_toml_is_read_in_place_of_the_bundled_set() {
    let t = fresh("guangzhou_nansha");
    let repo = t.path().join("nansha");
    // A copy of bondmap's mappings kept beside the repo, its base mapping changed.
    let base = t.path().join("bondmap-mappings");
    for d in ["cainiao", "red", "schemas"] {
        std::fs::create_dir_all(base.join(d)).unwrap();
        for f in common::files(&common::root().join("mappings").join(d), "map")
            .into_iter()
            .chain(common::files(
                &common::root().join("mappings").join(d),
                "json",
            ))
        {
            std::fs::copy(&f, base.join(d).join(f.file_name().unwrap())).unwrap();
        }
    }
    edit(
        &base.join("cainiao/bonded_whs.map"),
        "inventory_channel: string = \"非淘ToC\"",
        "inventory_channel: string = \"OTHER\"",
    );
    edit(
        &repo.join("bondmap.toml"),
        "bundled = \"1\"",
        "path = \"../bondmap-mappings\"",
    );
    let o = bondmap_in(&repo, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let o = bondmap_in(&repo, &["test"]);
    let out = all(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("orderItemList[0].inventoryChannel: \"非淘ToC\" → \"OTHER\""),
        "{out}"
    );
}

#[test]
fn test_tests_what_bondmap_toml_lists_and_an_empty_examples_folder_is_nothing_to_test() {
    let t = fresh("guangzhou_nansha");
    let repo = t.path().join("nansha");
    // Only the warehouse file, over a folder of its own that is empty.
    std::fs::create_dir_all(repo.join("examples/none")).unwrap();
    let toml = "[base]\nbundled = \"1\"\n\n[[test.mapping]]\nfile = \"mappings/warehouses/guangzhou_nansha.map\"\nexamples = \"examples/none\"\n";
    std::fs::write(repo.join("bondmap.toml"), toml).unwrap();
    let o = bondmap_in(&repo, &["test"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an empty folder is a mistake unless said: {}",
        all(&o)
    );
    assert!(
        all(&o).contains("no examples (*.json) in examples/none"),
        "{}",
        all(&o)
    );
    std::fs::write(
        repo.join("bondmap.toml"),
        format!("{toml}allow_empty = true\n"),
    )
    .unwrap();
    let o = bondmap_in(&repo, &["test"]);
    let out = all(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("mappings/warehouses/guangzhou_nansha.map: no examples (*.json) in examples/none, nothing to test"),
        "{out}"
    );
    assert!(
        !out.contains("routes"),
        "the routes file is not listed: {out}"
    );
    assert_eq!(text(&o.stdout).lines().last(), Some("0 passed, 0 failed"));
}

#[test]
fn test_root_widens_the_mapping_root_as_check_root_does() {
    // A repo with no bondmap.toml whose warehouse uses a base kept beside it.
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("mappings/warehouses")).unwrap();
    std::fs::create_dir_all(repo.join("examples/orders")).unwrap();
    let wh =
        std::fs::read_to_string(common::root().join("mappings/warehouses/hangzhou_xiasha.map"))
            .unwrap()
            .replace(
                "../cainiao/bonded_whs.map",
                "../../../bondmap/mappings/cainiao/bonded_whs.map",
            );
    std::fs::write(repo.join("mappings/warehouses/hangzhou_xiasha.map"), wh).unwrap();
    std::fs::copy(
        common::root().join("mappings/warehouses/hangzhou_xiasha_goods.csv"),
        repo.join("mappings/warehouses/hangzhou_xiasha_goods.csv"),
    )
    .unwrap();
    std::fs::copy(
        common::root().join("examples/orders/01_single_sku_alipay.json"),
        repo.join("examples/orders/01_single_sku_alipay.json"),
    )
    .unwrap();
    let bondmap = t.path().join("bondmap/mappings");
    for d in ["cainiao", "schemas"] {
        std::fs::create_dir_all(bondmap.join(d)).unwrap();
        for f in common::files(&common::root().join("mappings").join(d), "map")
            .into_iter()
            .chain(common::files(
                &common::root().join("mappings").join(d),
                "json",
            ))
        {
            std::fs::copy(&f, bondmap.join(d).join(f.file_name().unwrap())).unwrap();
        }
    }
    let o = bondmap_in(&repo, &["test"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(all(&o).contains("it is outside the"), "{}", all(&o));
    let o = bondmap_in(&repo, &["test", "--root", "..", "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let o = bondmap_in(&repo, &["test", "--root", ".."]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert_eq!(text(&o.stdout).lines().last(), Some("1 passed, 0 failed"));
}

#[test]
fn init_overwrites_nothing() {
    let t = fresh("guangzhou_nansha");
    let o = bondmap_in(t.path(), &["init", "nansha"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(all(&o).contains("overwrites nothing"), "{}", all(&o));
    let o = bondmap_in(t.path(), &["init", "x", "--warehouse", "Bad Name"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(!t.path().join("x").exists());
}

#[test]
fn sync_reads_the_message_mappings_of_the_base_set() {
    let t = fresh("guangzhou_nansha");
    let repo = t.path().join("nansha");
    // What `sync` takes for its default `--cancel-mapping mappings/cainiao/cancel.map`
    // in this repo, which has no such file: the base set's.
    let cancel = bondmap::repo::message_mapping_in(
        &repo,
        std::path::Path::new("mappings/cainiao/cancel.map"),
    );
    assert!(
        bondmap::repo::bundled::is_bundled(&cancel),
        "{}",
        cancel.display()
    );
    // In bondmap's own repo the file is there and is taken.
    let own = std::path::Path::new("mappings/cainiao/cancel.map");
    assert_eq!(bondmap::repo::message_mapping_in(&common::root(), own), own);
    let (p, _) = bondmap::warehouse::load_for_warehouse(
        &cancel,
        &repo.join("mappings/warehouses/guangzhou_nansha.map"),
        &Default::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let doc = serde_json::json!({"detail": {"orderId": "P1", "orderStatus": 9}});
    let out = bondmap::run::run(&p, &doc)
        .map(|j| j.to_string())
        .unwrap_or_else(|e| e.to_string());
    assert!(
        out.contains("GUANGZHOU_NANSHA_01"),
        "the warehouse's store code: {out}"
    );
}

#[test]
fn a_base_folder_opens_only_mappings_and_contracts_below_it() {
    let t = fresh("guangzhou_nansha");
    let repo = t.path().join("nansha");
    // A hostile bondmap.toml takes the whole temporary folder as its base, and a
    // warehouse reads a table from it: refused, and its cells never shown.
    std::fs::write(
        t.path().join("secret.csv"),
        "barcode,item_id,consumption_tax_rate\n1,hunter2,x\n",
    )
    .unwrap();
    edit(
        &repo.join("bondmap.toml"),
        "bundled = \"1\"",
        "path = \"..\"",
    );
    std::fs::create_dir_all(t.path().join("cainiao")).unwrap();
    std::fs::write(t.path().join("cainiao/empty.map"), "# nothing\n").unwrap();
    let wh = repo.join("mappings/warehouses/guangzhou_nansha.map");
    std::fs::write(
        &wh,
        "use \"base:cainiao/empty.map\"\ntable goods from \"../../../secret.csv\" key barcode {\n  item_id: string\n  consumption_tax_rate: decimal\n}\n",
    )
    .unwrap();
    let o = bondmap_in(
        &repo,
        &["check", "mappings/warehouses/guangzhou_nansha.map"],
    );
    let out = all(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("only mappings (.map) and"), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn the_commands_that_run_the_shops_mapping_take_it_from_bondmap_toml() {
    let t = fresh("guangzhou_nansha");
    let repo = t.path().join("nansha");
    let example = common::files(&repo.join("examples/orders"), "json")
        .into_iter()
        .next()
        .unwrap();
    let example = example.to_str().unwrap();
    // In the repo: `map` without --mapping runs the routes file bondmap.toml names.
    let o = bondmap_in(&repo, &["map", "--input", example]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert!(
        text(&o.stdout).contains("GUANGZHOU_NANSHA_01"),
        "{}",
        all(&o)
    );
    // Below it too, and `--help` says which file it is.
    let o = bondmap_in(&repo.join("mappings"), &["map", "--input", example]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let o = bondmap_in(&repo, &["sync", "--help"]);
    assert!(
        text(&o.stdout).contains("[default: mappings/routes.map]"),
        "{}",
        all(&o)
    );
    // A --mapping given wins.
    let o = bondmap_in(
        &repo,
        &[
            "map",
            "--mapping",
            "mappings/warehouses/guangzhou_nansha.map",
            "--input",
            example,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    // A misspelt file is a mistake `check` names.
    edit(
        &repo.join("bondmap.toml"),
        "mapping = \"mappings/routes.map\"",
        "mapping = \"mappings/route.map\"",
    );
    let o = bondmap_in(&repo, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains("[sync] mapping = \"mappings/route.map\": there is no such file"),
        "{}",
        all(&o)
    );
    // One outside the mapping root is refused as a default and named by `check`.
    std::fs::write(repo.join("secret.toml"), "secret_key = \"s3cr3t-value\"\n").unwrap();
    edit(
        &repo.join("bondmap.toml"),
        "mapping = \"mappings/route.map\"",
        "mapping = \"mappings/../secret.toml\"",
    );
    let o = bondmap_in(&repo, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains("not a file of the mapping root"),
        "{}",
        all(&o)
    );
    let o = bondmap_in(&repo, &["map", "--input", example]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(!all(&o).contains("s3cr3t"), "{}", all(&o));
    edit(
        &repo.join("bondmap.toml"),
        "mapping = \"mappings/../secret.toml\"",
        "mapping = \"mappings/routes.map\"",
    );
    // Without the key (or outside a repo) --mapping is required, as before.
    edit(
        &repo.join("bondmap.toml"),
        "mapping = \"mappings/routes.map\"",
        "",
    );
    let o = bondmap_in(&repo, &["map", "--input", example]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(all(&o).contains("--mapping"), "{}", all(&o));
    let o = bondmap_in(t.path(), &["sync"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(all(&o).contains("--mapping"), "{}", all(&o));
}
