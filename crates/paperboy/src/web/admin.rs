//! Moderation at /admin: hide a paper from the feed, hide a comment, ban a member.
//!
//! Every route answers 404 to non-admins, so the page does not advertise itself.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::community::guard;
use super::error::PageError;
use super::login::html;
use super::session::{self, Viewer};
use crate::app::App;
use crate::domain::ArxivId;
use crate::domain::member::Member;
use crate::store::community::Comment;

type PageResult = Result<Response, PageError>;

fn not_admin() -> PageError {
    PageError::NotFound("There is nothing at this address.".into())
}

/// Checks an unsafe admin request; Err is the response to send.
fn admin_guard(app: &App, headers: &HeaderMap, csrf: &str) -> Result<Viewer, Box<Response>> {
    let viewer = guard(app, headers, csrf)?;
    if !viewer.member.is_admin {
        return Err(Box::new(not_admin().into_response()));
    }
    Ok(viewer)
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: &'static str,
    notice: Option<String>,
    hidden_papers: Vec<ArxivId>,
    comments: Vec<Comment>,
    members: Vec<Member>,
}

async fn page(app: &App, notice: Option<String>) -> PageResult {
    html(
        StatusCode::OK,
        &AdminPage {
            nav: "",
            notice,
            hidden_papers: app.store.hidden_papers().await?,
            comments: app.store.recent_comments(100).await?,
            members: app.store.members(200).await?,
        },
    )
}

/// `GET /admin`
pub async fn admin(State(app): State<App>) -> PageResult {
    match session::current() {
        Some(v) if v.member.is_admin => page(&app, None).await,
        Some(_) => Err(not_admin()),
        None => Ok(Redirect::to("/login").into_response()),
    }
}

#[derive(Deserialize)]
pub struct HidePaperForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    paper: String,
    #[serde(default)]
    hidden: String,
}

/// `POST /admin/papers/hide` with `paper` and `hidden` (1 hides, 0 shows again).
pub async fn hide_paper(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<Form<HidePaperForm>, FormRejection>,
) -> PageResult {
    let Ok(Form(form)) = form else {
        return Err(PageError::BadRequest("The form was incomplete.".into()));
    };
    if let Err(r) = admin_guard(&app, &headers, &form.csrf) {
        return Ok(*r);
    }
    let id =
        ArxivId::parse_lenient(&form.paper).map_err(|e| PageError::BadRequest(e.to_string()))?;
    let hidden = form.hidden != "0";
    app.store.set_paper_hidden(&id, hidden, app.now()).await?;
    tracing::info!(paper.id = %id, hidden, "admin hid a paper");
    page(
        &app,
        Some(if hidden {
            format!("{id} is hidden from every list, feed and search.")
        } else {
            format!("{id} is back on the feed.")
        }),
    )
    .await
}

#[derive(Deserialize)]
pub struct HideCommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    hidden: String,
}

/// `POST /admin/comments/{id}/hide` with `hidden` (1 hides, 0 shows again).
pub async fn hide_comment(
    State(app): State<App>,
    Path(comment_id): Path<i64>,
    headers: HeaderMap,
    form: Result<Form<HideCommentForm>, FormRejection>,
) -> PageResult {
    let Ok(Form(form)) = form else {
        return Err(PageError::BadRequest("The form was incomplete.".into()));
    };
    if let Err(r) = admin_guard(&app, &headers, &form.csrf) {
        return Ok(*r);
    }
    let comment = app.store.comment(comment_id).await?;
    app.store
        .set_comment_hidden(comment_id, form.hidden != "0", app.now())
        .await?;
    Ok(Redirect::to(&format!(
        "/papers/{}#comment-{comment_id}",
        comment.paper_id
    ))
    .into_response())
}

/// `POST /admin/members/{id}/ban`
pub async fn ban_member(
    State(app): State<App>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
    form: Result<Form<super::login::CsrfForm>, FormRejection>,
) -> PageResult {
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    let viewer = match admin_guard(&app, &headers, &csrf) {
        Ok(v) => v,
        Err(r) => return Ok(*r),
    };
    let member = app.store.member(account_id).await?;
    if member.account_id == viewer.member.account_id || member.is_admin {
        return Err(PageError::BadRequest(
            "Admins cannot be banned here.".into(),
        ));
    }
    app.store.ban_member(account_id, app.now()).await?;
    tracing::info!(account.id = account_id, "admin banned a member");
    page(
        &app,
        Some(format!(
            "@{} is banned; their upvotes are removed.",
            member.username
        )),
    )
    .await
}
