//! Plans the request's top level as a straight list of writes, once per program:
//! literal JSON text (braces, keys, commas, and fields whose value is the same for every
//! order, rendered once) between the fields computed per order. Writing an order is then
//! one pass over this list, with no tree of built objects in between. The evaluator
//! builds the plan on first use (`super::order::writes`) and keeps it in the program.

use super::json::write_str;
use crate::program::writes::{Comma, Write, Writes};
use crate::program::{FieldCheck, Global, Node, Op, OutNode, Program};

/// The value of a field that is the same for every order, rendered (`None` when it
/// cannot be rendered now; `Some(None)` when it is absent): given by the evaluator, so
/// that planning does not reach back into it.
pub type Fixed<'f> = &'f dyn Fn(&Program, &Node, &FieldCheck) -> Option<Option<Rendered>>;

/// A fixed field's value rendered once: its JSON text, and the string itself when it is
/// one (kept in [`Writes::fixed_strings`] for a run that tells what it wrote).
pub struct Rendered {
    pub json: String,
    pub string: Option<String>,
}

/// What is known, while planning, about what an open object holds so far.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Empty,
    Some,
    Maybe,
}

impl State {
    fn comma(self) -> Comma {
        match self {
            State::Empty => Comma::No,
            State::Some => Comma::Yes,
            State::Maybe => Comma::IfWrote,
        }
    }
}

impl Writes {
    /// Plans the writes of `p`.
    pub fn of(p: &Program, fixed: Fixed) -> Writes {
        let mut read = vec![false; p.globals.len()];
        p.each_node(&mut |n| match &n.code {
            Op::Global(g) | Op::GlobalPath(g, _) | Op::Out(g, ..) => {
                if let Some(r) = read.get_mut(*g as usize) {
                    *r = true;
                }
            }
            _ => {}
        });
        let mut slots = 0;
        let slot = read
            .iter()
            .map(|&r| {
                r.then(|| {
                    slots += 1;
                    slots as u32 - 1
                })
            })
            .collect();
        let mut w = Writes {
            ops: Vec::new(),
            slot,
            slots,
            fixed_strings: Vec::new(),
        };
        w.text(Comma::No, "{");
        w.object(p, &p.root, fixed);
        w.text(Comma::No, "}");
        w
    }

    fn object(&mut self, p: &Program, fields: &[(Box<str>, OutNode)], fixed: Fixed) {
        let mut state = State::Empty;
        for (name, node) in fields {
            let mut key = String::new();
            write_str(&mut key, name);
            key.push(':');
            match node {
                OutNode::Obj(sub) => {
                    key.push('{');
                    self.text(state.comma(), &key);
                    self.object(p, sub, fixed);
                    self.text(Comma::No, "}");
                    state = State::Some;
                }
                OutNode::Global(g) => {
                    let (fixed, always) = match p.globals.get(*g as usize) {
                        Some(Global::Field(n, c)) if is_fixed(n) => (fixed(p, n, c), c.required),
                        Some(Global::Field(_, c)) => (None, c.required),
                        _ => (None, true),
                    };
                    match fixed {
                        // Absent for every order: never written.
                        Some(None) => continue,
                        Some(Some(value)) => {
                            key.push_str(&value.json);
                            if let Some(text) = value.string {
                                self.fixed_strings.push((*g, text.into()));
                            }
                            self.text(state.comma(), &key);
                            state = State::Some;
                        }
                        None => {
                            self.ops.push(Write::Field {
                                comma: state.comma(),
                                key: key.into(),
                                global: *g,
                            });
                            state = match (always, state) {
                                (true, _) | (false, State::Some) => State::Some,
                                (false, _) => State::Maybe,
                            };
                        }
                    }
                }
            }
        }
    }

    /// Appends literal text, joined to the text before it where the comma is known.
    fn text(&mut self, comma: Comma, text: &str) {
        let opens = text.ends_with('{');
        if comma != Comma::IfWrote {
            if let Some(Write::Text {
                comma: _,
                text: prev,
                opens: prev_opens,
            }) = self.ops.last_mut()
            {
                let mut s = String::from(std::mem::take(prev));
                if comma == Comma::Yes {
                    s.push(',');
                }
                s.push_str(text);
                *prev = s.into();
                *prev_opens = opens;
                return;
            }
        }
        self.ops.push(Write::Text {
            comma,
            text: text.into(),
            opens,
        });
    }
}

/// An expression that reads nothing of the order: its value is the same every time.
fn is_fixed(n: &Node) -> bool {
    match &n.code {
        Op::Src(..)
        | Op::Local(_)
        | Op::Global(_)
        | Op::LocalPath(..)
        | Op::GlobalPath(..)
        | Op::Out(..) => false,
        _ => {
            let mut all = true;
            n.each_child(&mut |c| all &= is_fixed(c));
            all
        }
    }
}
