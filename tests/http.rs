//! The one HTTP server (`bondmap::http`) against hostile clients on loopback: slow
//! connections from one address cannot starve the callback, connections over the caps
//! are turned away at once, one deadline covers head and body, and what reaches the
//! router is whole.

mod common;

use bondmap::callback::{CallbackConfig, Notice, Receiver, Sink};
use bondmap::gateway::{data_digest, Secret};
use bondmap::http::{Limits, Peer, Server};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "slow-conn-secret";

#[derive(Default)]
struct MemSink {
    orders: Mutex<Vec<String>>,
}

impl Sink for MemSink {
    fn record(&self, n: &Notice) -> Result<(), String> {
        let id = n.order_code().unwrap_or("").to_string();
        self.orders.lock().unwrap().push(id);
        Ok(())
    }
}

/// A connection to `to` from the loopback address `from` (127.0.0.2 is another peer to
/// the server, on the same machine).
fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4()?;
        s.bind(format!("{from}:0").parse().unwrap())?;
        let c = s.connect(to).await?;
        let c = c.into_std()?;
        c.set_nonblocking(false)?;
        Ok(c)
    })
}

fn notice_form(order: &str) -> String {
    let li = format!(r#"{{"orderCode":"{order}","mailNo":"SF1","logisticsCode":"SF"}}"#);
    form_urlencoded::Serializer::new(String::new())
        .append_pair("logistic_provider_id", "CP")
        .append_pair("msg_type", "CONSIGN_ORDER_NOTIFY")
        .append_pair("logistics_interface", &li)
        .append_pair("data_digest", &data_digest(&li, SECRET))
        .finish()
}

/// Posts `body` from 127.0.0.1 by hand (no client pool): the status and the answer.
fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[test]
fn three_hundred_slow_connections_from_one_address_do_not_starve_the_callback() {
    let sink = Arc::new(MemSink::default());
    let r = Receiver::start(
        "127.0.0.1:0".parse().unwrap(),
        CallbackConfig::new(Secret::new(SECRET)),
        sink.clone(),
    )
    .unwrap();
    let addr = r.addr();
    // 300 connections from 127.0.0.2, each sending its request a byte every 2 s.
    let request = b"POST /cainiao/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
    let mut slow: Vec<TcpStream> = (0..300)
        .filter_map(|_| connect_from("127.0.0.2", addr).ok())
        .collect();
    assert_eq!(slow.len(), 300, "could not open the slow connections");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let trickler = std::thread::spawn(move || {
        let mut at = 0;
        let mut open = 0;
        while !flag.load(std::sync::atomic::Ordering::SeqCst) && at < request.len() {
            open = 0;
            for c in &mut slow {
                if c.write_all(&request[at..at + 1]).is_ok() {
                    open += 1;
                }
            }
            at += 1;
            for _ in 0..20 {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        open
    });
    // Meanwhile a well-behaved sender is answered within 1 s, every time.
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..6 {
        let order = format!("P{i:03}");
        let t = Instant::now();
        let (code, text) = post(addr, "/cainiao/callback", &notice_form(&order));
        let took = t.elapsed();
        assert_eq!(code, 200, "{text}");
        assert!(text.contains(r#""success":"true""#), "{text}");
        assert!(took < Duration::from_secs(1), "answered in {took:?}");
        assert!(sink.orders.lock().unwrap().contains(&order));
        std::thread::sleep(Duration::from_millis(700));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let still_open = trickler.join().unwrap();
    // The slow ones held what one peer may hold (32), and no more: the rest were closed.
    assert_eq!(still_open, 32, "slow connections held");
}

/// A server with `limits` answering `/` with the peer's address and the body's length.
fn echo(limits: Limits) -> Server {
    let app = axum::Router::new().route(
        "/",
        axum::routing::any(
            |axum::Extension(Peer(peer)): axum::Extension<Peer>, body: axum::body::Bytes| async move {
                format!("{} {}", peer.ip(), body.len())
            },
        ),
    );
    Server::start("127.0.0.1:0".parse().unwrap(), app, limits).unwrap()
}

/// What comes back on `c` within `wait`: `None` when nothing does (still held open).
fn answer_within(c: &mut TcpStream, wait: Duration) -> Option<String> {
    c.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 512];
    match c.read(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        // Reset: closed at once, as good as a 503.
        Err(_) => Some(String::new()),
    }
}

#[test]
fn connections_over_the_per_peer_and_total_caps_are_turned_away_at_once() {
    let s = echo(Limits {
        max_per_peer: 4,
        max_connections: 6,
        ..Limits::default()
    });
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|_| connect_from("127.0.0.2", s.addr()).unwrap())
        .collect();
    // The fifth from the same address: a 503 (or a close) at once, nothing waited for.
    let mut fifth = connect_from("127.0.0.2", s.addr()).unwrap();
    let t = Instant::now();
    let got = answer_within(&mut fifth, Duration::from_secs(5)).expect("no answer");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 503"), "{got}");
    // The first four are still held, unanswered.
    for c in &mut idle {
        assert_eq!(answer_within(c, Duration::from_millis(50)), None);
    }
    // Another address still gets in, up to the total.
    let mut two: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(s.addr()).unwrap())
        .collect();
    let mut seventh = TcpStream::connect(s.addr()).unwrap();
    let got = answer_within(&mut seventh, Duration::from_secs(5)).expect("no answer");
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 503"), "{got}");
    // One of them served normally: its place is free again afterwards.
    let c = &mut two[0];
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let got = answer_within(c, Duration::from_secs(5)).unwrap();
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.ends_with("127.0.0.1 0"), "{got}");
    drop(two);
    std::thread::sleep(Duration::from_millis(100));
    let (code, text) = post(s.addr(), "/", "abc");
    assert_eq!(code, 200, "{text}");
    assert!(text.ends_with("127.0.0.1 3"), "{text}");
    drop(idle);
}

#[test]
fn one_deadline_covers_the_head_and_the_body() {
    let s = echo(Limits {
        request_deadline: Duration::from_secs(1),
        ..Limits::default()
    });
    // A whole head at once, then the body a byte every 200 ms: never silent, still late.
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n")
        .unwrap();
    let mut w = c.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(200));
            if w.write_all(b"x").is_err() {
                break;
            }
        }
    });
    let t = Instant::now();
    c.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    writer.join().unwrap();
}

#[test]
fn bodies_are_bounded_and_framed_by_content_length_only() {
    let s = echo(Limits {
        max_body: 100,
        ..Limits::default()
    });
    let raw = |bytes: &[u8]| {
        let mut c = TcpStream::connect(s.addr()).unwrap();
        c.write_all(bytes).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        out
    };
    let cases: &[(&[u8], &str)] = &[
        (b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", "413"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400"),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "400",
        ),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "200"),
        (b"POST / HTTP/1.1\r\n\r\n", "411"),
        (
            b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "411",
        ),
        (b"GET / HTTP/1.1\r\n\r\n", "200"),
        (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
            "400",
        ),
    ];
    for (bytes, want) in cases {
        let out = raw(bytes);
        assert!(
            out.starts_with(&format!("HTTP/1.1 {want}")),
            "{}: {out}",
            String::from_utf8_lossy(bytes)
        );
    }
    // Shorter than declared, then the client stops sending.
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.write_all(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
        .unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    // One request per connection: the answer says so.
    let out = raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        out.to_ascii_lowercase().contains("connection: close"),
        "{out}"
    );
}

#[test]
fn a_stopped_server_refuses_connections_and_its_port_can_be_bound_again() {
    let s = echo(Limits::default());
    let addr = s.addr();
    assert_eq!(post(addr, "/", "x").0, 200);
    s.stop();
    assert!(TcpStream::connect(addr).is_err());
    let again = Server::start(
        addr,
        axum::Router::new().route("/", axum::routing::get(|| async { "again" })),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(again.addr(), addr);
}
