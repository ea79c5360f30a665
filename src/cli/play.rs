//! `bondmap play`: the mapping playground on loopback.

use crate::play::{router, Site};
use std::net::SocketAddr;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The mapping root: the mapping files offered, and every file they name, are below it.
    #[arg(default_value = "mappings", value_name = "MAPPING_ROOT")]
    pub root: PathBuf,
    /// The address to serve on. Loopback by default; another address only when given
    /// here (anyone who reaches it can read the mapping root, and save into it).
    #[arg(long, default_value = "127.0.0.1:8791", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The example orders to pick from (*.json).
    #[arg(long, default_value = "examples/orders", value_name = "DIR")]
    pub examples: PathBuf,
}

pub fn run(a: &Args) -> u8 {
    let site = match Site::new(&a.root, &a.examples) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if !a.examples.is_dir() {
        eprintln!(
            "warning: no example orders at {} (paste an order into the page, or give --examples DIR)",
            a.examples.display()
        );
    }
    if !a.listen.ip().is_loopback() {
        eprintln!(
            "warning: serving on {}, not loopback: whoever reaches it can read every mapping below {} and save over them",
            a.listen,
            site.root.display()
        );
    }
    match serve(a.listen, router(site)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// Serves `app` until the process ends, printing its address once it listens: the one
/// hardened server of every page bondmap serves, with room for a mapping and an order of
/// a few MB in a request (the router caps them itself).
fn serve(addr: SocketAddr, app: axum::Router) -> std::io::Result<()> {
    let limits = crate::http::Limits {
        max_body: crate::play::MAX_BODY_BYTES,
        ..crate::http::Limits::default()
    };
    let server = crate::http::Server::start(addr, app, limits)?;
    // The first line of stdout is the page's address (tests and scripts read it).
    println!("playground: http://{}/", server.addr());
    eprintln!("open http://{}/ in a browser; Ctrl-C stops", server.addr());
    loop {
        std::thread::park();
    }
}
