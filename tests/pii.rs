//! Personal data in `explain`: which fields are personal comes from the schemas' `x-pii`,
//! and every personal value shown is masked by the one rule (`bondmap::pii::mask`).

mod common;

use bondmap::pii::mask;
use bondmap::schema::Pii;
use common::*;
use serde_json::Value;

/// The non-empty strings of `doc` at `part.list[*].field`.
fn values<'v>(doc: &'v Value, part: &str, list: &str, field: &str) -> Vec<&'v str> {
    doc[part][list]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|e| e[field].as_str())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Every accepted example order explained in full: no personal value of the order (the
/// fields RED's schema marks `x-pii`) appears in clear, and the receiver's phone and name
/// are shown masked by their kind.
#[test]
fn explain_of_every_example_masks_every_personal_value() {
    let dir = root().join("mappings/warehouses");
    let text = std::fs::read_to_string(dir.join("hangzhou_xiasha.map")).unwrap();
    let prog = compile_in(&dir, "hangzhou_xiasha.map", &text).0;
    let mut explained = 0;
    for e in std::fs::read_dir(root().join("examples/orders")).unwrap() {
        let path = e.unwrap().path();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Ok(ex) = bondmap::run::explain(&prog, &doc, None) else {
            continue; // a rejected example: nothing explained
        };
        explained += 1;
        let mut personal = Vec::new();
        for f in ["receiverName", "receiverPhone", "receiverAddress"] {
            personal.extend(values(&doc, "receiver", "receiverInfos", f));
        }
        for f in ["idName", "idNumber", "linkPhone", "frontUrl", "backUrl"] {
            personal.extend(values(&doc, "declare", "orderDeclareInfos", f));
        }
        assert!(!personal.is_empty(), "{path:?}");
        for v in personal {
            assert!(!ex.contains(v), "{path:?}: `{v}` in clear:\n{ex}");
        }
        let r = &doc["receiver"]["receiverInfos"][0];
        let phone = mask(Pii::Phone, r["receiverPhone"].as_str().unwrap());
        let name = mask(Pii::Name, r["receiverName"].as_str().unwrap());
        assert!(
            ex.contains(&format!("receiverInfo.contactNo = \"{phone}\"")),
            "{path:?}: {ex}"
        );
        assert!(
            ex.contains(&format!("receiverInfo.name = \"{name}\"")),
            "{path:?}: {ex}"
        );
    }
    assert!(explained >= 10, "only {explained} examples explained");
}

/// A source field a schema marks `x-pii` is masked in `explain` by its kind, also when it
/// is no field RED has (before: only a fixed list of RED's field names was).
#[test]
fn a_field_the_source_schema_marks_personal_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let source = r#"{"type":"object","properties":{"detail":{"type":"object","properties":{
        "nickName":{"type":"string","x-pii":"name"},
        "mobile":{"type":"string","x-pii":"phone"},
        "shopName":{"type":"string"}}}}}"#;
    let target = r#"{"type":"object","properties":{
        "who":{"type":"string"},"tel":{"type":"string"},"shop":{"type":"string"}}}"#;
    std::fs::write(dir.path().join("s.schema.json"), source).unwrap();
    std::fs::write(dir.path().join("t.schema.json"), target).unwrap();
    let text = "target \"t.schema.json\"\nsource \"s.schema.json\"\n\
        who = $.detail.nickName\ntel = $.detail.mobile\nshop = $.detail.shopName\n";
    let prog = compile_in(dir.path(), "t.map", text).0;
    let doc = serde_json::json!({"detail": {
        "nickName": "欧阳小明", "mobile": "13912345678", "shopName": "海外旗舰店"}});
    let ex = bondmap::run::explain(&prog, &doc, None).unwrap();
    assert!(ex.contains("who = \"欧***\""), "{ex}");
    assert!(ex.contains("$.detail.nickName = \"欧***\""), "{ex}");
    assert!(ex.contains("tel = \"139****5678\""), "{ex}");
    assert!(
        !ex.contains("欧阳小明") && !ex.contains("13912345678"),
        "{ex}"
    );
    // A field it does not mark is shown as it is.
    assert!(ex.contains("shop = \"海外旗舰店\""), "{ex}");
}
