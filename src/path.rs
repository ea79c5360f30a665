//! Paths compiled once: simple ones (names, indexes, `*`) to direct lookups, the rest
//! (filters, slices, recursive descent) to a parsed jsonpath-rust query.

use crate::value::Val;
use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;
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
    /// Anything else, handed to jsonpath-rust: a list of values.
    Query(Box<JpQuery>),
}

impl PathCode {
    /// Compiles a JSONPath whose root is `$` (`$.a.b`, `$[0]`, `$.a[?(@.x == 1)]`).
    pub fn compile(text: &str) -> Result<PathCode, String> {
        if let Some(segs) = simple_segments(text) {
            return Ok(if segs.iter().any(Seg::is_multi) {
                PathCode::Multi(segs)
            } else {
                PathCode::Single(segs)
            });
        }
        jsonpath_rust::parser::parse_json_path(text)
            .map(|q| PathCode::Query(Box::new(q)))
            .map_err(|e| e.to_string())
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
            PathCode::Query(q) => {
                let found =
                    jsonpath_rust::query::js_path_process(q, root).map_err(|e| e.to_string())?;
                list(found.into_iter().map(|r| r.val))
            }
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
        Seg::KeyIs(k, want) => match v {
            Value::Array(a) => all(
                a.iter()
                    .filter(|e| e.get(&**k).and_then(Value::as_str) == Some(&**want)),
                &mut go,
            ),
            _ => Ok(true),
        },
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

/// Parses the simple subset: `$`, then `.name`, `['name']`, `["name"]`, `[3]`, `[-1]`,
/// `.*`, `[*]`. Anything else gives `None`.
pub fn simple_segments(text: &str) -> Option<Vec<Seg>> {
    let rest = text.strip_prefix('$')?;
    tail_segments(rest)
}

/// The same for a tail such as `.barcode` or `[0].name`.
pub fn tail_segments(mut rest: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            if r.starts_with('.') {
                return None;
            }
            if let Some(r2) = r.strip_prefix('*') {
                segs.push(Seg::Wildcard);
                rest = r2;
                continue;
            }
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                return None;
            }
            segs.push(Seg::Key(name.into()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = bracket_end(r)?;
            let inner = r[..end].trim();
            rest = &r[end + 1..];
            if inner == "*" {
                segs.push(Seg::Wildcard);
            } else if let Some(f) = key_is(inner) {
                segs.push(f);
            } else if let Ok(i) = inner.parse::<i64>() {
                segs.push(Seg::Index(i));
            } else if inner.len() >= 2
                && ((inner.starts_with('\'') && inner.ends_with('\''))
                    || (inner.starts_with('"') && inner.ends_with('"')))
            {
                let name = &inner[1..inner.len() - 1];
                if name.contains(['\\', '\'', '"']) {
                    return None;
                }
                segs.push(Seg::Key(name.into()));
            } else {
                return None;
            }
        } else {
            return None;
        }
    }
    Some(segs)
}

/// The closing `]` of a bracket, skipping quoted text.
fn bracket_end(r: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in r.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == ']' => return Some(i),
            None if c == '[' => return None,
            None => {}
        }
    }
    None
}

/// `?(@.name == 'text')` or `?@.name == "text"` (a string compared for equality).
fn key_is(inner: &str) -> Option<Seg> {
    let body = inner.strip_prefix('?')?.trim();
    let body = body
        .strip_prefix('(')
        .and_then(|b| b.strip_suffix(')'))
        .unwrap_or(body)
        .trim();
    let rest = body.strip_prefix("@.")?;
    let (name, value) = rest.split_once("==")?;
    let name = name.trim();
    let value = value.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') || value.len() < 2
    {
        return None;
    }
    let q = value.chars().next()?;
    if (q != '\'' && q != '"') || !value.ends_with(q) {
        return None;
    }
    let text = &value[1..value.len() - 1];
    if text.contains(['\\', '\'', '"']) {
        return None;
    }
    Some(Seg::KeyIs(name.into(), text.into()))
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
