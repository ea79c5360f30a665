//! Routing: the shipped routes file sends each order to its warehouse and skips the
//! others with their reason; `check` finds the mistakes of a routes file and of the
//! mappings it names, with spans; `--table`/`--param` reach every routed mapping that
//! declares them; a plain mapping works through the same `Router`.

mod common;

use bondmap::compile::Options;
use bondmap::diag::{Code, Diag};
use bondmap::engine::load_program;
use bondmap::route::{Pick, Router};
use bondmap::run::run;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn order(name: &str) -> Value {
    let p = root()
        .join("tests/routes/orders")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn shipped() -> Router {
    Router::load(&root().join("mappings/routes.map"), &Options::default())
        .unwrap_or_else(|e| panic!("{}", e.render(false)))
}

/// The file name of the mapping an order is routed to, or its skip reason.
fn pick(r: &Router, doc: &Value) -> Result<String, String> {
    match r.pick(doc).unwrap() {
        Pick::Mapping { path, .. } => Ok(path.file_name().unwrap().to_string_lossy().into()),
        Pick::Skipped { reason } => Err(reason),
    }
}

/// A copy of the shipped `mappings/` folder, to add or break files in.
fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mappings"), dir.path());
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// What `check` finds in one file (a routes file with every mapping it names), each with
/// the name of the file and the text it points at.
fn check(path: &Path) -> Vec<(Code, String, String, Diag)> {
    let (m, diags) = if bondmap::route::is_routes_file(path) {
        bondmap::route::check(path, None)
    } else {
        let (m, mut diags) = bondmap::load::load(path);
        if !diags.iter().any(Diag::is_error) {
            diags.extend(bondmap::compile::compile(&m, &Options::default()).1);
        }
        (m, diags)
    };
    diags
        .into_iter()
        .map(|d| {
            let (file, text) = match d.span {
                Some(s) => (
                    m.sources
                        .get(s.file)
                        .path
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    m.sources.snippet(s).to_string(),
                ),
                None => (String::new(), String::new()),
            };
            (d.code, file, text, d)
        })
        .collect()
}

const HEAD: &str = "source \"schemas/red_order.schema.json\"\n";

#[test]
fn shipped_routes_send_each_bonded_order_to_its_warehouse() {
    let r = shipped();
    assert!(!r.is_plain());
    let names: Vec<String> = r
        .programs()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["hangzhou_xiasha.map", "ningbo_meishan.map"]);
    for (input, want, store) in [
        ("hzxs_bonded", "hangzhou_xiasha.map", "HZ_XIASHA_01"),
        ("nbms_bonded", "ningbo_meishan.map", "NB_MEISHAN_02"),
    ] {
        let doc = order(input);
        let Pick::Mapping { path, program, .. } = r.pick(&doc).unwrap() else {
            panic!("{input} was skipped");
        };
        assert_eq!(path.file_name().unwrap(), want, "{input}");
        // The routed mapping maps the order: its own store code, its own goods table.
        let out: Value = serde_json::from_str(&run(program, &doc).unwrap()).unwrap();
        assert_eq!(out["storeCode"], store, "{input}");
    }
}

#[test]
fn settings_come_from_the_routed_mapping_of_each_order() {
    let r = shipped();
    let to_code = |name: &str| match r.pick(&order(name)).unwrap() {
        Pick::Mapping { program, .. } => program.settings.to_code.clone(),
        Pick::Skipped { reason } => panic!("{name}: {reason}"),
    };
    assert_eq!(to_code("nbms_bonded").as_deref(), Some("NINGBO_MEISHAN"));
    assert_eq!(to_code("hzxs_bonded"), None);
}

#[test]
fn orders_no_route_takes_are_skipped_with_their_reason() {
    let r = shipped();
    for (input, reason) in [
        (
            "directmail_hzxs",
            "no route takes it: logisticsMode 3, whcode \"HZXS\"",
        ),
        (
            "unknown_whcode",
            "no route takes it: logisticsMode 2, whcode \"SHPD\"",
        ),
        (
            "domestic_no_whcode",
            "no route takes it: logisticsMode 1, whcode absent",
        ),
    ] {
        assert_eq!(pick(&r, &order(input)), Err(reason.to_string()), "{input}");
    }
}

#[test]
fn a_skip_reason_never_shows_personal_data() {
    let shop = shop();
    let routes = write(
        shop.path(),
        "by_phone.map",
        &format!(
            "{HEAD}route \"warehouses/hangzhou_xiasha.map\" when $.receiver.receiverInfos[0].receiverPhone == \"1\" and $.detail.whcode == \"HZXS\"\n"
        ),
    );
    let r = Router::load(&routes, &Options::default()).unwrap();
    let doc = order("unknown_whcode");
    let phone = doc["receiver"]["receiverInfos"][0]["receiverPhone"]
        .as_str()
        .unwrap()
        .to_string();
    let reason = pick(&r, &doc).unwrap_err();
    assert_eq!(
        reason,
        "no route takes it: receiverPhone (personal data, not shown), whcode \"SHPD\""
    );
    assert!(!reason.contains(&phone));
}

#[test]
fn a_personal_value_sent_as_a_number_is_not_shown_either() {
    // The RED schema's `x-pii` decides, not the value's JSON type: a phone or an ID number
    // may come back from the API as a number.
    let shop = shop();
    let routes = write(
        shop.path(),
        "by_id.map",
        &format!(
            "{HEAD}route \"warehouses/hangzhou_xiasha.map\" when $.declare.orderDeclareInfos[0].idNumber != null and $.receiver.receiverInfos[0].receiverPhone != null and $.detail.whcode == \"HZXS\"\n"
        ),
    );
    let r = Router::load(&routes, &Options::default()).unwrap();
    let mut doc = order("unknown_whcode");
    doc["declare"]["orderDeclareInfos"][0]["idNumber"] = serde_json::json!(330106199001011234u64);
    doc["receiver"]["receiverInfos"][0]["receiverPhone"] = serde_json::json!(13800138000u64);
    let reason = pick(&r, &doc).unwrap_err();
    assert_eq!(
        reason,
        "no route takes it: idNumber (personal data, not shown), receiverPhone (personal data, not shown), whcode \"SHPD\""
    );
    assert!(!reason.contains("330106199001011234"));
    assert!(!reason.contains("13800138000"));
}

#[test]
fn the_first_route_that_holds_wins_and_a_route_without_when_takes_the_rest() {
    let shop = shop();
    let routes = write(
        shop.path(),
        "catch_all.map",
        &format!(
            "{HEAD}route \"warehouses/ningbo_meishan.map\" when $.detail.whcode == \"NBMS\"\nroute \"warehouses/hangzhou_xiasha.map\" when $.detail.logisticsMode == 2\nroute \"warehouses/ningbo_meishan.map\"\n"
        ),
    );
    let r = Router::load(&routes, &Options::default()).unwrap();
    // The same mapping named twice is loaded once.
    assert_eq!(r.programs().count(), 2);
    assert_eq!(
        pick(&r, &order("nbms_bonded")).unwrap(),
        "ningbo_meishan.map"
    );
    assert_eq!(
        pick(&r, &order("unknown_whcode")).unwrap(),
        "hangzhou_xiasha.map"
    );
    let Pick::Mapping { route, index, .. } = r.pick(&order("directmail_hzxs")).unwrap() else {
        panic!("skipped");
    };
    // Ningbo is the first mapping named, so the third route's index is 0.
    assert_eq!((route, index), (2, 0));
}

#[test]
fn a_condition_that_cannot_be_decided_rejects_the_order_naming_the_route() {
    let shop = shop();
    let routes = write(
        shop.path(),
        "multi.map",
        &format!(
            "{HEAD}route \"warehouses/ningbo_meishan.map\" when $.detail.skuList[*].skuId == \"x\"\n"
        ),
    );
    let r = Router::load(&routes, &Options::default()).unwrap();
    // Order 02 has several SKUs: several values where one is due.
    let err = r.pick(&order("nbms_bonded")).unwrap_err();
    assert!(
        err.message.contains("values where one is expected"),
        "{err}"
    );
    assert!(err.location.ends_with("multi.map:2:44"), "{}", err.location);
    assert_eq!(err.order_id.as_deref(), Some("P78811223300000102"));
}

#[test]
fn check_finds_a_misspelt_path_and_a_wrong_type_in_a_condition() {
    let shop = shop();
    let routes = write(
        shop.path(),
        "routes.map",
        &format!(
            "{HEAD}route \"warehouses/hangzhou_xiasha.map\" when $.detail.logisticMode == 2\nroute \"warehouses/ningbo_meishan.map\" when $.detail.whcode == 7\nroute \"warehouses/ningbo_meishan.map\" when $.detail.whcode\n"
        ),
    );
    let found = check(&routes);
    let d = found
        .iter()
        .find(|(c, ..)| *c == Code::UnknownSource)
        .expect("unknown source");
    assert_eq!((d.1.as_str(), d.2.as_str()), ("routes.map", "logisticMode"));
    assert_eq!(d.3.help.as_deref(), Some("did you mean `logisticsMode`?"));
    let types: Vec<&str> = found
        .iter()
        .filter(|(c, ..)| *c == Code::TypeMismatch)
        .map(|(_, _, t, _)| t.as_str())
        .collect();
    assert_eq!(types, ["==", "$.detail.whcode"]);
    // Not loadable either.
    assert!(Router::load(&routes, &Options::default()).is_err());
}

#[test]
fn check_finds_a_missing_mapping_and_one_outside_the_mapping_root() {
    let shop = shop();
    let inner = shop.path().join("shops");
    std::fs::create_dir_all(&inner).unwrap();
    let routes = write(
        &inner,
        "routes.map",
        "source \"../schemas/red_order.schema.json\"\nroute \"warehouses/nowhere.map\" when $.detail.whcode == \"A\"\nroute \"../warehouses/ningbo_meishan.map\" when $.detail.whcode == \"B\"\n",
    );
    let found = check(&routes);
    let codes: Vec<(Code, &str)> = found.iter().map(|(c, _, t, _)| (*c, t.as_str())).collect();
    assert!(
        codes.contains(&(Code::Io, "\"warehouses/nowhere.map\"")),
        "{codes:?}"
    );
    // The source schema is outside too (the routes file's folder is the root).
    assert!(codes.contains(&(Code::Io, "\"../warehouses/ningbo_meishan.map\"")));
    assert!(codes.contains(&(Code::Io, "source \"../schemas/red_order.schema.json\"")));
    let outside = found
        .iter()
        .find(|(_, _, t, _)| t == "\"../warehouses/ningbo_meishan.map\"")
        .unwrap();
    assert!(
        outside.3.message.contains("outside the mapping root"),
        "{}",
        outside.3.message
    );
}

#[test]
fn check_reports_the_errors_of_a_routed_mapping_in_its_file_and_points_at_the_route() {
    let shop = shop();
    let nb = shop.path().join("warehouses/ningbo_meishan.map");
    let text = std::fs::read_to_string(&nb).unwrap();
    std::fs::write(&nb, text.replace("param store_code", "param stor_code")).unwrap();
    let found = check(&shop.path().join("routes.map"));
    let in_mapping = found
        .iter()
        .find(|(c, ..)| *c == Code::UnknownParam)
        .expect("the routed mapping's own error");
    assert_eq!(
        (in_mapping.1.as_str(), in_mapping.2.as_str()),
        ("ningbo_meishan.map", "stor_code")
    );
    // Run for real, its params must be set: the base's store_code is not (shown at the
    // warehouse file's `use`, the file that should set it).
    assert!(found.iter().any(|(c, f, t, _)| *c == Code::UnsetParam
        && f == "ningbo_meishan.map"
        && t == "use \"../cainiao/bonded_whs.map\""));
    let at_route = found
        .iter()
        .find(|(c, ..)| *c == Code::Routes)
        .expect("a pointer in the routes file");
    assert_eq!(
        (at_route.1.as_str(), at_route.2.as_str()),
        ("routes.map", "\"warehouses/ningbo_meishan.map\"")
    );
    let err = Router::load(&shop.path().join("routes.map"), &Options::default()).unwrap_err();
    assert!(err.render(false).contains("ningbo_meishan.map"));
}

#[test]
fn check_refuses_mapping_statements_in_a_routes_file_and_warns_of_unreached_routes() {
    let shop = shop();
    let routes = write(
        shop.path(),
        "routes.map",
        &format!(
            "{HEAD}route \"warehouses/hangzhou_xiasha.map\"\nroute \"warehouses/ningbo_meishan.map\" when $.detail.whcode == \"NBMS\"\nparam store_code = \"X\"\n"
        ),
    );
    let found = check(&routes);
    let codes: Vec<(Code, &str)> = found.iter().map(|(c, _, t, _)| (*c, t.as_str())).collect();
    assert!(
        codes.contains(&(Code::Routes, "param store_code = \"X\"")),
        "{codes:?}"
    );
    let unreached = found
        .iter()
        .find(|(c, ..)| *c == Code::Unused)
        .expect("a warning");
    assert!(!unreached.3.is_error());
    assert!(unreached
        .2
        .starts_with("route \"warehouses/ningbo_meishan.map\""));
}

#[test]
fn a_mapping_cannot_use_a_routes_file() {
    let shop = shop();
    let m = write(
        &shop.path().join("warehouses"),
        "uses_routes.map",
        "use \"../routes.map\"\nparam store_code = \"X\"\n",
    );
    let found = check(&m);
    assert!(
        found
            .iter()
            .any(|(c, f, ..)| *c == Code::Routes && f == "routes.map"),
        "{:?}",
        found
            .iter()
            .map(|f| (f.0, &f.3.message))
            .collect::<Vec<_>>()
    );
}

#[test]
fn shipped_routes_file_checks_clean_and_is_formatted() {
    let found = check(&root().join("mappings/routes.map"));
    assert!(
        found.is_empty(),
        "{:?}",
        found.iter().map(|f| &f.3.message).collect::<Vec<_>>()
    );
    let text = std::fs::read_to_string(root().join("mappings/routes.map")).unwrap();
    assert_eq!(bondmap::syntax::print::format(&text).unwrap(), text);
}

#[test]
fn fmt_lines_up_the_routes_and_is_idempotent() {
    let text = "source \"s.json\"\nroute   \"a.map\"  when $.detail.whcode==\"A\"  # the first\nroute \"long/b.map\" when $.detail.logisticsMode == 2 and ($.detail.whcode == \"B\" or $.detail.whcode == \"C\")\nroute \"c.map\"\n";
    let once = bondmap::syntax::print::format(text).unwrap();
    assert_eq!(
        once,
        "source \"s.json\"\nroute \"a.map\"      when $.detail.whcode == \"A\"  # the first\nroute \"long/b.map\" when $.detail.logisticsMode == 2 and ($.detail.whcode == \"B\" or $.detail.whcode == \"C\")\nroute \"c.map\"\n"
    );
    assert_eq!(bondmap::syntax::print::format(&once).unwrap(), once);
}

#[test]
fn a_field_may_still_be_called_route() {
    let f =
        bondmap::syntax::parse("route = \"x\"\nwhen { route = 1 }\n", Default::default()).unwrap();
    assert!(f
        .items
        .iter()
        .all(|i| matches!(i, bondmap::syntax::ast::Item::Stmt(_))));
}

/// A goods table like Hangzhou's with other Cainiao item ids.
fn swapped_goods(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(root().join("mappings/warehouses/hangzhou_xiasha_goods.csv"))
            .unwrap();
    let swapped = text
        .replace(",6789012345", ",SWAP")
        .replace(",5599001122", ",SWAP");
    write(dir, "swapped_goods.csv", &swapped)
}

#[test]
fn table_option_applies_to_every_routed_mapping_that_declares_it() {
    let shop = shop();
    let csv = swapped_goods(shop.path());
    // Ningbo alone declares `gifts`: giving it must not trouble Hangzhou.
    let nb = shop.path().join("warehouses/ningbo_meishan.map");
    let mut text = std::fs::read_to_string(&nb).unwrap();
    text.push_str(
        "\ntable gifts from \"ningbo_meishan_goods.csv\" key barcode {\n  item_id: string\n}\n",
    );
    std::fs::write(&nb, text).unwrap();
    let opts = Options {
        tables: vec![("goods".into(), csv.clone()), ("gifts".into(), csv.clone())],
        ..Options::default()
    };
    let r = Router::load(&shop.path().join("routes.map"), &opts)
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    for input in ["hzxs_bonded", "nbms_bonded"] {
        let doc = order(input);
        let Pick::Mapping { program, .. } = r.pick(&doc).unwrap() else {
            panic!("{input} skipped");
        };
        let out: Value = serde_json::from_str(&run(program, &doc).unwrap()).unwrap();
        let ids: Vec<&str> = out["orderItemList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["itemId"].as_str().unwrap())
            .collect();
        assert!(
            ids.iter().all(|i| i.starts_with("SWAP")),
            "{input}: {ids:?}"
        );
    }
    // A table no routed mapping declares is a mistake, said once.
    let opts = Options {
        tables: vec![("goodz".into(), csv)],
        ..Options::default()
    };
    let err = Router::load(&shop.path().join("routes.map"), &opts).unwrap_err();
    let msgs: Vec<&str> = err
        .diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        msgs,
        ["--table goodz: no routed mapping has a CSV table of that name"]
    );
}

#[test]
fn param_option_applies_to_every_routed_mapping_that_declares_it() {
    let opts = Options {
        params: vec![("store_code".into(), "STORE_FROM_CLI".into())],
        ..Options::default()
    };
    let r = Router::load(&root().join("mappings/routes.map"), &opts).unwrap();
    for input in ["hzxs_bonded", "nbms_bonded"] {
        let doc = order(input);
        let Pick::Mapping { program, .. } = r.pick(&doc).unwrap() else {
            panic!("{input} skipped");
        };
        let out: Value = serde_json::from_str(&run(program, &doc).unwrap()).unwrap();
        assert_eq!(out["storeCode"], "STORE_FROM_CLI");
    }
    let opts = Options {
        params: vec![("stor_code".into(), "X".into())],
        ..Options::default()
    };
    let err = Router::load(&root().join("mappings/routes.map"), &opts).unwrap_err();
    assert_eq!(err.diags.len(), 1, "{}", err.render(false));
    assert_eq!(err.diags[0].code, Code::UnknownParam);
}

#[test]
fn a_plain_mapping_works_through_the_router_as_one_route_for_every_order() {
    let path = root().join("mappings/warehouses/hangzhou_xiasha.map");
    let r = Router::load(&path, &Options::default()).unwrap();
    assert!(r.is_plain());
    let (direct, _) = load_program(&path, &Options::default()).unwrap();
    for ex in examples() {
        let text = std::fs::read_to_string(&ex).unwrap();
        let doc = r.parse_order(&text).unwrap();
        let Pick::Mapping {
            index,
            route,
            program,
            ..
        } = r.pick(&doc).unwrap()
        else {
            panic!("a plain mapping skips nothing");
        };
        assert_eq!((index, route), (0, 0));
        let whole: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(run(program, &doc), run(&direct, &whole), "{}", ex.display());
    }
    // Its errors are the mapping's own, as before.
    // The test mappings reach the shipped ones: their root is the repository.
    let err = Router::load(
        &root().join("tests/check/errors/unknown_field.map"),
        &Options {
            root: Some(root()),
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(err.diags.iter().any(|d| d.code == Code::UnknownField));
}

fn bondmap(args: &[&str], dir: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// A shop whose routes file has a misspelt path, a missing mapping and a broken mapping.
fn broken_shop() -> tempfile::TempDir {
    let shop = shop();
    std::fs::copy(
        root().join("tests/routes/broken.map"),
        shop.path().join("routes.map"),
    )
    .unwrap();
    let nb = shop.path().join("warehouses/ningbo_meishan.map");
    let text = std::fs::read_to_string(&nb).unwrap();
    std::fs::write(&nb, text.replace("param store_code", "param stor_code")).unwrap();
    shop
}

#[test]
fn check_command_reports_a_broken_routes_file_with_spans() {
    let shop = broken_shop();
    let out = bondmap(&["check", "."], shop.path());
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8(out.stderr).unwrap();
    insta::with_settings!({snapshot_path => "../snapshots/routes", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("check_broken_routes", report);
    });
    // As JSON: each mistake once, though ningbo_meishan.map is also checked on its own.
    let out = bondmap(&["check", "--format", "json", "."], shop.path());
    let diags: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let count = |code: &str, file: &str| {
        diags
            .iter()
            .filter(|d| d["code"] == code && d["file"].as_str().unwrap().ends_with(file))
            .count()
    };
    assert_eq!(count("bondmap::unknown_param", "ningbo_meishan.map"), 1);
    assert_eq!(count("bondmap::unknown_source", "routes.map"), 1);
    assert_eq!(count("bondmap::io", "routes.map"), 1);
    assert_eq!(count("bondmap::routes", "routes.map"), 1);
}

#[test]
fn check_and_fmt_commands_take_the_shipped_routes_file() {
    let out = bondmap(&["check", "mappings/routes.map"], &root());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bondmap(&["fmt", "--check", "mappings/routes.map"], &root());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn map_into_writes_the_routed_request_or_nothing_for_a_skipped_order() {
    let r = shipped();
    let mut out = String::from("before;");
    let doc = order("nbms_bonded");
    assert_eq!(
        r.map_into(&doc, &mut out).unwrap(),
        bondmap::route::Mapped::Mapped { index: 1 }
    );
    let request = out.strip_prefix("before;").unwrap();
    let (_, nb) = r.programs().nth(1).unwrap();
    assert_eq!(request, run(nb, &doc).unwrap());

    let mut out = String::from("before;");
    let doc = order("directmail_hzxs");
    let skipped = r.map_into(&doc, &mut out).unwrap();
    assert!(matches!(skipped, bondmap::route::Mapped::Skipped { .. }));
    assert_eq!(out, "before;");
    assert_eq!(r.order_id(&doc).as_deref(), Some("P78811223300000103"));
}

mod layout {
    use proptest::prelude::*;

    /// A route line with a random path, condition, spacing and comment.
    fn route() -> impl Strategy<Value = String> {
        let path = "[a-z_/]{1,20}(\\\\\")?[a-z]{0,3}\\.map";
        let cond = prop_oneof![
            Just(String::new()),
            "[A-Z]{1,6}".prop_map(|c| format!("when $.detail.whcode == \"{c}\"")),
            (0u8..5, "[A-Z]{1,6}").prop_map(|(m, c)| format!(
                "when $.detail.logisticsMode=={m} and ( $.detail.whcode == '{c}' or not true )"
            )),
        ];
        let comment = prop_oneof![Just(String::new()), Just("  # note".to_string())];
        (path, " {1,3}", cond, comment)
            .prop_map(|(p, sp, c, note)| format!("route{sp}\"{p}\"{sp}{c}{note}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        /// `fmt` stays a fixed point on the shipped routes file cut and spliced at random.
        #[test]
        fn fmt_of_a_mutated_routes_file_is_idempotent(cut in 0usize..900, len in 0usize..40, insert in "[\"#$.=() a-z\n]{0,10}") {
            let text = std::fs::read_to_string(super::root().join("mappings/routes.map")).unwrap();
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            let mutated = format!("{}{}{}", &text[..at], insert, &text[end.max(at)..]);
            if let Ok(once) = bondmap::syntax::print::format(&mutated) {
                let twice = bondmap::syntax::print::format(&once).ok();
                prop_assert_eq!(twice.as_deref(), Some(once.as_str()), "on {:?}", mutated);
            }
        }

        /// `fmt` of a routes file is a fixed point and keeps every route as written.
        #[test]
        fn fmt_of_routes_is_idempotent_and_keeps_them(lines in proptest::collection::vec(route(), 1..6)) {
            let text = format!("source \"s.json\"\n{}\n", lines.join("\n"));
            let once = bondmap::syntax::print::format(&text).unwrap();
            prop_assert_eq!(&bondmap::syntax::print::format(&once).unwrap(), &once);
            let routes = |t: &str| -> Vec<(String, Option<String>)> {
                bondmap::syntax::parse(t, Default::default())
                    .unwrap()
                    .items
                    .into_iter()
                    .filter_map(|i| match i {
                        bondmap::syntax::ast::Item::Route(r) => Some((
                            r.path,
                            r.when.map(|w| bondmap::syntax::print::expr(&w, 0)),
                        )),
                        _ => None,
                    })
                    .collect()
            };
            prop_assert_eq!(routes(&text), routes(&once));
            prop_assert_eq!(routes(&once).len(), lines.len());
        }
    }
}

#[test]
fn a_routed_mapping_is_found_again_by_its_path() {
    let r = shipped();
    let nb = root().join("mappings/./warehouses/../warehouses/ningbo_meishan.map");
    let i = r.find(&nb).unwrap();
    let (path, program) = r.mapping(i).unwrap();
    assert!(path.ends_with("ningbo_meishan.map"));
    assert_eq!(program.settings.to_code.as_deref(), Some("NINGBO_MEISHAN"));
    assert_eq!(
        r.find(&root().join("mappings/cainiao/bonded_whs.map")),
        None
    );
    assert!(r.mapping(2).is_none());
}

#[test]
fn check_refuses_a_route_to_a_mapping_of_another_kind_of_input() {
    let shop = shop();
    // A warehouse mapping over another contract (here: the Cainiao request's schema).
    let other = write(
        &shop.path().join("warehouses"),
        "other_input.map",
        "use \"ningbo_meishan.map\"\nsource \"../schemas/cainiao_deliveryorder_create.schema.json\"\n",
    );
    assert!(other.is_file());
    let routes = write(
        shop.path(),
        "routes.map",
        &format!("{HEAD}route \"warehouses/other_input.map\" when $.detail.whcode == \"NBMS\"\n"),
    );
    let found = check(&routes);
    let d = found
        .iter()
        .find(|(c, ..)| *c == Code::Routes)
        .unwrap_or_else(|| {
            panic!(
                "{:?}",
                found.iter().map(|f| &f.3.message).collect::<Vec<_>>()
            )
        });
    assert_eq!(d.2, "\"warehouses/other_input.map\"");
    assert!(
        d.3.message
            .contains("cainiao_deliveryorder_create.schema.json"),
        "{}",
        d.3.message
    );
    // The shipped warehouses read what the shipped routes read.
    assert!(check(&root().join("mappings/routes.map")).is_empty());
}

#[test]
fn map_command_routes_each_order_and_reports_the_skipped_ones() {
    let dir = root().join("tests/routes/orders");
    let out = bondmap(
        &[
            "map",
            "--mapping",
            "mappings/routes.map",
            "--input",
            dir.to_str().unwrap(),
        ],
        &root(),
    );
    // A skipped order is not a failure: nothing was wrong with it, it is not ours.
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stores: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["storeCode"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(stores, ["HZ_XIASHA_01", "NB_MEISHAN_02"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(
        "directmail_hzxs.json: skipped: order P78811223300000103: no route takes it: logisticsMode 3, whcode \"HZXS\""
    ), "{stderr}");
    assert!(
        stderr.contains("2 mapped, 0 rejected, 3 skipped"),
        "{stderr}"
    );

    let one = dir.join("unknown_whcode.json");
    let out = bondmap(
        &[
            "map",
            "--mapping",
            "mappings/routes.map",
            "--input",
            one.to_str().unwrap(),
        ],
        &root(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .starts_with("skipped: order P78811223300000104"));
}

#[test]
fn send_command_sends_each_routed_order_and_skips_the_rest() {
    use bondmap::gateway::sim::{spawn, SimOptions};
    let s = spawn(
        0,
        SimOptions {
            secret: "routes-secret".into(),
            ..SimOptions::default()
        },
    )
    .unwrap();
    let dir = root().join("tests/routes/orders");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args([
            "send",
            "--mapping",
            "mappings/routes.map",
            "--input",
            dir.to_str().unwrap(),
        ])
        .current_dir(root())
        .env("CAINIAO_APP_KEY", "CP_ROUTES")
        .env("CAINIAO_SECRET_KEY", "routes-secret")
        .env("CAINIAO_GATEWAY_URL", s.url())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Skipped orders are not failures: every order sent was accepted.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcome = |id: &str| {
        lines
            .iter()
            .find(|l| l["order_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {lines:?}"))["outcome"]
            .clone()
    };
    assert_eq!(outcome("P78811223300000101"), "accepted");
    assert_eq!(outcome("P78811223300000102"), "accepted");
    assert_eq!(outcome("P78811223300000103"), "skipped");
    let skipped = lines
        .iter()
        .find(|l| l["order_id"] == "P78811223300000104")
        .unwrap();
    assert_eq!(
        skipped["reason"],
        "no route takes it: logisticsMode 2, whcode \"SHPD\""
    );
    assert!(
        stderr.contains("3 skipped (no route takes them)"),
        "{stderr}"
    );
    // Only the two routed orders reached the gateway.
    assert_eq!(s.requests(), 2);
}
