//! Papers and the feed: merging imported records, reading papers and feed lists.

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, Transaction};

use super::{SqliteStore, date_text, parse_date, parse_time, time_text};
use crate::domain::merge::{MergeOutcome, Observed, merge};
use crate::domain::{ArxivId, FeedEntry, Paper, PaperVersion, Submitter};
use crate::store::{FeedOrder, FeedQuery, Result, StoreCounts, StoreError, WriteCounts};

pub(super) const PAPER_COLUMNS: &str = "p.paper_id, p.title, p.summary, p.authors, p.categories, p.comments, \
    p.journal_ref, p.doi, p.license, p.published_at, p.updated_at, p.github_repo, p.project_page, \
    p.ai_summary, p.ai_keywords, p.upvotes + p.member_upvotes AS upvotes, \
    p.num_comments + p.member_comments AS num_comments, p.daily_date, p.submitted_at, \
    p.feed_position, p.source_as_of, a.username, a.fullname, a.avatar_url";

/// The columns as imports merge them: the imported counts alone, without member activity
/// (`member_upvotes`, `member_comments`), which merges must never overwrite.
const STORED_COLUMNS: &str = "p.paper_id, p.title, p.summary, p.authors, p.categories, p.comments, \
    p.journal_ref, p.doi, p.license, p.published_at, p.updated_at, p.github_repo, p.project_page, \
    p.ai_summary, p.ai_keywords, p.upvotes, p.num_comments, p.daily_date, p.submitted_at, \
    p.feed_position, p.source_as_of, a.username, a.fullname, a.avatar_url";

impl SqliteStore {
    pub async fn merge_observed(&self, batch: Vec<Observed>) -> Result<WriteCounts> {
        if batch.is_empty() {
            return Ok(WriteCounts::default());
        }
        let mut tx = self.begin_write().await?;
        let counts = merge_in(&mut tx, batch).await?;
        tx.commit().await.context("committing an import batch")?;
        Ok(counts)
    }

    pub async fn paper(&self, id: &ArxivId) -> Result<Paper> {
        let sql = format!(
            "SELECT {PAPER_COLUMNS} FROM paper p LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE p.paper_id = ?"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .context("reading a paper")?
            .ok_or(StoreError::NotFound)?;
        let mut paper = paper_from_row(&row)?.paper;
        paper.versions = sqlx::query(
            "SELECT version, created_at FROM paper_version WHERE paper_id = ? ORDER BY version",
        )
        .bind(id.as_str())
        .fetch_all(&self.reader)
        .await
        .context("reading paper versions")?
        .iter()
        .map(version_from_row)
        .collect::<Result<_>>()?;
        Ok(paper)
    }

    pub async fn feed(&self, query: &FeedQuery) -> Result<Vec<Paper>> {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {PAPER_COLUMNS} FROM paper p LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE p.daily_date IS NOT NULL AND p.hidden_at IS NULL"
        ));
        if let Some(period) = query.period {
            qb.push(" AND p.daily_date >= ")
                .push_bind(date_text(period.first_day()))
                .push(" AND p.daily_date < ")
                .push_bind(date_text(period.end_day()));
        }
        if let Some(username) = &query.submitter {
            qb.push(" AND a.username = ").push_bind(username.clone());
        }
        qb.push(match query.order {
            FeedOrder::Upvotes => {
                " ORDER BY p.upvotes + p.member_upvotes DESC, p.daily_date ASC, p.feed_position ASC, \
                 p.paper_id ASC"
            }
            FeedOrder::Published => {
                " ORDER BY p.published_at IS NULL, p.published_at DESC, p.paper_id DESC"
            }
            FeedOrder::Latest => {
                " ORDER BY p.daily_date DESC, p.upvotes + p.member_upvotes DESC, p.feed_position ASC, \
                 p.paper_id ASC"
            }
        });
        qb.push(" LIMIT ")
            .push_bind(i64::from(query.limit))
            .push(" OFFSET ")
            .push_bind(i64::from(query.offset));
        let rows = qb
            .build()
            .fetch_all(&self.reader)
            .await
            .context("reading a feed")?;
        rows.iter()
            .map(|r| paper_from_row(r).map(|o| o.paper))
            .collect()
    }

    pub async fn submitted_since(&self, since: DateTime<Utc>) -> Result<Vec<Paper>> {
        let sql = format!(
            "SELECT {PAPER_COLUMNS} FROM paper p LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE p.submitted_at >= ? AND p.hidden_at IS NULL ORDER BY p.submitted_at DESC"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(time_text(since))
            .fetch_all(&self.reader)
            .await
            .context("reading recent submissions")?;
        rows.iter()
            .map(|r| paper_from_row(r).map(|o| o.paper))
            .collect()
    }

    pub async fn latest_daily_date(&self) -> Result<Option<NaiveDate>> {
        let date: Option<String> = sqlx::query_scalar("SELECT MAX(daily_date) FROM paper")
            .fetch_one(&self.reader)
            .await
            .context("reading the latest daily date")?;
        date.map(|d| parse_date(&d)).transpose()
    }

    pub async fn newest_submission(&self) -> Result<Option<DateTime<Utc>>> {
        let t: Option<String> = sqlx::query_scalar("SELECT MAX(submitted_at) FROM paper")
            .fetch_one(&self.reader)
            .await
            .context("reading the newest submission")?;
        t.map(|t| parse_time(&t)).transpose()
    }

    pub async fn adjacent_daily_date(
        &self,
        date: NaiveDate,
        later: bool,
    ) -> Result<Option<NaiveDate>> {
        let sql = if later {
            "SELECT MIN(daily_date) FROM paper WHERE daily_date > ?"
        } else {
            "SELECT MAX(daily_date) FROM paper WHERE daily_date < ?"
        };
        let d: Option<String> = sqlx::query_scalar(sql)
            .bind(date_text(date))
            .fetch_one(&self.reader)
            .await
            .context("reading an adjacent daily date")?;
        d.map(|d| parse_date(&d)).transpose()
    }

    pub async fn counts(&self) -> Result<StoreCounts> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM paper), \
                    (SELECT COUNT(*) FROM paper WHERE daily_date IS NOT NULL), \
                    (SELECT COUNT(DISTINCT daily_date) FROM paper WHERE daily_date IS NOT NULL), \
                    (SELECT COUNT(*) FROM account)",
        )
        .fetch_one(&self.reader)
        .await
        .context("counting rows")?;
        Ok(StoreCounts {
            papers: row.try_get(0).context("papers")?,
            papers_on_feed: row.try_get(1).context("papers on feed")?,
            feed_days: row.try_get(2).context("feed days")?,
            accounts: row.try_get(3).context("accounts")?,
        })
    }
}

/// Merges `batch` into the store inside `tx`, for callers that commit more in the same
/// transaction (a harvest page with its checkpoint, an import batch with its byte offset).
pub(super) async fn merge_in(
    tx: &mut Transaction<'static, Sqlite>,
    batch: Vec<Observed>,
) -> Result<WriteCounts> {
    let mut ids: Vec<String> = batch.iter().map(|o| o.paper.id.to_string()).collect();
    ids.sort();
    ids.dedup();
    let mut state = load_observed(tx, &ids).await?;
    let mut dirty: HashMap<String, bool> = HashMap::new(); // id -> content changed
    // Papers new to the store or whose title or abstract (what their vectors are embedded
    // from) changed: every other write keeps the paper's vectors current.
    let mut new_text: HashSet<String> = HashSet::new();
    let mut counts = WriteCounts::default();
    for incoming in batch {
        let id = incoming.paper.id.to_string();
        match merge(state.get(&id), incoming) {
            MergeOutcome::Added(o) => {
                counts.added += 1;
                dirty.insert(id.clone(), true);
                new_text.insert(id.clone());
                state.insert(id, o);
            }
            MergeOutcome::Updated(o) => {
                counts.updated += 1;
                dirty.insert(id.clone(), true);
                let stored = &state[&id].paper;
                if stored.title != o.paper.title || stored.summary != o.paper.summary {
                    new_text.insert(id.clone());
                }
                state.insert(id, o);
            }
            MergeOutcome::Refreshed(o) => {
                counts.unchanged += 1;
                dirty.entry(id.clone()).or_insert(false);
                state.insert(id, o);
            }
            MergeOutcome::Unchanged => counts.unchanged += 1,
        }
    }
    if !dirty.is_empty() {
        let seq = next_change_seq(tx).await?;
        let now = time_text(Utc::now());
        let mut accounts: HashMap<String, i64> = HashMap::new();
        let mut dirty_ids: Vec<&String> = dirty.keys().collect();
        dirty_ids.sort();
        let same_text: Vec<&str> = dirty_ids
            .iter()
            .filter(|id| !new_text.contains(id.as_str()))
            .map(|id| id.as_str())
            .collect();
        super::search::keep_vectors_current(tx, &same_text, seq).await?;
        let mut rows: Vec<(&Observed, Option<i64>)> = Vec::with_capacity(dirty_ids.len());
        for id in dirty_ids {
            let observed = &state[id];
            let submitter_id = match observed
                .paper
                .feed
                .as_ref()
                .and_then(|f| f.submitter.as_ref())
            {
                Some(s) => Some(account_id(tx, &mut accounts, s, &now).await?),
                None => None,
            };
            rows.push((observed, submitter_id));
        }
        for chunk in rows.chunks(PAPERS_PER_STATEMENT) {
            write_papers(tx, chunk, seq, &now).await?;
        }
    }
    Ok(counts)
}

/// Reads the stored state of `ids` (papers and versions) for merging.
async fn load_observed(
    tx: &mut Transaction<'static, Sqlite>,
    ids: &[String],
) -> Result<HashMap<String, Observed>> {
    let mut out = HashMap::with_capacity(ids.len());
    // SQLite allows 32766 bound parameters; stay well below.
    for chunk in ids.chunks(5000) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {STORED_COLUMNS} FROM paper p LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE p.paper_id IN ("
        ));
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(id.clone());
        }
        qb.push(")");
        let rows = qb
            .build()
            .fetch_all(&mut **tx)
            .await
            .context("reading stored papers")?;
        for row in &rows {
            let observed = paper_from_row(row)?;
            out.insert(observed.paper.id.to_string(), observed);
        }
        if rows.is_empty() {
            continue;
        }
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT paper_id, version, created_at FROM paper_version WHERE paper_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(id.clone());
        }
        qb.push(") ORDER BY paper_id, version");
        for row in qb
            .build()
            .fetch_all(&mut **tx)
            .await
            .context("reading stored versions")?
        {
            let id: String = row.try_get("paper_id").context("paper_id")?;
            let version = version_from_row(&row)?;
            if let Some(o) = out.get_mut(&id) {
                o.paper.versions.push(version);
            }
        }
    }
    Ok(out)
}

pub(super) async fn next_change_seq(tx: &mut Transaction<'static, Sqlite>) -> Result<i64> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE counter SET value = value + 1 WHERE name = 'paper_change_seq' RETURNING value",
    )
    .fetch_one(&mut **tx)
    .await
    .context("advancing the change sequence")?;
    Ok(seq)
}

async fn account_id(
    tx: &mut Transaction<'static, Sqlite>,
    cache: &mut HashMap<String, i64>,
    submitter: &Submitter,
    now: &str,
) -> Result<i64> {
    if let Some(id) = cache.get(&submitter.username) {
        return Ok(*id);
    }
    sqlx::query(
        "INSERT INTO account (username, fullname, avatar_url, created_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(&submitter.username)
    .bind(&submitter.fullname)
    .bind(&submitter.avatar_url)
    .bind(now)
    .execute(&mut **tx)
    .await
    .context("creating a submitter account")?;
    let id: i64 = sqlx::query_scalar("SELECT account_id FROM account WHERE username = ?")
        .bind(&submitter.username)
        .fetch_one(&mut **tx)
        .await
        .context("reading a submitter account")?;
    cache.insert(submitter.username.clone(), id);
    Ok(id)
}

/// Papers written by one multi-row upsert. One statement per paper spent most of an import in
/// statement overhead; 50 rows × 24 columns stays far below SQLite's 32,766 bound parameters.
const PAPERS_PER_STATEMENT: usize = 50;

/// Upserts `rows` (a paper and its submitter's account) and their versions, all stamped with the
/// change sequence `seq`.
async fn write_papers(
    tx: &mut Transaction<'static, Sqlite>,
    rows: &[(&Observed, Option<i64>)],
    seq: i64,
    now: &str,
) -> Result<()> {
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO paper (paper_id, title, summary, authors, categories, comments, journal_ref, doi, \
           license, published_at, updated_at, github_repo, project_page, ai_summary, ai_keywords, upvotes, \
           num_comments, daily_date, submitted_at, submitter_id, feed_position, source_as_of, created_at, \
           change_seq) ",
    );
    qb.push_values(rows, |mut b, (observed, submitter_id)| {
        let p = &observed.paper;
        let feed = p.feed.as_ref();
        b.push_bind(p.id.to_string())
            .push_bind(p.title.clone())
            .push_bind(p.summary.clone())
            .push_bind(json_list(&p.authors))
            .push_bind(json_list(&p.categories))
            .push_bind(p.comments.clone())
            .push_bind(p.journal_ref.clone())
            .push_bind(p.doi.clone())
            .push_bind(p.license.clone())
            .push_bind(p.published_at.map(time_text))
            .push_bind(p.updated_at.map(time_text))
            .push_bind(p.github_repo.clone())
            .push_bind(p.project_page.clone())
            .push_bind(p.ai_summary.clone())
            .push_bind(json_list(&p.ai_keywords))
            .push_bind(p.upvotes)
            .push_bind(p.num_comments)
            .push_bind(feed.map(|f| date_text(f.daily_date)))
            .push_bind(feed.map(|f| time_text(f.submitted_at)))
            .push_bind(*submitter_id)
            .push_bind(feed.map(|f| f.position))
            .push_bind(time_text(observed.as_of))
            .push_bind(now.to_owned())
            .push_bind(seq);
    });
    qb.push(
        " ON CONFLICT (paper_id) DO UPDATE SET title = excluded.title, summary = excluded.summary, \
           authors = excluded.authors, categories = excluded.categories, comments = excluded.comments, \
           journal_ref = excluded.journal_ref, doi = excluded.doi, license = excluded.license, \
           published_at = excluded.published_at, updated_at = excluded.updated_at, \
           github_repo = excluded.github_repo, project_page = excluded.project_page, \
           ai_summary = excluded.ai_summary, ai_keywords = excluded.ai_keywords, upvotes = excluded.upvotes, \
           num_comments = excluded.num_comments, daily_date = excluded.daily_date, \
           submitted_at = excluded.submitted_at, submitter_id = excluded.submitter_id, \
           feed_position = excluded.feed_position, source_as_of = excluded.source_as_of, \
           change_seq = excluded.change_seq",
    );
    qb.build().execute(&mut **tx).await.with_context(|| {
        let first = rows.first().map(|(o, _)| o.paper.id.to_string());
        format!(
            "writing {} papers from {}",
            rows.len(),
            first.unwrap_or_default()
        )
    })?;
    let versions: Vec<(&Paper, &PaperVersion)> = rows
        .iter()
        .flat_map(|(o, _)| o.paper.versions.iter().map(|v| (&o.paper, v)))
        .collect();
    for chunk in versions.chunks(PAPERS_PER_STATEMENT * 4) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO paper_version (paper_id, version, created_at) ");
        qb.push_values(chunk, |mut b, (p, v)| {
            b.push_bind(p.id.to_string())
                .push_bind(i64::from(v.version))
                .push_bind(v.created_at.map(time_text));
        });
        qb.push(" ON CONFLICT (paper_id, version) DO UPDATE SET created_at = excluded.created_at");
        qb.build()
            .execute(&mut **tx)
            .await
            .context("writing paper versions")?;
    }
    Ok(())
}

pub(super) fn paper_from_row(row: &SqliteRow) -> Result<Observed> {
    let get_text = |name: &str| -> Result<Option<String>> {
        Ok(row
            .try_get::<Option<String>, _>(name)
            .with_context(|| format!("column {name}"))?)
    };
    let id_text: String = row.try_get("paper_id").context("paper_id")?;
    let id = ArxivId::parse(&id_text).with_context(|| format!("stored paper id {id_text:?}"))?;
    let feed = match (get_text("daily_date")?, get_text("submitted_at")?) {
        (Some(day), Some(at)) => Some(FeedEntry {
            daily_date: parse_date(&day)?,
            submitted_at: parse_time(&at)?,
            submitter: match get_text("username")? {
                Some(username) => Some(Submitter {
                    username,
                    fullname: get_text("fullname")?.unwrap_or_default(),
                    avatar_url: get_text("avatar_url")?,
                }),
                None => None,
            },
            position: row
                .try_get::<Option<i64>, _>("feed_position")
                .context("feed_position")?
                .unwrap_or(0),
        }),
        _ => None,
    };
    let paper = Paper {
        id,
        title: row.try_get("title").context("title")?,
        authors: parse_list(&row.try_get::<String, _>("authors").context("authors")?)?,
        summary: row.try_get("summary").context("summary")?,
        categories: parse_list(
            &row.try_get::<String, _>("categories")
                .context("categories")?,
        )?,
        comments: get_text("comments")?,
        journal_ref: get_text("journal_ref")?,
        doi: get_text("doi")?,
        license: get_text("license")?,
        published_at: get_text("published_at")?
            .map(|t| parse_time(&t))
            .transpose()?,
        updated_at: get_text("updated_at")?
            .map(|t| parse_time(&t))
            .transpose()?,
        versions: Vec::new(),
        github_repo: get_text("github_repo")?,
        project_page: get_text("project_page")?,
        ai_summary: get_text("ai_summary")?,
        ai_keywords: parse_list(
            &row.try_get::<String, _>("ai_keywords")
                .context("ai_keywords")?,
        )?,
        upvotes: row.try_get("upvotes").context("upvotes")?,
        num_comments: row.try_get("num_comments").context("num_comments")?,
        feed,
    };
    let as_of = parse_time(
        &row.try_get::<String, _>("source_as_of")
            .context("source_as_of")?,
    )?;
    Ok(Observed { paper, as_of })
}

fn version_from_row(row: &SqliteRow) -> Result<PaperVersion> {
    let version: i64 = row.try_get("version").context("version")?;
    let created_at: Option<String> = row.try_get("created_at").context("created_at")?;
    Ok(PaperVersion {
        version: u32::try_from(version).context("version out of range")?,
        created_at: created_at.map(|t| parse_time(&t)).transpose()?,
    })
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

fn parse_list(s: &str) -> Result<Vec<String>> {
    Ok(serde_json::from_str(s).with_context(|| format!("stored list {s:?}"))?)
}

/// The page cache's change probe (`store::papers::ChangeProbe`): `PRAGMA data_version` on a
/// read-only connection of its own. SQLite changes a connection's data version whenever another
/// connection (in this process or any other) commits a change to the file, and never for the
/// connection's own writes; this one never writes. A pooled reader would not do: each
/// connection counts on its own, and the pool hands out any of them.
impl SqliteStore {
    pub async fn open_change_probe(&self) -> Result<sqlx::SqliteConnection> {
        use sqlx::ConnectOptions as _;
        Ok(self
            .reader
            .connect_options()
            .connect()
            .await
            .context("opening the change probe's connection")?)
    }

    pub async fn data_version(conn: &mut sqlx::SqliteConnection) -> Result<i64> {
        Ok(sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(conn)
            .await
            .context("reading the data version")?)
    }
}
