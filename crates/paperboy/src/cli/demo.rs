//! The demo data bundled in the binary: the last 60 days of Hugging Face Daily Papers.

use anyhow::Context as _;
use rust_embed::RustEmbed;

use crate::ingest::{self, Format};
use crate::store::Store;

#[derive(RustEmbed)]
#[folder = "../../data/demo/hf-daily/"]
struct DemoDays;

/// Loads the bundled demo days into `store` if it holds no papers yet.
pub async fn load_if_empty(store: &Store, scratch_dir: &std::path::Path) -> anyhow::Result<()> {
    if !store.is_empty().await? {
        tracing::info!("store already has papers; not loading demo data");
        return Ok(());
    }
    let dir = scratch_dir.join("demo-import");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for name in DemoDays::iter() {
        let file = DemoDays::get(&name).expect("listed files exist");
        std::fs::write(dir.join(name.as_ref()), file.data.as_ref())
            .with_context(|| format!("writing demo file {name}"))?;
    }
    let report = ingest::import_paths(
        store,
        std::slice::from_ref(&dir),
        Format::HfDaily,
        false,
        |p| {
            tracing::warn!(problem = %p, "demo record skipped");
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    let report = report?;
    tracing::info!(
        added = report.counts.added,
        files = report.files,
        "loaded demo data"
    );
    Ok(())
}
