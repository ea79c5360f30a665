//! The operator's console without a browser (issue 24 §1 and §3): every route of the
//! console is 401 without its token (the routes listed by the router itself), or with a
//! wrong one; the bearer token and the login's cookie let in; a session's POST without
//! its CSRF token, with a wrong one, or from another origin is refused and changes
//! nothing; a resolve through the API is recorded in the history as the console's; no
//! personal value of the bundled examples is in any answer; hostile ids and reasons are
//! escaped; a short token stops `sync`, none serves no console.

mod common;
#[path = "common/console_shop.rs"]
mod shop;

use bondmap::console::{self, Console, Route};
use bondmap::http::{Limits, Server};
use bondmap::store::{Stage, Store};
use common::*;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};
use shop::{Shop, IDENTITY, REFUSED, REJECTED, TOKEN};
use std::time::Duration;

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A route's path with `{id}` filled in.
fn path_of(r: &Route, id: &str) -> String {
    r.path.replace("{id}", id)
}

fn request(c: &Client, method: &str, url: &str) -> RequestBuilder {
    match method {
        "POST" => c.post(url).body(""),
        _ => c.get(url),
    }
}

fn status_text(r: Response) -> (u16, String) {
    (r.status().as_u16(), r.text().unwrap())
}

/// Logs in through the form as a browser would (its Origin); the session cookie.
fn login(shop: &Shop) -> String {
    let r = client()
        .post(shop.url("/login"))
        .header("Origin", shop.url(""))
        .form(&[("token", TOKEN), ("next", "/")])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    set.split(';').next().unwrap().to_string()
}

/// The CSRF token the pages of a session carry.
fn csrf_of(shop: &Shop, cookie: &str) -> String {
    let page = client()
        .get(shop.url("/"))
        .header("Cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with the CSRF token")
        + 19;
    page[at..at + 64].to_string()
}

#[test]
fn every_console_route_is_401_without_the_token_and_shows_nothing_the_rest_stays_open() {
    let shop = Shop::start(Some(TOKEN));
    let c = client();
    let routes = console::routes();
    assert!(routes.len() >= 10, "{routes:?}");
    for r in &routes {
        let url = shop.url(&path_of(r, IDENTITY));
        if r.public {
            continue;
        }
        for (how, req) in [
            ("no token", request(&c, r.method, &url)),
            (
                "a wrong bearer",
                request(&c, r.method, &url).bearer_auth("console-token-for-the-tests-9999"),
            ),
            (
                "a made-up session",
                request(&c, r.method, &url)
                    .header("Cookie", format!("bondmap_console={}", "ab".repeat(32))),
            ),
            (
                "the token without `Bearer`",
                request(&c, r.method, &url).header("Authorization", TOKEN),
            ),
        ] {
            let (code, body) = status_text(req.send().unwrap());
            assert_eq!(code, 401, "{} {} with {how}: {body}", r.method, r.path);
            // Nothing of the state (the login form may only name the page asked for).
            for shown in [
                REFUSED,
                REJECTED[0],
                REJECTED[1],
                "delivered",
                "customs",
                "张",
            ] {
                assert!(
                    !body.contains(shown),
                    "{} {}: {shown} in {body}",
                    r.method,
                    r.path
                );
            }
        }
    }
    // The two open ones: a wrong token at the login is 401 too; the style sheet has no data.
    let (code, body) = status_text(
        c.post(shop.url("/login"))
            .header("Origin", shop.url(""))
            .form(&[("token", "console-token-for-the-tests-9999")])
            .send()
            .unwrap(),
    );
    assert_eq!(code, 401);
    assert!(body.contains("not the console's token") && !body.contains("P788112233"));
    let (code, form) = status_text(c.get(shop.url("/login")).send().unwrap());
    assert_eq!(code, 401);
    assert!(
        form.contains("id=\"login\"") && !form.contains("P788112233"),
        "{form}"
    );
    let (code, css) = status_text(c.get(shop.url("/assets/console.css")).send().unwrap());
    assert_eq!(code, 200);
    assert!(!css.contains("P788112233"));
    // The callback, /healthz and /metrics stay as they were: no token.
    assert_eq!(
        c.get(shop.url("/healthz"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        c.get(shop.url("/metrics"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let (code, body) = status_text(c.get(shop.url("/cainiao/callback")).send().unwrap());
    assert_eq!(code, 405, "{body}");
    // And nothing of the console was changed by all that.
    assert_eq!(shop.stage(IDENTITY), Stage::CustomsFailed);
}

#[test]
fn bearer_and_login_let_in_and_the_overview_counts_what_the_state_holds() {
    let shop = Shop::start(Some(TOKEN));
    let c = client();
    let (code, body) = status_text(
        c.get(shop.url("/api/overview"))
            .bearer_auth(TOKEN)
            .send()
            .unwrap(),
    );
    assert_eq!(code, 200, "{body}");
    let o: Value = serde_json::from_str(&body).unwrap();
    let counts = shop.counts();
    for s in o["stages"].as_array().unwrap() {
        assert_eq!(s["count"], counts[s["stage"].as_str().unwrap()], "{s}");
    }
    assert_eq!(o["total"], 13);
    let mut waiting: Vec<&str> = o["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["order_id"].as_str().unwrap())
        .collect();
    waiting.sort_unstable();
    assert_eq!(waiting, [IDENTITY, REFUSED, REJECTED[0], REJECTED[1]]);
    assert_eq!(o["waiting_total"], 4);
    let identity = o["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["order_id"] == IDENTITY)
        .unwrap();
    assert_eq!(identity["actions"], json!(["cancel-at-warehouse", "close"]));
    assert_eq!(
        identity["headline"],
        "customs could not verify the buyer's identity"
    );
    // The figures: /healthz's verdict, /metrics's RED calls, the orders accepted.
    let f = &o["figures"];
    assert_eq!(f["health"]["status"], "ok", "{f}");
    assert_eq!(f["health"]["needs_person"], 4);
    assert!(f["red_calls"]["ok"].as_u64().unwrap() > 0, "{f}");
    // 11 sent (13 less the 2 the mapping rejects), 1 refused by the gateway.
    assert_eq!(f["gateway_requests"]["accepted"], 10, "{f}");
    assert_eq!(f["gateway_requests"]["rejected"], 1, "{f}");
    assert_eq!(f["orders_last_day"], 10, "{f}");
    assert_eq!(f["orders_per_hour"].as_array().unwrap().len(), 24);
    assert!(f["rounds"].as_u64().unwrap() >= 1);

    // The login form: a session cookie, HttpOnly and SameSite=Strict (not Secure
    // without TLS), and the pages open with it.
    let r = c
        .post(shop.url("/login"))
        .header("Origin", shop.url(""))
        .form(&[("token", TOKEN), ("next", "/orders?stage=rejected")])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/orders?stage=rejected");
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["bondmap_console=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Secure"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let (code, page) = status_text(
        c.get(shop.url("/orders?stage=rejected"))
            .header("Cookie", &cookie)
            .send()
            .unwrap(),
    );
    assert_eq!(code, 200);
    for id in REJECTED {
        assert!(page.contains(&format!("data-order=\"{id}\"")), "{page}");
    }
    assert!(!page.contains(&format!("data-order=\"{IDENTITY}\"")));
    // A search by part of the id.
    let page = c
        .get(shop.url("/orders?q=0000001"))
        .header("Cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    // P…01, P…10, P…11, P…12, P…13.
    assert_eq!(page.matches("<tr data-order=").count(), 5, "{page}");
    // A login from another site's page is refused; logging out ends the session.
    let r = c
        .post(shop.url("/login"))
        .header("Origin", "http://evil.example")
        .form(&[("token", TOKEN)])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    let csrf = csrf_of(&shop, &cookie);
    let r = c
        .post(shop.url("/logout"))
        .header("Cookie", &cookie)
        .header("Origin", shop.url(""))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let r = c
        .get(shop.url("/"))
        .header("Cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[test]
fn a_sessions_post_without_its_csrf_token_or_from_another_origin_is_refused_and_changes_nothing() {
    let shop = Shop::start(Some(TOKEN));
    let c = client();
    let cookie = login(&shop);
    let csrf = csrf_of(&shop, &cookie);
    fn form(csrf: Option<&str>) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("action", "close".to_string()),
            ("note", "refunded".to_string()),
        ];
        if let Some(t) = csrf {
            f.push(("csrf", t.to_string()));
        }
        f
    }
    let to = shop.url(&format!("/orders/{IDENTITY}/resolve"));
    let api = shop.url(&format!("/api/orders/{IDENTITY}/resolve"));
    let body = json!({"action": "close", "note": "refunded"}).to_string();
    let ours = shop.url("");
    let wrong = "0".repeat(64);
    let refused = [
        (
            "no CSRF token",
            c.post(&to).header("Origin", &ours).form(&form(None)),
        ),
        (
            "a wrong CSRF token",
            c.post(&to)
                .header("Origin", &ours)
                .form(&form(Some(&wrong))),
        ),
        (
            "another origin",
            c.post(&to)
                .header("Origin", "http://evil.example")
                .form(&form(Some(&csrf))),
        ),
        (
            "another site's referer",
            c.post(&to)
                .header("Referer", "http://evil.example/x")
                .form(&form(Some(&csrf))),
        ),
        ("no origin at all", c.post(&to).form(&form(Some(&csrf)))),
        (
            "the API without X-CSRF-Token",
            c.post(&api).header("Origin", &ours).body(body.clone()),
        ),
        (
            "the API with a wrong one",
            c.post(&api)
                .header("Origin", &ours)
                .header("X-CSRF-Token", &wrong)
                .body(body.clone()),
        ),
        (
            "the API from another origin",
            c.post(&api)
                .header("Origin", "http://evil.example")
                .header("X-CSRF-Token", &csrf)
                .body(body.clone()),
        ),
    ];
    for (how, req) in refused {
        let (code, text) = status_text(req.header("Cookie", &cookie).send().unwrap());
        assert_eq!(code, 403, "{how}: {text}");
        assert!(text.contains("refused"), "{how}: {text}");
    }
    assert_eq!(shop.stage(IDENTITY), Stage::CustomsFailed);
    let resolves = |h: &Value| {
        h["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "resolve")
            .count()
    };
    assert_eq!(resolves(&shop.history(IDENTITY)), 0);
    // The same form from the console's page, with its token: done, and on to the order.
    let r = c
        .post(&to)
        .header("Cookie", &cookie)
        .header("Referer", shop.url(&format!("/orders/{IDENTITY}")))
        .form(&form(Some(&csrf)))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/orders/{IDENTITY}?done=close").as_str()
    );
    assert_eq!(shop.stage(IDENTITY), Stage::Closed);
    let h = shop.history(IDENTITY);
    assert_eq!(resolves(&h), 1);
    let by = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resolve")
        .unwrap()["user"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(by.starts_with("console from 127.0.0.1 (session "), "{by}");
}

#[test]
fn a_resolve_through_the_api_is_recorded_in_the_history_and_one_that_does_not_fit_changes_nothing()
{
    let shop = Shop::start(Some(TOKEN));
    let c = client();
    let api = |id: &str| shop.url(&format!("/api/orders/{id}/resolve"));
    // `close` needs a note; `retry` does not fit customs.
    for (body, code) in [
        (json!({"action": "close"}), 400),
        (json!({"action": "retry"}), 409),
        (json!({"action": "fly"}), 400),
        (json!({"what": "close"}), 400),
    ] {
        let (got, text) = status_text(
            c.post(api(IDENTITY))
                .bearer_auth(TOKEN)
                .body(body.to_string())
                .send()
                .unwrap(),
        );
        assert_eq!(got, code, "{body}: {text}");
        assert!(serde_json::from_str::<Value>(&text).unwrap()["error"].is_string());
    }
    let (code, _) = status_text(
        c.post(api("NO-SUCH-ORDER"))
            .bearer_auth(TOKEN)
            .body(json!({"action": "close", "note": "x"}).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(code, 404);
    assert_eq!(shop.stage(IDENTITY), Stage::CustomsFailed);
    // Retry of the rejected one (as after a fixed mapping), close of the identity one;
    // the note's phone number is masked as `resolve` masks it.
    let (code, text) = status_text(
        c.post(api(REJECTED[0]))
            .bearer_auth(TOKEN)
            .body(json!({"action": "retry"}).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(code, 200, "{text}");
    let note = "buyer refunded, called 13800138000";
    let (code, text) = status_text(
        c.post(api(IDENTITY))
            .bearer_auth(TOKEN)
            .body(json!({"action": "close", "note": note}).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(code, 200, "{text}");
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (r["action"].as_str(), r["stage"].as_str()),
        (Some("close"), Some("closed"))
    );
    let h = shop.history(IDENTITY);
    assert_eq!(h["stage"], "closed");
    let ev = h["events"].as_array().unwrap();
    let resolve = ev.iter().find(|e| e["kind"] == "resolve").unwrap();
    assert_eq!(resolve["what"], "close");
    assert_eq!(resolve["detail"], "buyer refunded, called 138****8000");
    assert_eq!(resolve["user"], "console from 127.0.0.1 (bearer token)");
    assert_eq!(ev.last().unwrap()["to"], "closed");
    // The order's page and API show the same path.
    let v: Value = c
        .get(shop.url(&format!("/api/orders/{IDENTITY}")))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["history"], h["events"]);
    assert!(v["wait"].is_null());
    // Closed waits for no one: a second close is refused, nothing changes.
    let (code, _) = status_text(
        c.post(api(IDENTITY))
            .bearer_auth(TOKEN)
            .body(json!({"action": "close", "note": "again"}).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(code, 409);
    assert_eq!(
        shop.history(IDENTITY)["events"].as_array().unwrap().len(),
        ev.len()
    );
    let retried = shop.history(REJECTED[0]);
    assert!(retried["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "resolve" && e["what"] == "retry"));
}

/// Every personal value of the bundled examples: the RED documents' own, and each value
/// the mappings write into a personal field of the request.
fn personal_values() -> Vec<String> {
    let programs: Vec<_> = ["hangzhou_xiasha.map", "ningbo_meishan.map"]
        .iter()
        .map(|m| {
            bondmap::engine::load_program(
                &warehouses().join(m),
                &bondmap::compile::Options::default(),
            )
            .map_err(|e| format!("{e:?}"))
            .unwrap()
            .0
        })
        .collect();
    let mut out = Vec::new();
    for d in shop::example_orders() {
        for r in d["receiver"]["receiverInfos"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for f in ["receiverName", "receiverPhone", "receiverAddress"] {
                out.extend(r[f].as_str().map(str::to_string));
            }
            // Not even the head of a street address (`古翠路`), which a shown mask keeps.
            if let Some(a) = r["receiverAddress"].as_str() {
                out.push(a.chars().take(3).collect());
            }
        }
        for r in d["declare"]["orderDeclareInfos"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for f in ["idName", "idNumber", "linkPhone"] {
                out.extend(r[f].as_str().map(str::to_string));
            }
        }
        for p in &programs {
            if let Ok(w) = bondmap::run::request(p, &d) {
                out.extend(w.personal.into_iter().map(|(_, v)| v));
            }
        }
    }
    out.retain(|v| v.chars().count() >= 2);
    out.sort();
    out.dedup();
    out
}

#[test]
fn no_personal_value_of_the_examples_is_in_any_page_or_api_answer() {
    let shop = Shop::start(Some(TOKEN));
    let values = personal_values();
    assert!(values.len() > 30, "{values:?}");
    assert!(values.iter().any(|v| v == "张三"));
    assert!(values.iter().any(|v| v == "古翠路"));
    let c = client();
    let mut paths = vec![
        "/".to_string(),
        "/orders".to_string(),
        "/api/overview".to_string(),
        "/api/orders".to_string(),
    ];
    for s in Stage::ALL {
        paths.push(format!("/orders?stage={}", s.as_str()));
        paths.push(format!("/api/orders?stage={}", s.as_str()));
    }
    let ids: Vec<String> = shop::example_orders()
        .iter()
        .map(|d| d["detail"]["orderId"].as_str().unwrap().to_string())
        .collect();
    for id in &ids {
        paths.push(format!("/orders/{id}"));
        paths.push(format!("/api/orders/{id}"));
    }
    let mut kept = 0;
    for p in &paths {
        let (code, body) = status_text(c.get(shop.url(p)).bearer_auth(TOKEN).send().unwrap());
        assert_eq!(code, 200, "{p}: {body}");
        for v in &values {
            assert!(!body.contains(v.as_str()), "{v} in {p}:\n{body}");
        }
        if p.starts_with("/api/orders/P") {
            let v: Value = serde_json::from_str(&body).unwrap();
            if let Some(text) = v["request"]["text"].as_str() {
                kept += 1;
                let sent: Value = serde_json::from_str(text).unwrap();
                assert_eq!(sent["externalOrderCode"], v["order"]["order_id"]);
            }
        }
    }
    // Every order that went to the gateway has its request kept (masked), the rejected
    // ones none.
    assert_eq!(kept, 11);
    // The identity reason quoted the buyer: masked, as kept.
    let v: Value = c
        .get(shop.url(&format!("/api/orders/{IDENTITY}")))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        v["order"]["customs_reason"],
        "订购人身份信息校验未通过：张* 3301***********234 姓名与身份证号不一致"
    );
}

#[test]
fn without_a_token_no_console_is_served_and_a_short_one_stops_sync() {
    let shop = Shop::start(None);
    let c = client();
    let (code, _) = status_text(c.get(shop.url("/")).send().unwrap());
    assert_eq!(code, 404);
    assert_eq!(
        c.get(shop.url("/api/overview"))
            .bearer_auth(TOKEN)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        c.get(shop.url("/healthz"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        shop.log()
            .matches("the operator's console is not served")
            .count(),
        1
    );
    drop(shop);
    let dir = tempfile::tempdir().unwrap();
    let short = "twenty-three-characters";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bondmap"))
        .args([
            "sync",
            "--once",
            "--mapping",
            "mappings/routes.map",
            "--state",
        ])
        .arg(dir.path().join("s.db"))
        .current_dir(root())
        .env("CONSOLE_TOKEN", short)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("CONSOLE_TOKEN") && err.contains("shorter than 24"),
        "{err}"
    );
    assert!(!err.contains(short), "{err}");
    assert!(!dir.path().join("s.db").exists(), "nothing ran");
}

/// The console over a state of its own on this process's server.
fn served(state: &std::path::Path) -> Server {
    let health = bondmap::health::Health::new(state.to_path_buf(), None);
    let c = Console::new(
        state.to_path_buf(),
        health,
        bondmap::config::Secret::new(TOKEN),
        false,
    );
    Server::start(
        "127.0.0.1:0".parse().unwrap(),
        console::router(c),
        Limits::default(),
    )
    .unwrap()
}

#[test]
fn a_hostile_order_id_and_reason_are_escaped_and_a_request_never_kept_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let id = "<script>alert('id')</script>";
    let reason = "<script>alert('reason')</script> & <img src=x onerror=alert(1)>";
    {
        let mut s = Store::open(&db).unwrap();
        s.record_seen(id, 1).unwrap();
        s.mark_rejected(id, reason, Some("bondmap::run::require"))
            .unwrap();
        // Sent before bondmap kept requests.
        s.record_seen("P-OLD", 1).unwrap();
        s.mark_sending("P-OLD").unwrap();
        s.mark_accepted("P-OLD", Some("LBX1")).unwrap();
    }
    let server = served(&db);
    let c = client();
    let get = |p: &str| {
        let r = c
            .get(format!("http://{}{p}", server.addr()))
            .bearer_auth(TOKEN)
            .send()
            .unwrap();
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        status_text(r)
    };
    let enc = "%3Cscript%3Ealert%28%27id%27%29%3C%2Fscript%3E";
    for p in [
        "/".to_string(),
        "/orders".to_string(),
        format!("/orders/{enc}"),
    ] {
        let (code, page) = get(&p);
        assert_eq!(code, 200, "{p}: {page}");
        assert!(
            !page.contains("<script>alert") && !page.contains("<img src=x"),
            "{p}:\n{page}"
        );
        assert!(
            page.contains("&lt;script&gt;alert('id')&lt;/script&gt;"),
            "{p}:\n{page}"
        );
        assert!(
            page.contains(&format!("href=\"/orders/{enc}\"")) || p.starts_with("/orders/"),
            "{p}"
        );
    }
    let (_, page) = get(&format!("/orders/{enc}"));
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    // The API answers JSON: the same text, as a string.
    let (code, body) = get(&format!("/api/orders/{enc}"));
    assert_eq!(code, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["order"]["order_id"], id);
    assert_eq!(v["order"]["error"], reason);
    // An order sent before requests were kept: "not kept", and `null` in the API.
    let (_, page) = get("/orders/P-OLD");
    assert!(page.contains("not kept"), "{page}");
    let (_, body) = get("/api/orders/P-OLD");
    assert!(serde_json::from_str::<Value>(&body).unwrap()["request"].is_null());
    let (code, _) = get("/orders/NOPE");
    assert_eq!(code, 404);
}

#[test]
fn the_first_page_lists_the_first_200_waits_and_counts_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    {
        let mut s = Store::open(&db).unwrap();
        s.transaction(|t| {
            for i in 0..205 {
                let id = format!("P{i:04}");
                t.record_seen(&id, 1)?;
                t.mark_rejected(&id, "no barcode", None)?;
            }
            Ok(())
        })
        .unwrap();
    }
    let server = served(&db);
    let c = client();
    let at = |p: &str| format!("http://{}{p}", server.addr());
    let o: Value = c
        .get(at("/api/overview"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(o["waiting_total"], 205);
    assert_eq!(o["waiting"].as_array().unwrap().len(), 200);
    assert_eq!(o["figures"]["health"]["needs_person"], 205);
    let page = c
        .get(at("/"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(page.matches("<article class=\"wait\"").count(), 200);
    assert!(page.contains("id=\"waiting-count\">205<"), "{page}");
    // The list of the stage has them all, 50 a page.
    let l: Value = c
        .get(at("/api/orders?stage=rejected&page=5"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        (l["total"].as_u64(), l["more"].as_bool()),
        (Some(205), Some(false))
    );
    assert_eq!(l["orders"].as_array().unwrap().len(), 5);
    let bad = c
        .get(at("/api/orders?stage=shipping"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}
