//! `paperboy config example`: prints a commented configuration file.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented example config file with every default.
    Example,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ConfigCommand::Example => output!("{}", crate::config::EXAMPLE)?,
    }
    Ok(ExitCode::SUCCESS)
}
