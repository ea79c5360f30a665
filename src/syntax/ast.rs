//! The syntax tree of a `.map` file. Every node keeps its [`Span`].

use super::Span;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed file.
#[derive(Debug, Clone, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Use {
        path: String,
        span: Span,
    },
    Target {
        path: String,
        span: Span,
    },
    Source {
        path: String,
        span: Span,
    },
    Settings {
        list: Vec<Setting>,
        span: Span,
    },
    Param(Param),
    Table(Table),
    Stmt(Stmt),
    /// `route "warehouses/x.map" when cond`: only in a routes file (see [`crate::route`]).
    Route(Route),
}

/// One route of a routes file: the mapping that takes the orders its condition holds for
/// (every order when there is no condition).
#[derive(Debug, Clone)]
pub struct Route {
    pub path: String,
    pub path_span: Span,
    pub when: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Setting {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeName {
    String,
    Integer,
    Decimal,
    Boolean,
}

impl TypeName {
    pub fn as_str(self) -> &'static str {
        match self {
            TypeName::String => "string",
            TypeName::Integer => "integer",
            TypeName::Decimal => "decimal",
            TypeName::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<(TypeName, Span)>,
    pub value: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: Ident,
    pub body: TableBody,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TableBody {
    Inline {
        rows: Vec<(Lit, Lit, Span)>,
        default: Option<(Lit, Span)>,
    },
    Csv {
        file: String,
        file_span: Span,
        key: Ident,
        /// Name, type, and whether the column may be missing from the file (`name: type?`).
        columns: Vec<(Ident, TypeName, bool)>,
    },
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Let {
        name: Ident,
        value: Expr,
        span: Span,
    },
    Require {
        /// `require NAME: …`: a rule a file that uses this one may replace or drop.
        name: Option<Ident>,
        cond: Expr,
        message: String,
        span: Span,
    },
    Field(Field),
    /// `drop require NAME` or `drop a.b`: takes a rule or a field of a used file away.
    /// Only the loader sees it; it is gone from a merged mapping.
    Drop(Drop),
}

#[derive(Debug, Clone)]
pub struct Drop {
    pub what: DropWhat,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum DropWhat {
    Rule(Ident),
    Field(Vec<Ident>),
}

/// `a.b.c = expr`, `a { … }` or `a = for x in … { … }`.
#[derive(Debug, Clone)]
pub struct Field {
    pub path: Vec<Ident>,
    pub value: FieldValue,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FieldValue {
    Expr(Expr),
    Block(Vec<Stmt>),
    For {
        bindings: Vec<(Ident, Expr)>,
        body: Vec<Stmt>,
    },
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    /// A number as written; `unit` when a unit was written after it (`19.99 yuan`).
    Num(Decimal, Option<String>),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Coalesce,
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Coalesce => "??",
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Lit(Lit),
    /// `$.detail.orderId`: the JSONPath text as written.
    Source(String),
    /// `good.barcode`, `out.orderAmountInfo.totalTax`: a name, then a JSONPath tail
    /// (starting with `.` or `[`).
    VarPath {
        root: Ident,
        tail: String,
    },
    Var(Ident),
    Lookup {
        table: Ident,
        key: Box<Expr>,
        column: Option<Ident>,
    },
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
}

impl Expr {
    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Lit(_)
            | ExprKind::Source(_)
            | ExprKind::VarPath { .. }
            | ExprKind::Var(_) => {}
            ExprKind::Lookup { key, .. } => key.walk(f),
            ExprKind::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
            ExprKind::Unary { expr, .. } => expr.walk(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::If { cond, then, els } => {
                cond.walk(f);
                then.walk(f);
                els.walk(f);
            }
        }
    }
}
