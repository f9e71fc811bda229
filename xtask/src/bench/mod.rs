//! `cargo xtask bench [http|import]`: the benchmarks of issue 2 (no argument runs them all).
//!
//! Each benchmark prints a markdown table to stdout; `BENCHMARKS.md` keeps the published ones.
//! A new benchmark is a file here, a [`Which`] variant and a line in [`run`].

mod http;
mod server;
mod upvotes;
mod wrk;

use std::path::Path;

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
}

impl Which {
    pub fn parse(name: Option<&str>) -> Result<Self> {
        Ok(match name {
            None | Some("all") => Self::All,
            Some("http") => Self::Http,
            Some("import") => Self::Import,
            Some("upvotes") => Self::Upvotes,
            Some(other) => bail!("unknown benchmark `{other}` (known: http, import, upvotes)"),
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
    Ok(())
}

/// The import benchmark is a cargo bench of the paperboy crate (it calls the library directly).
fn import(root: &Path) -> Result<()> {
    process::run(
        cargo()
            .current_dir(root)
            .args(["bench", "-p", "paperboy", "--bench", "import"]),
    )
}
