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
    pub async fn expire_job_lease(
        &self,
        id: i64,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool> {
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

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("paperboy.db"))
            .await
            .unwrap();
        (store, dir)
    }

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::seconds(seconds)
    }

    fn job(key: &str, exclusive: bool) -> NewJob {
        NewJob {
            kind: "harvest".into(),
            key: key.into(),
            payload: "{}".into(),
            exclusive,
            run_after: t(0),
            max_attempts: 3,
        }
    }

    async fn claim(store: &Store, at: i64) -> Option<ClaimedJob> {
        store
            .claim_job("harvest", "worker", t(at), t(at + 60))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_kind_and_key_is_queued_once() {
        let (store, _dir) = store().await;
        assert!(
            store
                .enqueue_job(&job("daily:1", true), t(0))
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            store
                .enqueue_job(&job("daily:1", true), t(5))
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn an_exclusive_kind_runs_one_job_at_a_time() {
        let (store, _dir) = store().await;
        store.enqueue_job(&job("a", true), t(0)).await.unwrap();
        store.enqueue_job(&job("b", true), t(0)).await.unwrap();
        let a = claim(&store, 1).await.unwrap();
        assert_eq!((a.key.as_str(), a.attempt), ("a", 1));
        assert_eq!(claim(&store, 2).await, None, "b waits while a runs");
        let started = store
            .start_job(&job("c", true), "cli", t(2), t(62))
            .await
            .unwrap();
        assert_eq!(started, None, "nor can a job start beside it");
        assert!(store.finish_job(&a, &JobOutcome::Done, t(3)).await.unwrap());
        assert_eq!(claim(&store, 4).await.unwrap().key, "b");
    }

    #[tokio::test]
    async fn other_kinds_and_non_exclusive_jobs_run_side_by_side() {
        let (store, _dir) = store().await;
        store.enqueue_job(&job("a", false), t(0)).await.unwrap();
        store.enqueue_job(&job("b", false), t(0)).await.unwrap();
        assert!(claim(&store, 1).await.is_some());
        assert!(claim(&store, 1).await.is_some());
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_the_old_attempt_finishes_nothing() {
        let (store, _dir) = store().await;
        store.enqueue_job(&job("a", true), t(0)).await.unwrap();
        let first = claim(&store, 0).await.unwrap();
        assert_eq!(claim(&store, 30).await, None, "the lease still holds");
        let second = claim(&store, 61).await.expect("the lease expired");
        assert_eq!(second.attempt, 2);
        assert!(!store.renew_job_lease(&first, t(62), t(122)).await.unwrap());
        assert!(
            !store
                .finish_job(&first, &JobOutcome::Done, t(62))
                .await
                .unwrap()
        );
        assert!(
            store
                .finish_job(&second, &JobOutcome::Done, t(63))
                .await
                .unwrap()
        );
        let record = store.job(second.id).await.unwrap();
        assert_eq!((record.state, record.attempts), (JobState::Done, 2));
    }

    #[tokio::test]
    async fn a_failure_retries_when_told_and_a_dead_last_attempt_fails_the_job() {
        let (store, _dir) = store().await;
        store.enqueue_job(&job("a", true), t(0)).await.unwrap();
        let retry_at = |at| JobOutcome::Failed {
            error: "arXiv is down".into(),
            retry_at: Some(t(at)),
        };
        let first = claim(&store, 0).await.unwrap();
        assert!(
            store
                .finish_job(&first, &retry_at(100), t(1))
                .await
                .unwrap()
        );
        let record = store.job(first.id).await.unwrap();
        assert_eq!(record.state, JobState::Queued);
        assert_eq!(record.last_error.as_deref(), Some("arXiv is down"));
        assert_eq!(claim(&store, 50).await, None, "not before its retry time");
        let second = claim(&store, 100).await.unwrap();
        assert_eq!(second.attempt, 2);
        assert!(
            store
                .finish_job(&second, &retry_at(200), t(101))
                .await
                .unwrap()
        );
        let third = claim(&store, 200).await.unwrap();
        assert_eq!(third.attempt, 3);
        // The worker dies on the last attempt: once the lease expires the job is failed, not
        // queued again.
        assert_eq!(claim(&store, 261).await, None);
        let record = store.job(third.id).await.unwrap();
        assert_eq!(record.state, JobState::Failed);
        assert!(record.last_error.unwrap().contains("lease expired"));
    }

    #[tokio::test]
    async fn a_gone_holder_s_lease_can_be_ended_at_once() {
        let (store, _dir) = store().await;
        let started = store
            .start_job(&job("run:1", true), "dead-process", t(0), t(60))
            .await
            .unwrap()
            .unwrap();
        assert!(
            store
                .expire_job_lease(started.id, started.attempt, t(1))
                .await
                .unwrap()
        );
        let next = store
            .start_job(&job("run:2", true), "cli", t(2), t(62))
            .await
            .unwrap();
        assert!(
            next.is_some(),
            "the expired job no longer stands in the way"
        );
        let old = store.job(started.id).await.unwrap();
        assert_eq!(old.state, JobState::Queued, "requeued with attempts left");
    }
}
