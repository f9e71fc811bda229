//! SQL for harvest checkpoints.

use anyhow::Context as _;
use chrono::Utc;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::papers::merge_in;
use super::{SqliteStore, date_text, parse_date, time_text};
use crate::domain::merge::Observed;
use crate::store::harvest::{HarvestCheckpoint, HarvestRun};
use crate::store::{Result, WriteCounts};

impl SqliteStore {
    pub async fn harvest_checkpoint(&self, set_spec: &str) -> Result<Option<HarvestCheckpoint>> {
        let row = sqlx::query(
            "SELECT set_spec, metadata_prefix, harvested_through, run_from, run_until, run_through, \
               resumption_token, cursor, complete_list_size \
             FROM harvest_checkpoint WHERE set_spec = ?",
        )
        .bind(set_spec)
        .fetch_optional(&self.reader)
        .await
        .context("reading a harvest checkpoint")?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    pub async fn save_harvest_page(
        &self,
        batch: Vec<Observed>,
        checkpoint: &HarvestCheckpoint,
    ) -> Result<WriteCounts> {
        let mut tx = self.begin_write().await?;
        let counts = merge_in(&mut tx, batch).await?;
        let run = checkpoint.run.as_ref();
        let count = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        sqlx::query(
            "INSERT INTO harvest_checkpoint (set_spec, metadata_prefix, harvested_through, run_from, \
               run_until, run_through, resumption_token, cursor, complete_list_size, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (set_spec) DO UPDATE SET metadata_prefix = excluded.metadata_prefix, \
               harvested_through = excluded.harvested_through, run_from = excluded.run_from, \
               run_until = excluded.run_until, run_through = excluded.run_through, \
               resumption_token = excluded.resumption_token, cursor = excluded.cursor, \
               complete_list_size = excluded.complete_list_size, updated_at = excluded.updated_at",
        )
        .bind(&checkpoint.set_spec)
        .bind(&checkpoint.metadata_prefix)
        .bind(checkpoint.harvested_through.map(date_text))
        .bind(run.and_then(|r| r.from).map(date_text))
        .bind(run.and_then(|r| r.until).map(date_text))
        .bind(run.map(|r| date_text(r.through)))
        .bind(run.map(|r| r.token.as_str()))
        .bind(count(run.and_then(|r| r.cursor)))
        .bind(count(run.and_then(|r| r.complete_list_size)))
        .bind(time_text(Utc::now()))
        .execute(&mut *tx)
        .await
        .context("saving a harvest checkpoint")?;
        tx.commit().await.context("committing a harvested page")?;
        Ok(counts)
    }
}

fn checkpoint_from_row(row: &SqliteRow) -> Result<HarvestCheckpoint> {
    let date = |name: &str| -> Result<Option<chrono::NaiveDate>> {
        let text: Option<String> = row
            .try_get(name)
            .with_context(|| format!("column {name}"))?;
        text.map(|t| parse_date(&t)).transpose()
    };
    let count = |name: &str| -> Result<Option<u64>> {
        let n: Option<i64> = row
            .try_get(name)
            .with_context(|| format!("column {name}"))?;
        Ok(n.and_then(|n| u64::try_from(n).ok()))
    };
    let token: Option<String> = row
        .try_get("resumption_token")
        .context("resumption_token")?;
    let run = match (token, date("run_through")?) {
        (Some(token), Some(through)) => Some(HarvestRun {
            from: date("run_from")?,
            until: date("run_until")?,
            through,
            token,
            cursor: count("cursor")?,
            complete_list_size: count("complete_list_size")?,
        }),
        _ => None,
    };
    Ok(HarvestCheckpoint {
        set_spec: row.try_get("set_spec").context("set_spec")?,
        metadata_prefix: row.try_get("metadata_prefix").context("metadata_prefix")?,
        harvested_through: date("harvested_through")?,
        run,
    })
}
