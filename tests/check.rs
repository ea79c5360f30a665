//! Broken mappings, one mistake each: `check` must find that mistake, with its code, and
//! point at it. The rendered report of each is a reviewed snapshot.

use bondmap::compile::{compile, Options};
use bondmap::diag::{self, Code, Diag};
use bondmap::load::load;
use std::path::Path;

fn check(path: &Path) -> (bondmap::load::Mapping, Vec<Diag>) {
    let (m, mut diags) = load(path);
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
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for c in Code::ALL {
        let head = format!("**`{}`**", c.as_str());
        let at = readme
            .find(&head)
            .unwrap_or_else(|| panic!("{} is not in README", c.as_str()));
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
