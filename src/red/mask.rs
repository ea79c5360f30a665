//! Masking personal data for logs and messages, as RED's own desensitising does: a name
//! keeps its first character, a phone its first 3 and last 4 digits, an ID number its
//! first 4 and last 3 characters.

pub fn mask_name(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!("{first}{}", "*".repeat(c.count().max(1))),
        None => String::new(),
    }
}

fn keep(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

pub fn mask_phone(s: &str) -> String {
    keep(s, 3, 4)
}

pub fn mask_id(s: &str) -> String {
    keep(s, 4, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_id("330106199003071234"), "3301***********234");
        assert_eq!(mask_phone("123"), "***");
    }
}
