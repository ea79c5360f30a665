//! The one HTTP server of bondmap: every endpoint it serves (the Cainiao callback,
//! `/healthz`, `/metrics`, both simulators) is an [`axum::Router`] behind the same
//! hardened door, [`Server`].
//!
//! The door, one connection at a time ([`Limits`] holds the numbers):
//! - at most `max_connections` open in all and `max_per_peer` from one address; one more
//!   is answered a ready-made 503 and closed, without a task or a buffer of its own;
//! - one deadline for the whole request, head and body, from the moment it is accepted:
//!   a client trickling bytes (a header line every second) is answered 408 when it
//!   passes, however busy it keeps the socket;
//! - the head is read by bondmap (at most `max_head` bytes, `max_headers` lines) before
//!   hyper parses it; the body only with a `Content-Length` (a chunked body, or a POST
//!   without one, is 411), at most `max_body` (more is 413 before a byte of it is read);
//!   a malformed or doubled `Content-Length` is hyper's 400, never read as 0;
//! - one request per connection (`Connection: close`): the deadline never has to be
//!   restarted for a second request, and an idle keep-alive holds nothing;
//! - the router sees a request whose body is already whole in memory, with the peer's
//!   address as an extension ([`Peer`]); it must answer within `answer_timeout`.
//!
//! The server runs its own tokio runtime (two worker threads), so its callers stay
//! synchronous; handlers that block (SQLite, a simulator's latency) go through
//! [`blocking`].

mod conn;
mod flights;
mod limits;
mod reply;
mod server;

pub use conn::{Arrived, Peer};
pub use flights::{most_in_any_second, Flights};
pub use limits::{Limits, Refusal};
pub use reply::{blocking, every_path, Reply};
pub use server::Server;
