//! The `paperboy` binary: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc, not glibc's malloc: glibc gives each busy thread its own arena and keeps what they
/// free, which cost a server with 115k vectors about 100 MB (BENCHMARKS.md, serve RSS).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = paperboy::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("paperboy=info,warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    paperboy::cli::run(cli).await
}
