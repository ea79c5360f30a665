//! Run-time errors: why an order was rejected ([`RunError`], what callers see) and the
//! error on its way up through the evaluator ([`Fail`]).

pub use crate::program::codes::RunCode;
use crate::program::Node;
use crate::syntax::Span;

/// Why an order was rejected: which order, which target field, from which source path,
/// and which line of which mapping file. Never holds personal data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunError {
    /// What kind of error, stable across versions (docs/run-codes.md).
    pub code: RunCode,
    pub order_id: Option<String>,
    pub field: Option<String>,
    pub source_path: Option<Box<str>>,
    /// `file:line:col` in the mapping.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "order {}",
            self.order_id.as_deref().unwrap_or("<unknown id>")
        )?;
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(p) = &self.source_path {
            write!(f, " (source `{p}`)")?;
        }
        write!(f, " at {}", self.location)
    }
}

impl std::error::Error for RunError {}

/// An error on its way up, before the order id and location are attached.
#[derive(Debug)]
pub(super) struct Fail {
    pub(super) code: RunCode,
    pub(super) span: Span,
    pub(super) message: String,
    pub(super) source: Option<Box<str>>,
    pub(super) field: Option<String>,
}

impl Fail {
    pub(super) fn new(span: Span, code: RunCode, message: impl Into<String>) -> Box<Fail> {
        Box::new(Fail {
            code,
            span,
            message: message.into(),
            source: None,
            field: None,
        })
    }
    pub(super) fn at(node: &Node, code: RunCode, message: impl Into<String>) -> Box<Fail> {
        Box::new(Fail {
            code,
            span: node.span,
            message: message.into(),
            source: describe(node).map(Into::into),
            field: None,
        })
    }
}

/// Boxed, so that the result every node returns stays small on the hot path.
pub(super) type R<T> = Result<T, Box<Fail>>;

/// The source path an expression reads, when it is one, for messages.
pub(super) fn describe(n: &Node) -> Option<&str> {
    n.origin.as_deref()
}
