//! Papers by id from the arXiv API: `paperboy fetch`, and the submission flow when a member
//! submits a paper the store does not have yet.

use std::collections::BTreeSet;

use anyhow::Context as _;

use arxiv::VersionedId;
use arxiv::api::{ApiClient, MAX_IDS_PER_REQUEST};

use super::arxiv::observed_from_entry;
use crate::domain::{ArxivId, Paper};
use crate::store::{Store, WriteCounts};

/// What a fetch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchReport {
    /// The papers arXiv returned, as stored after merging, in the order asked for.
    pub papers: Vec<Paper>,
    /// Ids arXiv does not know.
    pub missing: Vec<VersionedId>,
    pub counts: WriteCounts,
}

/// Fetches `ids` (a version pins that version's metadata) and merges them into the store. The
/// ids are already parsed, so nothing but a canonical id ever reaches the configured API host.
pub async fn fetch_papers(
    store: &Store,
    api: &ApiClient,
    ids: &[VersionedId],
) -> anyhow::Result<FetchReport> {
    let mut wanted: Vec<VersionedId> = Vec::with_capacity(ids.len());
    for id in ids {
        if !wanted.contains(id) {
            wanted.push(id.clone());
        }
    }
    let mut report = FetchReport::default();
    let mut found: BTreeSet<ArxivId> = BTreeSet::new();
    for chunk in wanted.chunks(MAX_IDS_PER_REQUEST) {
        let feed = api
            .fetch(chunk)
            .await
            .context("asking the arXiv API for papers")?;
        let batch: Vec<_> = feed.entries.into_iter().map(observed_from_entry).collect();
        found.extend(batch.iter().map(|o| o.paper.id.clone()));
        let counts = store
            .merge_observed(batch)
            .await
            .context("storing fetched papers")?;
        report.counts.add(counts);
    }
    for id in &wanted {
        if found.contains(&id.id) {
            if !report.papers.iter().any(|p| p.id == id.id) {
                report.papers.push(store.paper(&id.id).await?);
            }
        } else {
            report.missing.push(id.clone());
        }
    }
    Ok(report)
}
