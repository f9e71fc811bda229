//! The SQLite backend: one file in WAL mode, a single writer connection and a pool of readers.
//!
//! Connection settings, and why:
//! - `journal_mode=WAL`: readers never block the writer, and the writer never blocks readers.
//! - `synchronous=FULL`: every commit is fsynced to the WAL before it is acknowledged, so an
//!   accepted write (an upvote, a subscription) survives power loss, not only a killed process.
//!   Imports commit in large batches, so the cost of FULL is a few fsyncs per thousand rows.
//! - `foreign_keys=ON`, and `busy_timeout` of 10 s for other processes (a CLI import while the
//!   server runs).
//! - Writes go through one connection and open with `BEGIN IMMEDIATE`, so a transaction never
//!   has to upgrade a read lock, and `SQLITE_BUSY` cannot reach a user from inside the process.

mod community;
mod harvest;
mod import;
mod jobs;
mod mail;
mod members;
mod papers;
mod search;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::{Result, StoreError};
use crate::domain::paper::hf_timestamp;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How many reader connections to keep. Reads are short; a few cover two cores.
const READERS: u32 = 4;
/// SQLite's page cache per connection, in KiB (negative, as the pragma takes it). The writer's
/// is large for imports; each reader's is half that: every reader's cache lives as long as the
/// server, and 32 MiB each cost a server about 100 MB of memory after loading the vectors,
/// while 4 MiB each made a search page about 2 ms slower (BENCHMARKS.md, serve RSS). Mapping
/// the file instead (`mmap_size`) was as fast but showed the whole database once per reader
/// in the server's RSS.
const WRITER_CACHE_KIB: &str = "-32000";
const READER_CACHE_KIB: &str = "-16000";
/// What all of SQLite's memory in the process may come to, in bytes, before its page caches
/// recycle their own pages instead of growing: the caches above may each fill, but not all at
/// once. A bulk import (the writer alone) still gets nearly all its cache; a server, whose four
/// readers otherwise filled 96 MB with the vectors' and the results' pages, stays near this.
/// It cut serve's memory after the HTTP search benchmark from 451 to 349-359 MB without
/// slowing it, or a bulk import (BENCHMARKS.md, serve RSS).
const HEAP_LIMIT_BYTES: &str = "33554432";

/// The SQLite store. Cheap to clone: both pools are shared handles.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

/// That `what` (the database or its directory) cannot be written: SQLite says only "unable to
/// open database file" (code 14) or, later, "attempt to write a readonly database".
fn cannot_write(what: &Path) -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "{} cannot be written (check its permissions): paperboy keeps its database and its \
         write-ahead log there",
        what.display()
    ))
}

/// Why opening the database at `path` failed, when it is the directory's permission. Tried,
/// not guessed from mode bits (root, ACLs and read-only mounts all count), and only after
/// opening failed, so a good start pays for no probe file.
fn unwritable_dir(path: &Path) -> Option<StoreError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let probe = dir.join(format!(".paperboy-write-test-{}", std::process::id()));
    let writable = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    (!writable).then(|| cannot_write(dir))
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Other(if dir.exists() && !dir.is_dir() {
                    anyhow::anyhow!(
                        "the data directory {} is a file, not a directory",
                        dir.display()
                    )
                } else {
                    anyhow::Error::new(e)
                        .context(format!("creating data directory {}", dir.display()))
                })
            })?;
        }
        // A database file that cannot be written would open read-only and fail at the first
        // write instead.
        if path.exists() && std::fs::OpenOptions::new().append(true).open(path).is_err() {
            return Err(cannot_write(path));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", WRITER_CACHE_KIB)
            .pragma("soft_heap_limit", HEAP_LIMIT_BYTES);
        let opened: Result<SqlitePool> = async {
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .connect_with(options.clone())
                .await
                .with_context(|| format!("opening database {}", path.display()))?;
            MIGRATOR.run(&writer).await.map_err(|e| match e {
                sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::UnknownMigration(v),
                other => StoreError::Other(
                    anyhow::Error::new(other)
                        .context(format!("migrating database {}", path.display())),
                ),
            })?;
            Ok(writer)
        }
        .await;
        let writer = opened.map_err(|e| unwritable_dir(path).unwrap_or(e))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(
                options
                    .read_only(true)
                    .pragma("cache_size", READER_CACHE_KIB),
            )
            .await
            .with_context(|| format!("opening database {} for reading", path.display()))?;
        Ok(SqliteStore { reader, writer })
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .context("starting a write transaction")?)
    }
}

/// Formats a date as stored: `YYYY-MM-DD`.
pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Reads a stored date.
pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    Ok(s.parse::<NaiveDate>()
        .with_context(|| format!("stored date {s:?}"))?)
}

/// Formats a timestamp as stored: `YYYY-MM-DDTHH:MM:SS.sssZ`, which sorts as text.
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    hf_timestamp(t)
}

/// Reads a stored timestamp.
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("stored timestamp {s:?}"))?
        .with_timezone(&Utc))
}
