//! `bondmap lsp`: the language server for editors, over stdin/stdout.

/// Serve an editor over stdio (Language Server Protocol): the checker's diagnostics as
/// you type, hover, completion, go to definition, formatting, document symbols.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Accepted for editors that pass it (VS Code's client does); stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: &Args) -> u8 {
    crate::lsp::run()
}
