//! Durable jobs: rows of background work, claimed with a lease. What the kinds are, and how long
//! to back off, is `jobs/`'s business; this is the table.

use chrono::{DateTime, Utc};

use super::{Result, Store};

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    /// Unique within the kind: queueing the same (kind, key) again does nothing.
    pub key: String,
    /// JSON, read by the kind's runner.
    pub payload: String,
    /// At most one job of this kind runs at a time.
    pub exclusive: bool,
    pub run_after: DateTime<Utc>,
    pub max_attempts: u32,
}

/// A job a worker holds the lease on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub payload: String,
    /// This attempt's number, from 1. Finishing the job presents it, so a worker whose lease was
    /// taken over cannot finish someone else's attempt.
    pub attempt: u32,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "done" => Some(JobState::Done),
            "failed" => Some(JobState::Failed),
            _ => None,
        }
    }
}

/// A job as stored, for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub state: JobState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub run_after: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Failed; run again at `retry_at`, or never (state `failed`) when None.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

impl Store {
    /// Queues a job; None when a job with the same kind and key exists already.
    pub async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<i64>> {
        match self {
            Store::Sqlite(s) => s.enqueue_job(job, now).await,
        }
    }

    /// Takes the next due job of `kind` for `holder`, leased until `lease_until`. Running jobs
    /// whose lease has expired are first put back in the queue (or failed, out of attempts).
    /// None when nothing is due, or when an exclusive job of the kind is running.
    pub async fn claim_job(
        &self,
        kind: &str,
        holder: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedJob>> {
        match self {
            Store::Sqlite(s) => s.claim_job(kind, holder, now, lease_until).await,
        }
    }

    /// Queues `job` and claims it in one step, for work that must start now (a harvest run from
    /// the command line). None when the job cannot run now: an exclusive job of the kind is
    /// running, or the key exists.
    pub async fn start_job(
        &self,
        job: &NewJob,
        holder: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedJob>> {
        match self {
            Store::Sqlite(s) => s.start_job(job, holder, now, lease_until).await,
        }
    }

    /// Extends the lease of a running attempt; false when the attempt no longer holds it.
    pub async fn renew_job_lease(
        &self,
        job: &ClaimedJob,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.renew_job_lease(job, now, lease_until).await,
        }
    }

    /// Records how an attempt ended; false when the attempt had lost its lease.
    pub async fn finish_job(
        &self,
        job: &ClaimedJob,
        outcome: &JobOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.finish_job(job, outcome, now).await,
        }
    }

    /// Ends the lease of a running attempt whose holder is known to be gone, so the next claim
    /// need not wait for it to expire.
    pub async fn expire_job_lease(&self, id: i64, attempt: u32, now: DateTime<Utc>) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.expire_job_lease(id, attempt, now).await,
        }
    }

    /// The running jobs of `kind`.
    pub async fn running_jobs(&self, kind: &str) -> Result<Vec<JobRecord>> {
        match self {
            Store::Sqlite(s) => s.running_jobs(kind).await,
        }
    }

    pub async fn job(&self, id: i64) -> Result<JobRecord> {
        match self {
            Store::Sqlite(s) => s.job(id).await,
        }
    }
}
