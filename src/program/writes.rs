//! The request's top level as a straight list of writes: the data of the plan (built
//! once per program on the run side, by `crate::run::plan`), kept in the [`Program`]
//! (crate::program::Program) so that every run of it shares one.

/// Whether a comma goes before a write. It is known when planning unless optional fields
/// (absent ones are left out) came first in the same object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Comma {
    No,
    Yes,
    /// Only if something was written since the object opened.
    IfWrote,
}

#[derive(Debug)]
pub enum Write {
    /// Literal text; `opens` when it ends with an object just opened.
    Text {
        comma: Comma,
        text: Box<str>,
        opens: bool,
    },
    /// `key` (`"name":`) and the value of global `global`; nothing when it is absent.
    Field {
        comma: Comma,
        key: Box<str>,
        global: u32,
    },
}

#[derive(Debug, Default)]
pub struct Writes {
    pub ops: Vec<Write>,
    /// `slot[g]`: where the value of global `g` is kept once computed, for globals some
    /// expression reads; the others are computed once, when written, and not kept.
    pub slot: Vec<Option<u32>>,
    pub slots: usize,
    /// Each fixed field whose value is a string, with that string: `(global, value)`.
    /// Its text is in `ops`, so a run that tells its caller what it wrote (the order's
    /// code, personal values) finds it here, not by reading the text back.
    pub fixed_strings: Vec<(u32, Box<str>)>,
}
