//! pest pairs to [`ast`](super::ast) nodes, right after parsing.

use super::ast::*;
use super::depth::{with_levels, MAX_BRACKETS, MAX_EXPR_DEPTH, MAX_IFS};
use super::{FileId, Span};
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use rust_decimal::Decimal;
use std::cell::Cell;
use std::str::FromStr;
use std::sync::OnceLock;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/bondmap.pest"]
struct MapParser;

/// A syntax error: where, and what was expected there, in words.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
    pub label: String,
}

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

fn nesting_error(file: FileId, off: usize, limit: usize) -> ParseError {
    ParseError {
        span: Span::new(file, off, off + 1),
        message: format!("nesting deeper than {limit} levels"),
        label: "too deeply nested".into(),
    }
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

/// What the text says of its nesting before it is parsed.
struct Depth {
    /// Byte offset where bracket nesting passes [`MAX_BRACKETS`], outside strings and
    /// comments.
    at: Option<usize>,
    /// `if` keywords, and where the last one starts.
    ifs: usize,
    last_if: usize,
}

fn too_deep(text: &str) -> Depth {
    let mut d = Depth {
        at: None,
        ifs: 0,
        last_if: 0,
    };
    let (mut depth, mut prev, mut before) = (0usize, ' ', ' ');
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    super::scan::scan(text, |i, c, region| {
        if region == super::scan::Region::Code {
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
        (before, prev) = (
            prev,
            if region == super::scan::Region::Code {
                c
            } else {
                ' '
            },
        );
        d.at.is_none()
    });
    d
}

fn is_operator(r: Rule) -> bool {
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
            | Rule::op_not
            | Rule::op_neg
    )
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
        | Rule::op_div => "an operator",
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

fn pest_error(e: pest::error::Error<Rule>, file: FileId, text: &str) -> ParseError {
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

fn pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_coalesce, Assoc::Right))
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
            .op(Op::prefix(Rule::op_not) | Op::prefix(Rule::op_neg))
    })
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

type R<T> = Result<T, ParseError>;

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

    fn item(&self, p: Pair<Rule>) -> R<Item> {
        let span = self.span(&p);
        Ok(match p.as_rule() {
            Rule::use_decl => {
                let k = self.kids(p);
                Item::Use {
                    path: self.string(&k[0])?,
                    span,
                }
            }
            Rule::target_decl => {
                let k = self.kids(p);
                Item::Target {
                    path: self.string(&k[0])?,
                    span,
                }
            }
            Rule::source_decl => {
                let k = self.kids(p);
                Item::Source {
                    path: self.string(&k[0])?,
                    span,
                }
            }
            Rule::settings => {
                let mut out = Vec::new();
                for s in self.kids(p) {
                    let mut k = self.kids(s).into_iter();
                    let (Some(name), Some(value)) = (k.next(), k.next()) else {
                        return Err(ParseError {
                            span,
                            message: "malformed setting".into(),
                            label: "here".into(),
                        });
                    };
                    out.push(Setting {
                        name: self.ident(&name),
                        value: self.expr(value)?,
                    });
                }
                Item::Settings { list: out, span }
            }
            Rule::param => {
                let mut name = None;
                let mut ty = None;
                let mut value = None;
                for k in self.kids(p) {
                    match k.as_rule() {
                        Rule::ident => name = Some(self.ident(&k)),
                        Rule::type_name => ty = Some((type_name(k.as_str()), self.span(&k))),
                        _ => value = Some(self.expr(k)?),
                    }
                }
                let name = name.ok_or_else(|| ParseError {
                    span,
                    message: "param without a name".into(),
                    label: "here".into(),
                })?;
                Item::Param(Param {
                    name,
                    ty,
                    value,
                    span,
                })
            }
            Rule::table => self.table(p)?,
            Rule::route_decl => self.route(p, span)?,
            _ => Item::Stmt(self.stmt(p)?),
        })
    }

    fn route(&self, p: Pair<Rule>, span: Span) -> R<Item> {
        let mut k = self.kids(p).into_iter();
        let Some(path) = k.next() else {
            return Err(self.bug_at(span, "route without a path"));
        };
        let when = match k.next() {
            Some(e) => Some(self.expr(e)?),
            None => None,
        };
        Ok(Item::Route(Route {
            path: self.string(&path)?,
            path_span: self.span(&path),
            when,
            span,
        }))
    }

    fn table(&self, p: Pair<Rule>) -> R<Item> {
        let span = self.span(&p);
        let mut k = self.kids(p).into_iter();
        let (Some(name), Some(body)) = (k.next(), k.next()) else {
            return Err(ParseError {
                span,
                message: "malformed table".into(),
                label: "here".into(),
            });
        };
        let name = self.ident(&name);
        let body = match body.as_rule() {
            Rule::inline_table => {
                let mut rows = Vec::new();
                let mut default = None;
                for row in self.kids(body) {
                    let rspan = self.span(&row);
                    let mut rk = self.kids(row).into_iter();
                    let (Some(key), Some(val)) = (rk.next(), rk.next()) else {
                        continue;
                    };
                    let val = self.literal(val)?;
                    if key.as_rule() == Rule::default_key {
                        default = Some((val, rspan));
                    } else {
                        rows.push((self.literal(key)?, val, rspan));
                    }
                }
                TableBody::Inline { rows, default }
            }
            _ => {
                let mut bk = self.kids(body).into_iter();
                let (Some(file), Some(key)) = (bk.next(), bk.next()) else {
                    return Err(ParseError {
                        span,
                        message: "malformed table".into(),
                        label: "here".into(),
                    });
                };
                let mut columns = Vec::new();
                for col in bk {
                    let mut ck = self.kids(col).into_iter();
                    if let (Some(n), Some(t)) = (ck.next(), ck.next()) {
                        columns.push((self.ident(&n), type_name(t.as_str()), ck.next().is_some()));
                    }
                }
                TableBody::Csv {
                    file_span: self.span(&file),
                    file: self.string(&file)?,
                    key: self.ident(&key),
                    columns,
                }
            }
        };
        Ok(Item::Table(Table { name, body, span }))
    }

    fn stmts<'i>(&self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> R<Vec<Stmt>> {
        pairs.map(|p| self.stmt(p)).collect()
    }

    fn stmt(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::let_stmt => {
                let mut k = self.kids(p).into_iter();
                let (Some(n), Some(v)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "let"));
                };
                Ok(Stmt::Let {
                    name: self.ident(&n),
                    value: self.expr(v)?,
                    span,
                })
            }
            Rule::require_stmt => {
                let mut k = self.kids(p).into_iter().peekable();
                let name = match k.peek() {
                    Some(n) if n.as_rule() == Rule::rule_name => {
                        k.next().map(|n| self.rule_name(n))
                    }
                    _ => None,
                };
                let (Some(c), Some(m)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "require"));
                };
                Ok(Stmt::Require {
                    name,
                    cond: self.expr(c)?,
                    message: self.string(&m)?,
                    span,
                })
            }
            Rule::block => {
                let mut k = self.kids(p).into_iter();
                let Some(path) = k.next() else {
                    return Err(self.bug_at(span, "block"));
                };
                Ok(Stmt::Field(Field {
                    path: self.field_path(path),
                    value: FieldValue::Block(self.stmts(k)?),
                    span,
                }))
            }
            Rule::assign => {
                let mut k = self.kids(p).into_iter();
                let (Some(path), Some(v)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "assignment"));
                };
                let value = if v.as_rule() == Rule::for_expr {
                    let mut bindings = Vec::new();
                    let mut body = Vec::new();
                    for c in self.kids(v) {
                        if c.as_rule() == Rule::binding {
                            let mut bk = self.kids(c).into_iter();
                            if let (Some(n), Some(e)) = (bk.next(), bk.next()) {
                                bindings.push((self.ident(&n), self.expr(e)?));
                            }
                        } else {
                            body.push(self.stmt(c)?);
                        }
                    }
                    FieldValue::For { bindings, body }
                } else {
                    FieldValue::Expr(self.expr(v)?)
                };
                Ok(Stmt::Field(Field {
                    path: self.field_path(path),
                    value,
                    span,
                }))
            }
            Rule::drop_stmt => {
                let Some(k) = self.kids(p).into_iter().next() else {
                    return Err(self.bug_at(span, "drop"));
                };
                let what = if k.as_rule() == Rule::rule_name {
                    DropWhat::Rule(self.rule_name(k))
                } else {
                    DropWhat::Field(self.field_path(k))
                };
                Ok(Stmt::Drop(Drop { what, span }))
            }
            _ => Err(self.bug(&p, "unexpected statement")),
        }
    }

    /// The name of a `rule_name` pair: its text is its one `ident`.
    fn rule_name(&self, p: Pair<Rule>) -> Ident {
        self.ident(&p)
    }

    fn bug_at(&self, span: Span, what: &str) -> ParseError {
        ParseError {
            span,
            message: format!("malformed {what}"),
            label: "here".into(),
        }
    }

    fn field_path(&self, p: Pair<Rule>) -> Vec<Ident> {
        p.into_inner().map(|i| self.ident(&i)).collect()
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
        unescape(raw).map_err(|m| ParseError {
            span: self.span(p),
            message: m,
            label: "bad escape".into(),
        })
    }

    fn literal(&self, p: Pair<Rule>) -> R<Lit> {
        Ok(match p.as_rule() {
            Rule::string => Lit::Str(self.string(&p)?),
            Rule::boolean => Lit::Bool(p.as_str() == "true"),
            Rule::null => Lit::Null,
            Rule::number => {
                let span = self.span(&p);
                let mut digits = "";
                let mut unit = None;
                for k in p.into_inner() {
                    match k.as_rule() {
                        Rule::digits => digits = k.as_str(),
                        Rule::unit => unit = Some(k.as_str().to_string()),
                        _ => {}
                    }
                }
                let d = Decimal::from_str(digits).map_err(|_| ParseError {
                    span,
                    message: format!("number `{digits}` is out of range"),
                    label: "out of range".into(),
                })?;
                Lit::Num(d, unit)
            }
            _ => return Err(self.bug(&p, "expected a literal")),
        })
    }

    fn expr(&self, p: Pair<Rule>) -> R<Expr> {
        let file = self.file;
        // The operators of one expression come flat from pest; each may be a level of
        // the tree (and of the Pratt parser's recursion): refuse before building.
        let parts: Vec<Pair<Rule>> = p.into_inner().collect();
        let outer = self.depth.get();
        let mut depth = outer + 1;
        for k in &parts {
            if is_operator(k.as_rule()) {
                depth += 1;
                if depth > MAX_EXPR_DEPTH {
                    return Err(nesting_error(file, k.as_span().start(), MAX_EXPR_DEPTH));
                }
            }
        }
        if depth > MAX_EXPR_DEPTH {
            let at = parts.first().map_or(0, |k| k.as_span().start());
            return Err(nesting_error(file, at, MAX_EXPR_DEPTH));
        }
        self.depth.set(depth);
        let built = self.pratt_expr(parts);
        self.depth.set(outer);
        built
    }

    fn pratt_expr(&self, parts: Vec<Pair<Rule>>) -> R<Expr> {
        let file = self.file;
        let parsed = pratt()
            .map_primary(|prim| self.primary(prim))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let s = op.as_span();
                Ok(Expr {
                    span: Span::new(file, s.start(), rhs.span.end as usize),
                    kind: ExprKind::Unary {
                        op: if op.as_rule() == Rule::op_not {
                            UnOp::Not
                        } else {
                            UnOp::Neg
                        },
                        expr: Box::new(rhs),
                    },
                })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let s = op.as_span();
                let bop = match op.as_rule() {
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                Ok(Expr {
                    span: lhs.span.to(rhs.span),
                    kind: ExprKind::Binary {
                        op: bop,
                        op_span: Span::new(file, s.start(), s.end()),
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                })
            })
            .parse(parts.into_iter());
        parsed
    }

    fn primary(&self, p: Pair<Rule>) -> R<Expr> {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::expr => return self.expr(p),
            Rule::paren => {
                // The parentheses belong to the span: messages quote the whole of it.
                let inner = p
                    .into_inner()
                    .next()
                    .ok_or_else(|| self.bug_at(span, "parentheses"))?;
                let mut e = self.expr(inner)?;
                e.span = span;
                return Ok(e);
            }
            Rule::number | Rule::string | Rule::boolean | Rule::null => {
                ExprKind::Lit(self.literal(p)?)
            }
            Rule::source_path => ExprKind::Source(p.as_str().to_string()),
            Rule::var_path => {
                let text = p.as_str();
                let cut = text.find(['.', '[']).unwrap_or(text.len());
                ExprKind::VarPath {
                    root: Ident {
                        name: text[..cut].to_string(),
                        span: Span::new(self.file, span.start as usize, span.start as usize + cut),
                    },
                    tail: text[cut..].to_string(),
                }
            }
            Rule::var => {
                let k = p.into_inner().next();
                match k {
                    Some(i) => ExprKind::Var(self.ident(&i)),
                    None => return Err(self.bug_at(span, "name")),
                }
            }
            Rule::lookup => {
                let mut k = self.kids(p).into_iter();
                let (Some(t), Some(key)) = (k.next(), k.next()) else {
                    return Err(self.bug_at(span, "lookup"));
                };
                ExprKind::Lookup {
                    table: self.ident(&t),
                    key: Box::new(self.expr(key)?),
                    column: k.next().map(|c| self.ident(&c)),
                }
            }
            Rule::call => {
                let mut k = self.kids(p).into_iter();
                let Some(f) = k.next() else {
                    return Err(self.bug_at(span, "call"));
                };
                ExprKind::Call {
                    func: self.ident(&f),
                    args: k.map(|a| self.expr(a)).collect::<R<_>>()?,
                }
            }
            Rule::if_expr => {
                let mut k = self.kids(p).into_iter();
                let (Some(c), Some(t), Some(e)) = (k.next(), k.next(), k.next()) else {
                    return Err(self.bug_at(span, "if"));
                };
                ExprKind::If {
                    cond: Box::new(self.expr(c)?),
                    then: Box::new(self.expr(t)?),
                    els: Box::new(self.expr(e)?),
                }
            }
            _ => return Err(self.bug(&p, "unexpected expression")),
        };
        Ok(Expr { kind, span })
    }
}

fn type_name(s: &str) -> TypeName {
    match s {
        "integer" => TypeName::Integer,
        "decimal" => TypeName::Decimal,
        "boolean" => TypeName::Boolean,
        _ => TypeName::String,
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_close_brace_names_the_block_that_is_never_closed() {
        let text = "receiverInfo {\n  country = \"{#}\"  # a { in a comment\n  city = $.l[?(@.a#b == '}')]\n";
        let e = parse(text, FileId(0)).unwrap_err();
        assert_eq!(e.span.start as usize, text.find('{').unwrap(), "{e:?}");
        assert_eq!(
            e.message,
            "unexpected end of file: the `{` of `receiverInfo {` on line 1 is never closed"
        );
        // The innermost block left open is named, not the outer one.
        let nested = "a {\n  b {\n    c = 1\n}\n";
        let e = parse(nested, FileId(0)).unwrap_err();
        assert!(e.message.contains("`a {` on line 1"), "{e:?}");
        let nested = "a {\n  b {\n    c = 1\n";
        let e = parse(nested, FileId(0)).unwrap_err();
        assert!(e.message.contains("`b {` on line 2"), "{e:?}");
        // Closed blocks: an error at the end of file is reported as before.
        let e = parse("a {\n  c = 1\n}\nd =\n", FileId(0)).unwrap_err();
        assert!(
            e.message.starts_with("unexpected end of file: expected"),
            "{e:?}"
        );
    }

    use super::*;

    fn ok(src: &str) -> File {
        match parse(src, FileId(0)) {
            Ok(f) => f,
            Err(e) => panic!("{src}: {} at {:?}", e.message, e.span),
        }
    }

    #[test]
    fn parses_the_main_constructs() {
        let f = ok(r#"
            use "base.map"
            target "schema.json"
            settings { msg_type = "CN_WMS_DELIVERYORDER_CREATE" order_id = $.detail.orderId }
            param store_code: string
            param channel: string = "非淘ToC"
            table pay { "AliPay" => "ALIPAY" 1 => "ALIPAY" _ => "OTHER" }
            table goods from "goods.csv" key barcode { item_id: string rate: decimal }
            require $.receiver.receiverInfos[0].matched == true else "address changed"
            let buyer = first($.declare.orderDeclareInfos[?(@.type == '订购人')])
            receiverInfo { city = nonblank($.receiver.receiverInfos[0].receiverCityName) ?? "/" }
            orderItemList = for sku in $.detail.skuList[*], good in sku.skuDetailList[*] {
              itemId = goods[good.barcode].item_id
              declareInfo.itemTotalPrice = good.pricePerSku * good.quantity
              vat = if a > 1 and not b then -1 else round(0.13 * x, half_up)
            }
            postFee = convert(19.99 yuan, fen)
        "#);
        assert_eq!(f.items.len(), 12);
    }

    #[test]
    fn precedence_groups_products_before_sums() {
        let f = ok("a = 1 + 2 * 3");
        let Item::Stmt(Stmt::Field(Field {
            value: FieldValue::Expr(e),
            ..
        })) = &f.items[0]
        else {
            panic!("not a field")
        };
        let ExprKind::Binary { op, rhs, .. } = &e.kind else {
            panic!("not binary")
        };
        assert_eq!(*op, BinOp::Add);
        assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Mul, .. }));
    }

    #[test]
    fn error_points_at_the_bad_token() {
        let e = parse("a = 1\nb = = 2", FileId(0)).unwrap_err();
        assert_eq!(e.span.start, 10);
        assert!(e.message.contains("expected"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let src = format!("a = {}1{}", "(".repeat(500), ")".repeat(500));
        let e = parse(&src, FileId(0)).unwrap_err();
        assert!(e.message.contains("nesting"), "{}", e.message);
    }

    /// Each kind of chain, 10,000 long: refused as too deep, like deep parentheses, where
    /// before the parser, checker or evaluator overflowed the stack (abort).
    #[test]
    fn every_operator_chain_is_held_to_the_nesting_limit() {
        let n = 10_000;
        let join = |op: &str, item: &str| vec![item; n].join(op);
        let cases = [
            ("not", format!("a = {}true", "not ".repeat(n))),
            ("unary minus", format!("a = {}1", "- ".repeat(n))),
            ("??", format!("a = {}", join(" ?? ", "null"))),
            ("+", format!("a = {}", join(" + ", "1"))),
            ("-", format!("a = {}", join(" - ", "1"))),
            ("*", format!("a = {}", join(" * ", "1"))),
            ("and", format!("a = {}", join(" and ", "true"))),
            ("or", format!("a = {}", join(" or ", "true"))),
            ("==", format!("a = {}", join(" == ", "1"))),
            ("<", format!("a = {}", join(" < ", "1"))),
            (
                "else if",
                format!("a = {}0", "if $.x == 1 then 1 else ".repeat(n)),
            ),
            (
                "if in a condition",
                format!("a = {}true{}", "if ".repeat(n), " then 1 else 2".repeat(n)),
            ),
        ];
        for (what, src) in cases {
            let e = std::thread::spawn(move || parse(&src, FileId(0)).map(|_| ()))
                .join()
                .unwrap_or_else(|_| panic!("{what}: the parser panicked"));
            let e = e.expect_err(what);
            assert_eq!(e.message, "nesting deeper than 1024 levels", "{what}");
            assert_eq!(e.label, "too deeply nested", "{what}");
        }
    }

    #[test]
    fn chains_within_the_limit_parse() {
        let src = format!("a = {}0", "if $.x == 1 then 1 else ".repeat(1000));
        std::thread::spawn(move || ok(&src)).join().unwrap();
        let src = format!("a = {}", vec!["null"; 1000].join(" ?? "));
        std::thread::spawn(move || ok(&src)).join().unwrap();
    }

    #[test]
    fn unit_suffix_stays_on_its_line() {
        let f = ok("w = 12\ng = 5");
        assert_eq!(f.items.len(), 2);
        let f = ok("w = 12 g");
        assert_eq!(f.items.len(), 1);
    }
}
