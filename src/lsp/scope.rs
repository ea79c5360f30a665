//! The names a used file brings into the file that uses it (issue 23): the used file's
//! top-level lets everywhere in the using file; the lets and loop items of one of its
//! blocks inside the using file's block of the same target path (`good` and `qty` of
//! the base's `orderItemList = for sku in …, good in … { … }` inside the warehouse file's
//! `orderItemList { … }`). Each is a [`Decl`] of the using text (its scope that text's
//! block) with the place it is declared as its origin.

use super::cursor::{self, Decl, Index, Origin};
use crate::load::Mapping;
use std::borrow::Cow;

/// A used file's decls with the target path of the block each is declared in (`[]`:
/// the top level), made once per analysis.
#[derive(Default)]
pub struct Used {
    decls: Vec<(Vec<String>, Decl)>,
}

impl Used {
    /// The decls of every file the mapping read besides the buffer itself.
    pub fn of(m: &Mapping) -> Used {
        let mut decls = Vec::new();
        for (i, f) in m.sources.files.iter().enumerate() {
            if i == m.root.0 as usize {
                continue;
            }
            let ix = Index::new(&f.text);
            for d in &ix.decls {
                // A loop item's block opens at the end of its header line.
                let at = if d.is_item {
                    match f.text[d.at.1..].find('\n') {
                        Some(nl) => f.text[..d.at.1 + nl].rfind('{').map_or(d.at.1, |b| b + 1),
                        None => d.at.1,
                    }
                } else {
                    d.at.0
                };
                let frames = cursor::frames(&ix.masked, at);
                let Some(home) = cursor::target_path(&frames) else {
                    continue;
                };
                let mut d = d.clone();
                d.origin = Some(Origin {
                    file: crate::syntax::FileId(i as u32),
                    at: d.at,
                });
                decls.push((home, d));
            }
        }
        Used { decls }
    }
}

/// The decls visible in `text`: its own, then those its used files bring.
pub fn decls<'a>(text: &str, ix: &'a Index, used: Option<&Used>) -> Cow<'a, [Decl]> {
    let Some(used) = used.filter(|u| !u.decls.is_empty()) else {
        return Cow::Borrowed(&ix.decls);
    };
    let mut out = ix.decls.clone();
    let blocks = ix.blocks();
    for (home, d) in &used.decls {
        let scopes: Vec<(usize, usize)> = if home.is_empty() {
            vec![(0, text.len())]
        } else {
            blocks
                .iter()
                .filter(|(path, _, _)| path.starts_with(home))
                .map(|(_, open, close)| (*open, *close))
                .collect()
        };
        for (open, close) in scopes {
            out.push(Decl {
                at: (open, open),
                scope: (open, close),
                ..d.clone()
            });
        }
    }
    Cow::Owned(out)
}
