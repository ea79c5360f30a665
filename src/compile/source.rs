//! Source paths checked against the source contract (RED's order): which names exist,
//! their types and units, which may be absent.

use super::{suggest, Cx, Diag, FieldType, SchemaNode, Span, Ty, C};

impl<'m> Cx<'m> {
    /// The type of a `$…` path, from the source contract.
    pub(super) fn source_ty(&mut self, text: &str, span: Span) -> Ty {
        let multi = crate::path::simple_segments(text)
            .is_none_or(|s| s.iter().any(crate::path::Seg::is_multi));
        let root = match &self.source {
            Some(s) => Ty::Obj(Some(Box::new(s.root.clone()))),
            None => return if multi { Ty::List(None) } else { Ty::Any },
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
        for (seg, at) in segs {
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
                                    crate::load::display_name(p)
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
}

#[derive(Debug, Clone, PartialEq)]
enum CSeg {
    Key(String),
    Index,
    Each,
    /// Recursive descent and the like: the checker stops following.
    Opaque,
}

/// Splits a path tail (`.a[0].b[*]`, `.a[?(@.t == 'x')].b`) into segments with their byte
/// offsets, for the checker; `None` when it cannot.
fn check_segments(tail: &str) -> Option<Vec<(CSeg, usize)>> {
    let b = tail.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' if b.get(i + 1) == Some(&b'.') => {
                out.push((CSeg::Opaque, i));
                return Some(out);
            }
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
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
                let inner = tail.get(i + 1..j)?.trim();
                let seg = if inner == "*"
                    || inner.starts_with('?')
                    || inner.contains(':')
                    || inner.contains(',')
                {
                    CSeg::Each
                } else if inner.parse::<i64>().is_ok() {
                    CSeg::Index
                } else if inner.len() >= 2 && (inner.starts_with('\'') || inner.starts_with('"')) {
                    CSeg::Key(inner[1..inner.len() - 1].to_string())
                } else {
                    CSeg::Opaque
                };
                out.push((seg, i + 1));
                i = j + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}
