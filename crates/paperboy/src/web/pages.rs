//! The HTML pages: the feed views, trending, a member's submissions, a paper, About, and the
//! error page.
//!
//! Each handler extracts, asks the store, and renders an askama template (HTML-escaped by
//! default). TeX stays text in the HTML; the vendored KaTeX typesets it in the browser.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::error::PageError;
use super::feed;
use super::feeds::{self, FeedLink};
use crate::app::App;
use crate::domain::export::bibtex;
use crate::domain::ranking::{FeedSort, hot_score};
use crate::domain::{Paper, Period, Submitter, quoted};
use crate::store::{FeedOrder, FeedQuery, StoreError};

/// Papers per page on feed views.
const PAGE_SIZE: u32 = 50;

type PageResult = Result<Response, PageError>;

fn render(template: &impl Template) -> PageResult {
    let html = template
        .render()
        .map_err(|e| PageError::Internal(anyhow::Error::new(e).context("rendering a template")))?;
    Ok(Html(html).into_response())
}

/// One paper in a list.
pub struct Card {
    pub(crate) rank: usize,
    pub(crate) href: String,
    /// The paper id as one path segment (old-style ids have their slash encoded).
    pub(crate) id_segment: String,
    pub(crate) title: String,
    pub(crate) authors: String,
    pub(crate) summary: String,
    pub(crate) upvotes: i64,
    /// Whether the viewer has upvoted it.
    pub(crate) upvoted: bool,
    pub(crate) published: Option<String>,
    pub(crate) submitter: Option<Submitter>,
    pub(crate) hot_score: Option<String>,
    pub(crate) categories: Vec<String>,
    pub(crate) code_url: Option<String>,
    pub(crate) project_url: Option<String>,
    pub(crate) num_comments: i64,
}

impl Card {
    pub(crate) fn new(rank: usize, paper: &Paper, hot: Option<f64>) -> Card {
        Card {
            rank,
            href: format!("/papers/{}", paper.id),
            id_segment: super::community::id_segment(&paper.id),
            title: paper.title.clone(),
            authors: author_line(&paper.authors),
            summary: paper.summary.clone(),
            upvotes: paper.upvotes,
            upvoted: false,
            published: paper.published_at.map(human_date),
            submitter: paper.feed.as_ref().and_then(|f| f.submitter.clone()),
            hot_score: hot.map(|s| format!("{s:.4}")),
            categories: paper.categories.iter().take(3).cloned().collect(),
            code_url: paper.github_repo.clone(),
            project_url: paper.project_page.clone(),
            num_comments: paper.num_comments,
        }
    }
}

fn author_line(authors: &[String]) -> String {
    const SHOWN: usize = 5;
    if authors.len() <= SHOWN + 1 {
        authors.join(", ")
    } else {
        format!(
            "{}, … +{} authors",
            authors[..SHOWN].join(", "),
            authors.len() - SHOWN
        )
    }
}

fn human_date(t: DateTime<Utc>) -> String {
    t.format("%b %-d, %Y").to_string()
}

/// Links between views of the same period.
pub struct Tabs {
    kind: &'static str,
    sort: &'static str,
    day_href: String,
    week_href: String,
    month_href: String,
    trending_href: String,
    new_href: String,
}

#[derive(Template)]
#[template(path = "feed.html")]
pub struct FeedPage {
    nav: &'static str,
    heading: String,
    label: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    tabs: Option<Tabs>,
    notice: Option<String>,
    cards: Vec<Card>,
    empty_message: String,
    older_href: Option<String>,
    newer_href: Option<String>,
    /// The list's RSS, Atom and JSON feeds, announced in the head.
    feeds: Vec<FeedLink>,
}

/// `?sort=` and `?p=` on feed pages.
#[derive(Debug, Deserialize)]
pub struct FeedParams {
    sort: Option<String>,
    p: Option<String>,
}

struct ViewParams {
    sort: FeedSort,
    page: u32,
}

fn view_params(params: Result<Query<FeedParams>, QueryRejection>) -> Result<ViewParams, PageError> {
    let Query(params) = params.map_err(|e| PageError::BadRequest(super::error::query_error(&e)))?;
    let sort = match params.sort.as_deref() {
        None | Some("") => FeedSort::default(),
        Some(s) => FeedSort::parse(s).ok_or_else(|| {
            PageError::BadRequest(format!(
                "Unknown sort order {}: use trending or new.",
                quoted(s)
            ))
        })?,
    };
    let page = page_number(params.p.as_deref())?;
    Ok(ViewParams { sort, page })
}

/// Where a page of a paged feed list stands, for its empty message and its older and newer
/// links.
struct Paging {
    /// The page shown, from 0.
    page: u32,
    /// Whether an older page follows.
    more: bool,
    /// Whether the page is past the end of the list (`?p=` too high): it says so, and its
    /// "newer" link leads to the first page, as the page before may be empty too.
    past_end: bool,
}

impl Paging {
    fn new(page: u32, more: bool, empty: bool) -> Paging {
        Paging {
            page,
            more,
            past_end: page > 0 && empty,
        }
    }

    /// What an empty page says: that the list ends before it, or else `nothing`, the message
    /// of a list that holds no paper.
    fn empty_message(&self, nothing: impl FnOnce() -> String) -> String {
        if self.past_end {
            "The list ends before this page.".to_owned()
        } else {
            nothing()
        }
    }

    fn older_href(&self, path: &str, sort: FeedSort) -> Option<String> {
        self.more.then(|| with_query(path, sort, self.page + 1))
    }

    fn newer_href(&self, path: &str, sort: FeedSort) -> Option<String> {
        let newer = if self.past_end {
            0
        } else {
            self.page.saturating_sub(1)
        };
        (self.page > 0).then(|| with_query(path, sort, newer))
    }
}

/// `?p=`: the page of a paged list, from 0.
fn page_number(p: Option<&str>) -> Result<u32, PageError> {
    match p {
        None | Some("") => Ok(0),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| *p < 10_000)
            .ok_or_else(|| {
                PageError::BadRequest(format!(
                    "Page {} is not a page number from 0 to 9999.",
                    quoted(p)
                ))
            }),
    }
}

/// `?p=` on a member's page, which has one order.
#[derive(Debug, Deserialize)]
pub struct PageParam {
    p: Option<String>,
}

fn with_query(path: &str, sort: FeedSort, page: u32) -> String {
    let mut q = Vec::new();
    if sort != FeedSort::default() {
        q.push(format!("sort={}", sort.as_str()));
    }
    if page > 0 {
        q.push(format!("p={page}"));
    }
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// `/`: the latest day that has papers.
pub async fn home(
    State(app): State<App>,
    params: Result<Query<FeedParams>, QueryRejection>,
) -> PageResult {
    let view = view_params(params)?;
    match app.store.latest_daily_date().await? {
        Some(day) => period_page(&app, Period::Day(day), view, true).await,
        None => render(&FeedPage {
            nav: "daily",
            heading: "Daily Papers".into(),
            label: app.today().format("%b %-d, %Y").to_string(),
            prev_href: None,
            next_href: None,
            tabs: None,
            notice: None,
            cards: Vec::new(),
            empty_message: "No papers yet. Import some with `paperboy import FILE`, or run \
                            `paperboy serve --demo` to start with the bundled demo data."
                .into(),
            older_href: None,
            newer_href: None,
            feeds: FeedLink::all(&feeds::latest_meta()),
        }),
    }
}

pub async fn day(
    State(app): State<App>,
    Path(date): Path<String>,
    params: Result<Query<FeedParams>, QueryRejection>,
) -> PageResult {
    let period =
        Period::parse_day(&date).map_err(|e| PageError::BadRequest(sentence(&e.to_string())))?;
    period_page(&app, period, view_params(params)?, false).await
}

pub async fn week(
    State(app): State<App>,
    Path(week): Path<String>,
    params: Result<Query<FeedParams>, QueryRejection>,
) -> PageResult {
    let period =
        Period::parse_week(&week).map_err(|e| PageError::BadRequest(sentence(&e.to_string())))?;
    period_page(&app, period, view_params(params)?, false).await
}

pub async fn month(
    State(app): State<App>,
    Path(month): Path<String>,
    params: Result<Query<FeedParams>, QueryRejection>,
) -> PageResult {
    let period =
        Period::parse_month(&month).map_err(|e| PageError::BadRequest(sentence(&e.to_string())))?;
    period_page(&app, period, view_params(params)?, false).await
}

fn sentence(s: &str) -> String {
    let mut out: String = s.chars().take(1).flat_map(char::to_uppercase).collect();
    out.push_str(s.get(1..).unwrap_or(""));
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Page `page` of a feed list as cards, numbered from the page's first rank, with its papers and
/// whether another page follows.
async fn feed_cards(
    app: &App,
    period: Option<Period>,
    submitter: Option<String>,
    order: FeedOrder,
    page: u32,
) -> Result<(Vec<Paper>, Vec<Card>, bool), PageError> {
    let query = FeedQuery {
        period,
        submitter,
        order,
        offset: page * PAGE_SIZE,
        // One extra row tells whether another page follows.
        limit: PAGE_SIZE + 1,
    };
    let mut papers = feed::list(app, &query).await?;
    let more = papers.len() > PAGE_SIZE as usize;
    papers.truncate(PAGE_SIZE as usize);
    let first_rank = (page * PAGE_SIZE) as usize;
    let mut cards: Vec<Card> = papers
        .iter()
        .enumerate()
        .map(|(i, p)| Card::new(first_rank + i + 1, p, None))
        .collect();
    super::community::mark_upvoted(app, &papers, &mut cards).await?;
    Ok((papers, cards, more))
}

async fn period_page(app: &App, period: Period, view: ViewParams, is_home: bool) -> PageResult {
    let order = match view.sort {
        FeedSort::Trending => FeedOrder::Upvotes,
        FeedSort::New => FeedOrder::Published,
    };
    let (papers, cards, more) = feed_cards(app, Some(period), None, order, view.page).await?;
    let paging = Paging::new(view.page, more, cards.is_empty());
    let path = period.path();
    let before = app
        .store
        .adjacent_daily_date(period.first_day(), false)
        .await?;
    let last_day = period.end_day().pred_opt().unwrap_or(period.first_day());
    let after = app.store.adjacent_daily_date(last_day, true).await?;
    let nav_href =
        |d: Option<NaiveDate>| d.map(|d| with_query(&period.of_kind(d).path(), view.sort, 0));
    let anchor_day = match period {
        Period::Day(d) => d,
        _ => papers
            .iter()
            .filter_map(|p| p.feed.as_ref().map(|f| f.daily_date))
            .max()
            .unwrap_or(period.first_day()),
    };
    let heading = match period {
        Period::Day(_) => "Daily Papers",
        Period::Week(_) => "Weekly Papers",
        Period::Month { .. } => "Monthly Papers",
    };
    render(&FeedPage {
        nav: if is_home || matches!(period, Period::Day(_)) {
            "daily"
        } else {
            ""
        },
        heading: heading.into(),
        label: period.label(),
        prev_href: nav_href(before),
        next_href: nav_href(after),
        tabs: Some(Tabs {
            kind: period.kind(),
            sort: view.sort.as_str(),
            day_href: with_query(&Period::Day(anchor_day).path(), view.sort, 0),
            week_href: with_query(
                &Period::Week(chrono::Datelike::iso_week(&anchor_day)).path(),
                view.sort,
                0,
            ),
            month_href: with_query(
                &Period::Day(anchor_day).of_kind_month().path(),
                view.sort,
                0,
            ),
            trending_href: with_query(&path, FeedSort::Trending, 0),
            new_href: with_query(&path, FeedSort::New, 0),
        }),
        notice: None,
        cards,
        empty_message: paging.empty_message(|| {
            if period.first_day() > app.today() {
                format!("{} is still to come: no papers yet.", period.label())
            } else {
                format!("No papers on the feed for {}.", period.label())
            }
        }),
        older_href: paging.older_href(&path, view.sort),
        newer_href: paging.newer_href(&path, view.sort),
        feeds: FeedLink::all(&if is_home {
            feeds::latest_meta()
        } else {
            feeds::period_meta(period)
        }),
    })
}

trait MonthOf {
    fn of_kind_month(self) -> Period;
}

impl MonthOf for Period {
    fn of_kind_month(self) -> Period {
        let d = self.first_day();
        Period::Month {
            year: chrono::Datelike::year(&d),
            month: chrono::Datelike::month(&d),
        }
    }
}

/// `/trending`: the hot ranking of the last seven days.
pub async fn trending(State(app): State<App>) -> PageResult {
    let hot = feed::hot_papers(&app, None, 0, 100).await?;
    let mut cards: Vec<Card> = hot
        .iter()
        .enumerate()
        .map(|(i, h)| Card::new(i + 1, &h.paper, Some(h.score)))
        .collect();
    let papers: Vec<Paper> = hot.iter().map(|h| h.paper.clone()).collect();
    super::community::mark_upvoted(&app, &papers, &mut cards).await?;
    render(&FeedPage {
        nav: "trending",
        heading: "Trending".into(),
        label: "the last seven days".into(),
        prev_href: None,
        next_href: None,
        tabs: None,
        notice: Some(
            "Ranked by a hot score that weighs upvotes against time on the feed; the About page \
             explains the formula."
                .into(),
        ),
        cards,
        empty_message: "Nothing has been put on the feed in the last seven days.".into(),
        older_href: None,
        newer_href: None,
        feeds: FeedLink::all(&feeds::trending_meta()),
    })
}

/// `/members/{username}`: the papers a member, or a Hugging Face submitter an import brought in,
/// put on the feed; the newest feed day first.
pub async fn member(
    State(app): State<App>,
    Path(username): Path<String>,
    params: Result<Query<PageParam>, QueryRejection>,
) -> PageResult {
    let Query(params) = params.map_err(|e| PageError::BadRequest(super::error::query_error(&e)))?;
    let page = page_number(params.p.as_deref())?;
    let who = profile(&app, &username).await?;
    let submitter = Some(who.username.clone());
    let (_, cards, more) = feed_cards(&app, None, submitter, FeedOrder::Latest, page).await?;
    let paging = Paging::new(page, more, cards.is_empty());
    let path = member_path(&who.username);
    render(&FeedPage {
        nav: "",
        heading: format!("Papers submitted by {}", who.fullname),
        label: format!("@{}", who.username),
        prev_href: None,
        next_href: None,
        tabs: None,
        notice: None,
        cards,
        empty_message: paging
            .empty_message(|| format!("{} has not put any paper on the feed yet.", who.fullname)),
        older_href: paging.older_href(&path, FeedSort::default()),
        newer_href: paging.newer_href(&path, FeedSort::default()),
        feeds: FeedLink::all(&feeds::member_meta(&who)),
    })
}

/// The account called `username`, or the 404 that a member page and its feed answer.
pub(super) async fn profile(app: &App, username: &str) -> Result<Submitter, PageError> {
    app.store
        .profile(username)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("No member is called {}.", quoted(username))))
}

/// The address of a member's page.
pub(super) fn member_path(username: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(username.as_bytes()).collect();
    format!("/members/{name}")
}

/// The feed day a paper page links back to.
pub struct DailyLink {
    href: String,
    label: String,
    submitter: Option<Submitter>,
}

#[derive(Template)]
#[template(path = "paper.html")]
pub struct PaperPage {
    nav: &'static str,
    p: Paper,
    description: String,
    daily: Option<DailyLink>,
    published: Option<String>,
    updated: Option<String>,
    latest_version: Option<u32>,
    bibtex: String,
    share_url: String,
    /// Votes, saves and comments, for the viewer.
    community: super::community::PaperCommunity,
    /// The nearest papers by embedding (empty without a model).
    related: Vec<super::search::RelatedPaper>,
}

/// `/papers/{id}` and `/papers/{id}.md` (old-style ids contain a slash, hence the wildcard).
pub async fn paper(State(app): State<App>, Path(rest): Path<String>) -> PageResult {
    if let Some(id) = rest.strip_suffix(".md") {
        return Ok(super::api::paper_markdown(&app, id).await);
    }
    // A trailing slash, or a date list asked for without its date.
    if let Some(id) = rest.strip_suffix('/').filter(|id| !id.is_empty())
        && arxiv::VersionedId::parse(id).is_ok()
    {
        return Ok(Redirect::permanent(&format!("/papers/{id}")).into_response());
    }
    if let Some(kind) = ["date", "week", "month"]
        .into_iter()
        .find(|k| rest.trim_end_matches('/') == *k)
    {
        let example = match kind {
            "date" => "/papers/date/2026-08-21",
            "week" => "/papers/week/2026-W34",
            _ => "/papers/month/2026-08",
        };
        return Err(PageError::NotFound(format!(
            "Add the {kind} to the address, as in {example}."
        )));
    }
    let not_found = || PageError::NotFound(format!("There is no paper {} here.", quoted(&rest)));
    let versioned = arxiv::VersionedId::parse(&rest).map_err(|_| not_found())?;
    if versioned.version.is_some() {
        return Ok(Redirect::permanent(&format!("/papers/{}", versioned.id)).into_response());
    }
    let paper = app.store.paper(&versioned.id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    let daily = paper.feed.as_ref().map(|f| DailyLink {
        href: Period::Day(f.daily_date).path(),
        label: f.daily_date.format("%b %-d, %Y").to_string(),
        submitter: f.submitter.clone(),
    });
    render(&PaperPage {
        nav: "",
        description: paper.summary.chars().take(200).collect(),
        published: paper.published_at.map(human_date),
        updated: paper
            .updated_at
            .filter(|u| Some(*u) != paper.published_at)
            .map(human_date),
        latest_version: paper.latest_version(),
        bibtex: bibtex(&paper),
        share_url: app.config.absolute_url(&format!("/papers/{}", paper.id)),
        community: super::community::paper_community(&app, &paper).await?,
        related: super::search::related_cards(&app, &paper.id).await?,
        daily,
        p: paper,
    })
}

#[derive(Template)]
#[template(path = "about.html")]
pub struct AboutPage {
    nav: &'static str,
    timezone: String,
    base_url: String,
    examples: Vec<(i64, String, String, String)>,
}

/// `/about`: what paperboy is and how ranking works, with a worked table of hot scores.
pub async fn about(State(app): State<App>) -> PageResult {
    let now = app.now();
    let examples = [0i64, 10, 100]
        .iter()
        .map(|&votes| {
            let score = |hours: i64| {
                format!(
                    "{:.4}",
                    hot_score(votes, now - chrono::Duration::hours(hours), now)
                )
            };
            (votes, score(1), score(24), score(72))
        })
        .collect();
    render(&AboutPage {
        nav: "about",
        timezone: app.config.timezone.name().to_owned(),
        base_url: app.config.absolute_url(""),
        examples,
    })
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    nav: &'static str,
    code: u16,
    heading: String,
    message: String,
}

impl ErrorPage {
    pub fn new(status: StatusCode, heading: &str, message: &str) -> ErrorPage {
        ErrorPage {
            nav: "",
            code: status.as_u16(),
            heading: heading.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// The fallback for every unknown path.
pub async fn not_found() -> PageError {
    PageError::NotFound(
        "There is nothing at this address. The paper or page may have moved.".into(),
    )
}
