//! The command line: `paperboy [--config FILE] [--data-dir DIR] <command>`, one file per command.

/// `eprintln!` that cannot panic: a report line that cannot be written (standard error is a
/// closed pipe, as in `paperboy import … 2>&1 | head -1`) is dropped, and the job goes on.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `print!` of a command's result that cannot panic: `Err` when standard output is closed, so
/// the command fails with a line that says so instead of a panic.
macro_rules! output {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        anyhow::Context::context(write!(std::io::stdout(), $($arg)*), "writing to standard output")
    }};
}

mod config;
mod demo;
mod digest;
mod embed;
mod fetch;
mod harvest;
mod import;
mod member;
mod reindex;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

/// A self-hostable daily papers site, feed and newsletter.
#[derive(Debug, Parser)]
#[command(name = "paperboy", version, about, propagate_version = true)]
pub struct Cli {
    /// A TOML config file (see `paperboy config example`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the database and search index live [env: PAPERBOY_DATA_DIR] [default: ./paperboy-data]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app and API.
    Serve(serve::Args),
    /// Import papers from paperboy JSONL, Hugging Face daily_papers files or the arXiv metadata
    /// snapshot (.gz is fine).
    Import(import::Args),
    /// Harvest new and changed papers from arXiv's OAI-PMH feed, resuming where the last
    /// harvest stopped.
    Harvest(harvest::Args),
    /// Fetch papers by id from the arXiv API into the store.
    Fetch(fetch::Args),
    /// Rebuild the search index from the store.
    Reindex(reindex::Args),
    /// Embed papers that have no vector yet (resumable), for semantic search.
    Embed(embed::Args),
    /// Member accounts: `member add EMAIL [--admin]`.
    Member(member::MemberArgs),
    /// Personal API tokens: `token create EMAIL` prints a new token.
    Token(member::TokenArgs),
    /// Admins: `admin grant EMAIL`.
    Admin(member::AdminArgs),
    /// Configuration helpers.
    Config(config::Args),
    /// Email digests: preview an edition, or queue and send it.
    Digest(digest::Args),
}

impl Cli {
    fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            data_dir: self.data_dir.clone(),
            listen: None,
        }
    }
}

/// Runs a parsed command line and returns the process exit code. Errors are printed as one line
/// (`paperboy: …`), with their causes joined by `: `.
pub async fn run(cli: Cli) -> ExitCode {
    let overrides = cli.overrides();
    let result = match cli.command {
        Command::Config(args) => config::run(args),
        Command::Serve(args) => {
            load(overrides.clone(), args.listen.clone())
                .and_then_async(|c| serve::run(c, args))
                .await
        }
        Command::Digest(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| digest::run(c, args))
                .await
        }
        Command::Member(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| member::run_member(c, args))
                .await
        }
        Command::Token(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| member::run_token(c, args))
                .await
        }
        Command::Admin(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| member::run_admin(c, args))
                .await
        }
        Command::Import(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| import::run(c, args))
                .await
        }
        Command::Harvest(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| harvest::run(c, args))
                .await
        }
        Command::Reindex(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| reindex::run(c, args))
                .await
        }
        Command::Embed(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| embed::run(c, args))
                .await
        }
        Command::Fetch(args) => {
            load(overrides.clone(), None)
                .and_then_async(|c| fetch::run(c, args))
                .await
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            report!("paperboy: {}", one_line(&err));
            ExitCode::from(1)
        }
    }
}

/// The exit status of a command line that does not parse (sysexits' `EX_USAGE`), apart from the
/// 1 of a failed command and the 2 of a partial one (records skipped, ids not found).
pub const USAGE_EXIT: u8 = 64;

/// Answers a command line clap could not parse: help and version as clap prints them; any other
/// error as one line (`paperboy: invalid value 'csv' for '--format <FORMAT>'; possible values:
/// …`) and exit status [`USAGE_EXIT`].
pub fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(USAGE_EXIT);
        }
        _ => {}
    }
    let rendered = e.render().to_string();
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:")
        })
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .map(|l| l.trim_start_matches('[').trim_end_matches(']'))
        .collect();
    report!("paperboy: {} (see --help)", parts.join("; "));
    ExitCode::from(USAGE_EXIT)
}

fn load(mut overrides: Overrides, listen: Option<String>) -> anyhow::Result<Config> {
    overrides.listen = listen;
    Config::load(&overrides)
}

/// An error and its causes on one line.
fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

trait AndThenAsync<T> {
    async fn and_then_async<U, F: Future<Output = anyhow::Result<U>>>(
        self,
        f: impl FnOnce(T) -> F,
    ) -> anyhow::Result<U>;
}

impl<T> AndThenAsync<T> for anyhow::Result<T> {
    async fn and_then_async<U, F: Future<Output = anyhow::Result<U>>>(
        self,
        f: impl FnOnce(T) -> F,
    ) -> anyhow::Result<U> {
        match self {
            Ok(v) => f(v).await,
            Err(e) => Err(e),
        }
    }
}

/// Reads a `YYYY-MM-DD` argument, saying what is wrong with one that is not a calendar day
/// (clap with chrono alone says only "input is out of range").
fn day_arg(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::domain::Period::parse_day(s)
        .map(|p| p.first_day())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
