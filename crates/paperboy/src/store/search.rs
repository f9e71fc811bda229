//! What search needs from the store: papers in change order (the index watermark), papers by
//! id, which papers admins hid, and the embedding vectors stored with each paper.

use super::{Result, Store};
use crate::domain::{ArxivId, Paper};

/// A paper that has no vector yet for a model (or changed since it got one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedInput {
    /// The paper's place in the order papers are embedded in: the next page starts after it.
    pub position: i64,
    pub paper_id: String,
    pub title: String,
    pub summary: String,
    pub change_seq: i64,
}

/// A paper as the index follows it: its `change_seq` and whether an admin hid it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedPaper {
    pub change_seq: i64,
    pub paper: Paper,
    /// Hidden papers leave search and related papers until they are shown again.
    pub hidden: bool,
}

/// A stored vector.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVector {
    pub vector_id: i64,
    pub paper_id: String,
    pub vector: Vec<f32>,
}

impl Store {
    /// The newest paper `change_seq` handed out.
    pub async fn paper_change_seq(&self) -> Result<i64> {
        match self {
            Store::Sqlite(s) => s.paper_change_seq().await,
        }
    }

    /// How many papers changed after `seq`, counting up to `cap` at most (a cheap answer to "is
    /// the backlog small?").
    pub async fn count_papers_changed_after(&self, seq: i64, cap: u32) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.count_papers_changed_after(seq, cap).await,
        }
    }

    /// Up to `limit` papers after `(seq, id)` in `(change_seq, paper_id)` order (after every
    /// paper of `seq` when `id` is None), with their `change_seq`. Versions are not filled in.
    pub async fn papers_changed_after(
        &self,
        seq: i64,
        id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ChangedPaper>> {
        match self {
            Store::Sqlite(s) => s.papers_changed_after(seq, id, limit).await,
        }
    }

    /// Whether an admin has hidden `id` (false for a paper not in the store).
    pub async fn paper_hidden(&self, id: &ArxivId) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.paper_hidden(id.as_str()).await,
        }
    }

    /// Every paper an admin has hidden (hiding or showing one advances its `change_seq`).
    pub async fn hidden_paper_ids(&self) -> Result<Vec<String>> {
        match self {
            Store::Sqlite(s) => s.hidden_paper_ids().await,
        }
    }

    /// The papers among `ids` that exist, in no particular order. Versions are not filled in.
    pub async fn papers_by_ids(&self, ids: &[String]) -> Result<Vec<Paper>> {
        match self {
            Store::Sqlite(s) => s.papers_by_ids(ids).await,
        }
    }

    /// Up to `limit` papers with no vector for `model` (or an outdated one), oldest rows first,
    /// starting after `after` (an [`EmbedInput::position`]; 0 for the start). Paging by
    /// position keeps a long backfill from rereading the papers it has already embedded.
    pub async fn papers_to_embed(
        &self,
        model: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EmbedInput>> {
        match self {
            Store::Sqlite(s) => s.papers_to_embed(model, after, limit).await,
        }
    }

    /// How many papers [`Store::papers_to_embed`] would return without a limit.
    pub async fn count_papers_to_embed(&self, model: &str) -> Result<i64> {
        match self {
            Store::Sqlite(s) => s.count_papers_to_embed(model).await,
        }
    }

    /// Stores vectors for `model` (replacing older ones) in one transaction. Each item is
    /// (paper id, the paper's change_seq when embedded, vector).
    pub async fn put_vectors(&self, model: &str, items: &[(String, i64, Vec<f32>)]) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.put_vectors(model, items).await,
        }
    }

    /// Whether any vector of a model other than `model` is stored (two index probes).
    pub async fn has_vectors_of_other_models(&self, model: &str) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.has_vectors_of_other_models(model).await,
        }
    }

    /// Deletes up to `limit` vectors of models other than `model`, in one transaction; returns
    /// how many went. Called once every paper has a vector of `model`, in batches, so the
    /// writer is never held for long.
    pub async fn forget_vectors_of_other_models(&self, model: &str, limit: u32) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.forget_vectors_of_other_models(model, limit).await,
        }
    }

    /// Up to `limit` vectors of `model` written after `vector_id`, in write order.
    pub async fn vectors_after(
        &self,
        model: &str,
        vector_id: i64,
        limit: u32,
    ) -> Result<Vec<StoredVector>> {
        match self {
            Store::Sqlite(s) => s.vectors_after(model, vector_id, limit).await,
        }
    }
}

/// A vector as stored: little-endian f32.
pub fn vector_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Reads a stored vector; None when the blob is not a whole number of f32s.
pub fn vector_from_blob(b: &[u8]) -> Option<Vec<f32>> {
    b.len().is_multiple_of(4).then(|| {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_as_little_endian_f32() {
        let v = vec![1.0, -0.5, 0.25, f32::MIN_POSITIVE];
        let b = vector_to_blob(&v);
        assert_eq!(&b[..4], &1.0f32.to_le_bytes());
        assert_eq!(vector_from_blob(&b).unwrap(), v);
        assert!(vector_from_blob(&[0, 1, 2]).is_none());
    }
}
