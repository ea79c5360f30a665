//! The compiled form of a mapping, the data the compiler and the run side share: names
//! resolved to slots, paths compiled, params and constants folded. `crate::compile`
//! builds it; `crate::run` and [`input`] read it and never the compiler.

pub mod arith;
pub mod codes;
pub mod func;
pub mod input;
pub mod table;
pub mod writes;

use crate::money::{Rounding, Unit};
use crate::path::{PathCode, Seg};
use crate::schema::{FieldType, Pii};
use crate::syntax::ast::{BinOp, UnOp};
use crate::syntax::{Sources, Span};
use crate::value::Val;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::sync::OnceLock;
pub use table::Table;

#[derive(Debug)]
pub struct Program {
    pub sources: Sources,
    pub settings: Settings,
    pub order_id: Option<Node>,
    pub globals: Vec<Global>,
    pub requires: Vec<Require>,
    pub root: Vec<(Box<str>, OutNode)>,
    pub tables: Vec<Table>,
    /// What of an order this program can read (see [`input`]): found by the run side on
    /// first use (`crate::run::shape`), then shared by every order read for it.
    pub input: OnceLock<input::Shape>,
    /// The request as a list of writes: planned by the run side on first use
    /// (`crate::run::plan::writes`), then shared by every run of this program.
    pub writes: OnceLock<writes::Writes>,
    /// Levels of recursion running it may take (its deepest expression, blocks, loops).
    pub depth: usize,
    /// The text of each `out.…` read whose target field is personal (`x-pii`): what it
    /// reads is masked in messages and `explain` like a personal source read.
    pub personal_out: Vec<Box<str>>,
    /// The order's fields its source schema marks `x-pii` (RED's when it names none).
    pub source_pii: crate::schema::PiiPaths,
}

/// Mapping settings that are not fields of the payload.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Settings {
    pub msg_type: String,
    pub logistic_provider_id: Option<String>,
    pub to_code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub code: Op,
    pub span: Span,
    /// The source path this value comes from (through lets), for messages.
    pub origin: Option<Box<str>>,
}

impl Node {
    /// Calls `f` on each direct sub-expression.
    pub fn each_child(&self, f: &mut dyn FnMut(&Node)) {
        match &self.code {
            Op::Lookup { key, .. } => f(key),
            Op::Call(_, args) => args.iter().for_each(f),
            Op::Unary(_, a) => f(a),
            Op::Binary(_, a, b) => {
                f(a);
                f(b);
            }
            Op::If(c, t, e) => {
                f(c);
                f(t);
                f(e);
            }
            Op::Const(_)
            | Op::Src(..)
            | Op::Local(_)
            | Op::Global(_)
            | Op::LocalPath(..)
            | Op::GlobalPath(..)
            | Op::Out(..) => {}
        }
    }
}

/// A path below a variable: direct segments for built values, the compiled path for
/// values of the order.
#[derive(Debug, Clone)]
pub struct Tail {
    pub segs: Option<Vec<Seg>>,
    pub path: PathCode,
    pub text: Box<str>,
}

/// What a compiled expression does (its kind and operands).
#[derive(Debug, Clone)]
pub enum Op {
    Const(Val<'static>),
    Src(PathCode, Box<str>),
    Local(u32),
    Global(u32),
    LocalPath(u32, Box<Tail>),
    GlobalPath(u32, Box<Tail>),
    /// `out.a.b[*].c`: a global field or loop, then a tail into what it built.
    Out(u32, Vec<Seg>, Box<str>),
    Lookup {
        table: u32,
        key: Box<Node>,
        column: Option<u32>,
    },
    Call(Func, Vec<Node>),
    Unary(UnOp, Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    If(Box<Node>, Box<Node>, Box<Node>),
}

/// A built-in as compiled. The functions whose places, unit or mode the checker reads from
/// the call (`round`, `convert`, the unit tags) are variants the evaluator runs itself;
/// every other is [`Func::Own`] of its table entry, which evaluates it ([`func::Make::Eval`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Func {
    Round(u32, Rounding),
    Convert(Unit, Option<Rounding>),
    /// `yuan(x)`: says which unit a bare number is counted in.
    Tag(Unit),
    /// A function its table entry evaluates.
    Own(&'static func::Builtin),
}

impl Func {
    /// Its entry in the table of built-ins ([`func::BUILTINS`]).
    pub fn builtin(self) -> Option<&'static func::Builtin> {
        if let Func::Own(b) = self {
            return Some(b);
        }
        func::BUILTINS.iter().find(|b| match (b.make, self) {
            (func::Make::Round, Func::Round(..)) | (func::Make::Convert, Func::Convert(..)) => true,
            (func::Make::Tag(u), Func::Tag(v)) => u == v,
            _ => false,
        })
    }

    /// How the input-shape hint treats a call of it (every argument whole if not in the
    /// table).
    pub fn reads(self) -> func::Reads {
        self.builtin().map_or(func::Reads::Whole, |b| b.reads)
    }
}

/// What a target field accepts, checked on every value assigned to it.
#[derive(Debug, Clone)]
pub struct FieldCheck {
    /// Display path, `[]` where a loop index goes (`orderItemList[].itemId`).
    pub name: Box<str>,
    pub ty: FieldType,
    pub required: bool,
    pub unit: Option<Unit>,
    pub constant: Option<serde_json::Value>,
    pub allowed: Option<Vec<serde_json::Value>>,
    pub minimum: Option<Decimal>,
    pub limits: crate::limits::Limits,
    pub pii: Option<Pii>,
}

#[derive(Debug)]
pub enum Global {
    Let(Node),
    Field(Node, FieldCheck),
    Loop(Loop),
}

#[derive(Debug)]
pub struct Loop {
    pub bindings: Vec<(u32, Node)>,
    pub body: Vec<BodyOp>,
    pub item: Vec<(Box<str>, ItemNode)>,
    pub check: FieldCheck,
    pub span: Span,
    /// Size of the locals frame it needs ([`Program::frame_size`]), counted once.
    pub frame: usize,
}

#[derive(Debug)]
pub enum BodyOp {
    Let(u32, Node),
    Require(Node, Box<str>),
    Field(u32, Node, FieldCheck),
    Loop(u32, Box<Loop>),
}

#[derive(Debug)]
pub enum ItemNode {
    Local(u32),
    Obj(Vec<(Box<str>, ItemNode)>),
}

#[derive(Debug)]
pub enum OutNode {
    Global(u32),
    Obj(Vec<(Box<str>, OutNode)>),
}

#[derive(Debug)]
pub struct Require {
    pub cond: Node,
    pub message: Box<str>,
}

/// The text a lookup key is matched by: strings as they are, whole numbers as digits.
/// Tables are built with it (compile side) and looked up with it (run side).
pub fn key_text<'v>(v: &'v Val<'_>) -> Option<Cow<'v, str>> {
    match v {
        Val::Str(s) => Some(Cow::Borrowed(s.as_ref())),
        Val::Num(a) if a.value.fract().is_zero() => {
            Some(Cow::Owned(a.value.normalize().to_string()))
        }
        _ => None,
    }
}

impl Program {
    /// Calls `f` on every expression of the program, sub-expressions included.
    pub fn each_node(&self, f: &mut dyn FnMut(&Node)) {
        fn node(n: &Node, f: &mut dyn FnMut(&Node)) {
            f(n);
            n.each_child(&mut |c| node(c, f));
        }
        fn body(l: &Loop, f: &mut dyn FnMut(&Node)) {
            for (_, n) in &l.bindings {
                node(n, f);
            }
            for op in &l.body {
                match op {
                    BodyOp::Let(_, n) | BodyOp::Require(n, _) | BodyOp::Field(_, n, _) => {
                        node(n, f)
                    }
                    BodyOp::Loop(_, inner) => body(inner, f),
                }
            }
        }
        if let Some(n) = &self.order_id {
            node(n, f);
        }
        for g in &self.globals {
            match g {
                Global::Let(n) | Global::Field(n, _) => node(n, f),
                Global::Loop(l) => body(l, f),
            }
        }
        for r in &self.requires {
            node(&r.cond, f);
        }
    }

    /// Size of the locals frame a loop needs (its own and nested loops' locals).
    pub fn frame_size(l: &Loop) -> usize {
        let mut n = l
            .bindings
            .iter()
            .map(|(i, _)| *i as usize + 1)
            .max()
            .unwrap_or(0);
        for op in &l.body {
            let m = match op {
                BodyOp::Let(i, _) | BodyOp::Field(i, _, _) => *i as usize + 1,
                BodyOp::Loop(i, inner) => (*i as usize + 1).max(Program::frame_size(inner)),
                BodyOp::Require(..) => 0,
            };
            n = n.max(m);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    /// A compiled program is shared by the threads that map a stream.
    #[test]
    fn program_is_shareable_across_threads() {
        fn is_sync<T: Send + Sync>() {}
        is_sync::<super::Program>();
    }
}
