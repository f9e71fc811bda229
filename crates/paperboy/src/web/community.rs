//! What members do on pages: upvote, save, comment, submit, and the /saved reading list with its
//! private feed address.
//!
//! Every handler here is an unsafe method behind [`session::check_unsafe`] (same origin plus
//! the session's CSRF token). The forms work without JavaScript (a 303 back to the page they
//! came from); `static/js/members.js` sends the same forms with `Accept: application/json` and
//! updates the page in place.

use std::collections::HashSet;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeZone as _;
use serde::Deserialize;

use super::error::PageError;
use super::feeds::{self, FeedFormat, FeedLink};
use super::login::html;
use super::member_form::{CsrfForm, MemberForm, Posted};
use super::pages::Card;
use super::session::{self, Viewer};
use crate::app::App;
use crate::domain::member::{Member, Refusal, check_submission, comment_html};
use crate::domain::{ArxivId, Paper, quoted};
use crate::store::StoreError;
use crate::store::community::{Comment, SubmitOutcome};

type PageResult = Result<Response, PageError>;

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// A paper id as one URL path segment: old-style ids (`hep-th/9901001`) have their slash
/// percent-encoded, so `/papers/{id}/upvote` routes every id.
pub fn id_segment(id: &ArxivId) -> String {
    id.as_str().replace('/', "%2F")
}

fn parse_id(raw: &str) -> Result<ArxivId, PageError> {
    ArxivId::parse(raw).map_err(|_| PageError::NotFound("There is no such paper here.".into()))
}

/// Sets `upvoted` on the cards of `papers` (same order) for the viewer, if any.
pub async fn mark_upvoted(
    app: &App,
    papers: &[Paper],
    cards: &mut [Card],
) -> Result<(), PageError> {
    let Some(viewer) = session::current() else {
        return Ok(());
    };
    let ids: Vec<ArxivId> = papers.iter().map(|p| p.id.clone()).collect();
    let voted = app
        .store
        .upvoted_among(viewer.member.account_id, &ids)
        .await?;
    for (card, paper) in cards.iter_mut().zip(papers) {
        card.upvoted = voted.contains(paper.id.as_str());
    }
    Ok(())
}

/// Upvoted paper ids of the member among `papers`, for the API's `upvoted` flag.
pub async fn upvoted_set(
    app: &App,
    member: &Member,
    papers: &[Paper],
) -> Result<HashSet<String>, StoreError> {
    let ids: Vec<ArxivId> = papers.iter().map(|p| p.id.clone()).collect();
    app.store.upvoted_among(member.account_id, &ids).await
}

/// A comment as the paper page shows it.
pub struct CommentView {
    pub id: i64,
    pub username: String,
    pub fullname: String,
    /// Sanitised HTML (see `domain::member::comment_html`).
    pub html: String,
    pub body: String,
    pub created: String,
    pub edited: bool,
    pub hidden: bool,
    /// The viewer wrote it, so may edit and delete it.
    pub own: bool,
}

impl CommentView {
    fn new(c: Comment, viewer: Option<&Viewer>) -> CommentView {
        CommentView {
            id: c.id,
            html: comment_html(&c.body),
            own: viewer.is_some_and(|v| v.member.account_id == c.account_id),
            username: c.username,
            fullname: c.fullname,
            body: c.body,
            created: c.created_at.format("%b %-d, %Y %H:%M UTC").to_string(),
            edited: c.edited,
            hidden: c.hidden,
        }
    }
}

/// The member side of a paper page.
pub struct PaperCommunity {
    pub id_segment: String,
    pub logged_in: bool,
    pub is_admin: bool,
    pub upvoted: bool,
    pub saved: bool,
    pub upvoters: Vec<(String, String)>,
    pub comments: Vec<CommentView>,
}

pub async fn paper_community(app: &App, paper: &Paper) -> Result<PaperCommunity, PageError> {
    let viewer = session::current();
    let is_admin = viewer.as_ref().is_some_and(|v| v.member.is_admin);
    let (upvoted, saved) = match &viewer {
        Some(v) => {
            let ids = [paper.id.clone()];
            (
                !app.store
                    .upvoted_among(v.member.account_id, &ids)
                    .await?
                    .is_empty(),
                !app.store
                    .saved_among(v.member.account_id, &ids)
                    .await?
                    .is_empty(),
            )
        }
        None => (false, false),
    };
    let comments = app
        .store
        .comments(&paper.id, is_admin)
        .await?
        .into_iter()
        .map(|c| CommentView::new(c, viewer.as_ref()))
        .collect();
    Ok(PaperCommunity {
        id_segment: id_segment(&paper.id),
        logged_in: viewer.is_some(),
        is_admin,
        upvoted,
        saved,
        upvoters: app.store.upvoters(&paper.id, 200).await?,
        comments,
    })
}

pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Where a form goes back to: the page it was on (same-origin `Referer`), else `fallback`.
fn back(app: &App, headers: &HeaderMap, fallback: &str) -> Response {
    let site = app.config.base_url.origin().ascii_serialization();
    let target = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| u.origin().ascii_serialization() == site)
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        });
    Redirect::to(&session::safe_next(Some(
        target.as_deref().unwrap_or(fallback),
    )))
    .into_response()
}

/// The member actions under `/papers/{id}/…`, all POST.
pub const PAPER_ACTIONS: [&str; 3] = ["upvote", "save", "comments"];

/// Every method on `/papers/{*id}`: GET (and HEAD) shows the paper, POST runs an action, and
/// anything else gets 405 with the methods that path allows.
pub async fn paper_route(
    State(app): State<App>,
    method: axum::http::Method,
    Path(rest): Path<String>,
    req: axum::extract::Request,
) -> PageResult {
    use axum::http::Method;
    let action = is_action_path(&rest);
    match method {
        Method::GET | Method::HEAD if !action => super::pages::paper(State(app), Path(rest)).await,
        Method::POST if action => paper_action(State(app), Path(rest), req).await,
        _ if action => Ok(method_not_allowed("POST")),
        _ => Ok(method_not_allowed("GET, HEAD")),
    }
}

/// `POST /papers/{id}/upvote`, `/save` or `/comments` (routed through the paper catch-all).
pub async fn paper_action(
    State(app): State<App>,
    Path(rest): Path<String>,
    req: axum::extract::Request,
) -> PageResult {
    use axum::extract::FromRequest as _;
    let Some((id, action)) = rest
        .rsplit_once('/')
        .filter(|(_, a)| PAPER_ACTIONS.contains(a))
    else {
        return Ok(method_not_allowed("GET"));
    };
    let id = id.to_owned();
    let headers = req.headers().clone();
    match action {
        "upvote" => match MemberForm::from_request(req, &app).await {
            Ok(form) => upvote(State(app), Path(id), headers, form).await,
            Err(refused) => Ok(refused),
        },
        "save" => match MemberForm::from_request(req, &app).await {
            Ok(form) => save(State(app), Path(id), headers, form).await,
            Err(refused) => Ok(refused),
        },
        _ => match MemberForm::from_request(req, &app).await {
            Ok(form) => add_comment(State(app), Path(id), form).await,
            Err(refused) => Ok(refused),
        },
    }
}

/// A 405 with the methods the path allows.
pub fn method_not_allowed(allow: &'static str) -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, allow)]).into_response()
}

/// True for `{id}/upvote` and the other action paths, whose GET is a 405.
pub fn is_action_path(rest: &str) -> bool {
    rest.rsplit_once('/')
        .is_some_and(|(_, a)| PAPER_ACTIONS.contains(&a))
}

#[derive(Deserialize)]
pub struct VoteForm {
    #[serde(default)]
    csrf: String,
    /// `up` or `down`: the state wanted, so a double click changes nothing.
    #[serde(default)]
    vote: String,
}

impl Posted for VoteForm {
    const NAME: &'static str = "vote";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /papers/{id}/upvote`
pub async fn upvote(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    MemberForm { viewer, form }: MemberForm<VoteForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let on = switch("vote", &form.vote, ["up", "down"])?;
    app.limits
        .vote_per_member
        .check(&viewer.member.account_id.to_string())
        .map_err(PageError::TooManyRequests)?;
    let state = app
        .store
        .set_upvote(viewer.member.account_id, &id, on, app.now())
        .await?;
    if wants_json(&headers) {
        return Ok(
            Json(serde_json::json!({"upvoted": state.upvoted, "upvotes": state.upvotes}))
                .into_response(),
        );
    }
    Ok(back(&app, &headers, &format!("/papers/{id}")))
}

/// The state a toggle form asks for: `field` holds `on` or `off` (the state wanted, so a double
/// click changes nothing); anything else is refused.
fn switch(field: &str, value: &str, [on, off]: [&str; 2]) -> Result<bool, PageError> {
    match value {
        v if v == on => Ok(true),
        v if v == off => Ok(false),
        other => Err(PageError::BadRequest(format!(
            "The {field} form asks for {field}={on} or {field}={off}, not {}.",
            quoted(other)
        ))),
    }
}

#[derive(Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    csrf: String,
    /// `1` to save, `0` to unsave.
    #[serde(default)]
    save: String,
}

impl Posted for SaveForm {
    const NAME: &'static str = "save";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /papers/{id}/save`
pub async fn save(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    MemberForm { viewer, form }: MemberForm<SaveForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let on = switch("save", &form.save, ["1", "0"])?;
    app.limits
        .vote_per_member
        .check(&viewer.member.account_id.to_string())
        .map_err(PageError::TooManyRequests)?;
    let saved = app
        .store
        .set_saved(viewer.member.account_id, &id, on, app.now())
        .await?;
    if wants_json(&headers) {
        return Ok(Json(serde_json::json!({"saved": saved})).into_response());
    }
    Ok(back(&app, &headers, &format!("/papers/{id}")))
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

impl Posted for CommentForm {
    const NAME: &'static str = "comment";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A comment body: line ends made `\n`, control characters other than line feeds and tabs
/// dropped (they have no place in text and would reach the page raw), trimmed, within limits.
pub fn comment_body(body: &str) -> Result<String, String> {
    let body: String = body
        .replace("\r\n", "\n")
        .chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect();
    let body = body.trim();
    if body.is_empty() {
        return Err("A comment cannot be empty.".into());
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(format!(
            "A comment can be at most {MAX_COMMENT_CHARS} characters long."
        ));
    }
    Ok(body.to_owned())
}

/// `POST /papers/{id}/comments`
pub async fn add_comment(
    State(app): State<App>,
    Path(id): Path<String>,
    MemberForm { viewer, form }: MemberForm<CommentForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let body = comment_body(&form.body).map_err(PageError::BadRequest)?;
    app.limits
        .comment_per_member
        .check(&viewer.member.account_id.to_string())
        .map_err(PageError::TooManyRequests)?;
    let comment = app
        .store
        .add_comment(viewer.member.account_id, &id, &body, app.now())
        .await?;
    Ok(Redirect::to(&format!("/papers/{id}#comment-{}", comment.id)).into_response())
}

/// `POST /comments/{id}/edit`: the author only; anyone else gets 404 (no hint it exists).
pub async fn edit_comment(
    State(app): State<App>,
    Path(comment_id): Path<i64>,
    MemberForm { viewer, form }: MemberForm<CommentForm>,
) -> PageResult {
    let body = comment_body(&form.body).map_err(PageError::BadRequest)?;
    app.limits
        .comment_per_member
        .check(&viewer.member.account_id.to_string())
        .map_err(PageError::TooManyRequests)?;
    let comment = own_comment_lookup(&app, comment_id).await?;
    if !app
        .store
        .edit_comment(viewer.member.account_id, comment_id, &body, app.now())
        .await?
    {
        return Err(PageError::NotFound(
            "There is no such comment of yours.".into(),
        ));
    }
    Ok(Redirect::to(&format!(
        "/papers/{}#comment-{comment_id}",
        comment.paper_id
    ))
    .into_response())
}

/// `POST /comments/{id}/delete`: the author only.
pub async fn delete_comment(
    State(app): State<App>,
    Path(comment_id): Path<i64>,
    MemberForm { viewer, .. }: MemberForm<CsrfForm>,
) -> PageResult {
    let comment = own_comment_lookup(&app, comment_id).await?;
    if !app
        .store
        .delete_comment(viewer.member.account_id, comment_id, app.now())
        .await?
    {
        return Err(PageError::NotFound(
            "There is no such comment of yours.".into(),
        ));
    }
    Ok(Redirect::to(&format!("/papers/{}#comments", comment.paper_id)).into_response())
}

/// The comment a member asked to edit or delete; one that does not exist gets the same answer
/// as one of someone else's.
async fn own_comment_lookup(
    app: &App,
    comment_id: i64,
) -> Result<crate::store::community::Comment, PageError> {
    app.store.comment(comment_id).await.map_err(|e| match e {
        StoreError::NotFound => PageError::NotFound("There is no such comment of yours.".into()),
        other => other.into(),
    })
}

#[derive(Template)]
#[template(path = "saved.html")]
struct SavedPage {
    nav: &'static str,
    cards: Vec<Card>,
    /// When the member's private feed address was made, if they have one.
    feed_created: Option<String>,
    /// The private feed's addresses (label, absolute URL), only on the page that made them.
    new_feed: Vec<(&'static str, String)>,
    /// `<link rel="alternate">` for the private feed, only on the page that made it (the
    /// address is not stored, so later pages cannot announce it).
    feeds: Vec<FeedLink>,
    notice: Option<String>,
}

/// The /saved page for `viewer`; `new_token` is a feed token just made, shown this once.
async fn saved_page(
    app: &App,
    viewer: &Viewer,
    new_token: Option<&str>,
    notice: Option<String>,
) -> PageResult {
    let account_id = viewer.member.account_id;
    let papers = app.store.saved_papers(account_id, 500).await?;
    let mut cards: Vec<Card> = papers
        .iter()
        .enumerate()
        .map(|(i, p)| Card::new(i + 1, p, None))
        .collect();
    mark_upvoted(app, &papers, &mut cards).await?;
    let feed_created = app
        .store
        .saved_feed_token_created(account_id)
        .await?
        .map(|t| t.format("%b %-d, %Y").to_string());
    let (new_feed, feeds) = match new_token {
        Some(token) => {
            let meta = feeds::saved::meta(token, &viewer.member.username);
            let urls = FeedFormat::ALL
                .into_iter()
                .map(|f| (f.label(), app.config.absolute_url(&meta.feed_href(f))))
                .collect();
            (urls, FeedLink::all(&meta))
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut response = html(
        StatusCode::OK,
        &SavedPage {
            nav: "saved",
            cards,
            feed_created,
            new_feed,
            feeds,
            notice,
        },
    )?;
    // The page may show a feed token, and is the member's own: keep it out of caches.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /saved`: the member's reading list.
pub async fn saved(State(app): State<App>) -> PageResult {
    let Some(viewer) = session::current() else {
        return Ok(session::to_login("/saved"));
    };
    saved_page(&app, &viewer, None, None).await
}

/// `POST /saved/feed-token`: makes the member's private feed address (replacing any earlier
/// one, which stops working) and shows it once.
pub async fn create_saved_feed_token(
    State(app): State<App>,
    MemberForm { viewer, .. }: MemberForm<CsrfForm>,
) -> PageResult {
    let token = feeds::saved::create_token(&app.store, viewer.member.account_id, app.now()).await?;
    saved_page(&app, &viewer, Some(&token), None).await
}

/// `POST /saved/feed-token/revoke`: turns the member's private feed off (its address is a 404
/// from now on).
pub async fn revoke_saved_feed_token(
    State(app): State<App>,
    MemberForm { viewer, .. }: MemberForm<CsrfForm>,
) -> PageResult {
    let notice = if app
        .store
        .revoke_saved_feed_token(viewer.member.account_id)
        .await?
    {
        "Your private feed is off: its address no longer works."
    } else {
        "You have no private feed."
    };
    saved_page(&app, &viewer, None, Some(notice.into())).await
}

#[derive(Template)]
#[template(path = "submit.html")]
struct SubmitPage {
    nav: &'static str,
    paper: String,
    error: Option<String>,
    window_days: i64,
    per_day: i64,
    weekends: bool,
}

fn submit_page(app: &App, paper: String, error: Option<String>) -> SubmitPage {
    let rules = app.config.submissions;
    SubmitPage {
        nav: "submit",
        paper,
        error,
        window_days: rules.window_days,
        per_day: rules.per_member_per_day,
        weekends: rules.allow_weekends,
    }
}

/// `?paper=` on `GET /submit`: an id to fill the form with (the search page links here when
/// it is asked for a paper the site lacks).
#[derive(Deserialize)]
pub struct SubmitPrefill {
    paper: Option<String>,
}

/// `GET /submit`
pub async fn submit_form(
    State(app): State<App>,
    prefill: Result<axum::extract::Query<SubmitPrefill>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let paper: String = prefill
        .ok()
        .and_then(|q| q.0.paper)
        .map(|p| p.chars().take(200).collect())
        .unwrap_or_default();
    if session::current().is_none() {
        let back = if paper.is_empty() {
            "/submit".to_owned()
        } else {
            let paper: String = url::form_urlencoded::byte_serialize(paper.as_bytes()).collect();
            format!("/submit?paper={paper}")
        };
        return Ok(session::to_login(&back));
    }
    html(StatusCode::OK, &submit_page(&app, paper, None))
}

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    paper: String,
}

impl Posted for SubmitForm {
    const NAME: &'static str = "submission";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /submit` with `paper`: an arXiv id, or an arxiv.org abs/pdf URL.
pub async fn submit(
    State(app): State<App>,
    MemberForm { viewer, form }: MemberForm<SubmitForm>,
) -> PageResult {
    match submit_paper(&app, &viewer.member, &form.paper).await {
        Ok(paper) => Ok(Redirect::to(&format!("/papers/{}", paper.id)).into_response()),
        Err(SubmitError::Refused(r)) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &submit_page(
                &app,
                form.paper.chars().take(200).collect(),
                Some(r.to_string()),
            ),
        ),
        Err(SubmitError::TooManyRequests(wait)) => Err(PageError::TooManyRequests(wait)),
        Err(SubmitError::Store(e)) => Err(e.into()),
    }
}

/// Why a submission did not happen.
#[derive(Debug)]
pub enum SubmitError {
    Refused(Refusal),
    /// The member's submission limit is used up; the value is how long until it frees.
    TooManyRequests(std::time::Duration),
    Store(StoreError),
}

impl From<StoreError> for SubmitError {
    fn from(e: StoreError) -> Self {
        SubmitError::Store(e)
    }
}

/// How long a submission waits for arXiv (retries included) before it tells the member to try
/// again: under the server's 15 s request timeout, so the answer is a message, not a timeout.
/// The fetch is dropped at the deadline; whatever it stored by then was written whole.
const ARXIV_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Submits a paper for `member`: parses the id, counts the attempt against the member's limit
/// (an id that does not parse costs nothing), fetches the paper from arXiv when it is not
/// stored, applies the rules, and puts it on today's feed.
pub async fn submit_paper(app: &App, member: &Member, input: &str) -> Result<Paper, SubmitError> {
    if member.banned {
        return Err(SubmitError::Refused(Refusal::Banned));
    }
    let input = input.trim();
    let versioned = arxiv::VersionedId::parse_lenient(input).map_err(|_| {
        SubmitError::Refused(Refusal::BadId(format!(
            "{} is not an arXiv id; give an id such as 2405.15738 or an arxiv.org abs or pdf link.",
            quoted(input)
        )))
    })?;
    app.limits
        .submit_per_member
        .check(&member.account_id.to_string())
        .map_err(SubmitError::TooManyRequests)?;
    let id = versioned.id.clone();
    let paper = match app.store.paper(&id).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            let unversioned = arxiv::VersionedId {
                id: id.clone(),
                version: None,
            };
            let wanted = [unversioned];
            let fetch = crate::ingest::fetch::fetch_papers(&app.store, &app.arxiv.api, &wanted);
            let report = match tokio::time::timeout(ARXIV_DEADLINE, fetch).await {
                Ok(Ok(report)) => report,
                Ok(Err(e)) => {
                    tracing::warn!(error = ?e, paper.id = %id, "fetching a submitted paper");
                    return Err(SubmitError::Refused(Refusal::ArxivUnavailable));
                }
                Err(_) => {
                    tracing::warn!(paper.id = %id, deadline_s = ARXIV_DEADLINE.as_secs(), "arXiv did not answer a submission in time");
                    return Err(SubmitError::Refused(Refusal::ArxivUnavailable));
                }
            };
            report
                .papers
                .into_iter()
                .next()
                .ok_or_else(|| SubmitError::Refused(Refusal::UnknownPaper(id.to_string())))?
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(feed) = &paper.feed {
        return Err(SubmitError::Refused(Refusal::AlreadyOnFeed {
            id: id.to_string(),
            day: feed.daily_date,
        }));
    }
    let rules = app.config.submissions;
    let now = app.now();
    let today = app.today();
    check_submission(&rules, id.as_str(), paper.published_at, today, now)
        .map_err(SubmitError::Refused)?;
    let day_start = app
        .config
        .timezone
        .from_local_datetime(&today.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or(now);
    match app
        .store
        .submit_paper(
            member.account_id,
            &id,
            today,
            day_start,
            rules.per_member_per_day,
            now,
        )
        .await?
    {
        SubmitOutcome::Submitted(paper) => {
            tracing::info!(account.id = member.account_id, paper.id = %id, "paper submitted");
            Ok(*paper)
        }
        SubmitOutcome::AlreadyOnFeed(day) => Err(SubmitError::Refused(Refusal::AlreadyOnFeed {
            id: id.to_string(),
            day,
        })),
        SubmitOutcome::DailyLimit(n) => Err(SubmitError::Refused(Refusal::DailyLimit(n))),
    }
}
