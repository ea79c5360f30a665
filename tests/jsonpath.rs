//! bondmap's paths against RFC 9535: every case of the JSONPath Compliance Test Suite
//! (`tests/jsonpath/cts.json`, see its README) run as bondmap runs a path, as a one-field
//! mapping `out = SELECTOR` checked against a one-field target schema and run over the
//! case's document. A valid selector must select what the suite says, in its order (or in
//! one of the orders it allows); an invalid one must be a `check` error whose span lies
//! inside the selector and whose message says what is wrong there.

use bondmap::compile::{compile, Options};
use bondmap::diag::{Code, Diag};
use bondmap::load::load_str;
use bondmap::path::PathCode;
use bondmap::program::{Global, Node, Op};
use bondmap::run::json::write_json;
use bondmap::value::Val;
use serde_json::Value;
use std::path::Path;

/// The selectors the suite calls invalid only for the blank before or after them. In a
/// mapping the blanks around a path are the mapping's own (`out =  $` is `out = $`), so
/// there is no path with a blank at either end to refuse: these select what `$` selects.
const BLANK_AROUND: &[&str] = &[
    "basic, no leading whitespace",
    "basic, no trailing whitespace",
];

struct Case {
    name: String,
    selector: String,
    document: Value,
    /// The node lists the suite allows (one, or several where the order is free); `None`
    /// for an invalid selector.
    results: Option<Vec<Vec<Value>>>,
}

fn cases() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jsonpath/cts.json");
    let suite: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    suite["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let list = |v: &Value| v.as_array().unwrap().clone();
            let results = if t["invalid_selector"] == Value::Bool(true) {
                None
            } else if let Some(r) = t.get("result") {
                Some(vec![list(r)])
            } else {
                Some(t["results"].as_array().unwrap().iter().map(list).collect())
            };
            Case {
                name: t["name"].as_str().unwrap().to_string(),
                selector: t["selector"].as_str().unwrap().to_string(),
                document: t.get("document").cloned().unwrap_or(Value::Null),
                results,
            }
        })
        .collect()
}

/// What bondmap made of one case.
#[derive(Debug)]
enum Outcome {
    /// It checked and ran: the nodes the path selected (a singular path's one value as a
    /// list of one, or none when it reached nothing) and, for a list path, what the run's
    /// `count(…)` of it wrote.
    Selected(Vec<Value>, Option<u64>),
    /// `check` refused it: its errors.
    Refused(Vec<Diag>),
    /// It checked but the run failed.
    #[allow(dead_code)] // shown in a failure's message
    Failed(String),
}

/// The case's mapping: the selector as the value of a `let` and, for a list path, as the
/// argument of `count`, whose field the run writes (a target field takes values of one
/// type, the suite's nodes are of any: their list is read from the compiled `let`, as the
/// evaluator reads a path, [`PathCode::eval`]).
const HEAD: &str = "target \"t.json\"\nlet v = ";

fn single(selector: &str) -> bool {
    PathCode::compile(selector.trim()).is_ok_and(|c| c.is_single())
}

fn run(dir: &Path, case: &Case) -> Outcome {
    let text = if single(&case.selector) {
        format!("{HEAD}{}\n", case.selector)
    } else {
        format!("{HEAD}{0}\nn = count({0})\n", case.selector)
    };
    let (m, mut diags) = load_str("case.map", &text, dir);
    if !diags.iter().any(Diag::is_error) {
        let (p, more) = compile(&m, &Options::default());
        diags.extend(more);
        if let (Some(p), false) = (p, diags.iter().any(Diag::is_error)) {
            let code = p.globals.iter().find_map(|g| match g {
                Global::Let(Node {
                    code: Op::Src(c, _),
                    ..
                }) => Some(c),
                _ => None,
            });
            let Some(code) = code else {
                panic!("{}: no path in the let", case.name)
            };
            let nodes = match code.eval(&case.document) {
                Ok(Val::List(l)) => l.iter().map(json).collect(),
                Ok(Val::Null) => vec![],
                Ok(v) if code.is_single() => vec![json(&v)],
                Ok(v) => panic!("{}: a list path gave {v:?}", case.name),
                Err(e) => return Outcome::Failed(e),
            };
            return match bondmap::run::run(&p, &case.document) {
                Ok(out) => {
                    let out: Value = serde_json::from_str(&out).unwrap();
                    let n = (!code.is_single()).then(|| out["n"].as_u64().unwrap_or(u64::MAX));
                    Outcome::Selected(nodes, n)
                }
                Err(e) => Outcome::Failed(e.message),
            };
        }
    }
    Outcome::Refused(diags.into_iter().filter(Diag::is_error).collect())
}

fn json(v: &Val) -> Value {
    let mut s = String::new();
    write_json(&mut s, v);
    serde_json::from_str(&s).unwrap()
}

/// JSON equality with numbers equal by value (`1` and `1.0`, which bondmap writes as `1`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn same_list(got: &[Value], want: &[Value]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(a, b)| same(a, b))
}

/// Whether `got` is what the suite allows. bondmap's values know no difference between
/// JSON `null` and nothing (DESIGN: a value is "absent or JSON null"): a singular path
/// that reaches a `null` gives nothing, as when it reaches no node.
fn selects(got: &[Value], allowed: &[Vec<Value>], single: bool) -> bool {
    allowed
        .iter()
        .any(|want| same_list(got, want) || (single && got.is_empty() && want == &[Value::Null]))
}

fn dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.json"),
        r#"{"type": "object", "properties": {"n": {"type": "integer"}}}"#,
    )
    .unwrap();
    dir
}

#[test]
fn every_valid_selector_selects_what_the_suite_says() {
    let dir = dir();
    let mut wrong = Vec::new();
    let mut valid = 0;
    for case in cases() {
        let Some(allowed) = &case.results else {
            continue;
        };
        valid += 1;
        match run(dir.path(), &case) {
            Outcome::Selected(got, n)
                if selects(&got, allowed, single(&case.selector))
                    && n.is_none_or(|n| n as usize == got.len()) => {}
            other => wrong.push(format!(
                "{}: `{}` gave {other:?}, the suite says {allowed:?}",
                case.name, case.selector
            )),
        }
    }
    assert_eq!(valid, 456);
    assert!(
        wrong.is_empty(),
        "{} of {valid} valid selectors select something else:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_invalid_selector_is_a_check_error_at_its_span() {
    let dir = dir();
    let mut wrong = Vec::new();
    let mut invalid = 0;
    for case in cases() {
        if case.results.is_some() || BLANK_AROUND.contains(&case.name.as_str()) {
            continue;
        }
        invalid += 1;
        let (start, end) = (HEAD.len(), HEAD.len() + case.selector.len());
        match run(dir.path(), &case) {
            Outcome::Refused(errors)
                if errors.iter().any(|d| {
                    matches!(d.code, Code::BadPath | Code::Parse)
                        // Said in words: what is wrong, not only where the parser stopped.
                        && !d.message.contains("this is not RFC 9535 JSONPath")
                        && d.span
                            .is_some_and(|s| (s.start as usize) >= start && (s.end as usize) <= end)
                }) => {}
            other => wrong.push(format!("{}: `{}` gave {other:?}", case.name, case.selector)),
        }
    }
    assert_eq!(invalid, 245);
    assert!(
        wrong.is_empty(),
        "{} of {invalid} invalid selectors pass `check`:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The two selectors with a blank around them: the blank is the mapping's, the path is `$`.
#[test]
fn a_blank_around_a_path_belongs_to_the_mapping() {
    let dir = dir();
    for name in BLANK_AROUND {
        let all = cases();
        let mut case = all.into_iter().find(|c| c.name == *name).unwrap();
        assert!(case.results.is_none(), "{name} is no longer invalid");
        case.document = serde_json::json!({"a": [1]});
        match run(dir.path(), &case) {
            Outcome::Selected(got, None) => assert!(same_list(&got, &[case.document.clone()])),
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// The checker's diagnostics of paths (`unknown_source`, `bad_path`) in `expr`, read
/// against RED's order contract: (code, the text the span covers, message, help).
fn source_diags(expr: &str) -> Vec<(Code, String, String, Option<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/cainiao");
    let text = format!(
        "target \"../schemas/red_order_deliver.schema.json\"\n\
         source \"../schemas/red_order.schema.json\"\n\
         deliveringTime = {expr}\n"
    );
    let (m, mut diags) = load_str("probe.map", &text, &dir);
    if !diags.iter().any(Diag::is_error) {
        diags.extend(compile(&m, &Options::default()).1);
    }
    diags
        .into_iter()
        .filter(|d| matches!(d.code, Code::UnknownSource | Code::BadPath))
        .map(|d| {
            let s = d.span.unwrap();
            let at = text[s.start as usize..s.end as usize].to_string();
            (d.code, at, d.message, d.help)
        })
        .collect()
}

#[test]
fn the_new_forms_are_checked_against_the_source_contract() {
    // Descendants, bracketed descendants, nested filters, blanks between segments: lists,
    // checked where the contract can tell.
    for ok in [
        "count($..barcode)",
        "count($..pricePerSku)",
        "count($.detail..[0])",
        "count($.detail.skuList[?@.skuDetailList[?@.quantity > 1]])",
        "count($ .detail\n  .skuList [*])",
        "count($.detail['skuList'][*])",
        "len($.detail.orderId)",
    ] {
        assert_eq!(source_diags(ok), vec![], "{ok}");
    }
    // A name no field below has (where every part below is known: a value typed as a
    // union, such as `detail.outPromotionAmount`, may be anything).
    let d = source_diags("count($.detail.skuList..barcod)");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0, d[0].1.as_str()), (Code::UnknownSource, "barcod"));
    assert_eq!(
        d[0].2,
        "the input has no field `barcod` anywhere below here"
    );
    assert!(d[0].3.as_deref().unwrap_or("").contains("barcode"), "{d:?}");
    // Blank space between segments does not hide a wrong name from the checker.
    let d = source_diags("count($ .detail .skuLis[*])");
    assert_eq!(
        (d[0].0, d[0].1.as_str()),
        (Code::UnknownSource, "skuLis"),
        "{d:?}"
    );
    // A quoted name with an escape is the name it stands for.
    let d = source_diags(r#"$["detai\u006c"].orderI"#);
    assert_eq!(
        (d[0].0, d[0].1.as_str()),
        (Code::UnknownSource, "orderI"),
        "{d:?}"
    );
    // A typed list: the one `barcode` field below the SKUs is a string, whose sum is refused.
    let all = {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/cainiao");
        let text = "target \"../schemas/red_order_deliver.schema.json\"\n\
                    source \"../schemas/red_order.schema.json\"\n\
                    deliveringTime = sum($.detail.skuList..barcode)\n";
        let (m, _) = load_str("probe.map", text, &dir);
        compile(&m, &Options::default()).1
    };
    assert!(all.iter().any(|d| d.code == Code::TypeMismatch), "{all:?}");
}

#[test]
fn a_refused_path_is_pointed_at_where_it_is_wrong() {
    let d = source_diags("count($.detail.skuList[01])");
    assert_eq!((d[0].0, d[0].1.as_str()), (Code::BadPath, "01"), "{d:?}");
    assert_eq!(
        d[0].2,
        "bad path `$.detail.skuList[01]`: `01`: an index has no leading zero, write `1`"
    );
    // Below a loop item: the span is in the mapping's text of the tail.
    let d = source_diags("count(sku.skuDetailList[+1])");
    assert!(
        d.iter()
            .any(|(c, at, m, _)| *c == Code::BadPath && at == "+1" && m.contains("`+` sign")),
        "{d:?}"
    );
}
