//! The little HTTP/1.1 the local simulators (RED API, Cainiao gateway) speak: one request
//! per connection, on loopback only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Connections being answered now and the most at any one time: the concurrency a
/// client really reached, as both simulators report it.
#[derive(Debug, Default)]
pub struct Flights {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Flights {
    /// Runs `f` counted as one connection in flight.
    pub fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        let out = f();
        self.now.fetch_sub(1, Ordering::SeqCst);
        out
    }
    /// The most connections answered at one time so far.
    pub fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// A server in the background; it stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Serves on 127.0.0.1:`port` (0: any free port), each connection on its own thread.
    pub fn start(
        port: u16,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> std::io::Result<Server> {
        let stop = Arc::new(AtomicBool::new(false));
        let addr = serve(port, stop.clone(), handle)?;
        Ok(Server { addr, stop })
    }

    /// The same, each connection counted in `flights`.
    pub fn start_counted(
        port: u16,
        flights: Arc<Flights>,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> std::io::Result<Server> {
        Server::start(port, move |conn| flights.during(|| handle(conn)))
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves until `stop` is set (and one more connection wakes the loop).
fn serve(
    port: u16,
    stop: Arc<AtomicBool>,
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let addr = listener.local_addr()?;
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let h = handle.clone();
            std::thread::spawn(move || h(conn));
        }
    });
    Ok(addr)
}

/// Reads one request and returns its body.
pub fn read_body(conn: &TcpStream) -> std::io::Result<Vec<u8>> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len.min(16 << 20)];
    reader.read_exact(&mut body)?;
    Ok(body)
}

pub fn respond(conn: &mut TcpStream, status: u16, ctype: &str, body: &str) -> std::io::Result<()> {
    respond_with(conn, status, &[], ctype, body)
}

/// An answer with extra headers (`Location`, `Retry-After`…), for simulators and tests.
pub fn respond_with(
    conn: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    ctype: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(
        conn,
        "{head}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

/// The most of `times` (in any order) that fall in one window [t, t + 1 s): what a rate
/// limit of "N calls a second" counts.
pub fn most_in_any_second(times: &[std::time::Instant]) -> usize {
    let mut t = times.to_vec();
    t.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..t.len() {
        while t[end] - t[start] >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flights_count_the_most_at_once() {
        let f = Flights::default();
        f.during(|| f.during(|| ()));
        f.during(|| ());
        assert_eq!(f.most(), 2);
        assert_eq!(f.now.load(Ordering::SeqCst), 0);
    }
    use std::time::Instant;

    #[test]
    fn the_busiest_second_is_counted_over_sliding_windows() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // 3 in [0, 1 s), but 4 in [900 ms, 1.9 s).
        let times = [
            at(1850),
            at(0),
            at(500),
            at(900),
            at(1000),
            at(1200),
            at(2900),
        ];
        assert_eq!(most_in_any_second(&times), 4);
        assert_eq!(most_in_any_second(&[]), 0);
        // A window is half-open: two calls exactly a second apart are in different ones.
        assert_eq!(most_in_any_second(&[at(0), at(1000)]), 1);
    }
}
