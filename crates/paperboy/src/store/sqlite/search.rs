//! SQL for search: papers in change order, papers by id, hidden papers, and embedding vectors.

use anyhow::Context as _;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, Transaction};

use super::SqliteStore;
use super::papers::{PAPER_COLUMNS, next_change_seq, paper_from_row};
use crate::domain::Paper;
use crate::store::Result;
use crate::store::search::{
    ChangedPaper, EmbedInput, StoredVector, vector_from_blob, vector_to_blob,
};

/// Papers that need a vector for model `?1`: none yet, or the paper changed since.
const TO_EMBED: &str = "FROM paper p LEFT JOIN paper_vector v ON v.paper_id = p.paper_id AND v.model = ?1 \
     WHERE (v.paper_id IS NULL OR v.paper_seq < p.change_seq)";

impl SqliteStore {
    pub async fn paper_change_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM counter WHERE name = 'paper_change_seq'")
                .fetch_one(&self.reader)
                .await
                .context("reading the paper change sequence")?,
        )
    }

    pub async fn count_papers_changed_after(&self, seq: i64, cap: u32) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM paper WHERE change_seq > ? LIMIT ?)",
        )
        .bind(seq)
        .bind(i64::from(cap))
        .fetch_one(&self.reader)
        .await
        .context("counting changed papers")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub async fn papers_changed_after(
        &self,
        seq: i64,
        id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ChangedPaper>> {
        // Without an id, start after every paper of `seq`: U+10FFFF sorts after any id.
        let id = id.unwrap_or("\u{10FFFF}");
        let sql = format!(
            "SELECT {PAPER_COLUMNS}, p.change_seq, p.hidden_at IS NOT NULL AS hidden FROM paper p \
             LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE (p.change_seq, p.paper_id) > (?, ?) ORDER BY p.change_seq, p.paper_id LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(seq)
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .context("reading changed papers")?;
        rows.iter()
            .map(|r| {
                Ok(ChangedPaper {
                    change_seq: r.try_get("change_seq").context("change_seq")?,
                    hidden: r.try_get::<i64, _>("hidden").context("hidden")? != 0,
                    paper: paper_from_row(r)?.paper,
                })
            })
            .collect()
    }

    pub async fn paper_hidden(&self, id: &str) -> Result<bool> {
        let hidden: Option<bool> =
            sqlx::query_scalar("SELECT hidden_at IS NOT NULL FROM paper WHERE paper_id = ?")
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .context("reading whether a paper is hidden")?;
        Ok(hidden.unwrap_or(false))
    }

    pub async fn hidden_paper_ids(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT paper_id FROM paper WHERE hidden_at IS NOT NULL")
                .fetch_all(&self.reader)
                .await
                .context("reading hidden papers")?,
        )
    }

    pub async fn papers_by_ids(&self, ids: &[String]) -> Result<Vec<Paper>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {PAPER_COLUMNS} FROM paper p LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE p.paper_id IN ("
        ));
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(id.clone());
        }
        qb.push(")");
        let rows = qb
            .build()
            .fetch_all(&self.reader)
            .await
            .context("reading papers by id")?;
        rows.iter()
            .map(|r| paper_from_row(r).map(|o| o.paper))
            .collect()
    }

    pub async fn papers_to_embed(
        &self,
        model: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EmbedInput>> {
        let sql = format!(
            "SELECT p.rowid, p.paper_id, p.title, p.summary, p.change_seq {TO_EMBED} \
             AND p.rowid > ?3 ORDER BY p.rowid LIMIT ?2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(model)
            .bind(i64::from(limit))
            .bind(after)
            .fetch_all(&self.reader)
            .await
            .context("reading papers to embed")?;
        rows.iter()
            .map(|r| {
                Ok(EmbedInput {
                    position: r.try_get("rowid").context("rowid")?,
                    paper_id: r.try_get("paper_id").context("paper_id")?,
                    title: r.try_get("title").context("title")?,
                    summary: r.try_get("summary").context("summary")?,
                    change_seq: r.try_get("change_seq").context("change_seq")?,
                })
            })
            .collect()
    }

    pub async fn count_papers_to_embed(&self, model: &str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) {TO_EMBED}");
        Ok(sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(model)
            .fetch_one(&self.reader)
            .await
            .context("counting papers to embed")?)
    }

    pub async fn put_vectors(&self, model: &str, items: &[(String, i64, Vec<f32>)]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (paper_id, seq, vector) in items {
            // Delete then insert, so the row gets a new vector_id and followers reload it.
            sqlx::query("DELETE FROM paper_vector WHERE paper_id = ? AND model = ?")
                .bind(paper_id)
                .bind(model)
                .execute(&mut *tx)
                .await
                .context("replacing a vector")?;
            sqlx::query(
                "INSERT INTO paper_vector (paper_id, model, paper_seq, vector) \
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM paper WHERE paper_id = ?1)",
            )
            .bind(paper_id)
            .bind(model)
            .bind(seq)
            .bind(vector_to_blob(vector))
            .execute(&mut *tx)
            .await
            .context("storing a vector")?;
        }
        tx.commit().await.context("committing vectors")?;
        Ok(())
    }

    pub async fn has_vectors_of_other_models(&self, model: &str) -> Result<bool> {
        // `model <> ?` would walk the whole `paper_vector_model` index; two ranges seek it.
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM paper_vector WHERE model < ?1) \
             OR EXISTS (SELECT 1 FROM paper_vector WHERE model > ?1)",
        )
        .bind(model)
        .fetch_one(&self.reader)
        .await
        .context("looking for vectors of other models")?)
    }

    pub async fn forget_vectors_of_other_models(&self, model: &str, limit: u32) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query(
            "DELETE FROM paper_vector WHERE vector_id IN \
             (SELECT vector_id FROM paper_vector WHERE model <> ?1 LIMIT ?2)",
        )
        .bind(model)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .context("deleting vectors of other models")?
        .rows_affected();
        tx.commit()
            .await
            .context("committing the deletion of vectors")?;
        Ok(gone)
    }

    pub async fn vectors_after(
        &self,
        model: &str,
        vector_id: i64,
        limit: u32,
    ) -> Result<Vec<StoredVector>> {
        let rows = sqlx::query(
            "SELECT vector_id, paper_id, vector FROM paper_vector \
             WHERE model = ? AND vector_id > ? ORDER BY vector_id LIMIT ?",
        )
        .bind(model)
        .bind(vector_id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .context("reading vectors")?;
        rows.iter()
            .map(|r| {
                let blob: Vec<u8> = r.try_get("vector").context("vector")?;
                Ok(StoredVector {
                    vector_id: r.try_get("vector_id").context("vector_id")?,
                    paper_id: r.try_get("paper_id").context("paper_id")?,
                    vector: vector_from_blob(&blob).context("a stored vector is not f32s")?,
                })
            })
            .collect()
    }
}

/// Gives `paper` a new `change_seq`, so that search sees a change that leaves its text alone
/// (an admin hiding or showing it), and keeps its vectors current so it is not embedded again.
pub(super) async fn restamp_for_search(
    tx: &mut Transaction<'static, Sqlite>,
    paper: &str,
) -> Result<()> {
    let seq = next_change_seq(tx).await?;
    keep_vectors_current(tx, &[paper], seq).await?;
    sqlx::query("UPDATE paper SET change_seq = ? WHERE paper_id = ?")
        .bind(seq)
        .bind(paper)
        .execute(&mut **tx)
        .await
        .context("restamping a paper")?;
    Ok(())
}

/// Moves the vectors of `papers` that are current up to `seq`, the change sequence a write is
/// about to stamp the papers with, so that they are not embedded again: for writes that leave a
/// paper's title and abstract (the embedded text) as they were. Call it before the papers'
/// `change_seq` changes.
pub(super) async fn keep_vectors_current(
    tx: &mut Transaction<'static, Sqlite>,
    papers: &[&str],
    seq: i64,
) -> Result<()> {
    // SQLite allows 32766 bound parameters; stay well below.
    for chunk in papers.chunks(5000) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("UPDATE paper_vector SET paper_seq = ");
        qb.push_bind(seq);
        qb.push(
            " WHERE paper_seq >= (SELECT change_seq FROM paper p WHERE p.paper_id = paper_vector.paper_id) \
             AND paper_id IN (",
        );
        let mut ids = qb.separated(", ");
        for id in chunk {
            ids.push_bind(*id);
        }
        qb.push(")");
        qb.build()
            .execute(&mut **tx)
            .await
            .context("keeping unchanged papers' vectors current")?;
    }
    Ok(())
}
