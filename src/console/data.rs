//! What the console shows, read from the state (read-only, while `sync` writes it) into
//! plain data: the pages render it and the JSON API answers it, so both always say the
//! same. Everything here is as the state keeps it, and the state keeps nothing personal
//! (the request sent was masked before it was kept).

use super::figures::{self, Figures};
use crate::health::Health;
use crate::store::{Event, Filter, NoticeRow, OrderRow, SentRequest, Stage, Store};
use crate::sync::customs_tables::Class;
use crate::sync::resolve::{wait_of, Action};
use serde::Serialize;
use std::path::Path;

/// Orders on one page of the list.
pub const PAGE: usize = 50;

/// Waits the first page lists (after an outage thousands may wait: the list of a stage
/// shows them all, a page at a time).
pub const WAITS_SHOWN: usize = 200;

/// The action whose resolve needs a note (how it was handled outside bondmap).
pub fn needs_note(a: Action) -> bool {
    a == Action::Close
}

/// An order that waits for a person.
#[derive(Debug, Clone, Serialize)]
pub struct WaitView {
    pub order_id: String,
    pub stage: Stage,
    /// What it waits for, in a few plain words.
    pub headline: &'static str,
    /// The reason as kept (masked).
    pub reason: String,
    /// What ends the wait, as `resolve` names them.
    pub actions: Vec<Action>,
    pub updated_at: String,
}

/// A notice bondmap could not take (an order it does not know…).
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub msg_type: String,
    pub order_id: Option<String>,
    pub problem: Option<String>,
    pub content: String,
    pub received_at: String,
}

impl From<NoticeRow> for NoticeView {
    fn from(n: NoticeRow) -> NoticeView {
        NoticeView {
            msg_type: n.msg_type,
            order_id: n.order_id,
            problem: n.problem,
            content: n.content,
            received_at: n.received_at,
        }
    }
}

/// The first page: counts by stage, what waits for a person, health and figures.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// Every stage with its count, in the stages' order.
    pub stages: Vec<StageCount>,
    pub total: u64,
    /// What waits for a person: the first [`WAITS_SHOWN`], by order id.
    pub waiting: Vec<WaitView>,
    /// How many orders wait for a person in all.
    pub waiting_total: usize,
    /// Notices that could not be taken, for a person.
    pub notices: Vec<NoticeView>,
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageCount {
    pub stage: Stage,
    pub count: u64,
}

/// One line of the list of orders.
#[derive(Debug, Clone, Serialize)]
pub struct OrderLine {
    pub order_id: String,
    pub stage: Stage,
    pub updated_at: String,
    pub cainiao_order_code: Option<String>,
    /// Why it waits for a person, if it does.
    pub waiting: Option<String>,
}

/// A page of the list.
#[derive(Debug, Clone, Serialize)]
pub struct OrderList {
    pub stage: Option<Stage>,
    pub query: String,
    /// From 1.
    pub page: usize,
    pub total: u64,
    pub orders: Vec<OrderLine>,
    pub more: bool,
    pub stages: Vec<StageCount>,
}

/// One order: where it is, what waits, its whole path, the request sent, its notices.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order: OrderRow,
    pub wait: Option<WaitView>,
    pub history: Vec<Event>,
    /// `None`: not kept (sent before bondmap kept requests, or never sent).
    pub request: Option<SentRequest>,
    pub notices: Vec<NoticeView>,
}

/// What an order waits for, in plain words.
fn headline(r: &OrderRow) -> &'static str {
    match r.stage {
        _ if r.cancel_wanted && r.stage.at_warehouse() => {
            "RED shows it cancelled, and the cancel at the warehouse did not go through"
        }
        Stage::Rejected => "the mapping refused it: fix the mapping or its table, then retry",
        Stage::Failed => "it could not be sent to Cainiao",
        Stage::CustomsFailed => match r.customs_class.as_deref().and_then(Class::parse) {
            Some(Class::PaymentMissing) => "customs lacks the payment record",
            Some(Class::BuyerIdentity) => "customs could not verify the buyer's identity",
            Some(Class::OverQuota) => "over the buyer's yearly quota or the single-order limit",
            _ => "customs stopped it",
        },
        Stage::Shipped if r.needs_person.is_some() => {
            "shipped, and RED could not be told of the shipment"
        }
        _ if r.changed_after_accept => "the order changed at RED after Cainiao accepted it",
        _ => "it waits for a person",
    }
}

pub fn wait_view(r: &OrderRow) -> Option<WaitView> {
    let w = wait_of(r)?;
    Some(WaitView {
        order_id: r.order_id.clone(),
        stage: r.stage,
        headline: headline(r),
        reason: w.reason,
        actions: w.actions,
        updated_at: r.updated_at.clone(),
    })
}

fn open(state: &Path) -> Result<Store, String> {
    Store::open_read_only(state).map_err(|e| format!("the state cannot be read: {e}"))
}

fn stage_counts(store: &Store) -> Result<Vec<StageCount>, String> {
    Ok(store
        .counts()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(stage, count)| StageCount { stage, count })
        .collect())
}

pub fn overview(state: &Path, health: &Health) -> Result<Overview, String> {
    let store = open(state)?;
    let stages = stage_counts(&store)?;
    let mut waiting: Vec<WaitView> = store
        .needing_person()
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(wait_view)
        .collect();
    let waiting_total = waiting.len();
    waiting.truncate(WAITS_SHOWN);
    let notices: Vec<NoticeView> = store
        .notice_problems()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(NoticeView::from)
        .collect();
    let counts = stages.iter().map(|s| (s.stage, s.count)).collect();
    let figures = figures::read(&store, health, counts, waiting_total + notices.len())?;
    Ok(Overview {
        total: stages.iter().map(|s| s.count).sum(),
        stages,
        waiting,
        waiting_total,
        notices,
        figures,
    })
}

pub fn orders(
    state: &Path,
    stage: Option<Stage>,
    query: &str,
    page: usize,
) -> Result<OrderList, String> {
    let store = open(state)?;
    let page = page.max(1);
    let filter = Filter {
        stage,
        id_contains: Some(query.trim().to_string()),
    };
    let (rows, total) = store
        .browse(&filter, PAGE, (page - 1).saturating_mul(PAGE))
        .map_err(|e| e.to_string())?;
    let orders: Vec<OrderLine> = rows
        .iter()
        .map(|r| OrderLine {
            order_id: r.order_id.clone(),
            stage: r.stage,
            updated_at: r.updated_at.clone(),
            cainiao_order_code: r.cainiao_order_code.clone(),
            waiting: wait_of(r).map(|w| w.reason),
        })
        .collect();
    let shown = (page - 1).saturating_mul(PAGE) + orders.len();
    Ok(OrderList {
        stage,
        query: query.trim().to_string(),
        page,
        total,
        more: (shown as u64) < total,
        orders,
        stages: stage_counts(&store)?,
    })
}

/// One order; `Ok(None)` when the state does not have it.
pub fn order(state: &Path, order_id: &str) -> Result<Option<OrderView>, String> {
    let store = open(state)?;
    let e = |e: crate::store::StoreError| e.to_string();
    let Some(row) = store.get(order_id).map_err(e)? else {
        return Ok(None);
    };
    Ok(Some(OrderView {
        wait: wait_view(&row),
        history: store.history(order_id).map_err(e)?,
        request: store.request_sent(order_id).map_err(e)?,
        notices: store
            .notices_for(order_id)
            .map_err(e)?
            .into_iter()
            .map(NoticeView::from)
            .collect(),
        order: row,
    }))
}
