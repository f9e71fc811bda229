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

use anyhow::Context as _;

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
    match try_load(config) {
        Ok(embedder) => embedder,
        Err(err) => {
            tracing::warn!(error = format!("{err:#}"), "search is lexical only");
            None
        }
    }
}

/// The configured embedder (None when it is off), or why it cannot be had: no model files, or
/// files that do not load.
pub fn try_load(config: &Config) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    match config.search.embedder {
        EmbedderChoice::Off => Ok(None),
        EmbedderChoice::Hashed => Ok(Some(Arc::new(hashed::HashedEmbedder::new(384)))),
        EmbedderChoice::MiniLm => {
            let dir = &config.search.model_dir;
            let files = weights::ModelFiles::in_dir(dir);
            if !files.present() {
                anyhow::bail!(
                    "no embedding model in {} (run `paperboy embed --fetch-model`)",
                    dir.display()
                );
            }
            let model = minilm::MiniLm::load(&files, config.search.threads).with_context(|| {
                format!(
                    "the embedding model in {} does not load (delete that folder and run \
                     `paperboy embed --fetch-model` to fetch it again)",
                    dir.display()
                )
            })?;
            Ok(Some(Arc::new(model)))
        }
    }
}
