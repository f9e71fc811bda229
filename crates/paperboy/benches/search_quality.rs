//! Search quality on the judged query set of issue #6: MRR@10 and Recall@10 for lexical, semantic
//! and hybrid ranking, over all queries and over the keyword and paraphrase halves.
//!
//! `PAPERBOY_BENCH_DB=<data dir with the 115k papers imported and embedded>
//! PAPERBOY_MODEL_DIR=target/test-env/models/all-MiniLM-L6-v2
//! cargo bench -p paperboy --bench search_quality`
//!
//! The queries and their judgements are read at run time from `benches/judged_queries.toml` (or
//! `$PAPERBOY_JUDGED_QUERIES`), so editing them needs no rebuild. Each query runs through
//! [`Search::search`], the path `/search` uses, with the top 10 per mode; the runner also looks
//! 100 deep to show where a missed paper landed. `PAPERBOY_QUALITY_SHOW=1` prints every query's
//! top 10 titles per mode (for checking judgements by reading results), `=misses` only those of
//! queries that some mode missed. `PAPERBOY_QUALITY_SWEEP=1` adds a diagnostic table: reciprocal
//! rank fusion recomputed here from the lexical and semantic top 100 with other constants and
//! weights (what-if figures for `search::fuse`, not the product path).
//! `PAPERBOY_QUALITY_INDEX_DIR` keeps the tantivy index there between runs (default: a temporary
//! dir). Relative paths that do not exist in the crate directory (where cargo runs benches) are
//! taken from the workspace root. Without the data dir it says so and exits 0; without the model
//! it reports lexical only. The store is opened with `Store::open_sqlite`, which applies pending
//! migrations: point it at a copy of a database another process is writing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use paperboy::embed::Embedder;
use paperboy::embed::minilm::MiniLm;
use paperboy::embed::weights::ModelFiles;
use paperboy::search::query::parse;
use paperboy::search::{Mode, Search};
use paperboy::store::Store;
use serde::Deserialize;

/// Results judged per query.
const CUTOFF: usize = 10;
/// How deep the runner looks to show where a missed paper landed.
const DIAGNOSTIC_DEPTH: usize = 100;

#[derive(Debug, Deserialize)]
struct JudgedSet {
    query: Vec<Judged>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Judged {
    q: String,
    kind: Kind,
    relevant: Vec<String>,
    #[serde(default)]
    target: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Keyword,
    Paraphrase,
}

/// One query's outcome in one mode.
#[derive(Debug, Clone, Default)]
struct Outcome {
    /// Reciprocal rank of the first relevant paper within the cutoff, else 0.
    rr: f64,
    /// Share of the relevant papers within the cutoff.
    recall: f64,
    /// 1-based rank of each relevant paper within [`DIAGNOSTIC_DEPTH`], in judged order.
    ranks: Vec<Option<usize>>,
    /// The top [`CUTOFF`] ids.
    top: Vec<String>,
    /// The top [`DIAGNOSTIC_DEPTH`] ids.
    deep: Vec<String>,
}

/// A path from the environment. `cargo bench` runs in the crate directory, so a relative path that
/// does not exist there is taken from the workspace root (where the command was likely typed).
fn env_path(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os(name)?);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Some(
        if path.is_relative() && !path.exists() && root.join(&path).exists() {
            root.join(path)
        } else {
            path
        },
    )
}

fn judged_path() -> PathBuf {
    env_path("PAPERBOY_JUDGED_QUERIES").unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/judged_queries.toml")
    })
}

fn evaluate(search: &Search, j: &Judged, mode: Mode) -> anyhow::Result<Outcome> {
    let q = parse(&j.q);
    let top = search.search(&q, mode, 0, CUTOFF)?;
    anyhow::ensure!(
        top.mode == mode,
        "query {:?} ran as {} instead of {}",
        j.q,
        top.mode.as_str(),
        mode.as_str()
    );
    let deep = search.search(&q, mode, 0, DIAGNOSTIC_DEPTH)?;
    let first = top
        .ids
        .iter()
        .position(|id| j.relevant.contains(id))
        .map_or(0.0, |i| 1.0 / (i + 1) as f64);
    let found = j.relevant.iter().filter(|r| top.ids.contains(r)).count();
    Ok(Outcome {
        rr: first,
        recall: found as f64 / j.relevant.len() as f64,
        ranks: j
            .relevant
            .iter()
            .map(|r| deep.ids.iter().position(|id| id == r).map(|i| i + 1))
            .collect(),
        top: top.ids,
        deep: deep.ids,
    })
}

fn ranks_text(ranks: &[Option<usize>]) -> String {
    ranks
        .iter()
        .map(|r| match r {
            Some(r) if *r <= CUTOFF => r.to_string(),
            Some(r) => format!("({r})"),
            None => "-".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Some(dir) = env_path("PAPERBOY_BENCH_DB") else {
        println!(
            "search_quality: skipped: set PAPERBOY_BENCH_DB to a data dir holding paperboy.db"
        );
        return Ok(());
    };
    let db = dir.join("paperboy.db");
    if !db.is_file() {
        println!("search_quality: skipped: {} does not exist", db.display());
        return Ok(());
    }
    let path = judged_path();
    let set: JudgedSet = toml::from_str(
        &std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?,
    )
    .map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))?;
    let model_dir = env_path("PAPERBOY_MODEL_DIR");
    let files = model_dir
        .as_deref()
        .map(ModelFiles::in_dir)
        .filter(ModelFiles::present);
    let embedder: Option<Arc<dyn Embedder>> = match files {
        Some(f) => Some(Arc::new(MiniLm::load(&f, 0)?)),
        None => {
            println!(
                "search_quality: no model in PAPERBOY_MODEL_DIR ({}): semantic and hybrid are \
                 skipped, lexical only",
                model_dir
                    .as_ref()
                    .map_or_else(|| "unset".to_owned(), |d| d.display().to_string())
            );
            None
        }
    };

    let store = Store::open_sqlite(&db).await?;
    // A kept index dir (`PAPERBOY_QUALITY_INDEX_DIR`) makes reruns skip the index build.
    let temp = tempfile::tempdir()?;
    let index_dir =
        env_path("PAPERBOY_QUALITY_INDEX_DIR").unwrap_or_else(|| temp.path().to_owned());
    let search = Search::open(&index_dir, embedder.clone())?;
    let started = Instant::now();
    let done = search.catch_up(&store).await?;
    let papers = store.counts().await?.papers;
    println!(
        "store {}: {papers} papers; indexed {} and loaded {} vectors in {:.1} s",
        db.display(),
        done.indexed,
        done.vectors_loaded,
        started.elapsed().as_secs_f64()
    );
    let modes: &[Mode] = if embedder.is_some() {
        let (vectors, _) = search.vector_stats();
        if (vectors as i64) < papers {
            println!(
                "WARNING: only {vectors} of {papers} papers have a vector ({:.1}%): semantic \
                 and hybrid figures below are NOT meaningful until `paperboy embed` has finished",
                100.0 * vectors as f64 / papers as f64
            );
        }
        &[Mode::Lexical, Mode::Semantic, Mode::Hybrid]
    } else {
        &[Mode::Lexical]
    };

    // Every judged id must be a paper of the store.
    let wanted: Vec<String> = set
        .query
        .iter()
        .flat_map(|j| j.relevant.iter().cloned())
        .collect();
    let titles: HashMap<String, String> = store
        .papers_by_ids(&wanted)
        .await?
        .into_iter()
        .map(|p| (p.id.to_string(), p.title))
        .collect();
    for j in &set.query {
        anyhow::ensure!(
            !j.relevant.is_empty(),
            "query {:?} has no relevant ids",
            j.q
        );
        for id in &j.relevant {
            anyhow::ensure!(
                titles.contains_key(id),
                "query {:?}: relevant id {id} is not in the store",
                j.q
            );
        }
    }
    let count = |k: Kind| set.query.iter().filter(|j| j.kind == k).count();
    println!(
        "judged set {}: {} queries ({} keyword, {} paraphrase), {} relevant ids",
        path.display(),
        set.query.len(),
        count(Kind::Keyword),
        count(Kind::Paraphrase),
        wanted.len()
    );

    let show = std::env::var("PAPERBOY_QUALITY_SHOW").unwrap_or_default();
    let mut outcomes: Vec<Vec<Outcome>> = Vec::new();
    println!(
        "\nranks of the relevant papers per mode (n = rank in the top {CUTOFF}, (n) = rank \
         beyond it, - = not in the top {DIAGNOSTIC_DEPTH})"
    );
    for (i, j) in set.query.iter().enumerate() {
        let per_mode: Vec<Outcome> = modes
            .iter()
            .map(|&m| evaluate(&search, j, m))
            .collect::<anyhow::Result<_>>()?;
        let cols: Vec<String> = modes
            .iter()
            .zip(&per_mode)
            .map(|(m, o)| format!("{}={}", &m.as_str()[..3], ranks_text(&o.ranks)))
            .collect();
        println!(
            "{:>3} {:<10} {:<40} {:?}",
            i + 1,
            format!("{:?}", j.kind).to_lowercase(),
            cols.join(" "),
            j.q
        );
        let missed = per_mode.iter().any(|o| o.rr == 0.0);
        if show == "1" || (show == "misses" && missed) {
            let mut ids: Vec<String> = per_mode.iter().flat_map(|o| o.top.clone()).collect();
            ids.sort();
            ids.dedup();
            let names: HashMap<String, String> = store
                .papers_by_ids(&ids)
                .await?
                .into_iter()
                .map(|p| (p.id.to_string(), p.title))
                .collect();
            println!("      target: {} {}", j.target, j.relevant.join(" "));
            if !j.note.is_empty() {
                println!("      note: {}", j.note);
            }
            for (m, o) in modes.iter().zip(&per_mode) {
                println!("      {}:", m.as_str());
                for (r, id) in o.top.iter().enumerate() {
                    let mark = if j.relevant.contains(id) { '*' } else { ' ' };
                    let title: String = names
                        .get(id)
                        .map_or("?", String::as_str)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    println!("       {mark}{:>2} {id:<18} {title:.110}", r + 1);
                }
            }
        }
        outcomes.push(per_mode);
    }

    println!(
        "\n| mode | MRR@10 all | MRR@10 keyword | MRR@10 paraphrase | Recall@10 all | Recall@10 \
         keyword | Recall@10 paraphrase |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut table: Vec<(Mode, Option<Kind>, f64, f64)> = Vec::new();
    for (mi, &m) in modes.iter().enumerate() {
        let mut cells = Vec::new();
        let mut recalls = Vec::new();
        for kind in [None, Some(Kind::Keyword), Some(Kind::Paraphrase)] {
            let picked = || {
                set.query
                    .iter()
                    .zip(&outcomes)
                    .filter(move |(j, _)| kind.is_none_or(|k| j.kind == k))
                    .map(move |(_, o)| &o[mi])
            };
            let mrr = mean(picked().map(|o| o.rr));
            let recall = mean(picked().map(|o| o.recall));
            table.push((m, kind, mrr, recall));
            cells.push(format!("{mrr:.3}"));
            recalls.push(format!("{recall:.3}"));
        }
        println!(
            "| {} | {} | {} |",
            m.as_str(),
            cells.join(" | "),
            recalls.join(" | ")
        );
    }
    if modes.len() == 3 {
        let yes = |b: bool| if b { "holds" } else { "DOES NOT hold" };
        for (metric, at) in [("MRR@10", 0), ("Recall@10", 1)] {
            let v = |m, k| {
                let &(_, _, mrr, recall) = table
                    .iter()
                    .find(|t| t.0 == m && t.1 == k)
                    .expect("every mode and half is measured");
                if at == 0 { mrr } else { recall }
            };
            let hybrid_best = v(Mode::Hybrid, None) > v(Mode::Lexical, None)
                && v(Mode::Hybrid, None) > v(Mode::Semantic, None);
            let semantic_paraphrase = v(Mode::Semantic, Some(Kind::Paraphrase))
                > v(Mode::Lexical, Some(Kind::Paraphrase));
            println!(
                "{metric}: hybrid beats lexical and semantic on the whole set: {}; semantic beats \
                 lexical on the paraphrase half: {}",
                yes(hybrid_best),
                yes(semantic_paraphrase)
            );
        }
    }
    if modes.len() == 3 && std::env::var_os("PAPERBOY_QUALITY_SWEEP").is_some() {
        sweep(&set.query, &outcomes);
    }
    Ok(())
}

/// Weighted reciprocal rank fusion of a lexical and a semantic ranking, as `search::fuse` does
/// it (lexical first on ties), with the constant `k` and the semantic weight `w` as parameters.
fn rrf(lexical: &[String], semantic: &[String], k: f64, w: f64) -> Vec<String> {
    let mut score: Vec<(&str, f64, usize)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (ranking, weight) in [(lexical, 1.0), (semantic, w)] {
        for (rank, id) in ranking.iter().enumerate() {
            let i = *at.entry(id.as_str()).or_insert_with(|| {
                score.push((id.as_str(), 0.0, score.len()));
                score.len() - 1
            });
            score[i].1 += weight / (k + rank as f64 + 1.0);
        }
    }
    score.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    score.into_iter().map(|(id, _, _)| id.to_owned()).collect()
}

/// MRR@10 of fused rankings for a few RRF constants and semantic weights.
fn sweep(queries: &[Judged], outcomes: &[Vec<Outcome>]) {
    println!(
        "\nwhat-if: RRF recomputed from the top {DIAGNOSTIC_DEPTH} of each mode (k = RRF \
         constant, w = semantic weight; the product uses k = 60, w = 1)"
    );
    println!("| k | w | MRR@10 all | keyword | paraphrase | Recall@10 all |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    let settings = [
        (60.0, 1.0),
        (30.0, 1.0),
        (10.0, 1.0),
        (5.0, 1.0),
        (1.0, 1.0),
        (60.0, 0.5),
        (60.0, 2.0),
        (10.0, 0.5),
        (10.0, 2.0),
    ];
    for (k, w) in settings {
        let mut rr: [Vec<f64>; 3] = Default::default();
        let mut recall = Vec::new();
        for (j, o) in queries.iter().zip(outcomes) {
            let fused = rrf(&o[0].deep, &o[1].deep, k, w);
            let top = &fused[..fused.len().min(CUTOFF)];
            let r = top
                .iter()
                .position(|id| j.relevant.contains(id))
                .map_or(0.0, |i| 1.0 / (i + 1) as f64);
            rr[0].push(r);
            rr[if j.kind == Kind::Keyword { 1 } else { 2 }].push(r);
            let found = j.relevant.iter().filter(|id| top.contains(id)).count();
            recall.push(found as f64 / j.relevant.len() as f64);
        }
        println!(
            "| {k} | {w} | {:.3} | {:.3} | {:.3} | {:.3} |",
            mean(rr[0].iter().copied()),
            mean(rr[1].iter().copied()),
            mean(rr[2].iter().copied()),
            mean(recall.into_iter())
        );
    }
}
