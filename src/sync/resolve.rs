//! A person ends a wait: every reason an order waits for a person comes with the actions
//! that end it ([`wait_of`]), and [`apply`] takes one of them. The library does what
//! `bondmap resolve` and (later) the operator's console both call.
//!
//! A resolve is one transaction of the state: the action is checked against the order as
//! it is in that very transaction (an action that does not fit is refused with the reason,
//! and nothing changes), recorded in the order's history (when, the action, the note, the
//! OS user), and the order is handed back to the round where it is: a retry is fetched and
//! sent again, a shipment told to RED again, a payment record pushed again, a cancel sent
//! to the warehouse, at the next round of the running `sync` (or of `sync --once`). `close`
//! ends bondmap's part at once.
//!
//! | action | ends | what the round does |
//! |---|---|---|
//! | `retry` | a rejected or failed order | fetches it from RED, maps and sends it again |
//! | `deliver-again` | a shipment RED was not told of | tells RED again (`order.orderDeliver`) |
//! | `resend-payment` | customs lacking the payment record | asks RED to push it again, once |
//! | `cancel-at-warehouse` | any wait of an order the warehouse has, not shipped | sends the cancel (once RED shows the order cancelled) |
//! | `close` | every wait | nothing: a person handled it outside bondmap (a note is required) |

use super::customs_tables::Class;
use super::{OrderLine, Pipeline, SyncError};
use crate::pii::mask_digits;
use crate::store::{OrderRow, Stage, Store, StoreError, CHANGED_AFTER_ACCEPT};
use serde::Serialize;

/// What a person can do about a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Retry,
    DeliverAgain,
    ResendPayment,
    CancelAtWarehouse,
    Close,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Retry,
        Action::DeliverAgain,
        Action::ResendPayment,
        Action::CancelAtWarehouse,
        Action::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::DeliverAgain => "deliver-again",
            Action::ResendPayment => "resend-payment",
            Action::CancelAtWarehouse => "cancel-at-warehouse",
            Action::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// What the round does once the action is taken.
    pub fn next(self) -> &'static str {
        match self {
            Action::Retry => "the next sync round fetches it from RED and sends it again",
            Action::DeliverAgain => {
                "the next sync round tells RED of the recorded shipment again (order.orderDeliver)"
            }
            Action::ResendPayment => {
                "the next sync round asks RED to push the payment record again, once"
            }
            Action::CancelAtWarehouse => {
                "the next sync round sends the cancel to its warehouse (the cancel mapping builds it only once RED shows the order cancelled)"
            }
            Action::Close => "closed: bondmap does nothing more with it",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an order waits for a person, and what ends the wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wait {
    pub reason: String,
    pub actions: Vec<Action>,
}

/// Why a person must act on an order, if one must (its reason as kept: redacted).
pub fn reason(r: &OrderRow) -> Option<String> {
    if let Some(n) = &r.needs_person {
        return Some(n.clone());
    }
    match r.stage {
        Stage::Failed | Stage::Rejected => Some(format!(
            "{}: {}",
            r.stage.as_str(),
            r.error.as_deref().unwrap_or("no error recorded")
        )),
        Stage::Closed => None,
        _ if r.changed_after_accept => Some(CHANGED_AFTER_ACCEPT.to_string()),
        _ => None,
    }
}

/// The order's wait for a person and the actions that end it (`None`: it waits for no one).
pub fn wait_of(r: &OrderRow) -> Option<Wait> {
    let reason = reason(r)?;
    let actions = match r.stage {
        Stage::Closed => return None,
        // A cancel RED asked for that the warehouse refused or that could not be sent.
        s if r.cancel_wanted && s.at_warehouse() => vec![Action::CancelAtWarehouse, Action::Close],
        Stage::Rejected | Stage::Failed => vec![Action::Retry, Action::Close],
        Stage::CustomsFailed
            if r.customs_class.as_deref().and_then(Class::parse) == Some(Class::PaymentMissing) =>
        {
            vec![
                Action::ResendPayment,
                Action::CancelAtWarehouse,
                Action::Close,
            ]
        }
        Stage::Shipped
            if r.needs_person.as_deref() == Some(super::life::CANCELLED_AFTER_SHIPMENT) =>
        {
            vec![Action::Close]
        }
        Stage::Shipped => vec![Action::DeliverAgain, Action::Close],
        s if s.at_warehouse() => vec![Action::CancelAtWarehouse, Action::Close],
        _ => vec![Action::Close],
    };
    Some(Wait { reason, actions })
}

/// Why `retry` cannot send an order again, if it cannot: it is further on in its life.
pub fn retry_refusal(r: &OrderRow) -> Option<String> {
    if !r.stage.is_final() {
        return None;
    }
    let more = match wait_of(r) {
        Some(w) => format!(
            "; it waits for a person ({}): `bondmap resolve {} ACTION` with {}",
            w.reason,
            r.order_id,
            list(&w.actions)
        ),
        None => String::new(),
    };
    Some(format!(
        "order {} is {}: Cainiao has it (or it was cancelled or closed), so it is never sent again{more}",
        r.order_id,
        r.stage.as_str()
    ))
}

fn list(actions: &[Action]) -> String {
    actions
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a resolve was refused (nothing changed).
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("order {0} is not in the state")]
    Unknown(String),
    #[error("order {order_id} waits for no person ({stage}): there is nothing to resolve")]
    NoWait { order_id: String, stage: String },
    #[error("`{action}` does not fit order {order_id} ({stage}, waiting for a person: {reason}); what ends its wait: {actions}")]
    DoesNotFit {
        order_id: String,
        action: Action,
        stage: String,
        reason: String,
        actions: String,
    },
    #[error("`close` needs a note saying how it was handled outside bondmap (--note TEXT)")]
    NoteRequired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a resolve did.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub order_id: String,
    pub action: Action,
    /// The stage it is in now.
    pub stage: Stage,
    /// What happens next.
    pub next: &'static str,
}

/// Takes `action` on an order's wait, as `user`, with `note` (masked as
/// [`mask_digits`] masks: write no names in it). Refused, changing nothing, when the
/// order waits for no one or the action does not end its wait.
pub fn apply(
    store: &mut Store,
    order_id: &str,
    action: Action,
    note: Option<&str>,
    user: &str,
) -> Result<Resolved, ResolveError> {
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(mask_digits);
    if action == Action::Close && note.is_none() {
        return Err(ResolveError::NoteRequired);
    }
    let now = chrono::Utc::now().timestamp();
    let r = store.transaction(|t| {
        let Some(row) = t.get(order_id)? else {
            return Ok(Err(ResolveError::Unknown(order_id.to_string())));
        };
        let Some(wait) = wait_of(&row) else {
            return Ok(Err(ResolveError::NoWait {
                order_id: order_id.to_string(),
                stage: row.stage.as_str().to_string(),
            }));
        };
        if !wait.actions.contains(&action) {
            return Ok(Err(ResolveError::DoesNotFit {
                order_id: order_id.to_string(),
                action,
                stage: row.stage.as_str().to_string(),
                reason: wait.reason,
                actions: list(&wait.actions),
            }));
        }
        t.note_resolve(order_id, action.as_str(), note.as_deref(), user)?;
        match action {
            Action::Retry => t.want_retry(order_id)?,
            Action::DeliverAgain => t.end_wait(order_id)?,
            Action::ResendPayment => {
                t.end_wait(order_id)?;
                t.schedule_repush(order_id, Some(1), Some(now))?;
            }
            Action::CancelAtWarehouse => {
                t.end_wait(order_id)?;
                t.want_cancel(order_id)?;
            }
            Action::Close => t.close(order_id, note.as_deref().unwrap_or(""))?,
        }
        let stage = t.get(order_id)?.map_or(row.stage, |r| r.stage);
        Ok(Ok(Resolved {
            order_id: order_id.to_string(),
            action,
            stage,
            next: action.next(),
        }))
    })?;
    r
}

/// Sends again the orders a person asked to be retried (`resolve … retry`), fetched anew
/// from RED: the flag is cleared first, so a kill leaves the order where the flow left
/// it (half-way orders are taken up by the next round as always).
pub fn retries_due(p: &mut Pipeline, out: &mut dyn FnMut(OrderLine)) -> Result<(), SyncError> {
    let rows = p.store.retries_wanted()?;
    if rows.is_empty() {
        return Ok(());
    }
    let todo: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (r.order_id.clone(), r.update_time))
        .collect();
    p.store.transaction(|t| {
        for (id, _) in &todo {
            t.retry_taken(id)?;
        }
        Ok(())
    })?;
    super::flow::run(p, super::flow::Source::Given(todo), true, &mut |l| {
        out(l.clone())
    })
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stage: Stage) -> OrderRow {
        OrderRow {
            order_id: "P1".into(),
            stage,
            attempts: 1,
            update_time: 0,
            input_hash: None,
            cainiao_order_code: None,
            error: Some("boom".into()),
            changed_after_accept: false,
            first_seen: String::new(),
            updated_at: String::new(),
            warehouse: None,
            needs_person: None,
            cancel_wanted: false,
            deliver_attempts: 0,
            error_code: None,
            customs_class: None,
            customs_reason: None,
            repush_left: None,
            repush_due_at: None,
            retry_wanted: false,
        }
    }

    #[test]
    fn every_wait_lists_the_actions_that_end_it() {
        use Action::*;
        let acts = |r: &OrderRow| wait_of(r).map(|w| w.actions);
        assert_eq!(acts(&row(Stage::Rejected)), Some(vec![Retry, Close]));
        assert_eq!(acts(&row(Stage::Accepted)), None);
        let mut r = row(Stage::Shipped);
        r.needs_person = Some("carrier `XYZ` not in the table".into());
        assert_eq!(acts(&r), Some(vec![DeliverAgain, Close]));
        r.needs_person = Some(super::super::life::CANCELLED_AFTER_SHIPMENT.into());
        assert_eq!(acts(&r), Some(vec![Close]));
        let mut r = row(Stage::CustomsFailed);
        r.needs_person = Some("customs".into());
        r.customs_class = Some("payment_missing".into());
        assert_eq!(
            acts(&r),
            Some(vec![ResendPayment, CancelAtWarehouse, Close])
        );
        r.customs_class = Some("buyer_identity".into());
        assert_eq!(acts(&r), Some(vec![CancelAtWarehouse, Close]));
        let mut r = row(Stage::Accepted);
        r.changed_after_accept = true;
        assert_eq!(acts(&r), Some(vec![CancelAtWarehouse, Close]));
        let mut r = row(Stage::Closed);
        r.needs_person = Some("x".into());
        assert_eq!(acts(&r), None);
        // Every stage a wait can be in offers `close`.
        for s in Stage::ALL {
            let mut r = row(s);
            r.needs_person = Some("x".into());
            if let Some(a) = acts(&r) {
                assert!(a.contains(&Close), "{s:?}");
            }
        }
        assert!(retry_refusal(&row(Stage::Delivered)).is_some());
        assert!(retry_refusal(&row(Stage::Failed)).is_none());
        assert_eq!(Action::parse("deliver-again"), Some(DeliverAgain));
        assert_eq!(Action::parse("deliver_again"), None);
    }
}
