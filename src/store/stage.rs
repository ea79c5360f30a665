//! The stages an order goes through: the one list every part of bondmap reads (the
//! store's checks, `status`, the pipeline), so a new stage is added here once.

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
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Seen,
        Stage::Fetched,
        Stage::Rejected,
        Stage::Sending,
        Stage::Accepted,
        Stage::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Seen => "seen",
            Stage::Fetched => "fetched",
            Stage::Rejected => "rejected",
            Stage::Sending => "sending",
            Stage::Accepted => "accepted",
            Stage::Failed => "failed",
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

    /// Final: Cainiao has the order; it is never sent again.
    pub fn is_final(self) -> bool {
        self == Stage::Accepted
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
        assert_eq!(Stage::parse("shipped"), None);
        assert_eq!(Stage::parse("SEEN"), None);
        assert_eq!(
            Stage::sql_list(Stage::is_pending),
            "('seen', 'fetched', 'sending')"
        );
    }
}
