//! `order.getOrderList`: the orders updated in a time window, every page read whole and
//! checked; whole (`list_orders`) or page by page as they are read (`list_orders_paged`,
//! so a round fetches the first orders while the listing goes on).

use super::client::{kind, RedClient, RedError};
use serde_json::{json, Value};
use std::collections::HashSet;

/// One entry of `order.getOrderList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderListEntry {
    pub order_id: String,
    pub order_status: i64,
    /// ms
    pub update_time: i64,
    /// 1 while a cancel is in progress; absent when RED does not say.
    pub cancel_status: Option<i64>,
}

/// One page of `order.getOrderList`, checked.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub entries: Vec<OrderListEntry>,
    pub total: i64,
    pub max_page: i64,
}

const LIST: &str = "order.getOrderList";
/// RED pages through at most 100 pages of a window.
const MAX_PAGE_NO: i64 = 100;

/// Longest window `order.getOrderList` accepts by update time.
pub const WINDOW_SECS: i64 = 30 * 60;
pub const PAGE_SIZE: i64 = 100;

impl RedClient {
    /// One page of the orders updated in [start, end] (seconds), of `status` (0: all).
    pub fn order_list_page(
        &self,
        start: i64,
        end: i64,
        status: i64,
        page: i64,
    ) -> Result<ListPage, RedError> {
        let data = self.call(
            LIST,
            json!({"startTime": start, "endTime": end, "timeType": 2, "orderStatus": status, "pageNo": page, "pageSize": PAGE_SIZE}),
        )?;
        read_page(&data).map_err(|m| list_error(start, end, page, m))
    }

    /// Every order updated in [start, end] (seconds), of `status` when given (else all
    /// statuses): windows of at most 30 minutes, each walked from its last page back to
    /// the first (an order whose update moves it while paging is then not skipped), each
    /// order once. Any page that cannot be read whole, or a window where fewer orders came
    /// back than its `total`, fails the whole listing: nothing is dropped silently.
    pub fn list_orders(
        &self,
        start: i64,
        end: i64,
        status: Option<i64>,
    ) -> Result<Vec<OrderListEntry>, RedError> {
        let mut out = Vec::new();
        self.list_orders_paged(start, end, status, &mut |page| {
            out.extend(page);
            true
        })?;
        Ok(out)
    }

    /// [`RedClient::list_orders`], each page's orders (each order once) handed to `each`
    /// as soon as the page is read; `each` answers whether to go on. The listing's verdict
    /// (a page unreadable, a window short of its total) comes at the end: what was handed
    /// out before is real orders all the same, but the listing is not whole.
    pub fn list_orders_paged(
        &self,
        start: i64,
        end: i64,
        status: Option<i64>,
        each: &mut dyn FnMut(Vec<OrderListEntry>) -> bool,
    ) -> Result<(), RedError> {
        let mut seen = HashSet::new();
        let mut from = start;
        while from < end {
            let to = (from + WINDOW_SECS).min(end);
            self.list_window(from, to, status.unwrap_or(0), &mut |page| {
                let mine = page
                    .into_iter()
                    .filter(|e| {
                        status.is_none_or(|s| s == e.order_status)
                            && seen.insert(e.order_id.clone())
                    })
                    .collect();
                each(mine)
            })?;
            from = to;
        }
        Ok(())
    }

    /// Every order to ship (status 4) updated in [start, end] (seconds).
    pub fn list_to_ship(&self, start: i64, end: i64) -> Result<Vec<OrderListEntry>, RedError> {
        self.list_orders(start, end, Some(4))
    }

    /// One window, all its pages, each handed to `each` as read; a window with more orders
    /// than RED pages through (100 pages) is split in two.
    fn list_window(
        &self,
        from: i64,
        to: i64,
        status: i64,
        each: &mut dyn FnMut(Vec<OrderListEntry>) -> bool,
    ) -> Result<(), RedError> {
        let first = self.order_list_page(from, to, status, 1)?;
        if first.max_page > MAX_PAGE_NO {
            if to - from < 2 {
                return Err(list_error(
                    from,
                    to,
                    1,
                    format!(
                        "total {} is more than RED pages through in one second",
                        first.total
                    ),
                ));
            }
            let mid = from + (to - from) / 2;
            self.list_window(from, mid, status, each)?;
            return self.list_window(mid, to, status, each);
        }
        let (total, max) = (first.total, first.max_page);
        let mut distinct: HashSet<String> = HashSet::new();
        let mut give = |page: Vec<OrderListEntry>| {
            distinct.extend(page.iter().map(|e| e.order_id.clone()));
            if each(page) {
                Ok(())
            } else {
                Err(RedError::Transport {
                    method: LIST.into(),
                    message: "the listing was stopped".into(),
                })
            }
        };
        give(first.entries)?;
        for p in (2..=max).rev() {
            give(self.order_list_page(from, to, status, p)?.entries)?;
        }
        // Page 1 was read first only to learn the page count; read it again last.
        if max > 1 {
            give(self.order_list_page(from, to, status, 1)?.entries)?;
        }
        if (distinct.len() as i64) < total {
            return Err(list_error(
                from,
                to,
                1,
                format!("total says {total} orders, {} came back", distinct.len()),
            ));
        }
        Ok(())
    }
}

fn list_error(from: i64, to: i64, page: i64, message: String) -> RedError {
    let t =
        |s: i64| chrono::DateTime::from_timestamp(s, 0).map_or(s.to_string(), |d| d.to_rfc3339());
    RedError::Answer {
        method: LIST.into(),
        message: format!("window {} to {}, page {page}: {message}", t(from), t(to)),
    }
}

/// Reads one page: `total` and `maxPageNo` integers that agree with each other and the
/// page size, `orderList` a list (absent only when the window is empty), each entry with
/// a string `orderId`, integer `orderStatus` and `updateTime`.
fn read_page(data: &Value) -> Result<ListPage, String> {
    let Value::Object(d) = data else {
        return Err(format!("data is {}, not an object", kind(Some(data))));
    };
    let int = |v: Option<&Value>, name: &str| {
        v.and_then(Value::as_i64)
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("{name} is {}, not a whole number", kind(v)))
    };
    let total = int(d.get("total"), "total")?;
    let max_page = int(d.get("maxPageNo"), "maxPageNo")?;
    let size = match d.get("pageSize") {
        None => PAGE_SIZE,
        v => int(v, "pageSize")?.max(1),
    };
    let expected = (total + size - 1) / size;
    // An empty window may say page 0 or page 1.
    if max_page != expected && !(total == 0 && max_page <= 1) {
        return Err(format!(
            "maxPageNo {max_page} does not fit total {total} at pageSize {size} ({expected} pages)"
        ));
    }
    let list = match d.get("orderList") {
        Some(Value::Array(l)) => l.as_slice(),
        None | Some(Value::Null) if total == 0 => &[],
        other => return Err(format!("orderList is {}, not a list", kind(other))),
    };
    let entries = list
        .iter()
        .enumerate()
        .map(|(i, o)| read_entry(o).map_err(|m| format!("orderList[{i}]{m}")))
        .collect::<Result<_, _>>()?;
    Ok(ListPage {
        entries,
        total,
        max_page,
    })
}

fn read_entry(o: &Value) -> Result<OrderListEntry, String> {
    let Value::Object(e) = o else {
        return Err(format!(" is {}, not an object", kind(Some(o))));
    };
    let int = |k: &str| {
        e.get(k)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!(".{k} is {}, not an integer", kind(e.get(k))))
    };
    let order_id = match e.get("orderId") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(".orderId is blank".into()),
        other => return Err(format!(".orderId is {}, not a string", kind(other))),
    };
    Ok(OrderListEntry {
        order_id,
        order_status: int("orderStatus")?,
        update_time: int("updateTime")?,
        cancel_status: match e.get("cancelStatus") {
            None | Some(Value::Null) => None,
            Some(_) => Some(int("cancelStatus")?),
        },
    })
}
