//! all-MiniLM-L6-v2 on ONNX Runtime: the int8 export, rewritten to multiply in int8
//! ([`super::graph`]), run by `ort` on the CPU.
//!
//! Texts are tokenised with the model's own WordPiece `tokenizer.json` (its baked-in padding and
//! truncation at 128 are replaced: truncation at [`MAX_TOKENS`], padding to the longest text of
//! each batch). Batches are built from texts of similar length, so little time goes to padding.
//! The output is mean-pooled over the attention mask and normalised, as sentence-transformers
//! does for this model.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use anyhow::{Context as _, anyhow};
use ndarray::Array2;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::Embedder;
use super::graph;
use super::weights::ModelFiles;
use crate::search::vectors::normalize;

/// Tokens per text, as sentence-transformers' `max_seq_length` for this model.
pub const MAX_TOKENS: usize = 256;
/// Texts per model call. One text per call measured fastest on 2 cores: no padding at all, and
/// batches of 4 and 8 texts embedded 43 and 41 texts/s against 59 (BENCHMARKS.md).
const BATCH: usize = 1;
const DIM: usize = 384;

pub struct MiniLm {
    tokenizer: Tokenizer,
    session: Mutex<Session>,
    model_id: String,
}

impl MiniLm {
    /// Loads ONNX Runtime, the model and the tokenizer; `threads` is ONNX Runtime's intra-op
    /// thread count (0: one per core).
    pub fn load(files: &ModelFiles, threads: usize) -> anyhow::Result<MiniLm> {
        MiniLm::load_rewritten_by(files, threads, graph::rewrite)
    }

    /// [`MiniLm::load`] with the graph rewritten by `rewrite` instead of [`graph::rewrite`]
    /// (tests give it one whose graph ONNX Runtime refuses, to see the fallback run).
    pub fn load_rewritten_by(
        files: &ModelFiles,
        threads: usize,
        rewrite: impl FnOnce(&[u8]) -> anyhow::Result<(Vec<u8>, graph::Rewrites)>,
    ) -> anyhow::Result<MiniLm> {
        let mut tokenizer = Tokenizer::from_file(&files.tokenizer)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("reading {}", files.tokenizer.display()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| anyhow!("{e}"))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        let environment = environment(&files.runtime)?;
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let exported = std::fs::read(&files.model)
            .with_context(|| format!("reading {}", files.model.display()))?;
        let rewritten =
            rewrite(&exported).with_context(|| format!("rewriting {}", files.model.display()))?;
        tracing::debug!(rewrites = ?rewritten.1, "embedding model graph rewritten");
        // An ONNX Runtime without the `com.microsoft` operators refuses the rewritten graph;
        // the export as it was still runs there, slower.
        let (session, int8) = match session(&environment, threads, &rewritten.0) {
            Ok(session) => (session, rewritten.1.any()),
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "ONNX Runtime refused the rewritten embedding model: running it as exported"
                );
                let session = session(&environment, threads, &exported)
                    .with_context(|| format!("loading {}", files.model.display()))?;
                (session, false)
            }
        };
        drop((exported, rewritten));
        // The vectors of the export as it was and of the rewritten graph differ a little
        // (cosine about 0.99), so they are kept apart.
        let model_id = if int8 {
            format!("all-MiniLM-L6-v2-int8-dynamic-{MAX_TOKENS}")
        } else {
            format!("all-MiniLM-L6-v2-int8-onnx-{MAX_TOKENS}")
        };
        Ok(MiniLm {
            tokenizer,
            session: Mutex::new(session),
            model_id,
        })
    }

    fn embed_batch(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow!("{e}"))?;
        let rows = encodings.len();
        let cols = encodings.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = Array2::<i64>::zeros((rows, cols));
        let mut mask = Array2::<i64>::zeros((rows, cols));
        let types = Array2::<i64>::zeros((rows, cols));
        for (r, e) in encodings.iter().enumerate() {
            for (c, (&id, &m)) in e.get_ids().iter().zip(e.get_attention_mask()).enumerate() {
                ids[[r, c]] = i64::from(id);
                mask[[r, c]] = i64::from(m);
            }
        }
        let mut session = self.session.lock().expect("session lock");
        let outputs = session
            .run(ort::inputs![
                "input_ids" => TensorRef::from_array_view(&ids).map_err(|e| anyhow!("{e}"))?,
                "attention_mask" => TensorRef::from_array_view(&mask).map_err(|e| anyhow!("{e}"))?,
                "token_type_ids" => TensorRef::from_array_view(&types).map_err(|e| anyhow!("{e}"))?,
            ])
            .map_err(|e| anyhow!("{e}"))
            .context("running the embedding model")?;
        let (shape, hidden) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| anyhow!("{e}"))?;
        let dim = *shape.last().unwrap_or(&0) as usize;
        if dim != DIM || hidden.len() != rows * cols * dim {
            return Err(anyhow!("unexpected model output shape {shape:?}"));
        }
        let mut out = Vec::with_capacity(rows);
        for r in 0..rows {
            let mut v = vec![0f32; dim];
            let mut n = 0f32;
            for c in 0..cols {
                if mask[[r, c]] == 0 {
                    continue;
                }
                n += 1.0;
                let at = (r * cols + c) * dim;
                for (acc, x) in v.iter_mut().zip(&hidden[at..at + dim]) {
                    *acc += x;
                }
            }
            if n > 0.0 {
                v.iter_mut().for_each(|x| *x /= n);
            }
            normalize(&mut v);
            out.push(v);
        }
        Ok(out)
    }
}

impl Embedder for MiniLm {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dim(&self) -> usize {
        DIM
    }

    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        // Length bucketing: embed in order of length, then put the vectors back in place.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (&i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

/// ONNX Runtime allows one environment per process: the first model loaded makes it (loading
/// the library from `runtime`), and every later one shares it, whatever its `runtime`.
fn environment(runtime: &Path) -> anyhow::Result<Environment> {
    static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);
    let mut shared = ENVIRONMENT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(environment) = shared.as_ref() {
        return Ok(environment.clone());
    }
    let environment = ort::init_from(runtime)
        .with_context(|| format!("loading ONNX Runtime from {}", runtime.display()))?
        .with_name("paperboy")
        .build()
        .map_err(|e| anyhow!("{e}"))?;
    *shared = Some(environment.clone());
    Ok(environment)
}

/// An ONNX Runtime session for the serialised model `bytes`, with `threads` intra-op threads.
fn session(environment: &Environment, threads: usize, bytes: &[u8]) -> anyhow::Result<Session> {
    Session::builder(environment)
        .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Level3)?))
        .and_then(|b| Ok(b.with_intra_threads(threads)?))
        // Spinning worker threads halve throughput when the cores are shared (measured).
        .and_then(|b| Ok(b.with_intra_op_spinning(false)?))
        // ONNX Runtime's arena keeps the buffers of one model call for the next: without it
        // each call's tensors are fresh mappings (glibc maps anything over 128 KiB, see
        // main.rs), which made embedding 45% slower. Its per-shape memory plans stay off: every
        // text has its own length, so they would only grow with the texts seen.
        .and_then(|b| {
            Ok(b.with_execution_providers([ort::ep::CPU::default()
                .with_arena_allocator(true)
                .build()])?)
        })
        .and_then(|b| Ok(b.with_memory_pattern(false)?))
        .and_then(|mut b| b.commit_from_memory(bytes))
        .map_err(|e| anyhow!("{e}"))
}
