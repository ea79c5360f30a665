//! A diagnostic caused by the using file points at it (issue 23): the `drop`, the `use`
//! whose base needs a param, the `target` whose contract needs the conversions; the
//! base's line is a note.

use bondmap::compile::{compile, Options};
use bondmap::diag::{Code, Diag};
use bondmap::load::load_within;
use std::path::Path;

fn check(name: &str) -> (bondmap::load::Mapping, Vec<Diag>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("tests/check/errors").join(name);
    let (m, mut diags) = load_within(&path, Some(root));
    assert!(!diags.iter().any(Diag::is_error), "{diags:?}");
    let opts = Options {
        allow_unset_params: true,
        ..Options::default()
    };
    diags.extend(compile(&m, &opts).1);
    (m, diags)
}

/// Every diagnostic of `code` is in the file itself (at a line holding `at`), with a note
/// in the file it uses.
fn in_the_using_file(name: &str, code: Code, at: &str, base: &str) -> usize {
    let (m, diags) = check(name);
    let of: Vec<&Diag> = diags.iter().filter(|d| d.code == code).collect();
    assert!(!of.is_empty(), "{name}: no {code}: {diags:?}");
    for d in &of {
        let s = d.span.expect("a place");
        assert_eq!(
            s.file, m.root,
            "{name}: {} is not in the using file",
            d.message
        );
        assert!(
            m.sources.snippet(s).contains(at),
            "{name}: at `{}`",
            m.sources.snippet(s)
        );
        assert_eq!(d.notes.len(), 1, "{name}: {d:?}");
        let note = &d.notes[0];
        assert!(
            m.sources.get(note.span.file).name.ends_with(base),
            "{name}: the note is in {}",
            m.sources.get(note.span.file).name
        );
    }
    of.len()
}

#[test]
fn a_dropped_required_field_is_shown_at_the_drop() {
    in_the_using_file(
        "missing_field_dropped_by_the_using_file.map",
        Code::MissingField,
        "drop storeCode",
        "bonded_whs.map",
    );
}

#[test]
fn a_param_left_unset_is_shown_at_the_use() {
    let n = in_the_using_file(
        "unset_param_left_by_the_using_file.map",
        Code::UnsetParam,
        "use \"../../../mappings/cainiao/bonded_whs.map\"",
        "bonded_whs.map",
    );
    assert_eq!(n, 1, "owner_user_id only: store_code is set");
}

#[test]
fn the_conversions_a_yuan_contract_needs_are_shown_at_the_target() {
    let n = in_the_using_file(
        "unit_mismatch_yuan_contract_of_the_using_file.map",
        Code::UnitMismatch,
        "target",
        "bonded_whs.map",
    );
    assert!(n >= 6, "each amount of an item: {n}");
}

#[test]
fn the_note_is_in_the_json_form_too() {
    let (m, diags) = check("missing_field_dropped_by_the_using_file.map");
    let json = bondmap::diag::to_json(&m.sources, &diags, "x");
    let v = serde_json::to_value(&json).unwrap();
    let d = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "bondmap::missing_field")
        .unwrap();
    assert!(
        d["file"]
            .as_str()
            .unwrap()
            .ends_with("missing_field_dropped_by_the_using_file.map"),
        "{d}"
    );
    assert!(
        d["related"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("bonded_whs.map"),
        "{d}"
    );
    assert_eq!(d["related"][0]["line"], 14, "the base's target line: {d}");
}
