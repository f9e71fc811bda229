//! A member's settings: their profile (username and display name) and personal API tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::error::PageError;
use super::login::html;
use super::member_form::{CsrfForm, MemberForm, Posted};
use super::session::{self, Viewer};
use crate::app::App;
use crate::domain::member::{Member, parse_fullname, parse_username};
use crate::domain::quoted;
use crate::store::members::{ApiTokenInfo, ProfileOutcome};

type PageResult = Result<Response, PageError>;

/// Prefix of every API token, so leaked tokens are easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "pb_";

/// Makes a new API token for `member` and returns it; only its hash is stored.
pub async fn create_token(
    store: &crate::store::Store,
    member: &Member,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::store::Result<String> {
    let token = format!("{TOKEN_PREFIX}{}", session::random_secret(32));
    store
        .create_api_token(member.account_id, &session::digest(&token), name, now)
        .await?;
    Ok(token)
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: &'static str,
    email: String,
    username: String,
    fullname: String,
    tokens: Vec<ApiTokenInfo>,
    new_token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn page(
    app: &App,
    viewer: &Viewer,
    status: StatusCode,
    new_token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let member = app.store.member(viewer.member.account_id).await?;
    let mut response = html(
        status,
        &SettingsPage {
            nav: "",
            email: member.email,
            username: member.username,
            fullname: member.fullname,
            tokens: app.store.api_tokens(viewer.member.account_id).await?,
            new_token,
            notice,
            error,
        },
    )?;
    // The page may show a new token: keep it out of caches.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `GET /settings`
pub async fn settings(State(app): State<App>) -> PageResult {
    let Some(viewer) = session::current() else {
        return Ok(session::to_login("/settings"));
    };
    page(&app, &viewer, StatusCode::OK, None, None, None).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    fullname: String,
}

impl Posted for ProfileForm {
    const NAME: &'static str = "profile";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /settings/profile`
pub async fn save_profile(
    State(app): State<App>,
    MemberForm { viewer, form }: MemberForm<ProfileForm>,
) -> PageResult {
    let parsed =
        parse_username(&form.username).and_then(|u| parse_fullname(&form.fullname).map(|f| (u, f)));
    let (username, fullname) = match parsed {
        Ok(p) => p,
        Err(e) => return page(&app, &viewer, StatusCode::BAD_REQUEST, None, None, Some(e)).await,
    };
    match app
        .store
        .update_profile(viewer.member.account_id, &username, &fullname)
        .await?
    {
        ProfileOutcome::Saved => {
            page(
                &app,
                &viewer,
                StatusCode::OK,
                None,
                Some("Profile saved.".into()),
                None,
            )
            .await
        }
        ProfileOutcome::UsernameTaken => {
            page(
                &app,
                &viewer,
                StatusCode::CONFLICT,
                None,
                None,
                Some(format!(
                    "The username {} is taken; please choose another.",
                    quoted(&username)
                )),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

impl Posted for TokenForm {
    const NAME: &'static str = "token";

    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /settings/tokens`: creates a token and shows it once.
pub async fn create_api_token(
    State(app): State<App>,
    MemberForm { viewer, form }: MemberForm<TokenForm>,
) -> PageResult {
    let name = match crate::domain::member::parse_token_name(&form.name) {
        Ok(name) => name,
        Err(e) => return page(&app, &viewer, StatusCode::BAD_REQUEST, None, None, Some(e)).await,
    };
    let token = create_token(&app.store, &viewer.member, &name, app.now()).await?;
    page(&app, &viewer, StatusCode::OK, Some(token), None, None).await
}

/// `POST /settings/tokens/{id}/revoke`
pub async fn revoke_api_token(
    State(app): State<App>,
    Path(token_id): Path<i64>,
    MemberForm { viewer, .. }: MemberForm<CsrfForm>,
) -> PageResult {
    let revoked = app
        .store
        .revoke_api_token(viewer.member.account_id, token_id, app.now())
        .await?;
    if !revoked {
        return Err(PageError::NotFound(
            "There is no such token of yours.".into(),
        ));
    }
    page(
        &app,
        &viewer,
        StatusCode::OK,
        None,
        Some("Token revoked.".into()),
        None,
    )
    .await
}
