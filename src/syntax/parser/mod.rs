//! pest pairs to [`ast`](super::ast) nodes, right after parsing: one file per kind of
//! construct ([`items`], [`stmts`], [`exprs`]) and the errors in words ([`errors`]).

mod errors;
mod exprs;
mod items;
mod stmts;
#[cfg(test)]
mod tests;

pub use errors::ParseError;

use super::ast::{File, Ident};
use super::depth::{with_levels, MAX_BRACKETS, MAX_EXPR_DEPTH, MAX_IFS};
use super::{FileId, Span};
use errors::{nesting_error, pest_error, too_deep};
use pest::iterators::Pair;
use pest::Parser as _;
use std::cell::Cell;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/bondmap.pest"]
struct MapParser;

/// Parses one file's text. Nesting past [`MAX_BRACKETS`] brackets or
/// [`MAX_EXPR_DEPTH`] expression levels is refused with an error, never a stack overflow.
pub fn parse(text: &str, file: FileId) -> Result<File, ParseError> {
    let deep = too_deep(text);
    if let Some(off) = deep.at {
        return Err(nesting_error(file, off, MAX_BRACKETS));
    }
    if deep.ifs > MAX_IFS {
        let off = deep.last_if;
        return Err(ParseError {
            span: Span::new(file, off, off + 2),
            message: format!("more than {MAX_IFS} `if`s in one file"),
            label: "too many `if`s".into(),
        });
    }
    // pest nests each `if` in the one before and each bracket; the builder nests each
    // expression level.
    with_levels(MAX_BRACKETS + deep.ifs + MAX_EXPR_DEPTH, || {
        parse_text(text, file)
    })
}

fn parse_text(text: &str, file: FileId) -> Result<File, ParseError> {
    let mut pairs = MapParser::parse(Rule::mapping, text).map_err(|e| pest_error(e, file, text))?;
    let b = Builder {
        file,
        text,
        comments: comment_starts(text),
        depth: Cell::new(0),
    };
    let mut items = Vec::new();
    if let Some(root) = pairs.next() {
        for p in root.into_inner() {
            if p.as_rule() != Rule::EOI {
                items.push(b.item(p)?);
            }
        }
    }
    Ok(File { items })
}

struct Builder<'t> {
    file: FileId,
    text: &'t str,
    /// Where each comment starts, in order: found once, so that trimming a span costs
    /// a lookup, not a scan of its line (a long line of many nodes was quadratic).
    comments: Vec<usize>,
    /// Expression levels open around the expression being built.
    depth: Cell<usize>,
}

/// Where every comment of `text` starts.
fn comment_starts(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut prev = super::scan::Region::Code;
    super::scan::scan(text, |i, _, r| {
        if r == super::scan::Region::Comment && prev != super::scan::Region::Comment {
            out.push(i);
        }
        prev = r;
        true
    });
    out
}

/// pest lets a rule end after the white space and comments that follow its last token;
/// a span should end at the token.
fn trim_end(text: &str, comments: &[usize], start: usize, mut end: usize) -> usize {
    loop {
        let seg = &text[start..end];
        let trimmed = seg.trim_end();
        end = start + trimmed.len();
        let line_start = start + trimmed.rfind('\n').map_or(0, |i| i + 1);
        // The first comment on the span's last line, if any.
        let i = comments.partition_point(|&c| c < line_start);
        match comments.get(i) {
            Some(&c) if c < end => end = c,
            _ => return end,
        }
    }
}

pub(super) type R<T> = Result<T, ParseError>;

fn is_kw(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_use
            | Rule::kw_target
            | Rule::kw_source
            | Rule::kw_settings
            | Rule::kw_param
            | Rule::kw_table
            | Rule::kw_from
            | Rule::kw_key
            | Rule::kw_let
            | Rule::kw_require
            | Rule::kw_else
            | Rule::kw_for
            | Rule::kw_in
            | Rule::kw_if
            | Rule::kw_then
            | Rule::kw_route
            | Rule::kw_when
            | Rule::kw_drop
    )
}

impl Builder<'_> {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(
            self.file,
            s.start(),
            trim_end(self.text, &self.comments, s.start(), s.end()),
        )
    }

    /// The meaningful children of a pair (keywords dropped).
    fn kids<'i>(&self, p: Pair<'i, Rule>) -> Vec<Pair<'i, Rule>> {
        p.into_inner().filter(|c| !is_kw(c.as_rule())).collect()
    }

    fn bug(&self, p: &Pair<Rule>, what: &str) -> ParseError {
        ParseError {
            span: self.span(p),
            message: format!("internal parser error: {what}"),
            label: what.to_string(),
        }
    }

    fn bug_at(&self, span: Span, what: &str) -> ParseError {
        ParseError {
            span,
            message: format!("malformed {what}"),
            label: "here".into(),
        }
    }

    fn ident(&self, p: &Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(p),
        }
    }

    fn string(&self, p: &Pair<Rule>) -> R<String> {
        let inner = p.clone().into_inner().next();
        let raw = inner.as_ref().map_or("", |i| i.as_str());
        if raw.contains('\0') {
            return Err(ParseError {
                span: self.span(p),
                message: "a NUL character (\\0) in a string: no text bondmap writes may hold one"
                    .into(),
                label: "NUL in this string".into(),
            });
        }
        unescape(raw).map_err(|m| ParseError {
            span: self.span(p),
            message: m,
            label: "bad escape".into(),
        })
    }
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some(o) => return Err(format!("unknown escape `\\{o}` in string")),
            None => return Err("string ends with a lone `\\`".into()),
        }
    }
    Ok(out)
}

/// The two-operand operators (the grammar's `op_*` but `not` and unary `-`).
fn is_binary_operator(r: Rule) -> bool {
    matches!(
        r,
        Rule::op_coalesce
            | Rule::op_or
            | Rule::op_and
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_le
            | Rule::op_ge
            | Rule::op_lt
            | Rule::op_gt
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
    )
}
