//! Subscribing by email: the form, double opt-in confirmation, one-click unsubscribe and the
//! preferences page reached through signed links.
//!
//! Every answer to a subscribe request is the same page, whether the address is new, pending,
//! confirmed or unknown, so the form cannot be used to learn who subscribes. GETs never change
//! anything (mail scanners follow links); confirming and unsubscribing are POSTs.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Duration;
use serde::Deserialize;

use super::error::PageError;
use super::rate_limit::client_key;
use crate::app::App;
use crate::domain::subscription::{
    EmailAddress, Frequency, MAX_PAPERS_LIMIT, Preferences, parse_categories, parse_list,
};
use crate::email::token::{Purpose, TokenError};
use crate::store::StoreError;
use crate::store::mail::{Subscriber, SubscriberStatus};

/// At most one confirmation mail per address in this window.
const CONFIRM_THROTTLE_MINUTES: i64 = 10;

type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "subscribe.html")]
struct SubscribePage {
    nav: &'static str,
    email: String,
    error: Option<String>,
}

/// A hidden field and its value.
type Hidden = (String, String);

struct NoticeForm {
    action: String,
    hidden: Vec<Hidden>,
    button: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    nav: &'static str,
    heading: String,
    paragraphs: Vec<String>,
    form: Option<NoticeForm>,
    link: Option<(String, String)>,
}

impl NoticePage {
    fn new(heading: &str, paragraphs: &[&str]) -> NoticePage {
        NoticePage {
            nav: "",
            heading: heading.to_owned(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            form: None,
            link: None,
        }
    }
}

fn html(status: StatusCode, template: &impl Template) -> PageResult {
    let body = template
        .render()
        .map_err(|e| PageError::Internal(anyhow::Error::new(e).context("rendering a template")))?;
    Ok((status, Html(body)).into_response())
}

/// The one page for links that do not verify: no hint whether the subscriber exists.
fn bad_link(e: Option<TokenError>) -> PageResult {
    let expired = e == Some(TokenError::Expired);
    let page = NoticePage::new(
        if expired {
            "This link has expired"
        } else {
            "This link is not valid"
        },
        &[if expired {
            "Links in mail stop working after a while. Subscribe again from any page to get a fresh one."
        } else {
            "It may have been mistyped or cut off by your mail program."
        }],
    );
    html(StatusCode::NOT_FOUND, &page)
}

/// Refuses cross-site form posts: a present `Origin` (or, failing that, `Referer`) must be this
/// site. Requests without either (curl, scripts) are allowed; browsers always send one.
fn same_origin(app: &App, headers: &HeaderMap) -> bool {
    let site = app.config.base_url.origin().ascii_serialization();
    let check = |v: &str| {
        url::Url::parse(v)
            .map(|u| u.origin().ascii_serialization() == site)
            .unwrap_or(false)
    };
    match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        (Some(origin), _) => origin.to_str().is_ok_and(check),
        (None, Some(referer)) => referer.to_str().is_ok_and(check),
        (None, None) => true,
    }
}

fn forbidden() -> PageResult {
    Err(PageError::Forbidden(
        "This form was sent from another site.".into(),
    ))
}

fn too_many(wait: std::time::Duration) -> PageResult {
    let page = NoticePage::new(
        "Slow down a little",
        &["Too many requests. Please try again later."],
    );
    let mut response = html(StatusCode::TOO_MANY_REQUESTS, &page)?;
    let secs = wait.as_secs().max(1).to_string();
    if let Ok(v) = header::HeaderValue::from_str(&secs) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(response)
}

/// `GET /subscribe`
pub async fn subscribe_form() -> PageResult {
    html(
        StatusCode::OK,
        &SubscribePage {
            nav: "",
            email: String::new(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct SubscribeForm {
    email: String,
}

/// `POST /subscribe` with the field `email`.
pub async fn subscribe(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<SubscribeForm>, FormRejection>,
) -> PageResult {
    if !same_origin(&app, &headers) {
        return forbidden();
    }
    let Ok(Form(form)) = form else {
        return html(
            StatusCode::BAD_REQUEST,
            &SubscribePage {
                nav: "",
                email: String::new(),
                error: Some("Please enter your email address.".into()),
            },
        );
    };
    if let Err(wait) = app.limits.subscribe_per_ip.check(&client_key(peer.ip())) {
        return too_many(wait);
    }
    let email = match EmailAddress::parse(&form.email) {
        Ok(e) => e,
        Err(_) => {
            let page = SubscribePage {
                nav: "",
                email: form.email.chars().take(254).collect(),
                error: Some(
                    "That doesn't look like an email address. Please check it and try again."
                        .into(),
                ),
            };
            return html(StatusCode::BAD_REQUEST, &page);
        }
    };
    if let Err(wait) = app.limits.subscribe_per_address.check(email.as_str()) {
        return too_many(wait);
    }
    let outcome = app
        .store
        .request_subscription(
            &email,
            app.now(),
            Duration::minutes(CONFIRM_THROTTLE_MINUTES),
            &app.mailer.host,
        )
        .await?;
    tracing::info!(outcome = ?outcome, "subscribe request");
    app.wake_sender();
    let page = NoticePage::new(
        "Check your inbox",
        &[
            "If this address can receive our mail, a confirmation link is on its way. Follow it to start receiving the digest.",
            "Nothing arrived? Look in the spam folder, or try again in ten minutes.",
        ],
    );
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct TokenParam {
    t: Option<String>,
}

async fn verified(
    app: &App,
    purpose: Purpose,
    token: &str,
) -> Result<Subscriber, Option<TokenError>> {
    let claims = app
        .mailer
        .signer
        .verify(purpose, token, app.now())
        .map_err(Some)?;
    match app.store.subscriber(claims.subscriber_id).await {
        Ok(s) if s.token_version == claims.version => Ok(s),
        Ok(_) | Err(StoreError::NotFound) => Err(Some(TokenError::Invalid)),
        Err(e) => {
            tracing::error!(error = ?e, "reading a subscriber for a signed link");
            Err(None)
        }
    }
}

/// `GET /subscribe/confirm?t=…`: a page with a button; the GET itself changes nothing.
pub async fn confirm_page(State(app): State<App>, Query(q): Query<TokenParam>) -> PageResult {
    let token = q.t.unwrap_or_default();
    match verified(&app, Purpose::Confirm, &token).await {
        Ok(s) if s.status == SubscriberStatus::Unsubscribed => unsubscribed_since(),
        Ok(_) => {
            let mut page = NoticePage::new(
                "Confirm your subscription",
                &["One click and the digest is on its way."],
            );
            page.form = Some(NoticeForm {
                action: "/subscribe/confirm".into(),
                hidden: vec![("t".into(), token)],
                button: "Confirm subscription".into(),
            });
            html(StatusCode::OK, &page)
        }
        Err(e) => bad_link(e),
    }
}

/// `POST /subscribe/confirm` with `t` in the form or the query string.
pub async fn confirm(
    State(app): State<App>,
    Query(q): Query<TokenParam>,
    form: Result<Form<TokenParam>, FormRejection>,
) -> PageResult {
    let token = form
        .ok()
        .and_then(|Form(f)| f.t)
        .or(q.t)
        .unwrap_or_default();
    let subscriber = match verified(&app, Purpose::Confirm, &token).await {
        Ok(s) => s,
        Err(e) => return bad_link(e),
    };
    if subscriber.status == SubscriberStatus::Unsubscribed {
        return unsubscribed_since();
    }
    let subscriber = app
        .store
        .confirm_subscriber(subscriber.id, app.now())
        .await?;
    let links = crate::email::outbox::recipient_links(
        &app.mailer,
        subscriber.id,
        subscriber.token_version,
        app.now(),
    );
    let mut page = NoticePage::new(
        "You're subscribed",
        &[
            "Thanks for confirming. The daily digest arrives after each weekday closes; you can switch to weekly, narrow it to your topics, or pause it at any time.",
        ],
    );
    page.link = Some((
        relative(&app, &links.preferences_url),
        "Set your preferences".into(),
    ));
    html(StatusCode::OK, &page)
}

/// The answer to a confirmation link of an address that unsubscribed after it was sent: the
/// link does not undo the unsubscribe; subscribing again sends a new one.
fn unsubscribed_since() -> PageResult {
    let mut page = NoticePage::new(
        "You unsubscribed",
        &[
            "This address unsubscribed after this link was sent, so the link no longer subscribes it.",
            "To get the digest again, subscribe again: a new confirmation link will follow.",
        ],
    );
    page.link = Some(("/subscribe".into(), "Subscribe again".into()));
    html(StatusCode::OK, &page)
}

fn relative(app: &App, url: &str) -> String {
    url.strip_prefix(&app.mailer.site_url)
        .unwrap_or(url)
        .to_owned()
}

/// `GET /unsubscribe/{token}`: the manual path, a page with a button.
pub async fn unsubscribe_page(State(app): State<App>, Path(token): Path<String>) -> PageResult {
    match verified(&app, Purpose::Unsubscribe, &token).await {
        Ok(_) => {
            let mut page = NoticePage::new(
                "Unsubscribe",
                &["You will get no more digests at this address."],
            );
            page.form = Some(NoticeForm {
                action: format!("/unsubscribe/{token}"),
                hidden: Vec::new(),
                button: "Unsubscribe".into(),
            });
            html(StatusCode::OK, &page)
        }
        Err(e) => bad_link(e),
    }
}

/// `POST /unsubscribe/{token}`: RFC 8058 one-click (body `List-Unsubscribe=One-Click`) and the
/// page's button. No cookies, no CSRF token, no redirect; committed before the 200, so the next
/// send already skips the address. Repeating it is harmless.
pub async fn unsubscribe(State(app): State<App>, Path(token): Path<String>) -> PageResult {
    let subscriber = match verified(&app, Purpose::Unsubscribe, &token).await {
        Ok(s) => s,
        Err(e) => return bad_link(e),
    };
    app.store.unsubscribe(subscriber.id, app.now()).await?;
    tracing::info!("unsubscribed");
    let mut page = NoticePage::new(
        "You're unsubscribed",
        &[
            "No more digests will be sent to this address. Changed your mind? Subscribe again from any page.",
        ],
    );
    page.link = Some(("/".into(), "Back to the papers".into()));
    html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    nav: &'static str,
    email: String,
    action: String,
    saved: bool,
    error: Option<String>,
    frequency: &'static str,
    max_papers: u32,
    min_upvotes: i64,
    include_categories: String,
    exclude_categories: String,
    include_keywords: String,
    exclude_keywords: String,
    unsubscribe_url: String,
    /// The address unsubscribed: no digest goes to it, whatever is saved here.
    unsubscribed: bool,
}

fn preferences_page(
    app: &App,
    token: &str,
    s: &Subscriber,
    saved: bool,
    error: Option<String>,
) -> PreferencesPage {
    let links =
        crate::email::outbox::recipient_links(&app.mailer, s.id, s.token_version, app.now());
    PreferencesPage {
        nav: "",
        email: s.email.to_string(),
        action: format!("/preferences/{token}"),
        saved,
        error,
        frequency: s.prefs.frequency.as_str(),
        max_papers: s.prefs.max_papers,
        min_upvotes: s.prefs.min_upvotes,
        include_categories: s.prefs.include_categories.join(", "),
        exclude_categories: s.prefs.exclude_categories.join(", "),
        include_keywords: s.prefs.include_keywords.join(", "),
        exclude_keywords: s.prefs.exclude_keywords.join(", "),
        unsubscribe_url: relative(app, &links.unsubscribe_url),
        unsubscribed: s.status == SubscriberStatus::Unsubscribed,
    }
}

/// `GET /preferences/{token}`
pub async fn preferences_form(State(app): State<App>, Path(token): Path<String>) -> PageResult {
    match verified(&app, Purpose::Preferences, &token).await {
        Ok(s) => html(
            StatusCode::OK,
            &preferences_page(&app, &token, &s, false, None),
        ),
        Err(e) => bad_link(e),
    }
}

#[derive(Deserialize)]
pub struct PreferencesForm {
    frequency: String,
    max_papers: String,
    min_upvotes: String,
    #[serde(default)]
    include_categories: String,
    #[serde(default)]
    exclude_categories: String,
    #[serde(default)]
    include_keywords: String,
    #[serde(default)]
    exclude_keywords: String,
}

/// `POST /preferences/{token}`
pub async fn save_preferences(
    State(app): State<App>,
    Path(token): Path<String>,
    headers: HeaderMap,
    form: Result<Form<PreferencesForm>, FormRejection>,
) -> PageResult {
    if !same_origin(&app, &headers) {
        return forbidden();
    }
    let subscriber = match verified(&app, Purpose::Preferences, &token).await {
        Ok(s) => s,
        Err(e) => return bad_link(e),
    };
    let parsed = form
        .map_err(|_| "Some fields were missing.".to_owned())
        .and_then(|Form(f)| parse_preferences(&f));
    match parsed {
        Ok(prefs) => {
            app.store
                .update_preferences(subscriber.id, &prefs, app.now())
                .await?;
            let updated = app.store.subscriber(subscriber.id).await?;
            html(
                StatusCode::OK,
                &preferences_page(&app, &token, &updated, true, None),
            )
        }
        Err(message) => html(
            StatusCode::BAD_REQUEST,
            &preferences_page(&app, &token, &subscriber, false, Some(message)),
        ),
    }
}

fn parse_preferences(f: &PreferencesForm) -> Result<Preferences, String> {
    let frequency = Frequency::parse(&f.frequency).ok_or("Choose daily, weekly or paused.")?;
    let max_papers = f
        .max_papers
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PAPERS_LIMIT).contains(n))
        .ok_or(format!(
            "Papers per digest must be a number from 1 to {MAX_PAPERS_LIMIT}."
        ))?;
    let min_upvotes = f
        .min_upvotes
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=100_000).contains(n))
        .ok_or("The upvote threshold must be a number, 0 or more.")?;
    Ok(Preferences {
        frequency,
        max_papers,
        min_upvotes,
        include_categories: parse_categories(&f.include_categories)?,
        exclude_categories: parse_categories(&f.exclude_categories)?,
        include_keywords: parse_list(&f.include_keywords),
        exclude_keywords: parse_list(&f.exclude_keywords),
    })
}
