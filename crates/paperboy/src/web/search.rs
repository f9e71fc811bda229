//! Search: the `/search` page and the HF-compatible `GET /api/papers/search`.
//!
//! Both parse the query with `search::query` (which never fails), run it through `Search`
//! (hybrid by default) and read the hits' papers from the store, so upvote and comment counts are
//! current. An arXiv id or URL jumps straight to the paper on the page, and comes back as the
//! only item from the API and the feeds.
//!
//! Every search also has feeds, `/search/feed.{rss,atom,json}` with the page's query string
//! (see `web::feeds`), which the page announces in its head.

use std::collections::HashSet;

use askama::Template;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody, PageError, query_error};
use super::feeds::{self, FEED_LIMIT, FeedLink, FeedMeta};
use super::hf::{HfDailyPaper, hf_daily_paper};
use super::session;
use crate::app::App;
use crate::domain::{ArxivId, Paper, quoted};
use crate::search::highlight::{Highlighter, Span, SpanKind, window};
use crate::search::query::{MAX_QUERY_CHARS, ParsedQuery, parse};
use crate::search::{Freshness, Mode, Results};
use crate::store::StoreError;

/// The most items `/api/papers/search` returns, as on HF.
pub const API_MAX_LIMIT: usize = 120;
const API_DEFAULT_LIMIT: usize = 50;
const PAGE_SIZE: usize = 20;
/// Deepest page the HTML search serves.
const MAX_PAGE: usize = 50;
const SNIPPET_CHARS: usize = 320;

/// Query parameters of both search routes, taken as text so each gets its own message.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The query, at most 250 characters: words, `"phrases"`, `author:`, `cat:`, `after:` and
    /// `before:` (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`). Malformed syntax is read as plain words.
    /// An arXiv id or URL returns that paper alone. Empty: the newest papers.
    #[param(max_length = 250, example = "spin chain quantum battery")]
    q: Option<String>,
    /// Items to return, 1 to 120 (default 50). There is no paging, as on Hugging Face.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 120, example = 20)]
    limit: Option<String>,
    /// Ranking: `hybrid` (default: BM25 and embedding similarity, fused by a weighted sum of
    /// their normalised scores), `lexical` or `semantic`. Without an embedding model every mode
    /// is lexical.
    #[param(pattern = "^(hybrid|lexical|semantic)$")]
    mode: Option<String>,
    /// Page number on `/search` (ignored by the API).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 49)]
    p: Option<String>,
    /// Only papers by this author (same as `author:` in `q`).
    #[param(max_length = 100)]
    author: Option<String>,
    /// Only papers in this arXiv category (same as `cat:` in `q`).
    #[param(max_length = 60)]
    cat: Option<String>,
    /// Only papers published on or after this day (same as `after:` in `q`): `YYYY`, `YYYY-MM`
    /// or `YYYY-MM-DD`, the first day it names. Anything else is a 400. (The pattern leaves out
    /// 29 February, which is accepted in leap years.)
    #[param(
        pattern = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|-(0[13-9]|1[0-2])-(29|30)|-(0[13578]|1[02])-31)?$",
        example = "2024-05"
    )]
    after: Option<String>,
    /// Only papers published before this day (same as `before:` in `q`), written as `after`.
    #[param(
        pattern = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|-(0[13-9]|1[0-2])-(29|30)|-(0[13578]|1[02])-31)?$",
        example = "2025"
    )]
    before: Option<String>,
}

/// One search result as `/api/papers/search` returns it: a DailyPaper with highlights.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfSearchItem {
    #[serde(flatten)]
    item: HfDailyPaper,
    /// Whether the caller upvoted it (always false: the search is anonymous).
    upvoted: bool,
    /// The title as `{"type": "text" | "highlight", "text"}` runs; joined, they are the title.
    #[schema(value_type = Vec<Object>)]
    highlighted_title: Vec<Span>,
    /// The abstract as runs, like `highlightedTitle`.
    #[schema(value_type = Vec<Object>)]
    highlighted_summary: Vec<Span>,
}

/// The query text with the filter fields of the form folded in.
fn full_query(params: &SearchParams) -> String {
    let mut q = params.q.clone().unwrap_or_default();
    let mut add = |field: &str, value: &Option<String>| {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let v = v.replace('"', "");
            q.push_str(&format!(" {field}:\"{v}\""));
        }
    };
    add("author", &params.author);
    add("cat", &params.cat);
    add("after", &params.after);
    add("before", &params.before);
    q
}

/// The checks every search entry point makes before it runs: the query's length, the filter
/// fields' lengths, and that a date field holds a date. (In `q` itself, malformed syntax is read
/// as plain words; a form field that is not a date would silently become a search word.)
fn check_params(params: &SearchParams) -> Result<(), String> {
    let n = params.q.as_deref().unwrap_or_default().chars().count();
    if n > MAX_QUERY_CHARS {
        return Err(format!(
            "the query is {n} characters long; the limit is {MAX_QUERY_CHARS}"
        ));
    }
    for (name, value, max) in [("author", &params.author, 100), ("cat", &params.cat, 60)] {
        if value.as_deref().is_some_and(|v| v.chars().count() > max) {
            return Err(format!("{name} is longer than {max} characters"));
        }
    }
    for (name, value) in [("after", &params.after), ("before", &params.before)] {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty())
            && crate::search::query::parse_date(v).is_none()
        {
            return Err(format!(
                "{name} {} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD",
                quoted(v)
            ));
        }
    }
    Ok(())
}

fn parse_mode(s: Option<&str>) -> Result<Mode, String> {
    match s {
        None | Some("") => Ok(Mode::default()),
        Some(m) => Mode::parse(m).ok_or_else(|| {
            format!(
                "unknown mode {}: use lexical, semantic or hybrid",
                quoted(m)
            )
        }),
    }
}

/// An arXiv id or URL as the whole query.
fn as_paper_id(q: &str) -> Option<ArxivId> {
    let q = q.trim();
    if q.is_empty() || q.contains(char::is_whitespace) {
        return None;
    }
    ArxivId::parse_lenient(q).ok().or_else(|| {
        let rest = q
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .strip_prefix("huggingface.co/papers/")?;
        ArxivId::parse(rest.split(['?', '#']).next()?).ok()
    })
}

/// Runs a search and reads the papers of the hits, in rank order.
async fn run(
    app: &App,
    query: ParsedQuery,
    mode: Mode,
    offset: usize,
    limit: usize,
) -> anyhow::Result<(Results, Vec<Paper>, ParsedQuery, Freshness)> {
    let freshness = app.search.catch_up_if_idle(&app.store).await?;
    let search = app.search.clone();
    let (results, query) = tokio::task::spawn_blocking(move || {
        search
            .search(&query, mode, offset, limit)
            .map(|r| (r, query))
    })
    .await??;
    let papers = in_order(app, &results.ids).await?;
    Ok((results, papers, query, freshness))
}

/// The papers of `ids`, in that order (ids no longer in the store are dropped).
pub async fn in_order(app: &App, ids: &[String]) -> anyhow::Result<Vec<Paper>> {
    let mut papers = app.store.papers_by_ids(ids).await?;
    let rank: std::collections::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    papers.sort_by_key(|p| rank.get(p.id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(papers)
}

/// Search papers, as Hugging Face's paper search.
///
/// `GET /api/papers/search?q=&limit=`: DailyPaper items with `highlightedTitle` and
/// `highlightedSummary`, best first. No paging, as on HF.
#[utoipa::path(
    get,
    path = "/api/papers/search",
    tag = "papers",
    params(SearchParams),
    responses(
        (status = 200, description = "The best matches, as Hugging Face's `/api/papers/search` returns them.",
            body = [HfSearchItem]),
        (status = 400, description = "`q` is over 250 characters, or `limit` or `mode` is invalid.",
            body = ErrorBody),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn search_api(
    State(app): State<App>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(query_error(&e)))?;
    // Forms may send empty fields; API clients get a clear error instead of a silent default.
    for (name, value) in [
        ("limit", &params.limit),
        ("mode", &params.mode),
        ("p", &params.p),
        ("after", &params.after),
        ("before", &params.before),
    ] {
        if value.as_deref() == Some("") {
            return Err(ApiError::BadRequest(format!("invalid {name}: empty")));
        }
    }
    check_params(&params).map_err(|m| ApiError::BadRequest(format!("invalid search: {m}")))?;
    let raw = params.q.clone().unwrap_or_default();
    let limit = match params.limit.as_deref() {
        None => API_DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=API_MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "invalid limit {}: expected a number from 1 to {API_MAX_LIMIT}",
                    quoted(l)
                ))
            })?,
    };
    let mode = parse_mode(params.mode.as_deref()).map_err(ApiError::BadRequest)?;
    // The API has no paging, but a `p` outside the documented range is still a bad request.
    if let Some(p) = params.p.as_deref().filter(|p| !p.is_empty())
        && !p.parse::<usize>().is_ok_and(|p| p < MAX_PAGE)
    {
        return Err(ApiError::BadRequest(format!(
            "invalid p {}: expected a page number from 0 to {}",
            quoted(p),
            MAX_PAGE - 1
        )));
    }
    let base = app
        .config
        .base_url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let query = parse(&full_query(&params));
    if let Some(id) = as_paper_id(&raw) {
        // A hidden paper is no result: it falls through to the search, which leaves it out.
        let hidden = app
            .store
            .paper_hidden(&id)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        match app.store.paper(&id).await {
            Ok(paper) if !hidden => {
                return Ok(Json(vec![item(
                    &paper,
                    &mut app.search.highlighter(&query),
                    &base,
                )])
                .into_response());
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(ApiError::Internal(e.into())),
        }
    }
    let (_, papers, query, _) = run(&app, query, mode, 0, limit).await?;
    let mut highlighter = app.search.highlighter(&query);
    let items: Vec<HfSearchItem> = papers
        .iter()
        .map(|p| item(p, &mut highlighter, &base))
        .collect();
    Ok(Json(items).into_response())
}

fn item(paper: &Paper, highlighter: &mut Highlighter, base: &str) -> HfSearchItem {
    HfSearchItem {
        item: hf_daily_paper(paper, base),
        upvoted: false,
        highlighted_title: highlighter.spans(&paper.title),
        highlighted_summary: highlighter.spans(&paper.summary),
    }
}

/// A search result on the page.
pub struct Hit {
    rank: usize,
    href: String,
    /// The paper id as one path segment, for the upvote button.
    id_segment: String,
    title: String,
    title_spans: Vec<Span>,
    authors: String,
    snippet: Vec<Span>,
    published: Option<String>,
    categories: Vec<String>,
    upvotes: i64,
    /// Whether the viewer has upvoted it.
    upvoted: bool,
    num_comments: i64,
}

/// A paper in the related-papers box.
pub struct RelatedPaper {
    pub href: String,
    pub title: String,
    pub authors: String,
}

fn author_line(authors: &[String]) -> String {
    match authors {
        [] => String::new(),
        [a] => a.clone(),
        [a, b] => format!("{a}, {b}"),
        [a, b, ..] => format!("{a}, {b} et al."),
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    nav: &'static str,
    /// The search's feeds, for the head (empty before a search: the site-wide feed instead).
    feeds: Vec<FeedLink>,
    q: String,
    author: String,
    cat: String,
    after: String,
    before: String,
    mode: &'static str,
    /// Set when the mode asked for could not be used (no model loaded).
    notice: Option<String>,
    semantic_available: bool,
    searched: bool,
    /// The search has author, category or date filters (the empty state suggests loosening them).
    filtered: bool,
    /// The query is an arXiv id (or link) of a paper this site does not have.
    missing: Option<String>,
    /// The search has a category filter (the empty state says imported papers may lack them).
    by_category: bool,
    /// The results are ranked by meaning (hybrid or semantic): they have no total (every paper
    /// is at some distance), and `total` only says whether there is a next page.
    by_meaning: bool,
    hits: Vec<Hit>,
    total: usize,
    first: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
}

impl Hit {
    fn is_highlight(span: &Span) -> bool {
        span.kind == SpanKind::Highlight
    }
}

/// `GET /search?q=&mode=&p=&author=&cat=&after=&before=`
pub async fn search_page(
    State(app): State<App>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) = params.map_err(|e| PageError::BadRequest(query_error(&e)))?;
    let raw = params.q.clone().unwrap_or_default();
    // A field that does not read is refused on the search page itself, with the form as it was
    // filled in, so the query is not lost.
    let invalid = check_params(&params).err().map(|m| {
        let mut m = m;
        if let Some(first) = m.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        format!("{m}.")
    });
    let mode = parse_mode(params.mode.as_deref()).map_err(PageError::BadRequest)?;
    let page = match params.p.as_deref() {
        None | Some("") => 0,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p < MAX_PAGE)
            .ok_or_else(|| {
                PageError::BadRequest(format!(
                    "Page {} is not a page number from 0 to {}.",
                    quoted(p),
                    MAX_PAGE - 1
                ))
            })?,
    };
    let mut missing = None;
    if invalid.is_some() {
        // Nothing is searched for.
    } else if let Some(id) = as_paper_id(&raw) {
        match app.store.paper(&id).await {
            Ok(_) => return Ok(Redirect::to(&format!("/papers/{id}")).into_response()),
            // Not here: say so rather than list papers that merely share digits with the id.
            Err(StoreError::NotFound) => missing = Some(id.to_string()),
            Err(e) => return Err(e.into()),
        }
    }
    let query = parse(&full_query(&params));
    let semantic_available = app.search.semantic_available();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut view = SearchPage {
        nav: "search",
        feeds: if query.is_empty() {
            Vec::new()
        } else {
            FeedLink::all(&search_feed_meta(&params, mode))
        },
        q: raw,
        author: text(&params.author),
        cat: text(&params.cat),
        after: text(&params.after),
        before: text(&params.before),
        mode: mode.as_str(),
        notice: None,
        semantic_available,
        searched: !query.is_empty() && missing.is_none() && invalid.is_none(),
        missing,
        filtered: query.has_filters(),
        by_category: !query.categories.is_empty(),
        by_meaning: false,
        hits: Vec::new(),
        total: 0,
        first: page * PAGE_SIZE + 1,
        prev_href: None,
        next_href: None,
    };
    if let Some(message) = &invalid {
        view.notice = Some(message.clone());
        view.feeds = Vec::new();
    } else if !semantic_available {
        view.notice = Some(
            "Semantic search is off (no embedding model is loaded): results are keyword matches only."
                .into(),
        );
    }
    if view.searched {
        let (results, papers, query, freshness) =
            run(&app, query, mode, page * PAGE_SIZE, PAGE_SIZE).await?;
        view.total = results.total;
        if freshness == Freshness::CatchingUp {
            view.notice = Some(
                "The search index is catching up with many new or changed papers: some of them \
                 are not searchable yet. Try again in a minute."
                    .into(),
            );
        } else if results.words_matched == Some(false)
            && !results.ids.is_empty()
            && view.notice.is_none()
        {
            view.notice = Some(if query.has_filters() {
                "No paper that passes the filters holds these words: the results are the papers \
                 closest in meaning."
                    .into()
            } else {
                "No paper holds these words: the results are the papers closest in meaning.".into()
            });
        }
        view.by_meaning = results.mode != Mode::Lexical;
        let mut highlighter = app.search.highlighter(&query);
        let upvoted = match session::current() {
            Some(viewer) => super::community::upvoted_set(&app, &viewer.member, &papers).await?,
            None => HashSet::new(),
        };
        view.hits = papers
            .iter()
            .enumerate()
            .map(|(i, p)| Hit {
                rank: page * PAGE_SIZE + i + 1,
                href: format!("/papers/{}", p.id),
                id_segment: super::community::id_segment(&p.id),
                title: p.title.clone(),
                title_spans: highlighter.spans(&p.title),
                authors: author_line(&p.authors),
                snippet: window(&highlighter.spans(&p.summary), SNIPPET_CHARS),
                published: crate::search::index::paper_day(p)
                    .map(|d| d.format("%b %-d, %Y").to_string()),
                categories: p.categories.iter().take(3).cloned().collect(),
                upvotes: p.upvotes,
                upvoted: upvoted.contains(p.id.as_str()),
                num_comments: p.num_comments,
            })
            .collect();
        let href = |p: usize| {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("q", &view.q),
                ("author", &view.author),
                ("cat", &view.cat),
                ("after", &view.after),
                ("before", &view.before),
            ] {
                if !v.is_empty() {
                    pairs.append_pair(k, v);
                }
            }
            if mode != Mode::default() {
                pairs.append_pair("mode", mode.as_str());
            }
            if p > 0 {
                pairs.append_pair("p", &p.to_string());
            }
            format!("/search?{}", pairs.finish())
        };
        if page > 0 {
            view.prev_href = Some(href(page - 1));
        }
        if (page + 1) * PAGE_SIZE < results.total && page + 1 < MAX_PAGE {
            view.next_href = Some(href(page + 1));
        }
    }
    let html = view
        .render()
        .map_err(|e| PageError::Internal(anyhow::Error::new(e).context("rendering search")))?;
    let status = if invalid.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, Html(html)).into_response())
}

/// The query string a search's page and feeds share: the fields that are set, in the form's
/// order, and `mode` unless it is the default. No `p`: a feed has no pages.
fn feed_query_string(params: &SearchParams, mode: Mode) -> String {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", &params.q),
        ("author", &params.author),
        ("cat", &params.cat),
        ("after", &params.after),
        ("before", &params.before),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            pairs.append_pair(k, v);
        }
    }
    if mode != Mode::default() {
        pairs.append_pair("mode", mode.as_str());
    }
    pairs.finish()
}

/// Longest search text a feed's title repeats.
const FEED_TITLE_CHARS: usize = 120;

/// The metadata of a search's feeds.
fn search_feed_meta(params: &SearchParams, mode: Mode) -> FeedMeta {
    let text = full_query(params);
    let text = text.trim();
    let mut label: String = text.chars().take(FEED_TITLE_CHARS).collect();
    if text.chars().count() > FEED_TITLE_CHARS {
        label.push('…');
    }
    let order = if parse(text).text_is_empty() {
        "newest first".to_owned()
    } else {
        format!("best match first ({} ranking)", mode.as_str())
    };
    FeedMeta {
        query: Some(feed_query_string(params, mode)),
        dated_by_items: false,
        ..FeedMeta::for_page(
            format!("Search · {label}"),
            format!("Papers matching the search {}, {order}.", quoted(&label)),
            "/search",
        )
    }
}

/// `GET /search/feed.{rss,atom,json}?q=&mode=&author=&cat=&after=&before=`: the first
/// [`FEED_LIMIT`] results of the search the page shows for the same parameters, in its order
/// (`p` and `limit` are ignored). A feed needs a query: text or a filter, else 400.
pub async fn search_feed(
    State(app): State<App>,
    Path(file): Path<String>,
    params: Result<Query<SearchParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format = feeds::format_of(&file)?;
    let Query(params) = params.map_err(|e| PageError::BadRequest(query_error(&e)))?;
    let raw = params.q.clone().unwrap_or_default();
    check_params(&params).map_err(|m| PageError::BadRequest(format!("Search feed: {m}.")))?;
    let mode = parse_mode(params.mode.as_deref()).map_err(PageError::BadRequest)?;
    let query = parse(&full_query(&params));
    if query.is_empty() {
        return Err(PageError::BadRequest(
            "A search feed needs a query: add q=… (or a filter: author, cat, after or before), \
             as in the address of a /search page."
                .into(),
        ));
    }
    let meta = search_feed_meta(&params, mode);
    if let Some(id) = as_paper_id(&raw) {
        // A paper an admin hid leaves every feed list, so it is no shortcut here.
        let hidden = app.store.paper_hidden(&id).await?;
        match app.store.paper(&id).await {
            Ok(paper) if !hidden => {
                return feeds::respond(&app, format, &meta, &[paper], &headers);
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (_, papers, _, _) = run(&app, query, mode, 0, FEED_LIMIT).await?;
    feeds::respond(&app, format, &meta, &papers, &headers)
}

/// The related-papers box of a paper page: its 5 nearest neighbours.
pub async fn related_cards(app: &App, id: &ArxivId) -> anyhow::Result<Vec<RelatedPaper>> {
    // Catch up first, as searches do, so a paper hidden a moment ago is not offered.
    app.search.catch_up_if_idle(&app.store).await?;
    let ids = app.search.related(id.as_str(), 5);
    Ok(in_order(app, &ids)
        .await?
        .iter()
        .map(|p| RelatedPaper {
            href: format!("/papers/{}", p.id),
            title: p.title.clone(),
            authors: author_line(&p.authors),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_urls_are_recognised_and_sentences_are_not() {
        for q in [
            "2405.15738",
            "2405.15738v2",
            "https://arxiv.org/abs/2405.15738",
            "arxiv.org/pdf/2405.15738v1",
            "https://huggingface.co/papers/2405.15738",
        ] {
            assert_eq!(as_paper_id(q).unwrap().as_str(), "2405.15738", "{q}");
        }
        assert!(as_paper_id("spin chain batteries").is_none());
        assert!(as_paper_id("").is_none());
    }

    #[test]
    fn search_feeds_keep_the_set_fields_and_a_chosen_mode_but_no_page() {
        let params = SearchParams {
            q: Some("spin chain".into()),
            limit: Some("5".into()),
            mode: Some("hybrid".into()),
            p: Some("3".into()),
            author: Some(String::new()),
            cat: None,
            after: None,
            before: None,
        };
        let meta = search_feed_meta(&params, Mode::Hybrid);
        assert_eq!(
            meta.feed_href(feeds::FeedFormat::Atom),
            "/search/feed.atom?q=spin+chain"
        );
        assert_eq!(meta.title, "Search · spin chain");
        assert!(!meta.private && !meta.dated_by_items);
        let long = SearchParams {
            q: Some("x ".repeat(125)),
            ..params
        };
        let title = search_feed_meta(&long, Mode::Hybrid).title;
        assert!(
            title.ends_with('…') && title.chars().count() < 140,
            "{title}"
        );
    }

    #[test]
    fn filters_fold_into_the_query() {
        let params = SearchParams {
            q: Some("battery".into()),
            limit: None,
            mode: None,
            p: None,
            author: Some("Marco \"Polini".into()),
            cat: Some("quant-ph".into()),
            after: Some("2020".into()),
            before: None,
        };
        let q = parse(&full_query(&params));
        assert_eq!(q.terms, ["battery"]);
        assert_eq!(
            feed_query_string(&params, Mode::Lexical),
            "q=battery&author=Marco+%22Polini&cat=quant-ph&after=2020&mode=lexical"
        );
        assert_eq!(q.authors, ["Marco Polini"]);
        assert_eq!(q.categories, ["quant-ph"]);
        assert!(q.after.is_some());
    }
}
