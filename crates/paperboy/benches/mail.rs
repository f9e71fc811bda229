//! Digest delivery benchmark (issue 4): one edition to 100,000 confirmed subscribers through a
//! local SMTP sink, side by side with the sink's own acceptance rate.
//!
//! Run with `cargo bench -p paperboy --bench mail`. It needs the test Python venv with aiosmtpd
//! (`cargo xtask test-env` creates it; `PAPERBOY_TEST_PYTHON` or `target/test-env/venv` is used).
//!
//! - **sink baseline**: a plain loop of lettre sends of one fixed, pre-built message over the
//!   same number of pooled connections, as fast as the sink accepts them.
//! - **paperboy**: the real binary, `paperboy digest send --period daily --date 2026-08-21`, on a
//!   database holding the fixture papers and 100,000 confirmed subscribers: creating the edition,
//!   queueing 100,000 outbox rows, rendering each personalised mail and sending it. Peak RSS is
//!   the child's `VmHWM`.
//!
//! Two sinks are measured: aiosmtpd (the Python server the tests use), and a minimal SMTP sink
//! in this file (tokio, `TCP_NODELAY`, answers 250 to everything and drops the data), because
//! aiosmtpd's own acceptance rate on two cores is far below what paperboy can send.
//!
//! `PAPERBOY_BENCH_SUBSCRIBERS` overrides the subscriber count.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures_util::stream::{self, StreamExt as _};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, SqliteConnection};

use paperboy::ingest::{self, Format};
use paperboy::store::Store;

const CONNECTIONS: u32 = 4;
const BASELINE_MAILS: usize = 20_000;
const TARGET_RATE: f64 = 1000.0;
const TARGET_SHARE: f64 = 0.8;
const TARGET_RSS_MB: f64 = 200.0;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> Option<PathBuf> {
    std::env::var_os("PAPERBOY_TEST_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(manifest_dir().join("../../target/test-env/venv/bin/python")))
        .filter(|p| p.exists())
}

struct Sink(std::process::Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink(python: &Path, port: u16, scratch: &Path) -> Result<Sink> {
    let mut child = Command::new(python)
        .arg(manifest_dir().join("tests/mail/smtp_sink.py"))
        .args(["--port", &port.to_string(), "--discard", "--maildir"])
        .arg(scratch)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the SMTP sink")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("sink stdout")?).read_line(&mut line)?;
    if !line.starts_with("listening") {
        bail!("the sink did not start: {line:?}");
    }
    Ok(Sink(child))
}

/// A minimal SMTP server: enough of RFC 5321 for lettre to deliver, nothing stored.
async fn run_minimal_sink(listener: tokio::net::TcpListener) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        tokio::spawn(async move {
            let (read, mut write) = socket.into_split();
            let mut lines = tokio::io::BufReader::new(read);
            let mut line = String::new();
            if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
                return;
            }
            let mut in_data = false;
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        b"250 accepted\r\n"
                    } else {
                        continue;
                    }
                } else {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    }
                };
                if write.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn baseline(port: u16) -> Result<f64> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .pool_config(PoolConfig::new().max_size(CONNECTIONS))
        .build();
    let from: Mailbox = "paperboy <papers@example.org>".parse()?;
    let message = Message::builder()
        .from(from)
        .to("reader@example.org".parse()?)
        .subject("A fixed message")
        .multipart(MultiPart::alternative_plain_html(
            "x".repeat(4000),
            format!("<p>{}</p>", "x".repeat(9000)),
        ))?;
    let start = Instant::now();
    let results: Vec<bool> = stream::iter(0..BASELINE_MAILS)
        .map(|_| {
            let (t, m) = (&transport, message.clone());
            async move { t.send(m).await.is_ok() }
        })
        .buffer_unordered(CONNECTIONS as usize)
        .collect()
        .await;
    let ok = results.iter().filter(|r| **r).count();
    if ok != BASELINE_MAILS {
        bail!("baseline: only {ok} of {BASELINE_MAILS} sends succeeded");
    }
    Ok(BASELINE_MAILS as f64 / start.elapsed().as_secs_f64())
}

async fn prepare_database(dir: &Path, subscribers: usize) -> Result<()> {
    let store = Store::open_sqlite(&dir.join("paperboy.db")).await?;
    ingest::import_paths(
        &store,
        &[manifest_dir().join("tests/fixtures/import/hf-daily")],
        Format::Auto,
        false,
        |p| eprintln!("{p}"),
    )
    .await?;
    drop(store);
    let options = SqliteConnectOptions::new()
        .filename(dir.join("paperboy.db"))
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let mut tx = conn.begin().await?;
    for i in 0..subscribers {
        sqlx::query(
            "INSERT INTO subscriber (email, status, created_at, confirmed_at, updated_at) \
             VALUES (?, 'confirmed', '2026-08-01T00:00:00.000Z', '2026-08-01T00:00:00.000Z', '2026-08-01T00:00:00.000Z')",
        )
        .bind(format!("reader{i:06}@bench{}.example.org", i % 100))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs `paperboy digest send` and returns (mails sent, seconds, peak RSS in MB).
fn run_paperboy(dir: &Path, port: u16) -> Result<(u64, f64, f64)> {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data-dir")
        .arg(dir)
        .args([
            "digest",
            "send",
            "--period",
            "daily",
            "--date",
            "2026-08-21",
        ])
        .env("PAPERBOY_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("PAPERBOY_SMTP_RATE", "0")
        .env("PAPERBOY_SMTP_CONNECTIONS", CONNECTIONS.to_string())
        .env("PAPERBOY_BASE_URL", "https://papers.example.org")
        .stderr(Stdio::piped())
        .spawn()
        .context("running paperboy digest send")?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = start.elapsed().as_secs_f64();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().context("stderr")?, &mut stderr)?;
    if !status.success() {
        bail!("digest send failed: {stderr}");
    }
    let sent = stderr
        .split("sent ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| format!("reading the sent count from: {stderr}"))?;
    Ok((sent, seconds, peak_kb as f64 / 1024.0))
}

struct Row {
    sink: &'static str,
    sink_rate: f64,
    sent: u64,
    seconds: f64,
    rss_mb: f64,
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    let subscribers: usize = std::env::var("PAPERBOY_BENCH_SUBSCRIBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rows = Vec::new();

    // The minimal sink, in this process.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(run_minimal_sink(listener));
    eprintln!(
        "minimal sink: baseline of {BASELINE_MAILS} fixed messages over {CONNECTIONS} connections…"
    );
    let sink_rate = baseline(port).await?;
    eprintln!("preparing {subscribers} confirmed subscribers…");
    let data = tempfile::tempdir()?;
    prepare_database(data.path(), subscribers).await?;
    eprintln!("paperboy digest send…");
    let (sent, seconds, rss_mb) = run_paperboy(data.path(), port)?;
    rows.push(Row {
        sink: "minimal Rust sink",
        sink_rate,
        sent,
        seconds,
        rss_mb,
    });

    // aiosmtpd, with a smaller edition (it accepts under a hundred mails a second here).
    match python() {
        Some(python) => {
            let scratch = tempfile::tempdir()?;
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let _sink = start_sink(&python, port, scratch.path())?;
            eprintln!("aiosmtpd: baseline…");
            let sink_rate = baseline(port).await?;
            let data = tempfile::tempdir()?;
            prepare_database(data.path(), (subscribers / 20).max(1000)).await?;
            eprintln!("paperboy digest send to aiosmtpd…");
            let (sent, seconds, rss_mb) = run_paperboy(data.path(), port)?;
            rows.push(Row {
                sink: "aiosmtpd (Python)",
                sink_rate,
                sent,
                seconds,
                rss_mb,
            });
        }
        None => eprintln!("skipped aiosmtpd: no Python venv; run `cargo xtask test-env` first"),
    }

    println!(
        "| sink | paperboy digest send | sink's own rate (plain loop) | ratio | peak RSS | targets (≥ {TARGET_RATE:.0}/s or ≥ {:.0}% of the sink; RSS < {TARGET_RSS_MB:.0} MB) |",
        TARGET_SHARE * 100.0
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let rate = r.sent as f64 / r.seconds;
        let share = rate / r.sink_rate;
        let met = (rate >= TARGET_RATE || share >= TARGET_SHARE) && r.rss_mb < TARGET_RSS_MB;
        println!(
            "| {} | {rate:.0} mails/s ({} mails in {:.1} s) | {:.0} mails/s | {:.0}% | {:.0} MB | {} |",
            r.sink,
            r.sent,
            r.seconds,
            r.sink_rate,
            share * 100.0,
            r.rss_mb,
            if met { "met" } else { "missed" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
