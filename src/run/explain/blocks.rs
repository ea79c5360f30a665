//! What `explain` keeps of one order: a block per field (or for the rule that rejected
//! the order), each with its steps, and each `let`'s derivation once.

/// How one field got its value (or how a rule or field failed).
#[derive(Clone)]
pub(super) struct Block {
    /// The field (`orderItemList[1].declareInfo.totalTax`) or the rule's text.
    pub(super) name: String,
    pub(super) value: String,
    pub(super) at: String,
    pub(super) steps: Vec<Step>,
    /// A rule (`require …`), not a field.
    pub(super) rule: bool,
}

/// A let's derivation, kept once per let and loop item.
#[derive(Clone)]
pub(super) struct LetBlock {
    pub(super) def: String,
    pub(super) steps: Vec<Step>,
}

/// One step of a derivation: a sub-expression and its value.
#[derive(Clone)]
pub(super) struct Step {
    pub(super) depth: usize,
    pub(super) text: String,
    pub(super) value: String,
    /// The concrete path into the order it reads (`$.detail.skuList[0]…`).
    pub(super) source: Option<String>,
    pub(super) more: More,
}

#[derive(Clone)]
pub(super) enum More {
    None,
    /// A let: its derivation under this key of the lets kept, and its name.
    Let(String, String),
    /// An `out.` read: the fields it reads (a field path, `[*]` for any index).
    Fields(String),
}
