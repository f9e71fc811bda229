//! How far a resumable bulk import of one file got.

use super::{Result, Store, WriteCounts};
use crate::domain::merge::Observed;

/// The position after the last committed batch of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCheckpoint {
    /// The file, as a canonical path.
    pub source: String,
    /// Tells a new file at the same path from the one the offset belongs to.
    pub fingerprint: String,
    /// Bytes of the (decompressed) file consumed.
    pub byte_offset: u64,
    /// Lines consumed, for numbering the lines that follow.
    pub line: u64,
}

impl Store {
    pub async fn import_checkpoint(&self, source: &str) -> Result<Option<ImportCheckpoint>> {
        match self {
            Store::Sqlite(s) => s.import_checkpoint(source).await,
        }
    }

    /// Merges a batch and moves the file's checkpoint past it, in one transaction.
    pub async fn save_import_batch(
        &self,
        batch: Vec<Observed>,
        checkpoint: &ImportCheckpoint,
    ) -> Result<WriteCounts> {
        match self {
            Store::Sqlite(s) => s.save_import_batch(batch, checkpoint).await,
        }
    }

    /// Forgets a finished import, so that importing the file again reads it all again.
    pub async fn clear_import_checkpoint(&self, source: &str) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.clear_import_checkpoint(source).await,
        }
    }
}
