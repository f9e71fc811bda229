//! The system of record: every row paperboy keeps lives behind [`Store`].
//!
//! **Invariant:** SQL text exists only in this module. Other layers call `Store` methods, which
//! speak in domain types.
//!
//! `Store` is an enum over backends so that handlers stay non-generic. SQLite is the first
//! backend; PostgreSQL joins as a second variant with its own migrations folder, and the store
//! test suite (`tests.rs`) runs against every variant.

pub mod community;
pub mod harvest;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod members;
pub mod papers;
pub mod search;
mod sqlite;
#[cfg(test)]
mod tests;

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::merge::Observed;
use crate::domain::{ArxivId, Paper, Period};

pub use sqlite::SqliteStore;

/// Errors callers can act on; everything else is `Other`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("the database is newer than this binary (migration {0} is unknown); upgrade paperboy")]
    UnknownMigration(i64),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store, over one of its backends.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
}

/// Which papers a feed list holds, and in what order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// Only papers whose daily date falls in this period; None for the whole feed.
    pub period: Option<Period>,
    /// Only papers submitted by this username.
    pub submitter: Option<String>,
    pub order: FeedOrder,
    pub offset: u32,
    pub limit: u32,
}

/// The orders a feed list can be read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOrder {
    /// Upvotes, most first; ties by arrival on the feed (HF's order for a dated list).
    Upvotes,
    /// arXiv publication time, newest first.
    Published,
    /// Newest daily date first; each day in upvote order.
    Latest,
}

/// What one import batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteCounts {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl WriteCounts {
    pub fn add(&mut self, other: WriteCounts) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// Sizes of the store, for `/metrics` and `/healthz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub papers: i64,
    pub papers_on_feed: i64,
    pub feed_days: i64,
    pub accounts: i64,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and applies pending migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        Ok(Store::Sqlite(SqliteStore::open(path).await?))
    }

    /// Merges a batch of observed records into the store in one transaction.
    pub async fn merge_observed(&self, batch: Vec<Observed>) -> Result<WriteCounts> {
        match self {
            Store::Sqlite(s) => s.merge_observed(batch).await,
        }
    }

    pub async fn paper(&self, id: &ArxivId) -> Result<Paper> {
        match self {
            Store::Sqlite(s) => s.paper(id).await,
        }
    }

    pub async fn feed(&self, query: &FeedQuery) -> Result<Vec<Paper>> {
        match self {
            Store::Sqlite(s) => s.feed(query).await,
        }
    }

    /// Papers put on the feed at or after `since`, for the hot ranking.
    pub async fn submitted_since(&self, since: DateTime<Utc>) -> Result<Vec<Paper>> {
        match self {
            Store::Sqlite(s) => s.submitted_since(since).await,
        }
    }

    /// The newest daily date that has papers.
    pub async fn latest_daily_date(&self) -> Result<Option<NaiveDate>> {
        match self {
            Store::Sqlite(s) => s.latest_daily_date().await,
        }
    }

    /// The newest feed submission time.
    pub async fn newest_submission(&self) -> Result<Option<DateTime<Utc>>> {
        match self {
            Store::Sqlite(s) => s.newest_submission().await,
        }
    }

    /// The nearest daily date with papers before (`later == false`) or after `date`.
    pub async fn adjacent_daily_date(
        &self,
        date: NaiveDate,
        later: bool,
    ) -> Result<Option<NaiveDate>> {
        match self {
            Store::Sqlite(s) => s.adjacent_daily_date(date, later).await,
        }
    }

    pub async fn counts(&self) -> Result<StoreCounts> {
        match self {
            Store::Sqlite(s) => s.counts().await,
        }
    }

    /// True when the store holds no paper at all.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.counts().await?.papers == 0)
    }
}
