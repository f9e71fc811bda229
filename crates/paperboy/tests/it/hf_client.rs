//! The real `huggingface_hub` Python client, from PyPI, against a live server.

use std::process::Command;

use crate::support::{TestApp, hf_daily_fixtures, tool};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huggingface_hub_client_passes_its_paper_calls() {
    let Some(python) = tool("PAPERBOY_TEST_PYTHON") else {
        return;
    };
    let t = TestApp::spawn().await;
    let suite = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hf_client");
    let base_url = t.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(&suite)
            .env("HF_ENDPOINT", &base_url)
            .env("PAPERBOY_FIXTURES", hf_daily_fixtures())
            .env("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
            .env("HF_HUB_DISABLE_TELEMETRY", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("HUGGINGFACE_CO_STAGING")
            .output()
            .expect("run pytest")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pytest failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
}
