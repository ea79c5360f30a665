//! Broken mappings, one mistake each: `check` must find that mistake, with its code, and
//! point at it. The rendered report of each is a reviewed snapshot.

use bondmap::compile::{compile, Options};
use bondmap::diag::{self, Code, Diag};
use bondmap::load::load_within;
use std::path::Path;

/// The test mappings reach the shipped ones (`../../../mappings/…`): their root is the
/// repository.
fn check(path: &Path) -> (bondmap::load::Mapping, Vec<Diag>) {
    let (m, mut diags) = load_within(path, Some(Path::new(env!("CARGO_MANIFEST_DIR"))));
    if !diags.iter().any(Diag::is_error) {
        let (_, more) = compile(
            &m,
            &Options {
                allow_unset_params: true,
                ..Options::default()
            },
        );
        diags.extend(more);
    }
    (m, diags)
}

/// The code a broken file is named after: `unit_mismatch_sum.map` → `bondmap::unit_mismatch`.
fn expected_code(path: &Path) -> Code {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let mut best: Option<Code> = None;
    for c in Code::ALL {
        let name = c.as_str().trim_start_matches("bondmap::");
        if (stem == name || stem.starts_with(&format!("{name}_")))
            && best.is_none_or(|b| b.as_str().len() < c.as_str().len())
        {
            best = Some(*c);
        }
    }
    best.unwrap_or_else(|| panic!("{stem}: name the file after a diagnostic code"))
}

#[test]
fn every_broken_mapping_reports_its_mistake() {
    insta::glob!("check/errors/*.map", |path| {
        let want = expected_code(path);
        let (m, diags) = check(path);
        assert!(
            diags.iter().any(|d| d.code == want),
            "{}: expected {want}, got {:?}",
            path.display(),
            diags
                .iter()
                .map(|d| (d.code, &d.message))
                .collect::<Vec<_>>()
        );
        // Every diagnostic of the expected code points somewhere in a file.
        for d in diags.iter().filter(|d| d.code == want) {
            assert!(
                d.span.is_some() || want == Code::Io,
                "{}: {want} without a span",
                path.display()
            );
        }
        let rendered = diag::render(
            &diag::reports(&m.sources, &diags, &path.display().to_string()),
            false,
        );
        insta::with_settings!({snapshot_path => "../snapshots/check", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(rendered);
        });
    });
}

#[test]
fn every_code_has_a_broken_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/errors");
    let mut covered = std::collections::HashSet::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "map") {
            covered.insert(expected_code(&p));
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !covered.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a broken example: {missing:?}"
    );
}

#[test]
fn valid_edge_cases_pass_without_errors() {
    insta::glob!("check/success/*.map", |path| {
        let (_, diags) = check(path);
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| &d.message)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    });
}

#[test]
fn shipped_mappings_check_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let mut n = 0;
    for dir in ["cainiao", "warehouses"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "map") {
                n += 1;
                let (_, diags) = check(&p);
                let all: Vec<_> = diags.iter().map(|d| (d.code, &d.message)).collect();
                assert!(all.is_empty(), "{}: {all:?}", p.display());
            }
        }
    }
    assert!(
        n >= 3,
        "expected the base and at least two warehouse mappings"
    );
}

#[test]
fn every_code_is_documented_with_a_wrong_and_a_right_example() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md"))
            .unwrap();
    for c in Code::ALL {
        let head = format!("**`{}`**", c.as_str());
        let at = readme
            .find(&head)
            .unwrap_or_else(|| panic!("{} is not in docs/diagnostics.md", c.as_str()));
        let block = &readme[at..];
        let end = block[head.len()..]
            .find("**`bondmap::")
            .map_or(block.len(), |e| e + head.len());
        assert!(
            block[..end].contains("# wrong") && block[..end].contains("# right"),
            "{}",
            c.as_str()
        );
    }
}

/// Compiles `text` as a warehouse file beside the shipped ones and maps example 01 with
/// it (and explains it), in a thread that must end within a generous bound: before, each
/// `if … else if` branch or `??` doubled the input-shape analysis (24 branches took 5 s).
fn compiles_and_maps_in_time(what: &str, text: String) {
    let (tx, rx) = std::sync::mpsc::channel();
    let what_owned = what.to_string();
    std::thread::spawn(move || {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (m, diags) =
            bondmap::load::load_str("chain.map", &text, &root.join("mappings/warehouses"));
        assert!(diags.is_empty(), "{what_owned}: {} problems", diags.len());
        let (p, diags) = compile(&m, &Options::default());
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        assert!(
            errors.is_empty(),
            "{what_owned}: {} errors, first {:?}",
            errors.len(),
            errors.first()
        );
        let p = p.unwrap();
        let doc: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("examples/orders/01_single_sku_alipay.json"))
                .unwrap(),
        )
        .unwrap();
        let out = bondmap::run::run(&p, &doc).unwrap();
        bondmap::run::explain(&p, &doc, Some("storeCode")).unwrap();
        tx.send(out).unwrap();
    });
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{what}: did not finish in 60 s ({e})"));
    assert!(out.contains("\"storeCode\":\"LAST\""), "{what}: {out}");
}

#[test]
fn a_500_branch_if_chain_and_a_500_long_coalesce_chain_compile_in_linear_time() {
    let head = "use \"hangzhou_xiasha.map\"\n";
    let ifs: String = (0..500)
        .map(|i| format!("if $.detail.paymentType == {} then \"S{i}\" else ", i + 100))
        .collect();
    compiles_and_maps_in_time("if chain", format!("{head}storeCode = {ifs}\"LAST\"\n"));
    let paths: String = (0..500)
        .map(|i| format!("$.detail.skuList[{}].skuDetailList[0].barcode ?? ", i + 5))
        .collect();
    compiles_and_maps_in_time("?? chain", format!("{head}storeCode = {paths}\"LAST\"\n"));
    let consts: String = (0..500).map(|_| "null ?? ").collect();
    compiles_and_maps_in_time(
        "?? of constants",
        format!("{head}storeCode = {consts}\"LAST\"\n"),
    );
}

/// A folder `mappings/warehouses/` in a temporary place, with `x.map` holding `text`
/// after a `use` of the shipped base (by absolute path, so the root is `/`… unless a
/// test says otherwise). Returns (the temporary folder, the mapping file).
fn temp_mapping(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("mappings/warehouses");
    std::fs::create_dir_all(&w).unwrap();
    let p = w.join("x.map");
    std::fs::write(&p, text).unwrap();
    (dir, p)
}

/// The rendered report and, after it, every message unwrapped (the report wraps lines).
fn rendered(m: &bondmap::load::Mapping, diags: &[Diag]) -> String {
    let mut r = diag::render(&diag::reports(&m.sources, diags, "x.map"), false);
    for d in diags {
        r.push('\n');
        r.push_str(&d.message);
    }
    r
}

fn load_and_compile(p: &Path, opts: &Options) -> (bondmap::load::Mapping, Vec<Diag>) {
    let (m, mut diags) = bondmap::load::load_within(p, opts.root.as_deref());
    if !diags.iter().any(Diag::is_error) {
        diags.extend(compile(&m, opts).1);
    }
    (m, diags)
}

#[test]
fn use_target_source_and_tables_read_nothing_outside_the_mapping_root() {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let first_line = passwd.lines().next().unwrap_or("root:x:0:0").to_string();
    for (what, text) in [
        ("use", "use \"/etc/passwd\"\n"),
        ("use of a .map outside", "use \"../../outside.map\"\n"),
        ("target", "target \"/etc/passwd\"\n"),
        ("source", "target \"/etc/passwd\"\nsource \"/etc/passwd\"\n"),
        (
            "table",
            "target \"/etc/passwd\"\ntable goods from \"/dev/zero\" key barcode { item_id: string }\n",
        ),
    ] {
        let (dir, p) = temp_mapping(text);
        std::fs::write(dir.path().join("outside.map"), "oops this is { not a mapping").unwrap();
        let (m, diags) = load_and_compile(&p, &Options::default());
        assert!(diags.iter().any(Diag::is_error), "{what}: accepted");
        let r = rendered(&m, &diags);
        assert!(
            r.contains("outside the mapping root") || r.contains("not a mapping"),
            "{what}: {r}"
        );
        assert!(!r.contains(&first_line), "{what} shows /etc/passwd: {r}");
        assert!(!r.contains("oops"), "{what} shows the outside file: {r}");
    }
}

#[test]
fn a_symlink_out_of_the_root_is_outside_it() {
    let (dir, p) = temp_mapping("use \"link.map\"\n");
    std::os::unix::fs::symlink(
        "/etc/passwd",
        dir.path().join("mappings/warehouses/link.map"),
    )
    .unwrap();
    let (m, diags) = load_and_compile(&p, &Options::default());
    let r = rendered(&m, &diags);
    assert!(r.contains("outside the mapping root"), "{r}");
}

#[test]
fn a_table_must_be_a_regular_file_of_at_most_64_mib() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let (dir, p) = temp_mapping(&format!(
        "use \"{}/warehouses/hangzhou_xiasha.map\"\n",
        shipped.display()
    ));
    // A root holding both the temporary mapping and the shipped ones.
    let opts = |tables: Vec<(String, std::path::PathBuf)>| Options {
        root: Some("/".into()),
        tables,
        ..Options::default()
    };
    let (_, diags) = load_and_compile(&p, &opts(vec![]));
    assert!(!diags.iter().any(Diag::is_error), "{diags:?}");
    // `--table` may name any regular file, but not a device (before: a 1 GiB allocation).
    let (m, diags) = load_and_compile(&p, &opts(vec![("goods".into(), "/dev/zero".into())]));
    assert!(rendered(&m, &diags).contains("not a regular file"));
    let big = dir.path().join("big.csv");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len((64 << 20) + 1).unwrap();
    let (m, diags) = load_and_compile(&p, &opts(vec![("goods".into(), big)]));
    assert!(rendered(&m, &diags).contains("larger than 64 MiB"));
}

#[test]
fn a_csv_with_many_repeated_keys_reports_the_first_few_and_how_many_more() {
    let (dir, p) = temp_mapping(
        "use \"../../shipped/warehouses/hangzhou_xiasha.map\"\n\
         table goods from \"goods.csv\" key barcode {\n  item_id: string\n  consumption_tax_rate: decimal\n}\n",
    );
    let mut csv = String::from("\u{feff}barcode,item_id,consumption_tax_rate\n");
    for _ in 0..200_000 {
        csv.push_str("6900000000001,CN1,0\n");
    }
    std::fs::write(dir.path().join("mappings/warehouses/goods.csv"), csv).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    std::os::unix::fs::symlink(&shipped, dir.path().join("shipped")).unwrap();
    let opts = Options {
        root: Some("/".into()),
        ..Options::default()
    };
    let (m, diags) = load_and_compile(&p, &opts);
    let r = rendered(&m, &diags);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.contains("appears twice"))
            .count(),
        5,
        "{r}"
    );
    assert!(r.contains("and 199994 more problems"), "{r}");
}

/// miette's column widths are 16-bit: a mistake past column 65,535 panicked the report.
/// Such a report names the place instead of drawing the line.
#[test]
fn a_mistake_on_a_very_long_line_is_reported_not_a_panic() {
    let text = format!("a = \"{}\" ) 1\n", "x".repeat(70_000));
    let (m, diags) = bondmap::load::load_str(
        "long.map",
        &text,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/warehouses"),
    );
    assert!(diags.iter().any(|d| d.code == Code::Parse));
    let r = diag::render(&diag::reports(&m.sources, &diags, "long.map"), false);
    assert!(r.contains("long.map:1:70008"), "{}", &r[..r.len().min(500)]);
}
