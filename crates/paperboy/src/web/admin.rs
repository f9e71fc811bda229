//! Moderation at /admin: hide a paper from the feed, hide a comment, ban a member.
//!
//! Every route answers 404 to non-admins, so the page does not advertise itself.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::PageError;
use super::login::html;
use super::member_form::{AdminForm, CsrfForm, Posted, not_admin};
use super::session;
use crate::app::App;
use crate::domain::ArxivId;
use crate::domain::member::Member;
use crate::store::community::Comment;

type PageResult = Result<Response, PageError>;

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
        None => Ok(session::to_login("/admin")),
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

impl Posted for HidePaperForm {
    const NAME: &'static str = "hide-paper";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/papers/hide` with `paper` and `hidden` (1 hides, 0 shows again).
pub async fn hide_paper(
    State(app): State<App>,
    AdminForm { form, .. }: AdminForm<HidePaperForm>,
) -> PageResult {
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

impl Posted for HideCommentForm {
    const NAME: &'static str = "hide-comment";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/comments/{id}/hide` with `hidden` (1 hides, 0 shows again).
pub async fn hide_comment(
    State(app): State<App>,
    Path(comment_id): Path<i64>,
    AdminForm { form, .. }: AdminForm<HideCommentForm>,
) -> PageResult {
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
    AdminForm { viewer, .. }: AdminForm<CsrfForm>,
) -> PageResult {
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
