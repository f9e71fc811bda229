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
//!   SQLite file holding a table with the same columns as paperboy's `paper` (read from a fresh
//!   store), a TEXT primary key, no secondary index, no CHECK and no foreign key (WAL,
//!   `synchronous=FULL`, the same cache size), through sqlx as well.
//!
//! The medians of [`ROUNDS`] rounds (`PAPERBOY_BENCH_ROUNDS` overrides) go into a markdown table.
//!
//! `PAPERBOY_BENCH_BREAKDOWN=1` adds rows that show where the difference goes: paperboy's write
//! path alone (`Store::merge_observed` on pre-parsed batches), and baseline variants that each
//! take on one of the costs of paperboy's writes (its exact table with its secondary indexes, a
//! commit per 1000 rows, the upsert statement), all of them, and all of them with multi-row
//! INSERTs (a possible fix).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use flate2::read::MultiGzDecoder;
use sqlx::query::Query;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection as _, SqliteConnection};

use paperboy::domain::merge::Observed;
use paperboy::domain::paper::hf_timestamp;
use paperboy::ingest::{self, Format, jsonl};
use paperboy::store::Store;

/// Rounds per side; the table reports medians.
const ROUNDS: usize = 3;
/// The data file, inside the shared data folder.
const FILE: &str = "papers.jsonl.gz";
/// Records per import batch, as in `paperboy::ingest`.
const IMPORT_BATCH: usize = 1000;
/// The breakdown row for paperboy's write path alone.
const MERGE_ONLY: &str = "breakdown: paperboy `merge_observed` alone (pre-parsed batches)";
/// Paperboy stays within this factor of the plain insert time (issue 2).
const TARGET_RATIO: f64 = 2.0;

/// The INSERT that paperboy's `write_paper` runs, up to its VALUES.
const INSERT_HEAD: &str = "INSERT INTO paper (paper_id, title, summary, authors, categories, \
    comments, journal_ref, doi, license, published_at, updated_at, github_repo, project_page, \
    ai_summary, ai_keywords, upvotes, num_comments, daily_date, submitted_at, submitter_id, \
    feed_position, source_as_of, created_at, change_seq) VALUES ";

/// One row's placeholders.
const ROW_VALUES: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Breakdown only: the conflict clause of paperboy's upsert.
const UPSERT_CLAUSE: &str = " ON CONFLICT (paper_id) DO UPDATE SET title = excluded.title, \
    summary = excluded.summary, authors = excluded.authors, categories = excluded.categories, \
    comments = excluded.comments, journal_ref = excluded.journal_ref, doi = excluded.doi, \
    license = excluded.license, published_at = excluded.published_at, \
    updated_at = excluded.updated_at, github_repo = excluded.github_repo, \
    project_page = excluded.project_page, ai_summary = excluded.ai_summary, \
    ai_keywords = excluded.ai_keywords, upvotes = excluded.upvotes, \
    num_comments = excluded.num_comments, daily_date = excluded.daily_date, \
    submitted_at = excluded.submitted_at, submitter_id = excluded.submitter_id, \
    feed_position = excluded.feed_position, source_as_of = excluded.source_as_of, \
    change_seq = excluded.change_seq";

/// How a baseline run writes its rows.
#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    /// Paperboy's own `paper` table and indexes instead of the plain table.
    indexes: bool,
    /// Commit every this many rows instead of once.
    batch: Option<usize>,
    /// Use paperboy's `ON CONFLICT … DO UPDATE` statement.
    upsert: bool,
    /// Rows per INSERT statement (paperboy and the baseline: 1).
    rows_per_statement: usize,
}

/// The baseline of issue 2.
const PLAIN: Variant = Variant {
    name: "baseline: plain inserts, one transaction",
    indexes: false,
    batch: None,
    upsert: false,
    rows_per_statement: 1,
};

/// With `PAPERBOY_BENCH_BREAKDOWN=1`: the baseline plus one of paperboy's costs at a time.
const BREAKDOWN: &[Variant] = &[
    Variant {
        name: "breakdown: plain + paperboy's table and indexes",
        indexes: true,
        ..PLAIN
    },
    Variant {
        name: "breakdown: plain + a commit every 1000 rows",
        batch: Some(1000),
        ..PLAIN
    },
    Variant {
        name: "breakdown: plain + upsert statement",
        upsert: true,
        ..PLAIN
    },
    Variant {
        name: "breakdown: table and indexes + commit per 1000 + upsert",
        indexes: true,
        batch: Some(1000),
        upsert: true,
        ..PLAIN
    },
    Variant {
        name: "breakdown: the same with 50 rows per INSERT statement",
        indexes: true,
        batch: Some(1000),
        upsert: true,
        rows_per_statement: 50,
    },
];

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

/// Seconds per round, by what was measured.
struct Timings {
    paperboy: Vec<Duration>,
    parse: Vec<Duration>,
    insert: Vec<Duration>,
    parse_and_insert: Vec<Duration>,
    /// Breakdown only: [`MERGE_ONLY`].
    merge_only: Vec<Duration>,
    /// One list per [`BREAKDOWN`] variant, when asked for.
    breakdown: Vec<Vec<Duration>>,
}

async fn run(file: &Path) -> Result<()> {
    let rounds = rounds()?;
    let breakdown: &[Variant] = match std::env::var("PAPERBOY_BENCH_BREAKDOWN") {
        Ok(v) if !v.is_empty() && v != "0" => BREAKDOWN,
        _ => &[],
    };
    let scratch = tempfile::Builder::new()
        .prefix("import-bench-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .context("creating a scratch folder")?;
    println!(
        "import bench: {} ({:.1} MB), {rounds} round(s), scratch in {}; load average {}",
        file.display(),
        file.metadata()?.len() as f64 / 1e6,
        scratch.path().display(),
        load_average()
    );
    let schema = Schema::read(&scratch.path().join("schema.db")).await?;
    let mut t = Timings {
        paperboy: Vec::new(),
        parse: Vec::new(),
        insert: Vec::new(),
        parse_and_insert: Vec::new(),
        merge_only: Vec::new(),
        breakdown: vec![Vec::new(); breakdown.len()],
    };
    let mut rows_expected = None;
    let check = |what: &str, n: u64, expected: &mut Option<u64>| -> Result<()> {
        if expected.is_some_and(|e| e != n) {
            bail!("row counts differ: {what} wrote {n} rows, not {expected:?}");
        }
        *expected = Some(n);
        Ok(())
    };
    for round in 1..=rounds {
        let dir = scratch.path().join(format!("round-{round}"));
        std::fs::create_dir_all(&dir)?;

        let (elapsed, added) = paperboy_import(file, &dir.join("paperboy.db")).await?;
        report(round, "paperboy import_paths", elapsed, added);
        check("paperboy", added, &mut rows_expected)?;
        t.paperboy.push(elapsed);

        let start = Instant::now();
        let rows = tokio::task::block_in_place(|| read_rows(file))?;
        let parse = start.elapsed();
        report(round, "baseline decode+parse", parse, rows.len() as u64);
        let (insert, inserted) =
            baseline_insert(&rows, &dir.join("baseline.db"), &schema, PLAIN).await?;
        report(round, "baseline plain inserts", insert, inserted);
        check("the baseline", inserted, &mut rows_expected)?;
        t.parse.push(parse);
        t.insert.push(insert);
        t.parse_and_insert.push(parse + insert);

        if !breakdown.is_empty() {
            let batches = tokio::task::block_in_place(|| read_batches(file))?;
            let (elapsed, added) = paperboy_merge_only(batches, &dir.join("merge.db")).await?;
            report(round, MERGE_ONLY, elapsed, added);
            check(MERGE_ONLY, added, &mut rows_expected)?;
            t.merge_only.push(elapsed);
        }
        for (i, variant) in breakdown.iter().enumerate() {
            let db = dir.join(format!("breakdown-{i}.db"));
            let (elapsed, inserted) = baseline_insert(&rows, &db, &schema, *variant).await?;
            report(round, variant.name, elapsed, inserted);
            check(variant.name, inserted, &mut rows_expected)?;
            t.breakdown[i].push(elapsed);
        }
        drop(rows);
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    println!("load average at the end: {}", load_average());
    print_table(&t, breakdown, rows_expected.unwrap_or(0), rounds);
    Ok(())
}

fn report(round: usize, what: &str, elapsed: Duration, rows: u64) {
    println!(
        "round {round}: {what:<48} {:>7.2} s ({rows} rows)",
        elapsed.as_secs_f64()
    );
}

/// `/proc/loadavg`'s first three fields: the machine is shared, so the tables say how busy it was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The baseline's DDL, taken from a fresh paperboy store so that it follows the migrations.
struct Schema {
    /// `paper`'s columns (names, types, NOT NULL, defaults), paper_id the TEXT primary key; no
    /// CHECK, no foreign key, no secondary index.
    plain: Vec<String>,
    /// Paperboy's own `CREATE TABLE paper` and `CREATE INDEX … ON paper` statements.
    paperboy: Vec<String>,
}

impl Schema {
    async fn read(db: &Path) -> Result<Schema> {
        Store::open_sqlite(db).await?;
        let options = SqliteConnectOptions::new().filename(db).read_only(true);
        let mut conn = SqliteConnection::connect_with(&options).await?;
        let columns: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('paper') ORDER BY cid",
        )
        .fetch_all(&mut conn)
        .await
        .context("reading paperboy's paper columns")?;
        if !columns.iter().any(|(name, ..)| name == "paper_id") {
            bail!("paperboy's paper table has no paper_id column");
        }
        let columns: Vec<String> = columns
            .into_iter()
            .map(|(name, ty, not_null, default)| {
                let mut column = format!("{name} {ty}");
                if name == "paper_id" {
                    column.push_str(" PRIMARY KEY");
                } else if not_null {
                    column.push_str(" NOT NULL");
                }
                if let Some(default) = default {
                    column.push_str(&format!(" DEFAULT {default}"));
                }
                column
            })
            .collect();
        let paperboy: Vec<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'paper' AND sql IS NOT NULL \
             ORDER BY type = 'index', name",
        )
        .fetch_all(&mut conn)
        .await
        .context("reading paperboy's paper schema")?;
        conn.close().await?;
        Ok(Schema {
            plain: vec![format!("CREATE TABLE paper ({})", columns.join(", "))],
            paperboy,
        })
    }
}

/// Breakdown only: paperboy's write path alone, `Store::merge_observed` on pre-parsed batches.
async fn paperboy_merge_only(batches: Vec<Vec<Observed>>, db: &Path) -> Result<(Duration, u64)> {
    let store = Store::open_sqlite(db).await?;
    let start = Instant::now();
    let mut added = 0;
    for batch in batches {
        added += store.merge_observed(batch).await?.added;
    }
    Ok((start.elapsed(), added))
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

/// Decompresses `file` and parses each line with paperboy's JSONL parser (the line number is
/// the feed position, as in `import_paths`).
fn for_each_record(file: &Path, mut each: impl FnMut(Observed)) -> Result<()> {
    let raw = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let reader = BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(BufReader::new(raw)));
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let line_no = index + 1;
        let observed = jsonl::parse_line(&line, line_no as i64)
            .map_err(|e| anyhow::anyhow!("{}:{line_no}: {e}", file.display()))?;
        each(observed);
    }
    Ok(())
}

/// Breakdown only: the parsed records in import batches of 1000.
fn read_batches(file: &Path) -> Result<Vec<Vec<Observed>>> {
    let mut batches: Vec<Vec<Observed>> = Vec::new();
    for_each_record(file, |observed| match batches.last_mut() {
        Some(batch) if batch.len() < IMPORT_BATCH => batch.push(observed),
        _ => batches.push(vec![observed]),
    })?;
    Ok(batches)
}

/// Decompresses and parses `file` into the values each row holds.
fn read_rows(file: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(120_000);
    for_each_record(file, |observed| {
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
    })?;
    Ok(rows)
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

/// Plain inserts: a fresh file, one prepared INSERT per row, one transaction (timed: from the
/// first BEGIN to the last COMMIT). `variant` adds some of paperboy's costs for the breakdown.
async fn baseline_insert(
    rows: &[Row],
    db: &Path,
    schema: &Schema,
    variant: Variant,
) -> Result<(Duration, u64)> {
    let options = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(false)
        .pragma("cache_size", "-32000");
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .context("opening the baseline database")?;
    let ddl = if variant.indexes {
        &schema.paperboy
    } else {
        &schema.plain
    };
    for sql in ddl {
        sqlx::query(AssertSqlSafe(sql.as_str()))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating the baseline schema: {sql}"))?;
    }
    let statement = |rows: usize| {
        let mut sql = INSERT_HEAD.to_owned();
        sql.push_str(&vec![ROW_VALUES; rows].join(", "));
        if variant.upsert {
            sql.push_str(UPSERT_CLAUSE);
        }
        sql
    };
    let per_statement = variant.rows_per_statement.max(1);
    let full = statement(per_statement);
    let batch = variant.batch.unwrap_or(rows.len()).max(1);
    let now = hf_timestamp(Utc::now());

    let start = Instant::now();
    for chunk in rows.chunks(batch) {
        let mut tx = conn.begin().await?;
        for group in chunk.chunks(per_statement) {
            let partial;
            let sql = if group.len() == per_statement {
                full.as_str()
            } else {
                partial = statement(group.len());
                partial.as_str()
            };
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for row in group {
                query = bind_row(query, row, &now);
            }
            query
                .execute(&mut *tx)
                .await
                .with_context(|| format!("inserting {}", group[0].paper_id))?;
        }
        tx.commit().await.context("committing the baseline")?;
    }
    let elapsed = start.elapsed();

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM paper")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok((elapsed, u64::try_from(count)?))
}

/// Binds one row's 24 values, as `write_paper` does (no submitter, change_seq 1).
fn bind_row<'q>(
    query: Query<'q, Sqlite, SqliteArguments>,
    row: &'q Row,
    now: &'q str,
) -> Query<'q, Sqlite, SqliteArguments> {
    query
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
        .bind(now)
        .bind(1_i64)
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

fn print_table(t: &Timings, breakdown: &[Variant], rows: u64, rounds: usize) {
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
    line(PLAIN.name, &t.insert);
    line("baseline: decode + parse only", &t.parse);
    line(
        "baseline: decode + parse, then plain inserts",
        &t.parse_and_insert,
    );
    if !t.merge_only.is_empty() {
        line(MERGE_ONLY, &t.merge_only);
    }
    for (variant, samples) in breakdown.iter().zip(&t.breakdown) {
        line(variant.name, samples);
    }
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
