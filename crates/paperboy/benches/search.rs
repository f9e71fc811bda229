//! Search benchmarks over a real store: index build time, lexical and hybrid latency, and
//! embedding throughput.
//!
//! `PAPERBOY_BENCH_DB=<data dir with paperboy.db> PAPERBOY_MODEL_DIR=<model dir>
//! cargo bench -p paperboy --bench search`. Without a model only the lexical part runs. The
//! vector index is filled with random unit vectors when the store has none (latency does not
//! depend on the values; quality is measured by the judged set, not here).

use std::sync::Arc;
use std::time::Instant;

use paperboy::embed::Embedder;
use paperboy::embed::minilm::MiniLm;
use paperboy::embed::weights::ModelFiles;
use paperboy::search::query::parse;
use paperboy::search::{Mode, Search};
use paperboy::store::Store;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        percentile(&ms, 0.99),
        ms[ms.len() - 1]
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Ok(dir) = std::env::var("PAPERBOY_BENCH_DB") else {
        eprintln!("set PAPERBOY_BENCH_DB to a data dir holding paperboy.db");
        return Ok(());
    };
    let store = Store::open_sqlite(&std::path::Path::new(&dir).join("paperboy.db")).await?;
    let embedder: Option<Arc<dyn Embedder>> = std::env::var("PAPERBOY_MODEL_DIR")
        .ok()
        .map(|d| ModelFiles::in_dir(std::path::Path::new(&d)))
        .filter(ModelFiles::present)
        .map(|f| MiniLm::load(&f, 0).map(|m| Arc::new(m) as Arc<dyn Embedder>))
        .transpose()?;
    let index_dir = tempfile::tempdir()?;
    let search = Search::open(index_dir.path(), None)?;
    let started = Instant::now();
    let done = search.catch_up(&store).await?;
    println!(
        "index build: {} papers in {:.1} s",
        done.indexed,
        started.elapsed().as_secs_f64()
    );
    // Queries: words from stored titles, 1 to 4 words each.
    let papers = store.papers_changed_after(0, None, 4000).await?;
    let mut queries: Vec<String> = Vec::new();
    for (i, (_, p)) in papers.iter().enumerate().step_by(10) {
        let words: Vec<&str> = p.title.split_whitespace().filter(|w| w.len() > 3).collect();
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
    let mut ms = Vec::new();
    for q in &queries {
        let t = Instant::now();
        let r = search.search(&parse(q), Mode::Lexical, 0, 20)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(r);
    }
    report("lexical (top 20)", ms);
    let Some(embedder) = embedder else {
        return Ok(());
    };
    // Embedding throughput on real abstracts.
    let texts: Vec<String> = papers
        .iter()
        .filter(|(_, p)| p.summary.len() > 400)
        .take(256)
        .map(|(_, p)| paperboy::embed::paper_text(&p.title, &p.summary))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = Instant::now();
    let vectors = embedder.embed(&refs)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "embedding: {} abstracts in {secs:.1} s = {:.1}/s",
        vectors.len(),
        vectors.len() as f64 / secs
    );
    if let Ok(out) = std::env::var("PAPERBOY_BENCH_VECTORS_OUT") {
        let json: Vec<(String, &Vec<f32>)> = texts.iter().cloned().zip(vectors.iter()).collect();
        std::fs::write(out, serde_json::to_string(&json)?)?;
    }
    // Hybrid latency: a full-size vector index.
    let hybrid = Search::open(index_dir.path().join("h").as_path(), Some(embedder.clone()))?;
    hybrid.catch_up(&store).await?;
    let n = store.counts().await?.papers as usize;
    let mut rng = 0x2545F4914F6CDD1Du64;
    let all = store.papers_changed_after(0, None, u32::MAX).await?;
    hybrid.fill_vectors(all.iter().take(n).map(|(_, p)| {
        let v: Vec<f32> = (0..384)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        (p.id.to_string(), v)
    }));
    let (rows, bytes) = hybrid.vector_stats();
    println!("vectors: {rows} rows, {:.1} MB matrix", bytes as f64 / 1e6);
    let mut ms = Vec::new();
    let mut embed_ms = Vec::new();
    for q in queries.iter().take(200) {
        let t = Instant::now();
        std::hint::black_box(embedder.embed(&[q.as_str()])?);
        embed_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        std::hint::black_box(hybrid.search(&parse(q), Mode::Hybrid, 0, 20)?);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report("query embedding alone", embed_ms);
    report("hybrid incl. query embedding (top 20)", ms);
    Ok(())
}
