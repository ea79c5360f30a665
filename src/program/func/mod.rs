//! The built-in functions in one table: each entry's name, arity, what its first argument
//! must be, what it gives, how the input-shape hint reads its arguments, a one-line doc and
//! examples. The checker (`crate::compile`), the input-shape hint (`crate::run::shape`), the
//! language server and the book's function table (docs/language.md) all read this table. A plain function is
//! evaluated by its entry ([`Make::Eval`], one file per family: [`list`], [`text`],
//! [`number`], [`time`]) over its arguments, each read when it asks ([`args::Args`]; a
//! list argument is walked in place by the evaluator); only `round`, `convert` and the
//! unit tags, whose places, unit and mode the checker reads from the call, are arms of
//! `Ev::call` in `crate::run::call`. A compiled call's entry is `Func::builtin`.

pub mod args;
mod list;
mod number;
mod text;
mod time;

use crate::money::Unit;
use args::Apply;

/// One built-in function.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub make: Make,
    /// Fewest and most arguments (`usize::MAX`: no upper bound).
    pub args: (usize, usize),
    pub first_arg: Arg,
    pub gives: Gives,
    pub reads: Reads,
    /// How a call is written, for hover and the book.
    pub signature: &'static str,
    /// One line, for hover and the book.
    pub doc: &'static str,
    /// At least one; `tests/functions.rs` runs each over [`EXAMPLE_ORDER`].
    pub examples: &'static [Example],
}

impl PartialEq for Builtin {
    /// One entry of the table is one function (names are unique, a test holds that).
    fn eq(&self, other: &Builtin) -> bool {
        self.name == other.name
    }
}

/// How the checker makes the [`Func`] of a call.
#[derive(Debug, Clone, Copy)]
pub enum Make {
    /// Evaluated by this function over the call's arguments: the call compiles to
    /// [`Func::Own`] of the entry. Adding a plain function is one entry with one of these.
    Eval(Apply),
    /// `round(x[, places], mode)`: places and mode are read from the call.
    Round,
    /// `convert(x, unit[, mode])`: the unit and mode are read from the call.
    Convert,
    /// `yuan(x)` and the other units: says which unit a bare number is counted in.
    Tag(Unit),
}

/// What the first argument must be (a check-time type error otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg {
    Any,
    /// A string: a number or a boolean is refused.
    Str,
    /// A number: a string or a boolean is refused.
    Num,
    /// A list of numbers: a list of strings or booleans is refused.
    Nums,
}

/// What a call gives, as the checker types it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gives {
    Str,
    /// A number without unit.
    Num,
    /// A whole number without unit.
    Whole,
    /// A number in the unit of the first argument.
    ArgUnit,
    /// An element of the list the first argument is.
    Element,
    /// The first argument's type, or nothing.
    OrAbsent,
    /// Set by the other arguments: round's places, convert's unit, the unit a tag names.
    FromCall,
}

/// How the input-shape hint (`crate::run::shape`) treats the arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reads {
    /// Every argument is used as a whole value.
    Whole,
    /// Gives an element of its first argument (the rest used whole).
    Element,
    /// Gives its first argument itself (the rest used whole).
    Passes,
    /// Only counts its arguments: their number of elements, never what is inside.
    Counted,
}

/// An expression and the JSON of its value over [`EXAMPLE_ORDER`].
#[derive(Debug)]
pub struct Example {
    pub expr: &'static str,
    pub gives: &'static str,
}

/// The order (below the repository root) the examples read from.
pub const EXAMPLE_ORDER: &str = "examples/orders/02_several_skus_discounts_wechat.json";

const fn ex(expr: &'static str, gives: &'static str) -> Example {
    Example { expr, gives }
}

macro_rules! builtins {
    ($( $name:literal $make:expr, $args:expr, $arg:ident -> $gives:ident, $reads:ident,
        $sig:literal, $doc:literal, [$($ex:expr),+ $(,)?]; )*) => {
        /// Every built-in, in the order "did you mean" and the help list them.
        pub const BUILTINS: &[Builtin] = &[$(Builtin {
            name: $name,
            make: $make,
            args: $args,
            first_arg: Arg::$arg,
            gives: Gives::$gives,
            reads: Reads::$reads,
            signature: $sig,
            doc: $doc,
            examples: &[$($ex),+],
        },)*];
    };
}

use Make::{Eval, Tag};

const MANY: usize = usize::MAX;

builtins! {
    "first" Eval(list::first), (1, 1), Any -> Element, Element,
        "first(list)", "The first element (absent for an empty list).",
        [ex("first($.detail.skuList[*].skuId)", r#""S1002""#)];
    "last" Eval(list::last), (1, 1), Any -> Element, Element,
        "last(list)", "The last element (absent for an empty list).",
        [ex("last($.detail.skuList[*].skuId)", r#""S1004""#),
         ex("last($.detail.skuList[*].skuDetailList[*].quantity)", "3")];
    "sum" Eval(list::sum), (1, 1), Nums -> ArgUnit, Whole,
        "sum(list)", "The sum of a list of numbers (the sum of none is 0).",
        [ex("sum($.detail.skuList[*].skuQuantity)", "6")];
    "count" Eval(list::count), (1, 1), Any -> Whole, Counted,
        "count(list)", "How many elements a list has.",
        [ex("count($.detail.skuList[*])", "3")];
    "min" Eval(list::min), (1, 1), Nums -> ArgUnit, Whole,
        "min(list)", "The smallest number of a list.",
        [ex("min($.detail.skuList[*].skuQuantity)", "1"),
         ex("min($.detail.skuList[*].skuDetailList[*].redDiscountPerSku)", "0")];
    "max" Eval(list::max), (1, 1), Nums -> ArgUnit, Whole,
        "max(list)", "The largest number of a list.",
        [ex("max($.detail.skuList[*].skuQuantity)", "3"),
         ex("max($.detail.skuList[*].skuDetailList[*].pricePerSku)", "15800")];
    "trim" Eval(text::trim), (1, 1), Str -> Str, Whole,
        "trim(s)", "The string without leading and trailing spaces.",
        [ex(r#"trim("  HZ01 ")"#, r#""HZ01""#)];
    "upper" Eval(text::upper), (1, 1), Str -> Str, Whole,
        "upper(s)", "The string in upper case.",
        [ex(r#"upper("hz01")"#, r#""HZ01""#)];
    "lower" Eval(text::lower), (1, 1), Str -> Str, Whole,
        "lower(s)", "The string in lower case.",
        [ex(r#"lower("HZ01")"#, r#""hz01""#), ex("lower($.detail.receiverCountryId)", r#""cn""#)];
    "concat" Eval(text::concat), (1, MANY), Any -> Str, Whole,
        "concat(a, b, …)",
        "Joins strings; an absent part rejects the order (write `part ?? \"\"` where one may be missing).",
        [ex(r#"concat("HZ", "-", $.detail.receiverCountryId)"#, r#""HZ-CN""#)];
    "len" Eval(list::len), (1, 1), Any -> Whole, Counted,
        "len(s)", "The length of a string in characters (also counts a list).",
        [ex(r#"len("保税仓")"#, "3"), ex("len($.detail.skuList[*])", "3")];
    "substr" Eval(text::substr), (2, 3), Str -> Str, Whole,
        "substr(s, start[, len])", "A part of a string, in characters.",
        [ex("substr($.detail.orderId, 0, 8)", r#""P7881122""#),
         ex(r#"substr("保税仓发货", 3)"#, r#""发货""#)];
    "replace" Eval(text::replace), (3, 3), Str -> Str, Whole,
        "replace(s, from, to)", "Every `from` in the string replaced by `to`.",
        [ex(r#"replace("0571-8888-01", "-", "")"#, r#""0571888801""#)];
    "round" Make::Round, (2, 3), Num -> FromCall, Whole,
        "round(x, mode) / round(x, places, mode)",
        "Rounds exactly; modes `half_up`, `half_even`, `down`.",
        [ex("round(2.5, half_even)", "2"), ex("round(1.005, 2, half_up)", "1.01"),
         ex("round(1.999, 1, down)", "1.9")];
    "convert" Make::Convert, (2, 3), Num -> FromCall, Whole,
        "convert(x, unit[, mode])", "Converts between yuan/jiao/fen or kg/g, exactly.",
        [ex("convert(fen(1250), yuan)", "12.5"), ex("convert(yuan(12.345), fen, half_up)", "1235")];
    "yuan" Tag(Unit::Yuan), (1, 1), Num -> FromCall, Whole,
        "yuan(x)", "Says that a bare number is counted in yuan.",
        [ex("convert(yuan(12.50), fen)", "1250")];
    "jiao" Tag(Unit::Jiao), (1, 1), Num -> FromCall, Whole,
        "jiao(x)", "Says that a bare number is counted in jiao.",
        [ex("convert(jiao(5), fen)", "50")];
    "fen" Tag(Unit::Fen), (1, 1), Num -> FromCall, Whole,
        "fen(x)", "Says that a bare number is counted in fen.",
        [ex("fen(0)", "0")];
    "kg" Tag(Unit::Kg), (1, 1), Num -> FromCall, Whole,
        "kg(x)", "Says that a bare number is counted in kg.",
        [ex("convert(kg(1.2), g)", "1200")];
    "g" Tag(Unit::G), (1, 1), Num -> FromCall, Whole,
        "g(x)", "Says that a bare number is counted in g.",
        [ex("convert(g(500), kg)", "0.5")];
    "string" Eval(text::string), (1, 1), Any -> Str, Whole,
        "string(x)", "An explicit conversion to a string (bondmap never converts silently).",
        [ex("string($.detail.orderType)", r#""1""#)];
    "number" Eval(number::number), (1, 1), Any -> Num, Whole,
        "number(s)", "An explicit conversion of a string to a number.",
        [ex(r#"number("12.5")"#, "12.5"), ex(r#"number("-3") + 1"#, "-2")];
    "nonblank" Eval(text::nonblank), (1, 1), Any -> OrAbsent, Passes,
        "nonblank(s)", "Absent when `s` is empty or only spaces, else `s`.",
        [ex(r#"nonblank($.detail.sellerRemark) ?? "/""#, r#""/""#),
         ex(r#"nonblank("HZ") ?? "/""#, r#""HZ""#)];
    "format_time" Eval(time::format), (2, 2), Num -> Str, Whole,
        "format_time(ms, format)", "A RED time (ms) as text in China Standard Time.",
        [ex(r#"format_time($.detail.createdTime, "%Y-%m-%d %H:%M:%S")"#, r#""2026-11-18 21:06:40""#)];
    "parse_time" Eval(time::parse), (2, 2), Str -> Whole, Whole,
        "parse_time(text, format)",
        "A China Standard Time text to ms (the inverse of `format_time`); a text of another form rejects the order.",
        [ex(r#"parse_time("2026-11-18 21:06:40", "%Y-%m-%d %H:%M:%S")"#, "1795007200000")];
    "abs" Eval(number::abs), (1, 1), Num -> ArgUnit, Whole,
        "abs(x)", "The absolute value.",
        [ex("abs(-3.5)", "3.5"), ex("abs(fen(-120))", "120")];
}

/// The built-in called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Func;

    #[test]
    fn names_are_unique_and_each_has_an_example() {
        for (i, b) in BUILTINS.iter().enumerate() {
            assert!(!b.examples.is_empty(), "{}", b.name);
            assert!(
                BUILTINS[..i].iter().all(|o| o.name != b.name),
                "{} twice",
                b.name
            );
            assert!(b.args.0 <= b.args.1, "{}", b.name);
        }
    }

    #[test]
    fn every_func_maps_back_to_its_entry() {
        for b in BUILTINS {
            let f = match b.make {
                Make::Eval(_) => Func::Own(b),
                Make::Round => Func::Round(0, crate::money::Rounding::HalfUp),
                Make::Convert => Func::Convert(Unit::Fen, None),
                Make::Tag(u) => Func::Tag(u),
            };
            assert_eq!(f.builtin().map(|o| o.name), Some(b.name));
        }
    }
}
