//! Indents compact request JSON for people, copying every key, string and number as written.

/// Indents compact JSON text two spaces a level without reordering keys or re-escaping
/// strings (a parsed `serde_json::Value` would sort keys and could re-escape text).
pub fn pretty(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let (mut in_str, mut esc) = (false, false);
    let newline = |out: &mut String, d: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(d));
    };
    let chars: Vec<char> = json.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                depth += 1;
                if !matches!(chars.get(i + 1), Some('}' | ']')) {
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                let empty = i > 0 && matches!(chars.get(i - 1), Some('{' | '['));
                if !empty {
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pretty;

    #[test]
    fn keeps_key_order_and_strings_as_written() {
        let got = pretty(r#"{"b":1,"a":["x, y: {z}",[]],"c":{}}"#);
        assert_eq!(
            got,
            "{\n  \"b\": 1,\n  \"a\": [\n    \"x, y: {z}\",\n    []\n  ],\n  \"c\": {}\n}"
        );
    }

    #[test]
    fn an_escaped_quote_does_not_end_the_string() {
        assert_eq!(pretty(r#"["a\",b"]"#), "[\n  \"a\\\",b\"\n]");
    }
}
