//! Python venvs (the client test suites', the PyTorch benchmark's), rebuilt only when their
//! requirements.txt changes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::process;

/// Pinned requirements, relative to the repository root.
pub const REQUIREMENTS: &str = "crates/paperboy/tests/hf_client/requirements.txt";
/// The venv, relative to the repository root.
pub const VENV: &str = "target/test-env/venv";
/// File in the venv holding the hash of the requirements it was built from.
const STAMP: &str = "requirements.fnv1a64";

/// Makes sure the venv exists with exactly [`REQUIREMENTS`] installed; returns its python.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    ensure_from(root, REQUIREMENTS, VENV)
}

/// Makes sure the venv `venv_dir` exists with exactly `requirements_file` installed (both relative to
/// the repository root); returns its python.
pub fn ensure_from(root: &Path, requirements_file: &str, venv_dir: &str) -> Result<PathBuf> {
    let requirements = root.join(requirements_file);
    let wanted =
        fs::read(&requirements).with_context(|| format!("reading {}", requirements.display()))?;
    let wanted = format!("{:016x}\n", fnv1a64(&wanted));

    let venv = root.join(venv_dir);
    let python = venv.join("bin").join("python");
    let stamp = venv.join(STAMP);
    let python_works = process::succeeds(Command::new(&python).args(["-c", "import sys"]));
    if python_works && fs::read_to_string(&stamp).is_ok_and(|have| have == wanted) {
        eprintln!("{venv_dir} is up to date with {requirements_file}");
        return Ok(python);
    }

    eprintln!("building {venv_dir} from {requirements_file}");
    fs::create_dir_all(venv.parent().context("venv path has no parent")?)?;
    process::run_to_stderr(
        Command::new(base_python())
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    )?;
    process::run_to_stderr(
        Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-input", "--quiet", "--requirement"])
            .arg(&requirements),
    )?;
    fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(python)
}

/// The interpreter that creates the venv: `python3` from PATH, else Debian's.
fn base_python() -> PathBuf {
    process::find_on_path("python3").unwrap_or_else(|| PathBuf::from("/usr/bin/python3"))
}

/// 64-bit FNV-1a: a small hash that is stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::fnv1a64;

    #[test]
    fn fnv1a64_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
