//! Syntax errors in words: pest's failures renamed into what a person understands, the
//! nesting guard checked before parsing, and the unclosed `{` found for an early end of file.

use super::Rule;
use crate::syntax::depth::MAX_BRACKETS;
use crate::syntax::scan::{scan, Region};
use crate::syntax::{FileId, Span};

/// A syntax error: where, and what was expected there, in words.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
    pub label: String,
}

pub(super) fn nesting_error(file: FileId, off: usize, limit: usize) -> ParseError {
    ParseError {
        span: Span::new(file, off, off + 1),
        message: format!("nesting deeper than {limit} levels"),
        label: "too deeply nested".into(),
    }
}

/// What the text says of its nesting before it is parsed.
pub(super) struct Depth {
    /// Byte offset where bracket nesting passes [`MAX_BRACKETS`], outside strings and
    /// comments.
    pub(super) at: Option<usize>,
    /// `if` keywords, and where the last one starts.
    pub(super) ifs: usize,
    pub(super) last_if: usize,
}

pub(super) fn too_deep(text: &str) -> Depth {
    let mut d = Depth {
        at: None,
        ifs: 0,
        last_if: 0,
    };
    let (mut depth, mut prev, mut before) = (0usize, ' ', ' ');
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    scan(text, |i, c, region| {
        if region == Region::Code {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_BRACKETS {
                d.at = Some(i);
            }
            // `if` as a word: counted where its end is seen (an `iff` name counts too,
            // which only makes the bound safer).
            if prev == 'i' && c == 'f' && !word(before) {
                d.ifs += 1;
                d.last_if = i - 1;
            }
        }
        (before, prev) = (prev, if region == Region::Code { c } else { ' ' });
        d.at.is_none()
    });
    d
}

fn rule_words(r: &Rule) -> &'static str {
    match r {
        Rule::EOI => "end of file",
        Rule::use_decl => "`use`",
        Rule::target_decl => "`target`",
        Rule::source_decl => "`source`",
        Rule::settings => "`settings`",
        Rule::setting => "a setting (`name = value`)",
        Rule::param => "`param`",
        Rule::type_name => "a type (string, integer, decimal, boolean)",
        Rule::table => "`table`",
        Rule::inline_table | Rule::csv_table => "a table body",
        Rule::table_row => "a table row (`key => value`)",
        Rule::default_key => "`_`",
        Rule::column => "a column (`name: type`)",
        Rule::let_stmt => "`let`",
        Rule::require_stmt => "`require`",
        Rule::block | Rule::assign | Rule::field_path => "a target field",
        Rule::for_expr => "`for`",
        Rule::binding => "a loop binding (`name in path`)",
        Rule::expr | Rule::paren => "an expression",
        Rule::if_expr => "`if`",
        Rule::lookup => "a table lookup",
        Rule::call => "a function call",
        Rule::var => "a name",
        Rule::source_path => "a source path (`$.…`)",
        Rule::var_path => "a path",
        Rule::number | Rule::digits => "a number",
        Rule::unit => "a unit",
        Rule::string | Rule::dq_inner | Rule::sq_inner => "a string",
        Rule::boolean => "true or false",
        Rule::null => "null",
        Rule::ident => "a name",
        r if super::is_binary_operator(*r) => "an operator",
        Rule::op_not | Rule::op_neg => "`not` or `-`",
        Rule::kw_else => "`else`",
        Rule::kw_in => "`in`",
        Rule::kw_then => "`then`",
        Rule::kw_key => "`key`",
        Rule::kw_from => "`from`",
        Rule::route_decl => "`route`",
        Rule::kw_when => "`when`",
        Rule::drop_stmt => "`drop`",
        Rule::rule_name => "a rule name",
        _ => "something else",
    }
}

pub(super) fn pest_error(e: pest::error::Error<Rule>, file: FileId, text: &str) -> ParseError {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, next_char_end(text, p)),
        InputLocation::Span((s, e)) => (s, e.max(s)),
    };
    let (message, label) = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().map(rule_words).collect();
            // `=` and `{` are literals, invisible to pest's rule list: a field with neither.
            if positives.contains(&Rule::assign) || positives.contains(&Rule::block) {
                words.push("`=` or `{`");
            }
            words.sort_unstable();
            words.dedup();
            if words.len() > 1 {
                words.retain(|w| *w != "something else");
            }
            let found = text[start..]
                .chars()
                .next()
                .map_or("end of file".to_string(), |c| format!("`{c}`"));
            let expected = match words.len() {
                0 => "something else".to_string(),
                1 => words[0].to_string(),
                _ => {
                    let (last, rest) = words.split_last().map_or(("", &[][..]), |(l, r)| (*l, r));
                    format!("{} or {}", rest.join(", "), last)
                }
            };
            (
                format!("unexpected {found}: expected {expected}"),
                format!("expected {expected}"),
            )
        }
        ErrorVariant::CustomError { message } => (message.clone(), message.clone()),
    };
    // The file ended inside a block: "end of file" at the last line says nothing of which
    // `}` is missing; point at the `{` that was never closed instead.
    if text[start..].trim().is_empty() {
        if let Some(open) = unclosed_brace(text) {
            let line = text[..open].matches('\n').count() + 1;
            let head = text[..open].rsplit('\n').next().unwrap_or("").trim();
            let head: String = head.chars().take(40).collect();
            let which = if head.is_empty() {
                format!("the `{{` on line {line}")
            } else {
                format!("the `{{` of `{head} {{` on line {line}")
            };
            return ParseError {
                span: Span::new(file, open, open + 1),
                message: format!("unexpected end of file: {which} is never closed"),
                label: "this `{` has no `}`".into(),
            };
        }
    }
    ParseError {
        span: Span::new(file, start, end),
        message,
        label,
    }
}

/// The innermost `{` still open at the end of `text`, outside strings, comments and path
/// brackets (where `#` is no comment).
fn unclosed_brace(text: &str) -> Option<usize> {
    let mut open = Vec::new();
    let mut square = 0usize;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' => {
                while let Some((_, d)) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '#' if square == 0 => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '[' => square += 1,
            ']' => square = square.saturating_sub(1),
            '{' if square == 0 => open.push(i),
            '}' if square == 0 => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
}

fn next_char_end(text: &str, p: usize) -> usize {
    text.get(p..)
        .and_then(|s| s.chars().next())
        .map_or(p, |c| p + c.len_utf8())
}
