//! Durable background jobs: a row per unit of work, claimed with a lease that is renewed while the
//! work runs, finished as done or failed, and retried with backoff.
//!
//! [`JobKind`] lists every kind. A job is idempotent by construction (a harvest merges records,
//! so running a page twice changes nothing), because a worker that dies mid-job leaves a lease
//! that expires and the job runs again.
//!
//! **Invariant:** a job's outcome is recorded only by the attempt that holds its lease: finishing
//! presents the attempt number, and an attempt whose lease was taken over finishes nothing.

pub mod harvest;
pub mod holder;

use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::Store;
use crate::store::jobs::{ClaimedJob, JobOutcome, JobRecord, NewJob};

/// Every kind of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// An OAI-PMH harvest (payload: `ingest::harvest::HarvestRequest`). Exclusive: two harvests
    /// would share arXiv's one-connection allowance and race on the checkpoints.
    Harvest,
}

impl JobKind {
    /// The stable name stored in `job.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Harvest => "harvest",
        }
    }

    /// Whether at most one job of the kind may run at a time.
    pub fn exclusive(self) -> bool {
        match self {
            JobKind::Harvest => true,
        }
    }
}

/// How long a lease lasts without renewal: the longest a dead worker's job waits to run again
/// (unless the next claimant can see the worker is gone; see [`holder`]).
pub const LEASE: Duration = Duration::from_secs(60);

/// How often a running job renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(15);

/// The wait before attempt `attempt + 1` after attempt `attempt` failed: 5 minutes, doubling,
/// at most 2 hours.
pub fn backoff(attempt: u32) -> Duration {
    let minutes = 5u64.saturating_mul(1 << attempt.saturating_sub(1).min(10));
    Duration::from_secs(60 * minutes.min(120))
}

/// A claimed job. Its lease is renewed in the background until [`Lease::finish`].
#[derive(Debug)]
pub struct Lease {
    store: Store,
    job: ClaimedJob,
    renewer: tokio::task::JoinHandle<()>,
}

impl Lease {
    fn hold(store: &Store, job: ClaimedJob) -> Lease {
        let renewer = tokio::spawn({
            let store = store.clone();
            let job = job.clone();
            async move {
                loop {
                    tokio::time::sleep(RENEW_EVERY).await;
                    let now = Utc::now();
                    match store.renew_job_lease(&job, now, now + LEASE).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(job.id = job.id, job.kind = %job.kind, "lost the job lease");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(job.id = job.id, error = %e, "could not renew a job lease")
                        }
                    }
                }
            }
        });
        Lease {
            store: store.clone(),
            job,
            renewer,
        }
    }

    pub fn job(&self) -> &ClaimedJob {
        &self.job
    }

    /// Records the outcome. A failure is retried after [`backoff`] while attempts remain.
    pub async fn finish(self, result: Result<(), String>) -> anyhow::Result<()> {
        self.renewer.abort();
        let now = Utc::now();
        let outcome = match result {
            Ok(()) => JobOutcome::Done,
            Err(error) => {
                let retry = self.job.attempt < self.job.max_attempts;
                JobOutcome::Failed {
                    error,
                    retry_at: retry.then(|| now + backoff(self.job.attempt)),
                }
            }
        };
        let recorded = self.store.finish_job(&self.job, &outcome, now).await?;
        if !recorded {
            tracing::warn!(
                job.id = self.job.id,
                "the job's lease was taken over; its outcome is not recorded"
            );
        }
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Queues a job; None when the same kind and key is queued already (or was run).
pub async fn enqueue(
    store: &Store,
    kind: JobKind,
    key: &str,
    payload: &impl Serialize,
    run_after: DateTime<Utc>,
    max_attempts: u32,
) -> anyhow::Result<Option<i64>> {
    let job = new_job(kind, key, payload, run_after, max_attempts)?;
    Ok(store.enqueue_job(&job, Utc::now()).await?)
}

/// Claims the next due job of `kind`, if any.
pub async fn claim(store: &Store, kind: JobKind) -> anyhow::Result<Option<Lease>> {
    release_gone_holders(store, kind).await?;
    let now = Utc::now();
    let claimed = store
        .claim_job(kind.as_str(), &holder::this_process(), now, now + LEASE)
        .await?;
    Ok(claimed.map(|job| Lease::hold(store, job)))
}

/// Starts a job of `kind` now, in this process, or says which job stands in the way.
pub async fn start(
    store: &Store,
    kind: JobKind,
    key: &str,
    payload: &impl Serialize,
    max_attempts: u32,
) -> anyhow::Result<Result<Lease, Vec<JobRecord>>> {
    release_gone_holders(store, kind).await?;
    let now = Utc::now();
    let job = new_job(kind, key, payload, now, max_attempts)?;
    match store
        .start_job(&job, &holder::this_process(), now, now + LEASE)
        .await?
    {
        Some(claimed) => Ok(Ok(Lease::hold(store, claimed))),
        None => Ok(Err(store.running_jobs(kind.as_str()).await?)),
    }
}

/// Ends the leases of running jobs whose holder is known to have exited.
async fn release_gone_holders(store: &Store, kind: JobKind) -> anyhow::Result<()> {
    for job in store.running_jobs(kind.as_str()).await? {
        if job.locked_by.as_deref().is_some_and(holder::is_gone) {
            tracing::info!(job.id = job.id, job.kind = %job.kind, holder = ?job.locked_by, "the job's holder has exited; releasing its lease");
            store
                .expire_job_lease(job.id, job.attempts, Utc::now())
                .await?;
        }
    }
    Ok(())
}

fn new_job(
    kind: JobKind,
    key: &str,
    payload: &impl Serialize,
    run_after: DateTime<Utc>,
    max_attempts: u32,
) -> anyhow::Result<NewJob> {
    Ok(NewJob {
        kind: kind.as_str().to_owned(),
        key: key.to_owned(),
        payload: serde_json::to_string(payload).context("serialising a job payload")?,
        exclusive: kind.exclusive(),
        run_after,
        max_attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_minutes_up_to_two_hours() {
        let minutes: Vec<u64> = (1..=7).map(|a| backoff(a).as_secs() / 60).collect();
        assert_eq!(minutes, [5, 10, 20, 40, 80, 120, 120]);
        assert_eq!(backoff(u32::MAX).as_secs(), 7200);
    }
}
