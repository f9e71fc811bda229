//! The `paperboy` binary: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc, not glibc's malloc: glibc gives each busy thread its own arena and keeps what they
/// free, which cost a server with 115k vectors about 100 MB (BENCHMARKS.md, serve RSS).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    pin_glibc_mmap_threshold();
    let cli = match paperboy::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return paperboy::cli::usage_error(&e),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("paperboy=info,warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    paperboy::cli::run(cli).await
}

/// SQLite and ONNX Runtime are C and C++: they allocate through glibc's malloc, not mimalloc.
/// glibc raises its mmap threshold each time a large mapped block is freed (up to 32 MiB), and
/// loading the embedding model frees several, so the buffers that follow are carved from heaps
/// that never shrink. Pinning the threshold at glibc's default start value (128 KiB) keeps large
/// buffers mapped and returned when freed: with 115k vectors loaded, serve's memory after
/// start-up fell from about 400 to 341 MB (BENCHMARKS.md, serve RSS).
fn pin_glibc_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 128 * 1024;
        // SAFETY: mallopt only sets an allocator parameter; it is thread-safe and has no
        // preconditions. A zero return (parameter refused) leaves glibc's default, which is safe.
        #[allow(unsafe_code)]
        let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD) };
    }
}
