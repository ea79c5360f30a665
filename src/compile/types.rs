//! Check-time types: what an expression is known to give, as far as the mapping tells.

use crate::money::Unit;
use crate::schema::{FieldType, SchemaNode};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Not known before the order is read (a source path).
    Any,
    Null,
    Bool,
    Str,
    Num {
        unit: Option<Unit>,
        /// Known to be a whole number of its dimension's smallest unit (fen, gram), or a
        /// whole number when it has no unit: what an integer field or a fen-exact yuan
        /// field takes without rounding.
        int: bool,
    },
    /// A list; of the elements the source contract describes, when it does.
    List(Option<Box<SchemaNode>>),
    /// An object; as the source contract describes it, when it does.
    Obj(Option<Box<SchemaNode>>),
    /// A source field the contract says may be absent.
    Opt(Box<Ty>),
    /// One of two types (the sides of an `if` or a `??`): fits where both fit.
    Either(Box<Ty>, Box<Ty>),
}

impl Ty {
    pub fn num(unit: Option<Unit>, int: bool) -> Ty {
        Ty::Num { unit, int }
    }
    /// The type without its "may be absent".
    pub fn strip(&self) -> &Ty {
        match self {
            Ty::Opt(t) => t,
            t => t,
        }
    }

    /// The type of a value the source contract describes.
    pub fn of_node(n: &SchemaNode) -> Ty {
        match n.ty {
            FieldType::Any => Ty::Any,
            FieldType::String => Ty::Str,
            FieldType::Integer => Ty::num(n.unit, true),
            // A field whose `x-decimal` allows no finer than its unit's smallest part
            // (yuan with 2 places) holds whole fen: the run checks each value against it.
            FieldType::Number => Ty::num(
                n.unit,
                n.limits
                    .decimal
                    .is_some_and(|p| Ty::whole_at(p.scale, n.unit)),
            ),
            FieldType::Boolean => Ty::Bool,
            FieldType::Object => Ty::Obj(Some(Box::new(n.clone()))),
            FieldType::Array => Ty::List(n.items.clone()),
        }
    }

    pub fn words(&self) -> String {
        match self {
            Ty::Opt(t) => format!("{} or nothing", t.words()),
            Ty::Any => "any value".into(),
            Ty::Null => "null".into(),
            Ty::Bool => "a boolean".into(),
            Ty::Str => "a string".into(),
            Ty::Num { unit: Some(u), .. } => format!("an amount in {u}"),
            Ty::Num { int: true, .. } => "an integer".into(),
            Ty::Num { .. } => "a number".into(),
            Ty::List(_) => "a list".into(),
            Ty::Obj(_) => "an object".into(),
            Ty::Either(a, b) => format!("{} or {}", a.words(), b.words()),
        }
    }
    /// Whether a value of this type can go into a field of type `f` (Any can, Null is
    /// judged by required-ness at run time).
    pub fn fits(&self, f: FieldType) -> bool {
        if let Ty::Either(a, b) = self.strip() {
            return a.fits(f) && b.fits(f);
        }
        matches!(
            (self.strip(), f),
            (Ty::Any | Ty::Null | Ty::List(_), _)
                | (_, FieldType::Any)
                | (Ty::Str, FieldType::String)
                | (Ty::Num { .. }, FieldType::Integer | FieldType::Number)
                | (Ty::Bool, FieldType::Boolean)
                | (Ty::Obj(_), FieldType::Object)
        )
    }
    /// Whether `ok` holds of this type, of both sides of an [`Ty::Either`].
    pub fn all(&self, ok: &dyn Fn(&Ty) -> bool) -> bool {
        match self.strip() {
            Ty::Either(a, b) => a.all(ok) && b.all(ok),
            t => ok(t),
        }
    }
    /// Whether `value` counted in `unit` is a whole number of the smallest unit.
    pub fn whole_of(value: Decimal, unit: Option<Unit>) -> bool {
        value
            .checked_mul(Decimal::from(unit.map_or(1, Unit::scale)))
            .is_some_and(|v| v.fract().is_zero())
    }
    /// Whether a round to `dp` places of an amount in `unit` leaves it whole (see `int`).
    pub fn whole_at(dp: u32, unit: Option<Unit>) -> bool {
        10i64
            .checked_pow(dp)
            .is_some_and(|s| s <= unit.map_or(1, Unit::scale))
    }
    /// Whether no value of this type is known to have a fraction (see `int`): a value of
    /// no contract (Any) is judged at run time, as everywhere else.
    pub fn whole(&self) -> bool {
        self.all(&|t| matches!(t, Ty::Num { int: true, .. } | Ty::Any))
    }
    pub fn unit(&self) -> Option<Unit> {
        match self.strip() {
            Ty::Num { unit, .. } => *unit,
            _ => None,
        }
    }
    /// Join of two branches.
    pub fn join(a: Ty, b: Ty) -> Ty {
        match (a, b) {
            (Ty::Opt(a), b) | (b, Ty::Opt(a)) => match Ty::join(*a, b) {
                Ty::Opt(t) => Ty::Opt(t),
                t => Ty::Opt(Box::new(t)),
            },
            (Ty::Null, x) | (x, Ty::Null) => x,
            (x, y) if x == y => x,
            // A plain number beside an amount (`$.fee ?? 0`) counts in the amount's unit:
            // dropping the unit would let the amount reach a field of another unit unseen.
            (Ty::Num { unit: u1, int: i1 }, Ty::Num { unit: u2, int: i2 }) => Ty::Num {
                unit: match (u1, u2) {
                    (Some(a), Some(b)) if a != b => None,
                    (a, b) => a.or(b),
                },
                int: i1 && i2,
            },
            (
                x @ (Ty::Str | Ty::Num { .. } | Ty::Bool),
                y @ (Ty::Str | Ty::Num { .. } | Ty::Bool),
            ) => Ty::Either(Box::new(x), Box::new(y)),
            _ => Ty::Any,
        }
    }
}
