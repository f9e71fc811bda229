//! `cargo xtask bench upvotes`: upvote throughput through the API under 64 concurrent
//! connections, and a check that the final counts are exact.
//!
//! The release server runs the demo data. `paperboy token create` makes [`MEMBERS`] members with
//! API tokens; then [`CONNECTIONS`] keep-alive connections send `POST /api/papers/{id}/upvote`,
//! each request a distinct (member, paper) pair, [`MEMBERS`] × [`PAPERS`] in all. Afterwards the
//! papers' upvotes must have grown by exactly one per pair. The load generator is a small
//! HTTP/1.1 client on tokio (no extra dependency), so every request is counted only once its
//! response has arrived.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use super::http::{clear_paperboy_env, target_dir};
use super::server::{self, Server};

const CONNECTIONS: usize = 64;
const MEMBERS: usize = 128;
const PAPERS: usize = 200;

pub fn run(root: &Path) -> Result<()> {
    let binary = super::release_paperboy(root)?;
    let scratch = target_dir(root)
        .join("tmp")
        .join(format!("bench-upvotes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let result = measure(&binary, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn paperboy(binary: &Path, data: &Path) -> Command {
    let mut command = Command::new(binary);
    clear_paperboy_env(&mut command);
    command
        .env("PAPERBOY_HARVEST_AT", "off")
        .env("PAPERBOY_SCHEDULE_DIGESTS", "false")
        .env("PAPERBOY_EMBEDDER", "off")
        .env("PAPERBOY_FETCH_MODEL", "false")
        .arg("--data-dir")
        .arg(data);
    command
}

fn measure(binary: &Path, scratch: &Path) -> Result<()> {
    let data = scratch.join("data");
    let addr = server::free_addr()?;
    let mut command = paperboy(binary, &data);
    command
        .args(["serve", "--demo", "--listen"])
        .arg(addr.to_string());
    let mut server = Server::start(
        "paperboy",
        &mut command,
        addr,
        &scratch.join("paperboy.log"),
    )?;
    server.wait_ready("/healthz", Duration::from_secs(180))?;

    eprintln!("creating {MEMBERS} members with API tokens");
    let mut tokens = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        let out = paperboy(binary, &data)
            .args(["token", "create", &format!("bench{i}@example.org")])
            .output()
            .context("running paperboy token create")?;
        if !out.status.success() {
            bail!(
                "token create failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokens.push(String::from_utf8(out.stdout)?.trim().to_owned());
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut papers = Vec::new();
        for page in 0..PAPERS.div_ceil(100) {
            let body = get(addr, &format!("/api/daily_papers?limit=100&p={page}")).await?;
            papers.extend(paper_ids(&body));
        }
        papers.truncate(PAPERS);
        if papers.len() < PAPERS {
            bail!("the demo feed has only {} papers", papers.len());
        }
        let before = total_upvotes(addr, &papers).await?;
        let pairs = MEMBERS * PAPERS;
        let tokens = Arc::new(tokens);
        let papers = Arc::new(papers);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for conn in 0..CONNECTIONS {
            let (tokens, papers) = (tokens.clone(), papers.clone());
            tasks.push(tokio::spawn(async move {
                let mut client = Connection::open(addr).await?;
                let mut latencies = Vec::new();
                let mut k = conn;
                while k < pairs {
                    let token = &tokens[k % MEMBERS];
                    let paper = &papers[(k / MEMBERS) % PAPERS];
                    let sent = Instant::now();
                    let status = client.post_upvote(paper, token).await?;
                    latencies.push(sent.elapsed());
                    if status != 200 {
                        bail!("upvote {paper} answered {status}");
                    }
                    k += CONNECTIONS;
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut latencies = Vec::with_capacity(pairs);
        for task in tasks {
            latencies.extend(task.await??);
        }
        let elapsed = start.elapsed();
        let after = total_upvotes(addr, &papers).await?;
        latencies.sort();
        let pct =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        let exact = after - before == pairs as i64;
        println!("| connections | requests | requests/s | p50 | p99 | upvotes added (expected) |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
        println!(
            "| {CONNECTIONS} | {pairs} | {:.0} | {:.2} ms | {:.2} ms | {} ({pairs}) |",
            pairs as f64 / elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
            after - before,
        );
        if !exact {
            bail!("the upvotes grew by {}, not {pairs}", after - before);
        }
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}

/// The `paper.id` of each item in a `/api/daily_papers` body.
fn paper_ids(body: &str) -> Vec<String> {
    body.split("\"paper\":{\"id\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn total_upvotes(addr: SocketAddr, papers: &[String]) -> Result<i64> {
    let mut total = 0;
    for id in papers {
        let body = get(addr, &format!("/api/papers/{id}")).await?;
        let n = body
            .split("\"upvotes\":")
            .nth(1)
            .and_then(|rest| rest.split([',', '}']).next())
            .and_then(|n| n.trim().parse::<i64>().ok())
            .with_context(|| format!("no upvotes in /api/papers/{id}"))?;
        total += n;
    }
    Ok(total)
}

async fn get(addr: SocketAddr, path: &str) -> Result<String> {
    let mut c = Connection::open(addr).await?;
    c.stream
        .get_mut()
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let (status, body) = c.read_response().await?;
    if status != 200 {
        bail!("GET {path} answered {status}");
    }
    Ok(body)
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::new(stream),
            addr,
        })
    }

    async fn post_upvote(&mut self, paper: &str, token: &str) -> Result<u16> {
        let request = format!(
            "POST /api/papers/{paper}/upvote HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n",
            self.addr
        );
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        Ok(self.read_response().await?.0)
    }

    /// Reads one response with a `Content-Length` body.
    async fn read_response(&mut self) -> Result<(u16, String)> {
        use tokio::io::AsyncBufReadExt as _;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("not an HTTP status line: {line:?}"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::paper_ids;

    #[test]
    fn reads_paper_ids_from_a_daily_papers_body() {
        let body =
            r#"[{"paper":{"id":"2608.00001","authors":[]}},{"paper":{"id":"hep-th/9901001"}}]"#;
        assert_eq!(paper_ids(body), ["2608.00001", "hep-th/9901001"]);
    }
}
