//! Content-Length framed JSON-RPC on a byte stream, read with bounds: the editor (or
//! anyone writing to the server's stdin) is not trusted with the server's memory.
//!
//! - A header line longer than [`MAX_HEADER_LINE`] is refused without being kept.
//! - A frame whose Content-Length is over [`MAX_FRAME`] is refused before anything is
//!   allocated for it; its body is skipped.
//! - After a line that is no header (or a frame with no length) the reader looks for
//!   the next `Content-Length:` header and goes on from there; so does a skip when a
//!   header turns up inside the body it skips (a length that lied, or that no body ever
//!   follows, loses no message sent after it).
//!
//! rust-analyzer's `lsp-server` allocates whatever Content-Length says and loses its
//! place after a bad header line; hence this reader.

use super::message::Message;
use serde_json::Value;
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

/// The largest frame read (a buffer of 8 MiB, JSON-escaped, fits).
pub const MAX_FRAME: u64 = 16 << 20;
/// The longest header line.
pub const MAX_HEADER_LINE: usize = 8 << 10;

/// What the reader hands on: a message, or a frame that is none (answered with an
/// error, then reading goes on).
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    Malformed(String),
}

/// Reads frames on a thread of its own until the end of input or `exit`, each sent as
/// `wrap(incoming)` on `tx`; at the end of input, `end`.
pub fn spawn_reader<E: Send + 'static>(
    input: impl BufRead + Send + 'static,
    tx: Sender<E>,
    wrap: fn(Incoming) -> E,
    end: E,
) {
    let read = move || {
        if read_all(input, &tx, wrap) {
            let _ = tx.send(end);
        }
    };
    // Named, so a profile tells the threads apart; without a thread there is no server.
    if std::thread::Builder::new()
        .name("lsp-read".into())
        .spawn(read)
        .is_err()
    {
        eprintln!("bondmap lsp: cannot start the reader thread");
    }
}

/// `true` when the input ended (not at `exit`, nor when the server is gone).
fn read_all<E>(input: impl BufRead, tx: &Sender<E>, wrap: fn(Incoming) -> E) -> bool {
    let mut frames = Frames::new(input);
    loop {
        let item = match frames.next_frame() {
            Ok(Some(Ok(body))) => match Message::parse(&body) {
                Ok(m) => {
                    let exit = matches!(&m, Message::Notification(n) if n.method == "exit");
                    if tx.send(wrap(Incoming::Message(m))).is_err() || exit {
                        return false;
                    }
                    continue;
                }
                Err(why) => Incoming::Malformed(why),
            },
            Ok(Some(Err(why))) => Incoming::Malformed(why),
            Ok(None) | Err(_) => return true,
        };
        if tx.send(wrap(item)).is_err() {
            return false;
        }
    }
}

/// Writes messages on a thread of its own, so that an editor slow to read never holds
/// up the server's loop. The writer ends when the editor is gone (a write fails); then
/// sending to it fails too.
pub struct Writer {
    tx: Sender<Value>,
    /// Told when every message sent has been written (the senders dropped).
    done: Receiver<()>,
}

/// How long the server, ending, waits for its last answers to be written.
const LAST_WRITES: Duration = Duration::from_secs(5);

impl Writer {
    pub fn spawn(mut out: impl Write + Send + 'static) -> Writer {
        let (tx, rx): (Sender<Value>, Receiver<Value>) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let write = move || {
            for m in rx {
                let body = m.to_string();
                let sent = write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())
                    .and_then(|()| out.flush());
                if sent.is_err() {
                    return;
                }
            }
            let _ = done_tx.send(());
        };
        // Without the thread the receiver is dropped: sending fails, the server ends.
        let _ = std::thread::Builder::new()
            .name("lsp-write".into())
            .spawn(write);
        Writer { tx, done }
    }

    /// `false` when the editor is gone.
    pub fn send(&self, m: Value) -> bool {
        self.tx.send(m).is_ok()
    }

    /// Waits (a while) until everything sent is written: the answers to `shutdown` and
    /// before are not lost when the process ends at `exit`.
    pub fn finish(self) {
        let Writer { tx, done } = self;
        drop(tx);
        let _ = done.recv_timeout(LAST_WRITES);
    }
}

/// Where the reader is between frames.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// At a frame's headers; `true`: its `Content-Length:` was just read by a scan (the
    /// rest of that line is the value).
    Headers(bool),
    /// Looking for the next `Content-Length:` header.
    Resync,
    /// In the body of a refused frame: so many bytes left to skip.
    Skip(u64),
}

/// How a scan of the stream stopped.
enum Stop {
    /// `Content-Length:` was read (the value follows).
    Header,
    Newline,
    /// The bytes it might skip are skipped.
    Budget,
    Eof,
}

/// How reading a line ended.
enum Line {
    Full,
    Eof,
    /// Longer than [`MAX_HEADER_LINE`]: skipped up to its `\n`, or up to a
    /// `Content-Length:` in it (`true`).
    TooLong(bool),
}

const HEADER: &[u8] = b"content-length:";

pub struct Frames<R> {
    input: R,
    state: State,
}

impl<R: BufRead> Frames<R> {
    pub fn new(input: R) -> Frames<R> {
        Frames {
            input,
            state: State::Headers(false),
        }
    }

    /// The next frame's body, or why the frame is refused; `None` at the end of input.
    pub fn next_frame(&mut self) -> io::Result<Option<Result<Vec<u8>, String>>> {
        let mut value_next = loop {
            match self.state {
                State::Headers(found) => break found,
                State::Resync => match self.scan(None, false)? {
                    Stop::Header => self.state = State::Headers(true),
                    Stop::Eof => return Ok(None),
                    Stop::Newline | Stop::Budget => {}
                },
                State::Skip(n) => match self.scan(Some(n), false)? {
                    // A header inside the body skipped: the length lied, a frame starts.
                    Stop::Header => self.state = State::Headers(true),
                    Stop::Budget => self.state = State::Headers(false),
                    Stop::Eof => return Ok(None),
                    Stop::Newline => {}
                },
            }
        };
        self.state = State::Headers(false);
        let mut length: Option<Result<u64, ()>> = None;
        let mut any = value_next;
        let mut line = Vec::new();
        loop {
            line.clear();
            match self.read_line(&mut line)? {
                Line::Full => {}
                Line::Eof => return Ok(None),
                Line::TooLong(found) => {
                    self.state = if found {
                        State::Headers(true)
                    } else {
                        State::Resync
                    };
                    return Ok(Some(Err(format!(
                        "a header line longer than {} KiB",
                        MAX_HEADER_LINE >> 10
                    ))));
                }
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            if value_next {
                value_next = false;
                length = Some(parse_length(text));
                continue;
            }
            if text.is_empty() {
                if any {
                    break;
                }
                // Blank lines between frames.
                continue;
            }
            any = true;
            match text.split_once(':') {
                Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                    length = Some(parse_length(value));
                }
                // Content-Type, or any other header: not needed.
                Some(_) => {}
                None => {
                    self.state = State::Resync;
                    return Ok(Some(Err(format!("`{}` is not a header", clip(text)))));
                }
            }
        }
        let n = match length {
            Some(Ok(n)) => n,
            Some(Err(())) => {
                self.state = State::Resync;
                return Ok(Some(Err("a Content-Length that is no length".into())));
            }
            None => {
                self.state = State::Resync;
                return Ok(Some(Err("a frame without Content-Length".into())));
            }
        };
        if n > MAX_FRAME {
            self.state = State::Skip(n);
            return Ok(Some(Err(format!(
                "a frame of {n} bytes (at most {} MiB are read)",
                MAX_FRAME >> 20
            ))));
        }
        // At most MAX_FRAME: only now is anything allocated for the body.
        let mut body = vec![0; n as usize];
        match self.input.read_exact(&mut body) {
            Ok(()) => Ok(Some(Ok(body))),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads one line (with its `\n`) into `line`, keeping at most [`MAX_HEADER_LINE`]
    /// bytes of it.
    fn read_line(&mut self, line: &mut Vec<u8>) -> io::Result<Line> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(Line::Eof);
            }
            let room = MAX_HEADER_LINE - line.len();
            match buf.iter().take(room).position(|&b| b == b'\n') {
                Some(i) => {
                    line.extend_from_slice(&buf[..=i]);
                    self.input.consume(i + 1);
                    return Ok(Line::Full);
                }
                None if buf.len() < room => {
                    let n = buf.len();
                    line.extend_from_slice(buf);
                    self.input.consume(n);
                }
                None => {
                    // Too long: nothing more of it is kept.
                    line.clear();
                    let found = matches!(self.scan(None, true)?, Stop::Header);
                    return Ok(Line::TooLong(found));
                }
            }
        }
    }

    /// Skips bytes until `Content-Length:` (any case) has been read, or a `\n` when
    /// `newline`, or `budget` bytes, or the end of input.
    fn scan(&mut self, budget: Option<u64>, newline: bool) -> io::Result<Stop> {
        let mut left = budget;
        let mut matched = 0usize;
        loop {
            if left == Some(0) {
                return Ok(Stop::Budget);
            }
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(Stop::Eof);
            }
            let n = left.map_or(buf.len(), |l| buf.len().min(l as usize));
            let mut stop = None;
            for (i, &b) in buf[..n].iter().enumerate() {
                if newline && b == b'\n' {
                    stop = Some((i + 1, Stop::Newline));
                    break;
                }
                let b = b.to_ascii_lowercase();
                // `c` stands only first in the header's name: a mismatch starts afresh.
                matched = if b == HEADER[matched] {
                    matched + 1
                } else {
                    usize::from(b == HEADER[0])
                };
                if matched == HEADER.len() {
                    stop = Some((i + 1, Stop::Header));
                    break;
                }
            }
            let used = stop.as_ref().map_or(n, |(i, _)| *i);
            self.input.consume(used);
            if let Some(l) = &mut left {
                *l -= used as u64;
            }
            if let Some((_, s)) = stop {
                return Ok(s);
            }
        }
    }
}

/// A Content-Length's value: a number, possibly too large for any frame (refused as
/// over the limit), or no number.
fn parse_length(v: &str) -> Result<u64, ()> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    Ok(v.parse::<u64>().unwrap_or(u64::MAX))
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// Every frame of `input`: the body's text, or `!` and why it was refused.
    fn read_all(input: Vec<u8>) -> Vec<String> {
        let mut f = Frames::new(std::io::BufReader::with_capacity(4096, &input[..]));
        let mut out = Vec::new();
        while let Some(r) = f.next_frame().unwrap() {
            out.push(match r {
                Ok(b) => String::from_utf8(b).unwrap(),
                Err(why) => format!("!{why}"),
            });
        }
        out
    }

    fn refused(got: &[String], n: usize) -> bool {
        got.iter().filter(|s| s.starts_with('!')).count() == n
    }

    #[test]
    fn frames_in_a_row_with_other_headers_and_blank_lines_between() {
        let input = format!(
            "{}\r\n{}Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{{}}",
            frame("{\"a\":1}"),
            frame("[]")
        );
        assert_eq!(read_all(input.into_bytes()), ["{\"a\":1}", "[]", "{}"]);
    }

    #[test]
    fn a_bad_header_line_is_refused_and_the_next_frame_read() {
        let input = format!("Garbage-Without-Colon\r\n{}", frame("ok"));
        let got = read_all(input.into_bytes());
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("is not a header"), "{got:?}");
        assert_eq!(got[1], "ok");
        // Inside a frame's headers, and with the body that followed skipped.
        let input = format!(
            "Content-Length: 4\r\nno colon here\r\n\r\nbody{}",
            frame("ok")
        );
        let got = read_all(input.into_bytes());
        assert_eq!(got.last().map(String::as_str), Some("ok"), "{got:?}");
        assert!(refused(&got, 1), "{got:?}");
    }

    #[test]
    fn a_length_over_the_limit_allocates_nothing_and_loses_no_later_frame() {
        // A length no body follows: the next frame's header ends the skip.
        for n in ["100000000000", "4000000000", "99999999999999999999999"] {
            let input = format!("Content-Length: {n}\r\n\r\n{}", frame("ok"));
            let got = read_all(input.into_bytes());
            assert_eq!(got.len(), 2, "{n}: {got:?}");
            assert!(got[0].contains("at most 16 MiB"), "{got:?}");
            assert_eq!(got[1], "ok");
        }
        // A body that is there (17 MiB of it) is skipped whole.
        let big = "x".repeat(17 << 20);
        let input = format!("{}{}", frame(&big), frame("ok"));
        assert_eq!(read_all(input.into_bytes()).len(), 2);
    }

    #[test]
    fn a_header_line_over_8_kib_is_not_kept_and_the_next_frame_is_read() {
        let long = "X".repeat(3 << 20);
        let input = format!("X-Long: {long}\r\n{}", frame("ok"));
        let got = read_all(input.into_bytes());
        assert_eq!(
            got.len(),
            2,
            "{:?}",
            got.iter().map(|s| s.len()).collect::<Vec<_>>()
        );
        assert!(got[0].contains("longer than 8 KiB"));
        assert_eq!(got[1], "ok");
        // With the next header on the same line.
        let input = format!("{long}{}", frame("ok"));
        assert_eq!(
            read_all(input.into_bytes()).last().map(String::as_str),
            Some("ok")
        );
        // A line of just under 8 KiB is a header like any other.
        let input = format!("X-Pad: {}\r\n{}", "p".repeat(8000), frame("ok"));
        assert_eq!(read_all(input.into_bytes()), ["ok"]);
    }

    #[test]
    fn no_length_or_no_number_is_refused_and_reading_goes_on() {
        for head in [
            "Content-Type: x\r\n\r\n{}",
            "Content-Length: -3\r\n\r\n",
            "Content-Length: 1e3\r\n\r\n",
        ] {
            let input = format!("{head}{}", frame("ok"));
            let got = read_all(input.into_bytes());
            assert_eq!(
                got.last().map(String::as_str),
                Some("ok"),
                "{head}: {got:?}"
            );
            assert!(refused(&got, 1), "{head}: {got:?}");
        }
        // The end of input inside a body or a header ends the frames.
        assert!(read_all(b"Content-Length: 10\r\n\r\nabc".to_vec()).is_empty());
        assert!(read_all(b"Content-Len".to_vec()).is_empty());
    }
}
