//! Magic-link login and logout.
//!
//! `POST /login` mails a link holding a 128-bit token (only its SHA-256 is stored), valid once
//! for [`LINK_MINUTES`]. Every request gets the same "check your inbox" page, known address or
//! not (a new address becomes an account when its link is used). The link's GET shows a page
//! with a button and changes nothing, because mail scanners open links; only the POST uses the
//! token, and it starts a fresh session (the session id rotates at every login).

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::PageError;
use super::rate_limit::client_key;
use super::session::{self, Refused};
use crate::app::App;
use crate::domain::subscription::EmailAddress;
use crate::store::mail::QueuedMail;
use crate::store::members::{LoginOutcome, LoginTokenState, NewSession};

/// How long a login link works.
pub const LINK_MINUTES: i64 = 10;

type PageResult = Result<Response, PageError>;

/// Renders `template` with `status`.
pub(super) fn html(status: StatusCode, template: &impl Template) -> PageResult {
    let body = template
        .render()
        .map_err(|e| PageError::Internal(anyhow::Error::new(e).context("rendering a template")))?;
    Ok((status, Html(body)).into_response())
}

/// A hidden form field.
pub(super) type Hidden = (String, String);

/// The button a notice may carry.
pub(super) struct NoticeForm {
    pub action: String,
    pub hidden: Vec<Hidden>,
    pub button: String,
}

/// A short page with a heading, some paragraphs, and maybe a button or a link.
#[derive(Template)]
#[template(path = "notice.html")]
pub(super) struct Notice {
    pub nav: &'static str,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub form: Option<NoticeForm>,
    pub link: Option<(String, String)>,
}

impl Notice {
    pub fn new(heading: &str, paragraphs: &[&str]) -> Notice {
        Notice {
            nav: "",
            heading: heading.to_owned(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            form: None,
            link: None,
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: &'static str,
    email: String,
    error: Option<String>,
    /// Where to go after logging in, when the member was sent here from a page (`?next=`).
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "email/login.html")]
struct LoginMailHtml<'a> {
    site_name: &'a str,
    site_url: &'a str,
    login_url: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "email/login.txt")]
struct LoginMailText<'a> {
    site_name: &'a str,
    site_url: &'a str,
    login_url: &'a str,
    minutes: i64,
}

/// `?next=`: the page to return to after logging in.
#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// The `next` worth carrying: a path on this site other than the home page.
fn next_path(next: Option<&str>) -> Option<String> {
    Some(session::safe_next(next)).filter(|n| n != "/")
}

/// `GET /login` (`?next=` names the page to come back to)
pub async fn login_form(params: Result<Query<NextParam>, QueryRejection>) -> PageResult {
    let next = params
        .ok()
        .and_then(|Query(p)| next_path(p.next.as_deref()));
    html(
        StatusCode::OK,
        &LoginPage {
            nav: "",
            email: String::new(),
            error: None,
            next,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login` with the field `email`: anonymous, so Origin-checked only (no session, no
/// CSRF token to check against).
pub async fn request_link(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> PageResult {
    if !session::same_origin(&app, &headers) {
        return Err(PageError::Forbidden(
            "This form was sent from another site.".into(),
        ));
    }
    let bad = |email: String, next: Option<String>| {
        html(
            StatusCode::BAD_REQUEST,
            &LoginPage {
                nav: "",
                email,
                error: Some(
                    "That doesn't look like an email address. Please check it and try again."
                        .into(),
                ),
                next,
            },
        )
    };
    let Ok(Form(form)) = form else {
        return bad(String::new(), None);
    };
    let next = next_path(form.next.as_deref());
    app.limits
        .login_per_ip
        .check(&client_key(peer.ip()))
        .map_err(PageError::TooManyRequests)?;
    let Ok(email) = EmailAddress::parse(&form.email) else {
        return bad(form.email.chars().take(254).collect(), next);
    };
    app.limits
        .login_per_address
        .check(email.as_str())
        .map_err(PageError::TooManyRequests)?;
    queue_login_mail(&app, &email, next.as_deref()).await?;
    let on_its_way = format!(
        "If this address can receive our mail, a login link is on its way. \
         It works once, for {LINK_MINUTES} minutes."
    );
    let page = Notice::new(
        "Check your inbox",
        &[
            &on_its_way,
            "Nothing arrived? Look in the spam folder, or ask for a new link.",
        ],
    );
    html(StatusCode::OK, &page)
}

/// Stores a new login token for `email` and queues the mail with its link. The raw token
/// exists only in the queued mail.
async fn queue_login_mail(
    app: &App,
    email: &EmailAddress,
    next: Option<&str>,
) -> Result<(), PageError> {
    let token = session::random_secret(16);
    let hash = session::digest(&token);
    let now = app.now();
    app.store
        .create_login_token(
            &hash,
            email.as_str(),
            now,
            chrono::Duration::minutes(LINK_MINUTES),
        )
        .await?;
    let site_url = app.config.absolute_url("");
    let back = next
        .map(|n| {
            let n: String = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
            format!("&next={n}")
        })
        .unwrap_or_default();
    let login_url = app
        .config
        .absolute_url(&format!("/login/confirm?t={token}{back}"));
    let site_name = crate::email::SITE_NAME;
    let render = |e: askama::Error| {
        PageError::Internal(anyhow::Error::new(e).context("rendering the login mail"))
    };
    let content = crate::store::mail::MailContent {
        subject: format!("Your login link for {site_name}"),
        text: LoginMailText {
            site_name,
            site_url: &site_url,
            login_url: &login_url,
            minutes: LINK_MINUTES,
        }
        .render()
        .map_err(render)?,
        html: LoginMailHtml {
            site_name,
            site_url: &site_url,
            login_url: &login_url,
            minutes: LINK_MINUTES,
        }
        .render()
        .map_err(render)?,
    };
    let key = format!("login:{}", &hash[..32]);
    let message_id = format!("<login-{}@{}>", &hash[..24], app.mailer.host);
    app.store
        .queue_mail(
            &QueuedMail {
                recipient: email,
                kind: "login",
                dedupe_key: &key,
                message_id: &message_id,
                content,
            },
            now,
        )
        .await?;
    app.wake_sender();
    tracing::info!("login link queued");
    Ok(())
}

#[derive(Deserialize)]
pub struct TokenParam {
    t: Option<String>,
    /// Where to go once logged in (from the login page's `next`).
    next: Option<String>,
}

fn no_referrer(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn link_problem(state: LoginTokenState) -> PageResult {
    let (heading, text) = match state {
        LoginTokenState::Used => (
            "This link was used already",
            "Each login link works once. Ask for a new one to log in again.".to_owned(),
        ),
        LoginTokenState::Expired => (
            "This link has expired",
            format!("Login links work for {LINK_MINUTES} minutes. Ask for a new one to log in."),
        ),
        _ => (
            "This link is not valid",
            "It may have been mistyped or cut off by your mail program. Ask for a new one."
                .to_owned(),
        ),
    };
    let mut page = Notice::new(heading, &[&text]);
    page.link = Some(("/login".into(), "Get a new login link".into()));
    html(StatusCode::NOT_FOUND, &page)
}

/// `GET /login/confirm?t=…`: a page with a button; the GET itself never uses the token.
pub async fn confirm_page(State(app): State<App>, Query(q): Query<TokenParam>) -> PageResult {
    let token = q.t.unwrap_or_default();
    let state = if token.is_empty() || token.len() > 100 {
        LoginTokenState::Invalid
    } else {
        app.store
            .login_token_state(&session::digest(&token), app.now())
            .await?
    };
    if state != LoginTokenState::Valid {
        return link_problem(state).map(no_referrer);
    }
    let mut page = Notice::new("Log in", &["Press the button to log in on this device."]);
    page.form = Some(NoticeForm {
        action: "/login/confirm".into(),
        hidden: std::iter::once(("t".into(), token))
            .chain(next_path(q.next.as_deref()).map(|n| ("next".into(), n)))
            .collect(),
        button: "Log in".into(),
    });
    html(StatusCode::OK, &page).map(no_referrer)
}

/// `POST /login/confirm` with `t`: uses the token and starts a new session.
pub async fn confirm(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<Form<TokenParam>, FormRejection>,
) -> PageResult {
    if !session::same_origin(&app, &headers) {
        return Err(PageError::Forbidden(
            "This form was sent from another site.".into(),
        ));
    }
    let (token, next) = form
        .ok()
        .map(|Form(f)| (f.t.unwrap_or_default(), f.next))
        .unwrap_or_default();
    if token.is_empty() || token.len() > 100 {
        return link_problem(LoginTokenState::Invalid);
    }
    let now = app.now();
    let member = match app
        .store
        .consume_login_token(&session::digest(&token), now)
        .await?
    {
        LoginOutcome::LoggedIn(m) => m,
        LoginOutcome::Invalid => return link_problem(LoginTokenState::Invalid),
        LoginOutcome::Used => return link_problem(LoginTokenState::Used),
        LoginOutcome::Expired => return link_problem(LoginTokenState::Expired),
        LoginOutcome::Banned => {
            let page = Notice::new(
                "This account is suspended",
                &["An administrator has suspended this account."],
            );
            return html(StatusCode::FORBIDDEN, &page);
        }
    };
    let raw = session::random_secret(32);
    let hash = session::digest(&raw);
    let csrf = session::random_secret(32);
    let old = session::cookie_value(&app, &headers).map(|v| session::digest(&v));
    app.store
        .create_session(&NewSession {
            session_hash: &hash,
            account_id: member.account_id,
            csrf_token: &csrf,
            now,
            expires_at: now + session::ABSOLUTE_LIFETIME,
            replaces: old.as_deref(),
        })
        .await?;
    tracing::info!(account.id = member.account_id, "logged in");
    let mut response = Redirect::to(&session::safe_next(next.as_deref())).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(&app, &raw));
    Ok(response)
}

/// `POST /logout`: deletes the session row, so the old cookie is worthless.
pub async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<Form<super::member_form::CsrfForm>, FormRejection>,
) -> PageResult {
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    match session::check_unsafe(&app, &headers, &csrf) {
        Ok(viewer) => app.store.delete_session(&viewer.session_hash).await?,
        Err(Refused::Forged) => {
            return Err(PageError::Forbidden(
                "This form was sent from another site, or the page was too old. Reload it and try again."
                    .into(),
            ));
        }
        Err(Refused::LoggedOut) => {}
    }
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(&app));
    Ok(response)
}
