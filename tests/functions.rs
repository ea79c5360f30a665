//! The one table of built-ins (`bondmap::program::func`) against the engine and README:
//! every example runs through the real checker and evaluator and gives what it states, and
//! README's function table lists exactly these functions with these docs.

mod common;

use bondmap::program::func::{BUILTINS, EXAMPLE_ORDER};
use bondmap::program::Global;
use bondmap::run::eval_node;
use bondmap::run::json::write_json;
use common::*;

/// Each example as `let` of a mapping built on a warehouse mapping, checked and then run
/// over the example order: (function, expression, what it gave or why it failed).
fn run_examples() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    Result<String, String>,
)> {
    let mut text = String::from("use \"hangzhou_xiasha.map\"\n");
    for (i, b) in BUILTINS.iter().enumerate() {
        for (j, e) in b.examples.iter().enumerate() {
            text.push_str(&format!("let example_{i}_{j} = {}\n", e.expr));
        }
    }
    let (p, probe) = compile_in(&warehouses(), "probe.map", &text);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join(EXAMPLE_ORDER)).unwrap()).unwrap();
    let mut out = Vec::new();
    for b in BUILTINS {
        for e in b.examples {
            // The let whose expression is this example's text, in the test's own file.
            let node = p.globals.iter().find_map(|g| match g {
                Global::Let(n) if n.span.file == probe && p.sources.snippet(n.span) == e.expr => {
                    Some(n)
                }
                _ => None,
            });
            let got = match node {
                None => Err("no let of this example in the program".to_string()),
                Some(n) => eval_node(&p, n, &doc)
                    .map(|v| {
                        let mut s = String::new();
                        write_json(&mut s, &v);
                        s
                    })
                    .map_err(|e| e.message),
            };
            out.push((b.name, e.expr, e.gives, got));
        }
    }
    out
}

#[test]
fn every_example_gives_what_it_states() {
    let results = run_examples();
    let wrong: Vec<String> = results
        .iter()
        .filter(|(_, _, want, got)| got.as_deref() != Ok(*want))
        .map(|(f, e, want, got)| format!("{f}: `{e}` should give {want}, gave {got:?}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Each function is called by its own examples (not only mentioned).
    for b in BUILTINS {
        for e in b.examples {
            assert!(
                e.expr.contains(&format!("{}(", b.name)),
                "{}: {}",
                b.name,
                e.expr
            );
        }
    }
}

#[test]
fn a_wrong_stated_output_is_caught() {
    // The control for the test above: the runner really compares values.
    let results = run_examples();
    let (_, _, want, got) = results.iter().find(|(f, ..)| *f == "lower").unwrap();
    assert_eq!(got.as_deref(), Ok(*want));
    assert_ne!(got.as_deref(), Ok("\"HZ01\""));
}

/// The book's function table (docs/language.md): (the signature in its first cell, the doc
/// in its second).
fn readme_table() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(root().join("docs/language.md")).unwrap();
    let start = readme
        .find("\n## Functions\n")
        .expect("a Functions section");
    let section = &readme[start + 1..];
    let end = section[4..].find("\n#").map_or(section.len(), |i| i + 4);
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            assert_eq!(cells.len(), 2, "two cells: {l}");
            (
                cells[0].trim().trim_matches('`').to_string(),
                cells[1].trim().to_string(),
            )
        })
        .collect()
}

#[test]
fn readme_lists_exactly_these_functions_with_these_docs() {
    let table = readme_table();
    let want: Vec<(String, String)> = BUILTINS
        .iter()
        .map(|b| (b.signature.to_string(), b.doc.to_string()))
        .collect();
    assert_eq!(table, want);
    for (b, (sig, _)) in BUILTINS.iter().zip(&table) {
        assert!(sig.starts_with(&format!("{}(", b.name)), "{sig}");
    }
}

/// `expr` as the one `let` of a mapping on the Hangzhou warehouse, run over the example
/// order (`Err`: the run-time error).
fn run_one(expr: &str) -> Result<String, bondmap::run::RunError> {
    let text = format!("use \"hangzhou_xiasha.map\"\nlet probe = {expr}\n");
    let (p, probe) = compile_in(&warehouses(), "probe.map", &text);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join(EXAMPLE_ORDER)).unwrap()).unwrap();
    let n = p
        .globals
        .iter()
        .find_map(|g| match g {
            Global::Let(n) if n.span.file == probe && p.sources.snippet(n.span) == expr => Some(n),
            _ => None,
        })
        .expect("the probe's let");
    eval_node(&p, n, &doc).map(|v| {
        let mut s = String::new();
        write_json(&mut s, &v);
        s
    })
}

#[test]
fn a_table_evaluated_function_fails_at_the_argument_it_names() {
    // At the first argument: its source path is named.
    let e = run_one("number($.detail.orderId)").unwrap_err();
    assert_eq!(e.message, "the string is not a number");
    assert_eq!(e.source_path.as_deref(), Some("$.detail.orderId"));
    assert!(e.location.ends_with(":2:20"), "{}", e.location);
    // At the second: the format's column.
    let e = run_one(r#"format_time($.detail.createdTime, "%Q")"#).unwrap_err();
    assert_eq!(e.message, "bad time format `%Q`");
    assert!(e.location.ends_with(":2:47"), "{}", e.location);
    // An error evaluating an argument is handed on as the evaluator raised it.
    let e = run_one("abs($.detail.skuList[*].skuQuantity)").unwrap_err();
    assert!(
        e.message.starts_with("the path gives 3 values"),
        "{}",
        e.message
    );
    assert_eq!(
        e.source_path.as_deref(),
        Some("$.detail.skuList[*].skuQuantity")
    );
}

#[test]
fn an_absent_first_argument_leaves_the_others_unevaluated() {
    // The second argument would fail (three values where one is expected) if evaluated.
    let bad = "$.detail.skuList[*].skuQuantity";
    assert_eq!(
        run_one(&format!("substr(nonblank($.detail.sellerRemark), {bad})")).unwrap(),
        "null"
    );
    assert!(run_one(&format!("substr(\"abc\", {bad})")).is_err());
}

#[test]
fn list_functions_walk_the_order_and_the_request_in_place() {
    // (A list of strings is refused by check: tests/check/errors/type_mismatch_sum_of_strings.)
    // Sums of none, first and count of a wildcard path of the order.
    assert_eq!(
        run_one("sum(out.orderItemList[*].declareInfo.customsTax)").unwrap(),
        "0"
    );
    assert_eq!(
        run_one("first($.detail.skuList[*].skuDetailList[*].barcode)").unwrap(),
        r#""9300633610227""#
    );
    assert_eq!(run_one("count(out.orderItemList[*])").unwrap(), "3");
    assert_eq!(
        run_one("last(out.orderItemList[*].itemQuantity)").unwrap(),
        "3"
    );
}

#[test]
fn an_absent_text_argument_is_an_error_at_it_not_an_empty_string() {
    // `sellerRemark` is "" in the example: `nonblank` of it is absent.
    let absent = "nonblank($.detail.sellerRemark)";
    let e = run_one(&format!(r#"replace("0571-8888", "-", {absent})"#)).unwrap_err();
    assert_eq!(e.message, "the replacement has no value");
    assert_eq!(e.code.as_str(), "bondmap::run::missing");
    assert_eq!(e.source_path.as_deref(), Some("$.detail.sellerRemark"));
    let e = run_one(&format!(r#"replace("0571-8888", {absent}, "")"#)).unwrap_err();
    assert_eq!(e.message, "the text to replace has no value");
    let e = run_one(&format!("format_time($.detail.createdTime, {absent})")).unwrap_err();
    assert_eq!(e.message, "the format has no value");
}
