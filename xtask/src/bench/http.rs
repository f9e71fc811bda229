//! `cargo xtask bench http`: a paperboy page against a plain axum hello-world, measured by `wrk`.
//!
//! Both release binaries run on loopback ports; `wrk -t2 -c64 -d15s --latency` hits the trending
//! day page of the demo data and the hello-world in turn, for [`ROUNDS`] alternating rounds
//! after a short warm-up. The table holds medians; the targets come from issue 2.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use super::server::{self, Server};
use super::wrk;
use crate::apt;
use crate::process;
use crate::step::step;

/// The demo's latest day, in its default (trending) sort.
const PAGE: &str = "/papers/date/2026-08-21";
const THREADS: u32 = 2;
const CONNECTIONS: u32 = 64;
const DURATION: Duration = Duration::from_secs(15);
const WARM_UP: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;
/// Paperboy's page serves at least this share of the hello-world's requests per second.
const TARGET_RATIO: f64 = 0.30;
/// The page's p99 latency stays under this.
const TARGET_P99: Duration = Duration::from_millis(20);

pub fn run(root: &Path) -> Result<()> {
    let wrk = apt::wrk().context(
        "wrk is not on PATH: install it (`apt-get install wrk`) or run `cargo xtask test-env`",
    )?;
    step("build release binaries", || {
        process::run(super::nested_cargo().current_dir(root).args([
            "build",
            "--release",
            "-p",
            "paperboy",
            "--bin",
            "paperboy",
            "--example",
            "hello_axum",
        ]))
    })?;
    let release = target_dir(root).join("release");
    let scratch = Scratch::create(&target_dir(root).join("tmp"))?;

    let addr = server::free_addr()?;
    let mut command = Command::new(release.join("paperboy"));
    command
        .arg("--data-dir")
        .arg(scratch.0.join("data"))
        .args(["serve", "--demo", "--listen"])
        .arg(addr.to_string());
    clear_paperboy_env(&mut command);
    background_jobs_off(&mut command);
    let mut paperboy = Server::start(
        "paperboy",
        &mut command,
        addr,
        &scratch.0.join("paperboy.log"),
    )?;
    paperboy.wait_ready("/healthz", Duration::from_secs(180))?;
    let status = server::get_status(paperboy.addr, PAGE)?;
    if status != 200 {
        bail!("GET {PAGE} answered {status}, not 200: is 2026-08-21 still in the demo data?");
    }

    let addr = server::free_addr()?;
    let mut command = Command::new(release.join("examples").join("hello_axum"));
    command.arg(addr.port().to_string());
    let mut hello = Server::start(
        "hello_axum",
        &mut command,
        addr,
        &scratch.0.join("hello.log"),
    )?;
    hello.wait_ready("/", Duration::from_secs(30))?;

    let targets = [("paperboy", paperboy.url(PAGE)), ("hello", hello.url("/"))];
    let load_before = super::load_average();
    for (name, url) in &targets {
        eprintln!("warm-up: {name} for {}s", WARM_UP.as_secs());
        wrk::run(&wrk, THREADS, CONNECTIONS, WARM_UP, url)?;
    }
    let mut results: [Vec<wrk::Report>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=ROUNDS {
        for ((name, url), runs) in targets.iter().zip(&mut results) {
            let report = wrk::run(&wrk, THREADS, CONNECTIONS, DURATION, url)?;
            eprintln!(
                "round {round}: {name:<8} {:>10.0} req/s, p99 {:>7.2} ms, {} socket errors",
                report.requests_per_sec,
                ms(report.p99),
                report.socket_errors
            );
            if report.non_2xx > 0 {
                bail!("{name}: {} responses were not 2xx or 3xx", report.non_2xx);
            }
            runs.push(report);
        }
    }
    drop(hello);
    drop(paperboy);
    let load = format!("{load_before} before, {} after", super::load_average());
    print_table(&targets[0].1, &load, &results[0], &results[1]);
    Ok(())
}

fn print_table(page: &str, load: &str, paperboy: &[wrk::Report], hello: &[wrk::Report]) {
    let rps = |runs: &[wrk::Report]| median(runs.iter().map(|r| r.requests_per_sec).collect());
    let p99 = |runs: &[wrk::Report]| median(runs.iter().map(|r| ms(r.p99)).collect());
    let runs = |runs: &[wrk::Report]| {
        runs.iter()
            .map(|r| format!("{:.0}", r.requests_per_sec))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ratio = rps(paperboy) / rps(hello);
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "\nwrk -t{THREADS} -c{CONNECTIONS} -d{}s --latency, median of {ROUNDS} rounds; page: {page}; \
         load average {load}\n",
        DURATION.as_secs()
    );
    println!("| server | req/s | p99 latency | ratio to hello | runs (req/s) |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| paperboy `{PAGE}` (trending) | {:.0} | {:.2} ms | {:.1}% | {} |",
        rps(paperboy),
        p99(paperboy),
        ratio * 100.0,
        runs(paperboy)
    );
    println!(
        "| axum hello-world | {:.0} | {:.2} ms | 100% | {} |",
        rps(hello),
        p99(hello),
        runs(hello)
    );
    println!(
        "\nthroughput ratio {:.1}% (target ≥ {:.0}%): {}",
        ratio * 100.0,
        TARGET_RATIO * 100.0,
        verdict(ratio >= TARGET_RATIO)
    );
    println!(
        "paperboy p99 {:.2} ms (target < {} ms): {}",
        p99(paperboy),
        TARGET_P99.as_millis(),
        verdict(p99(paperboy) < ms(TARGET_P99))
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// `$CARGO_TARGET_DIR`, else `target` in the workspace.
pub(super) fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"))
}

/// Keeps the benchmarked server on its defaults: no `PAPERBOY_*` variable from our environment.
pub(super) fn clear_paperboy_env(command: &mut Command) {
    for (name, _) in env::vars_os() {
        if name.to_string_lossy().starts_with("PAPERBOY_") {
            command.env_remove(name);
        }
    }
}

/// Turns off serve's background work (the daily harvest, digest schedule, the search embedder
/// and its model download), so that the benchmark measures pages alone. Unknown to older
/// binaries, these variables are then ignored.
fn background_jobs_off(command: &mut Command) {
    command
        .env("PAPERBOY_HARVEST_AT", "off")
        .env("PAPERBOY_SCHEDULE_DIGESTS", "false")
        .env("PAPERBOY_EMBEDDER", "off")
        .env("PAPERBOY_FETCH_MODEL", "false");
}

/// A scratch folder for the server's data and logs, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn create(parent: &Path) -> Result<Self> {
        let dir = parent.join(format!("bench-http-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
