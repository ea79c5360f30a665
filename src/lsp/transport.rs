//! Content-Length framed JSON-RPC on a byte stream. lsp-server's own stdio transport
//! ends its reader on the first malformed message; this reader answers that message
//! and goes on, so an editor's (or anyone's) bad message never stops the server.

use lsp_server::Message;
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{self, Receiver};

/// What the reader thread hands the server loop.
pub enum Incoming {
    Message(Message),
    /// A frame that is not a JSON-RPC message (bad header, bad JSON, not UTF-8).
    Malformed(String),
}

/// Reads messages on a thread of its own until the end of input or `exit`.
pub fn spawn_reader(mut input: impl BufRead + Send + 'static) -> Receiver<Incoming> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || loop {
        let item = match Message::read(&mut input) {
            Ok(Some(m)) => {
                let exit = matches!(&m, Message::Notification(n) if n.method == "exit");
                if tx.send(Incoming::Message(m)).is_err() || exit {
                    return;
                }
                continue;
            }
            Ok(None) => return,
            // The frame (or the header line) that was bad is consumed: reading on
            // finds the next one.
            Err(e) if e.kind() == io::ErrorKind::InvalidData => Incoming::Malformed(e.to_string()),
            Err(_) => return,
        };
        if tx.send(item).is_err() {
            return;
        }
    });
    rx
}

/// Writes one message, framed.
pub fn write(out: &mut impl Write, msg: &Message) -> io::Result<()> {
    msg.write(out)
}

/// The JSON-RPC answer to a message that could not be read: a parse error with a null id.
pub fn write_parse_error(out: &mut impl Write, why: &str) -> io::Result<()> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32700, "message": format!("cannot read the message: {why}") },
    })
    .to_string();
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    out.flush()
}
