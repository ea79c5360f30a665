//! Paths compiled once, as RFC 9535 (JSONPath) reads them: every path is parsed by an RFC
//! 9535 parser (serde_json_path, which passes the JSONPath Compliance Test Suite; so does
//! bondmap, tests/jsonpath.rs); the simple ones (names, indexes, `*`, the common string
//! filter) then become direct lookups, the rest (descendants, slices, unions, filters)
//! are run by that engine.

mod error;
mod filter;
mod simple;

pub use error::PathError;
pub use simple::{simple_segments, tail_segments};

/// The name a quoted name selector (`'it\'s'`, `"a"`) stands for, escapes decoded;
/// `None` when `s` is not one quoted string.
pub fn quoted_name(s: &str) -> Option<String> {
    simple::quoted(s).and_then(|(name, after)| after.is_empty().then_some(name))
}

use crate::value::Val;
use serde_json::Value;
use serde_json_path::JsonPath;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(Box<str>),
    Index(i64),
    Wildcard,
    /// `[?(@.key == 'text')]`: the elements whose `key` is that string (the common filter,
    /// compiled to a direct comparison).
    KeyIs(Box<str>, Box<str>),
}

impl Seg {
    /// Whether this step can give several values.
    pub fn is_multi(&self) -> bool {
        matches!(self, Seg::Wildcard | Seg::KeyIs(..))
    }
}

#[derive(Debug, Clone)]
pub enum PathCode {
    /// Names and indexes only: at most one value.
    Single(Vec<Seg>),
    /// Wildcards: a list of values.
    Multi(Vec<Seg>),
    /// Anything else, run by the RFC 9535 engine: a list of values.
    Query(Box<JsonPath>),
}

impl PathCode {
    /// Compiles a JSONPath whose root is `$` (`$.a.b`, `$[0]`, `$.a[?@.x == 1]`); a path
    /// RFC 9535 refuses is an error saying what is wrong at which byte of `text`.
    pub fn compile(text: &str) -> Result<PathCode, PathError> {
        let query =
            JsonPath::parse(text).map_err(|e| error::explain(text, e.position(), e.message()))?;
        if let Some(segs) = simple_segments(text) {
            return Ok(if segs.iter().any(Seg::is_multi) {
                PathCode::Multi(segs)
            } else {
                PathCode::Single(segs)
            });
        }
        Ok(PathCode::Query(Box::new(query)))
    }

    /// The value a names-and-indexes path reaches, if it is a single path and reaches one.
    pub fn single<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        match self {
            PathCode::Single(segs) => segs.iter().try_fold(root, |cur, s| step(cur, s)),
            _ => None,
        }
    }

    /// The elements `…[*]` gives when this is a names-and-indexes path ending in `[*]`
    /// that reaches an array (none when it reaches nothing or a scalar): a loop walks them
    /// in place. `None` for any other path, an object, or an array holding numbers (whose
    /// errors must come when the path is read, as for a list).
    pub fn elements<'a>(&self, root: &'a Value) -> Option<&'a [Value]> {
        let PathCode::Multi(segs) = self else {
            return None;
        };
        let (Seg::Wildcard, prefix) = segs.split_last()? else {
            return None;
        };
        if prefix.iter().any(Seg::is_multi) {
            return None;
        }
        match prefix.iter().try_fold(root, |cur, s| step(cur, s)) {
            Some(Value::Array(a)) if !a.iter().any(Value::is_number) => Some(a),
            Some(Value::Array(_) | Value::Object(_)) => None,
            _ => Some(&[]),
        }
    }

    /// How many values a wildcard path reaches, without a list of them (`None` for other
    /// paths). Numbers among them are still read, so a bad one fails as in the list.
    pub fn count(&self, root: &Value) -> Option<Result<usize, String>> {
        let PathCode::Multi(segs) = self else {
            return None;
        };
        let mut n = 0;
        Some(
            each(root, segs, &mut |x| {
                if let Value::Number(_) = x {
                    Val::from_json(x).map_err(out_of_range)?;
                }
                n += 1;
                Ok(true)
            })
            .map(|_| n),
        )
    }

    /// The first value a wildcard path reaches, the walk stopping there (`None` for other
    /// paths; `Val::Null` when it reaches nothing).
    pub fn first<'a>(&self, root: &'a Value) -> Option<Result<Val<'a>, String>> {
        let PathCode::Multi(segs) = self else {
            return None;
        };
        let mut found = Ok(Val::Null);
        let walked = each(root, segs, &mut |x| {
            found = Val::from_json(x).map_err(out_of_range);
            Ok(false)
        });
        Some(walked.and(found))
    }

    pub fn is_single(&self) -> bool {
        matches!(self, PathCode::Single(_))
    }

    /// The path over one value of the order.
    pub fn eval<'a>(&self, root: &'a Value) -> Result<Val<'a>, String> {
        match self {
            PathCode::Single(segs) => {
                let mut cur = root;
                for s in segs {
                    match step(cur, s) {
                        Some(n) => cur = n,
                        None => return Ok(Val::Null),
                    }
                }
                Val::from_json(cur).map_err(out_of_range)
            }
            PathCode::Multi(segs) => {
                // Depth first into one list: the same order as level by level.
                let mut out = Vec::new();
                walk(root, segs, &mut out)?;
                Ok(Val::List(Arc::new(out)))
            }
            PathCode::Query(q) => list(q.query(root).all()),
        }
    }
}

fn walk<'a>(v: &'a Value, segs: &[Seg], out: &mut Vec<Val<'a>>) -> Result<(), String> {
    each(v, segs, &mut |x| {
        out.push(Val::from_json(x).map_err(out_of_range)?);
        Ok(true)
    })
    .map(|_| ())
}

fn out_of_range(b: crate::value::BadNumber) -> String {
    format!("number `{}` is out of range", b.0)
}

/// Calls `f` on each value `segs` reaches below `v`, depth first, while it returns true;
/// false when `f` stopped the walk.
fn each<'a, F>(v: &'a Value, segs: &[Seg], f: &mut F) -> Result<bool, String>
where
    F: FnMut(&'a Value) -> Result<bool, String>,
{
    let Some((s, rest)) = segs.split_first() else {
        return f(v);
    };
    let mut go = |x: &'a Value| each(x, rest, &mut *f);
    match s {
        Seg::Wildcard => match v {
            Value::Array(a) => all(a.iter(), &mut go),
            Value::Object(o) => all(o.values(), &mut go),
            _ => Ok(true),
        },
        // A filter tests an array's elements or an object's member values (RFC 9535 2.3.5).
        Seg::KeyIs(k, want) => {
            let is = |e: &&Value| {
                e.as_object()
                    .and_then(|o| o.get(&**k))
                    .and_then(Value::as_str)
                    == Some(&**want)
            };
            match v {
                Value::Array(a) => all(a.iter().filter(is), &mut go),
                Value::Object(o) => all(o.values().filter(is), &mut go),
                _ => Ok(true),
            }
        }
        _ => match step(v, s) {
            Some(x) => go(x),
            None => Ok(true),
        },
    }
}

fn all<'a>(
    xs: impl Iterator<Item = &'a Value>,
    go: &mut impl FnMut(&'a Value) -> Result<bool, String>,
) -> Result<bool, String> {
    for x in xs {
        if !go(x)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn list<'a>(vals: impl IntoIterator<Item = &'a Value>) -> Result<Val<'a>, String> {
    let v: Result<Vec<Val<'a>>, _> = vals.into_iter().map(Val::from_json).collect();
    v.map(|v| Val::List(Arc::new(v))).map_err(out_of_range)
}

/// One step of a simple path: a key of an object or an index of an array.
pub fn step<'a>(v: &'a Value, s: &Seg) -> Option<&'a Value> {
    match (v, s) {
        (Value::Object(o), Seg::Key(k)) => o.get(&**k),
        (Value::Array(a), Seg::Index(i)) => {
            let i = if *i < 0 { a.len() as i64 + i } else { *i };
            usize::try_from(i).ok().and_then(|i| a.get(i))
        }
        _ => None,
    }
}

/// Steps through values the mapping built (for `out.…` and lets holding built values).
pub fn eval_val<'a>(v: &Val<'a>, segs: &[Seg]) -> Result<Val<'a>, String> {
    let Some((first, rest)) = segs.split_first() else {
        return Ok(v.clone());
    };
    match (v, first) {
        (Val::Json(j), _) => {
            let code = if segs.iter().any(Seg::is_multi) {
                PathCode::Multi(segs.to_vec())
            } else {
                PathCode::Single(segs.to_vec())
            };
            code.eval(j)
        }
        (Val::Obj(o), Seg::Key(k)) => match o.iter().find(|(n, _)| *n == &**k) {
            Some((_, x)) => eval_val(x, rest),
            None => Ok(Val::Null),
        },
        (Val::List(l), Seg::Index(i)) => {
            let i = if *i < 0 { l.len() as i64 + i } else { *i };
            match usize::try_from(i).ok().and_then(|i| l.get(i)) {
                Some(x) => eval_val(x, rest),
                None => Ok(Val::Null),
            }
        }
        (Val::List(l), Seg::Wildcard) => {
            let mut out = Vec::with_capacity(l.len());
            for x in l.iter() {
                match eval_val(x, rest)? {
                    Val::List(inner) if rest.iter().any(Seg::is_multi) => {
                        out.extend(inner.iter().cloned())
                    }
                    other => out.push(other),
                }
            }
            Ok(Val::List(Arc::new(out)))
        }
        (Val::Obj(o), Seg::Wildcard) => Ok(Val::List(Arc::new(
            o.iter().map(|(_, x)| x.clone()).collect(),
        ))),
        _ => Ok(Val::Null),
    }
}

/// The simple segments a query starts with (`$.a.b[?@.x > 1]` → `a`, `b`): what it reads
/// is below them. `None` when it may read elsewhere: a `$` in a filter is the root.
pub fn query_prefix(text: &str) -> Option<Vec<Seg>> {
    let mut quote = None;
    let mut escaped = false;
    for c in text.chars().skip(1) {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' => return None,
            None => {}
        }
    }
    // Cut before each `.` or `[` from the right until the rest is simple.
    let cuts = text
        .char_indices()
        .filter(|(_, c)| *c == '.' || *c == '[')
        .map(|(i, _)| i);
    let cuts: Vec<usize> = cuts.collect();
    Some(
        cuts.iter()
            .rev()
            .find_map(|&i| simple_segments(&text[..i]))
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_are_given_in_place_only_where_a_list_would_be_the_same() {
        let doc = json!({"a": {"l": [{"x": 1}, {"x": 2}], "n": [1, 2], "o": {"k": {}}, "s": "t"}});
        let p = |t: &str| PathCode::compile(t).unwrap();
        assert_eq!(p("$.a.l[*]").elements(&doc).map(<[_]>::len), Some(2));
        // Nothing there, or a scalar: no elements, as the list would be empty.
        assert_eq!(p("$.a.missing[*]").elements(&doc).map(<[_]>::len), Some(0));
        assert_eq!(p("$.a.s[*]").elements(&doc).map(<[_]>::len), Some(0));
        assert!(p("$.a.missing[*]")
            .eval(&doc)
            .is_ok_and(|v| matches!(v, Val::List(l) if l.is_empty())));
        // An object's values, numbers (checked when read), other paths: the general way.
        assert!(p("$.a.o[*]").elements(&doc).is_none());
        assert!(p("$.a.n[*]").elements(&doc).is_none());
        assert!(p("$.a.l[*].x").elements(&doc).is_none());
        assert!(p("$.a.l[0]").elements(&doc).is_none());
        assert!(p("$.a.l[?(@.x == 'y')]").elements(&doc).is_none());
    }

    #[test]
    fn count_and_first_agree_with_the_list() {
        let doc = json!({"l": [{"t": "a", "v": 1}, {"t": "b", "v": 2}, {"t": "a", "v": 3}],
                         "o": {"x": 1, "y": 2}, "big": [1, 1e40]});
        for path in [
            "$.l[*]",
            "$.l[*].v",
            "$.l[?(@.t == 'a')].v",
            "$.o.*",
            "$.none[*]",
            "$.l[*].none",
        ] {
            let p = PathCode::compile(path).unwrap();
            let Ok(Val::List(list)) = p.eval(&doc) else {
                panic!("{path} is not a list")
            };
            assert_eq!(p.count(&doc).unwrap().unwrap(), list.len(), "{path}");
            let first = p.first(&doc).unwrap().unwrap();
            assert_eq!(
                format!("{first:?}"),
                format!("{:?}", list.first().cloned().unwrap_or(Val::Null)),
                "{path}"
            );
        }
        // A number beyond an exact decimal fails counting as it fails listing.
        let p = PathCode::compile("$.big[*]").unwrap();
        assert!(p.eval(&doc).is_err());
        assert!(p.count(&doc).unwrap().is_err());
        assert!(PathCode::compile("$.l[0]").unwrap().count(&doc).is_none());
    }

    #[test]
    fn simple_paths_are_direct_lookups() {
        assert!(matches!(
            PathCode::compile("$.detail.orderId").unwrap(),
            PathCode::Single(_)
        ));
        assert!(matches!(
            PathCode::compile("$.detail.skuList[*].skuDetailList[*]").unwrap(),
            PathCode::Multi(_)
        ));
        assert!(matches!(
            PathCode::compile("$.a[?(@.type == '订购人')]").unwrap(),
            PathCode::Multi(_)
        ));
        assert!(matches!(
            PathCode::compile("$.a[?(@.n > 1)]").unwrap(),
            PathCode::Query(_)
        ));
        assert!(PathCode::compile("$.a[?(@.type == ").is_err());
    }

    #[test]
    fn a_string_filter_tests_an_objects_values_too() {
        let doc = json!({"o": {"x": {"t": "a", "v": 1}, "y": {"t": "b", "v": 2}}});
        let p = PathCode::compile("$.o[?@.t == 'b'].v").unwrap();
        assert!(matches!(p, PathCode::Multi(_)));
        let Ok(Val::List(l)) = p.eval(&doc) else {
            panic!()
        };
        assert!(matches!(&l[..], [Val::Num(a)] if a.value == 2.into()));
    }

    #[test]
    fn a_query_is_read_below_its_simple_start_unless_a_filter_reads_the_root() {
        assert_eq!(
            query_prefix("$.a.b[?(@.n > 1)].c"),
            simple_segments("$.a.b")
        );
        assert_eq!(query_prefix("$..x"), Some(vec![]));
        assert_eq!(
            query_prefix("$.a[?@.n == '$'][1:]"),
            simple_segments("$.a[?@.n == '$']")
        );
        assert_eq!(query_prefix("$.a[?@.n == $.m]"), None);
    }

    #[test]
    fn a_refused_path_says_what_is_wrong_where() {
        let e = |t: &str| PathCode::compile(t).err().map(|e| (e.start, e.message));
        let (at, m) = e("$.a[01]").unwrap();
        assert_eq!(
            (at, m.as_str()),
            (4, "`01`: an index has no leading zero, write `1`")
        );
        let (at, m) = e("$['a\nb']").unwrap();
        assert_eq!(at, 4);
        assert!(m.starts_with("a control character (U+000A)"), "{m}");
        let (at, m) = e("$.1").unwrap();
        assert_eq!(
            (at, m.as_str()),
            (
                2,
                "a name after `.` cannot start with a digit: write `['1']`"
            )
        );
        let (at, m) = e("$[9007199254740992]").unwrap();
        assert_eq!(at, 2);
        assert!(m.contains("beyond"), "{m}");
        // Filters: numbers as the RFC writes them, literals in lower case, one value on
        // each side of a comparison, and no literal alone.
        for (path, at, said) in [
            ("$[?@.a==01]", 8, "`01`: a number has no leading zero"),
            ("$[?@.a==+1]", 8, "`+1`: a number has no `+` sign, write `1`"),
            ("$[?@.a==1.]", 8, "`1.`: digits must follow the `.` of a number"),
            ("$[?@.a==1e]", 8, "`1e`: digits must follow the exponent of a number"),
            ("$[?@==True]", 6, "`True` is no literal: JSONPath writes `true`"),
            ("$[?@.* == 1]", 3, "`@.*` may reach several values: a comparison takes one on each side (a query of names and indexes only)"),
            ("$[?(@[0, 0]==42)]", 4, "`@[0, 0]` may reach several values: a comparison takes one on each side (a query of names and indexes only)"),
            ("$[?true]", 3, "a literal alone is no test: compare it (`@.a == true`) or test a query (`@.a`)"),
            ("$[?(@.id ==]", 9, "`==` has nothing on its right: a comparison takes a value or a query on each side"),
            ("$[?count()==1]", 3, "`count` takes 1 argument"),
            ("$[?match(@.a, 'a.*')==true]", 3, "`match(…)` is a test, it cannot be compared"),
            ("$[?count (@.*)==1]", 8, "no blank space may stand between `count` and its `(`"),
            ("$[0,]", 4, "a selector must stand here: a name, an index, a slice, `*` or a filter (`?…`)"),
            ("$[@.a]", 2, "a query in brackets is a filter: write `[?@…]`"),
        ] {
            assert_eq!(e(path), Some((at, said.to_string())), "{path}");
        }
        // A literal as a function's argument is no test of its own.
        assert!(PathCode::compile("$[?match(@.a, 'x') && count(@.*) > 1]").is_ok());
        let (_, m) = e("$[?count(1) > 2]").unwrap();
        assert_eq!(m, "`count` takes a query (`@…` or `$…`), not a literal");
        let (_, m) = e("$[?length(@.*) < 3]").unwrap();
        assert!(m.starts_with("`length` takes one value"), "{m}");
    }

    #[test]
    fn paths_find_what_jsonpath_finds() {
        let doc = json!({"a": {"l": [{"t": "x", "v": 1}, {"t": "y", "v": 2}]}});
        let v = PathCode::compile("$.a.l[1].v").unwrap().eval(&doc).unwrap();
        assert!(matches!(v, Val::Num(a) if a.value == 2.into()));
        let v = PathCode::compile("$.a.l[-1].t")
            .unwrap()
            .eval(&doc)
            .unwrap();
        assert!(matches!(v, Val::Str(s) if s == "y"));
        let v = PathCode::compile("$.a.l[*].v").unwrap().eval(&doc).unwrap();
        assert!(matches!(v, Val::List(l) if l.len() == 2));
        let v = PathCode::compile("$.a.l[?(@.t == 'y')].v")
            .unwrap()
            .eval(&doc)
            .unwrap();
        let Val::List(l) = v else { panic!() };
        assert!(matches!(&l[0], Val::Num(a) if a.value == 2.into()));
        let v = PathCode::compile("$.a.missing.x")
            .unwrap()
            .eval(&doc)
            .unwrap();
        assert!(v.is_null());
    }
}
