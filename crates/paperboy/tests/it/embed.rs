//! The local embedding model: its vectors against PyTorch's, and the rewrite of its graph.

use std::path::PathBuf;

use paperboy::embed::Embedder as _;
use paperboy::embed::graph::{self, FLOAT_DOWN_PROJECTIONS, Rewrites};
use paperboy::embed::minilm::MiniLm;
use paperboy::embed::weights::ModelFiles;
use protobuf::Message as _;

fn model_files() -> Option<ModelFiles> {
    let dir = crate::support::tool("PAPERBOY_MODEL_DIR")?;
    Some(ModelFiles::in_dir(&dir))
}

/// The texts of the PyTorch fixture and the vectors sentence-transformers made for them (fp32).
fn pytorch_reference() -> (Vec<String>, Vec<Vec<f64>>) {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/embed/minilm-fp32.json");
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let texts = reference["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let vectors = reference["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    (texts, vectors)
}

/// Asserts that `model` embeds every fixture text within cosine 0.99 of PyTorch fp32.
fn assert_close_to_pytorch(model: &MiniLm) {
    let (texts, reference) = pytorch_reference();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ours = model.embed(&refs).unwrap();
    for ((text, theirs), ours) in texts.iter().zip(&reference).zip(&ours) {
        let cosine: f64 = theirs
            .iter()
            .zip(ours)
            .map(|(t, o)| t * f64::from(*o))
            .sum();
        assert!(cosine >= 0.99, "cosine {cosine:.5} for {text:?}");
    }
}

#[test]
fn minilm_stays_within_cosine_0_99_of_pytorch_fp32() {
    let Some(files) = model_files() else {
        return;
    };
    assert_close_to_pytorch(&MiniLm::load(&files, 2).unwrap());
}

#[test]
fn where_onnx_runtime_refuses_the_rewritten_graph_the_export_runs_as_it_was() {
    let Some(files) = model_files() else {
        return;
    };
    // An ONNX Runtime without Microsoft's contributed operators: the rewritten graph names a
    // domain it does not know.
    let model = MiniLm::load_rewritten_by(&files, 2, |exported| {
        let (bytes, rewrites) = graph::rewrite(exported)?;
        let mut proto = onnx_protobuf::ModelProto::parse_from_bytes(&bytes)?;
        for node in proto.graph.mut_or_insert_default().node.iter_mut() {
            if node.domain == "com.microsoft" {
                node.domain = "org.example.absent".to_owned();
            }
        }
        for import in proto.opset_import.iter_mut() {
            if import.domain == "com.microsoft" {
                import.domain = "org.example.absent".to_owned();
            }
        }
        Ok((proto.write_to_bytes()?, rewrites))
    })
    .unwrap();
    assert_eq!(model.model_id(), "all-MiniLM-L6-v2-int8-onnx-256");
    assert_ne!(
        model.model_id(),
        MiniLm::load(&files, 2).unwrap().model_id(),
        "the two graphs' vectors are kept apart"
    );
    assert_close_to_pytorch(&model);
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
