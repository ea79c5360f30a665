//! The playground in a real browser (headless Chromium, tests/common/browser.rs): the page
//! opens with the warehouse mapping and an example mapped, shows a misspelt field's
//! problem within a second of typing it, maps another example when it is chosen, shows a
//! field's explain on a click, and highlights the language's keywords. One browser at a
//! time (a browser each, so none outlives its test).

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/serve.rs"]
mod serve;

use browser::{Browser, Page, SLOW};
use serve::Served;
use std::sync::Mutex;
use std::time::Duration;

static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// The playground over the bundled mappings and examples, a browser, and the page
/// opened once the first request is shown.
fn opened() -> (Served, Browser, Page) {
    let served = Served::start(&["play", "--listen", "127.0.0.1:0"], "playground: ");
    let b = Browser::start();
    let page = b.open(&served.url);
    page.wait_for("#request .field", SLOW);
    (served, b, page)
}

fn with_page(test: impl FnOnce(&Page)) {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (_served, _browser, page) = opened();
    test(&page);
}

#[test]
fn the_page_opens_with_the_warehouse_mapping_and_an_example_mapped() {
    with_page(|page| {
        assert_eq!(
            page.eval("document.querySelector('#file').value"),
            "warehouses/hangzhou_xiasha.map"
        );
        assert!(page
            .text("#mapping-editor .cm-content")
            .contains(r#"use "../cainiao/bonded_whs.map""#));
        assert_eq!(
            page.eval("document.querySelector('#example').value"),
            "01_single_sku_alipay.json"
        );
        let request = page.text("#request");
        // The request of example 01 (`bondmap map` writes the same; tests/play.rs holds
        // the API to it), its personal values masked.
        for want in [
            r#""externalOrderCode": "P78811223300000001""#,
            r#""storeCode": "HZ_XIASHA_01""#,
            r#""itemId": "678901234500""#,
            r#""actualPayment": 24875"#,
            r#""name": "李*""#,
        ] {
            assert!(request.contains(want), "{want} in\n{request}");
        }
        assert!(!request.contains("李四"), "the receiver's name is masked");
        assert!(page
            .text("#outcome")
            .contains("mapped: order P78811223300000001"));
        assert_eq!(page.text("#check-summary"), "no problems");
    });
}

#[test]
fn a_misspelt_field_shows_its_problem_within_a_second() {
    with_page(|page| {
        page.wait_for("#check-summary.good", SLOW);
        page.click("#mapping-editor .cm-content");
        page.press("End", &["Control"]);
        page.type_text("\nreceiverInfo.cty = \"杭州\"");
        // Timed from the last key: the check runs on the server after a pause in typing.
        let took = page.wait_until(
            "[...document.querySelectorAll('#problems .problem')].some(p => \
             p.dataset.code === 'bondmap::unknown_field' && p.innerText.includes('receiverInfo.cty'))",
            SLOW,
        );
        let took = took.unwrap_or_else(|t| panic!("no problem shown after {t:?}"));
        eprintln!("the problem showed {took:?} after the last key");
        assert!(
            took <= Duration::from_secs(1),
            "the problem showed after {took:?}"
        );
        // At its span in the editor: the misspelt name underlined, the message on hover.
        page.wait_for("#mapping-editor .cm-lintRange-error", SLOW);
        let underlined = page.text("#mapping-editor .cm-lintRange-error");
        assert_eq!(underlined, "cty");
        let problem = page.text("#problems .problem");
        assert!(problem.contains("16:14"), "line and column: {problem}");
        assert!(problem.contains("did you mean `city`?"), "{problem}");
        assert!(
            page.text("#outcome").contains("the mapping has errors") || {
                page.wait_for_text("#outcome", "the mapping has errors", SLOW)
                    .is_ok()
            }
        );
    });
}

#[test]
fn choosing_another_example_maps_it() {
    with_page(|page| {
        page.choose("#example", "09_bundle_two_goods.json");
        page.wait_for_text("#outcome", "P78811223300000009", SLOW)
            .unwrap_or_else(|t| panic!("not mapped after {t:?}: {}", page.text("#result")));
        assert_eq!(
            page.count("#request [data-field='orderItemList[1].itemId']"),
            1
        );
        // A rejected one: its code and what rejected it.
        page.choose("#example", "12_reject_address_changed.json");
        page.wait_for("#rejection", SLOW);
        assert_eq!(page.text("#rejection .code"), "bondmap::run::require");
        assert!(page
            .text("#rejection .trace")
            .contains("$.receiver.receiverInfos[0].matched = false"));
        assert_eq!(page.text("#outcome"), "rejected");
    });
}

#[test]
fn clicking_a_field_of_the_request_shows_its_explain() {
    with_page(|page| {
        page.click("#request [data-field='orderItemList[0].itemQuantity']");
        page.wait_for_text("#explain", "good.quantity", SLOW)
            .unwrap_or_else(|t| panic!("no explain after {t:?}: {}", page.text("#explain")));
        let shown = page.text("#explain");
        // What `bondmap explain --field orderItemList[0].itemQuantity` prints.
        let cli = common::bondmap(&[
            "explain",
            "-m",
            "mappings/warehouses/hangzhou_xiasha.map",
            "-i",
            "examples/orders/01_single_sku_alipay.json",
            "--field",
            "orderItemList[0].itemQuantity",
        ]);
        assert_eq!(shown.trim_end(), common::text(&cli.stdout).trim_end());
        assert_eq!(page.text("#explain-field"), "orderItemList[0].itemQuantity");
        // A personal field: masked, as everywhere.
        page.click("#request [data-field='receiverInfo.name']");
        page.wait_for_text("#explain", "receiverName", SLOW)
            .unwrap();
        let shown = page.text("#explain");
        assert!(shown.contains("李*") && !shown.contains("李四"), "{shown}");
    });
}

#[test]
fn keywords_are_highlighted_from_the_languages_list() {
    with_page(|page| {
        // `use`, `param` and `table … from … key` are keywords of the one list the server
        // hands the page (src/syntax/keywords.rs); `store_code` is a name.
        page.wait_until(
            "[...document.querySelectorAll('#mapping-editor .cm-content span')].some(s => s.innerText === 'table')",
            SLOW,
        )
        .unwrap_or_else(|t| panic!("no highlighting after {t:?}"));
        let styled = page.eval(
            "(() => { const c = document.querySelector('#mapping-editor .cm-content'); \
             const style = w => { for (const s of c.querySelectorAll('span')) \
               if (s.innerText === w) return getComputedStyle(s).color; return null; }; \
             return [style('use'), style('param'), style('from'), style('key'), style('store_code')]; })()",
        );
        let s: Vec<Option<String>> = serde_json::from_value(styled).unwrap();
        let kw = s[0].clone().expect("`use` in its own span");
        assert!(s[1..4].iter().all(|c| c.as_ref() == Some(&kw)), "{s:?}");
        assert_ne!(s[4].as_ref(), Some(&kw), "a name is not a keyword: {s:?}");
    });
}

/// README's picture (docs/img/playground.png), taken on request:
/// `cargo test --test play_page -- --ignored readme_screenshot`.
#[test]
#[ignore = "writes docs/img/playground.png; run it to renew README's picture"]
fn readme_screenshot() {
    with_page(|page| {
        page.choose("#example", "07_cosmetic_tax_split_fraction.json");
        page.wait_for_text("#outcome", "P78811223300000007", SLOW)
            .unwrap();
        page.click("#request [data-field='orderAmountInfo.vat']");
        page.wait_for_text("#explain", "vat", SLOW).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        page.screenshot(&common::root().join("docs/img/playground.png"));
    });
}
