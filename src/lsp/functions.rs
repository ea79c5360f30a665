//! The functions of the language, with their doc and an example, for hover and
//! completion (from README's function table; a test keeps the names the compiler's).

pub struct Function {
    pub name: &'static str,
    pub signature: &'static str,
    pub doc: &'static str,
    pub example: &'static str,
}

macro_rules! functions {
    ($($name:literal, $sig:literal, $doc:literal, $ex:literal;)*) => {
        pub const FUNCTIONS: &[Function] = &[
            $(Function { name: $name, signature: $sig, doc: $doc, example: $ex },)*
        ];
    };
}

functions! {
    "first", "first(list)", "The first element (absent for an empty list).", "first($.declare.orderDeclareInfos[*])";
    "last", "last(list)", "The last element (absent for an empty list).", "last($.detail.skuList[*])";
    "sum", "sum(list)", "The sum of a list of numbers (the sum of none is 0).", "sum(out.orderItemList[*].declareInfo.totalTax)";
    "count", "count(list)", "How many elements a list has.", "count($.detail.skuList[*].skuDetailList[*])";
    "min", "min(list)", "The smallest number of a list.", "min($.detail.skuList[*].skuQuantity)";
    "max", "max(list)", "The largest number of a list.", "max($.detail.skuList[*].skuQuantity)";
    "trim", "trim(s)", "The string without leading and trailing spaces.", "trim(receiver.receiverName)";
    "upper", "upper(s)", "The string in upper case.", "upper($.detail.whcode)";
    "lower", "lower(s)", "The string in lower case.", "lower($.detail.whcode)";
    "len", "len(s)", "The length of a string in characters (also counts a list).", "len(receiver.receiverAddress)";
    "concat", "concat(a, b, …)", "Joins strings; an absent part rejects the order (write `part ?? \"\"` where one may be missing).", "concat(receiver.receiverTownName ?? \"\", receiver.receiverAddress)";
    "substr", "substr(s, start[, len])", "A part of a string, in characters.", "substr($.detail.orderId, 0, 8)";
    "replace", "replace(s, from, to)", "Every `from` in the string replaced by `to`.", "replace(buyer.linkPhone, \"-\", \"\")";
    "string", "string(x)", "An explicit conversion to a string (bondmap never converts silently).", "string($.detail.paymentType)";
    "number", "number(s)", "An explicit conversion of a string to a number.", "number(\"12.5\")";
    "nonblank", "nonblank(s)", "Absent when `s` is empty or only spaces, else `s`.", "nonblank(receiver.receiverCityName) ?? \"/\"";
    "format_time", "format_time(ms, format)", "A RED time (ms) as text in China Standard Time.", "format_time($.detail.orderedAt, \"%Y-%m-%d %H:%M:%S\")";
    "parse_time", "parse_time(text, format)", "A China Standard Time text to ms (the inverse of `format_time`); a text of another form rejects the order.", "parse_time(\"2026-01-02 03:04:05\", \"%Y-%m-%d %H:%M:%S\")";
    "round", "round(x, mode) / round(x, places, mode)", "Rounds exactly; modes `half_up`, `half_even`, `down`.", "round(tax * rate, half_up)";
    "convert", "convert(x, unit[, mode])", "Converts between yuan/jiao/fen or kg/g, exactly.", "convert($.detail.totalPayAmount, yuan)";
    "yuan", "yuan(x)", "Says that a bare number is counted in yuan.", "yuan(12.50)";
    "jiao", "jiao(x)", "Says that a bare number is counted in jiao.", "jiao(5)";
    "fen", "fen(x)", "Says that a bare number is counted in fen.", "fen(0)";
    "kg", "kg(x)", "Says that a bare number is counted in kg.", "kg(1.2)";
    "g", "g(x)", "Says that a bare number is counted in g.", "g(500)";
    "abs", "abs(x)", "The absolute value.", "abs(good.redDiscountPerSku)";
}

pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The hover text of a function.
pub fn markdown(f: &Function) -> String {
    format!(
        "```\n{}\n```\n{}\n\nExample: `{}`",
        f.signature, f.doc, f.example
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_function_the_checker_knows_has_a_doc() {
        // A name the checker does not know is refused by it: try each in a mapping.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/warehouses");
        let unknown = |name: &str| {
            let text = format!("use \"hangzhou_xiasha.map\"\nlet x = {name}()\nstoreCode = x\n");
            let c = super::super::engine::check(&dir.join("fn_test.map"), &text);
            c.diags
                .iter()
                .any(|d| d.code == crate::diag::Code::UnknownFunction)
        };
        assert!(unknown("frist"), "the control: an unknown name is refused");
        for f in super::FUNCTIONS {
            assert!(!unknown(f.name), "{}", f.name);
        }
    }
}
