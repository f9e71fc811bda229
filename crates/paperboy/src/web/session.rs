//! Server-side sessions: the cookie, the request's viewer, CSRF checks, and the secrets behind
//! them.
//!
//! A session id is 256 random bits in a cookie; the database keeps only its SHA-256. The cookie
//! is `__Host-paperboy_session` with `Secure` whenever the base URL is https. Plain-http local
//! mode (the default `http://127.0.0.1:8080`) cannot use the `__Host-` prefix, which browsers
//! only accept with `Secure`, so there it is `paperboy_session` without `Secure`; both are
//! `HttpOnly; SameSite=Lax; Path=/`.
//!
//! Every unsafe request made with a session must pass [`check_unsafe`]: a same-origin `Origin`
//! (or `Referer`) and `Sec-Fetch-Site`, and the session's synchronizer token in the form.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use chrono::Duration;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::domain::member::Member;

/// A session ends after this long without a request…
pub const IDLE_TIMEOUT: Duration = Duration::days(7);
/// …and this long after login, whatever happens.
pub const ABSOLUTE_LIFETIME: Duration = Duration::days(30);
/// `last_seen_at` is written at most this often, so reading pages does not write.
const TOUCH_EVERY: Duration = Duration::hours(1);

/// The member making this request, with their session's CSRF token.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub member: Member,
    pub csrf: String,
    pub session_hash: String,
}

tokio::task_local! {
    /// The request's viewer, for templates (the header's account links and every form's CSRF
    /// field) without threading it through each page struct.
    static VIEWER: Option<Viewer>;
}

/// The viewer of the request being handled, if logged in.
pub fn current() -> Option<Viewer> {
    VIEWER.try_with(Clone::clone).ok().flatten()
}

/// The CSRF token for forms on this page ("" when nobody is logged in).
pub fn csrf() -> String {
    current().map(|v| v.csrf).unwrap_or_default()
}

/// SHA-256 hex of a secret, as the store keeps it.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `bytes` random bytes from the OS, base64url without padding.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Constant-time equality for tokens.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The session cookie's name for this site (see the module docs).
pub fn cookie_name(app: &App) -> &'static str {
    if secure(app) {
        "__Host-paperboy_session"
    } else {
        "paperboy_session"
    }
}

fn secure(app: &App) -> bool {
    app.config.base_url.scheme() == "https"
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(app: &App, value: &str) -> HeaderValue {
    let secure = if secure(app) { "; Secure" } else { "" };
    let v = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(app),
        ABSOLUTE_LIFETIME.num_seconds()
    );
    HeaderValue::from_str(&v).expect("a session cookie is ASCII")
}

/// The `Set-Cookie` value that ends one.
pub fn clear_cookie(app: &App) -> HeaderValue {
    let secure = if secure(app) { "; Secure" } else { "" };
    let v = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(app)
    );
    HeaderValue::from_str(&v).expect("a session cookie is ASCII")
}

/// The raw session id from the request's cookies.
pub fn cookie_value(app: &App, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(app);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty() && v.len() <= 100)
        .map(|(_, v)| v.to_owned())
}

/// Middleware: finds the request's session and makes its viewer available to handlers and
/// templates for the rest of the request.
pub async fn load(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let viewer = if req.uri().path().starts_with("/static/") {
        None
    } else {
        viewer_for(&app, req.headers()).await
    };
    req.extensions_mut().insert(viewer.clone());
    VIEWER.scope(viewer, next.run(req)).await
}

async fn viewer_for(app: &App, headers: &HeaderMap) -> Option<Viewer> {
    let raw = cookie_value(app, headers)?;
    let hash = digest(&raw);
    let now = app.now();
    let info = match app.store.session(&hash, now, IDLE_TIMEOUT).await {
        Ok(info) => info?,
        Err(e) => {
            tracing::error!(error = ?e, "reading a session");
            return None;
        }
    };
    if now - info.last_seen_at > TOUCH_EVERY
        && let Err(e) = app.store.touch_session(&hash, now).await
    {
        tracing::warn!(error = ?e, "touching a session");
    }
    Some(Viewer {
        member: info.member,
        csrf: info.csrf_token,
        session_hash: hash,
    })
}

/// True when the request comes from this site: a present `Origin` (else `Referer`) must be
/// this origin (`null` only with `Sec-Fetch-Site: same-origin`), and `Sec-Fetch-Site`, when
/// sent, must be `same-origin` or `none`. Requests with
/// none of these headers (scripts, curl) pass; browsers always send one on a POST.
pub fn same_origin(app: &App, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        let ok = matches!(site.to_str(), Ok("same-origin") | Ok("none"));
        if !ok {
            return false;
        }
    }
    let site = app.config.base_url.origin().ascii_serialization();
    let check = |v: &str| {
        url::Url::parse(v)
            .map(|u| u.origin().ascii_serialization() == site)
            .unwrap_or(false)
    };
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        // Browsers send `Origin: null` from a page with `Referrer-Policy: no-referrer` (the
        // login link's page); `Sec-Fetch-Site`, which pages cannot forge, then decides.
        (Some(origin), _) if origin.as_bytes() == b"null" => fetch_site == Some("same-origin"),
        (Some(origin), _) => origin.to_str().is_ok_and(check),
        (None, Some(referer)) => referer.to_str().is_ok_and(check),
        (None, None) => true,
    }
}

/// Why an unsafe request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Another site sent it, or the CSRF token is missing or wrong: 403.
    Forged,
    /// Nobody is logged in.
    LoggedOut,
}

/// Checks an unsafe (state-changing) request made with the session cookie.
pub fn check_unsafe(app: &App, headers: &HeaderMap, csrf: &str) -> Result<Viewer, Refused> {
    if !same_origin(app, headers) {
        return Err(Refused::Forged);
    }
    let viewer = current().ok_or(Refused::LoggedOut)?;
    if !same_secret(&viewer.csrf, csrf) {
        return Err(Refused::Forged);
    }
    Ok(viewer)
}

/// A `next=` target: only a `/`-rooted path on this site (not `//host`, `/\host`), else `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains(char::is_control)
                && n.len() < 500 =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The way to the login page for someone who asked for `path` logged out: the page comes back
/// to `path` after the login link is used.
pub fn to_login(path: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    axum::response::Redirect::to(&format!("/login?next={next}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_on_this_site() {
        for (given, want) in [
            (Some("/papers/2405.15738"), "/papers/2405.15738"),
            (Some("//evil.test"), "/"),
            (Some("/\\evil.test"), "/"),
            (Some("https://evil.test"), "/"),
            (Some("evil"), "/"),
            (None, "/"),
        ] {
            assert_eq!(safe_next(given), want, "{given:?}");
        }
    }

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = random_secret(16);
        assert_eq!(a.len(), 22, "128 bits in base64url");
        assert_ne!(a, random_secret(16));
        assert_eq!(digest("x").len(), 64);
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("a", "ab"));
    }
}
