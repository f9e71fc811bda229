//! SQL for durable jobs. Kept to what PostgreSQL also accepts: `UPDATE … RETURNING`,
//! `INSERT … ON CONFLICT DO NOTHING`, partial unique indexes. (On PostgreSQL the claim's subquery
//! gains `FOR UPDATE SKIP LOCKED`; SQLite's single writer makes it unnecessary here.)

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::{SqliteStore, parse_time, time_text};
use crate::store::jobs::{ClaimedJob, JobOutcome, JobRecord, JobState, NewJob};
use crate::store::{Result, StoreError};

const RECORD_COLUMNS: &str =
    "job_id, kind, key, state, attempts, last_error, run_after, locked_by, locked_until";

impl SqliteStore {
    pub async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<i64>> {
        let now = time_text(now);
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO job (kind, key, payload, exclusive, run_after, max_attempts, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO NOTHING RETURNING job_id",
        )
        .bind(&job.kind)
        .bind(&job.key)
        .bind(&job.payload)
        .bind(job.exclusive)
        .bind(time_text(job.run_after))
        .bind(i64::from(job.max_attempts))
        .bind(&now)
        .bind(&now)
        .fetch_optional(&self.writer)
        .await
        .with_context(|| format!("queueing job {}:{}", job.kind, job.key))?;
        Ok(id)
    }

    pub async fn claim_job(
        &self,
        kind: &str,
        holder: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedJob>> {
        let mut tx = self.begin_write().await?;
        let now = time_text(now);
        requeue_expired(&mut tx, kind, &now).await?;
        // The outer `state = 'queued'` repeats the inner condition, so on a backend where two
        // workers race, the loser updates nothing instead of taking the job twice.
        let row = sqlx::query(
            "UPDATE job SET state = 'running', attempts = attempts + 1, locked_by = ?, \
               locked_until = ?, updated_at = ? \
             WHERE job_id = ( \
               SELECT j.job_id FROM job j \
               WHERE j.kind = ? AND j.state = 'queued' AND j.run_after <= ? \
                 AND NOT (j.exclusive = 1 AND EXISTS ( \
                   SELECT 1 FROM job r WHERE r.kind = j.kind AND r.state = 'running' AND r.exclusive = 1)) \
               ORDER BY j.run_after, j.job_id LIMIT 1) \
             AND state = 'queued' \
             RETURNING job_id, kind, key, payload, attempts, max_attempts",
        )
        .bind(holder)
        .bind(time_text(lease_until))
        .bind(&now)
        .bind(kind)
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await
        .with_context(|| format!("claiming a {kind} job"))?;
        tx.commit().await.context("committing a job claim")?;
        row.as_ref().map(claimed_from_row).transpose()
    }

    pub async fn start_job(
        &self,
        job: &NewJob,
        holder: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedJob>> {
        let mut tx = self.begin_write().await?;
        let now = time_text(now);
        requeue_expired(&mut tx, &job.kind, &now).await?;
        // No conflict target: a clash on (kind, key) and a clash on the one-running-per-kind
        // index both mean "not now", and both leave the table as it was.
        let row = sqlx::query(
            "INSERT INTO job (kind, key, payload, exclusive, state, run_after, attempts, max_attempts, \
               locked_by, locked_until, created_at, updated_at) \
             VALUES (?, ?, ?, ?, 'running', ?, 1, ?, ?, ?, ?, ?) \
             ON CONFLICT DO NOTHING \
             RETURNING job_id, kind, key, payload, attempts, max_attempts",
        )
        .bind(&job.kind)
        .bind(&job.key)
        .bind(&job.payload)
        .bind(job.exclusive)
        .bind(time_text(job.run_after))
        .bind(i64::from(job.max_attempts))
        .bind(holder)
        .bind(time_text(lease_until))
        .bind(&now)
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await
        .with_context(|| format!("starting job {}:{}", job.kind, job.key))?;
        tx.commit().await.context("committing a job start")?;
        row.as_ref().map(claimed_from_row).transpose()
    }

    pub async fn renew_job_lease(
        &self,
        job: &ClaimedJob,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE job SET locked_until = ?, updated_at = ? \
             WHERE job_id = ? AND state = 'running' AND attempts = ?",
        )
        .bind(time_text(lease_until))
        .bind(time_text(now))
        .bind(job.id)
        .bind(i64::from(job.attempt))
        .execute(&self.writer)
        .await
        .context("renewing a job lease")?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn finish_job(
        &self,
        job: &ClaimedJob,
        outcome: &JobOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let now = time_text(now);
        let (state, error, run_after, finished_at) = match outcome {
            JobOutcome::Done => (JobState::Done, None, None, Some(now.clone())),
            JobOutcome::Failed {
                error,
                retry_at: Some(at),
            } => (
                JobState::Queued,
                Some(error.as_str()),
                Some(time_text(*at)),
                None,
            ),
            JobOutcome::Failed {
                error,
                retry_at: None,
            } => (
                JobState::Failed,
                Some(error.as_str()),
                None,
                Some(now.clone()),
            ),
        };
        let done = sqlx::query(
            "UPDATE job SET state = ?, last_error = ?, run_after = COALESCE(?, run_after), \
               finished_at = ?, locked_by = NULL, locked_until = NULL, updated_at = ? \
             WHERE job_id = ? AND state = 'running' AND attempts = ?",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(run_after)
        .bind(finished_at)
        .bind(&now)
        .bind(job.id)
        .bind(i64::from(job.attempt))
        .execute(&self.writer)
        .await
        .context("finishing a job")?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn expire_job_lease(
        &self,
        id: i64,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let now = time_text(now);
        let done = sqlx::query(
            "UPDATE job SET locked_until = ?, updated_at = ? \
             WHERE job_id = ? AND state = 'running' AND attempts = ?",
        )
        .bind(&now)
        .bind(&now)
        .bind(id)
        .bind(i64::from(attempt))
        .execute(&self.writer)
        .await
        .context("expiring a job lease")?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn running_jobs(&self, kind: &str) -> Result<Vec<JobRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM job WHERE kind = ? AND state = 'running' ORDER BY job_id"
        )))
        .bind(kind)
        .fetch_all(&self.reader)
        .await
        .context("reading running jobs")?;
        rows.iter().map(record_from_row).collect()
    }

    pub async fn job(&self, id: i64) -> Result<JobRecord> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM job WHERE job_id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .context("reading a job")?
        .ok_or(StoreError::NotFound)?;
        record_from_row(&row)
    }
}

/// Puts running jobs of `kind` whose lease expired back in the queue, or fails them when their
/// attempts are used up: their worker died, and the attempt it counted is spent.
async fn requeue_expired(
    tx: &mut Transaction<'static, Sqlite>,
    kind: &str,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE job SET \
           state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
           finished_at = CASE WHEN attempts >= max_attempts THEN ? ELSE NULL END, \
           last_error = 'the worker stopped before finishing (its lease expired)', \
           locked_by = NULL, locked_until = NULL, updated_at = ? \
         WHERE kind = ? AND state = 'running' AND locked_until <= ?",
    )
    .bind(now)
    .bind(now)
    .bind(kind)
    .bind(now)
    .execute(&mut **tx)
    .await
    .context("requeueing jobs with expired leases")?;
    Ok(())
}

fn claimed_from_row(row: &SqliteRow) -> Result<ClaimedJob> {
    let count = |name: &str| -> Result<u32> {
        let n: i64 = row
            .try_get(name)
            .with_context(|| format!("column {name}"))?;
        Ok(u32::try_from(n).with_context(|| format!("{name} out of range"))?)
    };
    Ok(ClaimedJob {
        id: row.try_get("job_id").context("job_id")?,
        kind: row.try_get("kind").context("kind")?,
        key: row.try_get("key").context("key")?,
        payload: row.try_get("payload").context("payload")?,
        attempt: count("attempts")?,
        max_attempts: count("max_attempts")?,
    })
}

fn record_from_row(row: &SqliteRow) -> Result<JobRecord> {
    let state: String = row.try_get("state").context("state")?;
    let attempts: i64 = row.try_get("attempts").context("attempts")?;
    let locked_until: Option<String> = row.try_get("locked_until").context("locked_until")?;
    Ok(JobRecord {
        id: row.try_get("job_id").context("job_id")?,
        kind: row.try_get("kind").context("kind")?,
        key: row.try_get("key").context("key")?,
        state: JobState::parse(&state).with_context(|| format!("stored job state {state:?}"))?,
        attempts: u32::try_from(attempts).context("attempts out of range")?,
        last_error: row.try_get("last_error").context("last_error")?,
        run_after: parse_time(&row.try_get::<String, _>("run_after").context("run_after")?)?,
        locked_by: row.try_get("locked_by").context("locked_by")?,
        locked_until: locked_until.map(|t| parse_time(&t)).transpose()?,
    })
}
