//! Source paths checked against the source contract (RED's order): which names exist,
//! their types and units, which may be absent.

use super::{suggest, Cx, Diag, FieldType, SchemaNode, Span, Ty, C};
use crate::path::PathError;

impl<'m> Cx<'m> {
    /// Reports a path RFC 9535 refuses (`shown` as the mapping writes it, `span` all of
    /// it), at the characters at fault: byte `k` of the compiled text is byte `base + k`
    /// of the file.
    pub(super) fn bad_path(&mut self, err: &PathError, span: Span, base: usize, shown: &str) {
        let start = (base + err.start).clamp(span.start as usize, span.end as usize);
        let end = (base + err.end).clamp(start, span.end as usize);
        self.err(
            Diag::error(
                C::BadPath,
                Span::new(span.file, start, end),
                format!("bad path `{shown}`: {}", err.message),
            )
            .label("not JSONPath (RFC 9535)"),
        );
    }

    /// The type of a `$…` path, from the source contract.
    pub(super) fn source_ty(&mut self, text: &str, span: Span) -> Ty {
        let multi = crate::path::simple_segments(text)
            .is_none_or(|s| s.iter().any(crate::path::Seg::is_multi));
        let Some(root) = self.source_root.clone() else {
            return if multi { Ty::List(None) } else { Ty::Any };
        };
        self.walk_ty(&root, &text[1..], span.start as usize + 1, span, multi)
    }

    /// Follows a path tail through what the contract says of `root`; reports names the
    /// order cannot have.
    pub(super) fn walk_ty(
        &mut self,
        root: &Ty,
        tail: &str,
        offset: usize,
        span: Span,
        multi: bool,
    ) -> Ty {
        let fallback = if multi { Ty::List(None) } else { Ty::Any };
        let Ty::Obj(Some(start)) = root.strip() else {
            return fallback;
        };
        let Some(segs) = check_segments(tail) else {
            return fallback;
        };
        let mut node: &SchemaNode = start;
        let mut opt = matches!(root, Ty::Opt(_));
        let mut list = false;
        let count = segs.len();
        for (n, (seg, at)) in segs.into_iter().enumerate() {
            let last = n + 1 == count;
            match seg {
                CSeg::Key(k) => {
                    if node.ty == FieldType::Any
                        || (node.ty == FieldType::Object && node.properties.is_empty())
                    {
                        return fallback;
                    }
                    if node.ty != FieldType::Object {
                        let d = Diag::error(
                            C::UnknownSource,
                            Span::new(span.file, offset + at, offset + at + k.len()),
                            format!(
                                "`{k}`: the value before it is {}, it has no fields",
                                node.ty.as_str()
                            ),
                        )
                        .label("no fields here")
                        .help(if node.ty == FieldType::Array {
                            "take its elements with `[*]` or one with `[0]`"
                        } else {
                            "remove this part of the path"
                        });
                        self.err(d);
                        return fallback;
                    }
                    match node.property(&k) {
                        Some(p) => {
                            if !node.is_required(&k) {
                                opt = true;
                            }
                            node = p;
                        }
                        None => {
                            // Worded after the mapping's own source: a RED order, a Cainiao notice…
                            let contract =
                                self.m.source.as_ref().map_or_else(String::new, |(p, _)| {
                                    crate::repo::display_name(p)
                                });
                            let help = suggest(&k, node.properties.iter().map(|(n, _)| n.as_str()))
                                .unwrap_or_else(|| {
                                    format!("see {contract} for the fields the input has")
                                });
                            let d = Diag::error(
                                C::UnknownSource,
                                Span::new(span.file, offset + at, offset + at + k.len()),
                                format!("the input has no field `{k}` here"),
                            )
                            .label("not in the source contract")
                            .help(help);
                            self.err(d);
                            return fallback;
                        }
                    }
                }
                CSeg::Index | CSeg::Each => {
                    if node.ty == FieldType::Any {
                        return fallback;
                    }
                    if seg == CSeg::Each && node.ty == FieldType::Object {
                        // `.*` of an object: its values, which the contract does not type.
                        return Ty::List(None);
                    }
                    match (&node.ty, &node.items) {
                        (FieldType::Array, Some(items)) => {
                            list |= seg == CSeg::Each;
                            node = items;
                        }
                        _ => {
                            let d = Diag::error(
                                C::UnknownSource,
                                Span::new(span.file, offset + at, offset + at + 1),
                                format!("indexing {}, which is not a list", node.ty.as_str()),
                            )
                            .label("not a list");
                            self.err(d);
                            return fallback;
                        }
                    }
                }
                CSeg::Descend(k) => return self.descend(node, &k, span, offset + at, last),
                CSeg::Opaque => return fallback,
            }
        }
        if list {
            return Ty::List(Some(Box::new(node.clone())));
        }
        let t = Ty::of_node(node);
        if opt {
            Ty::Opt(Box::new(t))
        } else {
            t
        }
    }

    /// `..k` below `node`: a list of every `k` at any depth. A name the contract has
    /// nowhere below (where every part below is known) is an error; the list's elements
    /// are typed when `k` is one field of the contract and nothing follows.
    fn descend(&mut self, node: &SchemaNode, k: &str, span: Span, at: usize, last: bool) -> Ty {
        let mut found = Vec::new();
        let known = descendants(node, k, &mut found);
        if found.is_empty() && known {
            let mut names = Vec::new();
            names_below(node, &mut names);
            let help = suggest(k, names.iter().copied()).unwrap_or_else(|| {
                "`..` finds a field at any depth below; none is called so".into()
            });
            self.err(
                Diag::error(
                    C::UnknownSource,
                    Span::new(span.file, at, at + k.len()),
                    format!("the input has no field `{k}` anywhere below here"),
                )
                .label("not in the source contract")
                .help(help),
            );
            return Ty::List(None);
        }
        match found.as_slice() {
            [one] if last && known => Ty::List(Some(Box::new((*one).clone()))),
            _ => Ty::List(None),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum CSeg {
    Key(String),
    Index,
    Each,
    /// `..name`: that field at any depth below.
    Descend(String),
    /// `..*`, `..[…]` and the like: the checker stops following.
    Opaque,
}

/// Splits a path tail (`.a[0].b[*]`, `.a[?(@.t == 'x')].b`, `..c`) into segments with their
/// byte offsets, for the checker; `None` when it cannot.
fn check_segments(tail: &str) -> Option<Vec<(CSeg, usize)>> {
    let b = tail.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let name_end = |from: usize| {
        tail[from..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || (c as u32) >= 0x80))
            .map_or(tail.len(), |e| from + e)
    };
    while i < b.len() {
        match b[i] {
            // Blank space between segments.
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'.' if b.get(i + 1) == Some(&b'.') => {
                let start = i + 2;
                let j = name_end(start);
                if j == start {
                    out.push((CSeg::Opaque, i));
                    return Some(out);
                }
                out.push((CSeg::Descend(tail[start..j].to_string()), start));
                i = j;
            }
            b'.' => {
                let start = i + 1;
                let j = if b.get(start) == Some(&b'*') {
                    start + 1
                } else {
                    name_end(start)
                };
                let name = &tail[start..j];
                out.push((
                    if name == "*" {
                        CSeg::Each
                    } else {
                        CSeg::Key(name.to_string())
                    },
                    start,
                ));
                i = j;
            }
            b'[' => {
                // Find the matching `]`, skipping quoted text and nested brackets.
                let (mut depth, mut j, mut quote) = (0usize, i, None::<u8>);
                while j < b.len() {
                    let c = b[j];
                    match quote {
                        Some(_) if c == b'\\' => j += 1,
                        Some(q) if c == q => quote = None,
                        Some(_) => {}
                        None if c == b'\'' || c == b'"' => quote = Some(c),
                        None if c == b'[' => depth += 1,
                        None if c == b']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        None => {}
                    }
                    j += 1;
                }
                let raw = tail.get(i + 1..j)?;
                let inner = raw.trim_matches([' ', '\t', '\n', '\r']);
                let at =
                    i + 1 + (raw.len() - raw.trim_start_matches([' ', '\t', '\n', '\r']).len());
                let seg = if inner == "*"
                    || inner.starts_with('?')
                    || inner.contains(':')
                    || inner.contains(',')
                {
                    CSeg::Each
                } else if inner.parse::<i64>().is_ok() {
                    CSeg::Index
                } else if let Some(name) = crate::path::quoted_name(inner) {
                    CSeg::Key(name)
                } else {
                    CSeg::Opaque
                };
                // A quoted name is pointed at inside its quotes.
                let at = if matches!(seg, CSeg::Key(_)) {
                    at + 1
                } else {
                    at
                };
                out.push((seg, at));
                i = j + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Every node below `node` (itself excluded) that is the field `name` of an object, in
/// schema order; `false` beside them when some part below is of unknown shape (a free
/// object, an untyped value), where the field may still be.
fn descendants<'s>(node: &'s SchemaNode, name: &str, found: &mut Vec<&'s SchemaNode>) -> bool {
    let mut known = !(node.ty == FieldType::Any
        || (node.ty == FieldType::Object && node.properties.is_empty())
        || node.additional.is_some());
    for (n, p) in &node.properties {
        if n == name {
            found.push(p);
        }
        known &= descendants(p, name, found);
    }
    if let Some(items) = &node.items {
        known &= descendants(items, name, found);
    }
    known
}

/// Every field name below `node`, for a "did you mean".
fn names_below<'s>(node: &'s SchemaNode, out: &mut Vec<&'s str>) {
    for (n, p) in &node.properties {
        if !out.contains(&n.as_str()) {
            out.push(n);
        }
        names_below(p, out);
    }
    if let Some(items) = &node.items {
        names_below(items, out);
    }
}
