//! The server: a listener, its own runtime, and the accept loop that counts connections
//! in all and per peer before anything is read.

use super::conn::{refusal_bytes, serve};
use super::limits::Limits;
use axum::http::StatusCode;
use axum::Router;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A server in the background, on its own runtime; it stops when dropped.
pub struct Server {
    addr: SocketAddr,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
}

impl Server {
    /// Listens on `addr` (port 0: any free port) and serves `router` within `limits`
    /// until stopped. The listener is bound before this returns: an address in use is
    /// this call's error.
    pub fn start(addr: SocketAddr, router: Router, limits: Limits) -> io::Result<Server> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bondmap-http")
            .enable_io()
            .enable_time()
            .build()?;
        let listener = {
            let _inside = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        runtime.spawn(accept_loop(listener, router, Arc::new(limits)));
        Ok(Server {
            addr,
            runtime: Mutex::new(Some(runtime)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving: the listener is closed and every connection dropped before this
    /// returns (a handler already running on the blocking pool finishes on its own).
    pub fn stop(&self) {
        let runtime = self.runtime.lock().map(|mut r| r.take());
        if let Ok(Some(rt)) = runtime {
            if tokio::runtime::Handle::try_current().is_ok() {
                // Inside another runtime a blocking wait is not allowed.
                rt.shutdown_background();
            } else {
                rt.shutdown_timeout(Duration::from_secs(1));
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Connections open now, in all and by peer address.
#[derive(Default)]
struct Open {
    by_peer: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection: counted until dropped.
struct Admitted {
    open: Arc<Open>,
    ip: IpAddr,
}

impl Open {
    /// Counts a connection from `ip` in, unless that would pass a cap.
    fn admit(self: &Arc<Open>, ip: IpAddr, limits: &Limits) -> Option<Admitted> {
        let mut m = self.by_peer.lock().ok()?;
        let all: usize = m.values().sum();
        let mine = m.get(&ip).copied().unwrap_or(0);
        if all >= limits.max_connections || mine >= limits.max_per_peer {
            return None;
        }
        m.insert(ip, mine + 1);
        Some(Admitted {
            open: self.clone(),
            ip,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut m) = self.open.by_peer.lock() {
            if let Some(n) = m.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.ip);
                }
            }
        }
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, router: Router, limits: Arc<Limits>) {
    let open = Arc::new(Open::default());
    // Made once: a connection over a cap costs one non-blocking write and a close.
    let busy = refusal_bytes(
        &limits,
        StatusCode::SERVICE_UNAVAILABLE,
        "busy: send it again",
    );
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => {
                // Out of file descriptors, say: wait a little instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let ip = peer.ip().to_canonical();
        match open.admit(ip, &limits) {
            Some(admitted) => {
                tokio::spawn(serve(
                    stream,
                    peer,
                    router.clone(),
                    limits.clone(),
                    admitted,
                ));
            }
            None => {
                // Not logged one by one: a flood would flood the log too.
                tracing::debug!(%peer, "connection over a cap: 503");
                let _ = stream.try_write(&busy);
                drop(stream);
            }
        }
    }
}
