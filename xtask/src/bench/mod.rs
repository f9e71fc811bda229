//! `cargo xtask bench [http|import|upvotes|search|search-quality|search-http|embed]`: the
//! benchmarks of issue 2 (no argument runs them all), and issue 6's search latency in process,
//! judged search quality set, search over HTTP and embedding throughput against PyTorch (only
//! when named).
//!
//! Each benchmark prints a markdown table to stdout; `BENCHMARKS.md` keeps the published ones.
//! A new benchmark is a file here, a [`Which`] variant and a line in [`run`].

mod embed;
mod http;
mod search_http;
mod server;
mod upvotes;
mod wrk;

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::process::{self, cargo};
use crate::step::step;

/// Which benchmarks to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    /// Page throughput against a hello-world axum app, with `wrk`.
    Http,
    /// `cargo bench -p paperboy --bench import`.
    Import,
    /// Upvotes through the API under 64 connections, with an exact final count.
    Upvotes,
    /// `cargo bench -p paperboy --bench search`: search latency in process, with the
    /// allocator setting of the `paperboy` binary. Not part of `all`: it needs
    /// `PAPERBOY_BENCH_DB` and `PAPERBOY_MODEL_DIR` (see BENCHMARKS.md).
    Search,
    /// `cargo bench -p paperboy --bench search_quality`: the judged query set of issue #6. Not
    /// part of `all`: it needs `PAPERBOY_BENCH_DB` and `PAPERBOY_MODEL_DIR` (see BENCHMARKS.md).
    SearchQuality,
    /// Search over HTTP with 115k papers: single-client latency and serve RSS. Not part of `all`:
    /// it needs `PAPERBOY_BENCH_DB` and `PAPERBOY_MODEL_DIR` (see BENCHMARKS.md).
    SearchHttp,
    /// Embedding throughput side by side with PyTorch (sentence-transformers) on the same
    /// weights. Not part of `all`: it installs PyTorch into a venv (several GB).
    Embed,
}

impl Which {
    pub fn parse(name: Option<&str>) -> Result<Self> {
        Ok(match name {
            None | Some("all") => Self::All,
            Some("http") => Self::Http,
            Some("import") => Self::Import,
            Some("upvotes") => Self::Upvotes,
            Some("search") => Self::Search,
            Some("search-quality") => Self::SearchQuality,
            Some("search-http") => Self::SearchHttp,
            Some("embed") => Self::Embed,
            Some(other) => bail!(
                "unknown benchmark `{other}` (known: http, import, upvotes, search, \
                 search-quality, search-http, embed)"
            ),
        })
    }
}

pub fn run(root: &Path, which: Which) -> Result<()> {
    if matches!(which, Which::All | Which::Import) {
        step("bench: import", || import(root))?;
    }
    if matches!(which, Which::All | Which::Http) {
        step("bench: http", || http::run(root))?;
    }
    if matches!(which, Which::All | Which::Upvotes) {
        step("bench: upvotes", || upvotes::run(root))?;
    }
    if which == Which::Search {
        step("bench: search in process", || {
            let (var, value) = BINARY_ALLOCATOR;
            process::run(
                nested_cargo()
                    .current_dir(root)
                    .args(["bench", "-p", "paperboy", "--bench", "search"])
                    .env(var, value),
            )
        })?;
    }
    if which == Which::SearchQuality {
        step("bench: search quality", || {
            process::run(nested_cargo().current_dir(root).args([
                "bench",
                "-p",
                "paperboy",
                "--bench",
                "search_quality",
            ]))
        })?;
    }
    if which == Which::SearchHttp {
        step("bench: search over http", || search_http::run(root))?;
    }
    if which == Which::Embed {
        step("bench: embedding against PyTorch", || embed::run(root))?;
    }
    Ok(())
}

/// The allocator setting the `paperboy` binary makes for itself (`mallopt` in main.rs), as
/// glibc's variable, read when a process starts: benches that embed or search in process run
/// with it, so they measure what `serve` and `paperboy embed` do.
pub const BINARY_ALLOCATOR: (&str, &str) = ("MALLOC_MMAP_THRESHOLD_", "131072");

/// The import benchmark is a cargo bench of the paperboy crate (it calls the library directly).
fn import(root: &Path) -> Result<()> {
    process::run(
        nested_cargo()
            .current_dir(root)
            .args(["bench", "-p", "paperboy", "--bench", "import"]),
    )
}

/// `cargo` without the variables `cargo run` set for xtask itself. Some build scripts (ring's)
/// rerun when `CARGO_MANIFEST_DIR` changes, so passing xtask's on would rebuild the release
/// dependencies each time a benchmark and a plain `cargo build --release` take turns.
pub fn nested_cargo() -> Command {
    const SET_BY_CARGO_RUN: &[&str] = &[
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    let mut command = cargo();
    for (name, _) in env::vars_os() {
        let text = name.to_string_lossy();
        if SET_BY_CARGO_RUN.contains(&text.as_ref()) || text.starts_with("CARGO_PKG_") {
            command.env_remove(&name);
        }
    }
    command
}

/// Builds the release `paperboy` binary and returns its path.
pub fn release_paperboy(root: &Path) -> Result<PathBuf> {
    step("build the release binary", || {
        process::run(nested_cargo().current_dir(root).args([
            "build",
            "--release",
            "-p",
            "paperboy",
            "--bin",
            "paperboy",
        ]))
    })?;
    Ok(http::target_dir(root).join("release").join("paperboy"))
}

/// The load average (1, 5 and 15 minutes): benchmarks on a shared machine say how busy it was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
