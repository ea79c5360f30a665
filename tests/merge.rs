//! One file's statements merged: a dotted path of any length is its blocks, and a field
//! assigned twice in one block is said wherever the block is (before issue 27's linear
//! merge, `a.b.c = …` was read as a value for `b`, and a second `c` inside a block that
//! was new to the mapping went unsaid).

use bondmap::compile::{compile, Options};
use bondmap::diag::{Code, Diag};
use bondmap::load::load_str;

const SCHEMA: &str = r#"{"type":"object","properties":{"a":{"type":"object","properties":{
  "b":{"type":"object","properties":{"c":{"type":"string"},"d":{"type":"string"}}}}}}}"#;

fn check(body: &str) -> Vec<Diag> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("m/s")).unwrap();
    std::fs::create_dir_all(dir.path().join("m/w")).unwrap();
    std::fs::write(dir.path().join("m/s/t.json"), SCHEMA).unwrap();
    let text = format!("target \"../s/t.json\"\n{body}");
    let (m, mut diags) = load_str("x.map", &text, &dir.path().join("m/w"));
    if diags.is_empty() {
        diags.extend(compile(&m, &Options::default()).1);
    }
    diags
}

fn said(diags: &[Diag]) -> Vec<(Code, String)> {
    diags.iter().map(|d| (d.code, d.message.clone())).collect()
}

#[test]
fn a_dotted_path_of_three_names_is_two_blocks() {
    assert_eq!(said(&check("a.b.c = \"1\"\na.b.d = \"2\"\n")), []);
    assert_eq!(said(&check("a.b.c = \"1\"\na { b.d = \"2\" }\n")), []);
    assert_eq!(said(&check("a { b.c = \"1\"\n b { d = \"2\" } }\n")), []);
}

#[test]
fn a_field_twice_in_a_new_block_is_said() {
    let d = check("a { b { c = \"1\"\n c = \"2\" }\n}\n");
    assert_eq!(
        said(&d),
        [(
            Code::Duplicate,
            "field `c` is assigned twice in this file".to_string()
        )]
    );
    // At the second one.
    assert_eq!(d[0].span.map(|s| s.start), Some(38));
    let d = check("a.b.c = \"1\"\na.b.c = \"2\"\n");
    assert_eq!(
        said(&d),
        [(
            Code::Duplicate,
            "field `c` is assigned twice in this file".to_string()
        )]
    );
}
