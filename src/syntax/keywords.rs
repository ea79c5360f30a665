//! The language's keywords, one list, held to the grammar (`grammar/bondmap.pest`: a
//! `kw_…` rule for each, and the reserved ones in its `keyword` rule) by the test below.
//! The editor support reads them from here.

/// Where a keyword is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A statement of the file's top level (`use`, `table`, `route`…).
    TopLevel,
    /// A statement of any block (`let`, `require`, `drop`).
    Statement,
    /// Inside a statement (`from … key`, `for … in`, `route … when`).
    Part,
    /// Inside an expression (`if … then … else`, `and`, `true`…).
    Expression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword {
    pub word: &'static str,
    pub place: Place,
    /// No name may be this word; the others (`route`, `when`, `drop`) may still name a
    /// field (`drop = 1`).
    pub reserved: bool,
}

const fn kw(word: &'static str, place: Place, reserved: bool) -> Keyword {
    Keyword {
        word,
        place,
        reserved,
    }
}

pub const KEYWORDS: &[Keyword] = &[
    kw("let", Place::Statement, true),
    kw("require", Place::Statement, true),
    kw("drop", Place::Statement, false),
    kw("use", Place::TopLevel, true),
    kw("target", Place::TopLevel, true),
    kw("source", Place::TopLevel, true),
    kw("settings", Place::TopLevel, true),
    kw("param", Place::TopLevel, true),
    kw("table", Place::TopLevel, true),
    kw("route", Place::TopLevel, false),
    kw("from", Place::Part, true),
    kw("key", Place::Part, true),
    kw("for", Place::Part, true),
    kw("in", Place::Part, true),
    kw("when", Place::Part, false),
    kw("if", Place::Expression, true),
    kw("then", Place::Expression, true),
    kw("else", Place::Expression, true),
    kw("and", Place::Expression, true),
    kw("or", Place::Expression, true),
    kw("not", Place::Expression, true),
    kw("true", Place::Expression, true),
    kw("false", Place::Expression, true),
    kw("null", Place::Expression, true),
];

/// The keywords written at `place`, in the list's order.
pub fn at(place: Place) -> impl Iterator<Item = &'static str> {
    KEYWORDS
        .iter()
        .filter(move |k| k.place == place)
        .map(|k| k.word)
}

/// Whether no name may be `word`.
pub fn is_reserved(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.word == word && k.reserved)
}

/// Whether `word` is a keyword where it stands, `next` being the first character after
/// it that is not a blank: a reserved word always; `route`, `when` and `drop` unless
/// they name a field (`drop = 1`, `route { … }`, `route.x = …`).
pub fn is_keyword(word: &str, next: Option<u8>) -> bool {
    KEYWORDS
        .iter()
        .any(|k| k.word == word && (k.reserved || !matches!(next, Some(b'=' | b'{' | b'.'))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const GRAMMAR: &str = include_str!("../../grammar/bondmap.pest");

    /// The word of each `kw_x = @{ "word" ~ !ident_char }` rule.
    fn kw_rules() -> BTreeSet<&'static str> {
        GRAMMAR
            .lines()
            .filter_map(|l| {
                let rest = l.trim_start().strip_prefix("kw_")?;
                let (_, body) = rest.split_once('=')?;
                let word = body.split('"').nth(1)?;
                Some(word)
            })
            .collect()
    }

    /// The quoted words of the `keyword` rule (the reserved words).
    fn reserved_rule() -> BTreeSet<&'static str> {
        let start = GRAMMAR.find("\nkeyword").expect("a keyword rule");
        let rule = &GRAMMAR[start..];
        let rule = &rule[..rule.find('}').expect("its end")];
        rule.split('"').skip(1).step_by(2).collect()
    }

    #[test]
    fn the_keywords_are_the_grammars() {
        let words: BTreeSet<&str> = KEYWORDS.iter().map(|k| k.word).collect();
        let reserved: BTreeSet<&str> = KEYWORDS
            .iter()
            .filter(|k| k.reserved)
            .map(|k| k.word)
            .collect();
        let grammar: BTreeSet<&str> = kw_rules().union(&reserved_rule()).copied().collect();
        assert!(kw_rules().contains("route") && kw_rules().contains("drop"));
        assert_eq!(words, grammar, "every keyword of the grammar, and no other");
        assert_eq!(
            reserved,
            reserved_rule(),
            "the reserved ones are the grammar's"
        );
        assert_eq!(words.len(), KEYWORDS.len(), "each once");
    }

    #[test]
    fn drop_and_route_may_name_a_field() {
        assert!(is_keyword("drop", Some(b'r')));
        assert!(!is_keyword("drop", Some(b'=')));
        assert!(is_keyword("let", Some(b'=')));
        assert!(!is_keyword("letter", None));
    }
}
