fn main() -> std::process::ExitCode {
    bondmap::cli::main()
}
