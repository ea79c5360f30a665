//! The stages an order goes through and the moves between them: the one place every part
//! of bondmap reads (the store's SQL is built from here, `status`, the pipeline), so a new
//! stage or a new move is added here once.
//!
//! ```text
//! seen → fetched → sending → accepted → shipped → delivered
//!          ↘ rejected   ↘ failed   ↘ cancelled (cancel accepted by the warehouse)
//!                          accepted → customs_passed → shipped
//!                          accepted → customs_failed → customs_passed (after a re-push)
//! seen → skipped (no route takes it)         seen/fetched/rejected/failed/skipped → cancelled
//! any stage → closed (a person ended it outside bondmap: `resolve … close`)
//! ```
//!
//! Adding a stage: a variant, its name in [`Stage::as_str`], its place in [`Stage::ALL`]
//! and in the predicates below (the compiler points at every `match` that must say what
//! it means); adding a move: a [`Move`] variant with its target and the stages it starts
//! from, and one `Txn` method that runs it.

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
    /// The warehouse reports that customs cleared it (三单对碰 passed).
    #[serde(rename = "customs_passed")]
    CustomsPassed,
    /// The warehouse reports that customs stopped it; the class and the reason are kept.
    #[serde(rename = "customs_failed")]
    CustomsFailed,
    /// A person ended it outside bondmap (`resolve … close`, with a note): nothing more
    /// is done with it.
    Closed,
}

impl Stage {
    pub const ALL: [Stage; 13] = [
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
        Stage::CustomsPassed,
        Stage::CustomsFailed,
        Stage::Closed,
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
            Stage::CustomsPassed => "customs_passed",
            Stage::CustomsFailed => "customs_failed",
            Stage::Closed => "closed",
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

    /// Final for the delivery order: Cainiao has it (or it was cancelled, or a person
    /// closed it); it is never sent again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Stage::Accepted
                | Stage::Shipped
                | Stage::Delivered
                | Stage::Cancelled
                | Stage::CustomsPassed
                | Stage::CustomsFailed
                | Stage::Closed
        )
    }

    /// The warehouse has the order and customs has spoken of it (or is still to):
    /// where a customs result may move it from.
    pub fn at_warehouse(self) -> bool {
        matches!(
            self,
            Stage::Sending
                | Stage::Accepted
                | Stage::Failed
                | Stage::CustomsPassed
                | Stage::CustomsFailed
        )
    }

    /// Where a round may leave an order for good: not half-way, not failed (a round
    /// whose every order is settled exits 0).
    pub fn is_settled(self) -> bool {
        !self.is_pending() && self != Stage::Failed
    }

    /// A person must look at an order in this stage (besides one flagged for them).
    pub fn is_problem(self) -> bool {
        matches!(self, Stage::Failed | Stage::Rejected)
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

    /// `'name'`, the stage as a SQL literal.
    pub fn sql(self) -> String {
        format!("'{}'", self.as_str())
    }
}

/// A change of stage: where it goes and the stages it may start from. Every stage
/// change of the store is one of these, its SQL condition built by [`Move::sql_from`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Fetched from RED (again).
    Fetch,
    /// The mapping rejected it.
    Reject,
    /// About to be sent (an attempt counted).
    Send,
    /// The send failed in a way a later round retries.
    Fail,
    /// No route takes it.
    Skip,
    /// Cainiao has it. An order further on (shipped, delivered, cancelled) stays there.
    Accept,
    /// The warehouse's shipment notice is recorded.
    Ship,
    /// RED is told of the shipment.
    Deliver,
    /// Never sent, or the warehouse accepted the cancel; never once shipped.
    Cancel,
    /// The warehouse reports customs cleared it.
    CustomsPass,
    /// The warehouse reports customs stopped it (again: a later failure replaces the
    /// class and reason of an earlier one).
    CustomsFail,
    /// A person ended it outside bondmap.
    Close,
}

impl Move {
    pub const ALL: [Move; 12] = [
        Move::Fetch,
        Move::Reject,
        Move::Send,
        Move::Fail,
        Move::Skip,
        Move::Accept,
        Move::Ship,
        Move::Deliver,
        Move::Cancel,
        Move::CustomsPass,
        Move::CustomsFail,
        Move::Close,
    ];

    /// The stage the order is in after the move.
    pub fn to(self) -> Stage {
        match self {
            Move::Fetch => Stage::Fetched,
            Move::Reject => Stage::Rejected,
            Move::Send => Stage::Sending,
            Move::Fail => Stage::Failed,
            Move::Skip => Stage::Skipped,
            Move::Accept => Stage::Accepted,
            Move::Ship => Stage::Shipped,
            Move::Deliver => Stage::Delivered,
            Move::Cancel => Stage::Cancelled,
            Move::CustomsPass => Stage::CustomsPassed,
            Move::CustomsFail => Stage::CustomsFailed,
            Move::Close => Stage::Closed,
        }
    }

    /// Whether the move may start from `s`.
    pub fn from(self, s: Stage) -> bool {
        match self {
            // Toward a send: never an order Cainiao has (that refusal is an error).
            Move::Fetch | Move::Reject | Move::Send | Move::Fail | Move::Skip => !s.is_final(),
            // A late answer never moves an order back from further on in its life.
            Move::Accept => s == Stage::Accepted || !s.is_final(),
            // A notice may come before the send's answer was recorded; a shipment after
            // a customs failure means customs cleared it after all.
            Move::Ship => s.at_warehouse(),
            Move::Deliver => s == Stage::Shipped,
            Move::Cancel => !matches!(s, Stage::Shipped | Stage::Delivered | Stage::Closed),
            Move::CustomsPass => s.at_warehouse() && s != Stage::CustomsPassed,
            Move::CustomsFail => s.at_warehouse() && s != Stage::CustomsPassed,
            Move::Close => s != Stage::Closed,
        }
    }

    /// An order the move may not start from is an error (`AlreadyAccepted`), not a
    /// no-op: a send of an order Cainiao has must never look like it went through.
    pub fn refusal_is_error(self) -> bool {
        matches!(
            self,
            Move::Fetch | Move::Reject | Move::Send | Move::Fail | Move::Skip
        )
    }

    /// `stage IN (…)` of the stages the move starts from.
    pub fn sql_from(self) -> String {
        format!("stage IN {}", Stage::sql_list(|s| self.from(s)))
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
            "('accepted', 'cancelled', 'shipped', 'delivered', 'customs_passed', 'customs_failed', 'closed')"
        );
        assert_eq!(
            Stage::sql_list(Stage::is_settled),
            "('rejected', 'accepted', 'skipped', 'cancelled', 'shipped', 'delivered', 'customs_passed', 'customs_failed', 'closed')"
        );
        assert_eq!(
            serde_json::to_string(&Stage::CustomsPassed).unwrap(),
            "\"customs_passed\""
        );
    }

    #[test]
    fn the_moves_keep_the_life_of_an_order_one_way() {
        // Nothing Cainiao has goes back toward a send.
        for m in Move::ALL.into_iter().filter(|m| m.refusal_is_error()) {
            for s in Stage::ALL.into_iter().filter(|s| s.is_final()) {
                assert!(!m.from(s), "{m:?} from {s:?}");
            }
        }
        // Once shipped, an order is only ever told to RED, or closed by a person.
        for s in [Stage::Shipped, Stage::Delivered] {
            let out: Vec<Move> = Move::ALL.into_iter().filter(|m| m.from(s)).collect();
            let want: &[Move] = if s == Stage::Shipped {
                &[Move::Deliver, Move::Close]
            } else {
                &[Move::Close]
            };
            assert_eq!(out, want, "{s:?}");
        }
        // A closed order goes nowhere.
        assert!(Move::ALL.into_iter().all(|m| !m.from(Stage::Closed)));
        // A late "accepted" never takes an order back from customs or further on.
        for s in [Stage::CustomsPassed, Stage::CustomsFailed, Stage::Closed] {
            assert!(!Move::Accept.from(s), "{s:?}");
        }
        // Customs may clear an order it stopped (a re-pushed payment record), never the
        // reverse; a shipment moves either on.
        assert!(Move::CustomsPass.from(Stage::CustomsFailed));
        assert!(!Move::CustomsFail.from(Stage::CustomsPassed));
        assert!(Move::Ship.from(Stage::CustomsPassed) && Move::Ship.from(Stage::CustomsFailed));
        assert_eq!(
            Move::Ship.sql_from(),
            "stage IN ('sending', 'accepted', 'failed', 'customs_passed', 'customs_failed')"
        );
        assert_eq!(
            Move::Cancel.sql_from(),
            "stage IN ('seen', 'fetched', 'rejected', 'sending', 'accepted', 'failed', 'skipped', 'cancelled', 'customs_passed', 'customs_failed')"
        );
    }

    #[test]
    fn no_stage_name_is_written_into_sql_anywhere_else() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        let mut found = Vec::new();
        for f in files.iter().filter(|f| !f.ends_with("store/stage.rs")) {
            let text = std::fs::read_to_string(f).unwrap();
            // Test modules may write a stage by hand to fake an old or foreign row.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for s in Stage::ALL {
                if code.contains(&format!("'{}'", s.as_str())) {
                    found.push(format!("{}: '{}'", f.display(), s.as_str()));
                }
            }
        }
        assert!(found.is_empty(), "stage names in SQL text: {found:?}");
    }
}
