//! The HTTP side of the callback: `POST /cainiao/callback` on a std TCP listener, request
//! heads parsed by httparse, one request per connection, each on its own thread (at most
//! [`CallbackConfig::max_connections`] at once).
//!
//! Why not a server crate: tiny_http 0.12 drains an unread body into a buffer as long as
//! the declared `Content-Length`, so one hostile header costs that much memory; hyper
//! would bring an async runtime for one endpoint. Here the head is bounded (16 KiB), a
//! body over [`MAX_BODY`] is refused before it is read, a body without `Content-Length`
//! is refused (411), every read and write has a timeout, and a whole request must arrive
//! within [`CallbackConfig::request_deadline`]. The body is never logged.

use super::{handle, Answer, CallbackConfig, Sink, MAX_BODY};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The path Cainiao is told to post to.
pub const PATH: &str = "/cainiao/callback";

const MAX_HEAD: usize = 16 << 10;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The receiver, serving in the background until [`Receiver::stop`] or drop.
pub struct Receiver {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    cfg: CallbackConfig,
    sink: Arc<dyn Sink>,
    active: AtomicUsize,
}

impl Receiver {
    /// Listens on `addr` (port 0: any free port) and serves until stopped.
    pub fn start(
        addr: SocketAddr,
        cfg: CallbackConfig,
        sink: Arc<dyn Sink>,
    ) -> std::io::Result<Receiver> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            cfg,
            sink,
            active: AtomicUsize::new(0),
        });
        let flag = stop.clone();
        let accept = std::thread::Builder::new()
            .name("callback-accept".into())
            .spawn(move || accept_loop(listener, flag, shared))?;
        tracing::info!(%addr, path = PATH, "callback receiver listening");
        Ok(Receiver {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to register with Cainiao (as seen from this machine).
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// Stops accepting; requests being answered finish on their own threads.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag; wait for it only if it was woken.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(h) = self.accept.take() {
            if woken {
                let _ = h.join();
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, stop: Arc<AtomicBool>, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut conn) = conn else {
            // Out of file descriptors, say: wait a little instead of spinning.
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let max = shared.cfg.max_connections.max(1);
        if shared.active.fetch_add(1, Ordering::SeqCst) >= max {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
            let _ = reply(&mut conn, 503, &Answer::fail("S07", "busy: send it again"));
            continue;
        }
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("callback-conn".into())
            .spawn(move || {
                serve(conn, &s);
                s.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Answers one request on `conn`, then closes it.
fn serve(mut conn: TcpStream, shared: &Shared) {
    if conn.set_read_timeout(Some(IO_TIMEOUT)).is_err()
        || conn.set_write_timeout(Some(IO_TIMEOUT)).is_err()
    {
        return;
    }
    let deadline = Instant::now() + shared.cfg.request_deadline;
    let (status, answer) = match read_request(&mut conn, deadline) {
        Ok(body) => (200, handle(&body, &shared.cfg, shared.sink.as_ref())),
        Err(Refused { status, answer }) => {
            tracing::warn!(status, error = %answer.error_msg, "callback request refused");
            (status, answer)
        }
    };
    let _ = reply(&mut conn, status, &answer);
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

struct Refused {
    status: u16,
    answer: Answer,
}

fn refuse(status: u16, code: &'static str, msg: impl Into<String>) -> Refused {
    Refused {
        status,
        answer: Answer::fail(code, msg),
    }
}

/// Reads the head and, for `POST /cainiao/callback` with an acceptable length, the body.
fn read_request(conn: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, Refused> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let (head_len, path_ok, post, length) = loop {
        let n = read_by(conn, &mut chunk, deadline)?;
        if n == 0 {
            return Err(refuse(400, "S01", "the connection closed mid-request"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let path = req.path.unwrap_or("");
                let path_ok = path.split('?').next() == Some(PATH);
                let post = req.method == Some("POST");
                break (len, path_ok, post, body_length(req.headers)?);
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Err(refuse(431, "S01", "the request head is too long"))
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(refuse(431, "S01", "too many request headers"))
            }
            Err(e) => return Err(refuse(400, "S01", format!("not an HTTP request: {e}"))),
        }
    };
    if !path_ok {
        return Err(refuse(404, "S01", format!("no such path: post to {PATH}")));
    }
    if !post {
        return Err(refuse(405, "S01", format!("{PATH} takes POST only")));
    }
    let length = length.ok_or_else(|| {
        refuse(
            411,
            "S01",
            "a Content-Length is needed (a chunked body is not taken)",
        )
    })?;
    if length > MAX_BODY {
        return Err(refuse(
            413,
            "S05",
            format!("the body is over {MAX_BODY} bytes"),
        ));
    }
    let mut body = buf.split_off(head_len);
    if body.len() > length {
        // A second request behind this one: one request per connection.
        return Err(refuse(400, "S01", "more bytes than Content-Length"));
    }
    body.reserve_exact(length - body.len());
    while body.len() < length {
        let want = (length - body.len()).min(chunk.len());
        let n = read_by(conn, &mut chunk[..want], deadline)?;
        if n == 0 {
            return Err(refuse(
                400,
                "S01",
                "the body is shorter than Content-Length",
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(body)
}

/// One read that gives up at `deadline` (and after [`IO_TIMEOUT`] of silence).
fn read_by(conn: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<usize, Refused> {
    let late = || refuse(408, "S01", "the request was not read in time");
    let left = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(late)?;
    conn.set_read_timeout(Some(left.min(IO_TIMEOUT)))
        .map_err(|_| late())?;
    conn.read(buf).map_err(|_| late())
}

/// The declared body length: `None` when there is none; chunked bodies and conflicting
/// or unreadable lengths are refused.
fn body_length(headers: &[httparse::Header]) -> Result<Option<usize>, Refused> {
    let mut length: Option<usize> = None;
    for h in headers {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(refuse(
                411,
                "S01",
                "a Content-Length is needed (a chunked body is not taken)",
            ));
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| refuse(400, "S01", "Content-Length is not a number"))?;
            // A number too long for usize is surely over the limit.
            let n = v.parse::<usize>().unwrap_or(usize::MAX);
            if length.is_some_and(|l| l != n) {
                return Err(refuse(400, "S01", "two different Content-Lengths"));
            }
            length = Some(n);
        }
    }
    Ok(length)
}

fn reply(conn: &mut TcpStream, status: u16, answer: &Answer) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let body = answer.to_json();
    write!(
        conn,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}
