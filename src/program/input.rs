//! Reading an order: only the parts of the document the program can read are built.
//!
//! A RED order carries about 120 values; the bonded mapping reads about 30. Building a
//! `serde_json::Value` for the rest (a heap string per text and per number, a map node
//! per key) was most of the time of a stream. [`Shape`] is computed from the compiled
//! program by the run side (`crate::run::shape`, on first use, kept in
//! [`Program::input`](crate::program::Program::input)): every path it reads, through lets
//! and loop variables, and which values it uses whole. [`Shape::parse`] builds only those; the rest is checked for syntax and
//! skipped. The program gives the same result on the shaped document as on the whole one
//! (tests/input_shape.rs holds every shipped mapping and example to that).

use crate::path::Seg;
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
pub enum Step {
    Key(Box<str>),
    /// An element of an array (an index: any element may be the one).
    Elem,
    /// Every element of an array or value of an object.
    Each,
    /// The elements of an array (or member values of an object) whose key `.0` is compared.
    Filter(Box<str>),
}

/// Where in the order a value may come from.
pub type Place = Vec<Step>;

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
    pub fn insert(&mut self, steps: &[Step], whole: bool) {
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
                // A filter also tests an object's member values: such an object is kept.
                self.all_values = true;
                let e = self.elems_mut();
                e.key_mut(k).insert(&[], true);
                e.insert(rest, whole);
            }
        }
    }
}

/// The steps of a compiled path's segments.
pub fn steps_of(segs: &[Seg]) -> Place {
    segs.iter()
        .map(|s| match s {
            Seg::Key(k) => Step::Key(k.clone()),
            Seg::Index(_) => Step::Elem,
            Seg::Wildcard => Step::Each,
            Seg::KeyIs(k, _) => Step::Filter(k.clone()),
        })
        .collect()
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
    use crate::path::simple_segments;

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
}
