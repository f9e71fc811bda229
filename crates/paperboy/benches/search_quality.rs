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
//! queries that some mode missed. `PAPERBOY_QUALITY_SWEEP=1` adds a diagnostic table: the hybrid
//! candidates of each query ranked by other fusion rules and weights (reciprocal rank fusion,
//! and `search::fuse` with other semantic weights), with a two-fold check of the weight.
//! `PAPERBOY_QUALITY_POOL=<file>` writes the pool for blind judging: per query, every paper in
//! any mode's top 10 that is not yet judged relevant, as JSON Lines with the query, title and
//! abstract, in an order that does not tell which mode found it (see [`write_pool`]).
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
use paperboy::search::{
    COVERAGE_POWER, Candidate, Candidates, Mode, SEMANTIC_WEIGHT, Search, fuse_with,
};
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
    if let Some(path) = env_path("PAPERBOY_QUALITY_POOL") {
        write_pool(&store, &set.query, &outcomes, &path).await?;
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
        sweep(&search, &set.query)?;
    }
    Ok(())
}

/// Writes the judging pool (TREC-style pooling): for each query, the union of every mode's top
/// [`CUTOFF`] minus the papers already judged relevant, one JSON object per line with `query`
/// (1-based), `q`, `kind`, `id`, `title` and `abstract`. Within a query the papers are ordered by
/// a hash of their id, so a judge reading the file cannot tell which mode found a paper or how
/// high, and judges every candidate the same way.
async fn write_pool(
    store: &Store,
    queries: &[Judged],
    outcomes: &[Vec<Outcome>],
    path: &Path,
) -> anyhow::Result<()> {
    use std::hash::{Hash, Hasher};
    let mut out = String::new();
    for (n, (j, per_mode)) in queries.iter().zip(outcomes).enumerate() {
        let mut ids: Vec<String> = per_mode
            .iter()
            .flat_map(|o| o.top.iter().cloned())
            .filter(|id| !j.relevant.contains(id))
            .collect();
        ids.sort();
        ids.dedup();
        let hash = |id: &String| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (n, id).hash(&mut h);
            h.finish()
        };
        ids.sort_by_key(hash);
        let papers: HashMap<String, paperboy::domain::Paper> = store
            .papers_by_ids(&ids)
            .await?
            .into_iter()
            .map(|p| (p.id.to_string(), p))
            .collect();
        for id in &ids {
            let Some(p) = papers.get(id) else { continue };
            let line = serde_json::json!({
                "query": n + 1,
                "q": j.q,
                "kind": format!("{:?}", j.kind).to_lowercase(),
                "id": id,
                "title": p.title.split_whitespace().collect::<Vec<_>>().join(" "),
                "abstract": p.summary.split_whitespace().collect::<Vec<_>>().join(" "),
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    std::fs::write(path, out)?;
    println!("judging pool written to {}", path.display());
    Ok(())
}

/// One fusion rule of the what-if table.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Reciprocal rank fusion of the two legs' ranks with constant `k` (the product until
    /// 29 Nov 2026, with k = 60).
    Rrf(f32),
    /// The plain convex combination: semantic weight `w`, lexical `1 − w`, cosine min-max
    /// normalised over the candidates, BM25 divided by its maximum.
    MinMax(f32),
    /// As `MinMax`, but both scores divided by their maximum (cosine's floor at 0).
    MaxOnly(f32),
    /// As `MinMax`, with the lexical weight scaled by the best lexical match's coverage of the
    /// query raised to a power: `search::fuse` with the product's power and weight.
    Covered(f32, f32),
    /// The product's rule, then each of the lexical leg's first `m` papers that is not in the
    /// top 10 moved up to its end: "the best word matches are always on the first page" (tried
    /// in the eighth session, not adopted; BENCHMARKS.md, "Search quality").
    Pinned(usize),
}

impl Rule {
    fn rank(self, found: &Candidates) -> Vec<String> {
        let candidates = &found.items;
        let mut scored: Vec<(f32, usize)> = match self {
            Rule::MinMax(w) => return fuse_with(found, w, 1.0 - w),
            Rule::Covered(w, power) => {
                return fuse_with(found, w, (1.0 - w) * found.lexical_coverage.powf(power));
            }
            Rule::Pinned(m) => {
                let mut ranked = paperboy::search::fuse(found);
                let pins: Vec<String> = lexical_order(found)
                    .iter()
                    .take(m)
                    .map(|c| c.id.clone())
                    .filter(|id| !ranked[..ranked.len().min(CUTOFF)].contains(id))
                    .collect();
                ranked.retain(|id| !pins.contains(id));
                let at = CUTOFF.min(ranked.len()).saturating_sub(pins.len());
                for (k, id) in pins.into_iter().enumerate() {
                    ranked.insert(at + k, id);
                }
                return ranked;
            }
            Rule::Rrf(k) => candidates
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let part = |r: Option<usize>| r.map_or(0.0, |r| 1.0 / (k + r as f32 + 1.0));
                    (part(c.lexical_rank) + part(c.semantic_rank), i)
                })
                .collect(),
            Rule::MaxOnly(w) => {
                let top = |f: fn(&Candidate) -> Option<f32>| {
                    candidates.iter().filter_map(f).fold(0f32, f32::max)
                };
                let (cos_max, bm25_max) = (top(|c| c.cosine), top(|c| c.bm25));
                candidates
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let part = |x: Option<f32>, max: f32| match x {
                            Some(x) if max > 0.0 => x.max(0.0) / max,
                            _ => 0.0,
                        };
                        (
                            w * part(c.cosine, cos_max) + (1.0 - w) * part(c.bm25, bm25_max),
                            i,
                        )
                    })
                    .collect()
            }
        };
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .map(|(_, i)| candidates[i].id.clone())
            .collect()
    }

    fn name(self) -> String {
        match self {
            Rule::Rrf(k) => format!("RRF, k = {k}"),
            Rule::MinMax(w) => format!("min-max, w = {w}"),
            Rule::MaxOnly(w) => format!("max only, w = {w}"),
            Rule::Covered(w, p) => format!("min-max × coverage^{p}, w = {w}"),
            Rule::Pinned(m) => format!("product, lexical top {m} pinned"),
        }
    }
}

/// The candidates the lexical leg returned, in its order.
fn lexical_order(found: &Candidates) -> Vec<&Candidate> {
    let mut lexical: Vec<&Candidate> = found
        .items
        .iter()
        .filter(|c| c.lexical_rank.is_some())
        .collect();
    lexical.sort_by_key(|c| c.lexical_rank);
    lexical
}

/// One row of the what-if table: MRR@10 over all queries, the keyword and the paraphrase
/// half, and Recall@10 over all, from each query's (kind, (reciprocal rank, recall)).
fn print_row(name: &str, results: &[(Kind, (f64, f64))]) {
    let avg = |kind: Option<Kind>, recall: bool| {
        mean(
            results
                .iter()
                .filter(|(k, _)| kind.is_none_or(|want| *k == want))
                .map(|(_, (rr, r))| if recall { *r } else { *rr }),
        )
    };
    println!(
        "| {name} | {:.3} | {:.3} | {:.3} | {:.3} |",
        avg(None, false),
        avg(Some(Kind::Keyword), false),
        avg(Some(Kind::Paraphrase), false),
        avg(None, true)
    );
}

/// Reciprocal rank of the first relevant paper within the cutoff, and Recall@10.
fn judge(j: &Judged, ranked: &[String]) -> (f64, f64) {
    let top = &ranked[..ranked.len().min(CUTOFF)];
    let rr = top
        .iter()
        .position(|id| j.relevant.contains(id))
        .map_or(0.0, |i| 1.0 / (i + 1) as f64);
    let found = j.relevant.iter().filter(|id| top.contains(id)).count();
    (rr, found as f64 / j.relevant.len() as f64)
}

/// What-if table: the hybrid candidates of every query (both legs' top 100 with both scores)
/// ranked by other fusion rules and weights, then a two-fold check of the min-max weight: the
/// weight that does best on the odd-numbered queries, judged on the even ones, and the reverse.
fn sweep(search: &Search, queries: &[Judged]) -> anyhow::Result<()> {
    let candidates: Vec<Candidates> = queries
        .iter()
        .map(|j| search.candidates(&parse(&j.q), DIAGNOSTIC_DEPTH))
        .collect::<anyhow::Result<_>>()?;
    println!(
        "\nwhat-if: the hybrid candidates (top {DIAGNOSTIC_DEPTH} of each leg) ranked by other \
         rules; the product is min-max × coverage^{COVERAGE_POWER}, w = {SEMANTIC_WEIGHT}"
    );
    println!("| rule | MRR@10 all | keyword | paraphrase | Recall@10 all |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let weights = [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
    let mut rules: Vec<Rule> = [60.0, 10.0, 1.0].map(Rule::Rrf).to_vec();
    rules.extend([1, 2, 3, 5].map(Rule::Pinned));
    rules.extend(weights.map(Rule::MinMax));
    rules.extend(weights.map(Rule::MaxOnly));
    for power in [1.0, 2.0, 4.0] {
        rules.extend([0.5, 0.6, 0.7, 0.8].map(|w| Rule::Covered(w, power)));
    }
    for kind in [Kind::Keyword, Kind::Paraphrase] {
        let mut c: Vec<f32> = queries
            .iter()
            .zip(&candidates)
            .filter(|(j, _)| j.kind == kind)
            .map(|(_, c)| c.lexical_coverage)
            .collect();
        c.sort_by(f32::total_cmp);
        println!(
            "coverage of the best lexical match, {kind:?}: min {:.2}, median {:.2}, max {:.2}",
            c[0],
            c[c.len() / 2],
            c[c.len() - 1]
        );
    }
    let mrr_of = |rule: Rule, keep: &dyn Fn(usize) -> bool| {
        mean(
            queries
                .iter()
                .zip(&candidates)
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, (j, c))| judge(j, &rule.rank(c)).0),
        )
    };
    for rule in rules {
        let results: Vec<(Kind, (f64, f64))> = queries
            .iter()
            .zip(&candidates)
            .map(|(j, c)| (j.kind, judge(j, &rule.rank(c))))
            .collect();
        print_row(&rule.name(), &results);
    }
    // The coverage taken as the best of the lexical leg's first k papers instead of its first
    // one (a reviewer's case: the only paper holding every word ranked 6th by BM25, below papers
    // with one word in the title).
    for k in [1usize, 2, 3, 4, 5, 7, 10, 20] {
        let mut results: Vec<(Kind, (f64, f64))> = Vec::new();
        for (j, found) in queries.iter().zip(&candidates) {
            let q = parse(&j.q);
            let mut c = 0f32;
            for cand in lexical_order(found).iter().take(k) {
                c = c.max(search.lexical().coverage(&q, &cand.id)?);
            }
            let ranked = fuse_with(
                found,
                SEMANTIC_WEIGHT,
                (1.0 - SEMANTIC_WEIGHT) * c.powi(COVERAGE_POWER),
            );
            results.push((j.kind, judge(j, &ranked)));
        }
        print_row(
            &format!("product, coverage best of the lexical top {k}"),
            &results,
        );
    }
    let product = |w: f32| Rule::Covered(w, COVERAGE_POWER as f32);
    for (fit, held_out) in [("odd", 1), ("even", 0)] {
        let fit_on = move |i: usize| i % 2 != held_out;
        let best = weights
            .into_iter()
            .max_by(|a, b| mrr_of(product(*a), &fit_on).total_cmp(&mrr_of(product(*b), &fit_on)))
            .unwrap_or(SEMANTIC_WEIGHT);
        let judge_on = move |i: usize| i % 2 == held_out;
        println!(
            "two-fold: w fitted on the {fit}-numbered queries = {best}; on the others: the \
             product's rule MRR@10 {:.3}, RRF k = 60 {:.3}",
            mrr_of(product(best), &judge_on),
            mrr_of(Rule::Rrf(60.0), &judge_on)
        );
    }
    Ok(())
}
