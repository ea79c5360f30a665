//! JSON-RPC 2.0 messages as the language server reads and writes them: a request (with
//! an id), a notification (without), and the answers it sends. The id is kept as the
//! editor sent it (a number or a string) and given back unchanged.

use serde_json::{json, Value};

/// JSON-RPC and LSP error codes the server answers with.
pub mod code {
    pub const PARSE_ERROR: i32 = -32700;
    pub const INVALID_REQUEST: i32 = -32600;
    pub const METHOD_NOT_FOUND: i32 = -32601;
    pub const INVALID_PARAMS: i32 = -32602;
    pub const INTERNAL_ERROR: i32 = -32603;
    pub const SERVER_NOT_INITIALIZED: i32 = -32002;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// A number or a string.
    pub id: Value,
    pub method: String,
    pub params: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub method: String,
    pub params: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request(Request),
    Notification(Notification),
    /// An answer to a request (this server sends none, so it is dropped).
    Response,
}

impl Message {
    /// The message a frame's body holds; why not, when it is none.
    pub fn parse(body: &[u8]) -> Result<Message, String> {
        let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let Value::Object(mut o) = v else {
            return Err("a message is a JSON object".into());
        };
        let params = o.remove("params").unwrap_or(Value::Null);
        let id = o.remove("id");
        match (o.remove("method"), id) {
            (Some(Value::String(method)), None) => {
                Ok(Message::Notification(Notification { method, params }))
            }
            (Some(Value::String(method)), Some(id @ (Value::Number(_) | Value::String(_)))) => {
                Ok(Message::Request(Request { id, method, params }))
            }
            (Some(Value::String(_)), Some(_)) => {
                Err("a request's id is a number or a string".into())
            }
            (Some(_), _) => Err("a method is a string".into()),
            (None, Some(_)) if o.contains_key("result") || o.contains_key("error") => {
                Ok(Message::Response)
            }
            (None, _) => Err("a message has a method, or is an answer".into()),
        }
    }
}

/// The answer to request `id`.
pub fn ok(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// The error answer to request `id` (`null` for a message that could not be read).
pub fn err(id: &Value, code: i32, message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}})
}

/// A notification the server sends.
pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_notifications_answers_and_what_is_none_of_them() {
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":"a7","method":"x","params":[1]}"#);
        assert_eq!(
            m,
            Ok(Message::Request(Request {
                id: json!("a7"),
                method: "x".into(),
                params: json!([1])
            }))
        );
        let m = Message::parse(br#"{"jsonrpc":"2.0","method":"exit"}"#);
        assert_eq!(
            m,
            Ok(Message::Notification(Notification {
                method: "exit".into(),
                params: Value::Null
            }))
        );
        assert_eq!(
            Message::parse(br#"{"id":3,"result":null}"#),
            Ok(Message::Response)
        );
        for bad in [
            &b"{not json"[..],
            b"[1,2]",
            br#"{"id":{},"method":"x"}"#,
            br#"{"method":7}"#,
            br#"{"id":1}"#,
        ] {
            assert!(
                Message::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
