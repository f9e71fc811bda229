//! A deterministic bag-of-words embedder for tests: words hashed into buckets. It has no notion
//! of meaning; it lets tests exercise vectors, related papers and hybrid ranking without weights.

use std::hash::{Hash, Hasher};

use super::Embedder;
use crate::search::vectors::normalize;

pub struct HashedEmbedder {
    dim: usize,
}

impl HashedEmbedder {
    pub fn new(dim: usize) -> HashedEmbedder {
        HashedEmbedder { dim }
    }
}

impl Embedder for HashedEmbedder {
    fn model_id(&self) -> &str {
        "hashed-words-v1"
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|text| {
                let mut v = vec![0f32; self.dim];
                for word in text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.len() > 2)
                {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    word.to_lowercase().hash(&mut h);
                    v[(h.finish() % self.dim as u64) as usize] += 1.0;
                }
                normalize(&mut v);
                v
            })
            .collect())
    }
}
