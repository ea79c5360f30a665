//! A bounded property run of the parser, formatter and checker over random and mutated
//! mapping text (the unbounded one is `cargo fuzz run parse` in fuzz/).

use bondmap::syntax::{parse, print::format, FileId};
use proptest::prelude::*;
use std::path::Path;

fn base() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/cainiao/bonded_whs.map"),
    )
    .unwrap()
}

fn exercise(text: &str) {
    let _ = parse(text, FileId(0));
    if let Ok(once) = format(text) {
        assert_eq!(
            format(&once).ok().as_deref(),
            Some(once.as_str()),
            "fmt is not idempotent on {text:?}"
        );
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/cainiao");
    let (m, _) = bondmap::load::load_str("fuzz.map", text, &dir);
    let _ = bondmap::compile::compile(
        &m,
        &bondmap::compile::Options {
            allow_unset_params: true,
            ..Default::default()
        },
    );
}

/// A red run can be replayed: the random source is seeded ([`SEED`], or
/// `PROPTEST_RNG_SEED=n` to explore others), and every failure found is written to
/// `proptest-regressions/parser_fuzz.txt`, whose cases run first on every run (commit it).
const SEED: u64 = 20_261_201;

fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: 300,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/parser_fuzz.txt",
            ),
        )),
        rng_seed: match std::env::var_os("PROPTEST_RNG_SEED") {
            Some(_) => default.rng_seed,
            None => proptest::test_runner::RngSeed::Fixed(SEED),
        },
        ..default
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_text_never_panics(text in "[ -~\\n\\u{4e00}-\\u{4e10}]{0,200}") {
        exercise(&text);
    }

    #[test]
    fn random_tokens_never_panic(tokens in proptest::collection::vec(prop_oneof![
        Just("a"), Just("="), Just("{"), Just("}"), Just("("), Just(")"), Just("$.x[?(@.t == 1)]"),
        Just("for"), Just("in"), Just("if"), Just("then"), Just("else"), Just("??"), Just("\"s\""),
        Just("12.5 yuan"), Just("goods[k].c"), Just("out.a.b"), Just("let"), Just("require"), Just("\n"),
        Just("#c\n"), Just(","), Just("+"), Just("-"), Just("not"), Just("table t { 1 => 2 }"),
    ], 0..60)) {
        exercise(&tokens.join(" "));
    }

    #[test]
    fn mutated_base_mapping_never_panics(cut in 0usize..6000, len in 0usize..40, insert in "[{}()\\[\\]=\"#$.a-z ]{0,8}") {
        let text = base();
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) { at -= 1; }
        let mut end = (at + len).min(text.len());
        while !text.is_char_boundary(end) { end -= 1; }
        let mutated = format!("{}{}{}", &text[..at], insert, &text[end.max(at)..]);
        exercise(&mutated);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("a = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = parse(&text, FileId(0)).unwrap_err();
    assert!(e.message.contains("nesting"));
    let blocks = format!("{}{}", "a {".repeat(10_000), "}".repeat(10_000));
    assert!(parse(&blocks, FileId(0)).is_err());
}
