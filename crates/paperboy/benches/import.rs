//! Import benchmark (issue 2): paperboy's import path vs plain SQLite inserts of the same rows.
//!
//! Run with `cargo bench -p paperboy --bench import`. It reads `papers.jsonl.gz` from
//! `$PAPERBOY_SHARED_DATA` or `<repo>/../shared/data`, and exits 0 with a note where it is absent.
//!
//! Each round, in turn:
//! - **paperboy**: `import_paths(&store, &[file], Format::Auto, false, …)` into a fresh
//!   `Store::open_sqlite` database (production settings: WAL, `synchronous=FULL`, one writer,
//!   batches of 1000). Timed: the whole call (decompress, parse, merge, write), not the open.
//! - **baseline**: decompress and parse the same file with the same parser into row values
//!   (timed separately), then one prepared `INSERT` per row inside one transaction into a fresh
//!   SQLite file holding a table with the same columns, a TEXT primary key and no secondary
//!   index (WAL, `synchronous=FULL`, the same cache size), through sqlx as well.
//!
//! The medians of [`ROUNDS`] rounds (`PAPERBOY_BENCH_ROUNDS` overrides) go into a markdown table.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use flate2::read::MultiGzDecoder;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, SqliteConnection};

use paperboy::domain::paper::hf_timestamp;
use paperboy::ingest::{self, Format, jsonl};
use paperboy::store::Store;

/// Rounds per side; the table reports medians.
const ROUNDS: usize = 3;
/// The data file, inside the shared data folder.
const FILE: &str = "papers.jsonl.gz";
/// Paperboy stays within this factor of the plain insert time (issue 2).
const TARGET_RATIO: f64 = 2.0;

/// The same columns as paperboy's `paper` table (migrations/sqlite/0001_init.sql), with a TEXT
/// primary key and no secondary index.
const BASELINE_SCHEMA: &str = "CREATE TABLE paper (
    paper_id TEXT PRIMARY KEY, title TEXT NOT NULL, summary TEXT NOT NULL, authors TEXT NOT NULL,
    categories TEXT NOT NULL, comments TEXT, journal_ref TEXT, doi TEXT, license TEXT,
    published_at TEXT, updated_at TEXT, github_repo TEXT, project_page TEXT, ai_summary TEXT,
    ai_keywords TEXT NOT NULL, upvotes INTEGER NOT NULL, num_comments INTEGER NOT NULL,
    daily_date TEXT, submitted_at TEXT, submitter_id INTEGER, feed_position INTEGER,
    source_as_of TEXT NOT NULL, created_at TEXT NOT NULL, change_seq INTEGER NOT NULL)";

const BASELINE_INSERT: &str = "INSERT INTO paper (paper_id, title, summary, authors, categories, \
    comments, journal_ref, doi, license, published_at, updated_at, github_repo, project_page, \
    ai_summary, ai_keywords, upvotes, num_comments, daily_date, submitted_at, submitter_id, \
    feed_position, source_as_of, created_at, change_seq) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// One `paper` row, as the values paperboy binds for it.
struct Row {
    paper_id: String,
    title: String,
    summary: String,
    authors: String,
    categories: String,
    comments: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
    license: Option<String>,
    published_at: Option<String>,
    updated_at: Option<String>,
    github_repo: Option<String>,
    project_page: Option<String>,
    ai_summary: Option<String>,
    ai_keywords: String,
    upvotes: i64,
    num_comments: i64,
    daily_date: Option<String>,
    submitted_at: Option<String>,
    feed_position: Option<i64>,
    source_as_of: String,
}

fn main() -> ExitCode {
    let Some(file) = data_file() else {
        return ExitCode::SUCCESS;
    };
    // The binary's runtime: `#[tokio::main]`, one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(&file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("import bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `papers.jsonl.gz` in the shared data folder, or None (with a note) when it is absent.
fn data_file() -> Option<PathBuf> {
    let dir = std::env::var_os("PAPERBOY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let file = dir.join(FILE);
    if file.is_file() {
        Some(file)
    } else {
        println!(
            "import bench skipped: {} not found (set PAPERBOY_SHARED_DATA to the folder holding \
             {FILE}; the large data lives outside the repo)",
            file.display()
        );
        None
    }
}

fn rounds() -> Result<usize> {
    match std::env::var("PAPERBOY_BENCH_ROUNDS") {
        Ok(n) => match n.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!("PAPERBOY_BENCH_ROUNDS={n:?} is not a positive number"),
        },
        Err(_) => Ok(ROUNDS),
    }
}

#[derive(Default)]
struct Timings {
    paperboy: Vec<Duration>,
    parse: Vec<Duration>,
    insert: Vec<Duration>,
    parse_and_insert: Vec<Duration>,
}

async fn run(file: &Path) -> Result<()> {
    let rounds = rounds()?;
    let scratch = tempfile::Builder::new()
        .prefix("import-bench-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .context("creating a scratch folder")?;
    println!(
        "import bench: {} ({:.1} MB), {rounds} round(s), scratch in {}",
        file.display(),
        file.metadata()?.len() as f64 / 1e6,
        scratch.path().display()
    );
    let mut t = Timings::default();
    let mut rows_expected = None;
    for round in 1..=rounds {
        let dir = scratch.path().join(format!("round-{round}"));

        let (elapsed, added) = paperboy_import(file, &dir.join("paperboy.db")).await?;
        println!(
            "round {round}: paperboy import_paths      {:>7.2} s ({added} rows)",
            elapsed.as_secs_f64()
        );
        t.paperboy.push(elapsed);

        let start = Instant::now();
        let rows = tokio::task::block_in_place(|| read_rows(file))?;
        let parse = start.elapsed();
        let (insert, inserted) = baseline_insert(&rows, &dir.join("baseline.db")).await?;
        println!(
            "round {round}: baseline decode+parse      {:>7.2} s ({} rows)",
            parse.as_secs_f64(),
            rows.len()
        );
        println!(
            "round {round}: baseline plain inserts     {:>7.2} s ({inserted} rows)",
            insert.as_secs_f64()
        );
        drop(rows);
        t.parse.push(parse);
        t.insert.push(insert);
        t.parse_and_insert.push(parse + insert);

        if added != inserted || rows_expected.is_some_and(|n| n != added) {
            bail!("row counts differ: paperboy added {added}, the baseline inserted {inserted}");
        }
        rows_expected = Some(added);
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    print_table(&t, rows_expected.unwrap_or(0), rounds);
    Ok(())
}

/// Production's import: a fresh store, then `import_paths` (timed).
async fn paperboy_import(file: &Path, db: &Path) -> Result<(Duration, u64)> {
    let store = Store::open_sqlite(db).await?;
    let mut problems = 0u64;
    let start = Instant::now();
    let report = ingest::import_paths(
        &store,
        &[file.to_path_buf()],
        Format::Auto,
        false,
        |problem| {
            problems += 1;
            if problems <= 5 {
                eprintln!("paperboy import: {problem}");
            }
        },
    )
    .await?;
    let elapsed = start.elapsed();
    if report.skipped > 0 || report.failed_files > 0 {
        bail!(
            "paperboy skipped {} record(s) and failed {} file(s)",
            report.skipped,
            report.failed_files
        );
    }
    Ok((elapsed, report.counts.added))
}

/// Decompresses and parses `file` with paperboy's JSONL parser into the values a row holds.
fn read_rows(file: &Path) -> Result<Vec<Row>> {
    let raw = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let reader = BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(BufReader::new(raw)));
    let mut rows = Vec::with_capacity(120_000);
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let line_no = index + 1;
        let observed = jsonl::parse_line(&line, line_no as i64)
            .map_err(|e| anyhow::anyhow!("{}:{line_no}: {e}", file.display()))?;
        let p = observed.paper;
        let feed = p.feed.as_ref();
        rows.push(Row {
            paper_id: p.id.to_string(),
            authors: json_list(&p.authors),
            categories: json_list(&p.categories),
            ai_keywords: json_list(&p.ai_keywords),
            published_at: p.published_at.map(hf_timestamp),
            updated_at: p.updated_at.map(hf_timestamp),
            daily_date: feed.map(|f| f.daily_date.format("%Y-%m-%d").to_string()),
            submitted_at: feed.map(|f| hf_timestamp(f.submitted_at)),
            feed_position: feed.map(|f| f.position),
            source_as_of: hf_timestamp(observed.as_of),
            title: p.title,
            summary: p.summary,
            comments: p.comments,
            journal_ref: p.journal_ref,
            doi: p.doi,
            license: p.license,
            github_repo: p.github_repo,
            project_page: p.project_page,
            ai_summary: p.ai_summary,
            upvotes: p.upvotes,
            num_comments: p.num_comments,
        });
    }
    Ok(rows)
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

/// Plain inserts: a fresh file, one prepared INSERT per row, one transaction (timed: the
/// transaction, from BEGIN to COMMIT).
async fn baseline_insert(rows: &[Row], db: &Path) -> Result<(Duration, u64)> {
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let options = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .pragma("cache_size", "-32000");
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .context("opening the baseline database")?;
    sqlx::query(BASELINE_SCHEMA)
        .execute(&mut conn)
        .await
        .context("creating the baseline table")?;
    let now = hf_timestamp(Utc::now());

    let start = Instant::now();
    let mut tx = conn.begin().await?;
    for row in rows {
        sqlx::query(BASELINE_INSERT)
            .bind(&row.paper_id)
            .bind(&row.title)
            .bind(&row.summary)
            .bind(&row.authors)
            .bind(&row.categories)
            .bind(&row.comments)
            .bind(&row.journal_ref)
            .bind(&row.doi)
            .bind(&row.license)
            .bind(&row.published_at)
            .bind(&row.updated_at)
            .bind(&row.github_repo)
            .bind(&row.project_page)
            .bind(&row.ai_summary)
            .bind(&row.ai_keywords)
            .bind(row.upvotes)
            .bind(row.num_comments)
            .bind(&row.daily_date)
            .bind(&row.submitted_at)
            .bind(None::<i64>)
            .bind(row.feed_position)
            .bind(&row.source_as_of)
            .bind(&now)
            .bind(1_i64)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("inserting {}", row.paper_id))?;
    }
    tx.commit().await.context("committing the baseline")?;
    let elapsed = start.elapsed();

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM paper")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok((elapsed, u64::try_from(count)?))
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    }
}

fn print_table(t: &Timings, rows: u64, rounds: usize) {
    let base = median(&t.insert).as_secs_f64();
    let line = |name: &str, samples: &[Duration]| {
        let secs = median(samples).as_secs_f64();
        let runs: Vec<String> = samples
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect();
        println!(
            "| {name} | {:.0} | {secs:.2} | {:.2}× | {} |",
            rows as f64 / secs,
            secs / base,
            runs.join(", ")
        );
    };
    println!("\n{rows} rows, median of {rounds} round(s):\n");
    println!("| import | rows/s | seconds | ratio to plain inserts | runs (s) |");
    println!("|---|---:|---:|---:|---|");
    line(
        "paperboy `import_paths` (decode + parse + merge + write)",
        &t.paperboy,
    );
    line("baseline: plain inserts, one transaction", &t.insert);
    line("baseline: decode + parse only", &t.parse);
    line(
        "baseline: decode + parse, then plain inserts",
        &t.parse_and_insert,
    );
    let ratio = median(&t.paperboy).as_secs_f64() / base;
    println!(
        "\nratio paperboy / plain inserts: {ratio:.2}× (target ≤ {TARGET_RATIO:.1}×): {}",
        if ratio <= TARGET_RATIO {
            "met"
        } else {
            "MISSED"
        }
    );
}
