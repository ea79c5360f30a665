//! The JSON writer: built values and strings as JSON text, numbers without trailing
//! zeros, strings escaped in one scan.

use crate::value::Val;
use rust_decimal::Decimal;
use std::fmt::Write as _;

/// Writes a built value as JSON; absent fields of objects are left out.
pub fn write_json(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(a) => write_num(out, a.value),
        Val::Str(s) => write_str(out, s),
        Val::Json(j) => out.push_str(&j.to_string()),
        Val::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, x);
            }
            out.push(']');
        }
        Val::Obj(o) => {
            out.push('{');
            let mut first = true;
            for (k, x) in o.iter() {
                if x.is_null() {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(out, k);
                out.push(':');
                write_json(out, x);
            }
            out.push('}');
        }
    }
}

/// A decimal as JSON: whole numbers (most amounts) printed as integers directly.
fn write_num(out: &mut String, d: Decimal) {
    if d.scale() == 0 {
        // i64 formats much faster than i128, and every amount fits.
        let mut buf = itoa::Buffer::new();
        out.push_str(match i64::try_from(d.mantissa()) {
            Ok(m) => buf.format(m),
            Err(_) => buf.format(d.mantissa()),
        });
    } else {
        let _ = write!(out, "{}", d.normalize());
    }
}

/// Whether a JSON string needs escapes (a control character, `"` or `\\`), eight bytes
/// at a time: every request writes some forty strings.
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` is zero (or, with `n`, below n ≤ 128): the classic bit trick, exact.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        if below(x, 0x20) | below(x ^ (ONES * b'"' as u64), 1) | below(x ^ (ONES * b'\\' as u64), 1)
            != 0
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escape: one scan, one copy.
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{needs_escape, write_num, write_str};

    #[test]
    fn strings_are_escaped_like_json() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\nd\u{1}中");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}中");
    }

    #[test]
    fn the_escape_scan_finds_every_byte_that_needs_one() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    let want = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&v), want, "byte {b} at {at} of {len}");
                }
            }
        }
        assert!(!needs_escape("杭州市西湖区 文三路 1 号".as_bytes()));
    }

    #[test]
    fn numbers_are_written_as_json_without_trailing_zeros() {
        let cases = [
            ("0", "0"),
            ("-5", "-5"),
            ("1999", "1999"),
            ("12.50", "12.5"),
            ("-0.10", "-0.1"),
            ("12345678901234567890123", "12345678901234567890123"),
        ];
        for (d, want) in cases {
            let mut s = String::new();
            write_num(&mut s, d.parse().unwrap());
            assert_eq!(s, want, "{d}");
        }
    }
}
