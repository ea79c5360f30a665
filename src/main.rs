// Orders are parsed into JSON trees and dropped one after another: a faster allocator pays.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    bondmap::cli::main()
}
