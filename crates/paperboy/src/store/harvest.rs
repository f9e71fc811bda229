//! Where the OAI-PMH harvest of each set stands, and writing a harvested page together with the
//! checkpoint that points past it.

use chrono::NaiveDate;

use super::{Result, Store, WriteCounts};
use crate::domain::merge::Observed;

/// The harvest state of one set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestCheckpoint {
    /// The OAI-PMH set, `""` for the whole archive.
    pub set_spec: String,
    pub metadata_prefix: String,
    /// The day incremental harvests start from: the lists harvested so far, from the first
    /// one's `from`, cover every datestamp up to and including it. (Inclusive, because a day can
    /// gain records after it was harvested.)
    pub harvested_through: Option<NaiveDate>,
    /// The list in progress, when the last run stopped before its end.
    pub run: Option<HarvestRun>,
}

/// A list that has pages left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestRun {
    /// The `from` and `until` the list was asked for.
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// The day `harvested_through` moves to when the list completes.
    pub through: NaiveDate,
    /// Asks for the next page.
    pub token: String,
    /// Records before the next page, and in the whole list, as the server counted them.
    pub cursor: Option<u64>,
    pub complete_list_size: Option<u64>,
}

impl HarvestCheckpoint {
    /// The state of a set never harvested.
    pub fn new(set_spec: &str, metadata_prefix: &str) -> HarvestCheckpoint {
        HarvestCheckpoint {
            set_spec: set_spec.to_owned(),
            metadata_prefix: metadata_prefix.to_owned(),
            harvested_through: None,
            run: None,
        }
    }
}

impl Store {
    pub async fn harvest_checkpoint(&self, set_spec: &str) -> Result<Option<HarvestCheckpoint>> {
        match self {
            Store::Sqlite(s) => s.harvest_checkpoint(set_spec).await,
        }
    }

    /// Merges a page's records and saves `checkpoint` in one transaction: either both happen or
    /// neither does, so a crash can never leave the checkpoint past records that were not stored.
    pub async fn save_harvest_page(
        &self,
        batch: Vec<Observed>,
        checkpoint: &HarvestCheckpoint,
    ) -> Result<WriteCounts> {
        match self {
            Store::Sqlite(s) => s.save_harvest_page(batch, checkpoint).await,
        }
    }
}
