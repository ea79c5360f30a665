//! Personal data kept out of every message bondmap stores or prints. Which fields are
//! personal comes from the schemas' `x-pii` (the source schema for the order, the target
//! schema for the request); one masking rule by kind ([`mask`], as RED's own
//! desensitising) serves `explain` and run-time errors ([`show`] of a value whose kind
//! [`kind_of`] finds) and the [`Redactor`], made from one order, that masks each of its
//! personal values wherever it occurs in a message (a gateway answer echoing the
//! receiver's address, a mapping error quoting a phone).

use crate::program::{BodyOp, FieldCheck, Global, Loop, Node, Program};
use crate::schema::Pii;
pub use crate::schema::PiiPaths;
use crate::value::Val;
use serde_json::Value;

/// A name keeps its first character.
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

/// A phone keeps its first 3 and last 4 digits.
pub fn mask_phone(s: &str) -> String {
    keep(s, 3, 4)
}

/// An ID number keeps its first 4 and last 3 characters.
pub fn mask_id(s: &str) -> String {
    keep(s, 4, 3)
}

/// Characters of an address kept (about the province); the rest is one run of stars, so
/// not even its length is told.
const ADDRESS_HEAD: usize = 3;

pub fn mask_address(s: &str) -> String {
    let n = s.chars().count();
    if n <= ADDRESS_HEAD {
        return "*".repeat(n);
    }
    let head: String = s.chars().take(ADDRESS_HEAD).collect();
    format!("{head}***")
}

/// A text from outside or from a person (a customs reason, a resolve's note) with every
/// run of 7 or more digits masked, an ID number's trailing `X` included: as an ID number
/// from 15 characters on, as a phone from 11, else all but two digits at each end. What the order's [`Redactor`] cannot know
/// (another person's phone, a number typed in a note) is masked by its shape; a name can
/// only be masked by the redactor.
pub fn mask_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i < chars.len() && matches!(chars[i], 'X' | 'x') && i - start >= 14 {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        match i - start {
            0..=6 => out.push_str(&run),
            7..=10 => out.push_str(&keep(&run, 2, 2)),
            11..=14 => out.push_str(&mask_phone(&run)),
            _ => out.push_str(&mask_id(&run)),
        }
    }
    out
}

/// The one rule: each kind of personal value masked its own way. A photo link shows
/// nothing, not even its length.
pub fn mask(kind: Pii, s: &str) -> String {
    match kind {
        Pii::Name => mask_name(s),
        Pii::Phone => mask_phone(s),
        Pii::IdNumber => mask_id(s),
        Pii::Address => mask_address(s),
        Pii::Photo => "***".to_string(),
    }
}

/// The kind of personal data the value of `n`, an expression of `p`, comes from, if any:
/// a field of the order its source schema marks `x-pii`, or a personal target field read
/// back through `out.`.
pub fn kind_of(p: &Program, n: &Node) -> Option<Pii> {
    let o = n.origin.as_deref()?;
    if let Some(k) = p.source_pii.kind_of_path(o) {
        return Some(k);
    }
    if p.personal_out.iter().any(|t| **t == *o) {
        // The target field is `x-pii`; a name it shares with none is masked as a name.
        let kind = RequestPii::of(p).kind_of_path(o);
        return Some(kind.unwrap_or(Pii::Name));
    }
    None
}

/// A value for a person to read; a personal value masked by its kind ([`mask`]), a
/// number as well as a string (an ID number or phone may come as a JSON number).
pub fn show(v: &Val, pii: Option<Pii>) -> String {
    match v {
        Val::Str(s) => match pii {
            Some(kind) => format!("{:?}", mask(kind, s)),
            None => format!("{s:?}"),
        },
        Val::Num(a) => {
            let n = a.value.normalize().to_string();
            let n = match pii {
                Some(kind) => mask(kind, &n),
                None => n,
            };
            match a.unit {
                Some(u) => format!("{n} {u}"),
                None => n,
            }
        }
        Val::Null => "absent".into(),
        Val::Bool(b) => b.to_string(),
        Val::List(l) => {
            let mut parts: Vec<String> = l.iter().take(6).map(|x| show(x, pii)).collect();
            if l.len() > 6 {
                parts.push("…".into());
            }
            format!("[{}]", parts.join(", "))
        }
        Val::Json(Value::Array(a)) => format!("[{} items]", a.len()),
        Val::Json(_) | Val::Obj(_) => "{…}".into(),
    }
}

/// The request fields the target schema marks `x-pii`, found once per program, as
/// display paths (`a.b`, `list[].c`).
pub type RequestPii = PiiPaths;

impl PiiPaths {
    pub fn of(program: &Program) -> RequestPii {
        fn check(c: &FieldCheck, out: &mut Vec<(Vec<String>, Pii)>) {
            if let Some(k) = c.pii {
                out.push((c.name.split('.').map(str::to_string).collect(), k));
            }
        }
        fn walk_loop(l: &Loop, out: &mut Vec<(Vec<String>, Pii)>) {
            check(&l.check, out);
            for op in &l.body {
                match op {
                    BodyOp::Field(_, _, c) => check(c, out),
                    BodyOp::Loop(_, l) => walk_loop(l, out),
                    BodyOp::Let(..) | BodyOp::Require(..) => {}
                }
            }
        }
        let mut fields = Vec::new();
        for g in &program.globals {
            match g {
                Global::Field(_, c) => check(c, &mut fields),
                Global::Loop(l) => walk_loop(l, &mut fields),
                Global::Let(_) => {}
            }
        }
        PiiPaths { fields }
    }
}

/// The personal values of one order, each with its mask.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// (clear, masked, its kind), longest first so that a value inside another is not
    /// masked first.
    values: Vec<(String, String, Pii)>,
}

impl Redactor {
    /// Every personal value of a RED order (as the shipped RED order schema marks them).
    pub fn from_document(doc: &Value) -> Redactor {
        Redactor::default().with_values(PiiPaths::red(), doc)
    }

    /// Adds the personal values a run wrote into its request, each with its kind (as
    /// `crate::run::request` tells them: the request is never read back for them).
    pub fn with_personal(mut self, values: &[(Pii, String)]) -> Redactor {
        for (kind, s) in values {
            self.add(*kind, s);
        }
        self.sort();
        self
    }

    /// Adds the values at the personal paths `pii` of document `v`.
    pub fn with_values(mut self, pii: &PiiPaths, v: &Value) -> Redactor {
        for (path, kind) in &pii.fields {
            let mut found = Vec::new();
            collect(v, path, &mut found);
            for s in found {
                self.add(*kind, s);
            }
        }
        self.sort();
        self
    }

    fn add(&mut self, kind: Pii, s: &str) {
        let s = s.trim();
        if s.is_empty() || self.values.iter().any(|(c, _, _)| c == s) {
            return;
        }
        self.values.push((s.to_string(), mask(kind, s), kind));
    }

    fn sort(&mut self) {
        self.values.sort_by_key(|v| std::cmp::Reverse(v.0.len()));
    }

    /// `msg` with every occurrence of every personal value of the order masked.
    pub fn redact(&self, msg: &str) -> String {
        let mut out = msg.to_string();
        for (clear, masked, _) in &self.values {
            if out.contains(clear.as_str()) {
                out = out.replace(clear.as_str(), masked);
            }
        }
        out
    }

    /// `msg` masked to be kept at rest (the request the state keeps for the operator's
    /// console): as [`Redactor::redact`], but an address is `***` whole, since the head
    /// its mask keeps is a street's name when the address holds no province.
    pub fn redact_at_rest(&self, msg: &str) -> String {
        let mut out = msg.to_string();
        for (clear, masked, kind) in &self.values {
            if out.contains(clear.as_str()) {
                let m = if *kind == Pii::Address { "***" } else { masked };
                out = out.replace(clear.as_str(), m);
            }
        }
        out
    }
}

/// The strings at a display path (`list[]` walks every element).
fn collect<'v>(v: &'v Value, path: &[String], out: &mut Vec<&'v str>) {
    let Some((first, rest)) = path.split_first() else {
        if let Some(s) = v.as_str() {
            out.push(s);
        }
        return;
    };
    match first.strip_suffix("[]") {
        Some(name) => {
            if let Some(items) = v.get(name).and_then(Value::as_array) {
                for it in items {
                    collect(it, rest, out);
                }
            }
        }
        None => {
            if let Some(x) = v.get(first.as_str()) {
                collect(x, rest, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_of_digits_are_masked_by_their_shape() {
        assert_eq!(
            mask_digits("订购人 33010619900307123X 电话13800138000, Code:13121"),
            "订购人 3301***********23X 电话138****8000, Code:13121"
        );
        assert_eq!(mask_digits("no digits here"), "no digits here");
        assert_eq!(mask_digits("1234567"), "12***67");
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_id("330106199003071234"), "3301***********234");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_address("浙江省杭州市西湖区古翠路 1 号"), "浙江省***");
        assert_eq!(mask(Pii::Photo, "https://img.example/id/front.jpg"), "***");
        assert_eq!(mask(Pii::Name, "王"), "王*");
        assert_eq!(
            mask(Pii::IdNumber, "33010619900307123X"),
            "3301***********23X"
        );
        assert_eq!(mask(Pii::Address, "古翠路"), "***");
        assert_eq!(mask(Pii::Phone, ""), "");
    }

    /// The shipped RED order schema parses, and marks each personal field of an order.
    #[test]
    fn red_schema_is_read() {
        let red = PiiPaths::red();
        for (path, kind) in [
            ("receiver.receiverInfos[].receiverName", Pii::Name),
            ("receiver.receiverInfos[].receiverPhone", Pii::Phone),
            ("receiver.receiverInfos[].receiverAddress", Pii::Address),
            ("declare.orderDeclareInfos[].idName", Pii::Name),
            ("declare.orderDeclareInfos[].idNumber", Pii::IdNumber),
            ("declare.orderDeclareInfos[].linkPhone", Pii::Phone),
            ("declare.orderDeclareInfos[].frontUrl", Pii::Photo),
            ("declare.orderDeclareInfos[].backUrl", Pii::Photo),
        ] {
            let segs: Vec<String> = path.split('.').map(str::to_string).collect();
            assert!(
                red.fields.contains(&(segs, kind)),
                "{path}: {:?}",
                red.fields
            );
        }
        assert_eq!(red.fields.len(), 8, "{:?}", red.fields);
        assert_eq!(red.kind_of_path("buyer.idNumber"), Some(Pii::IdNumber));
        assert_eq!(
            red.kind_of_path("$.receiver.receiverInfos[0].receiverPhone"),
            Some(Pii::Phone)
        );
        assert_eq!(
            red.kind_of_path("$.declare.orderDeclareInfos[*].idName"),
            Some(Pii::Name)
        );
        assert_eq!(red.kind_of_path("receiver.receiverCityName"), None);
        assert_eq!(red.kind_of_path("$.detail.orderId"), None);
    }

    /// The redactor made before routing masks the ID photo links too (as the schema marks
    /// them, not a list in code).
    #[test]
    fn redactor_takes_the_red_schemas_fields() {
        let doc = json!({"declare": {"orderDeclareInfos": [{"idName": "李四",
            "frontUrl": "https://img.example/f.jpg", "backUrl": "https://img.example/b.jpg"}]},
            "detail": {"shopName": "旗舰店"}});
        let out = Redactor::from_document(&doc)
            .redact("李四 https://img.example/f.jpg https://img.example/b.jpg 旗舰店");
        assert_eq!(out, "李* *** *** 旗舰店");
    }

    #[test]
    fn every_occurrence_of_every_personal_value_is_masked() {
        let doc = json!({
            "receiver": {"receiverInfos": [{"receiverName": "张三", "receiverPhone": "13800138001",
                "receiverAddress": "浙江省杭州市西湖区古翠路 1 号"}]},
            "declare": {"orderDeclareInfos": [{"idName": "李四", "idNumber": "330106199003071234",
                "linkPhone": "13900139002"}]}
        });
        let r = Redactor::from_document(&doc);
        let msg = "收件人张三 13800138001 地址浙江省杭州市西湖区古翠路 1 号 不符; 订购人李四 330106199003071234 / 13900139002; 张三";
        let out = r.redact(msg);
        for v in [
            "张三",
            "13800138001",
            "古翠路",
            "李四",
            "330106199003071234",
            "13900139002",
        ] {
            assert!(!out.contains(v), "{v} in {out}");
        }
        assert!(out.contains("张*") && out.contains("138****8001"), "{out}");
    }

    #[test]
    fn at_rest_an_address_keeps_nothing_and_the_rest_is_masked_as_shown() {
        let doc = json!({"receiver": {"receiverInfos": [{"receiverName": "张三",
            "receiverPhone": "13800138001", "receiverAddress": "古翠路55号2幢301室"}]}});
        let r = Redactor::from_document(&doc);
        let msg = r#"{"name":"张三","mobile":"13800138001","address":"古翠路55号2幢301室"}"#;
        assert_eq!(
            r.redact(msg),
            r#"{"name":"张*","mobile":"138****8001","address":"古翠路***"}"#
        );
        assert_eq!(
            r.redact_at_rest(msg),
            r#"{"name":"张*","mobile":"138****8001","address":"***"}"#
        );
    }

    #[test]
    fn personal_values_of_a_request_are_masked_by_their_kind() {
        let doc = json!({"receiver": {"receiverInfos": [{"receiverName": "张三"}]}});
        let r = Redactor::from_document(&doc).with_personal(&[
            (Pii::Name, "王五".into()),
            (Pii::Phone, "X1".into()),
            (Pii::Phone, " X2 ".into()),
            // Already known from the order: kept with the order's kind.
            (Pii::Phone, "张三".into()),
            (Pii::Name, "".into()),
        ]);
        assert_eq!(r.redact("王五 X1 X2 张三"), "王* ** ** 张*");
    }

    #[test]
    fn shown_values_are_masked_by_kind() {
        use crate::money::{Amount, Unit};
        let phone = Val::Str("13800138000".into());
        assert_eq!(show(&phone, Some(Pii::Phone)), "\"138****8000\"");
        assert_eq!(show(&phone, None), "\"13800138000\"");
        let id = Val::Num(Amount::new(330106199003071234u64.into(), None));
        assert_eq!(show(&id, Some(Pii::IdNumber)), "3301***********234");
        let fen = Val::Num(Amount::new(1250.into(), Some(Unit::Fen)));
        assert_eq!(show(&fen, None), "1250 fen");
        assert_eq!(show(&Val::Null, Some(Pii::Name)), "absent");
    }
}
