//! One connection: its head read and judged by bondmap within the deadline, then parsed
//! by hyper, its body read within the same deadline, answered by the router, closed.

use super::limits::Limits;
use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};
use tower::ServiceExt;

/// The address of the peer a request came from (behind a proxy: the proxy's), an
/// extension of every request the router sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

/// When the request's head had arrived whole, an extension of every request the router
/// sees: what a simulator counts as the time of a call (the handler may run later, when
/// the machine is busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrived(pub std::time::Instant);

/// How long a refusal the server writes itself may take to go out, and how long the
/// connection is then drained so the client reads it before the close.
const REFUSAL_WRITE: Duration = Duration::from_secs(5);
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 64 << 10;

/// Serves one connection; `admitted` (its place in the server's counts) is held until
/// it is closed.
pub(super) async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Arc<Limits>,
    admitted: impl Send + 'static,
) {
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + limits.request_deadline;
    let head = match timeout_at(deadline, read_head(&mut stream, &limits)).await {
        Ok(Head::Whole(bytes)) => bytes,
        Ok(Head::Refused(status, reason)) => return refuse(stream, &limits, status, reason).await,
        // Closed or broken before a whole head: nobody to answer when nothing came.
        Ok(Head::Cut(0)) => return,
        Ok(Head::Cut(_)) => {
            let reason = "the connection closed mid-request";
            return refuse(stream, &limits, StatusCode::BAD_REQUEST, reason).await;
        }
        Err(_) => {
            let reason = "the request was not read in time";
            return refuse(stream, &limits, StatusCode::REQUEST_TIMEOUT, reason).await;
        }
    };
    let arrived = Arrived(std::time::Instant::now());
    let io = TokioIo::new(Rewind {
        head,
        at: 0,
        stream,
    });
    let (max_headers, until) = (limits.max_headers, deadline + limits.answer_timeout);
    let svc = hyper::service::service_fn(move |req| {
        answer(
            req,
            router.clone(),
            limits.clone(),
            deadline,
            (peer, arrived),
        )
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(false)
        // A client that sends its request and shuts its side still gets the answer.
        .half_close(true)
        // The head was measured already; hyper's own bound is a second guard.
        .max_buf_size(16 << 10)
        .max_headers(max_headers);
    let _ = timeout_at(until, http.serve_connection(io, svc)).await;
    drop(admitted);
}

/// What reading the head came to.
enum Head {
    /// A whole head (and perhaps the start of the body), or bytes that are not one,
    /// which hyper then refuses (400, 431) as it parses them.
    Whole(Vec<u8>),
    /// A head refused by its framing or size.
    Refused(StatusCode, &'static str),
    /// The peer closed (or the read failed) after this many bytes.
    Cut(usize),
}

async fn read_head(stream: &mut TcpStream, limits: &Limits) -> Head {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Head::Cut(buf.len()),
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        match judge(&buf, limits) {
            None => {}
            Some(Ok(())) => return Head::Whole(buf),
            Some(Err((status, reason))) => return Head::Refused(status, reason),
        }
    }
}

/// `None` while the head is not whole yet; then whether it may go on to hyper.
fn judge(buf: &[u8], limits: &Limits) -> Option<Result<(), (StatusCode, &'static str)>> {
    let too_long = (
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "the request head is too long",
    );
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers.max(1)];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) if buf.len() < limits.max_head => None,
        Ok(httparse::Status::Partial) => Some(Err(too_long)),
        Ok(httparse::Status::Complete(len)) if len > limits.max_head => Some(Err(too_long)),
        Ok(httparse::Status::Complete(_)) => Some(framing(&req, limits)),
        Err(httparse::Error::TooManyHeaders) => Some(Err((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "too many request headers",
        ))),
        // Not HTTP: hyper says so (400) as it parses the same bytes.
        Err(_) => Some(Ok(())),
    }
}

/// The body's framing: a `Content-Length` within the cap, or no body at all.
fn framing(req: &httparse::Request, limits: &Limits) -> Result<(), (StatusCode, &'static str)> {
    let needs_length = (
        StatusCode::LENGTH_REQUIRED,
        "a Content-Length is needed (a chunked body is not taken)",
    );
    let mut length: Option<u64> = None;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(needs_length);
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .ok_or((StatusCode::BAD_REQUEST, "Content-Length is not a number"))?;
            // A number too long for u64 is surely over the cap.
            let n = v.parse::<u64>().unwrap_or(u64::MAX);
            if length.is_some_and(|l| l != n) {
                return Err((StatusCode::BAD_REQUEST, "two different Content-Lengths"));
            }
            length = Some(n);
        }
    }
    match length {
        Some(n) if n > limits.max_body as u64 => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is over the size taken here",
        )),
        Some(_) => Ok(()),
        None if matches!(req.method, Some("POST" | "PUT" | "PATCH")) => Err(needs_length),
        None => Ok(()),
    }
}

/// The body read within the deadline, then the router's answer.
async fn answer(
    req: Request<Incoming>,
    router: Router,
    limits: Arc<Limits>,
    deadline: Instant,
    (peer, arrived): (SocketAddr, Arrived),
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match timeout_at(deadline, Limited::new(body, limits.max_body).collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            let reason = "the body is over the size taken here";
            return Ok(refusal(&limits, StatusCode::PAYLOAD_TOO_LARGE, reason));
        }
        Ok(Err(_)) => {
            let reason = "the body is shorter than Content-Length";
            return Ok(refusal(&limits, StatusCode::BAD_REQUEST, reason));
        }
        Err(_) => {
            let reason = "the request was not read in time";
            return Ok(refusal(&limits, StatusCode::REQUEST_TIMEOUT, reason));
        }
    };
    let mut req = Request::from_parts(parts, Body::from(body));
    req.extensions_mut().insert(Peer(peer));
    req.extensions_mut().insert(arrived);
    match router.oneshot(req).await {
        Ok(r) => Ok(r),
        Err(never) => match never {},
    }
}

fn refusal(limits: &Limits, status: StatusCode, reason: &str) -> Response<Body> {
    tracing::warn!(status = status.as_u16(), reason, "request refused");
    let (content_type, body) = (limits.refusal)(status, reason);
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    r
}

/// A whole HTTP/1.1 answer for a refusal the server writes itself (before hyper).
pub(super) fn refusal_bytes(limits: &Limits, status: StatusCode, reason: &str) -> Vec<u8> {
    let (content_type, body) = (limits.refusal)(status, reason);
    format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes()
}

/// Writes a refusal, shuts the sending side, then reads (and drops) what the client
/// still sends for a moment, so the close does not reset the answer away.
async fn refuse(mut stream: TcpStream, limits: &Limits, status: StatusCode, reason: &str) {
    tracing::warn!(status = status.as_u16(), reason, "request refused");
    let bytes = refusal_bytes(limits, status, reason);
    let sent = timeout(REFUSAL_WRITE, async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        return;
    }
    let _ = timeout(LINGER, async {
        let mut sink = [0u8; 4096];
        let mut drained = 0;
        while drained < LINGER_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

/// The connection with the bytes already read from it put back in front.
struct Rewind {
    head: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.head.len() {
            let n = buf.remaining().min(this.head.len() - this.at);
            buf.put_slice(&this.head[this.at..this.at + n]);
            this.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
