//! `paperboy import [--format auto|jsonl|hf-daily|arxiv-snapshot] PATH...`

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use crate::config::Config;
use crate::ingest::{self, Format};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input format; `auto` decides per file from its content. `arxiv-snapshot` (Kaggle's
    /// arxiv-metadata-oai-snapshot.json) must be named: it resumes where a killed import stopped.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Files or directories (walked recursively); `.gz` files are decompressed on the fly.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Auto,
    Jsonl,
    HfDaily,
    ArxivSnapshot,
}

/// Exit 0 when every record was imported, 2 when some were skipped, 1 on a fatal error.
pub async fn run(config: Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open_sqlite(&config.database_path()).await?;
    let format = match args.format {
        FormatArg::Auto => Format::Auto,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::HfDaily => Format::HfDaily,
        FormatArg::ArxivSnapshot => Format::ArxivSnapshot,
    };
    let progress = std::io::stderr().is_terminal();
    let report = ingest::import_paths(&store, &args.paths, format, progress, |problem| {
        report!("{problem}");
    })
    .await?;
    let c = report.counts;
    index_imported(&config, &store).await;
    report!(
        "imported {} file(s): {} added, {} updated, {} unchanged, {} skipped",
        report.files,
        c.added,
        c.updated,
        c.unchanged,
        report.skipped
    );
    Ok(if report.failed_files > 0 {
        report!(
            "paperboy: {} file(s) could not be read to the end",
            report.failed_files
        );
        ExitCode::from(1)
    } else if report.skipped > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Brings the search index up to date. When a server is writing the index at that moment this
/// gives way (a log line), and the server catches up by itself.
async fn index_imported(config: &Config, store: &Store) {
    let result = async {
        let search = crate::search::Search::open(&config.data_dir.join("search"), None)?;
        search.catch_up(store).await
    }
    .await;
    if let Err(err) = result {
        tracing::info!(
            error = format!("{err:#}"),
            "the search index was not updated here"
        );
    }
}
