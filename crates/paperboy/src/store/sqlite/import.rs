//! SQL for import checkpoints.

use anyhow::Context as _;
use chrono::Utc;
use sqlx::Row;

use super::papers::merge_in;
use super::{SqliteStore, time_text};
use crate::domain::merge::Observed;
use crate::store::import::ImportCheckpoint;
use crate::store::{Result, WriteCounts};

impl SqliteStore {
    pub async fn import_checkpoint(&self, source: &str) -> Result<Option<ImportCheckpoint>> {
        let row = sqlx::query(
            "SELECT source, fingerprint, byte_offset, line FROM import_checkpoint WHERE source = ?",
        )
        .bind(source)
        .fetch_optional(&self.reader)
        .await
        .context("reading an import checkpoint")?;
        let Some(row) = row else { return Ok(None) };
        let offset: i64 = row.try_get("byte_offset").context("byte_offset")?;
        let line: i64 = row.try_get("line").context("line")?;
        Ok(Some(ImportCheckpoint {
            source: row.try_get("source").context("source")?,
            fingerprint: row.try_get("fingerprint").context("fingerprint")?,
            byte_offset: u64::try_from(offset).context("byte_offset out of range")?,
            line: u64::try_from(line).context("line out of range")?,
        }))
    }

    pub async fn save_import_batch(
        &self,
        batch: Vec<Observed>,
        checkpoint: &ImportCheckpoint,
    ) -> Result<WriteCounts> {
        let mut tx = self.begin_write().await?;
        let counts = merge_in(&mut tx, batch).await?;
        sqlx::query(
            "INSERT INTO import_checkpoint (source, fingerprint, byte_offset, line, updated_at) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (source) DO UPDATE SET fingerprint = excluded.fingerprint, \
               byte_offset = excluded.byte_offset, line = excluded.line, updated_at = excluded.updated_at",
        )
        .bind(&checkpoint.source)
        .bind(&checkpoint.fingerprint)
        .bind(i64::try_from(checkpoint.byte_offset).context("byte offset out of range")?)
        .bind(i64::try_from(checkpoint.line).context("line out of range")?)
        .bind(time_text(Utc::now()))
        .execute(&mut *tx)
        .await
        .context("saving an import checkpoint")?;
        tx.commit().await.context("committing an import batch")?;
        Ok(counts)
    }

    pub async fn clear_import_checkpoint(&self, source: &str) -> Result<()> {
        sqlx::query("DELETE FROM import_checkpoint WHERE source = ?")
            .bind(source)
            .execute(&self.writer)
            .await
            .context("clearing an import checkpoint")?;
        Ok(())
    }
}
