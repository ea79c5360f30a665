//! A run that tells what it wrote ([`request`]): the request text, its order code and
//! the personal values in it, told by the evaluator as it wrote each field (a tracer,
//! [`Keep`]), so that the caller never parses the request back to find them.

use super::error::RunError;
use super::order::{run_traced, writes};
use super::trace::{Scope, Trace};
use crate::program::{FieldCheck, Global, Node, Program};
use crate::schema::Pii;
use crate::value::Val;
use serde_json::Value;

/// The top-level field of a Cainiao request that names the order to the warehouse.
pub const ORDER_CODE: &str = "externalOrderCode";

/// What one run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The request's JSON text (`logistics_interface`).
    pub text: String,
    /// Its [`ORDER_CODE`], when the request has one and it is a string.
    pub order_code: Option<String>,
    /// Each string written into a personal (`x-pii`) target field, with its kind, in the
    /// order written (a value written twice, twice).
    pub personal: Vec<(Pii, String)>,
}

/// Maps one order as [`super::run`] does and tells what it wrote.
pub fn request(p: &Program, doc: &Value) -> Result<Written, RunError> {
    let mut text = String::with_capacity(2048);
    let (done, kept) = run_traced(p, doc, &mut text, Keep::default());
    done?;
    let mut w = Written {
        text,
        order_code: kept.order_code,
        personal: kept.personal,
    };
    // Fixed fields are rendered into the plan's text once, not computed per order.
    for (c, s) in fixed_strings(p) {
        keep(&mut w.order_code, &mut w.personal, c, s);
    }
    Ok(w)
}

/// The fixed fields whose value is a string, with it ([`Writes::fixed_strings`]).
///
/// [`Writes::fixed_strings`]: crate::program::writes::Writes::fixed_strings
fn fixed_strings(p: &Program) -> impl Iterator<Item = (&FieldCheck, &str)> {
    writes(p)
        .fixed_strings
        .iter()
        .filter_map(|(g, s)| match p.globals.get(*g as usize) {
            Some(Global::Field(_, c)) => Some((c, &**s)),
            _ => None,
        })
}

/// Keeps `s`, the value of field `c`, if `c` is the order code or personal.
fn keep(code: &mut Option<String>, personal: &mut Vec<(Pii, String)>, c: &FieldCheck, s: &str) {
    if let Some(kind) = c.pii {
        personal.push((kind, s.to_string()));
    }
    if &*c.name == ORDER_CODE {
        *code = Some(s.to_string());
    }
}

/// The tracer of [`request`]: keeps the order code and the personal strings.
#[derive(Default)]
struct Keep {
    order_code: Option<String>,
    personal: Vec<(Pii, String)>,
}

impl<'a> Trace<'a> for Keep {
    fn field_done(at: &mut impl Scope<'a, Self>, _n: &'a Node, c: &'a FieldCheck, v: &Val<'a>) {
        if c.pii.is_none() && &*c.name != ORDER_CODE {
            return;
        }
        let Val::Str(s) = v else {
            return;
        };
        // A fixed field some expression reads back is computed, and told by the plan too.
        if fixed_strings(at.program()).any(|(f, _)| std::ptr::eq(f, c)) {
            return;
        }
        let k = at.tracer();
        keep(&mut k.order_code, &mut k.personal, c, s);
    }
}
