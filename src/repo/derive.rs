//! Contracts derived from a shipped one (`bondmap schema`): a warehouse that counts money
//! in yuan takes Cainiao's contract with every amount in fen made an amount in yuan to
//! the fen, so that `check` then asks for the conversions.

use serde_json::Value;

/// The contract `v` with every field of `x-unit: fen` counted in yuan: a number (to the
/// fen: `x-decimal: N18,2`, Cainiao's decimal of two places), its description saying
/// 元 for 分; the title saying where it comes from.
pub fn money_in_yuan(v: &Value, from: &str) -> Value {
    let mut out = to_yuan(v);
    if let Some(o) = out.as_object_mut() {
        let title = o
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("a contract");
        let title = format!(
            "{title}, money in yuan (derived by `bondmap schema money-in-yuan` from {from})"
        );
        o.insert("title".into(), Value::String(title));
    }
    out
}

fn to_yuan(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut out: serde_json::Map<String, Value> =
                o.iter().map(|(k, v)| (k.clone(), to_yuan(v))).collect();
            if o.get("x-unit").and_then(Value::as_str) == Some("fen") {
                out.insert("x-unit".into(), "yuan".into());
                out.insert("type".into(), "number".into());
                out.insert("x-decimal".into(), "N18,2".into());
                if let Some(Value::String(d)) = out.get_mut("description") {
                    *d = d.replace("单位“分”", "单位“元”");
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(to_yuan).collect()),
        other => other.clone(),
    }
}
