//! The request as the page shows it: `map --pretty`'s text, and for each of its lines the
//! request field it holds (`receiverInfo.city`, `orderItemList[0].declareInfo.vat`), so a
//! click on a line asks for that field's `explain`. Read off the indented text, whose
//! every value and key starts a line of its own, so the keys keep the request's order.

/// The field each line of `pretty` (the output of [`crate::snapshot::pretty`]) holds:
/// `None` for a line that closes a block and for the outer braces.
pub fn of_lines(pretty: &str) -> Vec<Option<String>> {
    // The path of each open block, and for a list the index of its next item.
    let mut open: Vec<(String, Option<usize>)> = Vec::new();
    let mut out = Vec::new();
    for line in pretty.lines() {
        let t = line.trim();
        let t = t.strip_suffix(',').unwrap_or(t);
        if t == "}" || t == "]" {
            open.pop();
            out.push(None);
            continue;
        }
        let (path, value) = match open.last_mut() {
            None => (None, t),
            Some((parent, Some(next))) => {
                let p = format!("{parent}[{next}]");
                *next += 1;
                (Some(p), t)
            }
            Some((parent, None)) => match split_key(t) {
                Some((key, value)) if parent.is_empty() => (Some(key), value),
                Some((key, value)) => (Some(format!("{parent}.{key}")), value),
                None => (None, t),
            },
        };
        match value {
            "{" => open.push((path.clone().unwrap_or_default(), None)),
            "[" => open.push((path.clone().unwrap_or_default(), Some(0))),
            _ => {}
        }
        out.push(path);
    }
    out
}

/// `"key": value` → (key, value); the key's escapes read as JSON reads them.
fn split_key(t: &str) -> Option<(String, &str)> {
    let rest = t.strip_prefix('"')?;
    let mut esc = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if esc => esc = false,
            '\\' => esc = true,
            '"' => {
                let key: String = serde_json::from_str(&t[..i + 2]).ok()?;
                let value = rest[i + 1..].strip_prefix(": ")?;
                return Some((key, value));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::of_lines;
    use crate::snapshot::pretty;

    #[test]
    fn each_line_its_field() {
        let p = pretty(
            r#"{"a":1,"b":{"c":"x, \"y\": z","d":[]},"l":[{"e":2},{"e":3,"f":[4,5]}],"q\"k":{}}"#,
        );
        let got: Vec<(String, Option<String>)> = p
            .lines()
            .map(|l| l.trim().to_string())
            .zip(of_lines(&p))
            .collect();
        let want = [
            ("{", None),
            ("\"a\": 1,", Some("a")),
            ("\"b\": {", Some("b")),
            ("\"c\": \"x, \\\"y\\\": z\",", Some("b.c")),
            ("\"d\": []", Some("b.d")),
            ("},", None),
            ("\"l\": [", Some("l")),
            ("{", Some("l[0]")),
            ("\"e\": 2", Some("l[0].e")),
            ("},", None),
            ("{", Some("l[1]")),
            ("\"e\": 3,", Some("l[1].e")),
            ("\"f\": [", Some("l[1].f")),
            ("4,", Some("l[1].f[0]")),
            ("5", Some("l[1].f[1]")),
            ("]", None),
            ("}", None),
            ("],", None),
            ("\"q\\\"k\": {}", Some("q\"k")),
            ("}", None),
        ];
        let want: Vec<(String, Option<String>)> = want
            .iter()
            .map(|(l, f)| (l.to_string(), f.map(str::to_string)))
            .collect();
        assert_eq!(got, want);
    }
}
