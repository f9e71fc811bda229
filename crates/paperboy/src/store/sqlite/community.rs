//! Upvotes, saved papers, comments, submissions and moderation, in SQLite.

use std::collections::HashSet;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite};

use super::papers::{PAPER_COLUMNS, next_change_seq, paper_from_row};
use super::{SqliteStore, date_text, parse_date, parse_time, time_text};
use crate::domain::ArxivId;
use crate::domain::Paper;
use crate::store::community::{Comment, SubmitOutcome, VoteState};
use crate::store::{Result, StoreError};

const COMMENT_COLUMNS: &str = "c.comment_id, c.paper_id, c.account_id, a.username, a.fullname, \
    c.body, c.created_at, c.edited_at IS NOT NULL AS edited, c.hidden_at IS NOT NULL AS hidden";

fn comment_from_row(row: &SqliteRow) -> Result<Comment> {
    Ok(Comment {
        id: row.try_get("comment_id").context("comment_id")?,
        paper_id: row.try_get("paper_id").context("paper_id")?,
        account_id: row.try_get("account_id").context("account_id")?,
        username: row.try_get("username").context("username")?,
        fullname: row.try_get("fullname").context("fullname")?,
        body: row.try_get("body").context("body")?,
        created_at: parse_time(
            &row.try_get::<String, _>("created_at")
                .context("created_at")?,
        )?,
        edited: row.try_get::<i64, _>("edited").context("edited")? != 0,
        hidden: row.try_get::<i64, _>("hidden").context("hidden")? != 0,
    })
}

impl SqliteStore {
    pub async fn set_upvote(
        &self,
        account_id: i64,
        paper: &ArxivId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<VoteState> {
        let mut tx = self.begin_write().await?;
        let changed = if on {
            sqlx::query(
                "INSERT INTO upvote (account_id, paper_id, created_at) \
                 SELECT ?, paper_id, ? FROM paper WHERE paper_id = ? \
                 ON CONFLICT (paper_id, account_id) DO NOTHING",
            )
            .bind(account_id)
            .bind(time_text(now))
            .bind(paper.as_str())
            .execute(&mut *tx)
            .await
            .context("writing an upvote")?
            .rows_affected()
        } else {
            sqlx::query("DELETE FROM upvote WHERE account_id = ? AND paper_id = ?")
                .bind(account_id)
                .bind(paper.as_str())
                .execute(&mut *tx)
                .await
                .context("deleting an upvote")?
                .rows_affected()
        };
        let delta: i64 = match (changed, on) {
            (0, _) => 0,
            (_, true) => 1,
            (_, false) => -1,
        };
        let upvotes: Option<i64> = sqlx::query_scalar(
            "UPDATE paper SET member_upvotes = member_upvotes + ? WHERE paper_id = ? \
             RETURNING upvotes + member_upvotes",
        )
        .bind(delta)
        .bind(paper.as_str())
        .fetch_optional(&mut *tx)
        .await
        .context("counting an upvote")?;
        let upvotes = upvotes.ok_or(StoreError::NotFound)?;
        if delta != 0 {
            tx.commit().await.context("committing an upvote")?;
        }
        Ok(VoteState {
            upvoted: on,
            upvotes,
        })
    }

    pub async fn upvoted_among(
        &self,
        account_id: i64,
        papers: &[ArxivId],
    ) -> Result<HashSet<String>> {
        self.ids_among("upvote", account_id, papers).await
    }

    pub async fn saved_among(
        &self,
        account_id: i64,
        papers: &[ArxivId],
    ) -> Result<HashSet<String>> {
        self.ids_among("saved_paper", account_id, papers).await
    }

    async fn ids_among(
        &self,
        table: &'static str,
        account_id: i64,
        papers: &[ArxivId],
    ) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in papers.chunks(500) {
            let mut qb: QueryBuilder<Sqlite> =
                QueryBuilder::new(format!("SELECT paper_id FROM {table} WHERE account_id = "));
            qb.push_bind(account_id).push(" AND paper_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id.as_str().to_owned());
            }
            qb.push(")");
            let ids: Vec<String> = qb
                .build_query_scalar()
                .fetch_all(&self.reader)
                .await
                .with_context(|| format!("reading {table} rows"))?;
            out.extend(ids);
        }
        Ok(out)
    }

    pub async fn upvoters(&self, paper: &ArxivId, limit: u32) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT a.username, a.fullname FROM upvote u JOIN account a ON a.account_id = u.account_id \
             WHERE u.paper_id = ? ORDER BY u.created_at, a.account_id LIMIT ?",
        )
        .bind(paper.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .context("reading upvoters")?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("username").context("username")?,
                    r.try_get("fullname").context("fullname")?,
                ))
            })
            .collect()
    }

    pub async fn set_saved(
        &self,
        account_id: i64,
        paper: &ArxivId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT paper_id FROM paper WHERE paper_id = ?")
                .bind(paper.as_str())
                .fetch_optional(&mut *tx)
                .await
                .context("reading a paper to save")?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        if on {
            sqlx::query(
                "INSERT INTO saved_paper (account_id, paper_id, created_at) VALUES (?, ?, ?) \
                 ON CONFLICT (account_id, paper_id) DO NOTHING",
            )
            .bind(account_id)
            .bind(paper.as_str())
            .bind(time_text(now))
            .execute(&mut *tx)
            .await
            .context("saving a paper")?;
        } else {
            sqlx::query("DELETE FROM saved_paper WHERE account_id = ? AND paper_id = ?")
                .bind(account_id)
                .bind(paper.as_str())
                .execute(&mut *tx)
                .await
                .context("unsaving a paper")?;
        }
        tx.commit().await.context("committing a saved paper")?;
        Ok(on)
    }

    pub async fn saved_papers(&self, account_id: i64, limit: u32) -> Result<Vec<Paper>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PAPER_COLUMNS} FROM saved_paper s JOIN paper p ON p.paper_id = s.paper_id \
             LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE s.account_id = ? AND p.hidden_at IS NULL \
             ORDER BY s.created_at DESC, p.paper_id LIMIT ?"
        )))
        .bind(account_id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .context("reading saved papers")?;
        rows.iter()
            .map(|r| paper_from_row(r).map(|o| o.paper))
            .collect()
    }

    pub async fn set_saved_feed_token(
        &self,
        account_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO saved_feed_token (account_id, token_hash, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (account_id) DO UPDATE \
             SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(account_id)
        .bind(token_hash)
        .bind(time_text(now))
        .execute(&mut *tx)
        .await
        .context("writing a saved-feed token")?;
        tx.commit().await.context("committing a saved-feed token")?;
        Ok(())
    }

    pub async fn revoke_saved_feed_token(&self, account_id: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM saved_feed_token WHERE account_id = ?")
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .context("revoking a saved-feed token")?
            .rows_affected();
        tx.commit()
            .await
            .context("committing a saved-feed revocation")?;
        Ok(n == 1)
    }

    pub async fn saved_feed_token_created(&self, account_id: i64) -> Result<Option<DateTime<Utc>>> {
        let created: Option<String> =
            sqlx::query_scalar("SELECT created_at FROM saved_feed_token WHERE account_id = ?")
                .bind(account_id)
                .fetch_optional(&self.reader)
                .await
                .context("reading a saved-feed token")?;
        created.as_deref().map(parse_time).transpose()
    }

    pub async fn saved_feed_owner(&self, token_hash: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT t.account_id FROM saved_feed_token t \
             JOIN account a ON a.account_id = t.account_id \
             WHERE t.token_hash = ? AND a.banned_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await
        .context("reading a saved-feed token")?)
    }

    pub async fn add_comment(
        &self,
        account_id: i64,
        paper: &ArxivId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Comment> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE paper SET member_comments = member_comments + 1 WHERE paper_id = ?",
        )
        .bind(paper.as_str())
        .execute(&mut *tx)
        .await
        .context("counting a comment")?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO comment (paper_id, account_id, body, created_at) VALUES (?, ?, ?, ?) \
             RETURNING comment_id",
        )
        .bind(paper.as_str())
        .bind(account_id)
        .bind(body)
        .bind(time_text(now))
        .fetch_one(&mut *tx)
        .await
        .context("writing a comment")?;
        tx.commit().await.context("committing a comment")?;
        self.comment_on(&self.writer, id).await
    }

    async fn comment_on(&self, pool: &sqlx::SqlitePool, id: i64) -> Result<Comment> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COMMENT_COLUMNS} FROM comment c JOIN account a ON a.account_id = c.account_id \
             WHERE c.comment_id = ? AND c.deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("reading a comment")?
        .ok_or(StoreError::NotFound)?;
        comment_from_row(&row)
    }

    pub async fn comment(&self, id: i64) -> Result<Comment> {
        self.comment_on(&self.reader, id).await
    }

    pub async fn comments(&self, paper: &ArxivId, include_hidden: bool) -> Result<Vec<Comment>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COMMENT_COLUMNS} FROM comment c JOIN account a ON a.account_id = c.account_id \
             WHERE c.paper_id = ? AND c.deleted_at IS NULL AND (? OR c.hidden_at IS NULL) \
             ORDER BY c.created_at, c.comment_id"
        )))
        .bind(paper.as_str())
        .bind(include_hidden)
        .fetch_all(&self.reader)
        .await
        .context("reading comments")?;
        rows.iter().map(comment_from_row).collect()
    }

    pub async fn recent_comments(&self, limit: u32) -> Result<Vec<Comment>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COMMENT_COLUMNS} FROM comment c JOIN account a ON a.account_id = c.account_id \
             WHERE c.deleted_at IS NULL ORDER BY c.comment_id DESC LIMIT ?"
        )))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .context("reading recent comments")?;
        rows.iter().map(comment_from_row).collect()
    }

    pub async fn edit_comment(
        &self,
        account_id: i64,
        id: i64,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE comment SET body = ?, edited_at = ? \
             WHERE comment_id = ? AND account_id = ? AND deleted_at IS NULL",
        )
        .bind(body)
        .bind(time_text(now))
        .bind(id)
        .bind(account_id)
        .execute(&mut *tx)
        .await
        .context("editing a comment")?
        .rows_affected();
        tx.commit().await.context("committing a comment edit")?;
        Ok(n == 1)
    }

    pub async fn delete_comment(
        &self,
        account_id: i64,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE comment SET deleted_at = ? \
             WHERE comment_id = ? AND account_id = ? AND deleted_at IS NULL \
             RETURNING paper_id, hidden_at IS NOT NULL AS hidden",
        )
        .bind(time_text(now))
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await
        .context("deleting a comment")?;
        let Some(row) = row else { return Ok(false) };
        let hidden: i64 = row.try_get("hidden").context("hidden")?;
        if hidden == 0 {
            let paper_id: String = row.try_get("paper_id").context("paper_id")?;
            sqlx::query(
                "UPDATE paper SET member_comments = member_comments - 1 WHERE paper_id = ?",
            )
            .bind(paper_id)
            .execute(&mut *tx)
            .await
            .context("uncounting a comment")?;
        }
        tx.commit().await.context("committing a comment deletion")?;
        Ok(true)
    }

    pub async fn set_comment_hidden(
        &self,
        id: i64,
        hidden: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let sql = if hidden {
            "UPDATE comment SET hidden_at = ? WHERE comment_id = ? AND hidden_at IS NULL \
             AND deleted_at IS NULL RETURNING paper_id"
        } else {
            "UPDATE comment SET hidden_at = NULL WHERE comment_id = ? AND hidden_at IS NOT NULL \
             AND deleted_at IS NULL AND ? IS NOT NULL RETURNING paper_id"
        };
        let mut q = sqlx::query_scalar::<_, String>(sql);
        q = if hidden {
            q.bind(time_text(now)).bind(id)
        } else {
            q.bind(id).bind(time_text(now))
        };
        let paper_id = q
            .fetch_optional(&mut *tx)
            .await
            .context("hiding a comment")?;
        if let Some(paper_id) = paper_id {
            sqlx::query(
                "UPDATE paper SET member_comments = member_comments + ? WHERE paper_id = ?",
            )
            .bind(if hidden { -1 } else { 1 })
            .bind(paper_id)
            .execute(&mut *tx)
            .await
            .context("recounting comments")?;
        }
        tx.commit().await.context("committing a comment hide")?;
        Ok(())
    }

    pub async fn set_paper_hidden(
        &self,
        paper: &ArxivId,
        hidden: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE paper SET hidden_at = ? WHERE paper_id = ?")
            .bind(hidden.then(|| time_text(now)))
            .bind(paper.as_str())
            .execute(&mut *tx)
            .await
            .context("hiding a paper")?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        // Search follows `change_seq`: the paper leaves (or rejoins) results and related papers.
        super::search::restamp_for_search(&mut tx, paper.as_str()).await?;
        tx.commit().await.context("committing a paper hide")?;
        Ok(())
    }

    pub async fn hidden_papers(&self) -> Result<Vec<ArxivId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT paper_id FROM paper WHERE hidden_at IS NOT NULL ORDER BY hidden_at DESC LIMIT 200",
        )
        .fetch_all(&self.reader)
        .await
        .context("reading hidden papers")?;
        ids.iter()
            .map(|id| Ok(ArxivId::parse(id).with_context(|| format!("stored paper id {id:?}"))?))
            .collect()
    }

    pub async fn submit_paper(
        &self,
        account_id: i64,
        paper: &ArxivId,
        today: NaiveDate,
        day_start: DateTime<Utc>,
        per_day: i64,
        now: DateTime<Utc>,
    ) -> Result<SubmitOutcome> {
        let mut tx = self.begin_write().await?;
        let day: Option<Option<String>> =
            sqlx::query_scalar("SELECT daily_date FROM paper WHERE paper_id = ?")
                .bind(paper.as_str())
                .fetch_optional(&mut *tx)
                .await
                .context("reading a paper to submit")?;
        match day {
            None => return Err(StoreError::NotFound),
            Some(Some(day)) => return Ok(SubmitOutcome::AlreadyOnFeed(parse_date(&day)?)),
            Some(None) => {}
        }
        let submitted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM paper WHERE submitter_id = ? AND submitted_at >= ?",
        )
        .bind(account_id)
        .bind(time_text(day_start))
        .fetch_one(&mut *tx)
        .await
        .context("counting today's submissions")?;
        if submitted >= per_day {
            return Ok(SubmitOutcome::DailyLimit(submitted));
        }
        let seq = next_change_seq(&mut tx).await?;
        super::search::keep_vectors_current(&mut tx, &[paper.as_str()], seq).await?;
        sqlx::query(
            "UPDATE paper SET daily_date = ?1, submitted_at = ?2, submitter_id = ?3, \
               feed_position = (SELECT COALESCE(MAX(feed_position), -1) + 1 FROM paper \
                                WHERE daily_date = ?1), change_seq = ?4 \
             WHERE paper_id = ?5",
        )
        .bind(date_text(today))
        .bind(time_text(now))
        .bind(account_id)
        .bind(seq)
        .bind(paper.as_str())
        .execute(&mut *tx)
        .await
        .context("putting a paper on the feed")?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PAPER_COLUMNS} FROM paper p LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE p.paper_id = ?"
        )))
        .bind(paper.as_str())
        .fetch_one(&mut *tx)
        .await
        .context("reading the submitted paper")?;
        let submitted = paper_from_row(&row)?.paper;
        tx.commit().await.context("committing a submission")?;
        Ok(SubmitOutcome::Submitted(Box::new(submitted)))
    }
}
