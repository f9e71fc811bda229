//! `cargo xtask`: the project's automation. `cargo xtask ci` is the test command.

mod apt;
mod ci;
mod process;
mod step;
mod test_env;
mod venv;

use std::env;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci [--no-lint]   provision the test environment, check formatting, run clippy and all tests
                   (--no-lint skips fmt and clippy)
  test-env         only provision the test environment, then print its `export` lines
  help             this text";

/// A task picked on the command line.
///
/// Extension point: benchmarks will be `Task::Bench { .. }`, parsed in [`Task::parse`] and run
/// from [`Task::run`] by a `bench` module of their own (they can reuse [`test_env::TestEnv`]).
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Ci(ci::Options),
    TestEnv,
    Help,
}

impl Task {
    fn parse(args: &[String]) -> Result<Self> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["ci", flags @ ..] => {
                let mut options = ci::Options { lint: true };
                for flag in flags {
                    match *flag {
                        "--no-lint" => options.lint = false,
                        other => bail!("unknown flag for `ci`: {other}"),
                    }
                }
                Ok(Self::Ci(options))
            }
            ["test-env"] => Ok(Self::TestEnv),
            [] | ["help" | "-h" | "--help"] => Ok(Self::Help),
            [other, ..] => bail!("unknown task or arguments: {other}"),
        }
    }

    fn run(self) -> Result<()> {
        let root = repo_root()?;
        match self {
            Self::Ci(options) => ci::run(&root, &options),
            Self::TestEnv => {
                let test_env = test_env::TestEnv::provision(&root)?;
                print!("{}", test_env.shell_exports());
                Ok(())
            }
            Self::Help => {
                println!("{USAGE}");
                Ok(())
            }
        }
    }
}

/// The workspace root: the folder above this crate's manifest.
fn repo_root() -> Result<PathBuf> {
    // `cargo run` sets CARGO_MANIFEST_DIR at run time too; the compile-time value is a fallback.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let root = manifest_dir
        .parent()
        .context("xtask's manifest folder has no parent")?;
    Ok(root.to_path_buf())
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let task = match Task::parse(&args) {
        Ok(task) => task,
        Err(error) => {
            eprintln!("xtask: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match task.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Task> {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        Task::parse(&args)
    }

    #[test]
    fn parses_tasks() {
        assert_eq!(
            parse(&["ci"]).unwrap(),
            Task::Ci(ci::Options { lint: true })
        );
        assert_eq!(
            parse(&["ci", "--no-lint"]).unwrap(),
            Task::Ci(ci::Options { lint: false })
        );
        assert_eq!(parse(&["test-env"]).unwrap(), Task::TestEnv);
        assert_eq!(parse(&[]).unwrap(), Task::Help);
        assert!(parse(&["ci", "--bogus"]).is_err());
        assert!(parse(&["test-env", "extra"]).is_err());
    }
}
