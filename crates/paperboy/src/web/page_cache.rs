//! The rendered-page cache: anonymous GETs of the list pages answered from memory.
//!
//! **What is cached:** `GET` and `HEAD` of the feed lists (`/`, day, week and month pages,
//! `/trending`) when the request carries no `Cookie` and no `Authorization` header, and only a
//! `200` response that sets no cookie. Such a page was rendered for nobody in particular: a
//! member's page (vote state, CSRF tokens) always comes with the session cookie, so it is neither
//! read from nor written to the cache. The key is the request's path and query exactly as sent,
//! so two URLs share an entry only when they are the same URL.
//!
//! **Invalidation rule:** every entry is tagged with the store's data version read *before* its
//! page was rendered, and is served only to a request whose own data version, read *after* the
//! request arrived, is the same. The version is SQLite's `PRAGMA data_version` on a connection of
//! its own (`store::papers::ChangeProbe`), which moves on every commit by any other connection:
//! imports, harvests, submissions, votes, comments and admin actions in this process, and a
//! `paperboy import` running as another process on the same file. So a page that was rendered
//! before a change is never served after the change has been committed. Pages that depend on the
//! clock (the hot ranking of `/trending`, the latest day on `/`) are additionally bounded by
//! [`MAX_AGE`].
//!
//! Reading the version costs one query on that connection. Concurrent requests share a read:
//! a request waits for the next read that *started after it arrived* (so the read sees every
//! commit made before the request), and every request waiting at that moment takes its answer.
//! If the version cannot be read, the request is served uncached.
//!
//! Memory is bounded by [`MAX_ENTRIES`] and [`MAX_BYTES`]; past them, stale entries go first,
//! then the oldest. The metrics middleware sits outside this one, so hits are counted and timed
//! like any other request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use crate::app::App;
use crate::store::Store;
use crate::store::papers::ChangeProbe;

/// The routes whose anonymous pages are cached (as written in `web::router`).
const CACHED_ROUTES: [&str; 5] = [
    "/",
    "/papers/date/{date}",
    "/papers/week/{week}",
    "/papers/month/{month}",
    "/trending",
];

/// An entry older than this is not served, so clock-driven changes (hot scores decaying, the
/// seven-day window of `/trending` moving) show within this long.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// At most this many pages…
pub const MAX_ENTRIES: usize = 2_000;
/// …and this many bytes of bodies.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// Larger pages are served but not kept.
const MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// The store's data version: the probe's count, and which probe connection counted it (a
/// reopened probe starts a new count, which must never match an old entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    epoch: u64,
    data: i64,
}

/// A cached page: what the handler answered, less nothing.
struct Entry {
    version: Version,
    stored_at: Instant,
    headers: HeaderMap,
    body: Bytes,
}

impl Entry {
    fn fresh(&self, version: Version, now: Instant) -> bool {
        self.version == version && now.duration_since(self.stored_at) < MAX_AGE
    }

    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The cache: the pages, and the shared reads of the data version they are checked against.
pub struct PageCache {
    entries: Mutex<Entries>,
    versions: Arc<Versions>,
}

impl PageCache {
    pub fn new(store: Store) -> PageCache {
        PageCache {
            entries: Mutex::new(Entries::default()),
            versions: Arc::new(Versions::new(store)),
        }
    }

    /// The page for `key` if it was rendered at `version` and is young enough.
    fn get(&self, key: &str, version: Version) -> Option<Arc<Entry>> {
        let entries = self.entries.lock().expect("page cache lock");
        entries
            .map
            .get(key)
            .filter(|e| e.fresh(version, Instant::now()))
            .cloned()
    }

    fn put(&self, key: String, entry: Entry) {
        if entry.body.len() > MAX_ENTRY_BYTES {
            return;
        }
        self.entries
            .lock()
            .expect("page cache lock")
            .insert(key, entry);
    }

    /// How many pages are held (for tests).
    pub fn len(&self) -> usize {
        self.entries.lock().expect("page cache lock").map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The map, with its bytes counted.
#[derive(Default)]
struct Entries {
    map: HashMap<String, Arc<Entry>>,
    bytes: usize,
}

impl Entries {
    fn insert(&mut self, key: String, entry: Entry) {
        let (version, now) = (entry.version, entry.stored_at);
        self.bytes += entry.body.len();
        if let Some(old) = self.map.insert(key, Arc::new(entry)) {
            self.bytes -= old.body.len();
        }
        if self.map.len() <= MAX_ENTRIES && self.bytes <= MAX_BYTES {
            return;
        }
        // Whatever no request can be served any more goes first…
        let bytes = &mut self.bytes;
        self.map.retain(|_, e| {
            let keep = e.fresh(version, now);
            if !keep {
                *bytes -= e.body.len();
            }
            keep
        });
        // …then the oldest pages.
        while self.map.len() > MAX_ENTRIES || self.bytes > MAX_BYTES {
            let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, e)| e.stored_at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = self.map.remove(&oldest) {
                self.bytes -= e.body.len();
            }
        }
    }
}

/// Reads of the data version, shared by the requests that arrive while one is under way.
///
/// Every read takes a ticket from `started` before it begins; a request notes `started` when it
/// arrives and accepts only a reading with a larger ticket, that is one begun after it arrived.
struct Versions {
    store: Store,
    started: AtomicU64,
    /// Whether a read is under way (at most one at a time).
    probing: AtomicBool,
    latest: watch::Sender<Reading>,
    probe: tokio::sync::Mutex<ProbeSlot>,
}

#[derive(Debug, Clone, Copy)]
struct Reading {
    ticket: u64,
    /// None when the read failed.
    version: Option<Version>,
}

/// The probe connection, opened on first use and reopened after an error.
#[derive(Default)]
struct ProbeSlot {
    probe: Option<ChangeProbe>,
    epoch: u64,
}

impl Versions {
    fn new(store: Store) -> Versions {
        Versions {
            store,
            started: AtomicU64::new(0),
            probing: AtomicBool::new(false),
            latest: watch::Sender::new(Reading {
                ticket: 0,
                version: None,
            }),
            probe: tokio::sync::Mutex::new(ProbeSlot::default()),
        }
    }

    /// The data version as of some moment after this call began; None if it cannot be read.
    async fn current(self: &Arc<Self>) -> Option<Version> {
        let arrival = self.started.load(Ordering::SeqCst);
        let mut readings = self.latest.subscribe();
        loop {
            let reading = *readings.borrow_and_update();
            if reading.ticket > arrival {
                return reading.version;
            }
            if !self.probing.swap(true, Ordering::SeqCst) {
                // A task of its own, so that a request dropped mid-read cannot leave `probing`
                // set or the connection half-used.
                let versions = Arc::clone(self);
                tokio::spawn(async move { versions.read().await });
            }
            readings.changed().await.ok()?;
        }
    }

    async fn read(&self) {
        let ticket = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let version = {
            let mut slot = self.probe.lock().await;
            slot.read(&self.store).await
        };
        // Cleared before the reading is published: a request that saw `probing` set is then
        // woken by the send below, and one that comes later starts a read of its own.
        self.probing.store(false, Ordering::SeqCst);
        self.latest.send_replace(Reading { ticket, version });
    }
}

impl ProbeSlot {
    async fn read(&mut self, store: &Store) -> Option<Version> {
        if self.probe.is_none() {
            match store.change_probe().await {
                Ok(p) => {
                    self.probe = Some(p);
                    self.epoch += 1;
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "opening the page cache's change probe");
                    return None;
                }
            }
        }
        let probe = self.probe.as_mut()?;
        match probe.version().await {
            Ok(data) => Some(Version {
                epoch: self.epoch,
                data,
            }),
            Err(e) => {
                tracing::warn!(error = ?e, "reading the data version; reopening the probe");
                self.probe = None;
                None
            }
        }
    }
}

/// Whether this request may be answered from, and its answer kept in, the cache.
fn cacheable(req: &Request) -> bool {
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && !req.headers().contains_key(header::COOKIE)
        && !req.headers().contains_key(header::AUTHORIZATION)
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|m| CACHED_ROUTES.contains(&m.as_str()))
}

/// Whether a response is the same for every anonymous reader and may be kept.
fn keepable(response: &Response) -> bool {
    response.status() == StatusCode::OK
        && !response.headers().contains_key(header::SET_COOKIE)
        && !response.headers().contains_key(header::VARY)
        && !response.headers().contains_key(header::CACHE_CONTROL)
}

/// Middleware: answers cacheable requests from the cache, and keeps what it renders for them.
/// Sits inside `metrics::track` and outside `session::load` (see `web::router`).
pub async fn serve(State(app): State<App>, req: Request, next: Next) -> Response {
    if !cacheable(&req) {
        return next.run(req).await;
    }
    let cache = &app.page_cache;
    let Some(version) = cache.versions.current().await else {
        return next.run(req).await;
    };
    let key = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path(), |pq| pq.as_str());
    if let Some(entry) = cache.get(key, version) {
        return entry.response();
    }
    let key = key.to_owned();
    let response = next.run(req).await;
    if !keepable(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = ?e, "reading a rendered page");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    cache.put(
        key,
        Entry {
            version,
            stored_at: Instant::now(),
            headers: parts.headers.clone(),
            body: body.clone(),
        },
    );
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: Version, stored_at: Instant, len: usize) -> Entry {
        Entry {
            version,
            stored_at,
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; len]),
        }
    }

    const V1: Version = Version { epoch: 1, data: 1 };
    const V2: Version = Version { epoch: 1, data: 2 };

    #[test]
    fn entries_match_only_their_version_and_age() {
        let now = Instant::now();
        let e = entry(V1, now, 1);
        assert!(e.fresh(V1, now));
        assert!(!e.fresh(V2, now), "another data version");
        assert!(
            !e.fresh(Version { epoch: 2, data: 1 }, now),
            "the same count from a reopened probe"
        );
        assert!(!e.fresh(V1, now + MAX_AGE), "too old");
    }

    #[test]
    fn the_map_stays_within_its_bounds_dropping_stale_then_oldest() {
        let mut entries = Entries::default();
        let t0 = Instant::now();
        entries.insert("/stale".into(), entry(V1, t0, 10));
        for i in 0..MAX_ENTRIES {
            let at = t0 + Duration::from_millis(i as u64 + 1);
            entries.insert(format!("/p{i}"), entry(V2, at, 10));
        }
        assert_eq!(entries.map.len(), MAX_ENTRIES);
        assert!(
            !entries.map.contains_key("/stale"),
            "stale entries go first"
        );
        let at = t0 + Duration::from_secs(1);
        entries.insert("/new".into(), entry(V2, at, 10));
        assert_eq!(entries.map.len(), MAX_ENTRIES);
        assert!(!entries.map.contains_key("/p0"), "then the oldest");
        assert!(entries.map.contains_key("/new"));
        assert_eq!(entries.bytes, MAX_ENTRIES * 10);
        // Bytes are bounded too, and a replaced entry's bytes are given back.
        entries.insert("/new".into(), entry(V2, at, MAX_BYTES / 2));
        entries.insert("/big".into(), entry(V2, at, MAX_BYTES / 2));
        assert!(entries.bytes <= MAX_BYTES, "{}", entries.bytes);
        assert_eq!(
            entries.bytes,
            entries.map.values().map(|e| e.body.len()).sum::<usize>()
        );
    }
}
