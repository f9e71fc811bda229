//! Search: the tantivy index (BM25), the vector index (sentence embeddings), and hybrid ranking
//! by a weighted combination of their normalised scores ([`fuse`]).
//!
//! Both indexes are derived from the store and follow it: [`Search::catch_up`] reads papers whose
//! `change_seq` is past the index watermark and embeds papers without a vector. `serve` runs it at
//! start-up (which repairs a missing or stale index) and then keeps following; searches also
//! catch up first when no one else is and the backlog is small, so a search right after a
//! submission or a small import sees the new papers ([`Search::catch_up_if_idle`]).
//! Papers an admin hid are left out of the lexical index and skipped by the vector scan, so no
//! search mode and no related-papers box shows them; hiding advances `change_seq`, so the next
//! catch-up sees it.

pub mod highlight;
pub mod index;
pub mod query;
pub mod vectors;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use crate::embed::{Embedder, paper_text};
use crate::store::Store;
use highlight::Highlighter;
use index::{Hit, LexicalIndex};
use query::ParsedQuery;
use vectors::VectorIndex;

/// Papers read from the store per index batch.
const INDEX_BATCH: u32 = 2000;
/// Papers embedded per store round trip.
const EMBED_BATCH: u32 = 64;
/// Vectors of other models deleted per write transaction, once the current model's are complete.
const FORGET_BATCH: u32 = 2_000;
/// Vectors read from the store per round trip at start-up (each batch is 1.5 KB a vector in
/// f32 before it is quantised, so small batches keep the start-up peak low).
const VECTOR_BATCH: u32 = 2_000;
/// The semantic leg's weight in the hybrid score (see [`fuse`]), chosen on the judged query set
/// (BENCHMARKS.md, "Search quality").
pub const SEMANTIC_WEIGHT: f32 = 0.6;
/// The power of the lexical coverage that scales the lexical leg's weight (see [`fuse`]).
pub const COVERAGE_POWER: i32 = 2;
/// The most changed papers a search indexes itself before it runs ([`Search::catch_up_if_idle`]).
const INLINE_CATCH_UP: u32 = 500;
/// How deep each ranking goes before fusion.
const FUSION_DEPTH: usize = 100;
/// How deep a hybrid ranking goes when a page reaches past the fused top [`FUSION_DEPTH`]:
/// the most results the /search pages show (50 pages of 20).
pub const DEEP_DEPTH: usize = 1000;

/// How results are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    Lexical,
    Semantic,
    #[default]
    Hybrid,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "lexical" => Some(Mode::Lexical),
            "semantic" => Some(Mode::Semantic),
            "hybrid" => Some(Mode::Hybrid),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Lexical => "lexical",
            Mode::Semantic => "semantic",
            Mode::Hybrid => "hybrid",
        }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Results {
    /// Paper ids, best first.
    pub ids: Vec<String>,
    /// For lexical ranking, the number of matching papers. Ranked by meaning (semantic,
    /// hybrid), every paper is some distance away, so there is no such number: this is how
    /// many were ranked to answer the page, and says only whether a next page exists.
    pub total: usize,
    /// The mode actually used: semantic and hybrid fall back to lexical without a model, or
    /// when the query has no text.
    pub mode: Mode,
    /// Hybrid only: false when no paper holds the query's words, so every result is there for
    /// its meaning alone (the page says so).
    pub words_matched: Option<bool>,
}

/// Whether the index holds every paper of the store, as a search found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Current,
    /// Many papers changed since the index was brought up to date (a bulk import, or a rebuild
    /// after a crash), and `serve` is still indexing them: some are not searchable yet.
    CatchingUp,
}

/// The search service: one per process, shared through `App`.
pub struct Search {
    lexical: LexicalIndex,
    vectors: RwLock<VectorIndex>,
    embedder: Option<Arc<dyn Embedder>>,
    /// The newest `vector_id` loaded from the store.
    vector_mark: AtomicI64,
    /// The paper `change_seq` up to which [`Search::embed_missing`] last found every paper
    /// embedded: while the store's sequence stays there, there is nothing to look for.
    embedded_through: AtomicI64,
    /// Whether the vector index has been told which papers were hidden before this process
    /// started (later changes arrive through the change sequence).
    hidden_loaded: AtomicBool,
    /// Held while catching up, so only one task writes the index at a time.
    gate: tokio::sync::Mutex<()>,
}

/// What a catch-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    pub indexed: u64,
    pub vectors_loaded: u64,
}

impl Search {
    /// Opens (or creates, or rebuilds) the index in `dir`. It may be behind the store until
    /// [`Search::catch_up`] runs.
    pub fn open(dir: &Path, embedder: Option<Arc<dyn Embedder>>) -> anyhow::Result<Search> {
        Search::with_index(LexicalIndex::open(dir)?, embedder)
    }

    /// A search over an index in memory, for tests and benchmarks.
    pub fn in_ram(embedder: Option<Arc<dyn Embedder>>) -> anyhow::Result<Search> {
        Search::with_index(LexicalIndex::in_ram()?, embedder)
    }

    fn with_index(
        lexical: LexicalIndex,
        embedder: Option<Arc<dyn Embedder>>,
    ) -> anyhow::Result<Search> {
        let dim = embedder.as_ref().map_or(0, |e| e.dim());
        Ok(Search {
            lexical,
            vectors: RwLock::new(VectorIndex::new(dim)),
            embedder,
            vector_mark: AtomicI64::new(0),
            embedded_through: AtomicI64::new(i64::MIN),
            hidden_loaded: AtomicBool::new(false),
            gate: tokio::sync::Mutex::new(()),
        })
    }

    pub fn lexical(&self) -> &LexicalIndex {
        &self.lexical
    }

    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.as_ref()
    }

    /// True when semantic search is available (a model is loaded).
    pub fn semantic_available(&self) -> bool {
        self.embedder.is_some()
    }

    /// Vectors loaded, and the bytes of their matrix.
    pub fn vector_stats(&self) -> (usize, usize) {
        let v = self.vectors.read().expect("vectors lock");
        (v.len(), v.matrix_bytes())
    }

    /// Puts vectors straight into the in-memory index (benchmarks; normalised here).
    pub fn fill_vectors(&self, items: impl Iterator<Item = (String, Vec<f32>)>) {
        let mut index = self.vectors.write().expect("vectors lock");
        for (id, mut v) in items {
            vectors::normalize(&mut v);
            index.upsert(&id, &v);
        }
    }

    /// Brings the index up to the store's change sequence and loads vectors written since the
    /// last call. Waits for a catch-up already running.
    pub async fn catch_up(&self, store: &Store) -> anyhow::Result<CatchUp> {
        let _gate = self.gate.lock().await;
        self.catch_up_locked(store).await
    }

    /// What a search does before it runs: when only a few papers changed since the index was
    /// last brought up to date (a submission, a small import), it indexes them first, so the
    /// search sees them. It never waits: not behind another catch-up, and not for a backlog of
    /// more than [`INLINE_CATCH_UP`] papers (a bulk import, a rebuild after a crash), which
    /// `serve`'s follower works through; then it answers [`Freshness::CatchingUp`], and the
    /// search runs on the index as it is.
    pub async fn catch_up_if_idle(&self, store: &Store) -> anyhow::Result<Freshness> {
        let target = store.paper_change_seq().await?;
        let mark = self.lexical.watermark();
        if mark > target
            || (mark < target
                && store
                    .count_papers_changed_after(mark, INLINE_CATCH_UP + 1)
                    .await?
                    > u64::from(INLINE_CATCH_UP))
        {
            return Ok(Freshness::CatchingUp);
        }
        if let Ok(_gate) = self.gate.try_lock() {
            self.catch_up_to(store, target).await?;
        }
        Ok(Freshness::Current)
    }

    async fn catch_up_locked(&self, store: &Store) -> anyhow::Result<CatchUp> {
        self.catch_up_to(store, store.paper_change_seq().await?)
            .await
    }

    /// [`Search::catch_up_locked`] with the store's change sequence already read as `target`
    /// (a search has just read it to size the backlog).
    async fn catch_up_to(&self, store: &Store, target: i64) -> anyhow::Result<CatchUp> {
        let mut done = CatchUp::default();
        if !self.hidden_loaded.load(Ordering::Acquire) {
            // Read after `target`: a paper hidden in between is also in the change pass below,
            // which applies the newer state.
            let hidden = store.hidden_paper_ids().await?;
            let mut vectors = self.vectors.write().expect("vectors lock");
            for id in &hidden {
                vectors.set_hidden(id, true);
            }
            drop(vectors);
            self.hidden_loaded.store(true, Ordering::Release);
        }
        let mark = self.lexical.watermark();
        if mark < target {
            let (mut seq, mut id) = (mark, None::<String>);
            loop {
                let batch = store
                    .papers_changed_after(seq, id.as_deref(), INDEX_BATCH)
                    .await?;
                let Some(last) = batch.last() else {
                    break;
                };
                (seq, id) = (last.change_seq, Some(last.paper.id.to_string()));
                done.indexed += batch.len() as u64;
                let (hidden, shown): (Vec<_>, Vec<_>) = batch.into_iter().partition(|c| c.hidden);
                let mut vectors = self.vectors.write().expect("vectors lock");
                for c in &hidden {
                    vectors.set_hidden(c.paper.id.as_str(), true);
                }
                for c in &shown {
                    vectors.set_hidden(c.paper.id.as_str(), false);
                }
                drop(vectors);
                let hidden: Vec<&str> = hidden.iter().map(|c| c.paper.id.as_str()).collect();
                self.lexical.remove(&hidden)?;
                let shown: Vec<_> = shown.into_iter().map(|c| c.paper).collect();
                self.lexical.put(&shown)?;
            }
            self.lexical.commit(seq.max(target))?;
        } else if mark > target {
            // An index ahead of its store belongs to another database: rebuild it.
            self.lexical.clear()?;
            self.lexical.commit(0)?;
            return Box::pin(self.catch_up_locked(store)).await;
        }
        done.vectors_loaded = self.load_vectors(store).await?;
        Ok(done)
    }

    async fn load_vectors(&self, store: &Store) -> anyhow::Result<u64> {
        let Some(embedder) = &self.embedder else {
            return Ok(0);
        };
        let mut loaded = 0;
        loop {
            let mark = self.vector_mark.load(Ordering::Acquire);
            let batch = store
                .vectors_after(embedder.model_id(), mark, VECTOR_BATCH)
                .await?;
            let Some(last) = batch.last().map(|v| v.vector_id) else {
                break;
            };
            let mut index = self.vectors.write().expect("vectors lock");
            for v in &batch {
                index.upsert(&v.paper_id, &v.vector);
            }
            drop(index);
            loaded += batch.len() as u64;
            self.vector_mark.store(last, Ordering::Release);
        }
        Ok(loaded)
    }

    /// Rebuilds the lexical index from scratch.
    pub async fn rebuild(&self, store: &Store) -> anyhow::Result<CatchUp> {
        let _gate = self.gate.lock().await;
        self.lexical.clear()?;
        self.lexical.commit(0)?;
        self.catch_up_locked(store).await
    }

    /// Embeds every paper that has no vector for the model (or an outdated one), `EMBED_BATCH`
    /// at a time, in one pass over the papers; each batch is stored before the next starts, so a
    /// killed run resumes. A paper that changes behind the pass is embedded by the next call.
    /// `progress` gets (done, remaining at start). Returns the number embedded.
    ///
    /// Finding the papers to embed reads every paper, so a call made when no paper has changed
    /// since a pass that left none behind returns at once: `serve` calls this every few seconds.
    /// A paper's vector is outdated only when its `change_seq` moves, so an unchanged store
    /// sequence means nothing new to embed.
    pub async fn embed_missing(
        &self,
        store: &Store,
        mut progress: impl FnMut(u64, u64),
    ) -> anyhow::Result<u64> {
        let Some(embedder) = self.embedder.clone() else {
            return Ok(0);
        };
        // Read before the pass: a paper that changes during it moves the sequence past this.
        let through = store.paper_change_seq().await?;
        if self.embedded_through.load(Ordering::Acquire) == through {
            return Ok(0);
        }
        let model = embedder.model_id().to_owned();
        let mut to_embed: Option<u64> = None;
        let mut done = 0;
        let mut prefetch: Option<tokio::task::JoinHandle<_>> = None;
        loop {
            let batch = match prefetch.take() {
                Some(h) => h.await??,
                None => store.papers_to_embed(&model, 0, EMBED_BATCH).await?,
            };
            let Some(after) = batch.last().map(|p| p.position) else {
                break;
            };
            // Counted only when there is work: the count is a second pass over every paper.
            let remaining = match to_embed {
                Some(n) => n,
                None => *to_embed.insert(store.count_papers_to_embed(&model).await? as u64),
            };
            let e = embedder.clone();
            let texts: Vec<String> = batch
                .iter()
                .map(|p| paper_text(&p.title, &p.summary))
                .collect();
            let vectors = tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                e.embed(&refs)
            })
            .await??;
            let items: Vec<(String, i64, Vec<f32>)> = batch
                .into_iter()
                .zip(vectors)
                .map(|(p, v)| (p.paper_id, p.change_seq, v))
                .collect();
            store.put_vectors(&model, &items).await?;
            done += items.len() as u64;
            progress(done, remaining);
            let (s, m) = (store.clone(), model.clone());
            prefetch = Some(tokio::spawn(async move {
                s.papers_to_embed(&m, after, EMBED_BATCH).await
            }));
        }
        self.load_vectors(store).await?;
        // `serve` calls this every few seconds: the cheap probe comes first, and the count
        // (a pass over every paper) and the write only when there is something to delete.
        if store.has_vectors_of_other_models(&model).await?
            && store.count_papers_to_embed(&model).await? == 0
        {
            // Every paper has a vector of this model: those of another (an earlier model, or
            // the same one run differently) are never loaded again and only take space.
            let mut forgotten = 0;
            loop {
                let gone = store
                    .forget_vectors_of_other_models(&model, FORGET_BATCH)
                    .await?;
                forgotten += gone;
                if gone < u64::from(FORGET_BATCH) {
                    break;
                }
            }
            if forgotten > 0 {
                tracing::info!(forgotten, %model, "deleted the vectors of other embedding models");
            }
        }
        self.embedded_through.store(through, Ordering::Release);
        Ok(done)
    }

    /// Runs a query. Semantic and hybrid fall back to lexical without a model or query text.
    pub fn search(
        &self,
        q: &ParsedQuery,
        mode: Mode,
        offset: usize,
        limit: usize,
    ) -> anyhow::Result<Results> {
        let mode = if q.text_is_empty() || !self.semantic_available() {
            Mode::Lexical
        } else {
            mode
        };
        if mode == Mode::Lexical {
            let (hits, total) = self.lexical.search(q, offset, limit)?;
            return Ok(Results {
                ids: hits.into_iter().map(|h| h.id).collect(),
                total,
                mode,
                words_matched: None,
            });
        }
        let wanted = offset + limit;
        let mut words_matched = None;
        // Embedded once, for either mode and both tiers of a hybrid ranking.
        let vector = self.embed_query(q)?;
        let ranked = if mode == Mode::Semantic {
            // Nearest first: a deeper list starts with the shallower one, so pages agree.
            self.semantic(q, &vector, FUSION_DEPTH.max(wanted))?
        } else {
            // The fused order depends on the candidates, so every page comes from the same
            // two tiers: the fusion of each leg's top FUSION_DEPTH (the ranking judged in
            // BENCHMARKS.md), then, for a page that reaches its end, the papers a fusion of the
            // top DEEP_DEPTH adds, in that fusion's order. No paper shows on two pages.
            let found = self.candidates_near(q, &vector, FUSION_DEPTH)?;
            words_matched = Some(found.items.iter().any(|c| c.lexical_rank.is_some()));
            let mut ranked = fuse(&found);
            if wanted >= ranked.len() {
                let shown: HashSet<String> = ranked.iter().cloned().collect();
                let deeper = fuse(&self.candidates_near(q, &vector, DEEP_DEPTH.max(wanted))?);
                ranked.extend(deeper.into_iter().filter(|id| !shown.contains(id)));
            }
            ranked
        };
        Ok(Results {
            total: ranked.len(),
            ids: ranked.into_iter().skip(offset).take(limit).collect(),
            mode,
            words_matched,
        })
    }

    /// The candidates of a hybrid search: the best `depth` of each leg, each with its cosine
    /// similarity to the query (also for papers only the lexical leg found) and its BM25 score
    /// where the lexical leg found it. Semantic order first, then the lexical-only papers.
    pub fn candidates(&self, q: &ParsedQuery, depth: usize) -> anyhow::Result<Candidates> {
        self.candidates_near(q, &self.embed_query(q)?, depth)
    }

    /// [`Search::candidates`] for a query already embedded as `vector`.
    fn candidates_near(
        &self,
        q: &ParsedQuery,
        vector: &[f32],
        depth: usize,
    ) -> anyhow::Result<Candidates> {
        let semantic = self.semantic(q, vector, depth)?;
        let (lexical, lexical_coverage) = self.lexical.top(q, depth)?;
        let mut out: Vec<Candidate> = Vec::with_capacity(semantic.len() + lexical.len());
        let mut at: HashMap<String, usize> = HashMap::with_capacity(out.capacity());
        for (rank, id) in semantic.into_iter().enumerate() {
            at.insert(id.clone(), out.len());
            out.push(Candidate {
                id,
                semantic_rank: Some(rank),
                ..Candidate::default()
            });
        }
        for (rank, Hit { id, score }) in lexical.into_iter().enumerate() {
            let i = *at.entry(id.clone()).or_insert_with(|| {
                out.push(Candidate {
                    id,
                    ..Candidate::default()
                });
                out.len() - 1
            });
            out[i].bm25 = Some(score);
            out[i].lexical_rank = Some(rank);
        }
        let cosines = self
            .vectors
            .read()
            .expect("vectors lock")
            .similarities(vector, out.iter().map(|c| c.id.as_str()));
        for (c, cosine) in out.iter_mut().zip(cosines) {
            c.cosine = cosine;
        }
        Ok(Candidates {
            items: out,
            lexical_coverage,
        })
    }

    fn embed_query(&self, q: &ParsedQuery) -> anyhow::Result<Vec<f32>> {
        let Some(embedder) = &self.embedder else {
            return Ok(Vec::new());
        };
        Ok(embedder
            .embed(&[q.text().as_str()])?
            .pop()
            .unwrap_or_default())
    }

    /// The papers nearest to `vector`, honouring the query's filters and phrases.
    fn semantic(
        &self,
        q: &ParsedQuery,
        vector: &[f32],
        depth: usize,
    ) -> anyhow::Result<Vec<String>> {
        // With filters or phrases, look deeper so that enough neighbours pass them.
        let k = if q.constrains() { depth * 20 } else { depth };
        let ids: Vec<String> = self
            .vectors
            .read()
            .expect("vectors lock")
            .nearest(vector, k, None)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut kept = self.lexical.passing_filters(q, &ids)?;
        if q.constrains() {
            let rank: HashMap<&str, usize> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect();
            kept.sort_by_key(|id| rank.get(id.as_str()).copied().unwrap_or(usize::MAX));
        }
        kept.truncate(depth);
        Ok(kept)
    }

    /// The `k` papers nearest to `vector` (benchmarks: the scan without the query embedding).
    pub fn nearest_to_vector(&self, vector: &[f32], k: usize) -> Vec<String> {
        self.vectors
            .read()
            .expect("vectors lock")
            .nearest(vector, k, None)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The `k` papers nearest to `id` by embedding (empty without a model or a vector for it).
    pub fn related(&self, id: &str, k: usize) -> Vec<String> {
        let index = self.vectors.read().expect("vectors lock");
        let Some(v) = index.get(id) else {
            return Vec::new();
        };
        index
            .nearest(&v, k, Some(id))
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// Highlights the words of texts that match `q`'s terms and phrases (by their stems, as
    /// the index matches them); one highlighter serves all the texts of a page of results.
    pub fn highlighter(&self, q: &ParsedQuery) -> Highlighter {
        Highlighter::new(&self.lexical, q)
    }
}

/// How often `serve` looks for new papers to index and embed.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps `search` up to date with `store` for the life of the server: catches up (which repairs
/// a missing or stale index at start-up), embeds papers that have no vector, and repeats.
pub async fn follow(search: Arc<Search>, store: Store) {
    loop {
        let started = std::time::Instant::now();
        match search.catch_up(&store).await {
            Ok(done) if done.indexed > 0 || done.vectors_loaded > 0 => tracing::info!(
                papers = done.indexed,
                vectors = done.vectors_loaded,
                duration_ms = started.elapsed().as_millis() as u64,
                "search index caught up"
            ),
            Ok(_) => {}
            Err(err) => tracing::error!(error = format!("{err:#}"), "search index catch-up failed"),
        }
        if search.semantic_available() {
            let started = std::time::Instant::now();
            match search.embed_missing(&store, |_, _| {}).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    papers = n,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "embedded new papers"
                ),
                Err(err) => tracing::error!(error = format!("{err:#}"), "embedding failed"),
            }
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// What a hybrid search found: both legs' papers, and how much of the query the best lexical
/// match contains ([`index::LexicalIndex::coverage`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Candidates {
    pub items: Vec<Candidate>,
    pub lexical_coverage: f32,
}

/// One paper a hybrid search found, with what each leg knows of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Candidate {
    pub id: String,
    /// Cosine similarity to the query; None when the paper has no vector yet.
    pub cosine: Option<f32>,
    /// The lexical leg's score (BM25 scaled by the paper's coverage of the query, squared),
    /// when that leg returned the paper.
    pub bm25: Option<f32>,
    /// 0-based rank in the semantic leg, when it returned the paper.
    pub semantic_rank: Option<usize>,
    /// 0-based rank in the lexical leg, when it returned the paper.
    pub lexical_rank: Option<usize>,
}

/// Hybrid ranking: a weighted sum of the two legs' normalised scores over the union of both
/// legs' candidates,
///
/// ```text
/// score(d) = w · (cos(d) − cos_min) / (cos_max − cos_min)
///          + (1 − w) · c² · bm25(d) / bm25_max
/// ```
///
/// where `w` is [`SEMANTIC_WEIGHT`], `c` is how much of the query the best lexical match
/// contains (its IDF-weighted share of the query's words, [`Candidates::lexical_coverage`]),
/// and `bm25(d)` is the lexical leg's score, itself BM25 scaled by the square of how much of
/// the query `d` holds (`index::LexicalIndex::coordinate`).
/// This is the convex combination of min-max normalised scores that Bruch, Gai and Ingber
/// ("An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 2023) found better than
/// rank fusion, with the lexical leg's say scaled by its own evidence: a keyword query's best
/// match holds all of its words (c ≈ 1, BM25 sorts the papers that name the terms), while a
/// question in the reader's own words shares only common words with any paper (c ≈ 0.3, BM25
/// is then noise and similarity decides). Every candidate has an exact cosine (the vectors
/// are in memory), so a paper only the lexical leg found is judged on its meaning too; a paper
/// the lexical leg did not return scores 0 there. Ties keep candidate order (semantic first).
///
/// Why not reciprocal rank fusion, the usual default: it sees only ranks, so a paraphrase's
/// target that only the semantic leg finds falls below papers both legs hold at middling
/// ranks. On the judged set RRF and the plain combination (without `c`) both ranked below
/// semantic search alone at every constant and weight tried, and this rule above both legs at
/// every weight from 0.5 to 0.8 (BENCHMARKS.md, "Search quality").
pub fn fuse(found: &Candidates) -> Vec<String> {
    let lexical_weight = (1.0 - SEMANTIC_WEIGHT) * found.lexical_coverage.powi(COVERAGE_POWER);
    fuse_with(found, SEMANTIC_WEIGHT, lexical_weight)
}

/// [`fuse`] with both weights given: `semantic_weight` times the normalised cosine plus
/// `lexical_weight` times the normalised BM25.
pub fn fuse_with(found: &Candidates, semantic_weight: f32, lexical_weight: f32) -> Vec<String> {
    let candidates = &found.items;
    let bm25_max = candidates
        .iter()
        .filter_map(|c| c.bm25)
        .fold(0f32, f32::max);
    let (cos_min, cos_max) = candidates
        .iter()
        .filter_map(|c| c.cosine)
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    let spread = cos_max - cos_min;
    let mut scored: Vec<(f32, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let semantic = c.cosine.map_or(0.0, |x| {
                if spread > f32::EPSILON {
                    (x - cos_min) / spread
                } else {
                    1.0
                }
            });
            let lexical = match c.bm25 {
                Some(x) if bm25_max > 0.0 => x / bm25_max,
                _ => 0.0,
            };
            (semantic_weight * semantic + lexical_weight * lexical, i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .map(|(_, i)| candidates[i].id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: &str, cosine: Option<f32>, bm25: Option<f32>) -> Candidate {
        Candidate {
            id: id.to_owned(),
            cosine,
            bm25,
            ..Candidate::default()
        }
    }

    fn found(items: Vec<Candidate>, lexical_coverage: f32) -> Candidates {
        Candidates {
            items,
            lexical_coverage,
        }
    }

    #[test]
    fn fusion_rewards_agreement() {
        let fused = fuse(&found(
            vec![
                candidate("sem", Some(0.80), None),
                candidate("both", Some(0.78), Some(9.0)),
                candidate("lex", Some(0.30), Some(10.0)),
            ],
            1.0,
        ));
        assert_eq!(fused, ["both", "sem", "lex"]);
    }

    #[test]
    fn a_keyword_match_of_the_whole_query_outranks_a_slightly_closer_meaning() {
        let items = vec![
            candidate("close", Some(0.62), None),
            candidate("named", Some(0.58), Some(14.0)),
            candidate("far", Some(0.20), Some(2.0)),
        ];
        assert_eq!(fuse(&found(items.clone(), 1.0))[0], "named");
        // When the best lexical match holds little of the query, similarity decides.
        assert_eq!(fuse(&found(items, 0.3))[0], "close");
    }

    #[test]
    fn fusion_keeps_a_strong_semantic_match_above_weak_word_matches() {
        // A paraphrase: the lexical leg misses the target and returns papers that share only
        // common words with the query.
        let fused = fuse(&found(
            vec![
                candidate("target", Some(0.70), None),
                candidate("near", Some(0.55), None),
                candidate("words", Some(0.60), Some(12.0)),
                candidate("floor", Some(0.20), Some(3.0)),
            ],
            0.3,
        ));
        assert_eq!(fused[0], "target");
    }

    #[test]
    fn fusion_without_vectors_or_bm25_is_still_total() {
        let fused = fuse(&found(
            vec![
                candidate("a", None, Some(2.0)),
                candidate("b", None, None),
                candidate("c", Some(0.5), None),
            ],
            1.0,
        ));
        assert_eq!(fused.len(), 3);
        assert!(fuse(&Candidates::default()).is_empty());
    }
}
