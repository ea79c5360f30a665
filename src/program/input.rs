//! Reading an order: only the parts of the document the program can read are built.
//!
//! A RED order carries about 120 values; the bonded mapping reads about 30. Building a
//! `serde_json::Value` for the rest (a heap string per text and per number, a map node
//! per key) was most of the time of a stream. [`Shape`] is computed from the compiled
//! program: every path it reads, through lets and loop variables, and which values it
//! uses whole. [`Shape::parse`] builds only those; the rest is checked for syntax and
//! skipped. The program gives the same result on the shaped document as on the whole one
//! (tests/input_shape.rs holds every shipped mapping and example to that).

use crate::path::{simple_segments, Seg};
use crate::program::func::{self, Reads};
use crate::program::{BodyOp, Global, Loop, Node, Op, Program, Tail};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use std::fmt;

/// What of a value of the order is kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// The value is kept as it is, everything below it included.
    whole: bool,
    /// Keys read when the value is an object, sorted by name.
    keys: Vec<(Box<str>, Shape)>,
    /// What is kept of each element when the value is an array.
    elems: Option<Box<Shape>>,
    /// An object's values are all read (`.*`): an object here is kept whole.
    all_values: bool,
}

/// One step of a path, as far as keeping goes.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(Box<str>),
    /// An element of an array (an index: any element may be the one).
    Elem,
    /// Every element of an array or value of an object.
    Each,
    /// The elements of an array whose key `.0` is compared.
    Filter(Box<str>),
}

type Place = Vec<Step>;

impl Shape {
    /// The shape that keeps everything.
    pub fn whole() -> Shape {
        Shape {
            whole: true,
            ..Shape::default()
        }
    }

    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// What `program` can read of an order.
    pub fn of(program: &Program) -> Shape {
        let mut a = Analysis {
            p: program,
            root: Shape::default(),
            give_up: false,
            global_places: vec![None; program.globals.len()],
            busy: vec![false; program.globals.len()],
            locals: Vec::new(),
        };
        a.program();
        if a.give_up {
            Shape::whole()
        } else {
            a.root
        }
    }

    /// Parses one order (JSON text), building only what this shape keeps. Malformed JSON
    /// is an error exactly as for `serde_json::from_str`: skipped parts are still read.
    pub fn parse(&self, text: &str) -> serde_json::Result<Value> {
        if self.whole {
            return serde_json::from_str(text);
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let v = Keep(self).deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    }

    fn key_mut(&mut self, k: &str) -> &mut Shape {
        let i = match self.keys.binary_search_by(|(n, _)| (**n).cmp(k)) {
            Ok(i) => i,
            Err(i) => {
                self.keys.insert(i, (k.into(), Shape::default()));
                i
            }
        };
        &mut self.keys[i].1
    }

    fn elems_mut(&mut self) -> &mut Shape {
        self.elems.get_or_insert_with(Default::default)
    }

    /// Keeps the values at `steps` below this one; `whole` keeps everything below them.
    fn insert(&mut self, steps: &[Step], whole: bool) {
        if self.whole {
            return;
        }
        match steps.split_first() {
            None => {
                if whole {
                    *self = Shape::whole();
                }
            }
            Some((Step::Key(k), rest)) => self.key_mut(k).insert(rest, whole),
            Some((Step::Elem, rest)) => self.elems_mut().insert(rest, whole),
            Some((Step::Each, rest)) => {
                self.all_values = true;
                self.elems_mut().insert(rest, whole);
            }
            Some((Step::Filter(k), rest)) => {
                let e = self.elems_mut();
                e.key_mut(k).insert(&[], true);
                e.insert(rest, whole);
            }
        }
    }
}

fn steps_of(segs: &[Seg]) -> Place {
    segs.iter()
        .map(|s| match s {
            Seg::Key(k) => Step::Key(k.clone()),
            Seg::Index(_) => Step::Elem,
            Seg::Wildcard => Step::Each,
            Seg::KeyIs(k, _) => Step::Filter(k.clone()),
        })
        .collect()
}

/// Finds what a program reads. A value's "places" are where in the order it may come
/// from, when it is a value of the order passed along (a path, a let holding one, a
/// loop variable, `first(…)`, `a ?? b`); such a value used only through paths below it
/// needs only those paths, any other use needs it whole.
struct Analysis<'p> {
    p: &'p Program,
    root: Shape,
    /// Something could not be followed: keep the whole order.
    give_up: bool,
    global_places: Vec<Option<Option<Vec<Place>>>>,
    busy: Vec<bool>,
    /// Places of the current top-level loop's locals.
    locals: Vec<Option<Vec<Place>>>,
}

impl<'p> Analysis<'p> {
    fn program(&mut self) {
        let p = self.p;
        if let Some(n) = &p.order_id {
            self.use_whole(n);
        }
        for r in &p.requires {
            self.use_whole(&r.cond);
        }
        for (g, global) in p.globals.iter().enumerate() {
            match global {
                // A let is evaluated when first read: what it walks must be there.
                Global::Let(_) => {
                    if let Some(places) = self.global(g as u32) {
                        self.keep_all(&places, false);
                    }
                }
                Global::Field(n, _) => self.use_whole(n),
                Global::Loop(l) => {
                    self.locals.clear();
                    self.run_loop(l);
                    self.locals.clear();
                }
            }
        }
    }

    fn keep_all(&mut self, places: &[Place], whole: bool) {
        for pl in places {
            self.root.insert(pl, whole);
        }
    }

    fn set_local(&mut self, i: u32, places: Option<Vec<Place>>) {
        let i = i as usize;
        if self.locals.len() <= i {
            self.locals.resize(i + 1, None);
        }
        self.locals[i] = places;
    }

    fn run_loop(&mut self, l: &Loop) {
        for (slot, n) in &l.bindings {
            let places = self.places_or_use(n).map(with_elements);
            if let Some(ps) = &places {
                self.keep_all(ps, false);
            }
            self.set_local(*slot, places);
        }
        for op in &l.body {
            match op {
                BodyOp::Let(i, n) => {
                    let places = self.places_or_use(n);
                    if let Some(ps) = &places {
                        self.keep_all(ps, false);
                    }
                    self.set_local(*i, places);
                }
                BodyOp::Require(n, _) => self.use_whole(n),
                BodyOp::Field(i, n, _) => {
                    let places = self.places_or_use(n);
                    if let Some(ps) = &places {
                        self.keep_all(ps, true);
                    }
                    self.set_local(*i, places);
                }
                BodyOp::Loop(i, inner) => {
                    self.run_loop(inner);
                    self.set_local(*i, None);
                }
            }
        }
    }

    /// The places of global `g` (a let or a field), computed once.
    fn global(&mut self, g: u32) -> Option<Vec<Place>> {
        let gi = g as usize;
        if let Some(done) = self.global_places.get(gi).cloned().flatten() {
            return done;
        }
        if self.busy.get(gi).copied().unwrap_or(true) {
            self.give_up = true;
            return None;
        }
        self.busy[gi] = true;
        // Globals are read from loops too: their own definitions see no locals.
        let saved = std::mem::take(&mut self.locals);
        let p = self.p;
        let r = match &p.globals[gi] {
            Global::Let(n) | Global::Field(n, _) => self.places_or_use(n),
            Global::Loop(_) => None,
        };
        self.locals = saved;
        self.busy[gi] = false;
        self.global_places[gi] = Some(r.clone());
        r
    }

    fn local(&mut self, i: u32) -> Option<Vec<Place>> {
        match self.locals.get(i as usize) {
            Some(p) => p.clone(),
            None => {
                // A local read before it is set cannot be followed.
                self.give_up = true;
                None
            }
        }
    }

    /// Below a variable's places, a path tail.
    fn below(&mut self, base: Option<Vec<Place>>, tail: &Tail) -> Option<Vec<Place>> {
        let base = base?;
        match &tail.segs {
            Some(segs) => {
                let more = steps_of(segs);
                Some(
                    base.into_iter()
                        .map(|mut pl| {
                            pl.extend(more.iter().cloned());
                            pl
                        })
                        .collect(),
                )
            }
            None => {
                // A query below a variable: keep the variable's value whole.
                self.keep_all(&base, true);
                Some(base)
            }
        }
    }

    /// Where `n`'s value may come from in the order, when it is a value of the order
    /// passed along (`None` when it is computed; then what computing it reads is kept).
    /// Each node is visited once: a chain of `if`/`??` of any length costs its length.
    fn places_or_use(&mut self, n: &Node) -> Option<Vec<Place>> {
        match &n.code {
            Op::Src(path, text) => match path {
                crate::path::PathCode::Single(segs) | crate::path::PathCode::Multi(segs) => {
                    Some(vec![steps_of(segs)])
                }
                crate::path::PathCode::Query(_) => {
                    // jsonpath-rust walks the simple start of the path, then anything.
                    let prefix = steps_of(&query_prefix(text));
                    self.root.insert(&prefix, true);
                    Some(vec![prefix])
                }
            },
            Op::Local(i) => self.local(*i),
            Op::Global(g) => self.global(*g),
            Op::LocalPath(i, t) => {
                let base = self.local(*i);
                self.below(base, t)
            }
            Op::GlobalPath(g, t) => {
                let base = self.global(*g);
                self.below(base, t)
            }
            Op::Call(f, args) if matches!(func::reads(*f), Reads::Element | Reads::Passes) => {
                let (first, rest) = args.split_first()?;
                for a in rest {
                    self.use_whole(a);
                }
                let ps = self.places_or_use(first)?;
                if func::reads(*f) == Reads::Passes {
                    return Some(ps);
                }
                Some(with_elements(ps))
            }
            Op::Binary(crate::syntax::ast::BinOp::Coalesce, l, r) => {
                let a = self.places_or_use(l);
                let b = self.places_or_use(r);
                union(a, b)
            }
            Op::If(c, t, e) => {
                self.use_whole(c);
                let a = self.places_or_use(t);
                let b = self.places_or_use(e);
                union(a, b)
            }
            _ => {
                self.use_children(n);
                None
            }
        }
    }

    /// `n`'s value is used as a whole: printed, compared, counted, converted.
    fn use_whole(&mut self, n: &Node) {
        if let Some(ps) = self.places_or_use(n) {
            self.keep_all(&ps, true);
        }
    }

    /// `n`'s value is only counted (`count`, `len`) or compared: of an object or array
    /// only its kind and its number of elements matter, never what is inside.
    fn use_shallow(&mut self, n: &Node, counted: bool) {
        if let Some(ps) = self.places_or_use(n) {
            let ps = if counted { with_elements(ps) } else { ps };
            self.keep_all(&ps, false);
        }
    }

    fn use_children(&mut self, n: &Node) {
        use crate::syntax::ast::BinOp;
        match &n.code {
            Op::Lookup { key, .. } => self.use_whole(key),
            Op::Call(f, args) if func::reads(*f) == Reads::Counted => {
                args.iter().for_each(|a| self.use_shallow(a, true))
            }
            Op::Call(_, args) => args.iter().for_each(|a| self.use_whole(a)),
            Op::Unary(_, a) => self.use_whole(a),
            Op::Binary(
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
                l,
                r,
            ) => {
                self.use_shallow(l, false);
                self.use_shallow(r, false);
            }
            Op::Binary(_, l, r) => {
                self.use_whole(l);
                self.use_whole(r);
            }
            Op::If(c, t, e) => {
                self.use_whole(c);
                self.use_whole(t);
                self.use_whole(e);
            }
            // Paths are places (handled by `places`); built values and constants read
            // nothing of the order.
            Op::Const(_)
            | Op::Out(..)
            | Op::Src(..)
            | Op::Local(_)
            | Op::Global(_)
            | Op::LocalPath(..)
            | Op::GlobalPath(..) => {}
        }
    }
}

/// Each place and the elements there: a value that is a list of matches gives its
/// matches, one that is an array gives its elements.
/// A place met twice is kept once: `first(first(x))` gives x, x[*], x[*][*], not 2^n.
fn with_elements(ps: Vec<Place>) -> Vec<Place> {
    let mut out = Vec::with_capacity(ps.len() * 2);
    for pl in ps {
        let mut e = pl.clone();
        e.push(Step::Elem);
        push_new(&mut out, pl);
        push_new(&mut out, e);
    }
    out
}

fn push_new(out: &mut Vec<Place>, pl: Place) {
    if !out.contains(&pl) {
        out.push(pl);
    }
}

fn union(a: Option<Vec<Place>>, b: Option<Vec<Place>>) -> Option<Vec<Place>> {
    match (a, b) {
        (Some(a), Some(b)) => {
            // The shorter goes into the longer: a chain of n costs n², not n³.
            let (mut a, b) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            for pl in b {
                push_new(&mut a, pl);
            }
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

/// The simple segments a JSONPath starts with (`$.a.b[?(@.x > 1)]` → `a`, `b`).
fn query_prefix(text: &str) -> Vec<Seg> {
    // Cut before each `.` or `[` from the right until the rest is simple.
    let cuts: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| *c == '.' || *c == '[')
        .map(|(i, _)| i)
        .collect();
    for &i in cuts.iter().rev() {
        if let Some(segs) = simple_segments(&text[..i]) {
            return segs;
        }
    }
    Vec::new()
}

/// A value of the order with its shape: the part to build.
struct Keep<'s>(&'s Shape);

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.whole {
            Value::deserialize(d)
        } else {
            d.deserialize_any(self)
        }
    }
}

/// serde_json hands a number (with `arbitrary_precision`) as a one-entry map under this
/// key; tests below fail if that changes.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A key of an object: one the shape reads (its index), the number marker, or another.
enum KeyIs {
    Read(usize),
    Number,
    Other,
}

struct KeyOf<'s>(&'s Shape);

impl<'de> DeserializeSeed<'de> for KeyOf<'_> {
    type Value = KeyIs;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<KeyIs, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyOf<'_> {
    type Value = KeyIs;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, k: &str) -> Result<KeyIs, E> {
        // A handful of keys per object: comparing lengths first rejects most at once.
        let found = self
            .0
            .keys
            .iter()
            .position(|(n, _)| n.len() == k.len() && **n == *k);
        Ok(match found {
            Some(i) => KeyIs::Read(i),
            None if k == NUMBER_TOKEN => KeyIs::Number,
            None => KeyIs::Other,
        })
    }
}

impl<'de> Visitor<'de> for Keep<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        match &self.0.elems {
            Some(e) => {
                while let Some(v) = seq.next_element_seed(Keep(e))? {
                    out.push(v);
                }
            }
            // Nothing reads into this array.
            None => while seq.next_element::<IgnoredAny>()?.is_some() {},
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let shape = self.0;
        let mut out = Map::new();
        if shape.all_values {
            // `.*` reads every value of an object: keep it whole.
            let mut first = true;
            while let Some(k) = map.next_key::<String>()? {
                if first && k == NUMBER_TOKEN {
                    return number(map.next_value()?);
                }
                first = false;
                out.insert(k, map.next_value()?);
            }
            return Ok(Value::Object(out));
        }
        let mut first = true;
        while let Some(k) = map.next_key_seed(KeyOf(shape))? {
            match k {
                KeyIs::Number if first => return number(map.next_value()?),
                KeyIs::Read(i) => {
                    let (name, sub) = &shape.keys[i];
                    let v = map.next_value_seed(Keep(sub))?;
                    out.insert(name.to_string(), v);
                }
                KeyIs::Number | KeyIs::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            first = false;
        }
        Ok(Value::Object(out))
    }
}

fn number<E: de::Error>(text: String) -> Result<Value, E> {
    text.parse::<Number>()
        .map(Value::Number)
        .map_err(de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(paths: &[(&str, bool)]) -> Shape {
        let mut s = Shape::default();
        for (p, whole) in paths {
            s.insert(&steps_of(&simple_segments(p).unwrap()), *whole);
        }
        s
    }

    #[test]
    fn only_read_paths_are_built() {
        let s = shape(&[("$.a.b", true), ("$.l[*].x", true)]);
        let v = s
            .parse(r#"{"a":{"b":{"deep":[1,2]},"c":3},"l":[{"x":1,"y":2},{"y":3}],"z":"skip"}"#)
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a":{"b":{"deep":[1,2]}},"l":[{"x":1},{}]})
        );
    }

    #[test]
    fn numbers_and_scalars_where_an_object_was_expected_are_kept_exactly() {
        let s = shape(&[("$.a.b", true)]);
        let v = s.parse(r#"{"a": 12.340}"#).unwrap();
        assert_eq!(v["a"].to_string(), "12.340");
        let v = s.parse(r#"{"a": "text"}"#).unwrap();
        assert_eq!(v["a"], "text");
        let v = s.parse(r#"{"a": [1, {"b": 2}]}"#).unwrap();
        assert_eq!(v["a"], serde_json::json!([]));
    }

    #[test]
    fn malformed_json_is_an_error_as_with_serde_json() {
        let s = shape(&[("$.a", true)]);
        for bad in [
            r#"{"a":1,"skip":[1,2,}"#,
            r#"{"a":1,"skip":tru}"#,
            r#"{"a":1} trailing"#,
            r#"{"a":1,"skip":"\q"}"#,
            "",
        ] {
            let ours = s.parse(bad).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(bad).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{bad}");
        }
    }

    #[test]
    fn a_filter_keeps_the_key_it_compares() {
        let s = shape(&[("$.l[?(@.t == 'x')].v", true)]);
        let v = s
            .parse(r#"{"l":[{"t":"x","v":1,"w":0},{"t":"y","v":2}]}"#)
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"l":[{"t":"x","v":1},{"t":"y","v":2}]})
        );
    }

    #[test]
    fn a_query_keeps_everything_below_its_simple_start() {
        assert_eq!(
            query_prefix("$.a.b[?(@.n > 1)].c"),
            simple_segments("$.a.b").unwrap()
        );
        assert_eq!(query_prefix("$..x"), vec![]);
    }
}
