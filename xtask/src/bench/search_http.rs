//! `cargo xtask bench search-http`: search over HTTP with 115k papers (issue #6): single-client
//! latency of `/api/papers/search` and `/search`, lexical and hybrid, and the server's RSS.
//!
//! Needs `PAPERBOY_BENCH_DB`, a data dir that `serve` may write to (a copy of the 115k store in
//! which every paper has a vector; see BENCHMARKS.md for making one), `PAPERBOY_MODEL_DIR`
//! (all-MiniLM-L6-v2), and `sqlite3` on PATH (it reads the query titles). It builds the release
//! binary (or takes `PAPERBOY_BENCH_BIN`, a prebuilt one), starts `paperboy serve` on a
//! loopback port, waits for the start-up catch-up (which rebuilds an index of another schema
//! version and loads every vector), records RSS, warms up,
//! then sends each query in turn over one keep-alive connection, for three rounds. The queries are
//! those of `cargo bench --bench search`: title words of the first 4000 papers in change order
//! (1–4 words), plus four with filters; hybrid uses the first 200.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use super::load_average;
use super::server::{self, Server};

const ROUNDS: usize = 3;
const WARM_UP: usize = 50;
const HYBRID_QUERIES: usize = 200;
/// How long the start-up catch-up (index rebuild and vector load) may take.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(900);

pub fn run(root: &Path) -> Result<()> {
    let data = PathBuf::from(std::env::var_os("PAPERBOY_BENCH_DB").context(
        "set PAPERBOY_BENCH_DB to a data dir serve may write to (a copy of the 115k store)",
    )?);
    let model = PathBuf::from(
        std::env::var_os("PAPERBOY_MODEL_DIR")
            .context("set PAPERBOY_MODEL_DIR to the all-MiniLM-L6-v2 model directory")?,
    );
    let db = data.join("paperboy.db");
    if !db.exists() {
        bail!("{} does not exist", db.display());
    }
    let queries = queries(&db)?;
    let binary = match std::env::var_os("PAPERBOY_BENCH_BIN") {
        Some(path) => PathBuf::from(path),
        None => super::release_paperboy(root)?,
    };
    let addr = server::free_addr()?;
    let log = root.join("target").join("bench-search-http.log");
    let mut command = Command::new(&binary);
    command
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", &addr.to_string()])
        .env("PAPERBOY_EMBEDDER", "minilm")
        .env("PAPERBOY_MODEL_DIR", &model)
        .env("PAPERBOY_FETCH_MODEL", "false")
        .env("PAPERBOY_HARVEST_AT", "off")
        .env("PAPERBOY_SCHEDULE_DIGESTS", "false")
        .env("RUST_LOG", "paperboy=info,warn")
        .env("NO_COLOR", "1");
    let started = Instant::now();
    let mut server = Server::start("paperboy", &mut command, addr, &log)?;
    server.wait_ready("/", Duration::from_secs(120))?;
    let caught_up = wait_for_catch_up(&log, started)?;
    let rebuilt = std::fs::read_to_string(&log)?.contains("rebuilding the search index");
    let after_start = memory(server.pid())?;
    let mut conn = Conn::open(addr)?;
    let hybrid: Vec<&String> = queries.iter().take(HYBRID_QUERIES).collect();
    let lexical: Vec<&String> = queries.iter().collect();
    let endpoints: [(&str, &[&String], &str); 4] = [
        ("/api/papers/search", &lexical, "lexical"),
        ("/search", &lexical, "lexical"),
        ("/api/papers/search", &hybrid, "hybrid"),
        ("/search", &hybrid, "hybrid"),
    ];
    for (path, qs, mode) in endpoints {
        for q in qs.iter().take(WARM_UP) {
            conn.get(&url(path, q, mode))?;
        }
    }
    let load = load_average();
    println!(
        "\n`cargo xtask bench search-http`: one client, one keep-alive connection, {ROUNDS} rounds \
         (p50 / p90 / p99 per round; median of rounds); load average at start {load}\n"
    );
    println!("| request | queries | p50 ms | p90 ms | p99 ms | rounds (p50/p99) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (path, qs, mode) in endpoints {
        let mut rounds = Vec::new();
        for _ in 0..ROUNDS {
            let mut ms = Vec::with_capacity(qs.len());
            for q in qs.iter() {
                let t = Instant::now();
                let (status, _) = conn.get(&url(path, q, mode))?;
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                if status != 200 {
                    bail!("GET {} answered {status}", url(path, q, mode));
                }
            }
            ms.sort_by(f64::total_cmp);
            rounds.push([0.5, 0.9, 0.99].map(|p| percentile(&ms, p)));
        }
        let median = |i: usize| {
            let mut v: Vec<f64> = rounds.iter().map(|r| r[i]).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let each: Vec<String> = rounds
            .iter()
            .map(|r| format!("{:.1}/{:.1}", r[0], r[2]))
            .collect();
        let limit = if path == "/search" { "" } else { "&limit=20" };
        println!(
            "| `{path}?mode={mode}{limit}` | {} | {:.2} | {:.2} | {:.2} | {} |",
            qs.len(),
            median(0),
            median(1),
            median(2),
            each.join(", ")
        );
    }
    let after_queries = memory(server.pid())?;
    println!(
        "\nstart-up catch-up: {caught_up}{}; RSS after it: {after_start}; after the queries: \
         {after_queries}; load average at the end {}",
        if rebuilt {
            " (the index was of another schema version and was rebuilt)"
        } else {
            ""
        },
        load_average()
    );
    Ok(())
}

/// The benchmark's queries, built as `benches/search.rs` builds them.
fn queries(db: &Path) -> Result<Vec<String>> {
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg(db)
        .arg(
            "SELECT replace(replace(title, char(10), ' '), char(13), ' ') FROM paper \
             ORDER BY change_seq, paper_id LIMIT 4000",
        )
        .output()
        .context("running sqlite3 (is it on PATH?)")?;
    if !out.status.success() {
        bail!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    }
    let titles = String::from_utf8_lossy(&out.stdout);
    let mut queries = Vec::new();
    for (i, title) in titles.lines().enumerate().step_by(10) {
        let words: Vec<&str> = title.split_whitespace().filter(|w| w.len() > 3).collect();
        let n = 1 + i % 4;
        if words.len() >= n {
            queries.push(words[..n].join(" "));
        }
    }
    queries.extend(
        [
            "author:hinton",
            "cat:cs.CL transformers",
            "\"language model\" after:2023",
            "graph neural networks before:2020",
        ]
        .map(String::from),
    );
    if queries.len() < 100 {
        bail!("only {} queries from {}", queries.len(), db.display());
    }
    Ok(queries)
}

fn url(path: &str, q: &str, mode: &str) -> String {
    let limit = if path == "/search" { "" } else { "&limit=20" };
    format!("{path}?q={}&mode={mode}{limit}", encode(q))
}

/// Percent-encoding for a query string value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Waits for serve's "search index caught up" line; returns what it says about the catch-up.
fn wait_for_catch_up(log: &Path, started: Instant) -> Result<String> {
    loop {
        // Plain text: serve runs with NO_COLOR set.
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("search index caught up")) {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(name))
                    .unwrap_or("?")
                    .to_owned()
            };
            return Ok(format!(
                "{} papers indexed and {} vectors loaded in {} ms (serve up for {:.1} s)",
                field("papers="),
                field("vectors="),
                field("duration_ms="),
                started.elapsed().as_secs_f64()
            ));
        }
        if started.elapsed() > CATCH_UP_TIMEOUT {
            bail!(
                "no \"search index caught up\" in {} after {} s (does every paper have a vector?)",
                log.display(),
                CATCH_UP_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// VmRSS and VmHWM of `pid`, from `/proc`.
fn memory(pid: u32) -> Result<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or_else(
                || "?".to_owned(),
                |kb| format!("{:.0} MB", kb * 1024.0 / 1e6),
            )
    };
    Ok(format!(
        "VmRSS {} (anonymous {}, file-backed {}: the index's mmapped pages and the libraries), \
         VmHWM {}",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
        field("VmHWM:")
    ))
}

/// One HTTP/1.1 keep-alive connection (no client dependency): enough for GETs of our server.
struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Self {
            addr,
            reader: BufReader::new(stream),
        })
    }

    /// `GET path`: the status and the body's length.
    fn get(&mut self, path: &str) -> Result<(u16, usize)> {
        write!(
            self.reader.get_mut(),
            "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.addr
        )?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .with_context(|| format!("not an HTTP status line: {line:?}"))?;
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                bail!("the connection closed in the headers");
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().context("Content-Length")?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        if !chunked {
            self.skip(length)?;
            return Ok((status, length));
        }
        let mut total = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .with_context(|| format!("bad chunk size {line:?}"))?;
            self.skip(size + 2)?;
            if size == 0 {
                return Ok((status, total));
            }
            total += size;
        }
    }

    fn skip(&mut self, n: usize) -> Result<()> {
        let copied = std::io::copy(&mut (&mut self.reader).take(n as u64), &mut std::io::sink())?;
        if copied as usize != n {
            bail!("the connection closed in a body");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(
            url("/search", "\"language model\" after:2023", "hybrid"),
            "/search?q=%22language%20model%22%20after%3A2023&mode=hybrid"
        );
    }
}
