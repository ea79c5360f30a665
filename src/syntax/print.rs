//! Prints a syntax tree back as source in the one canonical layout (`bondmap fmt`),
//! keeping every comment where it stood.

use super::ast::{
    BinOp, DropWhat, Expr, ExprKind, FieldValue, File, Item, Lit, Stmt, Table, TableBody, UnOp,
};
use super::{FileId, Span};

/// Formats mapping text. Formatting the result again changes nothing.
pub fn format(text: &str) -> Result<String, super::ParseError> {
    let file = super::parse(text, FileId(0))?;
    // The printer recurses once per expression level.
    super::depth::with_levels(
        super::depth::MAX_EXPR_DEPTH + super::depth::MAX_BRACKETS,
        || print_file(text, &file),
    )
}

fn print_file(text: &str, file: &File) -> Result<String, super::ParseError> {
    let mut p = Printer {
        text,
        out: String::with_capacity(text.len() + 64),
        comments: comments(text),
        next: 0,
        indent: 0,
        last_end: 0,
    };
    for item in &file.items {
        p.item(item);
    }
    p.flush_comments(text.len(), true);
    while p.out.ends_with("\n\n") {
        p.out.pop();
    }
    if !p.out.ends_with('\n') {
        p.out.push('\n');
    }
    Ok(align_routes(&align(&p.out)))
}

/// Lines up the `when` of neighbouring routes, so a routes file reads as a table.
fn align_routes(text: &str) -> String {
    // (the `route "…"` part, the rest from `when` on) of a route line.
    let split = |l: &str| -> Option<(String, Option<String>)> {
        let rest = l.strip_prefix("route \"")?;
        let mut escaped = false;
        let close = rest.char_indices().find_map(|(i, c)| {
            let end = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            end.then_some(i)
        })?;
        let head = format!("route \"{}", &rest[..=close]);
        let tail = rest[close + 1..].trim_start();
        match tail {
            "" => Some((head, None)),
            t if t.starts_with('#') => Some((format!("{head}  {t}"), None)),
            t if t.starts_with("when ") => Some((head, Some(t.to_string()))),
            _ => None,
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let parsed: Vec<_> = lines.iter().map(|l| split(l)).collect();
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    while i < lines.len() {
        if parsed[i].is_none() {
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
            continue;
        }
        let j = (i..lines.len())
            .find(|&j| parsed[j].is_none())
            .unwrap_or(lines.len());
        let width = parsed[i..j]
            .iter()
            .flatten()
            .filter(|(_, t)| t.is_some())
            .map(|(h, _)| h.chars().count())
            .max()
            .unwrap_or(0);
        for (head, tail) in parsed[i..j].iter().flatten() {
            out.push_str(head);
            if let Some(t) = tail {
                out.push_str(&" ".repeat(width - head.chars().count() + 1));
                out.push_str(t);
            }
            out.push('\n');
        }
        i = j;
    }
    out
}

/// Lines up the `=` (or `=>`) of neighbouring one-line assignments at the same indent.
fn align(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    // (indent, left side, operator, right side) of an alignable line.
    let split = |l: &str| -> Option<(usize, String, &'static str, String)> {
        let indent = l.len() - l.trim_start().len();
        let body = &l[indent..];
        if body.starts_with('#') || body.ends_with('{') {
            return None;
        }
        for op in [" => ", " = "] {
            if let Some(i) = body.find(op) {
                let lhs = &body[..i];
                let simple = lhs.trim_start_matches("let ").chars().all(|c| {
                    c.is_alphanumeric() || c == '_' || c == '.' || c == '"' || c == '\'' || c == '-'
                });
                if simple && !lhs.starts_with("param") && !lhs.starts_with("require") {
                    return Some((
                        indent,
                        lhs.to_string(),
                        op.trim(),
                        body[i + op.len()..].to_string(),
                    ));
                }
            }
        }
        None
    };
    let parsed: Vec<_> = lines.iter().map(|l| split(l)).collect();
    let mut out = String::with_capacity(text.len() + 256);
    let mut i = 0;
    while i < lines.len() {
        let Some((ind, _, op, _)) = &parsed[i] else {
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
            continue;
        };
        let mut j = i;
        while j < lines.len() && matches!(&parsed[j], Some((d, _, o, _)) if d == ind && o == op) {
            j += 1;
        }
        let width = parsed[i..j]
            .iter()
            .flatten()
            .map(|(_, l, _, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        for (_, lhs, op, rhs) in parsed[i..j].iter().flatten() {
            let pad = width - lhs.chars().count();
            out.push_str(&format!(
                "{}{}{} {} {}\n",
                " ".repeat(*ind),
                lhs,
                " ".repeat(pad),
                op,
                rhs
            ));
        }
        i = j;
    }
    out
}

/// Every `#` comment outside strings: (byte offset, text).
fn comments(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut inside = false;
    super::scan::scan(text, |i, c, region| {
        let is_comment = region == super::scan::Region::Comment;
        match (inside, is_comment) {
            (false, true) => out.push((i, c.to_string())),
            (true, true) => {
                if let Some(last) = out.last_mut() {
                    last.1.push(c);
                }
            }
            _ => {}
        }
        inside = is_comment;
        true
    });
    for c in &mut out {
        c.1 = c.1.trim_end().to_string();
    }
    out
}

struct Printer<'t> {
    text: &'t str,
    out: String,
    comments: Vec<(usize, String)>,
    next: usize,
    indent: usize,
    /// Where the last printed statement ended in the source.
    last_end: usize,
}

impl Printer<'_> {
    fn pad(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    /// A blank line in the source before `start` (after the last statement) stays one.
    fn blank_before(&mut self, start: usize) {
        let from = self.last_end.min(start);
        let gap = &self.text[from..start];
        let first_line_break = gap.find('\n');
        if let Some(b) = first_line_break {
            let rest = &gap[b + 1..];
            let blank = rest.split('\n').any(|l| l.trim().is_empty()) && rest.contains('\n');
            if blank
                && !self.out.is_empty()
                && !self.out.ends_with("{\n")
                && !self.out.ends_with("\n\n")
            {
                self.out.push('\n');
            }
        }
    }

    /// Comments before `until` on lines of their own.
    fn flush_comments(&mut self, until: usize, blank_ok: bool) {
        while self.next < self.comments.len() && self.comments[self.next].0 < until {
            let (at, c) = self.comments[self.next].clone();
            if blank_ok {
                self.blank_before(at);
            }
            self.pad();
            self.out.push_str(&c);
            self.out.push('\n');
            self.last_end = at + c.len();
            self.next += 1;
        }
    }

    /// Starts a statement at `span`: pending comments, a kept blank line, the indent.
    fn start(&mut self, span: Span) {
        let s = span.start as usize;
        self.flush_comments(s, true);
        self.blank_before(s);
        self.pad();
    }

    /// Ends a statement: a comment on the same source line follows it.
    fn end(&mut self, span: Span) {
        let e = span.end as usize;
        if let Some((at, c)) = self.comments.get(self.next).cloned() {
            if at >= e && !self.text[e..at].contains('\n') {
                self.out.push_str("  ");
                self.out.push_str(&c);
                self.next += 1;
                self.last_end = at + c.len();
                self.out.push('\n');
                return;
            }
        }
        self.last_end = e;
        self.out.push('\n');
    }

    fn close_block(&mut self, span: Span) {
        // Comments inside the block before its closing brace.
        let close = span.end.saturating_sub(1) as usize;
        self.indent += 1;
        self.flush_comments(close, true);
        self.indent -= 1;
        self.pad();
        self.out.push('}');
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Use { path, span } => {
                self.start(*span);
                self.out.push_str(&format!("use {}", quote(path)));
                self.end(*span);
            }
            Item::Target { path, span } => {
                self.start(*span);
                self.out.push_str(&format!("target {}", quote(path)));
                self.end(*span);
            }
            Item::Source { path, span } => {
                self.start(*span);
                self.out.push_str(&format!("source {}", quote(path)));
                self.end(*span);
            }
            Item::Settings { list, span } => {
                self.start(*span);
                self.out.push_str("settings {\n");
                self.indent += 1;
                for s in list {
                    let sp = s.name.span.to(s.value.span);
                    self.start(sp);
                    self.out
                        .push_str(&format!("{} = {}", s.name.name, expr(&s.value, 0)));
                    self.end(sp);
                }
                self.indent -= 1;
                self.close_block(*span);
                self.end(*span);
            }
            Item::Param(p) => {
                self.start(p.span);
                self.out.push_str("param ");
                self.out.push_str(&p.name.name);
                if let Some((t, _)) = p.ty {
                    self.out.push_str(": ");
                    self.out.push_str(t.as_str());
                }
                if let Some(v) = &p.value {
                    self.out.push_str(" = ");
                    self.out.push_str(&expr(v, 0));
                }
                self.end(p.span);
            }
            Item::Table(t) => self.table(t),
            Item::Stmt(s) => self.stmt(s),
            Item::Route(r) => {
                self.start(r.span);
                self.out.push_str(&format!("route {}", quote(&r.path)));
                if let Some(c) = &r.when {
                    self.out.push_str(" when ");
                    self.out.push_str(&expr(c, 0));
                }
                self.end(r.span);
            }
        }
    }

    fn table(&mut self, t: &Table) {
        self.start(t.span);
        match &t.body {
            TableBody::Inline { rows, default } => {
                self.out.push_str(&format!("table {} {{\n", t.name.name));
                self.indent += 1;
                for (k, v, sp) in rows {
                    self.start(*sp);
                    self.out.push_str(&format!("{} => {}", lit(k), lit(v)));
                    self.end(*sp);
                }
                if let Some((v, sp)) = default {
                    self.start(*sp);
                    self.out.push_str(&format!("_ => {}", lit(v)));
                    self.end(*sp);
                }
                self.indent -= 1;
            }
            TableBody::Csv {
                file, key, columns, ..
            } => {
                self.out.push_str(&format!(
                    "table {} from {} key {} {{\n",
                    t.name.name,
                    quote(file),
                    key.name
                ));
                self.indent += 1;
                for (c, ty, optional) in columns {
                    self.start(c.span);
                    let mark = if *optional { "?" } else { "" };
                    self.out
                        .push_str(&format!("{}: {}{mark}", c.name, ty.as_str()));
                    self.end(c.span);
                }
                self.indent -= 1;
            }
        }
        self.close_block(t.span);
        self.end(t.span);
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { name, value, span } => {
                self.start(*span);
                self.out
                    .push_str(&format!("let {} = {}", name.name, expr(value, 0)));
                self.end(*span);
            }
            Stmt::Require {
                name,
                cond,
                message,
                span,
            } => {
                self.start(*span);
                let named = match name {
                    Some(n) => format!("{}: ", n.name),
                    None => String::new(),
                };
                self.out.push_str(&format!(
                    "require {named}{} else {}",
                    expr(cond, 0),
                    quote(message)
                ));
                self.end(*span);
            }
            Stmt::Drop(d) => {
                self.start(d.span);
                match &d.what {
                    DropWhat::Rule(n) => self.out.push_str(&format!("drop require {}", n.name)),
                    DropWhat::Field(path) => {
                        let path: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
                        self.out.push_str(&format!("drop {}", path.join(".")));
                    }
                }
                self.end(d.span);
            }
            Stmt::Field(f) => {
                self.start(f.span);
                let path: Vec<&str> = f.path.iter().map(|i| i.name.as_str()).collect();
                self.out.push_str(&path.join("."));
                match &f.value {
                    FieldValue::Expr(e) => {
                        self.out.push_str(" = ");
                        self.out.push_str(&expr(e, 0));
                    }
                    FieldValue::Block(body) => {
                        self.out.push_str(" {\n");
                        self.body(body);
                        self.close_block(f.span);
                    }
                    FieldValue::For { bindings, body } => {
                        let bs: Vec<String> = bindings
                            .iter()
                            .map(|(n, e)| format!("{} in {}", n.name, expr(e, 0)))
                            .collect();
                        self.out.push_str(&format!(" = for {} {{\n", bs.join(", ")));
                        self.body(body);
                        self.close_block(f.span);
                    }
                }
                self.end(f.span);
            }
        }
    }

    fn body(&mut self, body: &[Stmt]) {
        self.indent += 1;
        for s in body {
            self.stmt(s);
        }
        self.indent -= 1;
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn lit(l: &Lit) -> String {
    match l {
        Lit::Str(s) => quote(s),
        Lit::Num(d, Some(u)) => format!("{d} {u}"),
        Lit::Num(d, None) => d.to_string(),
        Lit::Bool(b) => b.to_string(),
        Lit::Null => "null".into(),
    }
}

fn prec(op: BinOp) -> u8 {
    match op {
        BinOp::Coalesce => 1,
        BinOp::Or => 2,
        BinOp::And => 3,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
        BinOp::Add | BinOp::Sub => 5,
        BinOp::Mul | BinOp::Div => 6,
    }
}

/// An expression as source, parenthesised only where precedence needs it.
pub fn expr(e: &Expr, min: u8) -> String {
    let (s, p) = match &e.kind {
        ExprKind::Lit(l) => (lit(l), 9),
        ExprKind::Source(t) => (t.clone(), 9),
        ExprKind::VarPath { root, tail } => (format!("{}{tail}", root.name), 9),
        ExprKind::Var(i) => (i.name.clone(), 9),
        ExprKind::Lookup { table, key, column } => {
            let col = column
                .as_ref()
                .map_or(String::new(), |c| format!(".{}", c.name));
            (format!("{}[{}]{col}", table.name, expr(key, 0)), 9)
        }
        ExprKind::Call { func, args } => {
            let a: Vec<String> = args.iter().map(|x| expr(x, 0)).collect();
            (format!("{}({})", func.name, a.join(", ")), 9)
        }
        ExprKind::Unary { op, expr: x } => match op {
            UnOp::Not => (format!("not {}", expr(x, 7)), 7),
            UnOp::Neg => (format!("-{}", expr(x, 7)), 7),
        },
        ExprKind::Binary { op, lhs, rhs, .. } => {
            let p = prec(*op);
            let (lp, rp) = if *op == BinOp::Coalesce {
                (p + 1, p)
            } else {
                (p, p + 1)
            };
            (
                format!("{} {} {}", expr(lhs, lp), op.as_str(), expr(rhs, rp)),
                p,
            )
        }
        ExprKind::If { cond, then, els } => (
            format!(
                "if {} then {} else {}",
                expr(cond, 0),
                expr(then, 0),
                expr(els, 0)
            ),
            0,
        ),
    };
    if p < min {
        format!("({s})")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn formatting_is_idempotent_and_keeps_comments() {
        let src = "# head\nuse \"a.map\"\n\n\nparam  x:string=\"v\" # trailing\nreceiverInfo{city=a??\"/\"\n# inner\nname=(1+2)*3}\n";
        let once = format(src).unwrap();
        assert_eq!(format(&once).unwrap(), once);
        assert!(
            once.contains("# head") && once.contains("# trailing") && once.contains("# inner"),
            "{once}"
        );
        assert!(once.contains("name = (1 + 2) * 3"), "{once}");
        assert!(once.contains("city = a ?? \"/\""), "{once}");
        assert!(
            once.contains("param x: string = \"v\"  # trailing"),
            "{once}"
        );
        assert!(!once.contains("\n\n\n"), "{once}");
    }

    /// Each run appended another `#pe == 1)])`: the `#` was taken for a comment.
    #[test]
    fn a_hash_inside_a_path_filter_is_kept_once() {
        let src = "a = $.l[?(@.ty#pe == 1)].v  # real\nb = x.l[?(@.n == '#')]\n";
        let once = format(src).unwrap();
        assert_eq!(format(&once).unwrap(), once);
        assert_eq!(once.matches("#pe == 1)]").count(), 1, "{once}");
        assert!(once.contains("# real"), "{once}");
    }

    #[test]
    fn parentheses_only_where_needed() {
        let once =
            format("a = 1 + (2 * 3)\nb = (1 + 2) + 3\nc = x ?? (y ?? z)\nd = -(1 + 2)").unwrap();
        assert!(once.contains("a = 1 + 2 * 3"), "{once}");
        assert!(once.contains("b = 1 + 2 + 3"), "{once}");
        assert!(once.contains("c = x ?? y ?? z"), "{once}");
        assert!(once.contains("d = -(1 + 2)"), "{once}");
    }
}

#[cfg(test)]
mod align_tests {
    #[test]
    fn neighbouring_assignments_line_up() {
        let once = super::format("a { x = 1\n  longer = 2\n\n  y = 3 }").unwrap();
        assert!(
            once.contains("  x      = 1\n  longer = 2\n\n  y = 3"),
            "{once}"
        );
        assert_eq!(super::format(&once).unwrap(), once);
    }
}
