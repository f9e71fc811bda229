//! Search benchmarks over a real store: index build time, lexical and hybrid latency (with the
//! hybrid's parts timed alone), embedding throughput, and an opt-in ×N corpus.
//!
//! `PAPERBOY_BENCH_DB=<data dir with paperboy.db> PAPERBOY_MODEL_DIR=<model dir>
//! cargo bench -p paperboy --bench search`. Without a model only the lexical part runs. The
//! vector index is filled with random unit vectors when the store has none (latency does not
//! depend on the values; quality is measured by the judged set, not here).
//!
//! `PAPERBOY_BENCH_ROUNDS=3` repeats every latency measurement (each round printed, so medians
//! can be taken on a noisy machine); `PAPERBOY_BENCH_SLOWEST=1` lists each round's slowest queries. `PAPERBOY_BENCH_SCALE=20` also builds a lexical index of the
//! store's papers ×20 (copies under new ids, straight into tantivy, in a temporary directory
//! under `target/` that is removed afterwards, or in `PAPERBOY_BENCH_SCALE_DIR`, kept, and reused
//! by the next run when it holds as many documents), times the same lexical query mix on it, and
//! times the exact vector scan over as many random vectors.
//!
//! `PAPERBOY_BENCH_FILL_VECTORS=1` first stores a random unit vector for every paper that has none
//! for the model (so that `paperboy serve` on that data dir loads a full vector index and embeds
//! nothing: `cargo xtask bench search-http`); `=only` stops there. It writes to the store: point
//! it at a copy.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use paperboy::domain::{ArxivId, Paper};
use paperboy::embed::Embedder;
use paperboy::embed::minilm::MiniLm;
use paperboy::embed::weights::ModelFiles;
use paperboy::search::query::parse;
use paperboy::search::vectors::{VectorIndex, normalize};
use paperboy::search::{Mode, Search};
use paperboy::store::Store;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms (load {})",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        percentile(&ms, 0.99),
        ms[ms.len() - 1],
        load_average()
    );
}

/// The 1-minute load average, for the record (the machine is shared).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Times `f` once per query, `rounds` times over the whole list.
fn time_queries(
    name: &str,
    rounds: usize,
    queries: &[String],
    mut f: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for round in 1..=rounds {
        let mut ms = Vec::with_capacity(queries.len());
        for q in queries {
            let t = Instant::now();
            f(q)?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let name = if rounds > 1 {
            format!("{name} [round {round}]")
        } else {
            name.to_owned()
        };
        if std::env::var_os("PAPERBOY_BENCH_SLOWEST").is_some() {
            let mut by_time: Vec<(f64, &String)> = ms.iter().copied().zip(queries).collect();
            by_time.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (t, q) in by_time.iter().take(6) {
                println!("    {t:8.2} ms  {q}");
            }
        }
        report(&name, ms);
    }
    Ok(())
}

/// A xorshift stream of random unit vectors.
struct RandomVectors(u64);

impl RandomVectors {
    fn next(&mut self, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        normalize(&mut v);
        v
    }
}

/// A new-style id for copy number `n` (from 0): `40mm.nnnnn` onwards, which arXiv has not
/// issued.
fn synthetic_id(n: usize) -> anyhow::Result<ArxivId> {
    let month = n / 99_999;
    let id = format!(
        "{:02}{:02}.{:05}",
        40 + month / 12,
        1 + month % 12,
        1 + n % 99_999
    );
    Ok(ArxivId::parse(&id)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Ok(dir) = std::env::var("PAPERBOY_BENCH_DB") else {
        eprintln!("set PAPERBOY_BENCH_DB to a data dir holding paperboy.db");
        return Ok(());
    };
    let rounds: usize = std::env::var("PAPERBOY_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1);
    let scale: usize = std::env::var("PAPERBOY_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let store = Store::open_sqlite(&Path::new(&dir).join("paperboy.db")).await?;
    let embedder: Option<Arc<dyn Embedder>> = std::env::var("PAPERBOY_MODEL_DIR")
        .ok()
        .map(|d| ModelFiles::in_dir(Path::new(&d)))
        .filter(ModelFiles::present)
        .map(|f| MiniLm::load(&f, 0).map(|m| Arc::new(m) as Arc<dyn Embedder>))
        .transpose()?;
    if std::env::var_os("PAPERBOY_BENCH_FILL_VECTORS").is_some() {
        let Some(embedder) = &embedder else {
            anyhow::bail!("PAPERBOY_BENCH_FILL_VECTORS needs PAPERBOY_MODEL_DIR");
        };
        fill_missing_vectors(&store, embedder.as_ref()).await?;
        if std::env::var("PAPERBOY_BENCH_FILL_VECTORS").as_deref() == Ok("only") {
            return Ok(());
        }
    }
    let index_dir = tempfile::tempdir()?;
    let search = Search::open(index_dir.path(), None)?;
    let started = Instant::now();
    let done = search.catch_up(&store).await?;
    println!(
        "index build: {} papers in {:.1} s (load {})",
        done.indexed,
        started.elapsed().as_secs_f64(),
        load_average()
    );
    // Queries: words from stored titles, 1 to 4 words each.
    let papers = store.papers_changed_after(0, None, 4000).await?;
    let mut queries: Vec<String> = Vec::new();
    for (i, c) in papers.iter().enumerate().step_by(10) {
        let words: Vec<&str> = c
            .paper
            .title
            .split_whitespace()
            .filter(|w| w.len() > 3)
            .collect();
        let n = 1 + i % 4;
        if words.len() >= n {
            queries.push(words[..n].join(" "));
        }
    }
    queries.extend(
        [
            "author:hinton",
            "cat:cs.CL transformers",
            "\"language model\" after:2023",
            "graph neural networks before:2020",
        ]
        .map(String::from),
    );
    time_queries("lexical (top 20)", rounds, &queries, |q| {
        std::hint::black_box(search.search(&parse(q), Mode::Lexical, 0, 20)?);
        Ok(())
    })?;
    if scale > 1 {
        at_scale(&store, scale, rounds, &queries).await?;
    }
    let Some(embedder) = embedder else {
        return Ok(());
    };
    // Embedding throughput on real abstracts.
    let texts: Vec<String> = papers
        .iter()
        .filter(|c| c.paper.summary.len() > 400)
        .take(256)
        .map(|c| paperboy::embed::paper_text(&c.paper.title, &c.paper.summary))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = Instant::now();
    let vectors = embedder.embed(&refs)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "embedding: {} abstracts in {secs:.1} s = {:.1}/s (load {})",
        vectors.len(),
        vectors.len() as f64 / secs,
        load_average()
    );
    if let Ok(out) = std::env::var("PAPERBOY_BENCH_VECTORS_OUT") {
        let json: Vec<(String, &Vec<f32>)> = texts.iter().cloned().zip(vectors.iter()).collect();
        std::fs::write(out, serde_json::to_string(&json)?)?;
    }
    // Hybrid latency: a full-size vector index.
    let hybrid = Search::open(index_dir.path().join("h").as_path(), Some(embedder.clone()))?;
    hybrid.catch_up(&store).await?;
    let n = store.counts().await?.papers as usize;
    let mut random = RandomVectors(0x2545F4914F6CDD1D);
    let all = store.papers_changed_after(0, None, u32::MAX).await?;
    hybrid.fill_vectors(
        all.iter()
            .take(n)
            .map(|c| (c.paper.id.to_string(), random.next(embedder.dim()))),
    );
    drop(all);
    let (rows, bytes) = hybrid.vector_stats();
    println!("vectors: {rows} rows, {:.1} MB matrix", bytes as f64 / 1e6);
    let hybrid_queries: Vec<String> = queries.iter().take(200).cloned().collect();
    time_queries("query embedding alone", rounds, &hybrid_queries, |q| {
        std::hint::black_box(embedder.embed(&[q])?);
        Ok(())
    })?;
    let query_vectors: Vec<Vec<f32>> = (0..200).map(|_| random.next(embedder.dim())).collect();
    let mut next_vector = query_vectors.iter().cycle();
    time_queries(
        "vector scan alone (top 100)",
        rounds,
        &hybrid_queries,
        |_| {
            let v = next_vector.next().map_or(&[][..], Vec::as_slice);
            std::hint::black_box(hybrid.nearest_to_vector(v, 100));
            Ok(())
        },
    )?;
    time_queries(
        "lexical leg alone (top 100)",
        rounds,
        &hybrid_queries,
        |q| {
            std::hint::black_box(hybrid.lexical().search(&parse(q), 0, 100)?);
            Ok(())
        },
    )?;
    time_queries(
        "hybrid incl. query embedding (top 20)",
        rounds,
        &hybrid_queries,
        |q| {
            std::hint::black_box(hybrid.search(&parse(q), Mode::Hybrid, 0, 20)?);
            Ok(())
        },
    )?;
    Ok(())
}

/// Writes `papers` ×`scale` into the index (copies under new ids) in one commit.
fn build_at_scale(search: &Search, papers: &[Paper], scale: usize) -> anyhow::Result<()> {
    search.lexical().clear()?;
    let started = Instant::now();
    let mut n = 0;
    for copy in 0..scale {
        for chunk in papers.chunks(2000) {
            let mut batch = chunk.to_vec();
            if copy > 0 {
                for p in &mut batch {
                    p.id = synthetic_id(n)?;
                    n += 1;
                }
            }
            search.lexical().put(&batch)?;
        }
    }
    search.lexical().commit(1)?;
    println!(
        "×{scale} index build: {} documents in {:.1} s (load {})",
        search.lexical().num_docs(),
        started.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}

/// Stores a random unit vector for every paper without one for the embedder's model.
async fn fill_missing_vectors(store: &Store, embedder: &dyn Embedder) -> anyhow::Result<()> {
    let model = embedder.model_id();
    let mut random = RandomVectors(0xD1B54A32D192ED03);
    let mut filled = 0;
    let mut after = 0;
    loop {
        let batch = store.papers_to_embed(model, after, 2000).await?;
        let Some(last) = batch.last().map(|p| p.position) else {
            break;
        };
        after = last;
        let items: Vec<(String, i64, Vec<f32>)> = batch
            .into_iter()
            .map(|p| (p.paper_id, p.change_seq, random.next(embedder.dim())))
            .collect();
        store.put_vectors(model, &items).await?;
        filled += items.len();
    }
    println!("stored random vectors for {filled} papers without one ({model})");
    Ok(())
}

/// The ×`scale` corpus: lexical build and latency, then the exact vector scan at that size.
async fn at_scale(
    store: &Store,
    scale: usize,
    rounds: usize,
    queries: &[String],
) -> anyhow::Result<()> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let temporary = tempfile::Builder::new()
        .prefix("bench-search-scale-")
        .tempdir_in(&target)?;
    let index_dir = std::env::var_os("PAPERBOY_BENCH_SCALE_DIR")
        .map_or_else(|| temporary.path().join("index"), std::path::PathBuf::from);
    let papers: Vec<Paper> = store
        .papers_changed_after(0, None, u32::MAX)
        .await?
        .into_iter()
        .map(|c| c.paper)
        .collect();
    let docs = papers.len() * scale;
    {
        let search = Search::open(&index_dir, None)?;
        if search.lexical().num_docs() == docs as u64 {
            println!(
                "×{scale} index: reusing the {docs} documents in {}",
                index_dir.display()
            );
        } else {
            build_at_scale(&search, &papers, scale)?;
            let size: u64 = std::fs::read_dir(&index_dir)?
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum();
            println!("×{scale} index: {:.0} MB on disk", size as f64 / 1e6);
        }
        time_queries(
            &format!("×{scale} lexical (top 20)"),
            rounds,
            queries,
            |q| {
                std::hint::black_box(search.search(&parse(q), Mode::Lexical, 0, 20)?);
                Ok(())
            },
        )?;
    }
    drop(temporary);
    let dim = 384;
    let mut random = RandomVectors(0x9E3779B97F4A7C15);
    let mut index = VectorIndex::new(dim);
    let started = Instant::now();
    for i in 0..docs {
        index.upsert(&format!("v{i}"), &random.next(dim));
    }
    println!(
        "×{scale} vectors: {} rows of {dim} i8, {:.0} MB matrix, filled in {:.1} s",
        index.len(),
        index.matrix_bytes() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let query_vectors: Vec<Vec<f32>> = (0..50).map(|_| random.next(dim)).collect();
    let names: Vec<String> = (0..query_vectors.len()).map(|i| i.to_string()).collect();
    time_queries(
        &format!("×{scale} vector scan alone (top 100)"),
        rounds,
        &names,
        |i| {
            let v = i
                .parse::<usize>()
                .ok()
                .and_then(|i| query_vectors.get(i))
                .map_or(&[][..], Vec::as_slice);
            std::hint::black_box(index.nearest(v, 100, None));
            Ok(())
        },
    )?;
    Ok(())
}
