//! The local embedding model: its vectors against PyTorch's, and the rewrite of its graph.

use std::path::PathBuf;

use paperboy::embed::Embedder as _;
use paperboy::embed::graph::{self, FLOAT_DOWN_PROJECTIONS, Rewrites};
use paperboy::embed::minilm::MiniLm;
use paperboy::embed::weights::ModelFiles;

fn model_files() -> Option<ModelFiles> {
    let dir = crate::support::tool("PAPERBOY_MODEL_DIR")?;
    Some(ModelFiles::in_dir(&dir))
}

#[test]
fn minilm_stays_within_cosine_0_99_of_pytorch_fp32() {
    let Some(files) = model_files() else {
        return;
    };
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/embed/minilm-fp32.json");
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let texts: Vec<&str> = reference["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let model = MiniLm::load(&files, 2).unwrap();
    let ours = model.embed(&texts).unwrap();
    for ((text, theirs), ours) in texts
        .iter()
        .zip(reference["vectors"].as_array().unwrap())
        .zip(&ours)
    {
        let cosine: f64 = theirs
            .as_array()
            .unwrap()
            .iter()
            .zip(ours)
            .map(|(t, o)| t.as_f64().unwrap() * f64::from(*o))
            .sum();
        assert!(cosine >= 0.99, "cosine {cosine:.5} for {text:?}");
    }
}

#[test]
fn the_int8_export_is_rewritten_to_multiply_in_int8() {
    let Some(files) = model_files() else {
        return;
    };
    let (_, rewrites) = graph::rewrite(&std::fs::read(&files.model).unwrap()).unwrap();
    // Six layers, each with four projections and an up- and a down-projection.
    assert_eq!(
        rewrites,
        Rewrites {
            int8_products: 36 - FLOAT_DOWN_PROJECTIONS,
            float_products: FLOAT_DOWN_PROJECTIONS,
            int8_lookups: 2,
            gelus: 6,
            nan_guards: 6,
        }
    );
}
