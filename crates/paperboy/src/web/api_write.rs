//! The API's writes, authenticated by personal API tokens (`Authorization: Bearer pb_…`):
//! upvote and unvote, submit a paper, comment.
//!
//! Bearer tokens are never sent by browsers on their own, so these routes need no CSRF token;
//! they ignore cookies entirely.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::community::{self, SubmitError, comment_body};
use super::error::{self, ApiError, ErrorBody};
use super::hf::{HfDailyPaper, hf_daily_paper, object_id};
use super::session;
use crate::app::App;
use crate::domain::ArxivId;
use crate::domain::member::{Member, Refusal, comment_html};
use crate::domain::paper::hf_timestamp;
use crate::store::StoreError;

/// A JSON body that could not be read, in words ([`error::rejection_text`]).
fn json_body_error(e: JsonRejection) -> ApiError {
    ApiError::BadRequest(format!(
        "invalid JSON body: {}",
        error::rejection_text(&e.body_text())
    ))
}

/// The member a bearer token names; `Ok(None)` without an `Authorization` header.
async fn token_member(app: &App, headers: &HeaderMap) -> Result<Option<Member>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(|| {
            ApiError::Unauthorized("Invalid credentials in Authorization header".into())
        })?;
    app.store
        .member_by_api_token(&session::digest(token))
        .await?
        .map(Some)
        .ok_or_else(|| ApiError::Unauthorized("Invalid credentials in Authorization header".into()))
}

/// The viewer of a read request, for the `upvoted` flags: a valid bearer token, else the
/// session. A bad token on a read is treated as no token (clients may send an HF token).
pub async fn viewer(app: &App, headers: &HeaderMap) -> Result<Option<Member>, ApiError> {
    match token_member(app, headers).await {
        Ok(Some(m)) => Ok(Some(m)),
        Ok(None) | Err(ApiError::Unauthorized(_)) => Ok(session::current().map(|v| v.member)),
        Err(e) => Err(e),
    }
}

/// The member a write request is made by; 401 without a valid token.
async fn writer(app: &App, headers: &HeaderMap) -> Result<Member, ApiError> {
    token_member(app, headers).await?.ok_or_else(|| {
        ApiError::Unauthorized("An API token is required (Authorization: Bearer …)".into())
    })
}

/// The methods an action path under `/api/papers/` allows, or None for a paper path.
pub fn action_methods(rest: &str) -> Option<&'static str> {
    match rest.rsplit_once('/')?.1 {
        "upvote" => Some("POST, DELETE"),
        "comment" => Some("POST"),
        _ => None,
    }
}

/// Every method on `/api/papers/{*id}` (old-style ids hold a slash, so one catch-all route):
/// `GET` a paper, `POST`/`DELETE .../upvote`, `POST .../comment`; anything else gets 405 with
/// exactly the methods that path allows.
pub async fn papers_route(
    State(app): State<App>,
    method: axum::http::Method,
    rest: Result<Path<String>, PathRejection>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    use axum::extract::FromRequest as _;
    use axum::http::Method;
    let headers = req.headers().clone();
    let Ok(Path(rest)) = rest else {
        return Err(ApiError::NotFound("Paper not found".into()));
    };
    let Some(allowed) = action_methods(&rest) else {
        return match method {
            Method::GET | Method::HEAD => {
                super::api::paper_info(State(app), headers, Ok(Path(rest))).await
            }
            _ => Ok(super::community::method_not_allowed("GET, HEAD")),
        };
    };
    let (id, action) = rest.rsplit_once('/').unwrap_or((&rest, ""));
    let id = Ok(Path(id.to_owned()));
    match (action, method) {
        ("upvote", Method::POST) => upvote(State(app), headers, id).await,
        ("upvote", Method::DELETE) => unvote(State(app), headers, id).await,
        ("comment", Method::POST) => {
            let body = Json::<CommentRequest>::from_request(req, &app).await;
            comment(State(app), headers, id, body).await
        }
        _ => Ok(super::community::method_not_allowed(allowed)),
    }
}

fn paper_id(id: Result<Path<String>, PathRejection>) -> Result<ArxivId, ApiError> {
    let not_found = || ApiError::NotFound("Paper not found".into());
    let Path(id) = id.map_err(|_| not_found())?;
    ArxivId::parse(&id).map_err(|_| not_found())
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("Paper not found".into()),
        other => other.into(),
    }
}

/// A paper's vote state for the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoteBody {
    /// Whether the caller's upvote is on the paper now.
    pub upvoted: bool,
    /// The paper's upvotes (imported plus members').
    pub upvotes: i64,
}

async fn vote(
    app: &App,
    headers: &HeaderMap,
    id: Result<Path<String>, PathRejection>,
    on: bool,
) -> Result<Response, ApiError> {
    let member = writer(app, headers).await?;
    let id = paper_id(id)?;
    app.limits
        .vote_per_member
        .check(&member.account_id.to_string())
        .map_err(ApiError::TooManyRequests)?;
    let state = app
        .store
        .set_upvote(member.account_id, &id, on, app.now())
        .await
        .map_err(store_error)?;
    Ok(Json(VoteBody {
        upvoted: state.upvoted,
        upvotes: state.upvotes,
    })
    .into_response())
}

/// Upvote a paper.
///
/// `POST /api/papers/{id}/upvote`: upvotes the paper as the token's member. Repeating it
/// changes nothing.
#[utoipa::path(
    post,
    path = "/api/papers/{id}/upvote",
    tag = "members",
    params(("id" = String, Path, description = "An arXiv id without version; an old-style id has its slash encoded (`hep-th%2F9901001`).", example = "2405.15738")),
    security(("token" = [])),
    responses(
        (status = 200, description = "The vote is on.", body = VoteBody),
        (status = 401, description = "No valid API token.", body = ErrorBody),
        (status = 404, description = "No such paper.", body = ErrorBody),
        (status = 429, description = "Too many votes; `Retry-After` says when to try again.", body = ErrorBody),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn upvote(
    State(app): State<App>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    vote(&app, &headers, id, true).await
}

/// Take an upvote back.
///
/// `DELETE /api/papers/{id}/upvote`: takes the token member's upvote back.
#[utoipa::path(
    delete,
    path = "/api/papers/{id}/upvote",
    tag = "members",
    params(("id" = String, Path, description = "An arXiv id without version.", example = "2405.15738")),
    security(("token" = [])),
    responses(
        (status = 200, description = "The vote is off.", body = VoteBody),
        (status = 401, description = "No valid API token.", body = ErrorBody),
        (status = 404, description = "No such paper.", body = ErrorBody),
        (status = 429, description = "Too many votes; `Retry-After` says when to try again.", body = ErrorBody),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn unvote(
    State(app): State<App>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    vote(&app, &headers, id, false).await
}

/// The body of `POST /api/papers/submit`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// An arXiv id, versioned or not, or an arxiv.org abs/pdf URL.
    #[schema(example = "2405.15738")]
    pub paper_id: String,
}

/// Submit a paper to today's feed.
///
/// `POST /api/papers/submit`: puts a paper on today's feed with the token's member as
/// submitter, fetching it from arXiv if it is not stored yet.
#[utoipa::path(
    post,
    path = "/api/papers/submit",
    tag = "members",
    request_body = SubmitRequest,
    security(("token" = [])),
    responses(
        (status = 201, description = "The paper is on today's feed.", body = HfDailyPaper),
        (status = 400, description = "Not an arXiv id, or the body is not `{\"paper_id\": …}`.", body = ErrorBody),
        (status = 401, description = "No valid API token.", body = ErrorBody),
        (status = 404, description = "arXiv has no such paper.", body = ErrorBody),
        (status = 409, description = "The paper is already on the feed.", body = ErrorBody),
        (status = 422, description = "A submission rule refused it (too old, daily limit, weekend); the message says which.", body = ErrorBody),
        (status = 429, description = "Too many submissions; `Retry-After` says when to try again.", body = ErrorBody),
        (status = 503, description = "arXiv could not be reached.", body = ErrorBody),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn submit(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Json<SubmitRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let member = writer(&app, &headers).await?;
    let Json(body) = body.map_err(json_body_error)?;
    match community::submit_paper(&app, &member, &body.paper_id).await {
        Ok(paper) => Ok((
            StatusCode::CREATED,
            Json(hf_daily_paper(&paper, &app.config.absolute_url(""))),
        )
            .into_response()),
        Err(SubmitError::Store(e)) => Err(e.into()),
        Err(SubmitError::TooManyRequests(wait)) => Err(ApiError::TooManyRequests(wait)),
        Err(SubmitError::Refused(r)) => Err(refusal(r)),
    }
}

fn refusal(r: Refusal) -> ApiError {
    let message = r.to_string();
    match r {
        Refusal::BadId(_) => ApiError::BadRequest(message),
        Refusal::UnknownPaper(_) => ApiError::NotFound(message),
        Refusal::AlreadyOnFeed { .. } => ApiError::Conflict(message),
        Refusal::Banned => ApiError::Forbidden(message),
        Refusal::ArxivUnavailable => ApiError::Unavailable(message),
        Refusal::TooOld { .. } | Refusal::Weekend | Refusal::DailyLimit(_) => {
            ApiError::Unprocessable(message)
        }
    }
}

/// The body of `POST /api/papers/{id}/comment`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentRequest {
    /// Markdown, 1 to 10,000 characters.
    #[schema(example = "Code is at https://github.com/example/engine")]
    pub comment: String,
}

/// A comment's author, in HF's shape.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfCommentAuthor {
    #[serde(rename = "_id")]
    id: String,
    avatar_url: String,
    fullname: String,
    name: String,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: &'static str,
    is_pro: bool,
}

/// The latest revision of a comment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfCommentRevision {
    /// The Markdown source.
    raw: String,
    /// Sanitised HTML.
    html: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfCommentData {
    edited: bool,
    hidden: bool,
    latest: HfCommentRevision,
    num_edits: u32,
}

/// A comment, in the shape of the comments on HF's paper pages.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfComment {
    id: String,
    author: HfCommentAuthor,
    #[schema(format = DateTime)]
    created_at: String,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: &'static str,
    data: HfCommentData,
}

/// Comment on a paper.
///
/// `POST /api/papers/{id}/comment`: comments on a paper as the token's member.
#[utoipa::path(
    post,
    path = "/api/papers/{id}/comment",
    tag = "members",
    params(("id" = String, Path, description = "An arXiv id without version.", example = "2405.15738")),
    request_body = CommentRequest,
    security(("token" = [])),
    responses(
        (status = 201, description = "The comment, as HF's paper pages hold them.", body = HfComment),
        (status = 400, description = "An empty or too long comment, or a body that is not `{\"comment\": …}`.", body = ErrorBody),
        (status = 401, description = "No valid API token.", body = ErrorBody),
        (status = 404, description = "No such paper.", body = ErrorBody),
        (status = 429, description = "Too many comments; `Retry-After` says when to try again.", body = ErrorBody),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn comment(
    State(app): State<App>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<CommentRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let member = writer(&app, &headers).await?;
    let id = paper_id(id)?;
    let Json(body) = body.map_err(json_body_error)?;
    let text = comment_body(&body.comment).map_err(ApiError::BadRequest)?;
    app.limits
        .comment_per_member
        .check(&member.account_id.to_string())
        .map_err(ApiError::TooManyRequests)?;
    let c = app
        .store
        .add_comment(member.account_id, &id, &text, app.now())
        .await
        .map_err(store_error)?;
    let created = hf_timestamp(c.created_at);
    let body = HfComment {
        id: object_id("comment", &c.id.to_string()),
        author: HfCommentAuthor {
            id: object_id("account", &c.username),
            avatar_url: app.config.absolute_url("/static/img/avatar.svg"),
            fullname: c.fullname,
            name: c.username,
            kind: "user",
            is_pro: false,
        },
        created_at: created.clone(),
        kind: "comment",
        data: HfCommentData {
            edited: false,
            hidden: false,
            latest: HfCommentRevision {
                html: comment_html(&c.body),
                raw: c.body,
                updated_at: created,
            },
            num_edits: 0,
        },
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
