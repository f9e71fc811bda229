//! Sentence embeddings: the [`Embedder`] trait, the local all-MiniLM-L6-v2 model, and where its
//! weights come from.
//!
//! One model per vector index: vectors from different models are not comparable, so every stored
//! vector is tagged with [`Embedder::model_id`] and only vectors of the configured model are
//! loaded.

pub mod graph;
pub mod hashed;
pub mod minilm;
pub mod weights;

use std::sync::Arc;

use crate::config::{Config, EmbedderChoice};

/// Turns texts into unit-length vectors.
pub trait Embedder: Send + Sync {
    /// A stable name for the model and its settings; stored with every vector.
    fn model_id(&self) -> &str;
    fn dim(&self) -> usize;
    /// Embeds `texts` (one vector each, unit length). Documents and queries use the same call.
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>>;
}

/// The text of a paper that is embedded: its title and abstract.
pub fn paper_text(title: &str, summary: &str) -> String {
    format!("{title}. {summary}")
}

/// The configured embedder, or None (lexical search only) when the model's files are missing or
/// fail to load; the reason is logged.
pub fn load(config: &Config) -> Option<Arc<dyn Embedder>> {
    match config.search.embedder {
        EmbedderChoice::Off => None,
        EmbedderChoice::Hashed => Some(Arc::new(hashed::HashedEmbedder::new(384))),
        EmbedderChoice::MiniLm => {
            let files = weights::ModelFiles::in_dir(&config.search.model_dir);
            if !files.present() {
                tracing::warn!(
                    dir = %config.search.model_dir.display(),
                    "no embedding model: search is lexical only (run `paperboy embed --fetch-model`)"
                );
                return None;
            }
            match minilm::MiniLm::load(&files, config.search.threads) {
                Ok(m) => Some(Arc::new(m)),
                Err(err) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "the embedding model failed to load: search is lexical only"
                    );
                    None
                }
            }
        }
    }
}
