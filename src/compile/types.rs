//! Check-time types: what an expression is known to give, as far as the mapping tells.

use crate::money::Unit;
use crate::schema::FieldType;

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Not known before the order is read (a source path).
    Any,
    Null,
    Bool,
    Str,
    Num {
        unit: Option<Unit>,
        int: bool,
    },
    List,
    Obj,
}

impl Ty {
    pub fn num(unit: Option<Unit>, int: bool) -> Ty {
        Ty::Num { unit, int }
    }
    pub fn words(&self) -> String {
        match self {
            Ty::Any => "any value".into(),
            Ty::Null => "null".into(),
            Ty::Bool => "a boolean".into(),
            Ty::Str => "a string".into(),
            Ty::Num { unit: Some(u), .. } => format!("an amount in {u}"),
            Ty::Num { int: true, .. } => "an integer".into(),
            Ty::Num { .. } => "a number".into(),
            Ty::List => "a list".into(),
            Ty::Obj => "an object".into(),
        }
    }
    /// Whether a value of this type can go into a field of type `f` (Any can, Null is
    /// judged by required-ness at run time).
    pub fn fits(&self, f: FieldType) -> bool {
        matches!(
            (self, f),
            (Ty::Any | Ty::Null | Ty::List, _)
                | (Ty::Str, FieldType::String)
                | (Ty::Num { .. }, FieldType::Integer | FieldType::Number)
                | (Ty::Bool, FieldType::Boolean)
                | (Ty::Obj, FieldType::Object)
        )
    }
    pub fn unit(&self) -> Option<Unit> {
        match self {
            Ty::Num { unit, .. } => *unit,
            _ => None,
        }
    }
    /// Join of two branches.
    pub fn join(a: Ty, b: Ty) -> Ty {
        match (a, b) {
            (Ty::Null, x) | (x, Ty::Null) => x,
            (x, y) if x == y => x,
            (Ty::Num { unit: u1, int: i1 }, Ty::Num { unit: u2, int: i2 }) => Ty::Num {
                unit: if u1 == u2 { u1 } else { None },
                int: i1 && i2,
            },
            _ => Ty::Any,
        }
    }
}
