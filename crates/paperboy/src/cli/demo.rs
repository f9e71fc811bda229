//! The demo data bundled in the binary: the last 60 days of Hugging Face Daily Papers, and the
//! arXiv categories of those papers that have them (`data/demo/README.md`).

use anyhow::Context as _;
use rust_embed::RustEmbed;

use crate::ingest::{self, Format};
use crate::store::Store;

#[derive(RustEmbed)]
#[folder = "../../data/demo/hf-daily/"]
struct DemoDays;

#[derive(RustEmbed)]
#[folder = "../../data/demo/arxiv/"]
struct DemoCategories;

/// Loads the bundled demo data into `store` if it holds no papers yet, or if an earlier load did
/// not finish: the files are unpacked into `scratch_dir/demo-import`, which is removed only once
/// the import has succeeded, so a load that was killed or failed is run again (imports are
/// idempotent, so the papers it already wrote are merged unchanged).
pub async fn load_if_empty(store: &Store, scratch_dir: &std::path::Path) -> anyhow::Result<()> {
    let dir = scratch_dir.join("demo-import");
    let unfinished = dir.exists();
    if !unfinished && !store.is_empty().await? {
        tracing::info!("store already has papers; not loading demo data");
        return Ok(());
    }
    if unfinished {
        tracing::info!("an earlier demo load did not finish; loading it again");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // One import of both kinds (each file's format is detected), so that the demo is loaded whole
    // or, after a crash, resumed whole.
    let files = DemoDays::iter()
        .map(|name| (DemoDays::get(&name), name))
        .chain(DemoCategories::iter().map(|name| (DemoCategories::get(&name), name)));
    for (file, name) in files {
        let file = file.expect("listed files exist");
        std::fs::write(dir.join(name.as_ref()), file.data.as_ref())
            .with_context(|| format!("writing demo file {name}"))?;
    }
    let report = ingest::import_paths(
        store,
        std::slice::from_ref(&dir),
        Format::Auto,
        false,
        |p| {
            tracing::warn!(problem = %p, "demo record skipped");
        },
    )
    .await?;
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    tracing::info!(
        added = report.counts.added,
        files = report.files,
        "loaded demo data"
    );
    Ok(())
}
