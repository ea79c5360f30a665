//! `bondmap schema`: contracts derived from the shipped ones.

use crate::repo::{bundled, derive, display_name, fs};
use std::io::Write;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Clone, Debug)]
pub enum What {
    /// Cainiao's delivery order contract with every amount in fen counted in yuan (to the
    /// fen), for a warehouse that counts yuan: `target` it, and `check` asks for each
    /// conversion.
    MoneyInYuan {
        /// The contract to derive from (default: the bundled
        /// schemas/cainiao_deliveryorder_create.schema.json).
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
    },
}

pub fn run(a: &Args) -> u8 {
    match &a.what {
        What::MoneyInYuan { from } => {
            let (text, shown) = match from {
                Some(p) => match fs::read_regular_text(p, fs::MAX_TEXT_BYTES) {
                    Ok(t) => (t, display_name(p)),
                    Err(e) => {
                        eprintln!("error: cannot read {}: {e}", display_name(p));
                        return 2;
                    }
                },
                None => {
                    let rel = "schemas/cainiao_deliveryorder_create.schema.json";
                    match bundled::lookup(&bundled::root().join(rel)) {
                        Some(Ok(t)) => (t.to_string(), format!("base:{rel}")),
                        _ => {
                            eprintln!("error: the bundled base has no {rel}");
                            return 2;
                        }
                    }
                }
            };
            let v: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: {shown} is not valid JSON: {e}");
                    return 2;
                }
            };
            let text = match serde_json::to_string_pretty(&derive::money_in_yuan(&v, &shown)) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            // A closed stdout (`| head`) ends the command, as in `map`.
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{text}") {
                Ok(()) => 0,
                Err(_) => 2,
            }
        }
    }
}
