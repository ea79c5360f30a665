//! How deep a mapping may nest, and a stack deep enough for it: every stage (parser,
//! checker, compiler, printer, evaluator) walks expression trees recursively.

/// Deepest nesting of brackets (`(`, `[`, `{`) accepted.
pub const MAX_BRACKETS: usize = 64;

/// Deepest expression accepted: each operator of a chain (`a ?? b ?? …`, `not not …`,
/// `1 + 1 + …`), each `if` of an `else if` chain and each parenthesis is a level.
/// A 500-branch `if` chain fits; 10,000 `not`s do not.
pub const MAX_EXPR_DEPTH: usize = 1024;

/// Most `if`s in one file: the grammar nests each `if` in the one before, so this bounds
/// the parser's own recursion (real mappings have a handful).
pub const MAX_IFS: usize = 20_000;

/// Stack one level may take in any stage, debug builds included, with room to spare.
const PER_LEVEL: usize = 8 * 1024;
const BASE: usize = 256 * 1024;

/// Runs `f` where `levels` levels of recursion fit: on this thread's stack when it has
/// room (the usual case, a check of the stack pointer), else on a fresh stack that is
/// mapped lazily, so only what is used is touched.
pub fn with_levels<R>(levels: usize, f: impl FnOnce() -> R) -> R {
    let need = BASE + levels.saturating_mul(PER_LEVEL);
    stacker::maybe_grow(need, need, f)
}
