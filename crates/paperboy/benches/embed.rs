//! Embedding throughput, side by side with PyTorch (`cargo xtask bench embed`).
//!
//! Embeds 256 real abstracts (the first of `papers.jsonl.gz` longer than 400 characters, title
//! and abstract as paperboy embeds them) with paperboy's all-MiniLM-L6-v2 (ONNX Runtime, 2
//! threads), three rounds, and reports the median rate. It writes the texts, the vectors and the
//! rates to `target/bench-embed.json`; with `PAPERBOY_TORCH_PYTHON` (a Python with
//! sentence-transformers) and `PAPERBOY_TORCH_MODEL` (the same weights as safetensors) it then
//! runs `benches/embed_torch/embed_torch.py` on them: PyTorch in fp32 and under bf16 autocast on
//! the same texts, in the same run, and the cosine of the two sides' vectors.
//!
//! Needs `$PAPERBOY_SHARED_DATA` or `<repo>/../shared/data` (exits 0 with a note where it is
//! absent) and the model in `PAPERBOY_MODEL_DIR` (default: where `cargo xtask ci` fetches it).
//! `cargo xtask bench embed` runs it with `MALLOC_MMAP_THRESHOLD_=131072`, the setting the
//! `paperboy` binary makes for itself (main.rs), and keeps that variable from the PyTorch side.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use paperboy::embed::Embedder as _;
use paperboy::embed::minilm::MiniLm;
use paperboy::embed::paper_text;
use paperboy::embed::weights::ModelFiles;

const TEXTS: usize = 256;
const MIN_ABSTRACT: usize = 400;
const ROUNDS: usize = 3;
const THREADS: usize = 2;

fn main() -> anyhow::Result<()> {
    let workspace = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let data = std::env::var_os("PAPERBOY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("../shared/data"))
        .join("papers.jsonl.gz");
    if !data.is_file() {
        println!(
            "embed bench skipped: {} not found (set PAPERBOY_SHARED_DATA to the folder holding \
             papers.jsonl.gz; the large data lives outside the repo)",
            data.display()
        );
        return Ok(());
    }
    let model_dir = std::env::var_os("PAPERBOY_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target/test-env/models/all-MiniLM-L6-v2"));
    let files = ModelFiles::in_dir(&model_dir);
    if !files.present() {
        bail!(
            "no model in {} (run `cargo xtask test-env`, or set PAPERBOY_MODEL_DIR)",
            model_dir.display()
        );
    }
    let texts = abstracts(&data)?;
    let model = MiniLm::load(&files, THREADS)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    model.embed(&refs[..8])?; // warm-up
    let mut runs = Vec::new();
    let mut vectors = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        vectors = model.embed(&refs)?;
        runs.push(texts.len() as f64 / start.elapsed().as_secs_f64());
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let rate = sorted[ROUNDS / 2];
    println!(
        "paperboy: {} abstracts, {THREADS} threads, median {rate:.1}/s (runs {})",
        texts.len(),
        runs.iter()
            .map(|r| format!("{r:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let out = workspace.join("target/bench-embed.json");
    let json =
        serde_json::json!({ "texts": texts, "vectors": vectors, "rate": rate, "runs": runs });
    std::fs::write(&out, json.to_string()).with_context(|| format!("writing {}", out.display()))?;
    let (Some(python), Some(torch_model)) = (
        std::env::var_os("PAPERBOY_TORCH_PYTHON"),
        std::env::var_os("PAPERBOY_TORCH_MODEL"),
    ) else {
        println!(
            "PyTorch side skipped: set PAPERBOY_TORCH_PYTHON and PAPERBOY_TORCH_MODEL \
             (`cargo xtask bench embed` does)"
        );
        return Ok(());
    };
    let script = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/embed_torch/embed_torch.py"
    ));
    let status = Command::new(python)
        // An allocator setting meant for paperboy (`cargo xtask bench embed` mirrors main.rs's).
        .env_remove("MALLOC_MMAP_THRESHOLD_")
        .arg(script)
        .arg(&out)
        .arg(torch_model)
        .status()
        .context("running the PyTorch side")?;
    if !status.success() {
        bail!("the PyTorch side failed: {status}");
    }
    Ok(())
}

/// The first [`TEXTS`] papers of the file whose abstract is longer than [`MIN_ABSTRACT`]
/// characters, as paperboy embeds them.
fn abstracts(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::with_capacity(TEXTS);
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", path.display(), n + 1))?;
        let paper: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{}:{}", path.display(), n + 1))?;
        let (Some(title), Some(summary)) = (paper["title"].as_str(), paper["abstract"].as_str())
        else {
            continue;
        };
        if summary.chars().count() > MIN_ABSTRACT {
            out.push(paper_text(title, summary));
            if out.len() == TEXTS {
                break;
            }
        }
    }
    Ok(out)
}
