//! `cargo xtask ci`: provision, lint, test; stops at the first failing step.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use crate::process::{self, cargo};
use crate::step::step;
use crate::test_env::TestEnv;

/// Flags of `cargo xtask ci`.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    /// Run `cargo fmt --check` and clippy (off with `--no-lint`).
    pub lint: bool,
}

pub fn run(root: &Path, options: &Options) -> Result<()> {
    let start = Instant::now();
    let test_env = TestEnv::provision(root)?;
    if options.lint {
        step("fmt", || {
            process::run(cargo().current_dir(root).args(["fmt", "--all", "--check"]))
        })?;
        step("clippy", || {
            process::run(cargo().current_dir(root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
    }
    step("tests", || {
        let mut command = cargo();
        command.current_dir(root).envs(test_env.vars());
        if has_nextest() {
            command.args([
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ]);
        } else {
            eprintln!("cargo-nextest not found: falling back to cargo test");
            command.args(["test", "--workspace", "--locked"]);
        }
        process::run(&mut command)
    })?;
    eprintln!(
        "\nci: all steps passed ({:.1}s)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn has_nextest() -> bool {
    process::succeeds(cargo().args(["nextest", "--version"]))
}
