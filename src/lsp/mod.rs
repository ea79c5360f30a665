//! `bondmap lsp`: a Language Server Protocol server over stdio, on the checker the CLI uses.
//!
//! Synchronous like the rest of bondmap: one reader thread frames the messages
//! ([`transport`]), one loop answers them in order and runs the debounced checks
//! ([`server`]). Every call into the engine is in [`engine`].

mod completion;
mod contract;
mod cursor;
mod definition;
mod diagnostics;
mod documents;
mod engine;
mod formatting;
mod functions;
mod hover;
mod message;
mod scope;
mod server;
mod symbols;
mod transport;
mod worker;

/// Serves the editor on stdin/stdout until `exit` or the end of input. The exit code is
/// 0 after a `shutdown`, 1 otherwise (as the protocol asks).
pub fn run() -> u8 {
    let input = std::io::BufReader::new(std::io::stdin());
    server::serve(input, std::io::stdout())
}
