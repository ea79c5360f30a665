//! The console's pages, written with maud: every value spliced into a page (an order id,
//! a reason, a note, a notice) is HTML-escaped by the macro; nothing of the state is
//! ever wrapped in `PreEscaped`. The pages work without a script: links and forms; the
//! one script (`/assets/console.js`) only refreshes the figures of the first page.

use super::access::{Who, CSRF_FIELD};
use super::data::{needs_note, NoticeView, OrderList, OrderView, Overview, WaitView};
use super::figures::Figures;
use super::shared::{is_own_path, order_href, orders_href, secure_headers};
use crate::store::{Event, Stage};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// A whole page with the console's headers: never cached (it shows the state now, and
/// it may be a 401), never sniffed, its referrer kept to the console.
pub fn page(status: StatusCode, body: Markup) -> Response {
    let mut r = (status, body.into_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(h);
    r
}

/// A time of the state (RFC 3339) at +08:00, to the second; as kept when it does not read.
fn when(t: &str) -> String {
    match (
        chrono::DateTime::parse_from_rfc3339(t),
        chrono::FixedOffset::east_opt(8 * 3600),
    ) {
        (Ok(d), Some(tz)) => d.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string(),
        _ => t.to_string(),
    }
}

fn layout(title: &str, who: Option<&Who>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · bondmap console" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/console.css";
                @if who.is_some() {
                    script src="/assets/console.js" defer {}
                }
            }
            body {
                header {
                    a.brand href="/" { "bondmap console" }
                    @if let Some(who) = who {
                        nav {
                            a href="/" { "Overview" }
                            a href="/orders" { "Orders" }
                        }
                        form.search method="get" action="/orders" {
                            label { "order id " input type="search" name="q" placeholder="P7881…"; }
                            button type="submit" { "find" }
                        }
                        @if let Who::Session { .. } = who {
                            form.logout method="post" action="/logout" {
                                input type="hidden" name=(CSRF_FIELD) value=(who.csrf());
                                button type="submit" { "log out" }
                            }
                        }
                    }
                }
                main { (main) }
            }
        }
    }
}

/// The 401 page: the login form and nothing else.
pub fn login(next: &str, why: Option<&str>) -> Markup {
    let next = if is_own_path(next) { next } else { "/" };
    layout(
        "Log in",
        None,
        html! {
            h1 { "Log in" }
            p { "The console needs its token (" code { "[console] token" } " or " code { "CONSOLE_TOKEN" } ")." }
            @if let Some(why) = why { p.error { (why) } }
            form id="login" method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                label { "token " input type="password" name="token" autocomplete="current-password" required; }
                button type="submit" { "log in" }
            }
        },
    )
}

/// A short page: a title, a message, a way back.
pub fn message(title: &str, text: &str, back: &str) -> Markup {
    layout(
        title,
        None,
        html! {
            h1 { (title) }
            p.error { (text) }
            p { a href=(back) { "back" } }
        },
    )
}

/// A message on a page of a signed-in operator.
pub fn message_for(who: &Who, title: &str, text: &str, back: &str) -> Markup {
    layout(
        title,
        Some(who),
        html! {
            h1 { (title) }
            p.error { (text) }
            p { a href=(back) { "back" } }
        },
    )
}

fn outcomes(m: &std::collections::BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none yet".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn figures(f: &Figures) -> Markup {
    let h = &f.health;
    let status = h["status"].as_str().unwrap_or("unknown");
    let text = |k: &str| h[k].as_str().unwrap_or("not known yet").to_string();
    let top = f
        .orders_per_hour
        .iter()
        .map(|x| x.orders)
        .max()
        .unwrap_or(0);
    html! {
        section id="figures" {
            h2 { "Health" }
            dl {
                dt { "status" }
                dd id="health-status" class=(status) { (status) }
                dt { "why" }
                dd id="health-reason" { (h["reason"].as_str().unwrap_or("—")) }
                dt { "last round that succeeded" }
                dd id="last-round" { (text("last_round_ok_at")) }
                dt { "RED token expires" }
                dd id="token-expiry" { (text("token_expires_at")) }
                dt { "rounds run" }
                dd id="rounds" { (f.rounds) }
                dt { "RED calls" }
                dd id="red-calls" { (outcomes(&f.red_calls)) }
                dt { "gateway requests" }
                dd id="gateway-requests" { (outcomes(&f.gateway_requests)) }
                dt { "orders accepted this hour" }
                dd id="orders-hour" { (f.orders_this_hour) }
                dt { "in the last 24 hours" }
                dd id="orders-day" { (f.orders_last_day) }
            }
            div id="hours" data-top=(top) {
                @for x in &f.orders_per_hour {
                    span.bar data-orders=(x.orders) title={ (x.hour) ": " (x.orders) } {}
                }
            }
            p id="refreshed" {}
        }
    }
}

fn stage_table(stages: &[super::data::StageCount], total: u64, current: Option<Stage>) -> Markup {
    html! {
        table id="stages" {
            thead { tr { th { "stage" } th { "orders" } } }
            tbody {
                @for s in stages {
                    tr.current[current == Some(s.stage)] {
                        td { a href=(orders_href(Some(s.stage), "", 1)) { (s.stage.as_str()) } }
                        td.count data-stage=(s.stage.as_str()) { (s.count) }
                    }
                }
                tr { td { a href="/orders" { "all" } } td id="total" { (total) } }
            }
        }
    }
}

/// The forms that end a wait: a button per action, named as `resolve` names it, and a
/// field labelled "note" where the action needs one.
fn actions(w: &WaitView, csrf: &str) -> Markup {
    let to = format!("{}/resolve", order_href(&w.order_id));
    html! {
        div.actions {
            @for a in &w.actions {
                form.act method="post" action=(to) data-action=(a.as_str()) {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    input type="hidden" name="action" value=(a.as_str());
                    @if needs_note(*a) {
                        label { "note " input type="text" name="note" required; }
                    }
                    button type="submit" name="do" value=(a.as_str()) { (a.as_str()) }
                }
            }
        }
    }
}

fn wait_article(w: &WaitView, csrf: &str) -> Markup {
    html! {
        article.wait data-order=(w.order_id) {
            h3 {
                a href=(order_href(&w.order_id)) { (w.order_id) }
                " " span.stage { (w.stage.as_str()) }
            }
            p.headline { (w.headline) }
            p.reason { (w.reason) }
            (actions(w, csrf))
        }
    }
}

fn notices_table(notices: &[NoticeView], with_order: bool) -> Markup {
    html! {
        table.notices {
            thead { tr {
                th { "received" } th { "message" }
                @if with_order { th { "order" } }
                th { "content" } th { "problem" }
            } }
            tbody {
                @for n in notices {
                    tr {
                        td { (when(&n.received_at)) }
                        td { (n.msg_type) }
                        @if with_order { td { (n.order_id.as_deref().unwrap_or("—")) } }
                        td { code { (n.content) } }
                        td { (n.problem.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

pub fn overview(o: &Overview, who: &Who) -> Markup {
    layout(
        "Overview",
        Some(who),
        html! {
            h1 { "Overview" }
            div.columns {
                (figures(&o.figures))
                section {
                    h2 { "Orders by stage" }
                    (stage_table(&o.stages, o.total, None))
                }
            }
            section id="waiting" {
                h2 { "Waiting for a person " span id="waiting-count" { (o.waiting_total) } }
                @if o.waiting_total > o.waiting.len() {
                    p.none { "The first " (o.waiting.len()) " by order id; the lists of "
                        a href=(orders_href(Some(Stage::Rejected), "", 1)) { (Stage::Rejected.as_str()) } ", "
                        a href=(orders_href(Some(Stage::Failed), "", 1)) { (Stage::Failed.as_str()) } " and "
                        a href=(orders_href(Some(Stage::CustomsFailed), "", 1)) { (Stage::CustomsFailed.as_str()) }
                        " orders show the others." }
                }
                p id="waiting-changed" hidden { "The list changed since the page was shown: " a href="/" { "show it again" } }
                @if o.waiting.is_empty() { p.none { "Nothing waits for a person." } }
                @for w in &o.waiting { (wait_article(w, who.csrf())) }
            }
            @if !o.notices.is_empty() {
                section id="notices" {
                    h2 { "Notices bondmap could not take" }
                    (notices_table(&o.notices, true))
                }
            }
        },
    )
}

pub fn orders(l: &OrderList, who: &Who) -> Markup {
    let title = match l.stage {
        Some(s) => format!("Orders {}", s.as_str()),
        None => "Orders".to_string(),
    };
    let total: u64 = l.stages.iter().map(|s| s.count).sum();
    html! {
        (layout(&title, Some(who), html! {
            h1 { (title) }
            div.columns {
                section {
                    form id="filter" method="get" action="/orders" {
                        label { "order id contains " input type="search" name="q" value=(l.query); }
                        label { "stage "
                            select name="stage" {
                                option value="" selected[l.stage.is_none()] { "every stage" }
                                @for s in Stage::ALL {
                                    option value=(s.as_str()) selected[l.stage == Some(s)] { (s.as_str()) }
                                }
                            }
                        }
                        button type="submit" { "show" }
                    }
                    p id="found" { (l.total) " orders" }
                    table id="orders" {
                        thead { tr { th { "order" } th { "stage" } th { "changed" } th { "Cainiao order" } th { "waits for a person" } } }
                        tbody {
                            @for o in &l.orders {
                                tr data-order=(o.order_id) {
                                    td { a href=(order_href(&o.order_id)) { (o.order_id) } }
                                    td { (o.stage.as_str()) }
                                    td { (when(&o.updated_at)) }
                                    td { (o.cainiao_order_code.as_deref().unwrap_or("")) }
                                    td { (o.waiting.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                    nav.pages {
                        @if l.page > 1 { a rel="prev" href=(orders_href(l.stage, &l.query, l.page - 1)) { "← newer" } }
                        @if l.more { a rel="next" href=(orders_href(l.stage, &l.query, l.page + 1)) { "older →" } }
                    }
                }
                section {
                    h2 { "By stage" }
                    (stage_table(&l.stages, total, l.stage))
                }
            }
        }))
    }
}

fn event_row(e: &Event) -> Markup {
    html! {
        tr.event data-kind=(e.kind.as_str()) {
            td { (when(&e.at)) }
            td { (e.kind.as_str()) }
            td {
                @match (&e.from, &e.to) {
                    (Some(f), Some(t)) => { (f) " → " (t) }
                    (None, Some(t)) => { "→ " (t) }
                    _ => { (e.what) }
                }
            }
            td { (e.detail.as_deref().unwrap_or("")) }
            td { (e.user.as_deref().unwrap_or("")) }
        }
    }
}

/// One order's page; `done`: the resolve just recorded, and what happens next.
pub fn order(v: &OrderView, who: &Who, done: Option<(&str, &str)>) -> Markup {
    let r = &v.order;
    let field = |k: &str, val: Option<String>| {
        html! { @if let Some(val) = val { dt { (k) } dd { (val) } } }
    };
    html! {
        (layout(&r.order_id, Some(who), html! {
            h1 { "Order " span id="order-id" { (r.order_id) } " " span.stage id="stage" { (r.stage.as_str()) } }
            @if let Some((action, next)) = done {
                p.good id="done" { (action) " recorded: " (next) }
            }
            @if let Some(w) = &v.wait {
                section.wait id="wait" data-order=(w.order_id) {
                    h2 { "Waiting for a person" }
                    p.headline { (w.headline) }
                    p.reason { (w.reason) }
                    (actions(w, who.csrf()))
                }
            }
            section {
                h2 { "Where it is" }
                dl id="facts" {
                    (field("Cainiao order", r.cainiao_order_code.clone()))
                    (field("warehouse mapping", r.warehouse.clone()))
                    (field("send attempts", Some(r.attempts.to_string())))
                    (field("error", r.error.clone()))
                    (field("error code", r.error_code.clone()))
                    (field("customs class", r.customs_class.clone()))
                    (field("customs reason", r.customs_reason.clone()))
                    (field("first seen", Some(when(&r.first_seen))))
                    (field("last changed", Some(when(&r.updated_at))))
                }
            }
            section id="history" {
                h2 { "Its path" }
                table {
                    thead { tr { th { "when" } th { "kind" } th { "what" } th { "detail" } th { "by" } } }
                    tbody { @for e in &v.history { (event_row(e)) } }
                }
            }
            section id="request" {
                h2 { "The request sent" }
                @match &v.request {
                    Some(q) => {
                        p { (q.msg_type) ", sent " (when(&q.sent_at)) "; personal data masked" }
                        pre { (crate::snapshot::pretty(&q.text)) }
                    }
                    None => { p.none { "not kept (sent before bondmap kept requests, or never sent)" } }
                }
            }
            section id="order-notices" {
                h2 { "Notices" }
                @if v.notices.is_empty() { p.none { "none" } } @else { (notices_table(&v.notices, false)) }
            }
        }))
    }
}
