//! `paperboy reindex`: rebuilds the search index from the store.

use std::process::ExitCode;
use std::time::Instant;

use crate::config::Config;
use crate::search::Search;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(config: Config, _args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open_sqlite(&config.database_path()).await?;
    let search = Search::open(&config.data_dir.join("search"), None)?;
    let started = Instant::now();
    let done = search.rebuild(&store).await?;
    report!(
        "indexed {} papers in {:.1} s",
        done.indexed,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
