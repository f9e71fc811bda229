//! Debian packages the tests need: installed with apt-get only when something is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::process;

/// Packages installed together whenever any of the programs below is missing.
const PACKAGES: &[&str] = &["chromium", "chromium-driver", "wrk"];

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WRK: &str = "wrk";

/// How long apt-get waits for a dpkg lock that another apt run holds.
const LOCK_TIMEOUT: &str = "DPkg::Lock::Timeout=300";

/// Installs [`PACKAGES`] if chromium, chromedriver or wrk is missing.
pub fn ensure_packages() -> Result<()> {
    let missing = missing_programs();
    if missing.is_empty() {
        eprintln!("chromium, chromedriver and wrk are present");
        return Ok(());
    }
    let wanted = PACKAGES.join(" ");
    if !is_root() {
        bail!(
            "missing {}: run as root, or install them first with `sudo apt-get install -y --no-install-recommends {wanted}`",
            missing.join(", ")
        );
    }
    eprintln!("missing {}: installing {wanted}", missing.join(", "));
    process::run_to_stderr(apt_get().arg("update"))?;
    process::run_to_stderr(
        apt_get()
            .args(["install", "-y", "--no-install-recommends"])
            .args(PACKAGES),
    )?;
    let still_missing = missing_programs();
    if !still_missing.is_empty() {
        bail!(
            "still missing after apt-get install: {}",
            still_missing.join(", ")
        );
    }
    Ok(())
}

/// The absolute path of `wrk`, once [`ensure_packages`] has run.
pub fn wrk() -> Option<PathBuf> {
    process::find_on_path(WRK)
}

fn missing_programs() -> Vec<&'static str> {
    let mut missing = Vec::new();
    for path in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(path).exists() {
            missing.push(path);
        }
    }
    if wrk().is_none() {
        missing.push(WRK);
    }
    missing
}

fn apt_get() -> Command {
    let mut command = Command::new("apt-get");
    command
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["-o", LOCK_TIMEOUT]);
    command
}

fn is_root() -> bool {
    process::output(Command::new("id").arg("-u")).is_some_and(|uid| uid == "0")
}
