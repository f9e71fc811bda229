//! A fake arXiv on 127.0.0.1 that replays the recorded responses in `tests/fixtures/arxiv`, over
//! real HTTP/1.1 with keep-alive, and injects faults on request: error statuses with
//! `Retry-After`, a connection reset in the middle of a body, replaced bodies, stalls.
//!
//! - `/oai` serves the three recorded `ListRecords` pages as one list, chained through the
//!   tokens they contain: the first request gets `cursor4000` (next token `436115|5001`), that
//!   token gets `cursor405000` (next `436115|406001`), and that one gets the `arXivRaw` page, whose
//!   own token is blanked so the list ends there.
//! - `/api/query` serves the files of `api/INDEX.tsv`, matched on the query's `search_query`,
//!   `id_list`, `start` and `max_results` (with arXiv's defaults). An `id_list` of several ids
//!   with a recording each gets their entries in one feed; an unknown id gets the recorded empty
//!   feed, as arXiv answers.
//!
//! Every request is logged with its arrival time and connection number, for politeness checks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::support::fixtures;

/// The tokens of the recorded OAI pages, and the page each one asks for.
pub const FIRST_PAGE: &str = "listrecords-arxiv-cursor4000.xml";
pub const SECOND_PAGE: &str = "listrecords-arxiv-cursor405000.xml";
pub const LAST_PAGE: &str = "listrecords-arxivraw-cursor46000.xml";
pub const SECOND_TOKEN: &str = "436115|5001";
pub const LAST_TOKEN: &str = "436115|406001";

/// Records in the three pages together.
pub const RECORDS: usize = 3000;

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The first request of an OAI list (no resumption token).
    OaiFirstPage,
    /// The OAI request carrying this resumption token.
    OaiToken(String),
    /// Any API request.
    Api,
}

/// What to do instead of (or before) the normal reply.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status, optional `Retry-After`, and a short body.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// Send the headers and half the body, then reset the connection.
    ResetMidBody,
    /// Serve this body (status 200) instead of the recorded one.
    Body(String),
    /// Redirect elsewhere.
    Redirect(String),
    /// Send the body one byte every `Duration`.
    Trickle(Duration),
    /// Send an endless body.
    Endless,
    /// Hold the reply until [`FakeArxiv::release`] (or forever).
    Stall,
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub connection: u64,
    pub target: String,
}

#[derive(Default)]
struct State {
    faults: VecDeque<(Target, Fault)>,
    seen: Vec<Seen>,
    api_routes: HashMap<ApiKey, (u16, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ApiKey {
    search_query: String,
    id_list: String,
    start: String,
    max_results: String,
}

/// The running fake. It stops when dropped.
pub struct FakeArxiv {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    release: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeArxiv {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeArxiv {
    pub async fn start() -> FakeArxiv {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State {
            api_routes: api_index(),
            ..State::default()
        }));
        let release = Arc::new(Notify::new());
        let task = tokio::spawn({
            let state = state.clone();
            let release = release.clone();
            async move {
                let mut connection = 0;
                while let Ok((stream, _)) = listener.accept().await {
                    connection += 1;
                    tokio::spawn(serve_connection(
                        stream,
                        connection,
                        state.clone(),
                        release.clone(),
                    ));
                }
            }
        });
        FakeArxiv {
            addr,
            state,
            release,
            task,
        }
    }

    pub fn oai_url(&self) -> String {
        format!("http://{}/oai", self.addr)
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api/query", self.addr)
    }

    /// Environment for the `paperboy` binary pointing at this fake, with a short delay.
    pub fn env(&self, delay_ms: u64) -> Vec<(&'static str, String)> {
        vec![
            ("PAPERBOY_ARXIV_OAI_URL", self.oai_url()),
            ("PAPERBOY_ARXIV_API_URL", self.api_url()),
            ("PAPERBOY_ARXIV_DELAY_MS", delay_ms.to_string()),
        ]
    }

    /// Queues a fault for the next request to `target` (faults apply in the order queued).
    pub fn fail_next(&self, target: Target, fault: Fault) {
        self.lock().faults.push_back((target, fault));
    }

    /// Serves `file` (from `api/`) with `status` for requests of exactly these ids.
    pub fn route_ids(&self, id_list: &str, status: u16, file: &str) {
        let key = ApiKey {
            search_query: String::new(),
            id_list: id_list.to_owned(),
            start: "0".into(),
            max_results: "100".into(),
        };
        self.lock()
            .api_routes
            .insert(key, (status, file.to_owned()));
    }

    /// Lets stalled replies go.
    pub fn release(&self) {
        self.release.notify_waiters();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Waits (up to a minute) until the fake has seen a request matching `pred`.
pub async fn wait_for(fake: &FakeArxiv, pred: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !fake.seen().iter().any(&pred) {
        assert!(
            Instant::now() < deadline,
            "the fake arXiv never saw the request"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A recorded fixture's bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    let path = fixtures().join("arxiv").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An OAI-PMH response holding only an error.
pub fn oai_error(code: &str, message: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'>\n\
         <responseDate>2026-08-21T06:00:00Z</responseDate>\n\
         <request verb='ListRecords'>http://export.arxiv.org/oai2</request>\n\
         <error code='{code}'>{message}</error>\n</OAI-PMH>\n"
    )
}

async fn serve_connection(
    mut stream: TcpStream,
    connection: u64,
    state: Arc<Mutex<State>>,
    release: Arc<Notify>,
) {
    let mut buf = Vec::new();
    loop {
        let Some(target) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        let (fault, reply) = {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            state.seen.push(Seen {
                at: Instant::now(),
                connection,
                target: target.clone(),
            });
            let fault = take_fault(&mut state.faults, &target);
            let reply = route(&state, &target);
            (fault, reply)
        };
        let (status, body) = reply;
        let keep_going = match fault {
            None => write_reply(&mut stream, status, &[], body.as_bytes()).await,
            Some(Fault::Body(body)) => write_reply(&mut stream, 200, &[], body.as_bytes()).await,
            Some(Fault::Status {
                status,
                retry_after,
            }) => {
                let headers: Vec<(&str, String)> = retry_after
                    .into_iter()
                    .map(|v| ("Retry-After", v))
                    .collect();
                write_reply(&mut stream, status, &headers, b"try again later").await
            }
            Some(Fault::Redirect(location)) => {
                write_reply(&mut stream, 302, &[("Location", location)], b"").await
            }
            Some(Fault::ResetMidBody) => {
                let head = format!(
                    "HTTP/1.1 {status} OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body.as_bytes()[..body.len() / 2]).await;
                let _ = stream.flush().await;
                let _ = stream.set_zero_linger();
                false
            }
            Some(Fault::Trickle(every)) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                for byte in body.as_bytes() {
                    if stream.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
                false
            }
            Some(Fault::Endless) => {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n")
                    .await;
                let chunk = vec![b'x'; 64 * 1024];
                while stream.write_all(&chunk).await.is_ok() {}
                false
            }
            Some(Fault::Stall) => {
                release.notified().await;
                write_reply(&mut stream, status, &[], body.as_bytes()).await
            }
        };
        if !keep_going {
            return;
        }
    }
}

fn take_fault(faults: &mut VecDeque<(Target, Fault)>, target: &str) -> Option<Fault> {
    let index = faults.iter().position(|(t, _)| matches(t, target))?;
    faults.remove(index).map(|(_, fault)| fault)
}

fn matches(t: &Target, request: &str) -> bool {
    let (path, query) = split_target(request);
    let token = query_value(&query, "resumptionToken");
    match t {
        Target::OaiFirstPage => path == "/oai" && token.is_none(),
        Target::OaiToken(want) => path == "/oai" && token.as_deref() == Some(want),
        Target::Api => path == "/api/query",
    }
}

/// The normal reply: (status, body).
fn route(state: &State, request: &str) -> (u16, String) {
    let (path, query) = split_target(request);
    match path.as_str() {
        "/oai" => match query_value(&query, "resumptionToken").as_deref() {
            None => (200, text(&format!("oai-pmh/{FIRST_PAGE}"))),
            Some(SECOND_TOKEN) => (200, text(&format!("oai-pmh/{SECOND_PAGE}"))),
            Some(LAST_TOKEN) => {
                let page = text(&format!("oai-pmh/{LAST_PAGE}"));
                let last = page.replace(
                    "<resumptionToken completeListSize='907096' cursor='46000'>496549|47001</resumptionToken>",
                    "<resumptionToken completeListSize='907096' cursor='46000'/>",
                );
                assert_ne!(page, last, "the last page's token was not blanked");
                (200, last)
            }
            Some(other) => (
                200,
                oai_error("badResumptionToken", &format!("unknown token {other}")),
            ),
        },
        "/api/query" => route_api(state, &query),
        _ => (404, "not found".into()),
    }
}

fn route_api(state: &State, query: &[(String, String)]) -> (u16, String) {
    let key = api_key(query);
    if let Some((status, file)) = state.api_routes.get(&key) {
        return (*status, text(&format!("api/{file}")));
    }
    // Several ids: the entries of each id's own recording, in one feed.
    let ids: Vec<&str> = key.id_list.split(',').filter(|s| !s.is_empty()).collect();
    let mut entries = String::new();
    let mut found = 0;
    for id in &ids {
        let single = ApiKey {
            id_list: (*id).to_owned(),
            ..key.clone()
        };
        if let Some((200, file)) = state.api_routes.get(&single) {
            let feed = text(&format!("api/{file}"));
            if let (Some(start), Some(end)) = (feed.find("<entry>"), feed.rfind("</entry>")) {
                entries.push_str(&feed[start..end + "</entry>".len()]);
                found += 1;
            }
        }
    }
    let empty = text("api/recorded-01.xml");
    let feed = empty
        .replace(
            "<opensearch:totalResults>0</opensearch:totalResults>",
            &format!("<opensearch:totalResults>{found}</opensearch:totalResults>"),
        )
        .replace("</feed>", &format!("{entries}\n</feed>"));
    (200, feed)
}

fn api_key(query: &[(String, String)]) -> ApiKey {
    let get = |name: &str, default: &str| {
        query_value(query, name)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    ApiKey {
        search_query: get("search_query", ""),
        id_list: get("id_list", ""),
        start: get("start", "0"),
        max_results: get("max_results", "10"),
    }
}

/// `INDEX.tsv`: each recording keyed by the query it answered.
fn api_index() -> HashMap<ApiKey, (u16, String)> {
    let index = String::from_utf8(fixture("api/INDEX.tsv")).expect("UTF-8 index");
    index
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let request = cols[2];
            let query = request
                .strip_prefix("query: ")
                .or_else(|| request.split_once('?').map(|(_, q)| q))
                .unwrap_or("");
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            (
                api_key(&pairs),
                (cols[1].parse().expect("status"), cols[0].to_owned()),
            )
        })
        .collect()
}

/// INDEX rows as (file, status, query string), for tests that replay each one.
pub fn index_rows() -> Vec<(String, u16, String)> {
    let index = String::from_utf8(fixture("api/INDEX.tsv")).expect("UTF-8 index");
    index
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let request = cols[2];
            let query = request
                .strip_prefix("query: ")
                .or_else(|| request.split_once('?').map(|(_, q)| q))
                .unwrap_or("")
                .to_owned();
            (cols[0].to_owned(), cols[1].parse().expect("status"), query)
        })
        .collect()
}

fn text(path: &str) -> String {
    String::from_utf8(fixture(path)).expect("fixtures are UTF-8")
}

fn split_target(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (path.to_owned(), pairs)
}

fn query_value(query: &[(String, String)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Reads one request head; returns its target, or None when the client closed the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let target = head.lines().next()?.split(' ').nth(1)?.to_owned();
            return Some(target);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
}

/// Writes a whole response; false when the connection is gone.
async fn write_reply(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> bool {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/xml; charset=utf-8\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.is_ok()
        && stream.write_all(body).await.is_ok()
        && stream.flush().await.is_ok()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
