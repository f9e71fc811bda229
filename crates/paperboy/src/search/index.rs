//! The tantivy index: its schema, writing papers into it, and BM25 queries with filters.
//!
//! The index is derived data in `<data_dir>/search/`. Its commit payload records the store's
//! `change_seq` it has caught up to (and the schema version), so the watermark can never
//! disagree with the index it describes: a deleted or stale directory reads as "behind".
//! Hidden papers are not in it. Hits are read back through the `id` fast field: each segment's
//! ids are read once into memory (segments never change), so the doc store is never read on the
//! search path.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;
use chrono::NaiveDate;
use tantivy::collector::{Collector as _, Count, TopDocs};
use tantivy::columnar::Column;
use tantivy::index::{IndexMeta, SegmentId};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, DisjunctionMaxQuery, EnableScoring, Occur, PhraseQuery,
    Query, RangeQuery, Scorer as _, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, TextAnalyzer,
};
use tantivy::{
    DateTime, DocAddress, DocId, DocSet as _, Index, IndexReader, IndexWriter, Order, ReloadPolicy,
    Searcher, SegmentReader, TantivyDocument, Term,
};

use super::query::ParsedQuery;
use crate::domain::Paper;

/// Bumped whenever the schema, the analysis or what is indexed changes; an index of another
/// version is rebuilt. 2: `id` is a fast field (not stored) and hidden papers are left out.
/// 3: words are folded to ASCII.
const SCHEMA_VERSION: u32 = 3;
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Field weights: a title match counts most.
const TITLE_BOOST: f32 = 2.5;
const AUTHORS_BOOST: f32 = 1.5;
/// An arXiv id typed as a term puts that paper first.
const ID_BOOST: f32 = 10.0;
/// How many of a text query's best BM25 matches are ranked again by how much of the query each
/// holds ([`LexicalIndex::coordinate`]); the rest follow in BM25 order.
pub const RESCORE_WINDOW: usize = 100;
/// The power of a match's coverage of the query that its BM25 score is multiplied by.
const COORDINATION_POWER: i32 = 2;
/// How close, as a share, two BM25 scores are when they may differ only because their term
/// scores were added up in different orders (that takes a few f32 roundings, about 1e-7
/// each: this allows a hundred times as much).
const SCORE_NOISE: f32 = 2e-5;

/// The analyser for titles and abstracts: words split on what is not alphanumeric, over-long
/// ones dropped, lower-cased, folded to ASCII (so "Erdős" is found as "erdos", and "ﬁne" with
/// its ligature as "fine"), then stemmed for English.
pub const TEXT_TOKENIZER: &str = "en_stem_folded";
/// [`TEXT_TOKENIZER`] without its last step, the stemmer. Authors are indexed with it, and
/// highlighting reads words with it.
const WORD_TOKENIZER: &str = "words_folded";
const CATEGORY_TOKENIZER: &str = "lowercase_raw";

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    summary: Field,
    authors: Field,
    category: Field,
    published: Field,
}

/// A lexical hit: the paper id and its score, BM25 scaled by the square of how much of the query
/// the paper holds ([`LexicalIndex::coordinate`]; plain BM25 for a query of one word).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
}

/// The tantivy index over papers.
pub struct LexicalIndex {
    index: Index,
    reader: IndexReader,
    /// Opened on the first write and closed after each commit: tantivy allows one writer per
    /// directory, so a CLI import beside `serve` can bring the index up to date in between.
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    /// The commit the reader last loaded (another process may commit after it).
    loaded_opstamp: AtomicU64,
    /// Each segment's ids, read on first use; dropped when a commit retires the segment.
    ids: RwLock<HashMap<SegmentId, Arc<SegmentIds>>>,
}

/// One segment's paper ids: document → term ordinal (the fast field) → id.
struct SegmentIds {
    ords: Column<u64>,
    /// Every id of the segment in ordinal order, back to back; `ends[ord]` is where one ends.
    text: String,
    ends: Vec<u32>,
}

impl SegmentIds {
    fn read(segment: &SegmentReader) -> anyhow::Result<Option<SegmentIds>> {
        let Some(column) = segment
            .fast_fields()
            .str("id")
            .context("opening the id column")?
        else {
            return Ok(None);
        };
        let (dictionary, ords) = column.into_parts();
        let mut text = String::new();
        let mut ends = Vec::with_capacity(dictionary.num_terms());
        let mut terms = dictionary.stream().context("reading the id column")?;
        while terms.advance() {
            text.push_str(&String::from_utf8_lossy(terms.key()));
            ends.push(u32::try_from(text.len()).context("a segment's ids over 4 GB")?);
        }
        Ok(Some(SegmentIds { ords, text, ends }))
    }

    fn id(&self, doc: u32) -> Option<&str> {
        let ord = usize::try_from(self.ords.first(doc)?).ok()?;
        let start = match ord {
            0 => 0,
            _ => *self.ends.get(ord - 1)? as usize,
        };
        self.text.get(start..*self.ends.get(ord)? as usize)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    version: u32,
    seq: i64,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | FAST),
        title: b.add_text_field("title", text(TEXT_TOKENIZER)),
        summary: b.add_text_field("summary", text(TEXT_TOKENIZER)),
        authors: b.add_text_field("authors", text(WORD_TOKENIZER)),
        category: b.add_text_field(
            "category",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(CATEGORY_TOKENIZER)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        ),
        published: b.add_date_field("published", INDEXED | FAST),
    };
    (b.build(), fields)
}

impl LexicalIndex {
    /// Opens the index in `dir`, creating it (empty, watermark 0) when it is missing, unreadable
    /// or of another schema version.
    pub fn open(dir: &Path) -> anyhow::Result<LexicalIndex> {
        let (schema, fields) = schema();
        let opened = Index::open_in_dir(dir).ok().filter(|index| {
            index.schema() == schema
                && read_payload(index).is_some_and(|p| p.version == SCHEMA_VERSION)
        });
        let index = match opened {
            Some(index) => index,
            None => {
                if dir.exists() {
                    tracing::warn!(dir = %dir.display(), "rebuilding the search index");
                    std::fs::remove_dir_all(dir)
                        .with_context(|| format!("removing {}", dir.display()))?;
                }
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                Index::create_in_dir(dir, schema).context("creating the search index")?
            }
        };
        LexicalIndex::with_index(index, fields)
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_ram() -> anyhow::Result<LexicalIndex> {
        let (schema, fields) = schema();
        LexicalIndex::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> anyhow::Result<LexicalIndex> {
        let words = || {
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
        };
        index.tokenizers().register(WORD_TOKENIZER, words().build());
        index.tokenizers().register(
            TEXT_TOKENIZER,
            words().filter(Stemmer::new(Language::English)).build(),
        );
        index.tokenizers().register(
            CATEGORY_TOKENIZER,
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .build(),
        );
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("opening the search index for reading")?;
        let lexical = LexicalIndex {
            index,
            reader,
            writer: Mutex::new(None),
            loaded_opstamp: AtomicU64::new(0),
            fields,
            ids: RwLock::new(HashMap::new()),
        };
        if read_payload(&lexical.index).is_none() {
            lexical.commit(0)?;
        }
        Ok(lexical)
    }

    /// The store `change_seq` this index has caught up to. When another process (a CLI import
    /// beside `serve`) committed since this reader last loaded, the reader reloads first, so
    /// searches here see what it wrote.
    pub fn watermark(&self) -> i64 {
        let Ok(metas) = self.index.load_metas() else {
            return 0;
        };
        if metas.opstamp != self.loaded_opstamp.load(Ordering::Acquire)
            && let Err(err) = self.reload(metas.opstamp)
        {
            tracing::warn!(
                error = format!("{err:#}"),
                "reloading the search index failed"
            );
        }
        payload(&metas).map_or(0, |p| p.seq)
    }

    /// Runs `f` with the index writer, opening it on first use.
    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut guard = self.writer.lock().expect("index writer lock");
        if guard.is_none() {
            *guard = Some(self.index.writer(WRITER_MEMORY).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => anyhow::anyhow!(
                    "another paperboy process (a server, an import or a reindex) is writing the \
                     search index; it brings the index up to date itself, or run this again \
                     when it is done"
                ),
                other => anyhow::Error::new(other).context("opening the search index for writing"),
            })?);
        }
        f(guard.as_mut().expect("writer opened above"))
    }

    /// Number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Drops the documents of `ids`, if any (uncommitted until [`LexicalIndex::commit`]).
    pub fn remove(&self, ids: &[&str]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.with_writer(|writer| {
            for id in ids {
                writer.delete_term(Term::from_field_text(self.fields.id, id));
            }
            Ok(())
        })
    }

    /// Replaces the documents of `papers` (uncommitted until [`LexicalIndex::commit`]).
    pub fn put(&self, papers: &[Paper]) -> anyhow::Result<()> {
        let f = self.fields;
        self.with_writer(|writer| {
            for paper in papers {
                writer.delete_term(Term::from_field_text(f.id, paper.id.as_str()));
                let mut doc = TantivyDocument::default();
                doc.add_text(f.id, paper.id.as_str());
                doc.add_text(f.title, &paper.title);
                doc.add_text(f.summary, &paper.summary);
                for author in &paper.authors {
                    doc.add_text(f.authors, author);
                }
                for cat in &paper.categories {
                    doc.add_text(f.category, cat);
                }
                if let Some(day) = paper_day(paper) {
                    doc.add_date(f.published, date_value(day));
                }
                writer
                    .add_document(doc)
                    .context("adding a paper to the index")?;
            }
            Ok(())
        })
    }

    /// Commits everything written so far with the new watermark, and makes it searchable.
    pub fn commit(&self, seq: i64) -> anyhow::Result<()> {
        let payload = serde_json::to_string(&Payload {
            version: SCHEMA_VERSION,
            seq,
        })?;
        let opstamp = self.with_writer(|writer| {
            let mut prepared = writer
                .prepare_commit()
                .context("preparing an index commit")?;
            prepared.set_payload(&payload);
            prepared.commit().context("committing the search index")
        })?;
        // The writer's threads and its memory budget are held only while writing: between
        // catch-ups a server would otherwise keep them for nothing. Merges it started finish
        // first, so small segments do not pile up.
        let writer = self.writer.lock().expect("index writer lock").take();
        if let Some(writer) = writer {
            writer
                .wait_merging_threads()
                .context("finishing the search index's merges")?;
        }
        self.reload(opstamp)
    }

    /// Makes the commit `opstamp` (and anything before it) searchable here.
    fn reload(&self, opstamp: u64) -> anyhow::Result<()> {
        self.reader.reload().context("reloading the search index")?;
        self.loaded_opstamp.store(opstamp, Ordering::Release);
        let live: Vec<SegmentId> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        self.ids
            .write()
            .expect("segment ids lock")
            .retain(|id, _| live.contains(id));
        Ok(())
    }

    /// Drops every document (uncommitted until [`LexicalIndex::commit`]).
    pub fn clear(&self) -> anyhow::Result<()> {
        self.with_writer(|writer| {
            writer
                .delete_all_documents()
                .context("clearing the index")?;
            Ok(())
        })
    }

    /// BM25 search: `offset..offset+limit` of the ranking, and the total number of matches.
    /// With filters only (no text), the newest papers come first.
    pub fn search(
        &self,
        q: &ParsedQuery,
        offset: usize,
        limit: usize,
    ) -> anyhow::Result<(Vec<Hit>, usize)> {
        let searcher = self.reader.searcher();
        let (query, flat) = self.build_query(q);
        let limit = limit.max(1);
        let (addrs, total): (Vec<(f32, tantivy::DocAddress)>, usize) = if q.text_is_empty() {
            let collector = TopDocs::with_limit(limit)
                .and_offset(offset)
                .order_by_fast_field::<DateTime>("published", Order::Desc);
            let (docs, total) = searcher.search(&query, &(collector, Count))?;
            (docs.into_iter().map(|(_, a)| (0.0, a)).collect(), total)
        } else {
            // The window is ranked again as a whole, so every page is cut from the same order.
            let words = self.query_words(q);
            let window = rescore_window(&words);
            let need = (offset + limit).max(window);
            let (mut ranked, total) = if flat {
                // Ranking and counting run apart: a top-k collector alone lets tantivy skip
                // blocks that cannot reach the top of a flat union of terms (block-max WAND),
                // and counting needs no scores.
                (
                    self.ranked_flat(&searcher, query.as_ref(), need)?,
                    searcher.search(&query, &Count)?,
                )
            } else {
                // Any other query is an intersection (a phrase or a filter), which tantivy scores
                // match by match anyway: one pass ranks and counts (a phrase checks positions
                // once instead of twice).
                let collector = TopDocs::with_limit(need).order_by_score();
                searcher.search(&query, &(collector, Count))?
            };
            self.coordinate(&searcher, q, &words, &mut ranked, window)?;
            (ranked.into_iter().skip(offset).take(limit).collect(), total)
        };
        Ok((self.hits(&searcher, addrs)?, total))
    }

    /// The best `limit` hits for a query with text, ranked as [`LexicalIndex::search`] ranks
    /// them but without counting the rest (the lexical leg of a hybrid search), and how much of
    /// the query the first of them holds ([`LexicalIndex::coverage`]; 0 when there is none).
    pub fn top(&self, q: &ParsedQuery, limit: usize) -> anyhow::Result<(Vec<Hit>, f32)> {
        if q.text_is_empty() {
            return Ok((self.search(q, 0, limit)?.0, 0.0));
        }
        let searcher = self.reader.searcher();
        // The same window as a page's, so that this leg ranks as lexical search does.
        let words = self.query_words(q);
        let window = rescore_window(&words);
        let need = limit.max(window);
        let mut ranked = match self.build_query(q) {
            (query, true) => self.ranked_flat(&searcher, query.as_ref(), need)?,
            (query, false) => {
                searcher.search(&query, &TopDocs::with_limit(need).order_by_score())?
            }
        };
        let best = match self.coordinate(&searcher, q, &words, &mut ranked, window)? {
            Some(c) => c,
            None => match ranked.first() {
                Some(&(_, addr)) => self.coverages(&searcher, q, &words, &[addr])?[0],
                None => 0.0,
            },
        };
        ranked.truncate(limit.max(1));
        Ok((self.hits(&searcher, ranked)?, best))
    }

    /// The best `need` matches of a flat union of term queries (see
    /// [`LexicalIndex::build_query`]), by their BM25 scores, equal scores in document order.
    ///
    /// Block-max WAND adds up a match's term scores in whatever order its pruning left the
    /// terms in, which depends on how many hits were asked for: one paper's score can differ in
    /// the last bits from one page to the next, so papers with equal scores would swap places
    /// or fall off a page's end. So more matches are asked for until the last one scores
    /// clearly below the `need`th (every match WAND left out then scores below the `need`th
    /// too), and the matches found are scored again one by one, which adds each one's terms up
    /// in one order. Each page is then cut from one ranking.
    fn ranked_flat(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        need: usize,
    ) -> anyhow::Result<Vec<(f32, DocAddress)>> {
        let need = need.max(1);
        // One weight for every pass: the query's statistics are looked up once.
        let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
        let mut ask = need + need / 4 + 1;
        let mut found = loop {
            let top = TopDocs::with_limit(ask).order_by_score();
            let mut fruits = Vec::new();
            for (ord, segment) in searcher.segment_readers().iter().enumerate() {
                fruits.push(top.collect_segment(weight.as_ref(), ord as u32, segment)?);
            }
            // Best first; `ask` is always more than `need`.
            let found = top.merge_fruits(fruits)?;
            if found.len() < ask
                || found[need - 1].0 - found[ask - 1].0 > found[need - 1].0 * SCORE_NOISE
            {
                break found;
            }
            ask *= 2;
        };
        // Every hit scored again, by segment in document order, so that no sum depends on
        // the pruning (coverage multiplies these scores, and near ties anywhere would show).
        let addrs: Vec<DocAddress> = found.iter().map(|&(_, addr)| addr).collect();
        for (segment_ord, docs) in by_segment(&addrs) {
            let mut scorer = weight.scorer(searcher.segment_reader(segment_ord), 1.0)?;
            for (doc_id, i) in docs {
                if scorer.doc() <= doc_id && scorer.seek(doc_id) == doc_id {
                    found[i].0 = scorer.score();
                }
            }
        }
        found.sort_by(best_first);
        found.truncate(need);
        Ok(found)
    }

    /// Puts BM25 matches in one order (equal scores by document), scores them again as
    /// `bm25 · c²`, where `c` is how much of the query (its `words`) the paper holds
    /// ([`LexicalIndex::coverage`]), and ranks the first `window` of them by the new score; ties
    /// keep the BM25 order, and the rest stay in BM25 order. Returns the first match's `c`, or
    /// None when `window` is 0 (nothing is scored again).
    ///
    /// BM25 adds up each word's evidence, and one rare word in a title can outweigh a paper
    /// that holds every word of the query: for `minimax generalization rate`, papers with
    /// "MiniMax" or "General" in their titles ranked above the one whose abstract speaks of "the
    /// minimax optimal generalization rate". Scaling by the share of the query held is Lucene's
    /// classic coordination factor (`coord`), with each word weighted by its rarity as in
    /// [`LexicalIndex::coverage`], and squared as the hybrid rule squares it
    /// ([`crate::search::fuse`]).
    fn coordinate(
        &self,
        searcher: &Searcher,
        q: &ParsedQuery,
        words: &[(String, String)],
        ranked: &mut [(f32, DocAddress)],
        window: usize,
    ) -> anyhow::Result<Option<f32>> {
        // Equal scores in document order, as tantivy's top-k orders them.
        ranked.sort_by(best_first);
        if window == 0 || ranked.is_empty() {
            return Ok(None);
        }
        let addrs: Vec<DocAddress> = ranked.iter().map(|(_, a)| *a).collect();
        let coverages = self.coverages(searcher, q, words, &addrs)?;
        let mut scored: Vec<(f32, DocAddress, f32)> = ranked
            .iter()
            .zip(&coverages)
            .map(|(&(score, addr), &c)| (score * c.powi(COORDINATION_POWER), addr, c))
            .collect();
        let window = window.min(scored.len());
        scored[..window].sort_by(|a, b| b.0.total_cmp(&a.0));
        for (slot, &(score, addr, _)) in ranked.iter_mut().zip(&scored) {
            *slot = (score, addr);
        }
        Ok(Some(scored[0].2))
    }

    fn hits(&self, searcher: &Searcher, addrs: Vec<(f32, DocAddress)>) -> anyhow::Result<Vec<Hit>> {
        let ids = self.ids_of(searcher, addrs.iter().map(|(_, a)| *a))?;
        Ok(addrs
            .into_iter()
            .zip(ids)
            .filter_map(|((score, _), id)| Some(Hit { id: id?, score }))
            .collect())
    }

    /// Which of `ids` pass the constraints of `q`: its filters (author, category, dates) and its
    /// "quoted phrases", which a paper found by meaning must hold too.
    pub fn passing_filters(&self, q: &ParsedQuery, ids: &[String]) -> anyhow::Result<Vec<String>> {
        if !q.constrains() || ids.is_empty() {
            return Ok(ids.to_vec());
        }
        let searcher = self.reader.searcher();
        let mut clauses = self.filter_clauses(q);
        clauses.extend(self.phrase_clauses(q));
        clauses.push((
            Occur::Must,
            Box::new(TermSetQuery::new(
                ids.iter()
                    .map(|id| Term::from_field_text(self.fields.id, id)),
            )),
        ));
        let docs = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(ids.len()).order_by_score(),
        )?;
        Ok(self
            .ids_of(&searcher, docs.into_iter().map(|(_, a)| a))?
            .into_iter()
            .flatten()
            .collect())
    }

    /// The paper ids of `docs`, in order (None for a document without one).
    fn ids_of(
        &self,
        searcher: &Searcher,
        docs: impl Iterator<Item = DocAddress>,
    ) -> anyhow::Result<Vec<Option<String>>> {
        let mut segments: HashMap<u32, Option<Arc<SegmentIds>>> = HashMap::new();
        let mut out = Vec::new();
        for addr in docs {
            let ids = match segments.entry(addr.segment_ord) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    e.insert(self.segment_ids(searcher.segment_reader(addr.segment_ord))?)
                }
            };
            out.push(
                ids.as_ref()
                    .and_then(|ids| ids.id(addr.doc_id))
                    .map(str::to_owned),
            );
        }
        Ok(out)
    }

    /// The ids of `segment`, read on first use.
    fn segment_ids(&self, segment: &SegmentReader) -> anyhow::Result<Option<Arc<SegmentIds>>> {
        let key = segment.segment_id();
        if let Some(ids) = self.ids.read().expect("segment ids lock").get(&key) {
            return Ok(Some(ids.clone()));
        }
        let Some(ids) = SegmentIds::read(segment)? else {
            return Ok(None);
        };
        let ids = Arc::new(ids);
        self.ids
            .write()
            .expect("segment ids lock")
            .insert(key, ids.clone());
        Ok(Some(ids))
    }

    /// The query for `q`. Each plain term is a `Should` term query per field (title, abstract,
    /// authors, with their boosts) whose scores add up, as in BM25F-style multi-field ranking.
    /// Without phrases or filters the query is one flat union of term queries, which tantivy
    /// ranks with block-max WAND: only postings that can still reach the top k are scored
    /// (what keeps a ×20 corpus fast); the flag says the query is that flat union.
    fn build_query(&self, q: &ParsedQuery) -> (Box<dyn Query>, bool) {
        let f = self.fields;
        let mut clauses = self.filter_clauses(q);
        clauses.extend(self.phrase_clauses(q));
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &q.terms {
            for (field, boost) in [
                (f.title, TITLE_BOOST),
                (f.summary, 1.0),
                (f.authors, AUTHORS_BOOST),
            ] {
                // A word the analyser splits ("zero-shot", "1/4-pinched") counts as its parts:
                // a phrase query here would rule out block-max WAND for the whole query, and
                // "quotes" still ask for the exact phrase.
                for token in self.analyze(field, term) {
                    let query = TermQuery::new(token, IndexRecordOption::WithFreqs);
                    should.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(query), boost)),
                    ));
                }
            }
            if let Ok(id) = crate::domain::ArxivId::parse_lenient(term) {
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(
                            Term::from_field_text(f.id, id.as_str()),
                            IndexRecordOption::WithFreqs,
                        )),
                        ID_BOOST,
                    )),
                ));
            }
        }
        if !should.is_empty() {
            if clauses.is_empty() {
                return (Box::new(BooleanQuery::new(should)), true);
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(should))));
        } else if !q.terms.is_empty() && q.phrases.is_empty() {
            // Terms that analyse to nothing (punctuation, only over-long tokens) match nothing,
            // rather than everything.
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(Vec::<Term>::new()))));
        }
        if clauses.iter().all(|(occur, _)| *occur != Occur::Must) {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        (Box::new(BooleanQuery::new(clauses)), false)
    }

    /// One `Must` clause per "quoted phrase": the paper's title or abstract holds it.
    fn phrase_clauses(&self, q: &ParsedQuery) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for phrase in &q.phrases {
            let per_field: Vec<Box<dyn Query>> = [(f.title, TITLE_BOOST), (f.summary, 1.0)]
                .into_iter()
                .filter_map(|(field, boost)| self.text_query(field, phrase, boost))
                .collect();
            if !per_field.is_empty() {
                clauses.push((Occur::Must, Box::new(DisjunctionMaxQuery::new(per_field))));
            }
        }
        clauses
    }

    fn filter_clauses(&self, q: &ParsedQuery) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for author in &q.authors {
            match self.text_query(f.authors, author, 1.0) {
                Some(query) => clauses.push((Occur::Must, query)),
                None => {
                    clauses.push((Occur::Must, Box::new(TermSetQuery::new(Vec::<Term>::new()))))
                }
            }
        }
        if !q.categories.is_empty() {
            let terms = q
                .categories
                .iter()
                .map(|c| Term::from_field_text(f.category, &c.to_lowercase()));
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        if q.after.is_some() || q.before.is_some() {
            let bound = |d: Option<NaiveDate>, inclusive: bool| match d {
                None => Bound::Unbounded,
                Some(d) => {
                    let term = Term::from_field_date_for_search(f.published, date_value(d));
                    if inclusive {
                        Bound::Included(term)
                    } else {
                        Bound::Excluded(term)
                    }
                }
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(q.after, true),
                    bound(q.before, false),
                )),
            ));
        }
        clauses
    }

    /// A term query, or a phrase query when `text` analyses to several tokens; None when it
    /// analyses to nothing.
    fn text_query(&self, field: Field, text: &str, boost: f32) -> Option<Box<dyn Query>> {
        let tokens = self.analyze(field, text);
        let query: Box<dyn Query> = match tokens.len() {
            0 => return None,
            1 => Box::new(TermQuery::new(
                tokens.into_iter().next().expect("one token"),
                IndexRecordOption::WithFreqs,
            )),
            _ => Box::new(PhraseQuery::new(tokens)),
        };
        Some(if boost == 1.0 {
            query
        } else {
            Box::new(BoostQuery::new(query, boost))
        })
    }

    fn analyze(&self, field: Field, text: &str) -> Vec<Term> {
        let name = if field == self.fields.authors {
            WORD_TOKENIZER
        } else {
            TEXT_TOKENIZER
        };
        let mut analyzer = self
            .index
            .tokenizers()
            .get(name)
            .expect("built-in tokenizer");
        let mut stream = analyzer.token_stream(text);
        let mut terms = Vec::new();
        while stream.advance() {
            terms.push(Term::from_field_text(field, &stream.token().text));
        }
        terms
    }

    /// How much of the query's text the paper `id` contains, from 0 to 1: the share of the
    /// query's distinct words, each weighted by its inverse document frequency in abstracts,
    /// that occur in the paper's title, abstract or authors. An arXiv id in the query points
    /// at a paper rather than naming words: the paper it names holds the whole query, and for
    /// any other the id counts for neither side. 0 when the paper is not indexed.
    pub fn coverage(&self, q: &ParsedQuery, id: &str) -> anyhow::Result<f32> {
        let searcher = self.reader.searcher();
        let found = searcher.search(
            &TermQuery::new(
                Term::from_field_text(self.fields.id, id),
                IndexRecordOption::Basic,
            ),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        let Some(&(_, addr)) = found.first() else {
            return Ok(0.0);
        };
        Ok(self.coverages(&searcher, q, &self.query_words(q), &[addr])?[0])
    }

    /// [`LexicalIndex::coverage`] of each paper in `addrs`, in that order, for the query `q`
    /// whose [`LexicalIndex::query_words`] are `words`. Each word's postings are read once per
    /// segment, walking the papers in document order.
    fn coverages(
        &self,
        searcher: &Searcher,
        q: &ParsedQuery,
        words: &[(String, String)],
        addrs: &[DocAddress],
    ) -> anyhow::Result<Vec<f32>> {
        let f = self.fields;
        let by_segment = by_segment(addrs);
        // Counted as tantivy's BM25 counts them, deleted documents included: a document
        // frequency counts those too until a merge drops them, and against the live count alone
        // a common word's idf would turn negative after updates.
        let docs: f32 = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.max_doc() as f32)
            .sum();
        let (mut have, mut all) = (vec![0f32; addrs.len()], 0f32);
        let mut held = vec![false; addrs.len()];
        for (word, raw) in words {
            let in_summary = Term::from_field_text(f.summary, word);
            let df = searcher.doc_freq(&in_summary)? as f32;
            let idf = (1.0 + (docs - df + 0.5) / (df + 0.5)).ln();
            all += idf;
            // Authors are indexed unstemmed, so they are looked up by the word as typed.
            let mut terms = vec![in_summary, Term::from_field_text(f.title, word)];
            terms.extend(self.analyze(f.authors, raw));
            held.fill(false);
            for (&segment_ord, papers) in &by_segment {
                let segment = searcher.segment_reader(segment_ord);
                for term in &terms {
                    for_holders(segment, term, papers, |i| held[i] = true)?;
                }
            }
            for (sum, &held) in have.iter_mut().zip(&held) {
                if held {
                    *sum += idf;
                }
            }
        }
        let mut coverages: Vec<f32> = have
            .into_iter()
            .map(|sum| if all > 0.0 { sum / all } else { 0.0 })
            .collect();
        for id in q
            .terms
            .iter()
            .filter_map(|t| crate::domain::ArxivId::parse_lenient(t).ok())
        {
            let named = Term::from_field_text(f.id, id.as_str());
            for (&segment_ord, papers) in &by_segment {
                let segment = searcher.segment_reader(segment_ord);
                for_holders(segment, &named, papers, |i| coverages[i] = 1.0)?;
            }
        }
        Ok(coverages)
    }

    /// The query's distinct words as the title and abstract are indexed (stemmed), each with
    /// the text it came from; arXiv ids are left out.
    fn query_words(&self, q: &ParsedQuery) -> Vec<(String, String)> {
        let mut parts: Vec<&str> = q.phrases.iter().map(String::as_str).collect();
        parts.extend(
            q.terms
                .iter()
                .filter(|t| crate::domain::ArxivId::parse_lenient(t).is_err())
                .map(String::as_str),
        );
        let text = parts.join(" ");
        let mut words: Vec<(String, String)> = self
            .tokens(&text)
            .into_iter()
            .map(|(from, to, t)| (t, text[from..to].to_owned()))
            .collect();
        words.sort();
        words.dedup_by(|a, b| a.0 == b.0);
        words
    }

    /// The analyser that splits text into lower-cased words (`stemmed`: and stems them, as the
    /// title and abstract are indexed), for a caller that runs it many times.
    pub fn analyzer(&self, stemmed: bool) -> TextAnalyzer {
        let name = if stemmed {
            TEXT_TOKENIZER
        } else {
            WORD_TOKENIZER
        };
        self.index
            .tokenizers()
            .get(name)
            .expect("registered tokenizer")
    }

    /// The stemmed, lower-cased tokens of `text`, as the title and abstract are indexed, with
    /// their byte offsets.
    pub fn tokens(&self, text: &str) -> Vec<(usize, usize, String)> {
        let mut analyzer = self.analyzer(true);
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.offset_from, t.offset_to, t.text.clone()));
        }
        out
    }
}

/// How many of the best BM25 matches [`LexicalIndex::coordinate`] ranks again for a query of
/// these words: none for a query of one word, which every match holds.
fn rescore_window(words: &[(String, String)]) -> usize {
    if words.len() > 1 { RESCORE_WINDOW } else { 0 }
}

/// Higher scores first, equal scores in document order.
fn best_first(a: &(f32, DocAddress), b: &(f32, DocAddress)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// `addrs` by segment, each segment's as (document, index in `addrs`) in document order, the
/// order postings and scorers walk them in.
fn by_segment(addrs: &[DocAddress]) -> BTreeMap<u32, Vec<(DocId, usize)>> {
    let mut out: BTreeMap<u32, Vec<(DocId, usize)>> = BTreeMap::new();
    for (i, addr) in addrs.iter().enumerate() {
        out.entry(addr.segment_ord)
            .or_default()
            .push((addr.doc_id, i));
    }
    for docs in out.values_mut() {
        docs.sort_unstable();
    }
    out
}

/// Calls `found(i)` for each of a segment's `papers` (document, index), sorted by document,
/// that holds `term`.
fn for_holders(
    segment: &SegmentReader,
    term: &Term,
    papers: &[(DocId, usize)],
    mut found: impl FnMut(usize),
) -> anyhow::Result<()> {
    let Some(mut postings) = segment
        .inverted_index(term.field())?
        .read_postings(term, IndexRecordOption::Basic)?
    else {
        return Ok(());
    };
    // Postings only seek forwards, hence the papers in document order.
    for &(doc, i) in papers {
        if postings.doc() < doc {
            postings.seek(doc);
        }
        if postings.doc() == doc {
            found(i);
        }
    }
    Ok(())
}

fn read_payload(index: &Index) -> Option<Payload> {
    payload(&index.load_metas().ok()?)
}

fn payload(metas: &IndexMeta) -> Option<Payload> {
    serde_json::from_str(metas.payload.as_deref()?).ok()
}

/// The day a paper counts as published on, for date filters.
pub fn paper_day(paper: &Paper) -> Option<NaiveDate> {
    paper
        .published_at
        .map(|t| t.date_naive())
        .or_else(|| paper.feed.as_ref().map(|f| f.daily_date))
        .or_else(|| paper.updated_at.map(|t| t.date_naive()))
}

fn date_value(day: NaiveDate) -> DateTime {
    // tantivy keeps nanoseconds in an i64 (years 1678 to 2261): a day outside that range (a
    // filter such as `after:0001`) is clamped to its end, which every paper's date lies within.
    const LIMIT: i64 = i64::MAX / 1_000_000_000;
    let secs = day
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
        .clamp(-LIMIT, LIMIT);
    DateTime::from_timestamp_secs(secs)
}
