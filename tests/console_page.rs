//! The operator's console in a real browser (headless Chromium, tests/common/browser.rs),
//! after a loopback run over the bundled examples (tests/common/console_shop.rs): the
//! login form lets the operator in and the first page lists the orders by stage with the
//! state's counts; a resolve button ends a wait (the order leaves "waiting for a person",
//! its path shows the resolve); the figures refresh without a reload; a page opened
//! without the token shows nothing of the orders and the API answers it 401. One browser
//! at a time.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/console_shop.rs"]
mod shop;

use browser::{js_str, Browser, Page, SLOW};
use shop::{Shop, IDENTITY, REFUSED, REJECTED, TOKEN};
use std::sync::Mutex;
use std::time::Duration;

static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// Fills the field `selector` with `value` (as pasted: typing key by key takes the rig a
/// quarter of a second a character).
fn fill(page: &Page, selector: &str, value: &str) {
    page.wait_for(selector, SLOW);
    let done = page.eval(&format!(
        "(() => {{ const i = document.querySelector({}); i.value = {}; return i.value; }})()",
        js_str(selector),
        js_str(value)
    ));
    assert_eq!(done, value);
}

/// Logs in through the form, as the operator would, and waits for the first page.
fn log_in(page: &Page) {
    fill(page, "#login input[name=token]", TOKEN);
    page.click("#login button[type=submit]");
    page.wait_for("#figures", SLOW);
}

/// The shop settled, a browser, and the console's first page after the login.
fn with_console(test: impl FnOnce(&Shop, &Page)) {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let shop = Shop::start(Some(TOKEN));
    let b = Browser::start();
    let page = b.open(&shop.url("/"));
    log_in(&page);
    test(&shop, &page);
}

/// The order ids listed under "waiting for a person".
fn waiting(page: &Page) -> Vec<String> {
    let v = page
        .eval("[...document.querySelectorAll('#waiting article.wait')].map(a => a.dataset.order)");
    let mut ids: Vec<String> = serde_json::from_value(v).unwrap();
    ids.sort();
    ids
}

#[test]
fn the_console_lists_the_orders_of_a_run_by_stage_with_the_right_counts() {
    with_console(|shop, page| {
        let counts = shop.counts();
        for (stage, n) in &counts {
            let shown = page.text(&format!("#stages td.count[data-stage='{stage}']"));
            assert_eq!(shown, n.to_string(), "{stage}");
        }
        assert_eq!(page.text("#total"), "13");
        assert_eq!(counts["delivered"], shop::DELIVERED as u64);
        assert_eq!(waiting(page), [IDENTITY, REFUSED, REJECTED[0], REJECTED[1]]);
        let identity = format!("#waiting article[data-order='{IDENTITY}']");
        assert!(page
            .text(&identity)
            .contains("customs could not verify the buyer's identity"));
        // The warehouse's words, masked as kept; a button per action, named as `resolve`
        // names it, and a field labelled "note" only where the action needs one.
        let reason = page.text(&format!("{identity} .reason"));
        assert!(reason.contains("张* 3301***********234"), "{reason}");
        let buttons = page.eval(&format!(
            "[...document.querySelectorAll({})].map(b => b.innerText)",
            js_str(&format!("{identity} form.act button"))
        ));
        assert_eq!(buttons, serde_json::json!(["cancel-at-warehouse", "close"]));
        assert_eq!(
            page.count(&format!("{identity} form.act input[name=note]")),
            1
        );
        assert_eq!(
            page.count(&format!(
                "{identity} form[data-action=close] input[name=note]"
            )),
            1
        );
        let label = page.text(&format!("{identity} form[data-action=close] label"));
        assert!(label.starts_with("note"), "{label}");
        // A stage's orders, from its count.
        page.click("#stages a[href='/orders?stage=rejected']");
        page.wait_for("#orders", SLOW);
        let ids = page
            .eval("[...document.querySelectorAll('#orders tbody tr')].map(r => r.dataset.order)");
        assert_eq!(ids, serde_json::json!(REJECTED));
        // One order's page: its path and the request sent, masked.
        page.click(&format!("#orders a[href='/orders/{}']", REJECTED[0]));
        page.wait_for("#history", SLOW);
        assert!(page.text("#history").contains("→ rejected"));
        assert!(page.text("#request").contains("not kept"));
        let b = shop.url(&format!("/orders/{}", shop::IDENTITY));
        page.tab.navigate_to(&b).unwrap();
        page.wait_for_text("#request", "externalOrderCode", SLOW)
            .unwrap();
        let request = page.text("#request pre");
        assert!(
            request.contains(r#""externalOrderCode": "P78811223300000001""#),
            "{request}"
        );
        assert!(
            !request.contains("张三") && request.contains("张*"),
            "{request}"
        );
    });
}

#[test]
fn a_resolve_button_ends_a_wait_and_the_history_shows_it() {
    with_console(|shop, page| {
        let close = format!("#waiting article[data-order='{IDENTITY}'] form[data-action=close]");
        fill(
            page,
            &format!("{close} input[name=note]"),
            "refunded by customer service",
        );
        page.click(&format!("{close} button"));
        page.wait_for("#done", SLOW);
        assert_eq!(page.text("#order-id"), IDENTITY);
        assert_eq!(page.text("#stage"), "closed");
        assert!(page.text("#done").starts_with("close recorded"));
        assert_eq!(page.count("#wait"), 0, "it waits for no one now");
        let resolve = page.text("#history tr.event[data-kind=resolve]");
        assert!(
            resolve.contains("close") && resolve.contains("refunded by customer service"),
            "{resolve}"
        );
        assert!(
            resolve.contains("console from 127.0.0.1 (session "),
            "{resolve}"
        );
        assert_eq!(shop.stage(IDENTITY), bondmap::store::Stage::Closed);
        // Back on the first page it is no longer waiting.
        page.click("header a.brand");
        page.wait_for("#figures", SLOW);
        assert_eq!(waiting(page), [REFUSED, REJECTED[0], REJECTED[1]]);
        assert_eq!(page.text("#waiting-count"), "3");
        assert_eq!(page.text("#stages td.count[data-stage='closed']"), "1");
    });
}

#[test]
fn the_figures_and_counts_refresh_without_a_reload() {
    with_console(|shop, page| {
        assert_eq!(page.text("#health-status"), "ok");
        assert!(
            page.text("#red-calls").starts_with("ok "),
            "{}",
            page.text("#red-calls")
        );
        assert_eq!(page.text("#orders-day"), "10");
        assert_eq!(page.count("#hours .bar"), 24);
        // A mark on this document: still there after the refresh, so no reload happened.
        page.eval("window.stillTheSamePage = true");
        let r = reqwest::blocking::Client::new()
            .post(shop.url(&format!("/api/orders/{}/resolve", REJECTED[1])))
            .bearer_auth(TOKEN)
            .body(r#"{"action": "close", "note": "not sold any more"}"#)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        page.wait_for_text("#waiting-count", "3", SLOW)
            .unwrap_or_else(|t| panic!("not refreshed after {t:?}"));
        page.wait_for_text("#stages td.count[data-stage='closed']", "1", SLOW)
            .unwrap();
        assert_eq!(page.text("#stages td.count[data-stage='rejected']"), "1");
        assert!(!page
            .eval("document.getElementById('waiting-changed').hidden")
            .as_bool()
            .unwrap());
        assert_eq!(
            page.eval("window.stillTheSamePage === true"),
            serde_json::Value::Bool(true)
        );
        assert!(page.text("#refreshed").starts_with("refreshed"));
    });
}

#[test]
fn without_the_token_a_page_shows_nothing_of_the_orders_and_the_api_answers_401() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let shop = Shop::start(Some(TOKEN));
    let b = Browser::start();
    for path in [
        "/",
        "/orders?stage=delivered",
        &format!("/orders/{}", REJECTED[0]),
    ] {
        let page = b.open(&shop.url(path));
        page.wait_for("#login", SLOW);
        let shown = page.text("body");
        for id in [IDENTITY, REFUSED, REJECTED[1]] {
            assert!(!shown.contains(id), "{path}: {shown}");
        }
        assert_eq!(page.count("#stages"), 0);
        assert_eq!(page.count("#waiting"), 0);
        let status = page.eval("fetch('/api/overview').then(r => r.status)");
        assert_eq!(status, 401, "{path}");
        let body = page.eval("fetch('/api/orders').then(r => r.text())");
        assert!(!body.as_str().unwrap().contains("P788112233"), "{body}");
    }
    // A wrong token is the form again.
    let page = b.open(&shop.url("/"));
    fill(
        &page,
        "#login input[name=token]",
        "not-the-token-of-this-console",
    );
    page.click("#login button[type=submit]");
    page.wait_for_text("main", "not the console's token", SLOW)
        .unwrap();
    assert_eq!(page.count("#figures"), 0);
}

/// README's picture (docs/img/console.png), taken on request:
/// `cargo test --test console_page -- --ignored readme_screenshot`.
#[test]
#[ignore = "writes docs/img/console.png; run it to renew README's picture"]
fn readme_screenshot() {
    with_console(|_shop, page| {
        std::thread::sleep(Duration::from_millis(300));
        page.screenshot(&common::root().join("docs/img/console.png"));
    });
}
