//! `cargo xtask`: the project's automation. `cargo xtask ci` is the test command.

mod apt;
mod bench;
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
  bench [http|import|upvotes|search|search-quality|search-http|embed]
                   run the benchmarks (http, import and upvotes without an argument);
                   see BENCHMARKS.md
  help             this text";

/// A task picked on the command line.
///
/// Benchmarks are `Task::Bench`; a new one is a [`bench::Which`] variant in the `bench` module.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Ci(ci::Options),
    TestEnv,
    Bench(bench::Which),
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
            ["bench"] => Ok(Self::Bench(bench::Which::parse(None)?)),
            ["bench", name] => Ok(Self::Bench(bench::Which::parse(Some(name))?)),
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
            Self::Bench(which) => bench::run(&root, which),
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
        assert_eq!(parse(&["bench"]).unwrap(), Task::Bench(bench::Which::All));
        assert_eq!(
            parse(&["bench", "http"]).unwrap(),
            Task::Bench(bench::Which::Http)
        );
        assert_eq!(
            parse(&["bench", "import"]).unwrap(),
            Task::Bench(bench::Which::Import)
        );
        assert_eq!(
            parse(&["bench", "search"]).unwrap(),
            Task::Bench(bench::Which::Search)
        );
        assert_eq!(
            parse(&["bench", "search-quality"]).unwrap(),
            Task::Bench(bench::Which::SearchQuality)
        );
        assert_eq!(
            parse(&["bench", "search-http"]).unwrap(),
            Task::Bench(bench::Which::SearchHttp)
        );
        assert_eq!(
            parse(&["bench", "embed"]).unwrap(),
            Task::Bench(bench::Which::Embed)
        );
        assert!(parse(&["bench", "bogus"]).is_err());
        assert!(parse(&["bench", "http", "extra"]).is_err());
    }
}
