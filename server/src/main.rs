//! `tessera`: see `tessera --help`.

fn main() -> std::process::ExitCode {
    server::cli::run()
}
