//! Syndication feeds (RSS 2.0, Atom 1.0, JSON Feed 1.1) for every paper list, with conditional
//! GET.
//!
//! # URLs
//! A list page's feed lives at the page's path plus `/feed.rss`, `/feed.atom` or `/feed.json`:
//!
//! | list | feed |
//! |---|---|
//! | `/` (the latest papers, newest day first) | `/feed.{rss,atom,json}` |
//! | `/papers/date/2026-08-21` | `/papers/date/2026-08-21/feed.{rss,atom,json}` |
//! | `/papers/week/2026-W34` | `/papers/week/2026-W34/feed.{rss,atom,json}` |
//! | `/papers/month/2026-08` | `/papers/month/2026-08/feed.{rss,atom,json}` |
//! | `/trending` | `/trending/feed.{rss,atom,json}` |
//! | `/members/{username}` | `/members/{username}/feed.{rss,atom,json}` |
//! | `/search?q=…` | `/search/feed.{rss,atom,json}?q=…` (same `q`, `mode`, `author`, `cat`, `after`, `before`) |
//! | `/saved` (a member's) | `/saved/{token}/feed.{rss,atom,json}`, private ([`saved`]) |
//!
//! Each feed carries at most [`FEED_LIMIT`] papers in the order of its page (upvotes for a
//! period, newest day first for `/` and a member's papers, hot score for `/trending`, best match
//! first for a search, most recently saved first for `/saved`). A search feed needs a query (text
//! or a filter): without one it is a 400, as is a `q` over 250 characters or an unknown `mode`;
//! its handler is `web::search::search_feed`. An unknown member or an unknown or revoked
//! saved-feed token is a 404.
//!
//! # Adding a feed
//! A new list needs no new rendering code: fetch the papers, describe the feed with a
//! [`FeedMeta`], and return [`respond`]. Its page announces the feed with [`FeedLink::all`].
//! Private feeds (a token in the URL) set [`FeedMeta::private`] so that caches and search
//! engines keep out. Lists that can gain papers older than the ones they hold (search results,
//! saved papers) clear [`FeedMeta::dated_by_items`]: they get an ETag but no `Last-Modified`,
//! so a reader that only sends `If-Modified-Since` never misses a change.

mod conditional;
mod render;
pub mod saved;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::PageError;
use super::feed;
use crate::app::App;
use crate::domain::{Paper, Period, Submitter};
use crate::store::{FeedOrder, FeedQuery};

/// The most papers one feed carries.
pub const FEED_LIMIT: usize = 100;

/// How long readers and caches may reuse a feed before revalidating it.
const MAX_AGE_SECS: u32 = 300;

/// The syndication formats paperboy writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Rss,
    Atom,
    Json,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json];

    /// The format of a feed file name: `feed.rss`, `feed.atom` or `feed.json`.
    pub fn from_file_name(name: &str) -> Option<FeedFormat> {
        FeedFormat::ALL
            .into_iter()
            .find(|f| name.strip_prefix("feed.") == Some(f.extension()))
    }

    pub fn extension(self) -> &'static str {
        match self {
            FeedFormat::Rss => "rss",
            FeedFormat::Atom => "atom",
            FeedFormat::Json => "json",
        }
    }

    /// The media type, as announced in `<link rel="alternate" type=…>`.
    pub fn media_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }

    /// The format's name for people: `RSS`, `Atom` or `JSON Feed`.
    pub fn label(self) -> &'static str {
        match self {
            FeedFormat::Rss => "RSS",
            FeedFormat::Atom => "Atom",
            FeedFormat::Json => "JSON Feed",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml; charset=utf-8",
            FeedFormat::Atom => "application/atom+xml; charset=utf-8",
            FeedFormat::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// What a feed says about itself; the items come from the papers given to [`respond`].
#[derive(Debug, Clone)]
pub struct FeedMeta {
    /// E.g. `Daily Papers · Aug 21, 2026`; the site name is added in front.
    pub title: String,
    pub description: String,
    /// Path of the HTML page that shows the same list, e.g. `/papers/date/2026-08-21`.
    pub page_path: String,
    /// Path of the feed without its extension, e.g. `/papers/date/2026-08-21/feed`.
    pub feed_path: String,
    /// Query string the feed URL keeps (already encoded, without `?`), e.g. `q=diffusion`.
    pub query: Option<String>,
    /// True for feeds whose URL is a secret (a member's token): `Cache-Control: private,
    /// no-store` and `X-Robots-Tag: noindex`.
    pub private: bool,
    /// True when the list only gains papers newer than those it holds (a period, the latest
    /// papers), so the newest item's date can be `Last-Modified`. False sends the ETag alone.
    pub dated_by_items: bool,
}

impl FeedMeta {
    /// A public feed for the list page at `page_path`, served at `page_path` + `/feed.*`.
    pub fn for_page(
        title: impl Into<String>,
        description: impl Into<String>,
        page_path: &str,
    ) -> Self {
        let feed_path = match page_path {
            "/" | "" => "/feed".to_owned(),
            p => format!("{}/feed", p.trim_end_matches('/')),
        };
        FeedMeta {
            title: title.into(),
            description: description.into(),
            page_path: page_path.to_owned(),
            feed_path,
            query: None,
            private: false,
            dated_by_items: true,
        }
    }

    /// The feed's path in `format`, query included.
    pub fn feed_href(&self, format: FeedFormat) -> String {
        let mut href = format!("{}.{}", self.feed_path, format.extension());
        if let Some(q) = &self.query {
            href.push('?');
            href.push_str(q);
        }
        href
    }

    fn page_href(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.page_path),
            None => self.page_path.clone(),
        }
    }
}

/// One `<link rel="alternate">` for a page's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLink {
    pub media_type: &'static str,
    pub title: String,
    pub href: String,
}

impl FeedLink {
    /// The links announcing `meta`'s feed in every format, RSS first.
    pub fn all(meta: &FeedMeta) -> Vec<FeedLink> {
        FeedFormat::ALL
            .into_iter()
            .map(|format| FeedLink {
                media_type: format.media_type(),
                title: format!("{} ({})", meta.title, format.label()),
                href: meta.feed_href(format),
            })
            .collect()
    }
}

/// Renders `papers` as `meta`'s feed in `format`, answering 304 when the client already has it.
///
/// This is the whole contract for a new feed: search and saved-paper feeds call it with their
/// own papers and metadata.
pub fn respond(
    app: &App,
    format: FeedFormat,
    meta: &FeedMeta,
    papers: &[Paper],
    request: &HeaderMap,
) -> Result<Response, PageError> {
    let base_url = app.config.absolute_url("");
    let body = render::render(format, meta, papers, &base_url)?;
    // When the list last gained a paper. Upvote changes move the ETag, not this date.
    let last_modified = render::newest_item(papers)
        .map(|t| t.min(app.now()))
        .filter(|_| meta.dated_by_items);
    let validators = conditional::Validators::new(&body, last_modified);
    let cache_control = if meta.private {
        "private, no-store".to_owned()
    } else {
        format!("public, max-age={MAX_AGE_SECS}")
    };
    let mut headers = validators.headers();
    headers.insert(header::CACHE_CONTROL, header_value(&cache_control));
    if meta.private {
        headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    }
    if validators.not_modified(request) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    Ok((headers, body).into_response())
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The format a feed file name asks for; anything else is a 404.
pub fn format_of(file: &str) -> Result<FeedFormat, PageError> {
    FeedFormat::from_file_name(file).ok_or_else(|| {
        PageError::NotFound(
            "There is no such feed. Feeds end in /feed.rss, /feed.atom or /feed.json.".into(),
        )
    })
}

/// `/feed.rss`, `/feed.atom`, `/feed.json`: the latest papers on the feed, newest day first.
pub async fn latest(
    State(app): State<App>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format = format_of(uri.path().trim_start_matches('/'))?;
    let query = FeedQuery {
        period: None,
        submitter: None,
        order: FeedOrder::Latest,
        offset: 0,
        limit: FEED_LIMIT as u32,
    };
    let papers = feed::list(&app, &query).await?;
    respond(&app, format, &latest_meta(), &papers, &headers)
}

/// `/papers/date/{date}/feed.*`.
pub async fn day(
    State(app): State<App>,
    Path((date, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format = format_of(&file)?;
    let period = Period::parse_day(&date).map_err(bad_period)?;
    period_feed(&app, format, period, &headers).await
}

/// `/papers/week/{week}/feed.*`.
pub async fn week(
    State(app): State<App>,
    Path((week, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format = format_of(&file)?;
    let period = Period::parse_week(&week).map_err(bad_period)?;
    period_feed(&app, format, period, &headers).await
}

/// `/papers/month/{month}/feed.*`.
pub async fn month(
    State(app): State<App>,
    Path((month, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format = format_of(&file)?;
    let period = Period::parse_month(&month).map_err(bad_period)?;
    period_feed(&app, format, period, &headers).await
}

fn bad_period(e: impl std::fmt::Display) -> PageError {
    PageError::BadRequest(format!("{e}."))
}

/// The metadata of a day, week or month feed.
pub fn period_meta(period: Period) -> FeedMeta {
    let (heading, span) = match period {
        Period::Day(_) => ("Daily Papers", "that day"),
        Period::Week(_) => ("Weekly Papers", "that week"),
        Period::Month { .. } => ("Monthly Papers", "that month"),
    };
    FeedMeta::for_page(
        format!("{heading} · {}", period.label()),
        format!("Papers put on the daily feed {span}, by upvotes."),
        &period.path(),
    )
}

async fn period_feed(
    app: &App,
    format: FeedFormat,
    period: Period,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let query = FeedQuery {
        period: Some(period),
        submitter: None,
        order: FeedOrder::Upvotes,
        offset: 0,
        limit: FEED_LIMIT as u32,
    };
    let papers = feed::list(app, &query).await?;
    respond(app, format, &period_meta(period), &papers, headers)
}

/// The metadata of the `/trending` feed.
pub fn trending_meta() -> FeedMeta {
    FeedMeta::for_page(
        "Trending",
        "Papers of the last seven days by hot score (upvotes weighed against time on the feed).",
        "/trending",
    )
}

/// The metadata of the `/` feed.
pub fn latest_meta() -> FeedMeta {
    FeedMeta::for_page(
        "Daily Papers",
        "The latest papers on the daily feed, newest day first, each day by upvotes.",
        "/",
    )
}

/// The metadata of a member's feed: the papers `who` put on the daily feed.
pub fn member_meta(who: &Submitter) -> FeedMeta {
    FeedMeta::for_page(
        format!("Papers submitted by {}", who.fullname),
        format!(
            "The papers @{} put on the daily feed, newest day first.",
            who.username
        ),
        &super::pages::member_path(&who.username),
    )
}

/// `/members/{username}/feed.*`: the papers a member put on the feed, newest day first.
pub async fn member(
    State(app): State<App>,
    Path((username, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format = format_of(&file)?;
    let who = super::pages::profile(&app, &username).await?;
    let query = FeedQuery {
        period: None,
        submitter: Some(who.username.clone()),
        order: FeedOrder::Latest,
        offset: 0,
        limit: FEED_LIMIT as u32,
    };
    let papers = feed::list(&app, &query).await?;
    respond(&app, format, &member_meta(&who), &papers, &headers)
}

/// `/trending/feed.*`: the hot ranking.
pub async fn trending(
    State(app): State<App>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format = format_of(&file)?;
    let papers: Vec<Paper> = feed::hot_papers(&app, None, 0, FEED_LIMIT)
        .await?
        .into_iter()
        .map(|h| h.paper)
        .collect();
    respond(&app, format, &trending_meta(), &papers, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_map_to_formats_and_nothing_else_does() {
        assert_eq!(
            FeedFormat::from_file_name("feed.rss"),
            Some(FeedFormat::Rss)
        );
        assert_eq!(
            FeedFormat::from_file_name("feed.atom"),
            Some(FeedFormat::Atom)
        );
        assert_eq!(
            FeedFormat::from_file_name("feed.json"),
            Some(FeedFormat::Json)
        );
        for name in ["feed.xml", "feed", "rss", "feed.rss.bak", "Feed.rss", ""] {
            assert_eq!(FeedFormat::from_file_name(name), None, "{name}");
        }
    }

    #[test]
    fn feed_paths_follow_the_page_path() {
        let day = period_meta(Period::parse_day("2026-08-21").unwrap());
        assert_eq!(
            day.feed_href(FeedFormat::Rss),
            "/papers/date/2026-08-21/feed.rss"
        );
        assert_eq!(latest_meta().feed_href(FeedFormat::Json), "/feed.json");
        assert_eq!(
            trending_meta().feed_href(FeedFormat::Atom),
            "/trending/feed.atom"
        );
        let mut search = FeedMeta::for_page("Search", "", "/search");
        search.query = Some("q=diffusion%20models".into());
        assert_eq!(
            search.feed_href(FeedFormat::Rss),
            "/search/feed.rss?q=diffusion%20models"
        );
        assert_eq!(search.page_href(), "/search?q=diffusion%20models");
    }

    #[test]
    fn alternate_links_cover_every_format_rss_first() {
        let links = FeedLink::all(&trending_meta());
        let types: Vec<_> = links.iter().map(|l| l.media_type).collect();
        assert_eq!(
            types,
            [
                "application/rss+xml",
                "application/atom+xml",
                "application/feed+json"
            ]
        );
        assert_eq!(links[0].title, "Trending (RSS)");
    }
}
