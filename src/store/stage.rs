//! The stages an order goes through: the one list every part of bondmap reads (the
//! store's checks, `status`, the pipeline), so a new stage is added here once.
//!
//! ```text
//! seen → fetched → sending → accepted → shipped → delivered
//!          ↘ rejected   ↘ failed   ↘ cancelled (cancel accepted by the warehouse)
//! seen → skipped (no route takes it)         seen/fetched/rejected/failed/skipped → cancelled
//! ```

/// Where an order is. Stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Seen,
    Fetched,
    Rejected,
    Sending,
    Accepted,
    Failed,
    /// No route of the routes file takes it: never sent.
    Skipped,
    /// Cancelled on RED: never sent, or cancelled at the warehouse.
    Cancelled,
    /// The warehouse's shipment notice is recorded; RED is not yet told.
    Shipped,
    /// RED is told (order.orderDeliver).
    Delivered,
}

impl Stage {
    pub const ALL: [Stage; 10] = [
        Stage::Seen,
        Stage::Fetched,
        Stage::Rejected,
        Stage::Sending,
        Stage::Accepted,
        Stage::Failed,
        Stage::Skipped,
        Stage::Cancelled,
        Stage::Shipped,
        Stage::Delivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Seen => "seen",
            Stage::Fetched => "fetched",
            Stage::Rejected => "rejected",
            Stage::Sending => "sending",
            Stage::Accepted => "accepted",
            Stage::Failed => "failed",
            Stage::Skipped => "skipped",
            Stage::Cancelled => "cancelled",
            Stage::Shipped => "shipped",
            Stage::Delivered => "delivered",
        }
    }

    /// `None` for a name this version does not know (never guessed as another stage).
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Left half-way by a crash or an earlier round: taken up again by the next round.
    pub fn is_pending(self) -> bool {
        matches!(self, Stage::Seen | Stage::Fetched | Stage::Sending)
    }

    /// Final for the delivery order: Cainiao has it (or it was cancelled); it is never
    /// sent again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Stage::Accepted | Stage::Shipped | Stage::Delivered | Stage::Cancelled
        )
    }

    /// A SQL list of the stages `keep` selects, e.g. `('seen', 'fetched')`.
    pub fn sql_list(keep: impl Fn(Stage) -> bool) -> String {
        let names: Vec<String> = Stage::ALL
            .into_iter()
            .filter(|s| keep(*s))
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("({})", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_none() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stage::parse("returned"), None);
        assert_eq!(Stage::parse("SEEN"), None);
        assert_eq!(
            Stage::sql_list(Stage::is_pending),
            "('seen', 'fetched', 'sending')"
        );
        assert_eq!(
            Stage::sql_list(Stage::is_final),
            "('accepted', 'cancelled', 'shipped', 'delivered')"
        );
    }
}
