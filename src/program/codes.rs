//! The stable codes of run-time errors ([`RunCode`]): in the program layer, since the
//! built-ins' evaluation ([`super::func`]) names them as the evaluator (`crate::run`) does.

/// The stable code of a run-time error, like check's `bondmap::…` codes: what a program
/// reading `map --ndjson`, `send` or the store may branch on (the message may change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunCode {
    Missing,
    Type,
    Unit,
    Rounding,
    Lookup,
    Require,
    Limit,
    NotAllowed,
    Arithmetic,
    Many,
    Path,
    Format,
    Cycle,
}

impl RunCode {
    /// Every code, in the order of the book's table (docs/run-codes.md).
    pub const ALL: &'static [RunCode] = &[
        RunCode::Missing,
        RunCode::Type,
        RunCode::Unit,
        RunCode::Rounding,
        RunCode::Lookup,
        RunCode::Require,
        RunCode::Limit,
        RunCode::NotAllowed,
        RunCode::Arithmetic,
        RunCode::Many,
        RunCode::Path,
        RunCode::Format,
        RunCode::Cycle,
    ];

    /// The stable name, e.g. `bondmap::run::missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunCode::Missing => "bondmap::run::missing",
            RunCode::Type => "bondmap::run::type",
            RunCode::Unit => "bondmap::run::unit",
            RunCode::Rounding => "bondmap::run::rounding",
            RunCode::Lookup => "bondmap::run::lookup",
            RunCode::Require => "bondmap::run::require",
            RunCode::Limit => "bondmap::run::limit",
            RunCode::NotAllowed => "bondmap::run::not_allowed",
            RunCode::Arithmetic => "bondmap::run::arithmetic",
            RunCode::Many => "bondmap::run::many",
            RunCode::Path => "bondmap::run::path",
            RunCode::Format => "bondmap::run::format",
            RunCode::Cycle => "bondmap::run::cycle",
        }
    }
}

impl std::fmt::Display for RunCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for RunCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
