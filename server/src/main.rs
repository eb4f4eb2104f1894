//! `tessera`: see `tessera --help`.

/// mimalloc rather than glibc malloc: page rendering allocates many small short-lived values,
/// and glibc's malloc/free took about a quarter of the CPU of a page under load (BENCHMARKS.md).
/// With the `override` feature (server/Cargo.toml) the C code in the process, SQLite above all,
/// allocates from it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::run()
}
