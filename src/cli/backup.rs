//! `bondmap backup`: a whole copy of a state file, safe while `sync` runs.

use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The state database (SQLite) to copy.
    #[arg(long, default_value = "bondmap.db")]
    pub state: PathBuf,
    /// The new file to write (never an existing one).
    pub out: PathBuf,
}

pub fn run(a: &Args) -> u8 {
    match crate::store::backup::backup(&a.state, &a.out) {
        Ok(r) => {
            println!(
                "backed up {} ({} orders, {} bytes) to {}",
                a.state.display(),
                r.orders,
                r.bytes,
                a.out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
