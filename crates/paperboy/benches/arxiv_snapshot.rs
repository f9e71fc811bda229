//! Snapshot import rate: `paperboy import --format arxiv-snapshot` (the library call behind it)
//! over a snapshot-format file made from `shared/data/papers.jsonl.gz`, into a fresh SQLite
//! store, extrapolated to arXiv's 2.7 million papers. Run with
//! `cargo bench -p paperboy --bench arxiv_snapshot`; skipped, with a note, without the data.
//! `PAPERBOY_SHARED_DATA` points elsewhere than `../shared/data`.

#[path = "../tests/it/snapshot_format.rs"]
mod snapshot_format;

use std::path::PathBuf;
use std::time::Instant;

use paperboy::ingest::{self, Format};
use paperboy::store::Store;

/// arXiv's size, which the rate is extrapolated to.
const ARXIV_PAPERS: f64 = 2_700_000.0;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let data = std::env::var_os("PAPERBOY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let papers = data.join("papers.jsonl.gz");
    if !papers.exists() {
        eprintln!("skipped: {} not found", papers.display());
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let snapshot = dir.path().join("arxiv-metadata-oai-snapshot.json");
    let lines = snapshot_format::write_snapshot(&papers, &snapshot, usize::MAX);
    let bytes = std::fs::metadata(&snapshot)?.len();

    let store = Store::open_sqlite(&dir.path().join("paperboy.db")).await?;
    let started = Instant::now();
    let report = ingest::import_paths(
        &store,
        std::slice::from_ref(&snapshot),
        Format::ArxivSnapshot,
        false,
        |p| eprintln!("{p}"),
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let added = report.counts.added as f64;
    let rate = added / seconds;
    let full_minutes = ARXIV_PAPERS / rate / 60.0;

    // Importing the same file again: every line is read, parsed and compared, nothing written.
    let started = Instant::now();
    let again = ingest::import_paths(
        &store,
        std::slice::from_ref(&snapshot),
        Format::ArxivSnapshot,
        false,
        |p| eprintln!("{p}"),
    )
    .await?;
    let again_rate = again.counts.unchanged as f64 / started.elapsed().as_secs_f64();

    println!("| input | lines | MB | added | seconds | records/s | 2.7M papers at this rate |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| papers.jsonl.gz as a snapshot, fresh store | {lines} | {:.0} | {} | {seconds:.1} | {rate:.0} | {full_minutes:.1} min |",
        bytes as f64 / 1e6,
        report.counts.added,
    );
    println!(
        "| the same file again (all unchanged) | {lines} | {:.0} | 0 | {:.1} | {again_rate:.0} | {:.1} min |",
        bytes as f64 / 1e6,
        again.counts.unchanged as f64 / again_rate,
        ARXIV_PAPERS / again_rate / 60.0,
    );
    let store_bytes: u64 = ["paperboy.db", "paperboy.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "\nskipped lines: {}; store size after import: {:.0} MB",
        report.skipped,
        store_bytes as f64 / 1e6
    );
    Ok(())
}
